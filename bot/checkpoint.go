package bot

import (
	"context"
	"time"
)

// checkpointLoop periodically writes changed conversation states and lets handled events leave the
// inbox. An event leaves the inbox only once the state it produced is durable, so a restart never
// resumes from a state older than the inbox assumes.
func (p *Processor) checkpointLoop() {
	defer close(p.ckDone)
	t := time.NewTicker(p.cfg.CheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.checkpoint(p.cfg.CheckpointBudget)
		case <-p.ckStop:
			// The last round at shutdown writes everything it can in 30 s, so that the inbox can be
			// sealed and the next start has nothing to resume.
			p.checkpoint(30 * time.Second)
			return
		}
	}
}

// checkpoint writes first checkpoints of new conversations (cheap inserts) and as many overwrites of
// changed ones as CheckpointBudget allows (each is a collection scan on the embedded engine), then
// removes from the inbox the handled events of every customer whose state is now durable. Customers
// still waiting for their overwrite keep their events in the inbox until a later round.
func (p *Processor) checkpoint(budget time.Duration) {
	p.mu.Lock()
	handled := p.handled
	p.handled = nil
	var fresh, changed []Conversation
	for _, e := range p.convs {
		if !e.dirty {
			continue
		}
		e.conv.UpdatedAt = p.cfg.Now()
		if e.stored {
			changed = append(changed, e.conv)
		} else {
			fresh = append(fresh, e.conv)
		}
		// stored becomes true now: should this first write fail, the retry overwrites (upserts).
		e.dirty, e.stored = false, true
	}
	p.mu.Unlock()
	if len(handled) == 0 && len(fresh) == 0 && len(changed) == 0 {
		p.mu.Lock()
		p.forgetReleasedLocked()
		p.mu.Unlock()
		if p.shared() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p.releaseIdle(ctx, nil)
		}
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), budget+30*time.Second)
	defer cancel()
	pending := map[string]bool{} // customers whose state is not durable yet
	if err := p.cfg.Journal.InsertConversations(ctx, fresh); err != nil {
		p.log.Warn("checkpoint of new conversations failed; will retry", "conversations", len(fresh), "err", err)
		for _, c := range fresh {
			pending[c.UserID] = true
		}
	}
	deadline := time.Now().Add(budget)
	for i, c := range changed {
		if time.Now().After(deadline) {
			for _, rest := range changed[i:] {
				pending[rest.UserID] = true
			}
			p.metrics.checkpointsDeferred(len(changed) - i)
			break
		}
		if err := p.cfg.Journal.SaveConversations(ctx, []Conversation{c}); err != nil {
			p.log.Warn("checkpoint failed; will retry", "err", err)
			for _, rest := range changed[i:] {
				pending[rest.UserID] = true
			}
			break
		}
	}

	var remove []string
	var keep []handledEvent
	for _, h := range handled {
		if pending[h.user] {
			keep = append(keep, h)
		} else {
			remove = append(remove, h.id)
		}
	}
	err := p.cfg.Journal.RemoveFromInbox(ctx, remove)
	if err != nil {
		// Nothing is lost: the events stay in the inbox a little longer (a restart would find them
		// processed and delivered, and do nothing).
		p.log.Warn("inbox cleanup failed; will retry", "events", len(remove), "err", err)
		for _, id := range remove {
			keep = append(keep, handledEvent{id: id})
		}
	}
	p.mu.Lock()
	p.forgetReleasedLocked()
	if err == nil {
		p.released = remove
	}
	p.handled = append(p.handled, keep...)
	for user := range pending {
		if e := p.convs[user]; e != nil {
			e.dirty = true
		}
	}
	busy := map[string]bool{}
	for _, h := range p.handled {
		busy[h.user] = true
	}
	p.mu.Unlock()
	if p.shared() {
		p.releaseIdle(ctx, busy)
	}
}

// forgetReleasedLocked forgets the events that left the inbox at the previous round: the inbox knows
// them as handled by now, and any webhook handler that raced their release has enqueued by now.
func (p *Processor) forgetReleasedLocked() {
	for _, id := range p.released {
		delete(p.known, id)
	}
	p.released = nil
}
