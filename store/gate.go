package store

import "sync"

// writeGate hands out the embedded engine's single write turn, urgent requests first. Webhook
// acknowledgements wait for their inbox insert; with plain FIFO they would also wait behind every step
// and transcript insert queued before them, which is what LINE would see as a slow webhook.
type writeGate struct {
	mu           sync.Mutex
	busy         bool
	urgent, rest []chan struct{}
}

// acquire waits for the turn; release must follow.
func (g *writeGate) acquire(urgent bool) {
	g.mu.Lock()
	if !g.busy {
		g.busy = true
		g.mu.Unlock()
		return
	}
	ch := make(chan struct{})
	if urgent {
		g.urgent = append(g.urgent, ch)
	} else {
		g.rest = append(g.rest, ch)
	}
	g.mu.Unlock()
	<-ch
}

// release passes the turn to the oldest urgent waiter, else the oldest other one.
func (g *writeGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	var next chan struct{}
	switch {
	case len(g.urgent) > 0:
		next, g.urgent = g.urgent[0], g.urgent[1:]
	case len(g.rest) > 0:
		next, g.rest = g.rest[0], g.rest[1:]
	default:
		g.busy = false
		return
	}
	close(next) // the turn passes directly: busy stays true
}
