package bot

import (
	"context"
	"time"
)

// Several instances on one store (Config.Leases set): how the processor shares customers.
//
//   - An instance takes a customer's events only while it holds the customer's lease (Leases). A
//     worker acquires it before its first event; if another instance holds it, the worker drops what
//     it was handed (the events are in the shared inbox, and the holder reads them from there).
//   - On taking a customer afresh, the worker forgets what it cached of them and reads their events
//     from the inbox in timestamp order: whatever another instance handled and checkpointed is in the
//     checkpoint, and whatever it handled but did not checkpoint is still in the inbox and is replayed
//     (its step is found stored, so nothing is answered twice).
//   - A customer's lease is released at the checkpoint round after their state is durable and their
//     handled events left the inbox. The instance then asks the inbox whether any event of theirs
//     arrived meanwhile (one that another instance stored but could not take while the lease was
//     held) and takes it: no event waits for a lease expiry.
//   - Every ScanEvery, the inbox is scanned for customers with events and no live holder: those of an
//     instance that died (once its leases expired) and those a SIGTERM'd instance released.

// shared reports whether this processor is one of several instances.
func (p *Processor) shared() bool { return p.cfg.Leases != nil }

// signalLocked (shared mode) makes sure each customer of evs has a worker. The events themselves are
// not queued: the inbox is the queue, since another instance may have stored an earlier event of the
// same customer that only the holder of the lease can take.
func (p *Processor) signalLocked(evs []Event) {
	for _, ev := range evs {
		if q := p.queues[ev.UserID]; q != nil {
			q.gen++ // the worker reads the inbox again before it stops
			continue
		}
		p.queues[ev.UserID] = &userQueue{running: true}
		p.wg.Add(1)
		go p.work(ev.UserID)
	}
}

// workShared is a customer's worker in shared mode: under the customer's lease it takes, one at a
// time, the oldest event of theirs in the inbox that this instance has not handled, until none is
// left. Reading the inbox before each event is what keeps a customer's answers in the order of their
// events wherever they arrived (one indexed query per event).
func (p *Processor) workShared(user string) {
	fresh, ok := p.takeCustomer(user)
	if !ok {
		return
	}
	if fresh && p.cfg.OnTake != nil {
		ctx, cancel := context.WithTimeout(p.runCtx, 10*time.Second)
		if err := p.cfg.OnTake(ctx, user); err != nil {
			p.log.Warn("customer's state from other instances not read; the periodic catch-up will", "err", err)
		}
		cancel()
	}
	for attempt := 0; ; {
		p.mu.Lock()
		q := p.queues[user]
		gen, stopped := q.gen, p.stopped
		p.mu.Unlock()
		if stopped {
			p.endWorker(user)
			return
		}
		ctx, cancel := context.WithTimeout(p.runCtx, 10*time.Second)
		evs, err := p.cfg.Shared.PendingFor(ctx, user)
		cancel()
		if err != nil {
			if p.runCtx.Err() != nil || !p.cfg.Leases.Valid(user) || !p.sleep(backoff(p.cfg.RetryBase, p.cfg.RetryMax, attempt, 0)) {
				p.endWorker(user)
				return
			}
			attempt++
			p.log.Warn("customer's inbox not read; retrying", "err", err)
			continue
		}
		attempt = 0
		p.mu.Lock()
		if fresh {
			// Taken afresh: what this instance cached of the customer may be stale, and whatever of
			// theirs is still in the inbox is taken again (handled ones replay from their steps).
			delete(p.convs, user)
			for _, ev := range evs {
				delete(p.known, ev.ID)
			}
			fresh = false
		}
		next := -1
		for i, ev := range evs {
			if _, done := p.known[ev.ID]; !done {
				next = i
				break
			}
		}
		if next < 0 {
			if q.gen != gen {
				p.mu.Unlock()
				continue // an event was handed over while the inbox was read
			}
			delete(p.queues, user)
			p.mu.Unlock()
			return
		}
		ev := evs[next]
		p.known[ev.ID] = struct{}{}
		p.mu.Unlock()
		held := func() bool { return p.cfg.Leases.Valid(user) }
		if !held() {
			// The lease lapsed (its renewals failed): another instance may hold the customer now.
			p.metrics.lease(leaseLost, false)
			p.mu.Lock()
			delete(p.known, ev.ID)
			p.mu.Unlock()
			p.endWorker(user)
			return
		}
		if !p.handleRetrying(ev, held) {
			p.mu.Lock()
			delete(p.known, ev.ID) // left in the inbox for whoever holds the customer next
			p.mu.Unlock()
			p.endWorker(user)
			return
		}
	}
}

// endWorker removes the customer's worker.
func (p *Processor) endWorker(user string) {
	p.mu.Lock()
	delete(p.queues, user)
	p.mu.Unlock()
}

// takeCustomer acquires the customer's lease for the worker. fresh: the customer was not held by this
// instance. On false the worker is gone and must return.
func (p *Processor) takeCustomer(user string) (fresh, ok bool) {
	for {
		p.mu.Lock()
		gen := p.queues[user].gen
		p.mu.Unlock()
		held, fresh, err := p.cfg.Leases.Acquire(p.runCtx, user)
		switch {
		case held:
			p.metrics.lease(leaseTaken, fresh)
			return fresh, true
		case err != nil:
			p.log.Warn("customer lease not taken; the inbox scan tries again", "err", err)
		default:
			p.metrics.lease(leaseRefused, false)
		}
		p.mu.Lock()
		if err == nil && p.queues[user].gen != gen && !p.stopped {
			p.mu.Unlock()
			continue // events came while the attempt was out: they may have come after the holder let go
		}
		delete(p.queues, user) // the events stay in the inbox for the holder
		p.mu.Unlock()
		return false, false
	}
}

// wake starts a worker for each customer that has none, to take their events from the inbox.
func (p *Processor) wake(users []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	evs := make([]Event, len(users))
	for i, u := range users {
		evs[i] = Event{UserID: u}
	}
	p.signalLocked(evs)
}

// releaseIdle gives back the leases of customers with nothing in progress: no worker, no handled
// event waiting to leave the inbox, no state waiting for its checkpoint. busy are the customers whose
// handled events stay in the inbox after this round. It then takes again those of them whose events
// arrived at another instance meanwhile.
func (p *Processor) releaseIdle(ctx context.Context, busy map[string]bool) {
	held := p.cfg.Leases.Held()
	p.mu.Lock()
	idle := make([]string, 0, len(held))
	for _, u := range held {
		if p.queues[u] != nil || busy[u] {
			continue
		}
		if e := p.convs[u]; e != nil && e.dirty {
			continue
		}
		idle = append(idle, u)
		delete(p.convs, u) // the next holder may change them: read again when taken again
	}
	ids := p.cfg.Leases.forget(idle)
	p.mu.Unlock()
	if err := p.cfg.Leases.release(ctx, ids); err != nil {
		p.log.Warn("customer leases not released; they lapse", "customers", len(ids), "err", err)
		return
	}
	p.metrics.leasesReleased(len(ids))
	again, err := p.cfg.Shared.Waiting(ctx, idle, p.cfg.Now().Add(time.Hour))
	if err != nil {
		p.log.Warn("inbox not checked after releasing leases; the scan will", "err", err)
		return
	}
	p.wake(again)
}

// scanLoop wakes, every ScanEvery, the customers with events in the inbox that nobody is working on.
func (p *Processor) scanLoop(ctx context.Context) {
	t := time.NewTicker(p.cfg.ScanEvery)
	defer t.Stop()
	before := p.cfg.Now() // at start, everything waiting: a restart resumes at once
	for {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		users, err := p.cfg.Shared.Waiting(sctx, nil, before)
		cancel()
		if err != nil && ctx.Err() == nil {
			p.log.Warn("inbox scan failed", "err", err)
		}
		p.wake(users)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Events younger than a scan period are being taken by the instance that stored them.
		before = p.cfg.Now().Add(-p.cfg.ScanEvery)
	}
}
