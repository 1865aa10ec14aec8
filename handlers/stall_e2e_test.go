package handlers_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/store"
)

// lateInbox stores events as the real inbox does, but for the first delivery of each event it
// reports what a stalled store looks like from the webhook: the insert commits only after the
// handler's deadline, so the handler answers 503 although the event is stored.
type lateInbox struct {
	st   *store.Store
	mu   sync.Mutex
	seen map[string]bool
}

func (l *lateInbox) AddToInbox(ctx context.Context, evs []bot.Event) ([]bot.Event, error) {
	l.mu.Lock()
	first := false
	for _, ev := range evs {
		if !l.seen[ev.ID] {
			l.seen[ev.ID], first = true, true
		}
	}
	l.mu.Unlock()
	if !first {
		return l.st.AddToInbox(ctx, evs)
	}
	if _, err := l.st.AddToInbox(context.Background(), evs); err != nil {
		return nil, err
	}
	return nil, context.DeadlineExceeded // the caller's deadline passed while the insert ran
}

func lateInboxOf(st *store.Store) handlers.Inbox { return &lateInbox{st: st, seen: map[string]bool{}} }

// TestEventStoredAfterA503IsAnsweredOnceWhenRedelivered: the webhook answered 503, the store committed
// the events anyway, LINE redelivers them: each is answered exactly once.
func TestEventStoredAfterA503IsAnsweredOnceWhenRedelivered(t *testing.T) {
	h := newHarness(t, harnessOpts{inbox: lateInboxOf})
	a := h.sender.TextEvent("Ustall1", "メニュー")
	b := h.sender.TextEvent("Ustall2", "個人情報の利用目的は？")
	if code := h.send(a, b); code != http.StatusServiceUnavailable {
		t.Fatalf("first delivery: %d, want 503", code)
	}
	if code := h.send(a.Redelivered(), b.Redelivered()); code != http.StatusOK {
		t.Fatalf("redelivery: %d, want 200", code)
	}
	h.waitDeliveries("Ustall1", 1)
	h.waitDeliveries("Ustall2", 1)
	// LINE may redeliver again (it did not see our 200 in time): still one answer each.
	if code := h.send(a.Redelivered(), b.Redelivered()); code != http.StatusOK {
		t.Fatalf("second redelivery: %d, want 200", code)
	}
	h.settle()
	if code := h.send(a.Redelivered()); code != http.StatusOK {
		t.Fatalf("redelivery after the answer: %d, want 200", code)
	}
	h.settle()
	for _, u := range []string{"Ustall1", "Ustall2"} {
		if n := len(h.api.Deliveries(u)); n != 1 {
			t.Fatalf("%s: %d answers to one event", u, n)
		}
	}
}

// TestEventStoredAfterA503IsAnsweredOnceAcrossARestart: the same, with the bot restarted between the
// 503 and the redelivery: the restart resumes the stored event, and the redelivery does not answer it
// a second time.
func TestEventStoredAfterA503IsAnsweredOnceAcrossARestart(t *testing.T) {
	first := newHarness(t, harnessOpts{inbox: lateInboxOf})
	ev := first.sender.TextEvent("Ustall3", "メニュー")
	if code := first.send(ev); code != http.StatusServiceUnavailable {
		t.Fatalf("first delivery: %d, want 503", code)
	}
	first.stop()

	h := newHarness(t, harnessOpts{database: first.st.Database(), api: first.api})
	h.waitDeliveries("Ustall3", 1)
	if code := h.send(ev.Redelivered()); code != http.StatusOK {
		t.Fatalf("redelivery after the restart: %d, want 200", code)
	}
	h.settle()
	if n := len(h.api.Deliveries("Ustall3")); n != 1 {
		t.Fatalf("%d answers to one event", n)
	}
}
