package insight_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot/insight"
	"github.com/enemane/privacybot/flows/nlu"
	"github.com/enemane/privacybot/store"
)

var (
	baseOnce  sync.Once
	baseModel *nlu.Model
)

// inboxOn is a review inbox on a fresh embedded store with items for the given texts (open, one
// customer), and their keys.
func inboxOn(t *testing.T, rs func(insight.ReviewStore) insight.ReviewStore, texts ...string) (*insight.Inbox, *store.Store, []string) {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	baseOnce.Do(func() { baseModel, err = nlu.Load() })
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i, text := range texts {
		at := time.Now().UTC().Add(time.Duration(i-len(texts)) * time.Minute)
		q := insight.Question{Key: insight.QuestionKey(at, "h"+string(rune('a'+i))), UserID: "U1", At: at, Lang: "ja", Text: text, Intent: "none",
			Review: insight.StatusOpen, Reasons: []string{insight.ReasonUnanswered}}
		if err := st.RecordQuestion(ctx, q); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, q.Key)
	}
	var s insight.ReviewStore = st
	if rs != nil {
		s = rs(st)
	}
	return &insight.Inbox{Store: s, Classifier: insight.NewClassifier(baseModel, st, quiet)}, st, keys
}

// Two staff deciding the same items at once: one wins, the other is told, and nothing of the
// loser's is stored (no orphan phrase trained on).
func TestInboxDecisionsRace(t *testing.T) {
	ctx := context.Background()
	for range 2 {
		inbox, st, keys := inboxOn(t, nil, "うちの家の間取り図ってまだ持ってますか", "間取り図はまだ保管されてますか")
		var wg sync.WaitGroup
		errs := make([]error, 3)
		wg.Go(func() {
			_, errs[0] = inbox.Teach(ctx, keys, "faq.13", "", "うちの家の間取り図ってまだ持ってますか", "a@example.jp")
		})
		wg.Go(func() {
			_, errs[1] = inbox.Teach(ctx, keys, "faq.2", "", "間取り図はまだ保管されてますか", "b@example.jp")
		})
		wg.Go(func() { errs[2] = inbox.Ignore(ctx, keys[:1], "c@example.jp") })
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, insight.ErrDecided):
				t.Fatalf("unexpected: %v", err)
			}
		}
		taught, _ := st.TaughtPhrases(ctx)
		a, _, _ := st.ReviewItem(ctx, keys[0])
		b, _, _ := st.ReviewItem(ctx, keys[1])
		switch {
		case won != 1:
			t.Fatalf("%d decisions won: %v", won, errs)
		case errs[2] == nil: // the ignore won the first item: no teach could claim both
			if len(taught) != 0 || a.Status != insight.StatusIgnored || b.Status != insight.StatusOpen {
				t.Fatalf("ignore won, yet: taught %+v, items %s %s", taught, a.Status, b.Status)
			}
		default:
			if len(taught) != 1 || a.TaughtID != taught[0].ID || b.TaughtID != taught[0].ID {
				t.Fatalf("a teach won, yet: taught %+v, items %+v %+v", taught, a, b)
			}
		}
	}
}

// flakyDecide fails the next DecideReview that reopens items, once.
type flakyDecide struct {
	insight.ReviewStore
	fail bool
}

func (f *flakyDecide) DecideReview(ctx context.Context, keys []string, cur insight.Current, d insight.Decision) (int, error) {
	if f.fail && d.Status == insight.StatusOpen {
		f.fail = false
		return 0, errors.New("store stalled")
	}
	return f.ReviewStore.DecideReview(ctx, keys, cur, d)
}

// A revert interrupted after the phrase was reverted says so (the phrase named, for the audit), and
// trying again finishes it: the items are open, the text is gone, the model no longer knows it.
func TestInboxRevertInterrupted(t *testing.T) {
	ctx := context.Background()
	var flaky *flakyDecide
	inbox, st, keys := inboxOn(t, func(s insight.ReviewStore) insight.ReviewStore { flaky = &flakyDecide{ReviewStore: s}; return flaky },
		"うちの家の間取り図ってまだ持ってますか")
	taught, err := inbox.Teach(ctx, keys, "faq.13", "", "うちの家の間取り図ってまだ持ってますか", "a@example.jp")
	if err != nil {
		t.Fatal(err)
	}
	flaky.fail = true
	got, err := inbox.Revert(ctx, taught.ID, "b@example.jp")
	if err == nil || got.ID != taught.ID {
		t.Fatalf("interrupted revert: %+v %v", got, err)
	}
	if it, _, _ := st.ReviewItem(ctx, keys[0]); it.Status != insight.StatusTaught {
		t.Fatalf("item after the interrupted revert: %s", it.Status)
	}
	if _, err := inbox.Revert(ctx, taught.ID, "b@example.jp"); !errors.Is(err, insight.ErrReverted) {
		t.Fatalf("second revert: %v", err)
	}
	it, _, _ := st.ReviewItem(ctx, keys[0])
	all, _ := st.TaughtPhrases(ctx)
	if it.Status != insight.StatusOpen || len(all) != 1 || !all[0].Reverted || all[0].Text != "" {
		t.Fatalf("after the second revert: item %+v, phrases %+v", it, all)
	}
	if _, err := inbox.Classifier.Sync(ctx); err != nil || inbox.Classifier.Taught() != 0 {
		t.Fatalf("model still trained with %d phrases (%v)", inbox.Classifier.Taught(), err)
	}
}

// A phrase cannot be checked for the customer's names while they cannot be read: it is refused, and
// nothing is stored.
func TestInboxRefusesWithoutNames(t *testing.T) {
	ctx := context.Background()
	inbox, st, keys := inboxOn(t, nil, "開示の手数料はいくら")
	inbox.Names = func(context.Context, string) ([]string, error) { return nil, errors.New("LINE: 503") }
	if _, err := inbox.Teach(ctx, keys, "faq.5", "", "開示の手数料はいくら", "a@example.jp"); !errors.Is(err, insight.ErrNamesUnknown) {
		t.Fatalf("teach without names: %v", err)
	}
	if all, _ := st.TaughtPhrases(ctx); len(all) != 0 {
		t.Fatalf("stored: %+v", all)
	}
	if it, _, _ := st.ReviewItem(ctx, keys[0]); it.Status != insight.StatusOpen {
		t.Fatalf("item: %s", it.Status)
	}
}
