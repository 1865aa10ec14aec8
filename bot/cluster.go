package bot

import (
	"context"
	"errors"
	"hash/maphash"
	"slices"
	"time"
)

// Several instances on one store (Config.Leases set): how the processor shares customers.
//
//   - An instance processes a customer's events only while it holds the customer's lease (Leases).
//     The webhook's Enqueue tries to take it before the event is acknowledged: taken, the events go
//     to the customer's worker here; refused, the holder is nudged (Leases.Acquire), and the events
//     wait in the shared inbox for it. So once an event is acknowledged, either this instance holds
//     its customer or the holder has been told.
//   - Before each event, the worker of a customer it holds looks for a nudge of its lease (one read
//     by key); nudged, it reads the customer's events from the inbox. That is what keeps a customer's
//     answers in the order of their events wherever they arrived: an event acknowledged elsewhere
//     before the next one was sent here is taken first.
//   - On taking a customer afresh, the worker forgets what it cached of them and reads their events
//     from the inbox in timestamp order: whatever another instance handled and checkpointed is in the
//     checkpoint, and whatever it handled but did not checkpoint is still in the inbox and is replayed
//     (its step is found stored, so nothing is answered twice).
//   - A customer's lease is kept while they write (HoldIdle after their last event), so that their
//     next events cost no new lease. Nudges for customers with no worker running are polled five
//     times a second (nudgeLoop).
//   - The lease is released at a checkpoint round once the customer has been idle that long, their
//     state is durable and their handled events left the inbox. The instance then asks the inbox
//     whether any event of theirs arrived meanwhile and takes it: no event waits for an expiry.
//   - Every ScanEvery, the inbox is scanned for customers with events and no live holder: those of an
//     instance that died (once its leases expired) and those a SIGTERM'd instance released.

// shared reports whether this processor is one of several instances.
func (p *Processor) shared() bool { return p.cfg.Leases != nil }

// acqSeed and acqLock serialise the lease attempts of one customer in this instance (Leases.Acquire
// takes one caller per customer at a time).
var acqSeed = maphash.MakeSeed()

func (p *Processor) acqLock(user string) func() {
	m := &p.acq[maphash.String(acqSeed, user)%uint64(len(p.acq))]
	m.Lock()
	return m.Unlock
}

// ErrNotPlaced is returned by Enqueue (several instances) when events were stored in the inbox but
// their customer's lease could neither be taken nor its holder told (the store failed or stalled, or
// this instance is stopping). Acknowledging them would let the customer's next event, sent to the
// holder, be answered first: the webhook answers 503 instead, and LINE's redelivery places them.
var ErrNotPlaced = errors.New("bot: events stored, but neither taken nor their customer's holder told")

// enqueueShared takes the customers' leases for their events before they are acknowledged (see
// above) and hands the events of those it holds to their workers.
func (p *Processor) enqueueShared(evs []Event) error {
	var users []string
	byUser := map[string][]Event{}
	for _, ev := range evs {
		if _, ok := byUser[ev.UserID]; !ok {
			users = append(users, ev.UserID)
		}
		byUser[ev.UserID] = append(byUser[ev.UserID], ev)
	}
	placed := true
	for _, u := range users {
		placed = p.take(u, byUser[u], false) && placed
	}
	if !placed {
		return ErrNotPlaced
	}
	return nil
}

// take acquires the customer's lease (unless a worker holding it runs) and, held, queues evs and
// makes sure a worker runs; reload asks the worker to read the customer's events from the inbox.
// It reports whether the events are placed: queued here, or their holder told.
func (p *Processor) take(user string, evs []Event, reload bool) bool {
	unlock := p.acqLock(user)
	defer unlock()
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return false
	}
	if q := p.queues[user]; q != nil && p.cfg.Leases.Valid(user) {
		p.queueLocked(q, evs, reload)
		p.mu.Unlock()
		return true
	}
	// No worker, or one whose lease lapsed while it was busy (another instance may hold the customer
	// now, and must be told of these events): the lease is asked for.
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(p.runCtx, 3*time.Second)
	defer cancel()
	take, err := p.cfg.Leases.Acquire(ctx, user)
	switch {
	case err != nil:
		p.log.Warn("customer lease not taken nor its holder told; the event waits in the inbox", "err", err)
		return false
	case !take.Held():
		p.metrics.lease(leaseRefused, false)
		return true
	}
	p.metrics.lease(leaseTaken, take.Fresh())
	p.mu.Lock()
	if take == TakeHeld && !p.cfg.Leases.Valid(user) && !p.stopped {
		// Held when asked, but let go by releaseIdle since (it saw no worker): taken again. From here
		// on p.mu is held until the worker exists, so releaseIdle cannot let it go again.
		p.mu.Unlock()
		if take, err = p.cfg.Leases.Acquire(ctx, user); err != nil || !take.Held() {
			return err == nil
		}
		p.mu.Lock()
	}
	defer p.mu.Unlock()
	if p.stopped {
		// Taken while the processor stopped (it may have handed its customers over): given back.
		p.mu.Unlock()
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = p.cfg.Leases.Release(rctx, []string{user})
		cancel()
		p.mu.Lock()
		return false
	}
	q := p.queues[user]
	if q == nil {
		q = &userQueue{running: true}
		p.queues[user] = q
		p.wg.Add(1)
		go p.work(user)
	}
	// Taken afresh, the worker drops what it cached of the customer and takes whatever of theirs
	// is in the inbox first: left by a holder that died, or stored while a holder let them go. Only
	// a customer nobody ever held has nothing there that this instance must wait for (an event
	// another instance is storing now nudges this one when its attempt is refused).
	q.fresh = q.fresh || take.Fresh()
	p.queueLocked(q, evs, reload || take == TakeClean || take == TakeOver)
	return true
}

// queueLocked adds the events this instance does not have yet.
func (p *Processor) queueLocked(q *userQueue, evs []Event, reload bool) {
	q.reload = q.reload || reload
	for _, ev := range evs {
		if _, ok := p.known[ev.ID]; ok {
			continue
		}
		p.known[ev.ID] = struct{}{}
		q.insert(ev)
	}
}

// workShared is a customer's worker in shared mode, started holding their lease: it takes their
// queued events one at a time, oldest first, reading their events from the inbox first when it took
// them afresh or was nudged.
func (p *Processor) workShared(user string) {
	for attempt := 0; ; {
		p.mu.Lock()
		q := p.queues[user]
		_, marked := p.nudged[user]
		delete(p.nudged, user)
		fresh, reload, stopped := q.fresh, q.reload || marked, p.stopped
		q.fresh, q.reload = false, false
		gen := q.gen // events handed over after this are checked for a nudge again (below)
		p.mu.Unlock()
		if stopped {
			p.endWorker(user)
			return
		}
		if fresh && p.cfg.OnTake != nil {
			ctx, cancel := context.WithTimeout(p.runCtx, 10*time.Second)
			if err := p.cfg.OnTake(ctx, user); err != nil {
				p.log.Warn("customer's state from other instances not read; the periodic catch-up will", "err", err)
			}
			cancel()
		}
		if !reload {
			ctx, cancel := context.WithTimeout(p.runCtx, 5*time.Second)
			nudged, err := p.cfg.Leases.Nudged(ctx, user)
			cancel()
			reload = nudged || err != nil // unknown: read the inbox to be sure
		}
		if fresh {
			p.mu.Lock()
			delete(p.convs, user) // another instance may have processed them since
			p.mu.Unlock()
		}
		if reload {
			if err := p.readInbox(user, fresh); err != nil {
				p.mu.Lock()
				q.reload = true
				p.mu.Unlock()
				if p.runCtx.Err() != nil || !p.cfg.Leases.Valid(user) || !p.sleep(backoff(p.cfg.RetryBase, p.cfg.RetryMax, attempt, 0)) {
					if p.abandon(user) {
						return
					}
					continue
				}
				attempt++
				p.log.Warn("customer's inbox not read; retrying", "err", err)
				continue
			}
		}
		attempt = 0
		p.mu.Lock()
		if _, marked := p.nudged[user]; reload || q.gen != gen || q.reload || q.fresh || marked {
			// The inbox was read, or an event was handed over since the nudge was looked for (its
			// sender may have been acknowledged after an event stored elsewhere and nudged for
			// after the look): look again before taking the next event. Or the nudge loop marked
			// the customer: it deleted the nudge this worker looked for, so the look missed it.
			p.mu.Unlock()
			continue
		}
		if len(q.pending) == 0 {
			delete(p.queues, user)
			p.mu.Unlock()
			return
		}
		ev := q.pending[0]
		q.pending = q.pending[1:]
		p.mu.Unlock()
		held := func() bool { return p.cfg.Leases.Valid(user) }
		if !held() || !p.handleRetrying(ev, held) {
			if !held() {
				p.metrics.lease(leaseLost, false) // lapsed: another instance may hold the customer now
			}
			p.mu.Lock()
			delete(p.known, ev.ID) // left in the inbox for whoever holds the customer next
			p.mu.Unlock()
			if p.abandon(user) {
				return
			}
		}
	}
}

// readInbox merges the customer's events in the inbox into their queue. fresh: the customer was just
// taken, so every event in the inbox is taken, even one this instance handled before (it replays
// from its step).
func (p *Processor) readInbox(user string, fresh bool) error {
	ctx, cancel := context.WithTimeout(p.runCtx, 10*time.Second)
	defer cancel()
	evs, err := p.cfg.Shared.PendingFor(ctx, user)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.queues[user]
	for _, ev := range evs {
		if _, known := p.known[ev.ID]; known && !fresh {
			continue
		}
		if slices.ContainsFunc(q.pending, func(e Event) bool { return e.ID == ev.ID }) {
			continue
		}
		p.known[ev.ID] = struct{}{}
		q.insert(ev)
	}
	return nil
}

// abandon drops the customer's worker and queue: the events stay in the inbox for the holder. It
// reports false, and drops nothing, when the customer was taken afresh meanwhile (take found the
// lease lapsed and took it again for an event it queued here): the worker goes on, reading the inbox
// first.
func (p *Processor) abandon(user string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.queues[user]
	if q != nil && q.fresh && !p.stopped && p.runCtx.Err() == nil && p.cfg.Leases.Valid(user) {
		return false
	}
	if q != nil {
		for _, ev := range q.pending {
			delete(p.known, ev.ID)
		}
	}
	delete(p.queues, user)
	return true
}

// endWorker removes the customer's worker.
func (p *Processor) endWorker(user string) {
	p.mu.Lock()
	delete(p.queues, user)
	p.mu.Unlock()
}

// wake has the customers' events read from the inbox: by their running workers, or by new ones if
// this instance can take them (nudged, found by the scan, or arrived while their lease was let go).
func (p *Processor) wake(users []string) {
	for _, u := range users {
		p.take(u, nil, true)
	}
}
