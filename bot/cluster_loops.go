package bot

import (
	"context"
	"math/rand/v2"
	"time"
)

// notWorking returns the customers of users this instance neither works on nor holds.
func (p *Processor) notWorking(users []string) []string {
	held := map[string]bool{}
	for _, u := range p.cfg.Leases.Held() {
		held[u] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := users[:0:0]
	for _, u := range users {
		if p.queues[u] == nil && !held[u] {
			out = append(out, u)
		}
	}
	return out
}

// releaseIdle gives back the leases of customers with nothing in progress: no worker, no handled
// event waiting to leave the inbox, no state waiting for its checkpoint. busy are the customers whose
// handled events stay in the inbox after this round. It then takes again those of them whose events
// arrived at another instance meanwhile.
func (p *Processor) releaseIdle(ctx context.Context, busy map[string]bool) {
	held := p.cfg.Leases.Held()
	p.mu.Lock()
	idle := make([]string, 0, len(held))
	since := p.cfg.Now().Add(-p.cfg.HoldIdle)
	for _, u := range held {
		if p.queues[u] != nil || busy[u] || p.active[u].After(since) {
			continue
		}
		if e := p.convs[u]; e != nil && e.dirty {
			continue
		}
		idle = append(idle, u)
		delete(p.convs, u) // the next holder may change them: read again when taken again
		delete(p.active, u)
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

// nudgeEvery is how often an instance looks for nudges: the delay of a customer's event that
// arrives at another instance than the one holding them.
const nudgeEvery = 200 * time.Millisecond

// nudgeLoop wakes the customers this instance holds whose events other instances stored.
func (p *Processor) nudgeLoop(ctx context.Context) {
	t := time.NewTicker(nudgeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		nctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var users []string
		err := p.cfg.Leases.TakeNudges(nctx, func(us []string) {
			users = us
			p.mu.Lock()
			for _, u := range us {
				p.nudged[u] = struct{}{} // a worker looking for its nudge meanwhile finds this
			}
			p.mu.Unlock()
		})
		cancel()
		if err != nil && ctx.Err() == nil {
			p.log.Warn("nudges not read; the events are taken when the customers are let go", "err", err)
		}
		p.wake(users)
	}
}

// scanBatch bounds the customers one round of the inbox scan looks up.
const scanBatch = 200

// scanLoop wakes, every ScanEvery, the customers with events in the inbox that nobody is working on.
func (p *Processor) scanLoop(ctx context.Context) {
	t := time.NewTicker(p.cfg.ScanEvery)
	defer t.Stop()
	before := p.cfg.Now() // at start, everything waiting: a restart resumes at once
	for {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		users, err := p.cfg.Shared.Waiting(sctx, nil, before)
		if err == nil {
			// Only those nobody holds: the holders take the others' events themselves. A bounded
			// number per round: a backlog must not turn into a storm of lease lookups.
			// Shuffled, so that customers further down a long list are not starved by the same
			// first ones every round.
			users = p.notWorking(users)
			rand.Shuffle(len(users), func(i, j int) { users[i], users[j] = users[j], users[i] })
			users, err = p.cfg.Leases.Unheld(sctx, users[:min(len(users), scanBatch)])
		}
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
		// Events younger than two scan periods are being taken by the instance that stored them,
		// or by their holder, which was nudged.
		before = p.cfg.Now().Add(-2 * p.cfg.ScanEvery)
	}
}
