package store

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/outbox/outboxtest"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// Two Stores on one database of the test's FerretDB server stand for two instances on one MongoDB-
// compatible server (neither has the embedded engine's write turn).

// openTwin opens a second store on s's database.
func openTwin(t *testing.T, s *Store) *Store {
	t.Helper()
	twin, err := Open(context.Background(), Config{URI: engineURI, Database: s.Database(), Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { twin.Close(context.Background()) })
	return twin
}

// FerretDB's findAndModify reads, then writes: the two instances' $inc hand out the same values, and
// the claims keep each number to one caller.
func TestRequestNumbersDistinctAcrossInstances(t *testing.T) {
	a := openTest(t)
	b := openTwin(t, a)
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[int]int{}
	var wg sync.WaitGroup
	for i := range 40 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			n, err := s.NextRequestNumber(ctx, "20261204")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			seen[n]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) != 40 {
		t.Fatalf("%d distinct numbers for 40 requests: %v", len(seen), seen)
	}
}

// newDesk is a request service on s, as an instance opens it.
func newDesk(t *testing.T, s *Store, sealer *request.Sealer) *request.Service {
	t.Helper()
	svc := request.New(request.Config{Store: s, Holdings: s, Sealer: sealer, Location: time.UTC, Log: quiet()})
	if err := svc.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestRequestServicesOnTwoInstances(t *testing.T) {
	a := openTest(t)
	b := openTwin(t, a)
	sealer := testSealer(t)
	deskA, deskB := newDesk(t, a, sealer), newDesk(t, b, sealer)
	ctx := context.Background()
	// Submitted at once on both (the load balancer spread the customers): distinct references.
	var wg sync.WaitGroup
	for i := range 10 {
		desk := deskA
		if i%2 == 1 {
			desk = deskB
		}
		wg.Go(func() {
			sub := flows.RequestSubmission{Draft: "D", Kinds: flows.KindDisclosure, Requester: flows.RequesterSelf,
				DocsBy: flows.DocsPost, Delivery: flows.DeliveryPost, Name: "岡山 太郎", Lang: flows.Ja}
			st := bot.Step{EventID: fmt.Sprint("ev", i), UserID: fmt.Sprint("U", i),
				Effects: []flows.Effect{{Kind: flows.EffectRequest, Request: &sub}}}
			if err := desk.Apply(ctx, st); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, desk := range []*request.Service{deskA, deskB} {
		if err := desk.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		refs := map[string]bool{}
		for i := range 10 {
			for _, r := range desk.ForUser(fmt.Sprint("U", i)) {
				refs[r.ID] = true
			}
		}
		if len(refs) != 10 {
			t.Fatalf("%d distinct requests seen, want 10", len(refs))
		}
	}
	// Staff on b; a sees it at its Refresh (read back through the updatedAt query).
	ref := deskA.ForUser("U0")[0].ID
	staff := request.Actor{Kind: request.ActorStaff, ID: "privacy@enemane.example"}
	if _, err := deskB.Transition(ctx, ref, request.Transition{To: flows.StatusVerified, Actor: staff}); err != nil {
		t.Fatal(err)
	}
	if err := deskA.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := deskA.Get(ref); r.Status != flows.StatusVerified || r.Version != 2 {
		t.Fatalf("a after its Refresh: %s v%d", r.Status, r.Version)
	}
}

// The daily digest is queued by every instance at the same hour; it is stored once and sent once,
// by the instance that holds the outbox's lease, which hands it over when it stops.
func TestOutboxOnTwoInstances(t *testing.T) {
	a := openTest(t)
	b := openTwin(t, a)
	var mu sync.Mutex
	got := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.Header.Get(outbox.IdempotencyHeader)]++
		mu.Unlock()
	}))
	defer recv.Close()
	received := func(key string) int {
		mu.Lock()
		defer mu.Unlock()
		return got[key]
	}
	clk := outboxtest.NewClock(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
	const every = time.Second
	run := func(s *Store, holder string) (*outbox.Outbox, func()) {
		ob, err := OpenOutbox(context.Background(), s, outbox.Config{Clock: clk, Log: quiet(),
			Destinations: map[string]outbox.Destination{"staff_webhook": &outbox.Webhook{URL: recv.URL, Secret: "staff-secret"}}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); ob.RunShared(ctx, s, holder, every) }()
		var once sync.Once
		stop := func() { once.Do(func() { cancel(); <-done }) }
		t.Cleanup(stop)
		return ob, stop
	}
	// rounds waits until n instances sleep until their next period.
	rounds := func(n int) {
		waitFor(t, "the instances' rounds", func() bool {
			k := 0
			for _, at := range clk.Timers() {
				if at.Equal(clk.Now().Add(every)) {
					k++
				}
			}
			return k == n
		})
	}
	obA, stopA := run(a, "a")
	rounds(1)
	obB, _ := run(b, "b")
	rounds(2)
	digest := outbox.Message{Destination: "staff_webhook", Type: request.DigestType, Key: "digest-2026-12-04",
		Payload: []byte(`{"type":"requests.digest","day":"2026-12-04"}`)}
	var wg sync.WaitGroup
	for i := range 6 {
		ob := obA
		if i%2 == 1 {
			ob = obB
		}
		wg.Go(func() {
			if err := ob.Enqueue(context.Background(), digest); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	clk.Advance(every) // a's Sync finds it if b's insert won
	rounds(2)
	waitFor(t, "the digest sent", func() bool { return received("digest-2026-12-04") == 1 })
	waitFor(t, "the digest recorded", func() bool { return countDocs(t, a, colOutbox) == 0 })
	if n := countDocs(t, a, colOutboxDelivered); n != 1 {
		t.Fatalf("%d delivered documents for one digest", n)
	}
	clk.Advance(every) // b's Sync drops it
	rounds(2)
	// Queued again (a restart later that day): nothing new.
	if err := obB.Enqueue(context.Background(), digest); err != nil {
		t.Fatal(err)
	}
	if n := countDocs(t, a, colOutbox); n != 0 {
		t.Fatalf("the digest queued again after it was sent: %d pending", n)
	}
	// a stops (SIGTERM): b sends from its next period on, not a lease's length later.
	stopA()
	if err := obB.Enqueue(context.Background(), outbox.Message{Destination: "staff_webhook", Type: request.AlertType,
		Key: "request-R-20261204-0001", Payload: []byte(`{"type":"request.created"}`)}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(every)
	rounds(1)
	waitFor(t, "the alert sent by b", func() bool { return received("request-R-20261204-0001") == 1 })
	if received("digest-2026-12-04") != 1 {
		t.Fatalf("deliveries %v", got)
	}
}
