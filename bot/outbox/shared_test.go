package outbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/outbox/outboxtest"
)

// Two Outboxes on one store stand for two instances of the bot on one database. Their destinations
// are separate objects (each instance has its own HTTP client) that report to one receiver.

const every = time.Second

// receipts is the receiver behind every instance's destination: what it accepted, by delivery.
type receipts struct {
	mu       sync.Mutex
	accepted map[string]int
	attempts int
}

func (r *receipts) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.accepted[id]
}

func (r *receipts) total() (accepted, attempts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.accepted {
		accepted += n
	}
	return accepted, r.attempts
}

// dest is one instance's destination; answer decides each attempt (nil: accept).
type dest struct {
	r      *receipts
	answer func(ctx context.Context, d outbox.Delivery) outbox.Result
}

func (x *dest) Deliver(ctx context.Context, d outbox.Delivery) outbox.Result {
	x.r.mu.Lock()
	x.r.attempts++
	x.r.mu.Unlock()
	res := outbox.Result{Status: 200}
	if x.answer != nil {
		res = x.answer(ctx, d)
	}
	if res.Err == nil {
		x.r.mu.Lock()
		if x.r.accepted == nil {
			x.r.accepted = map[string]int{}
		}
		x.r.accepted[d.ID]++
		x.r.mu.Unlock()
	}
	return res
}

// instance is an outbox running RunShared until stop or kill (or the end of the test).
type instance struct {
	*outbox.Outbox
	stop func() // SIGTERM: RunShared returns, releasing the lease
	kill func() // the process dies: it stops at once, and its lease is never released
}

// mortal is the lease as one instance sees it: once dead, its release never reaches the store.
type mortal struct {
	outbox.Lease
	mu   sync.Mutex
	dead bool
}

func (m *mortal) ReleaseLease(ctx context.Context, name, holder string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return nil
	}
	return m.Lease.ReleaseLease(ctx, name, holder)
}

func startShared(t *testing.T, st outbox.Store, clk *outboxtest.Clock, lease outbox.Lease, holder string, d outbox.Destination) instance {
	t.Helper()
	ob, err := outbox.Open(context.Background(), outbox.Config{Store: st, Clock: clk, Log: quiet(),
		Destinations: map[string]outbox.Destination{"crm": d}, Policy: outbox.Policy{Jitter: noJitter}})
	if err != nil {
		t.Fatal(err)
	}
	m := &mortal{Lease: lease}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ob.RunShared(ctx, m, holder, every) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	kill := func() {
		m.mu.Lock()
		m.dead = true
		m.mu.Unlock()
		stop()
	}
	t.Cleanup(stop)
	return instance{ob, stop, kill}
}

// rounds waits until n RunShared loops have done their round and sleep until the next period.
func rounds(t *testing.T, clk *outboxtest.Clock, n int) {
	t.Helper()
	waitFor(t, "the instances' rounds", func() bool {
		next, k := clk.Now().Add(every), 0
		for _, at := range clk.Timers() {
			if at.Equal(next) {
				k++
			}
		}
		return k == n
	})
}

// tick moves the clock one period on and waits for the n loops' rounds.
func tick(t *testing.T, clk *outboxtest.Clock, n int) {
	t.Helper()
	clk.Advance(every)
	rounds(t, clk, n)
}

func holder(lease *outboxtest.Lease, clk *outboxtest.Clock) string {
	h, _ := lease.Holder(clk.Now())
	return h
}

func TestSharedOneInstanceSendsEachMessageOnce(t *testing.T) {
	st, clk, lease, rv := outboxtest.NewStore(), outboxtest.NewClock(t0), &outboxtest.Lease{}, &receipts{}
	a := startShared(t, st, clk, lease, "a", &dest{r: rv})
	rounds(t, clk, 1)
	b := startShared(t, st, clk, lease, "b", &dest{r: rv})
	rounds(t, clk, 2)
	if h := holder(lease, clk); h != "a" {
		t.Fatalf("lease holder %q, want a (the first)", h)
	}
	ctx := context.Background()
	// Queued on the instance that does not send: stored, and counted there at once.
	if err := b.Enqueue(ctx, msg("crm", "k1")); err != nil {
		t.Fatal(err)
	}
	if c := b.Counts()["crm"]; c.Pending != 1 {
		t.Fatalf("counts on b %+v", c)
	}
	tick(t, clk, 2) // a's Sync finds it; a sends it
	waitFor(t, "k1 delivered", func() bool { return rv.count("crm/k1") == 1 })
	// The same message queued on both at once, and one queued on the sender itself.
	for _, ob := range []instance{a, b} {
		if err := ob.Enqueue(ctx, msg("crm", "k2")); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Enqueue(ctx, msg("crm", "k3")); err != nil {
		t.Fatal(err)
	}
	tick(t, clk, 2)
	waitFor(t, "k2 and k3 delivered", func() bool { return rv.count("crm/k2") == 1 && rv.count("crm/k3") == 1 })
	for range 3 {
		tick(t, clk, 2)
	}
	// b's Sync dropped what a delivered; nothing went twice, and b never sent.
	for _, ob := range []instance{a, b} {
		if p := ob.Pending(""); len(p) != 0 {
			t.Fatalf("still pending: %+v", p)
		}
	}
	if acc, att := rv.total(); acc != 3 || att != 3 {
		t.Fatalf("accepted %d in %d attempts, want 3 in 3", acc, att)
	}
	if c := b.Counts()["crm"]; c.Delivered != 0 || c.Pending != 0 {
		t.Fatalf("b sent: %+v", c)
	}
	if d, _ := st.Get("crm/k1"); d.State != outbox.Delivered {
		t.Fatalf("stored %+v", d)
	}
}

func TestSharedSenderDiesAndAnotherTakesOver(t *testing.T) {
	st, clk, lease, rv := outboxtest.NewStore(), outboxtest.NewClock(t0), &outboxtest.Lease{}, &receipts{}
	inFlight := make(chan struct{}, 1)
	hang := &dest{r: rv, answer: func(ctx context.Context, _ outbox.Delivery) outbox.Result {
		inFlight <- struct{}{}
		<-ctx.Done() // the receiver never answers this instance
		return outbox.Result{Err: ctx.Err()}
	}}
	a := startShared(t, st, clk, lease, "a", hang)
	rounds(t, clk, 1)
	b := startShared(t, st, clk, lease, "b", &dest{r: rv})
	rounds(t, clk, 2)
	if err := a.Enqueue(context.Background(), msg("crm", "k")); err != nil {
		t.Fatal(err)
	}
	<-inFlight
	_, aUntil := lease.Holder(clk.Now())
	a.kill() // mid-attempt: the attempt is lost with the process, the lease stays a's until it expires
	if d, _ := st.Get("crm/k"); d.State != outbox.Pending || d.Attempts != 0 {
		t.Fatalf("left by a %+v", d)
	}
	if c := b.Counts()["crm"]; c.Pending != 0 {
		t.Fatalf("b knew of k before its Sync: %+v", c)
	}
	tick(t, clk, 1)
	if c := b.Counts()["crm"]; c.Pending != 1 {
		t.Fatalf("b's Sync: %+v", c)
	}
	for holder(lease, clk) != "b" {
		if clk.Now().After(aUntil.Add(every)) {
			t.Fatalf("b has not taken over a period after a's lease ended (%s)", aUntil.Format(time.TimeOnly))
		}
		tick(t, clk, 1)
	}
	if !clk.Now().After(aUntil) {
		t.Fatalf("b took the lease at %s, before a's ended at %s", clk.Now().Format(time.TimeOnly), aUntil.Format(time.TimeOnly))
	}
	waitFor(t, "k delivered by b", func() bool { return rv.count("crm/k") == 1 })
	waitFor(t, "k recorded", func() bool { d, _ := st.Get("crm/k"); return d.State == outbox.Delivered })
	if acc, att := rv.total(); acc != 1 || att != 2 {
		t.Fatalf("accepted %d in %d attempts, want 1 in 2 (a's lost one, b's)", acc, att)
	}
}

func TestSharedReleaseAtShutdownHandsOverAtOnce(t *testing.T) {
	st, clk, lease, rv := outboxtest.NewStore(), outboxtest.NewClock(t0), &outboxtest.Lease{}, &receipts{}
	a := startShared(t, st, clk, lease, "a", &dest{r: rv})
	rounds(t, clk, 1)
	b := startShared(t, st, clk, lease, "b", &dest{r: rv})
	rounds(t, clk, 2)
	_, aUntil := lease.Holder(clk.Now())
	a.stop() // SIGTERM
	if h := holder(lease, clk); h != "" {
		t.Fatalf("lease held by %q after a stopped, want released", h)
	}
	if err := b.Enqueue(context.Background(), msg("crm", "k")); err != nil {
		t.Fatal(err)
	}
	tick(t, clk, 1)
	if h := holder(lease, clk); h != "b" || !clk.Now().Before(aUntil) {
		t.Fatalf("at %s holder %q; want b, before a's lease would have ended (%s)", clk.Now().Format(time.TimeOnly), h,
			aUntil.Format(time.TimeOnly))
	}
	waitFor(t, "k delivered by b", func() bool { return rv.count("crm/k") == 1 })
}

func TestSharedRetryOnAnInstanceThatDoesNotSend(t *testing.T) {
	st, clk, lease, rv := outboxtest.NewStore(), outboxtest.NewClock(t0), &outboxtest.Lease{}, &receipts{}
	var mu sync.Mutex
	refuse := true
	a := startShared(t, st, clk, lease, "a", &dest{r: rv, answer: func(context.Context, outbox.Delivery) outbox.Result {
		mu.Lock()
		defer mu.Unlock()
		if refuse {
			return outbox.Result{Status: 400, Err: errors.New("400"), Permanent: true}
		}
		return outbox.Result{Status: 200}
	}})
	rounds(t, clk, 1)
	b := startShared(t, st, clk, lease, "b", &dest{r: rv})
	rounds(t, clk, 2)
	ctx := context.Background()
	if err := a.Enqueue(ctx, msg("crm", "k")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "k failed", func() bool { d, _ := st.Get("crm/k"); return d.State == outbox.Failed })
	mu.Lock()
	refuse = false
	mu.Unlock()
	if _, err := b.Retry(ctx, "crm/k"); err != nil { // the admin's page is served by b
		t.Fatal(err)
	}
	tick(t, clk, 2)
	waitFor(t, "k delivered by a", func() bool { return rv.count("crm/k") == 1 })
	tick(t, clk, 2)
	if p := b.Pending(""); len(p) != 0 {
		t.Fatalf("pending on b: %+v", p)
	}
	if c := a.Counts()["crm"]; c.Delivered != 1 || c.Failed != 1 {
		t.Fatalf("a's counts %+v", c)
	}
}

// A delivery sent whose finish the store did not take stays pending in the store; Sync finishes it
// again instead of taking it back into a lane (which would send it again).
func TestSyncFinishesAgainWhatTheStoreMissed(t *testing.T) {
	st, clk, rv := outboxtest.NewStore(), outboxtest.NewClock(t0), &receipts{}
	down := errors.New("store down")
	ob := start(t, outbox.Config{Store: st, Clock: clk, Destinations: map[string]outbox.Destination{"crm": &dest{r: rv,
		answer: func(context.Context, outbox.Delivery) outbox.Result {
			st.Fail(down) // the store goes down during the attempt: its outcome is not recorded
			return outbox.Result{Status: 200}
		}}}})
	ctx := context.Background()
	if err := ob.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ob.Enqueue(ctx, msg("crm", "k")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "k sent", func() bool { return len(ob.Delivered("crm")) == 1 })
	st.Fail(nil)
	if d, _ := st.Get("crm/k"); d.State != outbox.Pending {
		t.Fatalf("stored %+v, want still pending", d)
	}
	if err := ob.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := st.Get("crm/k"); d.State != outbox.Delivered {
		t.Fatalf("stored %+v after Sync, want delivered", d)
	}
	if p := ob.Pending(""); len(p) != 0 || rv.count("crm/k") != 1 {
		t.Fatalf("pending %+v, accepted %d", p, rv.count("crm/k"))
	}
}
