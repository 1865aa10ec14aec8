package store

import (
	"context"
	"errors"
	"fmt"
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

// missed is q as recorded when the bot did not understand it: in the review inbox.
func missed(q insight.Question) insight.Question {
	q.Review, q.Reasons = insight.StatusOpen, []string{insight.ReasonUnanswered}
	return q
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
			day := time.Now().UTC().Truncate(24 * time.Hour).Add(-48 * time.Hour) // within the review window
			qs := []insight.Question{
				question(day.Add(-time.Hour), "e0", "U1", "前日の質問", "faq.1"),
				missed(question(day.Add(time.Hour), "e1", "U1", "開示にお金はかかりますか", "none")),
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

			// The review inbox is kept on the questions: qs[1] came in as a miss; "not helpful" on
			// qs[2] (twice: a step applied again) and on qs[1] add their reason once.
			for _, k := range []string{qs[2].Key, qs[2].Key, qs[1].Key} {
				if err := s.MarkForReview(ctx, k, insight.ReasonNotHelped); err != nil {
					t.Fatal(err)
				}
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
			if open, _ := s.ReviewItems(ctx, insight.StatusOpen, 10); len(open) != 2 {
				t.Fatalf("review after the sweep: %+v", open)
			}
			// A customer's erasure.
			counts, err := s.EraseCustomer(ctx, "U2")
			if err != nil {
				t.Fatal(err)
			}
			if counts[colQuestions] != 2 {
				t.Fatalf("erased: %v", counts)
			}
			if left, _ := s.Questions(ctx, day.Add(-48*time.Hour), day.Add(48*time.Hour)); len(left) != 1 || left[0].UserID != "U1" {
				t.Fatalf("after U2's erasure: %+v", left)
			}
		})
	}
}

// A customer's "not helpful" on a question staff ignored brings it back to the inbox; the same step
// applied again (a redelivery) changes nothing; a question taught stays taught.
func TestReviewItemReasons(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	at := time.Now().UTC().Add(-time.Hour)
	q := question(at, "e1", "U1", "答えが違う", "faq.3")
	q.Confidence, q.Review, q.Reasons = 0.5, insight.StatusOpen, []string{insight.ReasonUnsure}
	taught := question(at, "e2", "U1", "教えた質問", "none")
	taught.Review, taught.Reasons, taught.TaughtID = insight.StatusTaught, []string{insight.ReasonUnanswered}, "t1"
	for _, x := range []insight.Question{q, taught, q} {
		if err := s.RecordQuestion(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DecideReview(ctx, []string{q.Key}, insight.Current{Status: insight.StatusOpen},
		insight.Decision{Status: insight.StatusIgnored, By: "a@example.jp", At: at}); err != nil || n != 1 {
		t.Fatalf("ignore: %d %v", n, err)
	}
	for range 2 {
		for _, k := range []string{q.Key, taught.Key} {
			if err := s.MarkForReview(ctx, k, insight.ReasonNotHelped); err != nil {
				t.Fatal(err)
			}
		}
	}
	it, found, err := s.ReviewItem(ctx, q.Key)
	if err != nil || !found || it.Status != insight.StatusOpen || !slices.Equal(it.Reasons, []string{insight.ReasonUnsure, insight.ReasonNotHelped}) || it.By != "" {
		t.Fatalf("item: %+v %v", it, err)
	}
	if it, _, _ := s.ReviewItem(ctx, taught.Key); it.Status != insight.StatusTaught || it.TaughtID != "t1" {
		t.Fatalf("taught item: %+v", it)
	}
	// A question the bot answered surely is not in the inbox until a customer says it did not help.
	sure := question(at, "e3", "U1", "確かな答え", "faq.1")
	sure.Confidence = 0.95
	if err := s.RecordQuestion(ctx, sure); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.ReviewItem(ctx, sure.Key); found {
		t.Fatal("a sure answer is in the inbox")
	}
	if err := s.MarkForReview(ctx, sure.Key, insight.ReasonNotHelped); err != nil {
		t.Fatal(err)
	}
	if it, found, _ := s.ReviewItem(ctx, sure.Key); !found || it.Status != insight.StatusOpen {
		t.Fatalf("after 'not helpful': %+v", it)
	}
}

// On the embedded engine questions are queued and written once a second: a read sees them at once,
// and closing the store writes what is queued (a restart finds it).
func TestQuestionQueue(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Config{DataDir: dir, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-time.Minute)
	for i := range 3 {
		if err := s.RecordQuestion(ctx, question(at.Add(time.Duration(i)*time.Second), fmt.Sprintf("q%d", i), "U1", "質問", "faq.1")); err != nil {
			t.Fatal(err)
		}
	}
	if s.questionQueue == nil {
		t.Fatal("no queue on the embedded engine")
	}
	if got, err := s.Questions(ctx, at.Add(-time.Hour), at.Add(time.Hour)); err != nil || len(got) != 3 {
		t.Fatalf("read at once: %d %v", len(got), err)
	}
	if err := s.RecordQuestion(ctx, question(at.Add(10*time.Second), "q9", "U1", "閉じる前の質問", "none")); err != nil {
		t.Fatal(err)
	}
	s.Close(ctx)
	s, err = Open(ctx, Config{DataDir: dir, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if got, err := s.Questions(ctx, at.Add(-time.Hour), at.Add(time.Hour)); err != nil || len(got) != 4 {
		t.Fatalf("after a restart: %d %v", len(got), err)
	}
}
