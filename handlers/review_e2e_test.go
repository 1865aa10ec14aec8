package handlers_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/insight"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/flows/nlu"
)

// reviewDesk wires the desk's insight into a harness as cmd/privacybot does: the classifier in
// service (retrained when staff teach), the recorder of questions among the effect sinks, and the
// review inbox on the harness's store.
type reviewDesk struct {
	classifier *insight.Classifier
	inbox      *insight.Inbox
}

func newReviewHarness(t *testing.T) (*harness, *reviewDesk) {
	t.Helper()
	base, err := nlu.Load()
	if err != nil {
		t.Fatal(err)
	}
	d := &reviewDesk{}
	rec := &insight.Recorder{}
	h := newHarness(t, harnessOpts{procTweak: func(cfg *bot.Config) {
		cfg.Classify = func(text string) flows.Intent {
			r := d.classifier.Classify(text)
			return flows.Intent{Name: r.Intent, Confidence: r.Confidence, Topic: r.Topic, Also: r.Also, Guess: r.Guess, GuessConf: r.GuessConf}
		}
		cfg.QuestionRef = insight.QuestionKey
		cfg.Effects = rec
	}})
	rec.Questions, rec.Review = h.st, h.st
	d.classifier = insight.NewClassifier(base, h.st, quietLog())
	d.inbox = &insight.Inbox{Store: h.st, Classifier: d.classifier,
		Names: func(context.Context, string) ([]string, error) { return []string{"テスト 太郎"}, nil }}
	return h, d
}

// chip finds a quick reply by its label.
func chip(t *testing.T, a chatAnswer, label string) chatChip {
	t.Helper()
	i := slices.IndexFunc(a.Chips, func(c chatChip) bool { return c.Label == label })
	if i < 0 {
		t.Fatalf("no chip %q in %+v", label, a.Chips)
	}
	return a.Chips[i]
}

// TestReviewTeachRetrainsThePipeline is the review inbox end to end: a question the bot cannot
// answer reaches the inbox, staff teach it, and the same customer asking again gets the policy
// answer at once, without a restart; taking the phrase back undoes it. An answer the customer calls
// unhelpful reaches the inbox too, and a phrase with personal data is refused.
func TestReviewTeachRetrainsThePipeline(t *testing.T) {
	h, d := newReviewHarness(t)
	ctx := context.Background()
	u := newChatUser(t, h, "ja")
	const miss = "スマートメーターの情報はどこまで見られてるの"

	a := u.say(miss)
	mustNotCite(t, miss, a)
	groups, _, err := d.inbox.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || len(groups[0].Items) != 1 || groups[0].Items[0].Question.Text != miss ||
		!slices.Equal(groups[0].Items[0].Reasons, []string{insight.ReasonUnanswered}) {
		t.Fatalf("inbox after the miss: %+v", groups)
	}
	missKey := groups[0].Items[0].Key

	// A policy answer carries the feedback chips; "not helpful" puts it in the inbox.
	a = u.say("個人情報の利用目的を教えてください")
	mustCite(t, "purposes", a, flows.Ja, 2)
	if a.Chips[0].Label != "役に立った" || a.Chips[1].Label != "役に立たなかった" {
		t.Fatalf("feedback chips first: %+v", a.Chips)
	}
	sorry := u.tap(chip(t, a, "役に立たなかった"))
	if !strings.Contains(sorry.all(), "お役に立てず申し訳ありません") || chip(t, sorry, "担当者と話す").Data == "" {
		t.Fatalf("after 'not helpful': %+v", sorry)
	}
	groups, _, _ = d.inbox.Open(ctx)
	var unhelped *insight.Item
	for _, g := range groups {
		for i, it := range g.Items {
			if slices.Contains(it.Reasons, insight.ReasonNotHelped) {
				unhelped = &g.Items[i]
			}
		}
	}
	if unhelped == nil || unhelped.Question.Topic == "" || unhelped.Question.Feedback != insight.FeedbackNotHelped {
		t.Fatalf("the unhelpful answer is not in the inbox: %+v", groups)
	}

	// A phrase with the customer's name or a phone number is refused, masked.
	_, err = d.inbox.Teach(ctx, []string{missKey}, "faq.2", "2.collect", "テスト太郎です。090-1234-5678 "+miss, "agent@example.jp")
	var pii *insight.PIIError
	if !errors.As(err, &pii) || !slices.Equal(pii.Kinds, []string{insight.PIIName, insight.PIIPhone}) || strings.Contains(pii.Masked, "090") {
		t.Fatalf("teaching personal data: %v %+v", err, pii)
	}

	// Teach: the same message is answered from item 2 now, and so is a close variant.
	taught, err := d.inbox.Teach(ctx, []string{missKey}, "faq.2", "2.collect", miss, "agent@example.jp")
	if err != nil {
		t.Fatal(err)
	}
	if d.classifier.Taught() != 1 {
		t.Fatalf("model in service trained with %d taught phrases", d.classifier.Taught())
	}
	a = u.say(miss)
	mustCite(t, miss+" after teaching", a, flows.Ja, 2)
	a = u.say("スマートメーターの情報ってどこまで見られてるんですか")
	mustCite(t, "a variant after teaching", a, flows.Ja, 2)
	if it, _, _ := h.st.ReviewItem(ctx, missKey); it.Status != insight.StatusTaught || it.TaughtID != taught.ID {
		t.Fatalf("item after teaching: %+v", it)
	}
	if _, err := d.inbox.Teach(ctx, []string{missKey}, "faq.3", "", miss, "other@example.jp"); !errors.Is(err, insight.ErrDecided) {
		t.Fatalf("teaching a decided item again: %v", err)
	}

	// Revert: the phrase is no longer trained on, the miss is back in the inbox.
	if _, err := d.inbox.Revert(ctx, taught.ID, "admin@example.jp"); err != nil {
		t.Fatal(err)
	}
	a = u.say(miss)
	mustNotCite(t, miss+" after the revert", a)
	if it, _, _ := h.st.ReviewItem(ctx, missKey); it.Status != insight.StatusOpen {
		t.Fatalf("item after the revert: %+v", it)
	}

	// Ignore closes an item without teaching.
	if err := d.inbox.Ignore(ctx, []string{unhelped.Key}, "agent@example.jp"); err != nil {
		t.Fatal(err)
	}
	decided, err := d.inbox.Decided(ctx, 10)
	if err != nil || len(decided) != 1 || decided[0].Status != insight.StatusIgnored {
		t.Fatalf("decided: %+v %v", decided, err)
	}
}
