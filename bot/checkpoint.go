package bot

import (
	"context"
	"time"
)

// checkpointLoop periodically writes changed conversation states and then lets handled events leave the
// inbox. The order matters: an event leaves the inbox only after the state it produced is checkpointed,
// so a restart never resumes from a state older than the inbox assumes.
func (p *Processor) checkpointLoop() {
	defer close(p.ckDone)
	t := time.NewTicker(p.cfg.CheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.checkpoint()
		case <-p.ckStop:
			p.checkpoint()
			return
		}
	}
}

func (p *Processor) checkpoint() {
	p.mu.Lock()
	handled := p.handled
	p.handled = nil
	var dirty []Conversation
	for _, e := range p.convs {
		if e.dirty {
			e.conv.UpdatedAt = p.cfg.Now()
			dirty = append(dirty, e.conv)
			e.dirty = false
		}
	}
	p.mu.Unlock()
	if len(handled) == 0 && len(dirty) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := p.cfg.Journal.SaveConversations(ctx, dirty)
	if err == nil {
		err = p.cfg.Journal.RemoveFromInbox(ctx, handled)
	}
	if err != nil {
		// Put everything back for the next round; nothing is lost, the inbox just stays larger.
		p.log.Warn("checkpoint failed; will retry", "conversations", len(dirty), "events", len(handled), "err", err)
		p.mu.Lock()
		p.handled = append(p.handled, handled...)
		for _, c := range dirty {
			if e := p.convs[c.UserID]; e != nil {
				e.dirty = true
			}
		}
		p.mu.Unlock()
	}
}
