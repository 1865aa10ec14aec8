package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
)

// clock is a settable clock shared by the instances of a test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func b0(s *Store, c *clock) *bot.Leases { return instance(s, "b0", c) }

func instance(s *Store, name string, c *clock) *bot.Leases {
	return bot.NewLeases(bot.LeaseConfig{Store: s, Holder: name, TTL: 8 * time.Second, Skew: time.Second, Now: c.Now, Log: quiet()})
}

// TestCustomerLeaseIsHeldByOneInstance: taken, refused to another, released and taken by it; renewed;
// taken over after expiry, which the former holder learns at its next renewal.
func TestCustomerLeaseIsHeldByOneInstance(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	c := &clock{now: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	a, b := instance(s, "a", c), instance(s, "b", c)

	if take, err := a.Acquire(ctx, "U1"); err != nil || take != bot.TakeNew {
		t.Fatalf("a takes U1: %v %v", take, err)
	}
	if take, err := a.Acquire(ctx, "U1"); err != nil || take != bot.TakeHeld {
		t.Fatalf("a again: %v %v, want held already", take, err)
	}
	if take, err := b.Acquire(ctx, "U1"); err != nil || take != bot.TakeRefused {
		t.Fatalf("b takes a's customer: %v %v", take, err)
	}
	if nudged, err := a.Nudged(ctx, "U1"); err != nil || !nudged {
		t.Fatalf("a not nudged by b's refusal: %v %v", nudged, err)
	}
	if nudged, _ := a.Nudged(ctx, "U1"); nudged {
		t.Fatal("a nudge is taken once")
	}
	// Renewed by a, the lease outlives its first TTL.
	c.Add(5 * time.Second)
	if err := a.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	c.Add(5 * time.Second)
	if !a.Valid("U1") {
		t.Fatal("a's renewed lease is not valid 10 s after it was taken")
	}
	if take, _ := b.Acquire(ctx, "U1"); take.Held() {
		t.Fatal("b took a renewed lease")
	}
	// Released (as at shutdown): b takes it at once.
	if err := a.Release(ctx, []string{"U1"}); err != nil {
		t.Fatal(err)
	}
	if a.Valid("U1") {
		t.Fatal("a still counts a released lease")
	}
	if take, err := b.Acquire(ctx, "U1"); err != nil || take != bot.TakeClean {
		t.Fatalf("b after the release: %v %v", take, err)
	}
	// b dies (no renewals): a may take U1 only once the lease is past its TTL plus the skew.
	c.Add(8 * time.Second)
	if take, _ := a.Acquire(ctx, "U1"); take.Held() {
		t.Fatal("a took b's lease before TTL + skew")
	}
	if b.Valid("U1") {
		t.Fatal("b counts its lease valid past TTL - skew")
	}
	c.Add(1500 * time.Millisecond)
	if take, err := a.Acquire(ctx, "U1"); err != nil || take != bot.TakeOver {
		t.Fatalf("a after b's expiry: %v %v, want a takeover", take, err)
	}
	// b comes back: its renewal finds its generation gone.
	if err := b.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Valid("U1") || len(b.Held()) != 0 {
		t.Fatal("b still holds a customer taken over")
	}
	if l, ok, err := s.LatestLease(ctx, "U1"); err != nil || !ok || l.Holder != "a" || l.Gen != 3 {
		t.Fatalf("newest generation: %+v %v %v", l, ok, err)
	}
}

// TestNudgeWrittenWhileTheHolderTakesItsNudgesSurvives: the holder's nudge loop reads its nudges,
// marks their customers (its worker may read the inbox for that mark at once) and deletes what it
// read. A nudge written in between is for an event stored after that read of the inbox: it must
// outlive the delete, or the event waits behind the customer's later events.
func TestNudgeWrittenWhileTheHolderTakesItsNudgesSurvives(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	c := &clock{now: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	a, b := instance(s, "a", c), instance(s, "b", c)
	if take, err := a.Acquire(ctx, "U1"); err != nil || take != bot.TakeNew {
		t.Fatalf("a takes U1: %v %v", take, err)
	}
	if take, err := b.Acquire(ctx, "U1"); err != nil || take != bot.TakeRefused { // event 1 at b: a nudged
		t.Fatalf("b: %v %v", take, err)
	}
	var marked []string
	err := a.TakeNudges(ctx, func(users []string) {
		marked = users
		// a's worker reads the inbox for this mark; then event 2 is stored at b, which nudges a.
		if take, err := b.Acquire(ctx, "U1"); err != nil || take != bot.TakeRefused {
			t.Errorf("b again: %v %v", take, err)
		}
	})
	if err != nil || len(marked) != 1 || marked[0] != "U1" {
		t.Fatalf("a's nudges: %v %v", marked, err)
	}
	if nudged, err := a.Nudged(ctx, "U1"); err != nil || !nudged {
		t.Fatalf("the nudge for event 2 went with the one a had read: %v %v", nudged, err)
	}
	if nudged, _ := a.Nudged(ctx, "U1"); nudged {
		t.Fatal("a nudge is taken once")
	}
	// Several nudges of one generation are taken together.
	for range 3 {
		if take, _ := b.Acquire(ctx, "U1"); take != bot.TakeRefused {
			t.Fatal("b took a's customer")
		}
	}
	if nudged, err := a.Nudged(ctx, "U1"); err != nil || !nudged {
		t.Fatalf("three nudges, none taken: %v", err)
	}
	if nudged, _ := a.Nudged(ctx, "U1"); nudged {
		t.Fatal("nudges of one generation left after it was taken")
	}
}

// TestCustomerLeaseRaceHasOneWinner: three instances want the same customer at once (each with one
// worker per customer, as the processor has), for many customers: one of them takes each.
func TestCustomerLeaseRaceHasOneWinner(t *testing.T) {
	s := openTest(t)
	c := &clock{now: time.Now()}
	insts := []*bot.Leases{instance(s, "a", c), instance(s, "b", c), instance(s, "c", c)}
	for k := range 20 {
		user := fmt.Sprintf("Urace%d", k)
		var won atomic.Int32
		var wg sync.WaitGroup
		for _, in := range insts {
			wg.Go(func() {
				take, err := in.Acquire(context.Background(), user)
				if err != nil {
					t.Error(err)
				}
				if take.Fresh() {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%s: %d instances took the customer, want 1", user, won.Load())
		}
	}
}

// TestSharedInboxOrdersAndFindsWaitingCustomers: the holder reads a customer's events in timestamp
// order whatever the order of their arrival; the scan finds customers with events older than its
// horizon; a handled event leaves.
func TestSharedInboxOrdersAndFindsWaitingCustomers(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if !s.SharedInbox() {
		t.Fatal("a MongoDB store's inbox is the shared one")
	}
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	e1, e2, e3 := ev("E1", "U1"), ev("E2", "U1"), ev("E3", "U2")
	e1.Timestamp, e2.Timestamp, e3.Timestamp = t0, t0.Add(time.Second), t0
	e1.ReceivedAt, e2.ReceivedAt, e3.ReceivedAt = t0.Add(2*time.Second), t0.Add(time.Second), t0.Add(5*time.Second)
	if _, err := s.AddToInbox(ctx, []bot.Event{e2}); err != nil { // the later event stored first
		t.Fatal(err)
	}
	if got, err := s.AddToInbox(ctx, []bot.Event{e1, e2, e3}); err != nil || len(got) != 3 {
		t.Fatalf("add with a duplicate: %d %v, want all three handed on", len(got), err)
	}
	evs, err := s.PendingFor(ctx, "U1")
	if err != nil || len(evs) != 2 || evs[0].ID != "E1" || evs[1].ID != "E2" {
		t.Fatalf("U1's events: %v %v, want E1, E2", evs, err)
	}
	users, err := s.Waiting(ctx, nil, t0.Add(3*time.Second))
	if err != nil || len(users) != 1 || users[0] != "U1" {
		t.Fatalf("waiting before +3s: %v %v, want [U1]", users, err)
	}
	if users, _ := s.Waiting(ctx, []string{"U2"}, t0.Add(time.Hour)); len(users) != 1 || users[0] != "U2" {
		t.Fatalf("waiting among [U2]: %v", users)
	}
	if err := s.RemoveFromInbox(ctx, []string{"E1"}); err != nil {
		t.Fatal(err)
	}
	if evs, _ := s.PendingFor(ctx, "U1"); len(evs) != 1 || evs[0].ID != "E2" {
		t.Fatalf("after E1 was handled: %v", evs)
	}
}

// TestOlderInboxBucketsMoveToTheSharedInbox: an older version's buckets on MongoDB are moved at start;
// the events their markers list as handled are not.
func TestOlderInboxBucketsMoveToTheSharedInbox(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	pending, handled := ev("OLD1", "U1"), ev("OLD2", "U1")
	b := bucketName(bucketOf(pending.ReceivedAt))
	if _, err := s.db.Collection(b).InsertMany(ctx, []any{pending, handled,
		inboxDoc{Event: bot.Event{ID: "handled:1", Kind: handledMarkerKind}, Handled: []string{"OLD2"}}}); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, Config{URI: engineURI, Database: s.db.Name(), Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close(ctx)
	if ids := inboxIDs(t, s2); len(ids) != 1 || ids[0] != "OLD1" {
		t.Fatalf("after the move the inbox holds %v, want [OLD1]", ids)
	}
	if n, _ := s2.db.ListCollectionNames(ctx, map[string]any{"name": b}); len(n) != 0 {
		t.Fatalf("bucket %s still there", b)
	}
}

// TestIdleLeasesGoWholeWithTheConversations: the retention sweep deletes a customer's lease series
// only when their newest generation is older than the cutoff, never an old generation under a live
// one (a lookup would then stop short and a generation be taken twice).
func TestIdleLeasesGoWholeWithTheConversations(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	c := &clock{now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	a := instance(s, "a", c)
	for _, u := range []string{"Uidle", "Uback"} {
		if take, err := a.Acquire(ctx, u); err != nil || take != bot.TakeNew {
			t.Fatalf("%s: %v %v", u, take, err)
		}
	}
	if err := a.Release(ctx, []string{"Uidle", "Uback"}); err != nil {
		t.Fatal(err)
	}
	c.Add(200 * 24 * time.Hour) // Uback writes again 200 days later
	if take, err := a.Acquire(ctx, "Uback"); err != nil || take != bot.TakeClean {
		t.Fatalf("Uback again: %v %v", take, err)
	}
	if err := s.deleteIdleLeases(ctx, c.Now().Add(-180*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.leases().CountDocuments(ctx, map[string]any{"user": "Uidle"}); n != 0 {
		t.Fatalf("an idle customer's %d lease generations stayed", n)
	}
	// Its head stays at the generation deleted: the next one taken is above it.
	if take, err := b0(s, c).Acquire(ctx, "Uidle"); err != nil || take != bot.TakeClean {
		t.Fatalf("Uidle after the sweep: %v %v, want taken as released", take, err)
	}
	if l, ok, _ := s.LatestLease(ctx, "Uidle"); !ok || l.Gen != 2 {
		t.Fatalf("Uidle's generation after the sweep: %+v, want 2", l)
	}
	if l, ok, err := s.LatestLease(ctx, "Uback"); err != nil || !ok || l.Gen != 2 || l.Released {
		t.Fatalf("the returning customer's lease: %+v %v %v, want generation 2 held", l, ok, err)
	}
	b := instance(s, "b", c)
	if take, _ := b.Acquire(ctx, "Uback"); take.Held() {
		t.Fatal("b took a customer a holds after the sweep")
	}
}
