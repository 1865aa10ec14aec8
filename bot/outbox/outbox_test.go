package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/outbox/outboxtest"
)

const secret = "receiver-secret-0123456789"

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// noJitter makes backoffs exact, so tests can expect the timers' deadlines.
func noJitter(d time.Duration) time.Duration { return d }

// request is one POST the receiver got.
type request struct {
	header http.Header
	body   string
	sigOK  bool
}

// receiver is a webhook receiver that verifies signatures and answers what answer says.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []request
	answer func(n int, r *http.Request, w http.ResponseWriter) // n: 1-based request count
}

func newReceiver(t *testing.T, answer func(n int, r *http.Request, w http.ResponseWriter)) *receiver {
	t.Helper()
	rv := &receiver{answer: answer}
	rv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rv.mu.Lock()
		rv.got = append(rv.got, request{header: r.Header.Clone(), body: string(body),
			sigOK: outbox.Verify(secret, body, r.Header.Get(outbox.SignatureHeader))})
		n := len(rv.got)
		rv.mu.Unlock()
		if rv.answer != nil {
			rv.answer(n, r, w)
		}
	}))
	t.Cleanup(rv.Close)
	return rv
}

func (rv *receiver) requests() []request {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]request(nil), rv.got...)
}

func (rv *receiver) count() int { return len(rv.requests()) }

func (rv *receiver) webhook() *outbox.Webhook { return &outbox.Webhook{URL: rv.URL, Secret: secret} }

// status answers every request with code.
func status(code int) func(int, *http.Request, http.ResponseWriter) {
	return func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(code) }
}

// sequence answers the n-th request with codes[n-1], and the last code after that.
func sequence(codes ...int) func(int, *http.Request, http.ResponseWriter) {
	return func(n int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(codes[min(n, len(codes))-1]) }
}

// running is an outbox whose sender runs until stop (or the end of the test).
type running struct {
	*outbox.Outbox
	stop func() // cancels Run and waits for it to return
}

func start(t *testing.T, cfg outbox.Config) running {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = quiet()
	}
	if cfg.Policy.Jitter == nil {
		cfg.Policy.Jitter = noJitter
	}
	ob, err := outbox.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ob.Run(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return running{ob, stop}
}

// waitFor waits until cond holds (the goroutines under test make it so; nothing is timed).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitTimer waits until the sender sleeps on a timer due at `at` (and on no other).
func waitTimer(t *testing.T, clk *outboxtest.Clock, at time.Time) {
	t.Helper()
	waitFor(t, "a timer at "+at.Format(time.TimeOnly), func() bool {
		ts := clk.Timers()
		return len(ts) == 1 && ts[0].Equal(at)
	})
}

func msg(dest, key string) outbox.Message {
	return outbox.Message{Destination: dest, Type: "test.event", Key: key, Payload: []byte(`{"id":"` + key + `","n":1}`)}
}

func pendingOne(ob *outbox.Outbox, id string) (outbox.Delivery, bool) {
	for _, d := range ob.Pending("") {
		if d.ID == id {
			return d, true
		}
	}
	return outbox.Delivery{}, false
}

func TestWebhookIsSignedAndDelivered(t *testing.T) {
	rv := newReceiver(t, status(http.StatusNoContent))
	st := outboxtest.NewStore()
	clk := outboxtest.NewClock(t0)
	ob := start(t, outbox.Config{Store: st, Clock: clk, Destinations: map[string]outbox.Destination{"crm": rv.webhook()}})
	m := msg("crm", "ev1/0")
	m.CreatedAt = t0.Add(-time.Minute)
	if err := ob.Enqueue(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delivery", func() bool { return len(ob.Delivered("crm")) == 1 })
	req := rv.requests()[0]
	if !req.sigOK || !strings.HasPrefix(req.header.Get(outbox.SignatureHeader), "sha256=") {
		t.Fatalf("signature %q does not verify", req.header.Get(outbox.SignatureHeader))
	}
	if req.body != string(m.Payload) || req.header.Get("Content-Type") != "application/json" ||
		req.header.Get(outbox.DeliveryHeader) != "ev1/0" || req.header.Get(outbox.IdempotencyHeader) != "ev1/0" {
		t.Fatalf("request %v %q", req.header, req.body)
	}
	d := ob.Delivered("crm")[0]
	if d.ID != "crm/ev1/0" || d.State != outbox.Delivered || d.Attempts != 1 || d.LastStatus != 204 || !d.DoneAt.Equal(t0) ||
		!d.CreatedAt.Equal(m.CreatedAt) || d.Type != "test.event" {
		t.Fatalf("delivered %+v", d)
	}
	if stored, _ := st.Get("crm/ev1/0"); stored.State != outbox.Delivered {
		t.Fatalf("stored %+v", stored)
	}
	if p := ob.Pending(""); len(p) != 0 {
		t.Fatalf("still pending: %+v", p)
	}
}

func TestRetriesWithBackoffUntilAccepted(t *testing.T) {
	rv := newReceiver(t, sequence(503, 500, 200))
	st := outboxtest.NewStore()
	clk := outboxtest.NewClock(t0)
	ob := start(t, outbox.Config{Store: st, Clock: clk, Destinations: map[string]outbox.Destination{"crm": rv.webhook()},
		Policy: outbox.Policy{RetryBase: time.Second, RetryMax: time.Minute}})
	if err := ob.Enqueue(context.Background(), msg("crm", "k")); err != nil {
		t.Fatal(err)
	}
	waitTimer(t, clk, t0.Add(time.Second)) // 1 s after the first failure
	d, _ := pendingOne(ob.Outbox, "crm/k")
	if d.Attempts != 1 || d.LastStatus != 503 || !d.NextAttempt.Equal(t0.Add(time.Second)) || !strings.Contains(d.LastError, "503") {
		t.Fatalf("after the first attempt %+v", d)
	}
	if s, _ := st.Get("crm/k"); s.Attempts != 1 || s.LastStatus != 503 {
		t.Fatalf("the attempt is not stored: %+v", s)
	}
	clk.Advance(time.Second)
	waitTimer(t, clk, t0.Add(3*time.Second)) // then 2 s
	if d, _ := pendingOne(ob.Outbox, "crm/k"); d.Attempts != 2 || d.LastStatus != 500 {
		t.Fatalf("after the second attempt %+v", d)
	}
	clk.Advance(2 * time.Second)
	waitFor(t, "the delivery", func() bool { return len(ob.Delivered("crm")) == 1 })
	if d := ob.Delivered("crm")[0]; d.Attempts != 3 || d.LastStatus != 200 || d.LastError != "" {
		t.Fatalf("delivered %+v", d)
	}
	reqs := rv.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for _, r := range reqs {
		if r.header.Get(outbox.DeliveryHeader) != "k" || !r.sigOK || r.body != reqs[0].body {
			t.Fatalf("a retry differs: %v %q", r.header, r.body)
		}
	}
	if ts := clk.Timers(); len(ts) != 0 {
		t.Fatalf("timers left with nothing pending: %v", ts)
	}
}

func TestGivesUpAfterMaxAge(t *testing.T) {
	rv := newReceiver(t, status(http.StatusBadGateway))
	st := outboxtest.NewStore()
	clk := outboxtest.NewClock(t0)
	ob := start(t, outbox.Config{Store: st, Clock: clk, Destinations: map[string]outbox.Destination{"crm": rv.webhook()},
		Policy: outbox.Policy{RetryBase: time.Minute, RetryMax: 10 * time.Minute, MaxAge: time.Hour}})
	if err := ob.Enqueue(context.Background(), msg("crm", "k")); err != nil {
		t.Fatal(err)
	}
	waitTimer(t, clk, t0.Add(time.Minute))
	clk.Advance(time.Minute)
	waitTimer(t, clk, t0.Add(3*time.Minute))
	// An hour after it was queued, the next round gives it up without another attempt.
	clk.Advance(time.Hour)
	waitFor(t, "the delivery to fail", func() bool { return len(ob.Pending("")) == 0 })
	failed, err := ob.Failed(context.Background(), "crm")
	if err != nil || len(failed) != 1 {
		t.Fatalf("failed %+v %v", failed, err)
	}
	d := failed[0]
	if d.State != outbox.Failed || d.Attempts != 2 || d.LastStatus != 502 || !strings.Contains(d.LastError, "not delivered within 1h0m0s") ||
		!strings.Contains(d.LastError, "502") || !d.DoneAt.Equal(t0.Add(time.Hour+time.Minute)) {
		t.Fatalf("failed %+v", d)
	}
	if n := rv.count(); n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
	if ts := clk.Timers(); len(ts) != 0 {
		t.Fatalf("timers left: %v", ts)
	}
	if s, _ := st.Get("crm/k"); s.State != outbox.Failed {
		t.Fatalf("stored %+v", s)
	}
}

// TestGivingUpWaitsForAStoreThatIsDown: a failure the store cannot record keeps the delivery pending;
// the sender waits (it does not spin) and records it once the store is back.
func TestGivingUpWaitsForAStoreThatIsDown(t *testing.T) {
	rv := newReceiver(t, status(http.StatusServiceUnavailable))
	st := outboxtest.NewStore()
	clk := outboxtest.NewClock(t0)
	ob := start(t, outbox.Config{Store: st, Clock: clk, Destinations: map[string]outbox.Destination{"crm": rv.webhook()},
		Policy: outbox.Policy{RetryBase: time.Second, MaxAge: time.Hour}})
	if err := ob.Enqueue(context.Background(), msg("crm", "k")); err != nil {
		t.Fatal(err)
	}
	waitTimer(t, clk, t0.Add(time.Second))
	st.Fail(errors.New("store down"))
	clk.Advance(time.Hour)
	waitTimer(t, clk, t0.Add(time.Hour+time.Second)) // asleep until the store may be back
	if p := ob.Pending(""); len(p) != 1 || rv.count() != 1 {
		t.Fatalf("pending %+v after %d requests", p, rv.count())
	}
	st.Fail(nil)
	clk.Advance(time.Second)
	waitFor(t, "the give-up recorded", func() bool { s, _ := st.Get("crm/k"); return s.State == outbox.Failed })
	if p := ob.Pending(""); len(p) != 0 || rv.count() != 1 {
		t.Fatalf("pending %+v after %d requests", p, rv.count())
	}
}

func TestClientErrorsFailAtOnceExcept408And429(t *testing.T) {
	rv := newReceiver(t, func(_ int, r *http.Request, w http.ResponseWriter) {
		code, _ := strconv.Atoi(r.URL.Query().Get("status"))
		w.WriteHeader(code)
	})
	clk := outboxtest.NewClock(t0)
	codes := []int{400, 401, 404, 410, 422, 408, 429, 500, 503}
	dests := map[string]outbox.Destination{}
	for _, c := range codes {
		dests[strconv.Itoa(c)] = &outbox.Webhook{URL: rv.URL + "/?status=" + strconv.Itoa(c), Secret: secret}
	}
	ob := start(t, outbox.Config{Store: outboxtest.NewStore(), Clock: clk, Destinations: dests})
	for _, c := range codes {
		if err := ob.Enqueue(context.Background(), msg(strconv.Itoa(c), "k")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every destination tried once", func() bool { return rv.count() == len(codes) })
	waitFor(t, "the outcomes", func() bool {
		f, _ := ob.Failed(context.Background(), "")
		return len(f) == 5 && len(clk.Timers()) == 4 // four lanes wait to retry
	})
	for _, c := range codes {
		name := strconv.Itoa(c)
		_, pending := pendingOne(ob.Outbox, name+"/k")
		if want := c == 408 || c == 429 || c >= 500; pending != want {
			t.Errorf("%d: pending %v, want %v", c, pending, want)
		}
	}
	f, _ := ob.Failed(context.Background(), "404")
	if len(f) != 1 || f[0].Attempts != 1 || f[0].LastStatus != 404 {
		t.Fatalf("404: %+v", f)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	rv := newReceiver(t, func(n int, _ *http.Request, w http.ResponseWriter) {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.Header().Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusOK)
		}
	})
	clk := outboxtest.NewClock(t0)
	ob := start(t, outbox.Config{Store: outboxtest.NewStore(), Clock: clk, Destinations: map[string]outbox.Destination{"crm": rv.webhook()},
		Policy: outbox.Policy{RetryBase: time.Second, RetryMax: time.Minute}})
	if err := ob.Enqueue(context.Background(), msg("crm", "k")); err != nil {
		t.Fatal(err)
	}
	// Retry-After: 120 outweighs the 1 s backoff.
	waitTimer(t, clk, t0.Add(120*time.Second))
	if d, _ := pendingOne(ob.Outbox, "crm/k"); !d.NextAttempt.Equal(t0.Add(120*time.Second)) || d.LastStatus != 429 {
		t.Fatalf("after 429 %+v", d)
	}
	// A message queued meanwhile waits too: the destination asked the whole lane to wait.
	timers := clk.Created()
	if err := ob.Enqueue(context.Background(), msg("crm", "k2")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the sender to go back to sleep", func() bool { ts := clk.Timers(); return clk.Created() > timers && len(ts) == 1 })
	clk.Advance(119 * time.Second)
	waitTimer(t, clk, t0.Add(120*time.Second))
	if n := rv.count(); n != 1 {
		t.Fatalf("%d requests before Retry-After passed", n)
	}
	clk.Advance(time.Second)
	// Second answer: 503 with an HTTP date an hour ahead (the wall clock's hour; a few seconds of slack).
	waitFor(t, "the 503", func() bool { return rv.count() == 2 && len(clk.Timers()) == 1 })
	wait := clk.Timers()[0].Sub(clk.Now())
	if wait < 59*time.Minute || wait > time.Hour {
		t.Fatalf("waits %s after Retry-After of an hour", wait)
	}
	clk.Advance(time.Hour)
	waitFor(t, "both delivered", func() bool { return len(ob.Delivered("crm")) == 2 })
}

func TestRetryPutsAFailedDeliveryBack(t *testing.T) {
	rv := newReceiver(t, sequence(400, 200))
	st := outboxtest.NewStore()
	clk := outboxtest.NewClock(t0)
	ob := start(t, outbox.Config{Store: st, Clock: clk, Destinations: map[string]outbox.Destination{"crm": rv.webhook()}})
	ctx := context.Background()
	if err := ob.Enqueue(ctx, msg("crm", "k")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refusal", func() bool { f, _ := ob.Failed(ctx, ""); return len(f) == 1 })
	clk.Advance(time.Hour)
	d, err := ob.Retry(ctx, "crm/k")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != outbox.Pending || d.Attempts != 0 || !d.QueuedAt.Equal(t0.Add(time.Hour)) || d.LastStatus != 400 {
		t.Fatalf("retried %+v", d)
	}
	waitFor(t, "the delivery", func() bool { return len(ob.Delivered("crm")) == 1 })
	if d := ob.Delivered("crm")[0]; d.Attempts != 1 || d.LastStatus != 200 {
		t.Fatalf("delivered %+v", d)
	}
	if f, _ := ob.Failed(ctx, ""); len(f) != 0 {
		t.Fatalf("still failed: %+v", f)
	}
	if _, err := ob.Retry(ctx, "crm/k"); !errors.Is(err, outbox.ErrNotFailed) {
		t.Fatalf("retry of a delivered one: %v", err)
	}
	if _, err := ob.Retry(ctx, "crm/nope"); !errors.Is(err, outbox.ErrNotFailed) {
		t.Fatalf("retry of an unknown one: %v", err)
	}
	if n := rv.count(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

func TestEnqueueIsIdempotentByKey(t *testing.T) {
	release := make(chan struct{})
	rv := newReceiver(t, func(n int, r *http.Request, w http.ResponseWriter) {
		if r.URL.Path == "/refuse" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		<-release // hold the first delivery until every repeat is queued
		w.WriteHeader(http.StatusOK)
	})
	st := outboxtest.NewStore()
	ob := start(t, outbox.Config{Store: st, Clock: outboxtest.NewClock(t0), Destinations: map[string]outbox.Destination{
		"crm": rv.webhook(), "other": rv.webhook(), "refuse": &outbox.Webhook{URL: rv.URL + "/refuse", Secret: secret}}})
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := ob.Enqueue(ctx, msg("crm", "esc1")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := ob.Enqueue(ctx, msg("other", "esc1")); err != nil { // the same key elsewhere is its own
		t.Fatal(err)
	}
	close(release)
	waitFor(t, "two deliveries", func() bool { return len(ob.Delivered("")) == 2 })
	// Queued again once delivered (an effect applied again after a crash): nothing more is sent.
	if err := ob.Enqueue(ctx, msg("crm", "esc1")); err != nil {
		t.Fatal(err)
	}
	// Nor after it failed.
	if err := ob.Enqueue(ctx, msg("refuse", "x")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refusal", func() bool { f, _ := ob.Failed(ctx, "refuse"); return len(f) == 1 })
	if err := ob.Enqueue(ctx, msg("refuse", "x")); err != nil {
		t.Fatal(err)
	}
	if p := ob.Pending(""); len(p) != 0 {
		t.Fatalf("queued again: %+v", p)
	}
	if adds, _, _ := st.Counts(); adds != 3 {
		t.Fatalf("%d deliveries stored, want 3", adds)
	}
	if n := rv.count(); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
	if err := ob.Enqueue(ctx, msg("nowhere", "k")); !errors.Is(err, outbox.ErrUnknownDestination) {
		t.Fatalf("unknown destination: %v", err)
	}
	if err := ob.Enqueue(ctx, outbox.Message{Destination: "crm", Type: "t", Key: "k", Payload: []byte("{")}); !errors.Is(err, outbox.ErrInvalid) {
		t.Fatalf("bad payload: %v", err)
	}
}

func TestRestartResumesPending(t *testing.T) {
	var mu sync.Mutex
	up := false
	rv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		mu.Lock()
		defer mu.Unlock()
		if !up {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	st := outboxtest.NewStore()
	clk := outboxtest.NewClock(t0)
	cfg := outbox.Config{Store: st, Clock: clk, Destinations: map[string]outbox.Destination{"crm": rv.webhook()},
		Policy: outbox.Policy{RetryBase: time.Second, RetryMax: time.Minute}}
	first := start(t, cfg)
	for i := range 3 {
		if err := first.Enqueue(context.Background(), msg("crm", fmt.Sprint("k", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a failed attempt", func() bool { return rv.count() >= 1 && len(clk.Timers()) == 1 })
	first.stop()
	// What the first process left: three pending, the first with its failed attempt.
	left, _ := st.Pending(context.Background())
	k0, _ := st.Get("crm/k0")
	if len(left) != 3 || k0.Attempts != 1 || k0.LastStatus != 503 || !k0.NextAttempt.Equal(t0.Add(time.Second)) {
		t.Fatalf("stored after the first run: %d pending, k0 %+v", len(left), k0)
	}
	mu.Lock()
	up = true
	mu.Unlock()

	second := start(t, cfg) // the process restarted on the same store
	// k1 and k2 were never attempted: at once. k0 waits for its stored next attempt.
	waitFor(t, "k1 and k2", func() bool { return len(second.Delivered("crm")) == 2 })
	if p := second.Pending("crm"); len(p) != 1 || p[0].Key != "k0" || p[0].Attempts != 1 {
		t.Fatalf("pending after the restart %+v", p)
	}
	waitTimer(t, clk, t0.Add(time.Second))
	clk.Advance(time.Second)
	waitFor(t, "all delivered", func() bool { return len(second.Delivered("crm")) == 3 })
	seen := map[string]int{}
	for _, r := range rv.requests() {
		seen[r.header.Get(outbox.DeliveryHeader)]++
	}
	if len(seen) != 3 {
		t.Fatalf("delivered keys %v", seen)
	}
}

func TestRunStopsWhenContextEndsWithoutCountingTheInterruptedAttempt(t *testing.T) {
	inFlight := make(chan struct{}, 1)
	rv := newReceiver(t, func(_ int, r *http.Request, w http.ResponseWriter) {
		inFlight <- struct{}{}
		<-r.Context().Done() // never answers
	})
	st := outboxtest.NewStore()
	ob := start(t, outbox.Config{Store: st, Clock: outboxtest.NewClock(t0), Destinations: map[string]outbox.Destination{"crm": rv.webhook()}})
	if err := ob.Enqueue(context.Background(), msg("crm", "k")); err != nil {
		t.Fatal(err)
	}
	<-inFlight
	ob.stop() // returns once Run has
	d, ok := pendingOne(ob.Outbox, "crm/k")
	if !ok || d.Attempts != 0 || d.LastError != "" {
		t.Fatalf("after the interrupted attempt %+v", d)
	}
	if s, _ := st.Get("crm/k"); s.State != outbox.Pending || s.Attempts != 0 {
		t.Fatalf("stored %+v", s)
	}
}

func TestADestinationThatHangsDoesNotHoldUpAnother(t *testing.T) {
	release := make(chan struct{})
	slow := newReceiver(t, func(int, *http.Request, http.ResponseWriter) { <-release })
	t.Cleanup(func() { close(release) }) // runs before slow.Close (cleanups run last-in first-out)
	fast := newReceiver(t, status(http.StatusOK))
	ob := start(t, outbox.Config{Store: outboxtest.NewStore(), Clock: outboxtest.NewClock(t0),
		Destinations: map[string]outbox.Destination{"slow": slow.webhook(), "fast": fast.webhook()}})
	ctx := context.Background()
	if err := ob.Enqueue(ctx, msg("slow", "a")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the slow request", func() bool { return slow.count() == 1 })
	for _, k := range []string{"b", "c"} {
		if err := ob.Enqueue(ctx, msg("fast", k)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the fast deliveries", func() bool { return len(ob.Delivered("fast")) == 2 })
	if p := ob.Pending(""); len(p) != 1 || p[0].ID != "slow/a" {
		t.Fatalf("pending %+v", p)
	}
}

func TestEnqueueFailsWhileTheStoreIsDown(t *testing.T) {
	rv := newReceiver(t, status(http.StatusOK))
	st := outboxtest.NewStore()
	ob := start(t, outbox.Config{Store: st, Clock: outboxtest.NewClock(t0), Destinations: map[string]outbox.Destination{"crm": rv.webhook()}})
	st.Fail(errors.New("store down"))
	if err := ob.Enqueue(context.Background(), msg("crm", "k")); err == nil || !strings.Contains(err.Error(), "store down") {
		t.Fatalf("enqueue with the store down: %v", err)
	}
	if p := ob.Pending(""); len(p) != 0 {
		t.Fatalf("pending though not stored: %+v", p)
	}
	st.Fail(nil)
	if err := ob.Enqueue(context.Background(), msg("crm", "k")); err != nil { // the caller's retry
		t.Fatal(err)
	}
	waitFor(t, "the delivery", func() bool { return len(ob.Delivered("crm")) == 1 })
}

func TestPendingOfAnUnconfiguredDestinationFailsAtOpen(t *testing.T) {
	st := outboxtest.NewStore()
	ctx := context.Background()
	old := outbox.Delivery{Message: msg("gone", "k"), ID: outbox.ID("gone", "k"), State: outbox.Pending, QueuedAt: t0, NextAttempt: t0}
	if _, err := st.Add(ctx, old); err != nil {
		t.Fatal(err)
	}
	ob := start(t, outbox.Config{Store: st, Clock: outboxtest.NewClock(t0), Destinations: map[string]outbox.Destination{}})
	f, err := ob.Failed(ctx, "gone")
	if err != nil || len(f) != 1 || !strings.Contains(f[0].LastError, "not configured") {
		t.Fatalf("failed %+v %v", f, err)
	}
	if _, err := ob.Retry(ctx, "gone/k"); !errors.Is(err, outbox.ErrUnknownDestination) {
		t.Fatalf("retry: %v", err)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "0": 0, "-5": 0, "abc": 0, "30": 30 * time.Second,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		if got := outbox.RetryAfter(v, now); got != want {
			t.Errorf("Retry-After %q = %s, want %s", v, got, want)
		}
	}
}
