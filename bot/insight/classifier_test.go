package insight_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot/insight"
	"github.com/enemane/privacybot/flows/nlu"
	"github.com/enemane/privacybot/store"
)

// Two instances on one store: a phrase taught on one is in service on the other after its next
// sync, and so is a revert; a sync with nothing new trains nothing.
func TestTaughtPhrasesReachEveryInstance(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	baseOnce.Do(func() { baseModel, err = nlu.Load() })
	if err != nil {
		t.Fatal(err)
	}
	base := baseModel
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	one, two := insight.NewClassifier(base, st, quiet), insight.NewClassifier(base, st, quiet)
	const phrase = "うちの家の間取り図ってまだ持ってますか"
	if r := two.Classify(phrase); r.Intent == "faq.13" {
		t.Fatalf("the shipped model already answers %q", phrase)
	}
	at := time.Now().UTC()
	q := insight.Question{Key: insight.QuestionKey(at, "h1"), EventID: "h1", UserID: "U1", At: at, Text: phrase, Intent: "none", Lang: "ja",
		Review: insight.StatusOpen, Reasons: []string{insight.ReasonUnanswered}}
	if err := st.RecordQuestion(ctx, q); err != nil {
		t.Fatal(err)
	}
	inbox := &insight.Inbox{Store: st, Classifier: one}
	taught, err := inbox.Teach(ctx, []string{q.Key}, "faq.13", "", phrase, "agent@example.jp")
	if err != nil {
		t.Fatal(err)
	}
	if r := one.Classify(phrase); r.Intent != "faq.13" {
		t.Fatalf("teaching instance: %s", r.Intent)
	}
	if changed, err := two.Sync(ctx); err != nil || !changed || two.Classify(phrase).Intent != "faq.13" || two.Taught() != 1 {
		t.Fatalf("other instance after sync: changed=%v err=%v intent=%s", changed, err, two.Classify(phrase).Intent)
	}
	if changed, _ := two.Sync(ctx); changed {
		t.Fatal("a sync with nothing new retrained")
	}
	if _, err := inbox.Revert(ctx, taught.ID, "admin@example.jp"); err != nil {
		t.Fatal(err)
	}
	if changed, _ := two.Sync(ctx); !changed || two.Classify(phrase).Intent == "faq.13" || two.Taught() != 0 {
		t.Fatalf("other instance after the revert: %s", two.Classify(phrase).Intent)
	}
}
