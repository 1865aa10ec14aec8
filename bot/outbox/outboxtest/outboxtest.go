// Package outboxtest has test doubles for the outbox: a store in memory and a clock tests move by
// hand.
package outboxtest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/enemane/privacybot/bot/outbox"
)

// Store is an outbox.Store in memory. Its zero value is not usable: use NewStore. Fail makes the
// next calls fail, to test an unavailable store.
type Store struct {
	mu                    sync.Mutex
	pending, done         map[string]outbox.Delivery
	fail                  error
	adds, saves, finishes int
}

var _ outbox.Store = (*Store)(nil)

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{pending: map[string]outbox.Delivery{}, done: map[string]outbox.Delivery{}}
}

// Fail makes every later call return err (nil: work again).
func (s *Store) Fail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

// Get returns a delivery in any state.
func (s *Store) Get(id string) (outbox.Delivery, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.pending[id]; ok {
		return d, true
	}
	d, ok := s.done[id]
	return d, ok
}

// Counts returns how many Add, Save and Finish calls changed something.
func (s *Store) Counts() (adds, saves, finishes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.adds, s.saves, s.finishes
}

func (s *Store) begin() error {
	s.mu.Lock()
	return s.fail
}

// Add implements outbox.Store.
func (s *Store) Add(_ context.Context, d outbox.Delivery) (bool, error) {
	err := s.begin()
	defer s.mu.Unlock()
	if err != nil {
		return false, err
	}
	if _, ok := s.pending[d.ID]; ok {
		return false, nil
	}
	if _, ok := s.done[d.ID]; ok {
		return false, nil
	}
	s.pending[d.ID] = d
	s.adds++
	return true, nil
}

// Pending implements outbox.Store.
func (s *Store) Pending(context.Context) ([]outbox.Delivery, error) {
	err := s.begin()
	defer s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return slices.Collect(maps.Values(s.pending)), nil
}

// Save implements outbox.Store.
func (s *Store) Save(_ context.Context, d outbox.Delivery) error {
	err := s.begin()
	defer s.mu.Unlock()
	if err != nil {
		return err
	}
	if _, ok := s.pending[d.ID]; ok {
		s.pending[d.ID] = d
		s.saves++
	}
	return nil
}

// Finish implements outbox.Store.
func (s *Store) Finish(_ context.Context, d outbox.Delivery) error {
	err := s.begin()
	defer s.mu.Unlock()
	if err != nil {
		return err
	}
	if d.State != outbox.Delivered && d.State != outbox.Failed {
		return errors.New("outboxtest: Finish of a pending delivery")
	}
	if _, ok := s.done[d.ID]; !ok {
		s.done[d.ID] = d
		s.finishes++
	}
	delete(s.pending, d.ID)
	return nil
}

// Failed implements outbox.Store.
func (s *Store) Failed(context.Context) ([]outbox.Delivery, error) {
	err := s.begin()
	defer s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var out []outbox.Delivery
	for _, d := range s.done {
		if d.State == outbox.Failed {
			out = append(out, d)
		}
	}
	return out, nil
}

// Reopen implements outbox.Store.
func (s *Store) Reopen(_ context.Context, d outbox.Delivery) error {
	err := s.begin()
	defer s.mu.Unlock()
	if err != nil {
		return err
	}
	if cur, ok := s.done[d.ID]; !ok || cur.State != outbox.Failed {
		return outbox.ErrNotFailed
	}
	delete(s.done, d.ID)
	s.pending[d.ID] = d
	return nil
}

// Clock is an outbox.Clock that moves only when Advance is called. Its timers fire when the clock
// passes their deadline.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	timers  map[*timer]struct{}
	created int
}

type timer struct {
	at time.Time
	c  chan time.Time
}

var _ outbox.Clock = (*Clock)(nil)

// NewClock returns a clock at start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, timers: map[*timer]struct{}{}}
}

// Now implements outbox.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Timer implements outbox.Clock.
func (c *Clock) Timer(d time.Duration) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	c.created++
	if d <= 0 {
		t.c <- c.now
		return t.c, func() {}
	}
	c.timers[t] = struct{}{}
	return t.c, func() {
		c.mu.Lock()
		delete(c.timers, t)
		c.mu.Unlock()
	}
}

// Advance moves the clock forward and fires the timers due by then.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for t := range c.timers {
		if !t.at.After(c.now) {
			t.c <- c.now
			delete(c.timers, t)
		}
	}
}

// Timers returns the deadlines of the timers waiting, earliest first.
func (c *Clock) Timers() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Time
	for t := range c.timers {
		out = append(out, t.at)
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// Created counts the timers made so far: a test that must not move the clock before the sender has
// gone back to sleep waits for it to grow.
func (c *Clock) Created() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.created
}

// Lease is an outbox.Lease in memory that answers as the store's does: taken when free, expired
// (its end before now) or the holder's own; released by its holder only.
type Lease struct {
	mu     sync.Mutex
	holder string
	until  time.Time
}

var _ outbox.Lease = (*Lease)(nil)

// TryLease implements outbox.Lease.
func (l *Lease) TryLease(_ context.Context, _, holder string, now, until time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder != "" && l.holder != holder && !l.until.Before(now) {
		return false, nil
	}
	l.holder, l.until = holder, until
	return true, nil
}

// ReleaseLease implements outbox.Lease: the lease ends at once (another instance may take it).
func (l *Lease) ReleaseLease(_ context.Context, _, holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder == holder {
		l.until = time.Unix(0, 0)
	}
	return nil
}

// Holder returns who holds the lease at now ("" when nobody does), and until when.
func (l *Lease) Holder(now time.Time) (string, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder == "" || l.until.Before(now) {
		return "", time.Time{}
	}
	return l.holder, l.until
}
