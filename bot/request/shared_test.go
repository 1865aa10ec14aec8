package request_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/outbox/outboxtest"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/bot/request/requesttest"
	"github.com/enemane/privacybot/flows"
)

// A desk and its Twin are two instances of the bot on one store (one clock, one outbox, one raiser).

// published drains a subscription: the references told so far.
func published(ch <-chan string) []string {
	var out []string
	for {
		select {
		case ref := <-ch:
			out = append(out, ref)
		default:
			return out
		}
	}
}

func refresh(t *testing.T, d *requesttest.Desk) {
	t.Helper()
	if err := d.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestTwoInstancesSeeEachOthersRequests(t *testing.T) {
	a := requesttest.NewDesk(t, request.Config{})
	b := a.Twin(t, request.Config{})
	liveA, stopA := a.Subscribe()
	defer stopA()
	liveB, stopB := b.Subscribe()
	defer stopB()

	// The customer's request is made on a; b's chat and console learn of it at b's Refresh.
	r := a.Submit(t, "U1", flows.RequestSubmission{Draft: "D1"})
	published(liveA)
	if got := b.Desk("U1", "").Requests; len(got) != 0 {
		t.Fatalf("b knew of the request before its Refresh: %+v", got)
	}
	refresh(t, b)
	if got := b.Desk("U1", "").Requests; len(got) != 1 || got[0].Ref != r.ID || got[0].Status != flows.StatusReceived {
		t.Fatalf("b's desk after Refresh: %+v", got)
	}
	if got := published(liveB); len(got) != 1 || got[0] != r.ID {
		t.Fatalf("b's live view told %v, want %s", got, r.ID)
	}
	refresh(t, b) // read again (the margin): nothing new, nothing told
	if got := published(liveB); len(got) != 0 {
		t.Fatalf("an unchanged request told again: %v", got)
	}

	// Staff verify it on b; a sees it at its Refresh.
	a.Clock.Add(time.Minute)
	if _, err := b.Transition(ctx, r.ID, request.Transition{To: flows.StatusVerified, Actor: staff}); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Get(r.ID); got.Status != flows.StatusReceived {
		t.Fatalf("a before its Refresh: %s", got.Status)
	}
	refresh(t, a)
	if got, _ := a.Get(r.ID); got.Status != flows.StatusVerified || got.Version != 2 {
		t.Fatalf("a after its Refresh: %s v%d", got.Status, got.Version)
	}
	if got := published(liveA); len(got) != 1 || got[0] != r.ID {
		t.Fatalf("a's live view told %v", got)
	}

	// Staff on a act on what a showed while b moved it on: a conflict, after which a shows what it is.
	if _, err := b.Transition(ctx, r.ID, request.Transition{To: flows.StatusInProgress, Actor: staff}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Transition(ctx, r.ID, request.Transition{To: flows.StatusInProgress, Actor: staff}); !errors.Is(err, request.ErrConflict) {
		t.Fatalf("staff's move on a stale view: %v, want ErrConflict", err)
	}
	if got, _ := a.Get(r.ID); got.Status != flows.StatusInProgress || got.Version != 3 {
		t.Fatalf("a after the conflict: %s v%d", got.Status, got.Version)
	}

	// The customer's own moves apply to what the request is now, wherever it was last changed.
	if _, err := b.Note(ctx, r.ID, "電話で確認済み", staff); err != nil {
		t.Fatal(err)
	}
	st := bot.Step{EventID: "ev-withdraw", UserID: "U1", Effects: []flows.Effect{{Kind: flows.EffectRequestWithdraw,
		Withdrawal: &flows.RequestWithdrawal{Ref: r.ID}}}}
	if err := a.Apply(ctx, st); err != nil {
		t.Fatal(err)
	}
	stored := a.Store.Request(r.ID)
	if stored.Status != flows.StatusWithdrawn || stored.Version != 5 || stored.History[len(stored.History)-2].What != request.ChangeNote {
		t.Fatalf("stored after the withdrawal: %s v%d %+v", stored.Status, stored.Version, stored.History)
	}
	refresh(t, b)
	if got := b.Desk("U1", "").Requests; len(got) != 1 || got[0].Status != flows.StatusWithdrawn {
		t.Fatalf("b's desk after the withdrawal: %+v", got)
	}
}

// A change stamped before the last Refresh began but written after it (a slow write) is read by the
// next one.
func TestRefreshTakesALateWrite(t *testing.T) {
	a := requesttest.NewDesk(t, request.Config{})
	b := a.Twin(t, request.Config{})
	r := a.Submit(t, "U1", flows.RequestSubmission{Draft: "D1"})
	a.Clock.Add(time.Minute)
	refresh(t, b)
	late := a.Store.Request(r.ID)
	late.Version++
	late.Status = flows.StatusVerified
	late.UpdatedAt = a.Clock.Now().Add(-5 * time.Second) // stamped before b's read, stored after it
	if err := a.Store.UpdateRequest(ctx, late); err != nil {
		t.Fatal(err)
	}
	a.Clock.Add(2 * time.Second)
	refresh(t, b)
	if got, _ := b.Get(r.ID); got.Status != flows.StatusVerified {
		t.Fatalf("b after the late write: %s", got.Status)
	}
}

// A request another instance's sweep deleted leaves this instance's index at the next full read.
func TestRefreshDropsWhatAnotherInstanceDeleted(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, requesttest.Tokyo)
	old := now.AddDate(-6, 0, 0)
	a := requesttest.NewDesk(t, request.Config{}, requesttest.Seed(request.Request{ID: "R-20201204-0001", UserID: "U9",
		Status: flows.StatusRejected, ReceivedAt: old, UpdatedAt: old, History: []request.Change{
			{What: request.ChangeCreated, To: flows.StatusReceived, At: old},
			{What: request.ChangeStatus, From: flows.StatusReceived, To: flows.StatusRejected, At: old}}}))
	b := a.Twin(t, request.Config{})
	live, stop := b.Subscribe()
	defer stop()
	if n := sweepAt(t, a, flows.DataRequests, 5*365*24*time.Hour); n != 1 {
		t.Fatalf("swept %d, want 1", n)
	}
	refresh(t, b)
	if _, err := b.Get("R-20201204-0001"); err != nil {
		t.Fatalf("b dropped it before a full read: %v", err)
	}
	b.Clock.Add(11 * time.Minute)
	refresh(t, b)
	if _, err := b.Get("R-20201204-0001"); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("b still has the deleted request: %v", err)
	}
	if got := published(live); len(got) != 1 {
		t.Fatalf("b's live view told %v", got)
	}
}

func TestTwoInstancesGiveDistinctReferences(t *testing.T) {
	a := requesttest.NewDesk(t, request.Config{})
	b := a.Twin(t, request.Config{})
	var wg sync.WaitGroup
	for i := range 20 {
		d := a
		if i%2 == 1 {
			d = b
		}
		wg.Go(func() { d.Submit(t, fmt.Sprint("U", i), flows.RequestSubmission{Draft: "D"}) })
	}
	wg.Wait()
	refresh(t, a)
	seen := map[string]bool{}
	for i := range 20 {
		for _, r := range a.ForUser(fmt.Sprint("U", i)) {
			if seen[r.ID] {
				t.Fatalf("reference %s handed out twice", r.ID)
			}
			seen[r.ID] = true
		}
	}
	if len(seen) != 20 {
		t.Fatalf("%d requests, want 20", len(seen))
	}
}

// slowContent is LINE's content endpoint answering each call when the test says so.
type slowContent struct {
	mu      sync.Mutex
	calls   map[string]int
	started chan string
	answer  chan []byte
}

func (c *slowContent) MessageContent(ctx context.Context, id string, _ int64) (bot.Content, bot.CallResult) {
	c.mu.Lock()
	c.calls[id]++
	c.mu.Unlock()
	c.started <- id
	select {
	case data := <-c.answer:
		return bot.Content{Data: data}, bot.CallResult{Outcome: bot.Accepted, Status: 200}
	case <-ctx.Done():
		return bot.Content{}, bot.CallResult{Outcome: bot.Retryable, Err: ctx.Err()}
	}
}

func (c *slowContent) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[id]
}

// A photo whose instance died while it was queued there stays "fetching" in the store: one instance
// (the lease's) queues it again once, and fetches it once.
func TestStrandedDocumentQueuedAgainOnce(t *testing.T) {
	c := &slowContent{calls: map[string]int{}, started: make(chan string, 4), answer: make(chan []byte)}
	cfg := request.Config{Content: c, FetchFor: 3 * time.Minute}
	a := requesttest.NewDesk(t, cfg)
	b := a.Twin(t, cfg)
	bctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.Run(bctx) }()
	t.Cleanup(func() { cancel(); <-done })
	r := a.Submit(t, "U1", flows.RequestSubmission{Draft: "D1", DocsBy: flows.DocsLater})
	// What a's attach stored before a died (its queue died with it).
	doc := request.Document{ID: "ev-photo.0", UserID: "U1", Draft: "D1", MessageID: "m1", Seq: 1,
		Status: request.DocFetching, CreatedAt: a.Clock.Now()}
	if added, err := a.Store.AddDocument(ctx, doc); err != nil || !added {
		t.Fatal(added, err)
	}
	lease := &outboxtest.Lease{}
	requeue := func(d *requesttest.Desk, holder string) int {
		t.Helper()
		n, err := d.RequeueStranded(ctx, lease, holder, 3*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	a.Clock.Add(3 * time.Minute) // past the fetcher's deadline, but a live fetcher may still be saving it
	if n := requeue(b, "b"); n != 0 {
		t.Fatalf("queued %d before it was stranded", n)
	}
	a.Clock.Add(time.Minute)
	if n := requeue(b, "b"); n != 1 {
		t.Fatalf("queued %d, want the stranded one", n)
	}
	if id := <-c.started; id != "m1" {
		t.Fatalf("fetched %s", id)
	}
	// While b fetches it: b's next round does not queue it again, nor does the instance without
	// the lease.
	if n := requeue(b, "b"); n != 0 {
		t.Fatalf("b queued it again while fetching it: %d", n)
	}
	if n := requeue(a, "a"); n != 0 {
		t.Fatalf("a queued it without the lease: %d", n)
	}
	c.answer <- pngBytes(t, "")
	b.Await(t, "the document stored", func() bool {
		for _, d := range b.Store.Docs() {
			if d.ID == doc.ID && d.Status == request.DocStored {
				return true
			}
		}
		return false
	})
	b.Await(t, "the request back to received", func() bool {
		got, _ := b.Get(r.ID)
		return got.Status == flows.StatusReceived
	})
	if n := requeue(b, "b"); n != 0 || c.count("m1") != 1 {
		t.Fatalf("after the fetch: queued %d, fetched %d times", n, c.count("m1"))
	}
}
