package bot

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// leaseBook is a LeaseStore in memory, shared by the instances of a test, with hooks that hold a call
// until the test lets it go.
type leaseBook struct {
	mu     sync.Mutex
	leases map[string]CustomerLease
	nudges map[string]nudgeNote
	n      int
	// nudgeErr, when set, fails every Nudge.
	nudgeErr error
	// beforeTake runs before the k-th TakeNudge (from 1) looks; beforeNudges before every Nudges.
	beforeTake   func(k int)
	takes        int
	beforeNudges func()
	dropped      chan struct{} // a value per DropNudges done
}

type nudgeNote struct{ lease, holder, user string }

func newLeaseBook() *leaseBook {
	return &leaseBook{leases: map[string]CustomerLease{}, nudges: map[string]nudgeNote{}, dropped: make(chan struct{}, 100)}
}

func (b *leaseBook) LatestLease(_ context.Context, user string) (CustomerLease, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var cur CustomerLease
	found := false
	for g := int64(1); ; g++ {
		l, ok := b.leases[CustomerLease{User: user, Gen: g}.ID()]
		if !ok {
			return cur, found, nil
		}
		cur, found = l, true
	}
}

func (b *leaseBook) InsertLease(_ context.Context, l CustomerLease) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.leases[l.ID()]; ok {
		return ErrDuplicate
	}
	b.leases[l.ID()] = l
	return nil
}

func (b *leaseBook) RenewLeases(_ context.Context, ids []string, until time.Time) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range ids {
		l := b.leases[id]
		l.Until = until
		b.leases[id] = l
	}
	return nil, nil
}

func (b *leaseBook) ReleaseLeases(_ context.Context, ids []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range ids {
		l := b.leases[id]
		l.Released = true
		b.leases[id] = l
	}
	return nil
}

func (b *leaseBook) LiveLeases(ctx context.Context, users []string, since time.Time) ([]string, error) {
	var out []string
	for _, u := range users {
		if l, ok, _ := b.LatestLease(ctx, u); ok && !l.Released && l.Until.After(since) {
			out = append(out, u)
		}
	}
	return out, nil
}

func (b *leaseBook) Nudge(_ context.Context, l CustomerLease, _ time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.nudgeErr != nil {
		return b.nudgeErr
	}
	b.n++
	b.nudges[l.ID()+"/"+strconv.Itoa(b.n)] = nudgeNote{l.ID(), l.Holder, l.User}
	return nil
}

func (b *leaseBook) Nudges(_ context.Context, holder string, _ time.Time) ([]string, []string, error) {
	if b.beforeNudges != nil {
		b.beforeNudges()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var ids, users []string
	for id, n := range b.nudges {
		if n.holder == holder {
			ids, users = append(ids, id), append(users, n.user)
		}
	}
	return ids, users, nil
}

func (b *leaseBook) DropNudges(_ context.Context, ids []string) error {
	b.mu.Lock()
	for _, id := range ids {
		delete(b.nudges, id)
	}
	b.mu.Unlock()
	b.dropped <- struct{}{}
	return nil
}

func (b *leaseBook) TakeNudge(_ context.Context, id string) (bool, error) {
	b.mu.Lock()
	b.takes++
	k, hook := b.takes, b.beforeTake
	b.mu.Unlock()
	if hook != nil {
		hook(k)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	found := false
	for key, n := range b.nudges {
		if n.lease == id {
			delete(b.nudges, key)
			found = true
		}
	}
	return found, nil
}

// bookInbox is the shared inbox over the fixture's journal.
type bookInbox struct{ j *memJournal }

func (s bookInbox) PendingFor(_ context.Context, user string) ([]Event, error) {
	s.j.mu.Lock()
	defer s.j.mu.Unlock()
	var out []Event
	for _, ev := range s.j.inbox {
		if ev.UserID == user {
			out = append(out, ev)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Timestamp.Before(out[b].Timestamp) })
	return out, nil
}

func (bookInbox) Waiting(context.Context, []string, time.Time) ([]string, error) { return nil, nil }

// heldReplies records the order of replies and holds the first reply to one token until let go.
type heldReplies struct {
	*memMessenger
	mu      sync.Mutex
	order   []string
	hold    string
	held    sync.Once
	entered chan struct{} // closed when the held reply is reached
	release chan struct{}
}

func (h *heldReplies) Reply(ctx context.Context, token string, msgs []Message) CallResult {
	if token == h.hold {
		h.held.Do(func() {
			close(h.entered)
			<-h.release
		})
	}
	h.mu.Lock()
	h.order = append(h.order, token)
	h.mu.Unlock()
	return h.memMessenger.Reply(ctx, token, msgs)
}

func (h *heldReplies) replied() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.order...)
}

// sharedFixture is instance "X" of several, with its clock now()+*skew.
type sharedFixture struct {
	*procFixture
	book    *leaseBook
	replies *heldReplies
	t0      time.Time
}

func newSharedFixture(t *testing.T, book *leaseBook, clock func() time.Time) *sharedFixture {
	t.Helper()
	r := &heldReplies{memMessenger: newMemMessenger(), hold: "rt-D", entered: make(chan struct{}), release: make(chan struct{})}
	f := newProcFixture(t, func(c *Config) {
		c.Messenger = r
		c.Leases = NewLeases(LeaseConfig{Store: book, Holder: "X", TTL: time.Hour, Skew: time.Second, Now: clock})
		c.CheckpointEvery = time.Hour
		c.Shared = bookInbox{j: c.Journal.(*memJournal)}
	})
	return &sharedFixture{procFixture: f, book: book, replies: r, t0: time.Now()}
}

// arrive stores the customer U's event id (ms after t0) and hands it to this instance, as its webhook
// does; it returns Enqueue's verdict.
func (f *sharedFixture) arrive(t *testing.T, id string, ms int) error {
	t.Helper()
	ev := f.text(id, "U", "こんにちは")
	ev.Timestamp = f.t0.Add(time.Duration(ms) * time.Millisecond)
	ev.ReceivedAt = ev.Timestamp
	if _, err := f.j.AddToInbox(context.Background(), []Event{ev}); err != nil {
		t.Fatal(err)
	}
	return f.p.Enqueue([]Event{ev})
}

// storedElsewhere stores event id as another instance does: in the inbox, then its attempt at the
// lease (refused: the holder is nudged).
func (f *sharedFixture) storedElsewhere(t *testing.T, other *Leases, id string, ms int) {
	t.Helper()
	ev := f.text(id, "U", "こんにちは")
	ev.Timestamp = f.t0.Add(time.Duration(ms) * time.Millisecond)
	ev.ReceivedAt = ev.Timestamp
	if _, err := f.j.AddToInbox(context.Background(), []Event{ev}); err != nil {
		t.Fatal(err)
	}
	if take, err := other.Acquire(context.Background(), "U"); err != nil || take.Held() {
		t.Fatalf("the other instance took U: %v %v", take, err)
	}
}

// The holder's worker looks for its nudge while the nudge loop reads it, marks the customer and
// deletes it: the worker's look finds nothing, but it must see the mark before it takes the next
// event, or an event acknowledged elsewhere is answered after a later one.
func TestWorkerSeesTheMarkOfANudgeTheLoopTook(t *testing.T) {
	book := newLeaseBook()
	loopMayRead := make(chan struct{})
	book.beforeNudges = func() { <-loopMayRead }
	secondLook, lookMayGo := make(chan struct{}), make(chan struct{})
	book.beforeTake = func(k int) {
		if k == 2 { // the worker's look after D, with B queued
			close(secondLook)
			<-lookMayGo
		}
	}
	f := newSharedFixture(t, book, time.Now)
	var letGo sync.Once // on an early failure, nothing stays held for the fixture's Stop
	t.Cleanup(func() { letGo.Do(func() { close(loopMayRead); close(lookMayGo) }) })
	y := NewLeases(LeaseConfig{Store: book, Holder: "Y", TTL: time.Hour, Skew: time.Second})

	if err := f.arrive(t, "D", 0); err != nil { // X takes U; its worker holds in D's reply
		t.Fatal(err)
	}
	<-f.replies.entered
	f.storedElsewhere(t, y, "E", 1) // acknowledged by Y
	if err := f.arrive(t, "B", 2); err != nil {
		t.Fatal(err)
	}
	close(f.replies.release)
	<-secondLook
	letGo.Do(func() {
		close(loopMayRead) // the loop reads E's nudge, marks U and deletes the nudge
		<-book.dropped
		close(lookMayGo) // the worker's look finds nothing
	})
	eventually(t, "three replies", func() bool { return len(f.replies.replied()) == 3 })
	if got := f.replies.replied(); got[1] != "rt-E" || got[2] != "rt-B" {
		t.Fatalf("replies %v: E, acknowledged before B was sent, must be answered before it", got)
	}
}

// lapsedWhileReplying is instance X with customer U's event D taken and its reply hanging, its clock
// then moved two hours on: X's lease of U lapsed by its own reckoning while its worker was busy.
func lapsedWhileReplying(t *testing.T) (*sharedFixture, *leaseBook) {
	t.Helper()
	book := newLeaseBook()
	var mu sync.Mutex
	ahead := time.Duration(0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(ahead) }
	f := newSharedFixture(t, book, clock)
	if err := f.arrive(t, "D", 0); err != nil {
		t.Fatal(err)
	}
	<-f.replies.entered
	mu.Lock()
	ahead = 2 * time.Hour
	mu.Unlock()
	return f, book
}

// A worker busy with one event while its lease lapses (a stalled store) must not take an event for
// itself: the customer may be another instance's now, and that one must be told of it.
func TestEventForALapsedWorkerTellsTheNewHolder(t *testing.T) {
	f, book := lapsedWhileReplying(t)
	z := NewLeases(LeaseConfig{Store: book, Holder: "Z", TTL: time.Hour, Skew: time.Second,
		Now: func() time.Time { return time.Now().Add(2 * time.Hour) }})
	if take, err := z.Acquire(context.Background(), "U"); err != nil || take != TakeOver {
		t.Fatalf("Z takes U over: %v %v", take, err)
	}
	if err := f.arrive(t, "B", 1); err != nil {
		t.Fatal(err)
	}
	close(f.replies.release)
	eventually(t, "X's worker to go", func() bool { return f.p.Stats().QueuedUsers == 0 })
	if nudged, err := z.Nudged(context.Background(), "U"); err != nil || !nudged {
		t.Fatalf("B was acknowledged at X while Z holds U, and Z was not told: %v %v", nudged, err)
	}
	f.replies.memMessenger.mu.Lock()
	n := f.replies.memMessenger.replies["rt-B"]
	f.replies.memMessenger.mu.Unlock()
	if n != 0 {
		t.Fatalf("X answered B without the lease (%d replies)", n)
	}
}

// The same lapse with nobody else taking the customer: the event takes the lease again, and the worker
// goes on with it after the event it was busy with.
func TestEventForALapsedWorkerTakesTheCustomerAgain(t *testing.T) {
	f, book := lapsedWhileReplying(t)
	if err := f.arrive(t, "B", 1); err != nil {
		t.Fatal(err)
	}
	close(f.replies.release)
	// Taken afresh, the worker replays what the inbox holds: D again, whose reply token LINE then
	// refuses as used (never a second answer).
	eventually(t, "B answered", func() bool { return slices.Contains(f.replies.replied(), "rt-B") })
	if got := slices.Compact(f.replies.replied()); len(got) != 2 || got[0] != "rt-D" || got[1] != "rt-B" {
		t.Fatalf("replies %v, want D then B", got)
	}
	if l, ok, _ := book.LatestLease(context.Background(), "U"); !ok || l.Gen != 2 || l.Holder != "X" {
		t.Fatalf("U's lease %+v: want X's second generation", l)
	}
}

// An event whose customer's lease can neither be taken nor its holder told is not placed: Enqueue says
// so, and the webhook answers 503 rather than acknowledge it.
func TestEnqueueSaysWhenTheHolderCannotBeTold(t *testing.T) {
	book := newLeaseBook()
	f := newSharedFixture(t, book, time.Now)
	y := NewLeases(LeaseConfig{Store: book, Holder: "Y", TTL: time.Hour, Skew: time.Second})
	if take, err := y.Acquire(context.Background(), "U"); err != nil || take != TakeNew {
		t.Fatalf("Y takes U: %v %v", take, err)
	}
	book.mu.Lock()
	book.nudgeErr = errors.New("store stalled")
	book.mu.Unlock()
	if err := f.arrive(t, "B", 0); !errors.Is(err, ErrNotPlaced) {
		t.Fatalf("Enqueue with the holder untold: %v, want ErrNotPlaced", err)
	}
	book.mu.Lock()
	book.nudgeErr = nil
	book.mu.Unlock()
	if err := f.arrive(t, "B", 0); err != nil { // LINE's redelivery
		t.Fatalf("the redelivery: %v", err)
	}
	if nudged, err := y.Nudged(context.Background(), "U"); err != nil || !nudged {
		t.Fatalf("the holder was not told of the redelivered event: %v %v", nudged, err)
	}
}
