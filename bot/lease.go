package bot

import (
	"context"
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
//     clock skew allowed, insert the next one. Whoever inserts it holds the customer; older
//     generations are then deleted, which tells a stalled former holder that it lost.
//   - Holding: the holder renews all its generations every TTL/4 in one write. It counts its lease
//     valid until the time it sent the last renewal plus TTL minus the skew, so it stops before any
//     other instance may count the lease expired (which takes TTL plus the skew by that one's clock).
//   - Releasing: the holder marks its generation released once the customer's state is checkpointed
//     and their handled events have left the inbox, so the next holder starts from the store.
//     A SIGTERM'd instance releases everything it holds before it exits.
//
// What a lease does not fence: an instance paused between its validity check and a write, for longer
// than the skew margin. Exactly-once still holds (a step is keyed by its event), and a checkpoint never
// goes back (it is written only over a lower Seq); only the order of that customer's answers could
// suffer.

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
	// DropLeasesBelow deletes the customer's generations older than gen.
	DropLeasesBelow(ctx context.Context, user string, gen int64) error
	// RenewLeases sets the expiry of these generations and returns those no longer stored.
	RenewLeases(ctx context.Context, ids []string, until time.Time) (lost []string, err error)
	// ReleaseLeases marks these generations released.
	ReleaseLeases(ctx context.Context, ids []string) error
}

// LeaseConfig configures Leases.
type LeaseConfig struct {
	Store LeaseStore
	// Holder names this instance (INSTANCE_ID).
	Holder string
	// TTL is how long a lease lasts without renewal (default 8 s): how soon the customers of an
	// instance that died are taken over.
	TTL time.Duration
	// Skew is the clock difference between instances allowed for (default 1 s).
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
		cfg.TTL = 8 * time.Second
	}
	if cfg.Skew <= 0 {
		cfg.Skew = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Leases{cfg: cfg, held: map[string]heldLease{}}
}

// Acquire takes the customer's lease for this instance. One caller per customer at a time (the
// processor has one worker per customer). held reports whether it holds it now; fresh,
// whether it did not before (what it knew of the customer may be stale: another instance may have
// processed them since).
func (l *Leases) Acquire(ctx context.Context, user string) (held, fresh bool, err error) {
	now := l.cfg.Now()
	l.mu.Lock()
	h, ok := l.held[user]
	if ok && now.Before(h.valid) {
		l.mu.Unlock()
		return true, false, nil
	}
	delete(l.held, user) // expired by our own reckoning: as good as lost
	l.mu.Unlock()
	gen := int64(1)
	cur, found, err := l.cfg.Store.LatestLease(ctx, user)
	if err != nil {
		return false, false, err
	}
	if found {
		// A live generation of this instance's own name is its own (one it let lapse, or one of a
		// previous run under the same INSTANCE_ID, which is dead): taken again at once.
		if !cur.Released && now.Before(cur.Until.Add(l.cfg.Skew)) && cur.Holder != l.cfg.Holder {
			return false, false, nil
		}
		gen = cur.Gen + 1
	}
	sent := l.cfg.Now()
	lease := CustomerLease{User: user, Gen: gen, Holder: l.cfg.Holder, Until: sent.Add(l.cfg.TTL)}
	if err := l.cfg.Store.InsertLease(ctx, lease); err != nil {
		if err == ErrDuplicate {
			return false, false, nil
		}
		return false, false, err
	}
	l.mu.Lock()
	l.held[user] = heldLease{gen: gen, valid: sent.Add(l.cfg.TTL - l.cfg.Skew)}
	l.mu.Unlock()
	if gen > 1 {
		if err := l.cfg.Store.DropLeasesBelow(ctx, user, gen); err != nil {
			l.cfg.Log.Warn("old lease generations not deleted", "err", err)
		}
	}
	return true, true, nil
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
		// A renewal only extends a lease still valid when it was sent; one that expired meanwhile
		// stays expired (another instance may have counted it so).
		if sent.Before(h.valid) {
			l.held[u] = heldLease{gen: h.gen, valid: valid}
		}
	}
	return nil
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
