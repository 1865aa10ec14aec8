package outbox

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// Several instances on one store. Every instance queues: Enqueue and Retry write the store, whose Add
// and Reopen decide by ID, so a message queued on two instances at once is stored once. Only one
// instance sends, or every webhook would go out once per instance: RunShared runs the sender where
// the store's lease "outbox" is held (the lease the retention sweeper uses too), and Sync keeps each
// instance's pending set in line with the store, so that admins see the same counts on every
// instance and an instance elected sender starts with the whole set.
//
// Delivery stays at least once, as it was across restarts: an attempt in flight when its instance dies
// (or loses the lease) is not recorded, and the next sender makes it again. Receivers deduplicate by
// the Idempotency-Key (the delivery's key), which is the same on every attempt from every instance.

// Lease keeps the sender on one instance at a time. It is the store's lease, the one the retention
// sweeper takes (retention.Lease; store.Store implements both): generations of the name, each taken
// by inserting it, with an expiry.
type Lease interface {
	// TryLease takes the named lease for holder until the given time, or renews it when holder has
	// it; false when another holder has it and it has not expired at now.
	TryLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	// ReleaseLease gives the lease up if holder has it.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// LeaseName is the sender's lease in the store.
const LeaseName = "outbox"

// leasePeriods is the lease's length in RunShared's periods: a sender that stops renewing (it died,
// or lost the store) is replaced after at most this many periods, and one slow renewal does not cost
// it the lease.
const leasePeriods = 4

// tomb is a delivery this process finished (delivered or failed) and took out of its pending set.
// A read of the store that began before the finish may still list it; Sync must not take it back
// from such a read, or it would be sent again. (A failed one that a later read lists again was put
// back by an admin on another instance.)
type tomb struct {
	d   Delivery
	gen int64 // o.gen after the finish
}

// finished records, under o.mu, that d left the pending set here (for Sync).
func (o *Outbox) finished(d Delivery) {
	if !o.shared {
		return // nobody calls Sync: a single process has nothing to reconcile
	}
	o.gen++
	if o.gone == nil {
		o.gone = map[string]tomb{}
	}
	o.gone[d.ID] = tomb{d: d, gen: o.gen}
}

// Sync reads the store's pending set and merges it into the lanes: deliveries another instance
// queued (or put back) are added and their lanes woken; those no longer pending in the store
// (another instance delivered or failed them) are dropped. While this process sends, its own copies
// of the deliveries win (it is the one attempting them and writing their state); otherwise the
// store's do (the sender's attempts, errors and next attempt, for the admins' pages). A delivery this
// process finished but whose finish the store did not record is finished again.
func (o *Outbox) Sync(ctx context.Context) error {
	o.syncMu.Lock()
	defer o.syncMu.Unlock()
	o.mu.Lock()
	o.shared = true
	// What the read cannot know of: deliveries added (seq) or finished (gen) after it began.
	seq, gen := o.seq, o.gen
	o.mu.Unlock()
	ds, err := o.store.Pending(ctx)
	if err != nil {
		return fmt.Errorf("outbox: sync: %w", err)
	}
	slices.SortFunc(ds, func(a, b Delivery) int {
		return cmp.Or(a.QueuedAt.Compare(b.QueuedAt), cmp.Compare(a.ID, b.ID))
	})
	listed := make(map[string]bool, len(ds))
	for _, d := range ds {
		listed[d.ID] = true
	}
	sending := o.running.Load()
	var refinish []Delivery
	woken := map[*lane]bool{}
	o.mu.Lock()
	for _, d := range ds {
		if tb, ok := o.gone[d.ID]; ok {
			switch {
			case tb.d.State == Delivered:
				// Nothing puts a delivered message back. Listed by a read that began after the
				// finish, the store did not record it.
				if tb.gen <= gen {
					refinish = append(refinish, tb.d)
				}
				continue
			case tb.gen > gen:
				continue // failed here while the store was read: the read may predate it
			}
			// Failed here before the read, which lists it again: an admin put it back (Retry on
			// another instance), for a new round of attempts.
			delete(o.gone, d.ID)
		}
		l := o.lanes[d.Destination]
		if l == nil {
			continue // a destination configured on another instance only: not this one's to send or fail
		}
		if it := l.pending[d.ID]; it != nil {
			if !sending {
				it.d = d
			}
			continue
		}
		o.seq++
		l.pending[d.ID] = &item{d: d, seq: o.seq}
		woken[l] = true
	}
	for _, name := range o.names {
		for id, it := range o.lanes[name].pending {
			if !listed[id] && it.seq <= seq {
				delete(o.lanes[name].pending, id)
			}
		}
	}
	for id, tb := range o.gone {
		if tb.gen <= gen && !listed[id] {
			delete(o.gone, id) // the store shows it finished: nothing left to guard
		}
	}
	o.mu.Unlock()
	for l := range woken {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
	for _, d := range refinish {
		if err := o.store.Finish(ctx, d); err != nil {
			o.log.Warn("outbox: delivered, but the store still does not record it", "delivery", d.ID, "err", err)
		}
	}
	return nil
}

// RunShared runs the sender on one instance at a time until ctx ends. Every period it takes or
// renews the lease LeaseName for holder (for leasePeriods periods) and calls Sync; while the lease
// surely runs (more than a period of it left) the lanes send (Run), and when it is lost, or cannot be
// renewed in time, they stop at once (the attempts in flight are interrupted and stay pending). When
// ctx ends the sender stops and the lease is released, so that another instance takes over at its
// next period instead of waiting for the lease to expire. Call it once per process, instead of Run;
// the caller waits for it to return before closing the store.
//
// A period of a few seconds suits: it is how late a message queued on another instance is sent, and
// how stale the admins' counts may be; a dead sender is replaced within leasePeriods+1 periods.
func (o *Outbox) RunShared(ctx context.Context, lease Lease, holder string, every time.Duration) {
	if every <= 0 {
		every = 2 * time.Second
	}
	leaseFor := leasePeriods * every
	var held time.Time // when the lease as last granted ends (zero: not held)
	var stop func()    // stops the sender (nil: not sending)
	defer func() {
		if stop != nil {
			stop()
		}
		if held.IsZero() {
			return
		}
		// Released only once nothing is sent any more; an instance that dies cannot, and its lease
		// expires instead.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := lease.ReleaseLease(rctx, LeaseName, holder); err != nil {
			o.log.Warn("outbox: lease not released; it expires on its own", "err", err)
		}
	}()
	for {
		now := o.clock.Now()
		ok, err := lease.TryLease(ctx, LeaseName, holder, now, now.Add(leaseFor))
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil:
			// Unknown: the lease as last granted still holds for what is left of it.
			o.log.Warn("outbox: lease not renewed", "err", err)
		case ok:
			held = now.Add(leaseFor)
		default:
			held = time.Time{}
		}
		if err := o.Sync(ctx); err != nil && ctx.Err() == nil {
			o.log.Warn("outbox: pending set not read", "err", err)
		}
		sure := held.Sub(now) > every // the next renewal is due before it ends
		switch {
		case sure && stop == nil:
			if stop = o.startSending(ctx); stop != nil {
				o.log.Info("outbox: this instance sends", "holder", holder)
			}
		case !sure && stop != nil:
			stop()
			stop = nil
			o.log.Warn("outbox: lease lost; this instance stopped sending", "holder", holder)
		}
		fire, cancel := o.clock.Timer(every)
		select {
		case <-ctx.Done():
			cancel()
			return
		case <-fire:
		}
	}
}

// startSending starts the sender and returns the function that stops it and waits for it; nil when
// Run runs already (a mistake of the caller, logged).
func (o *Outbox) startSending(ctx context.Context) func() {
	if !o.running.CompareAndSwap(false, true) {
		o.log.Error("outbox: Run is running already; RunShared does not send")
		return nil
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer o.running.Store(false)
		o.run(sctx)
	}()
	return func() { cancel(); <-done }
}
