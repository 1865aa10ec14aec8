package store

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

// Two bot.Handoffs on one store, each with its own index and hub, stand for two instances.

// staffSide is the Messaging API and the inbox as one instance's handoff manager uses them.
type staffSide struct {
	mu    sync.Mutex
	read  []string
	inbox []bot.Event
}

func (f *staffSide) Push(context.Context, string, string, []bot.Message) bot.CallResult {
	return bot.CallResult{Outcome: bot.Accepted, Status: 200}
}

func (f *staffSide) MarkAsRead(_ context.Context, token string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read = append(f.read, token)
	return nil
}

func (f *staffSide) AddToInbox(_ context.Context, evs []bot.Event) ([]bot.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inbox = append(f.inbox, evs...)
	return evs, nil
}

func (f *staffSide) Enqueue([]bot.Event) error { return nil }

func openHandoffs(t *testing.T, st bot.EscalationStore) (*bot.Handoffs, *staffSide) {
	t.Helper()
	side := &staffSide{}
	h := bot.NewHandoffs(bot.HandoffConfig{Store: st, Inbox: side, LINE: side, Log: quiet()})
	if err := h.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h, side
}

func escalation(event, user string) bot.Step {
	return bot.Step{EventID: event, UserID: user, Lang: flows.Ja, At: time.Now(), EventAt: time.Now(),
		Effects: []flows.Effect{{Kind: flows.EffectEscalate, Escalation: &flows.EscalationRequest{Reason: flows.ReasonHuman}}}}
}

// notices drains what a hub subscriber has (Publish is synchronous: what a call published is there).
func notices(ch <-chan bot.Notice) []bot.Notice {
	var out []bot.Notice
	for {
		select {
		case n := <-ch:
			out = append(out, n)
		default:
			return out
		}
	}
}

func refresh(t *testing.T, h *bot.Handoffs) {
	t.Helper()
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestClaimOnOneInstanceSilencesTheBotOnAnother(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	a, sideA := openHandoffs(t, s)
	b, sideB := openHandoffs(t, s)
	live, stop := b.Hub().Subscribe()
	defer stop()
	alex := bot.Actor{ID: "alex@example.jp", Name: "高橋"}
	chat := func(id string) bot.Notice { return bot.Notice{Kind: bot.NoticeChat, ID: id} }
	queue := bot.Notice{Kind: bot.NoticeQueue}

	// Escalated on A: B's queue and live view show it after B's Refresh.
	if err := a.Apply(ctx, escalation("E1", "U1")); err != nil {
		t.Fatal(err)
	}
	id := a.Queue()[0].ID
	if b.HasOpenRequest("U1") {
		t.Fatal("B knows the escalation before it refreshed")
	}
	refresh(t, b)
	if got := notices(live); !b.HasOpenRequest("U1") || b.OwnedByStaff("U1") || !slices.Contains(got, chat(id)) || !slices.Contains(got, queue) {
		t.Fatalf("B after Refresh: open=%v owned=%v notices %+v", b.HasOpenRequest("U1"), b.OwnedByStaff("U1"), got)
	}

	// Claimed on A: B's bot is silenced after B's Refresh, and B's console is told.
	if _, err := a.Claim(ctx, id, alex); err != nil {
		t.Fatal(err)
	}
	if b.OwnedByStaff("U1") {
		t.Fatal("B silenced before it refreshed")
	}
	refresh(t, b)
	if got := notices(live); !b.OwnedByStaff("U1") || !slices.Contains(got, chat(id)) || !slices.Contains(got, queue) {
		t.Fatalf("B after the claim: owned=%v notices %+v", b.OwnedByStaff("U1"), got)
	}
	refresh(t, b)
	if got := notices(live); len(got) != 0 {
		t.Fatalf("a Refresh with nothing new published %+v", got)
	}

	// A received the customer's next message (its markAsReadToken); staff open the chat on B.
	a.Tap(sideA).Enqueue([]bot.Event{{ID: "M1", UserID: "U1", Kind: bot.EventMessage, Timestamp: time.Now(), MarkAsReadToken: "tok-1"}})
	refresh(t, a)
	if err := b.MarkRead(ctx, id); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.Escalation(ctx, id); !slices.Equal(sideB.read, []string{"tok-1"}) || e.ReadToken != "" {
		t.Fatalf("marked read on B: %v, token left on the escalation %q", sideB.read, e.ReadToken)
	}

	// Closed on A: B's bot answers again after B's Refresh.
	if _, err := a.Close(ctx, id, alex, "resolved", false); err != nil {
		t.Fatal(err)
	}
	refresh(t, b)
	if got := notices(live); b.OwnedByStaff("U1") || b.HasOpenRequest("U1") || len(b.Queue()) != 0 || !slices.Contains(got, chat(id)) {
		t.Fatalf("B after the close: owned=%v open=%v notices %+v", b.OwnedByStaff("U1"), b.HasOpenRequest("U1"), got)
	}

	// One open escalation per customer: a second request processed on B before B refreshed finds A's.
	if err := a.Apply(ctx, escalation("E2", "U2")); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(ctx, escalation("E3", "U2")); err != nil {
		t.Fatal(err)
	}
	open, err := s.OpenEscalations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].EventID != "E2" || !b.HasOpenRequest("U2") {
		t.Fatalf("open escalations %+v", open)
	}
}

// heldOpen holds a Refresh after it has read the open escalations, until released.
type heldOpen struct {
	*Store
	armed           atomic.Bool
	taken, released chan struct{}
}

func (h *heldOpen) OpenEscalations(ctx context.Context) ([]bot.Escalation, error) {
	es, err := h.Store.OpenEscalations(ctx)
	if h.armed.CompareAndSwap(true, false) {
		h.taken <- struct{}{}
		<-h.released
	}
	return es, err
}

func TestRefreshDoesNotUndoANewerChangeOfItsOwnInstance(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	held := &heldOpen{Store: s, taken: make(chan struct{}), released: make(chan struct{})}
	a, _ := openHandoffs(t, s)
	b, _ := openHandoffs(t, held)
	if err := a.Apply(ctx, escalation("E1", "U1")); err != nil {
		t.Fatal(err)
	}
	id := a.Queue()[0].ID
	refresh(t, b)
	// B's Refresh reads the escalation queued and no other; B claims it and escalates another
	// customer before the Refresh applies what it read.
	held.armed.Store(true)
	done := make(chan error, 1)
	go func() { done <- b.Refresh(ctx) }()
	<-held.taken
	if _, err := b.Claim(ctx, id, bot.Actor{ID: "sam@example.jp", Name: "佐藤"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(ctx, escalation("E2", "U2")); err != nil {
		t.Fatal(err)
	}
	close(held.released)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !b.OwnedByStaff("U1") || !b.HasOpenRequest("U2") {
		t.Fatalf("a Refresh that read the store before undid B's changes: owned U1 %v, open U2 %v",
			b.OwnedByStaff("U1"), b.HasOpenRequest("U2"))
	}
	refresh(t, b)
	if !b.OwnedByStaff("U1") || !b.HasOpenRequest("U2") {
		t.Fatal("the next Refresh lost them")
	}
}

func TestTranscriptOfAnEscalatedCustomerReachesAnotherInstance(t *testing.T) {
	for name, open := range map[string]func(*testing.T) *Store{
		"mongodb":  openTest,
		"embedded": func(t *testing.T) *Store { s, _ := openEmbedded(t); return s },
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			a, _ := openHandoffs(t, s)
			b, _ := openHandoffs(t, s)
			live, stop := b.Hub().Subscribe()
			defer stop()
			if err := a.Apply(ctx, escalation("E1", "U1")); err != nil {
				t.Fatal(err)
			}
			id := a.Queue()[0].ID
			refresh(t, b)
			notices(live)
			// A's processor writes the customer's message (and one of a customer with no escalation).
			now := time.Now()
			for _, l := range []bot.TranscriptEntry{
				{ID: "M1/in", UserID: "U1", Role: bot.RoleCustomer, Kind: "text", Text: "まだですか", EventID: "M1", At: now},
				{ID: "M2/in", UserID: "U9", Role: bot.RoleCustomer, Kind: "text", Text: "こんにちは", EventID: "M2", At: now},
			} {
				if err := s.AppendTranscript(ctx, l); err != nil {
					t.Fatal(err)
				}
			}
			refresh(t, b)
			want := []bot.Notice{{Kind: bot.NoticeQueue}, {Kind: bot.NoticeChat, ID: id}}
			if got := notices(live); !slices.Equal(got, want) {
				t.Fatalf("B's live view was told %+v, want %+v", got, want)
			}
			refresh(t, b)
			if got := notices(live); len(got) != 0 {
				t.Fatalf("lines seen before announced again: %+v", got)
			}
		})
	}
}
