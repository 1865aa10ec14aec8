package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot/insight"
	"github.com/enemane/privacybot/flows"
)

func question(at time.Time, event, user, text, intent string) insight.Question {
	return insight.Question{Key: insight.QuestionKey(at, event), EventID: event, UserID: user, At: at, Lang: "ja",
		Text: text, Intent: intent, Answer: "x"}
}

// The questions, the review inbox and the taught phrases on both store layouts: a range of time is a
// range of keys, a question is recorded once, the first verdict stands, the inbox adds reasons, and
// the transcript's period and a customer's erasure take both away.
func TestInsightCollections(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) *Store{
		"embedded":     func(t *testing.T) *Store { s, _ := openEmbedded(t); return s },
		"MongoDB mode": openTest,
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			day := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
			qs := []insight.Question{
				question(day.Add(-time.Hour), "e0", "U1", "前日の質問", "faq.1"),
				question(day.Add(time.Hour), "e1", "U1", "開示にお金はかかりますか", "none"),
				question(day.Add(2*time.Hour), "e2", "U2", "個人情報って何", "faq.1"),
				question(day.Add(25*time.Hour), "e3", "U2", "翌日の質問", "faq.2"),
			}
			for _, q := range qs {
				if err := s.RecordQuestion(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.RecordQuestion(ctx, qs[1]); err != nil { // a step applied again
				t.Fatalf("recording twice: %v", err)
			}
			got, err := s.Questions(ctx, day, day.Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].EventID != "e1" || got[1].EventID != "e2" || got[0].Text != "" || got[0].Intent != "none" {
				t.Fatalf("questions of the day (without their words): %+v", got)
			}
			if q, found, err := s.Question(ctx, qs[1].Key); err != nil || !found || q.Text != "開示にお金はかかりますか" {
				t.Fatalf("one question: %+v %v %v", q, found, err)
			}
			if err := s.SetFeedback(ctx, qs[2].Key, insight.FeedbackNotHelped, day.Add(3*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := s.SetFeedback(ctx, qs[2].Key, insight.FeedbackHelped, day.Add(4*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if q, found, err := s.Question(ctx, qs[2].Key); err != nil || !found || q.Feedback != insight.FeedbackNotHelped {
				t.Fatalf("feedback: %+v %v %v (the first verdict stands)", q, found, err)
			}

			it := insight.Item{Key: qs[1].Key, Question: qs[1], Reasons: []string{insight.ReasonUnanswered}, Status: insight.StatusOpen, At: qs[1].At}
			for range 2 {
				if err := s.AddToReview(ctx, it); err != nil {
					t.Fatal(err)
				}
			}
			it.Reasons = []string{insight.ReasonNotHelped}
			if err := s.AddToReview(ctx, it); err != nil {
				t.Fatal(err)
			}
			it2 := insight.Item{Key: qs[2].Key, Question: qs[2], Reasons: []string{insight.ReasonNotHelped}, Status: insight.StatusOpen, At: qs[2].At}
			if err := s.AddToReview(ctx, it2); err != nil {
				t.Fatal(err)
			}
			open, err := s.ReviewItems(ctx, insight.StatusOpen, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(open) != 2 || open[0].Key != qs[2].Key || !slices.Equal(open[1].Reasons, []string{insight.ReasonUnanswered, insight.ReasonNotHelped}) {
				t.Fatalf("open items (newest first, reasons added once): %+v", open)
			}
			if n, err := s.DecideReview(ctx, []string{qs[1].Key, qs[2].Key}, insight.Current{Status: insight.StatusOpen},
				insight.Decision{Status: insight.StatusTaught, TaughtID: "t1", By: "a@example.jp", At: day}); err != nil || n != 2 {
				t.Fatalf("decided %d: %v", n, err)
			}
			// Decided already: a second decision expecting them open changes nothing.
			if n, err := s.DecideReview(ctx, []string{qs[1].Key}, insight.Current{Status: insight.StatusOpen},
				insight.Decision{Status: insight.StatusIgnored, By: "c@example.jp", At: day}); err != nil || n != 0 {
				t.Fatalf("second decision changed %d: %v", n, err)
			}
			// Give qs[2] back: only items taught with t1 are.
			if n, err := s.DecideReview(ctx, []string{qs[2].Key}, insight.Current{Status: insight.StatusTaught, TaughtID: "t9"},
				insight.Decision{Status: insight.StatusOpen, At: day}); err != nil || n != 0 {
				t.Fatalf("another phrase's items changed %d: %v", n, err)
			}
			if n, err := s.DecideReview(ctx, []string{qs[2].Key}, insight.Current{Status: insight.StatusTaught, TaughtID: "t1"},
				insight.Decision{Status: insight.StatusOpen, At: day}); err != nil || n != 1 {
				t.Fatalf("given back %d: %v", n, err)
			}
			if it, found, _ := s.ReviewItem(ctx, qs[1].Key); !found || it.Status != insight.StatusTaught || it.TaughtID != "t1" || it.By != "a@example.jp" {
				t.Fatalf("decided item: %+v", it)
			}
			if _, err := s.DecideReview(ctx, []string{qs[1].Key}, insight.Current{Status: insight.StatusTaught},
				insight.Decision{Status: insight.StatusOpen, By: "b@example.jp", At: day}); err != nil {
				t.Fatal(err)
			}
			if it, _, _ := s.ReviewItem(ctx, qs[1].Key); it.Status != insight.StatusOpen || it.TaughtID != "" {
				t.Fatalf("reopened item keeps no taught phrase: %+v", it)
			}

			for i, text := range []string{"開示にお金はかかりますか", "開示の費用を知りたい"} {
				if err := s.AddTaught(ctx, insight.Taught{ID: "t" + string(rune('1'+i)), Text: text, Intent: "faq.5", Topic: "5.how",
					Lang: "ja", Items: []string{qs[1].Key}, By: "a@example.jp", At: day.Add(time.Duration(i) * time.Minute)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.RevertTaught(ctx, "t1", "b@example.jp", day); err != nil {
				t.Fatal(err)
			}
			if err := s.RevertTaught(ctx, "t1", "b@example.jp", day); !errors.Is(err, insight.ErrReverted) {
				t.Fatalf("second revert: %v", err)
			}
			if err := s.RevertTaught(ctx, "nope", "b@example.jp", day); !errors.Is(err, insight.ErrNotFound) {
				t.Fatalf("unknown phrase: %v", err)
			}
			taught, err := s.TaughtPhrases(ctx)
			if err != nil || len(taught) != 2 || taught[0].ID != "t1" || !taught[0].Reverted || taught[1].Reverted {
				t.Fatalf("taught phrases: %+v %v", taught, err)
			}

			// The transcript's period: what came before the cutoff goes (on the embedded engine a day
			// goes whole once it is wholly past, as the transcript's do).
			n, err := s.Sweep(ctx, flows.DataTranscript, day)
			if err != nil {
				t.Fatal(err)
			}
			left, _ := s.Questions(ctx, day.Add(-48*time.Hour), day.Add(48*time.Hour))
			if len(left) != 3 || left[0].EventID != "e1" {
				t.Fatalf("after the sweep (swept %d): %+v", n, left)
			}
			old := insight.Item{Key: qs[0].Key, Question: qs[0], Reasons: []string{insight.ReasonUnanswered}, Status: insight.StatusOpen, At: qs[0].At}
			if err := s.AddToReview(ctx, old); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Sweep(ctx, flows.DataTranscript, day); err != nil {
				t.Fatal(err)
			}
			if open, _ := s.ReviewItems(ctx, insight.StatusOpen, 10); len(open) != 2 {
				t.Fatalf("review after the sweep: %+v", open)
			}
			// A customer's erasure.
			counts, err := s.EraseCustomer(ctx, "U2")
			if err != nil {
				t.Fatal(err)
			}
			if counts[colQuestions] != 2 || counts[colReview] != 1 {
				t.Fatalf("erased: %v", counts)
			}
			if left, _ := s.Questions(ctx, day.Add(-48*time.Hour), day.Add(48*time.Hour)); len(left) != 1 || left[0].UserID != "U1" {
				t.Fatalf("after U2's erasure: %+v", left)
			}
		})
	}
}

// A customer's "not helpful" on an item staff ignored brings it back to the inbox; the same step
// applied again (a redelivery) changes nothing, and a later reason without a verdict keeps it.
func TestReviewItemReasons(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	q := question(at, "e1", "U1", "答えが違う", "faq.3")
	unsure := insight.Item{Key: q.Key, Question: q, Reasons: []string{insight.ReasonUnsure}, Status: insight.StatusOpen, At: at}
	if err := s.AddToReview(ctx, unsure); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DecideReview(ctx, []string{q.Key}, insight.Current{Status: insight.StatusOpen},
		insight.Decision{Status: insight.StatusIgnored, By: "a@example.jp", At: at}); err != nil || n != 1 {
		t.Fatalf("ignore: %d %v", n, err)
	}
	q.Feedback, q.FeedbackAt = insight.FeedbackNotHelped, at.Add(time.Minute)
	unhelped := insight.Item{Key: q.Key, Question: q, Reasons: []string{insight.ReasonNotHelped}, Status: insight.StatusOpen, At: at}
	for range 2 {
		if err := s.AddToReview(ctx, unhelped); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddToReview(ctx, unsure); err != nil { // the question's step applied again
		t.Fatal(err)
	}
	it, _, err := s.ReviewItem(ctx, q.Key)
	if err != nil || it.Status != insight.StatusOpen || it.Question.Feedback != insight.FeedbackNotHelped ||
		!slices.Equal(it.Reasons, []string{insight.ReasonUnsure, insight.ReasonNotHelped}) || it.By != "" {
		t.Fatalf("item: %+v %v", it, err)
	}
}
