package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// Several instances on one store process each customer's events on one instance at a time: the one
// holding the customer's lease. A lease is a generation (1, 2, …) of the customer, taken by inserting
// it: the store's unique key decides between two instances that want the same customer, and no
// conditional update is trusted (MongoDB's is atomic; FerretDB's is a query followed by a write).
//
//   - Taking: read the customer's newest generation; if it is released, or expired by more than the
//     clock skew allowed, insert the next one. Whoever inserts it holds the customer. A former holder
//     that stalled has by then counted its lease expired by its own clock (below), and takes the
//     customer again like any other instance.
//   - Holding: the holder renews all its generations every TTL/4 in one write. It counts its lease
//     valid until the time it sent the last renewal plus TTL minus the skew, so it stops before any
//     other instance may count the lease expired (which takes TTL plus the skew by that one's clock).
//   - Releasing: the holder marks its generation released once the customer's state is checkpointed
//     and their handled events have left the inbox, so the next holder starts from the store.
//     A SIGTERM'd instance releases everything it holds before it exits.
//
// What a lease does not fence: an instance paused between its validity check and a write, for longer
// than the skew margin, or clocks further apart than the skew. Exactly-once still holds (a step is
// keyed by its event), and on MongoDB a checkpoint never goes back (it is written only over a lower
// Seq; not on FerretDB, where that condition would not be atomic); the order of that customer's
// answers, and on FerretDB their state, could suffer.

// CustomerLease is one generation of a customer's lease.
type CustomerLease struct {
	User     string    `bson:"user"`
	Gen      int64     `bson:"gen"`
	Holder   string    `bson:"holder"`
	Until    time.Time `bson:"until"`
	Released bool      `bson:"released,omitempty"`
}

// ID is the generation's key in the store.
func (l CustomerLease) ID() string { return l.User + "/" + strconv.FormatInt(l.Gen, 10) }

// LeaseStore keeps the customers' leases.
type LeaseStore interface {
	// LatestLease returns the customer's newest generation (false: none).
	LatestLease(ctx context.Context, user string) (CustomerLease, bool, error)
	// InsertLease stores a generation; ErrDuplicate when it exists (another instance took it).
	InsertLease(ctx context.Context, l CustomerLease) error
	// RenewLeases sets the expiry of these generations and returns those lost: no longer stored, or
	// followed by a next generation.
	RenewLeases(ctx context.Context, ids []string, until time.Time) (lost []string, err error)
	// ReleaseLeases marks these generations released.
	ReleaseLeases(ctx context.Context, ids []string) error
	// LiveLeases returns, of users, those with a generation not released whose expiry is after
	// since.
	LiveLeases(ctx context.Context, users []string, since time.Time) ([]string, error)
	// Nudge tells the holder of l that an event of its customer waits in the inbox (stored by an
	// instance that could not take the customer). Every nudge is kept on its own until taken: one
	// written while the holder deletes those it read (TakeNudges) must outlive that delete.
	Nudge(ctx context.Context, l CustomerLease, at time.Time) error
	// Nudges returns the nudges of holder (their keys and customers), and the keys of those older
	// than staleBefore whatever their holder (it died); DropNudges deletes nudges by key.
	Nudges(ctx context.Context, holder string, staleBefore time.Time) (ids, users []string, err error)
	DropNudges(ctx context.Context, ids []string) error
	// TakeNudge removes the nudges of one generation and reports whether there was any.
	TakeNudge(ctx context.Context, id string) (bool, error)
}

// LeaseConfig configures Leases.
type LeaseConfig struct {
	Store LeaseStore
	// Holder names this instance (INSTANCE_ID).
	Holder string
	// TTL is how long a lease lasts without renewal (default 10 s): how soon the customers of an
	// instance that died are taken over (TTL plus Skew).
	TTL time.Duration
	// Skew is the clock difference between instances allowed for, and the longest a renewal may take
	// to count (default 2 s).
	Skew time.Duration
	Now  func() time.Time
	Log  *slog.Logger
}

// Leases is this instance's side of the customers' leases.
type Leases struct {
	cfg LeaseConfig

	mu   sync.Mutex
	held map[string]heldLease
}

type heldLease struct {
	gen   int64
	valid time.Time // by this instance's clock
}

// NewLeases returns the lease keeper of an instance.
func NewLeases(cfg LeaseConfig) *Leases {
	if cfg.TTL <= 0 {
		cfg.TTL = 10 * time.Second
	}
	if cfg.Skew <= 0 {
		cfg.Skew = 2 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Leases{cfg: cfg, held: map[string]heldLease{}}
}

// Take says how a customer's lease was taken (Acquire).
type Take int

// The outcomes of Acquire.
const (
	TakeRefused Take = iota // another instance holds the customer (and was nudged)
	TakeHeld                // this instance held the customer already
	TakeNew                 // taken afresh: nobody ever held the customer
	TakeClean               // taken afresh: released by its holder
	TakeOver                // taken afresh from a holder that let it expire (it died or stalled)
)

// Held reports whether the lease is this instance's now; Fresh, whether it was not before (what it
// knew of the customer may be stale: another instance may have processed them since).
func (t Take) Held() bool  { return t != TakeRefused }
func (t Take) Fresh() bool { return t >= TakeNew }

// Acquire takes the customer's lease for this instance, or, refused, tells the holder (a nudge). An
// error means neither happened. One caller per customer at a time (the processor serialises them).
func (l *Leases) Acquire(ctx context.Context, user string) (Take, error) {
	now := l.cfg.Now()
	l.mu.Lock()
	h, ok := l.held[user]
	if ok && now.Before(h.valid) {
		l.mu.Unlock()
		return TakeHeld, nil
	}
	delete(l.held, user) // expired by our own reckoning: as good as lost
	l.mu.Unlock()
	gen, take := int64(1), TakeNew
	cur, found, err := l.cfg.Store.LatestLease(ctx, user)
	if err != nil {
		return TakeRefused, err
	}
	if found {
		// A live generation of this instance's own name is its own (one it let lapse, or one of a
		// previous run under the same INSTANCE_ID, which is dead): taken again at once.
		if !cur.Released && now.Before(cur.Until.Add(l.cfg.Skew)) && cur.Holder != l.cfg.Holder {
			// The holder takes the event from the inbox once told: untold, it could answer the
			// customer's next event first, so a failed nudge fails the attempt.
			if err := l.cfg.Store.Nudge(ctx, cur, now); err != nil {
				return TakeRefused, fmt.Errorf("nudge the holder: %w", err)
			}
			return TakeRefused, nil
		}
		gen, take = cur.Gen+1, TakeClean
		if !cur.Released {
			take = TakeOver
		}
	}
	sent := l.cfg.Now()
	lease := CustomerLease{User: user, Gen: gen, Holder: l.cfg.Holder, Until: sent.Add(l.cfg.TTL)}
	if err := l.cfg.Store.InsertLease(ctx, lease); err != nil {
		if err == ErrDuplicate {
			// Another instance took this generation a moment ago: it is told of the event too.
			won, ok, err := l.cfg.Store.LatestLease(ctx, user)
			if err != nil {
				return TakeRefused, err
			}
			if ok && won.Holder != l.cfg.Holder {
				if err := l.cfg.Store.Nudge(ctx, won, now); err != nil {
					return TakeRefused, fmt.Errorf("nudge the holder: %w", err)
				}
			}
			return TakeRefused, nil
		}
		return TakeRefused, err
	}
	l.mu.Lock()
	l.held[user] = heldLease{gen: gen, valid: sent.Add(l.cfg.TTL - l.cfg.Skew)}
	l.mu.Unlock()
	return take, nil
}

// Unheld returns the customers of users whose lease nobody holds (released, expired, or never
// taken): those another instance would take at once. It costs one query for them all, where trying
// each would cost a lookup per customer (the inbox scan's filter: a backlog must not turn into a
// storm of refused attempts).
func (l *Leases) Unheld(ctx context.Context, users []string) ([]string, error) {
	if len(users) == 0 {
		return nil, nil
	}
	live, err := l.cfg.Store.LiveLeases(ctx, users, l.cfg.Now().Add(-l.cfg.Skew))
	if err != nil {
		return nil, err
	}
	held := make(map[string]bool, len(live))
	for _, u := range live {
		held[u] = true
	}
	out := make([]string, 0, len(users))
	for _, u := range users {
		if !held[u] {
			out = append(out, u)
		}
	}
	return out, nil
}

// Valid reports whether this instance holds the customer's lease now.
func (l *Leases) Valid(user string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.held[user]
	return ok && l.cfg.Now().Before(h.valid)
}

// Held returns the customers whose lease this instance holds.
func (l *Leases) Held() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.held))
	for u := range l.held {
		out = append(out, u)
	}
	return out
}

// Release gives up the leases of these customers (those not held are ignored).
func (l *Leases) Release(ctx context.Context, users []string) error {
	return l.release(ctx, l.forget(users))
}

// forget stops counting these customers' leases as held and returns their generations, to be
// released with release. Split so that the processor can stop holding a customer in the same critical
// section in which it sees that nothing of theirs is in progress.
func (l *Leases) forget(users []string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make([]string, 0, len(users))
	for _, u := range users {
		if h, ok := l.held[u]; ok {
			ids = append(ids, CustomerLease{User: u, Gen: h.gen}.ID())
			delete(l.held, u)
		}
	}
	return ids
}

func (l *Leases) release(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return l.cfg.Store.ReleaseLeases(ctx, ids)
}

// Renew extends every lease held, and forgets those another instance took over.
func (l *Leases) Renew(ctx context.Context) error {
	l.mu.Lock()
	snap := make(map[string]heldLease, len(l.held))
	ids := make([]string, 0, len(l.held))
	for u, h := range l.held {
		snap[CustomerLease{User: u, Gen: h.gen}.ID()] = h
		ids = append(ids, CustomerLease{User: u, Gen: h.gen}.ID())
	}
	l.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	sent := l.cfg.Now()
	lost, err := l.cfg.Store.RenewLeases(ctx, ids, sent.Add(l.cfg.TTL))
	if err != nil {
		return err
	}
	if took := l.cfg.Now().Sub(sent); took > l.cfg.Skew {
		// A renewal that landed this late may have landed after another instance found the lease
		// expired and took the customer: it extends nothing (the leases lapse unless the next one is
		// quick).
		l.cfg.Log.Warn("customer lease renewal too slow to count", "ms", took.Milliseconds())
		return nil
	}
	gone := make(map[string]bool, len(lost))
	for _, id := range lost {
		gone[id] = true
	}
	valid := sent.Add(l.cfg.TTL - l.cfg.Skew)
	l.mu.Lock()
	defer l.mu.Unlock()
	for u, h := range l.held {
		id := CustomerLease{User: u, Gen: h.gen}.ID()
		if _, renewed := snap[id]; !renewed {
			continue // taken after the snapshot: its own expiry stands
		}
		if gone[id] {
			delete(l.held, u)
			l.cfg.Log.Warn("customer lease lost to another instance")
			continue
		}
		// A renewal only extends a lease still valid when it was sent; one that expired meanwhile is
		// given up (another instance may have counted it expired and taken the customer).
		if sent.Before(h.valid) {
			l.held[u] = heldLease{gen: h.gen, valid: valid}
		} else {
			delete(l.held, u)
		}
	}
	return nil
}

// Nudged reports whether this instance's lease of the customer was nudged since it last asked.
func (l *Leases) Nudged(ctx context.Context, user string) (bool, error) {
	l.mu.Lock()
	h, ok := l.held[user]
	l.mu.Unlock()
	if !ok {
		return false, nil
	}
	return l.cfg.Store.TakeNudge(ctx, CustomerLease{User: user, Gen: h.gen}.ID())
}

// TakeNudges returns the customers this instance holds whose events other instances stored, calling
// mark with them before their nudges are deleted (so that a worker that looks for its nudge in
// between finds the mark instead).
func (l *Leases) TakeNudges(ctx context.Context, mark func(users []string)) error {
	ids, users, err := l.cfg.Store.Nudges(ctx, l.cfg.Holder, l.cfg.Now().Add(-time.Minute))
	if err != nil || len(ids) == 0 {
		return err
	}
	mark(users)
	return l.cfg.Store.DropNudges(ctx, ids)
}

// RenewEvery renews the leases every TTL/4 until ctx ends.
func (l *Leases) RenewEvery(ctx context.Context) {
	t := time.NewTicker(l.cfg.TTL / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, l.cfg.TTL/2)
			if err := l.Renew(rctx); err != nil {
				l.cfg.Log.Warn("customer leases not renewed; they lapse unless the next renewal succeeds", "err", err)
			}
			cancel()
		}
	}
}
