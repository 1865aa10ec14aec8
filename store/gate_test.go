package store

import (
	"runtime"
	"sync"
	"testing"
)

// waiters reports how many acquirers are queued (tests wait on it instead of sleeping).
func (g *writeGate) waiters() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.urgent) + len(g.rest)
}

// waitQueued yields until n acquirers are queued at the gate.
func waitQueued(t *testing.T, g *writeGate, n int) {
	t.Helper()
	for g.waiters() < n {
		runtime.Gosched()
	}
}

func TestWriteGateServesUrgentFirstAndOneAtATime(t *testing.T) {
	var g writeGate
	g.acquire(false) // the turn is taken
	var (
		mu     sync.Mutex
		order  []string
		inside int
		wg     sync.WaitGroup
	)
	enter := func(name string, urgent bool) {
		defer wg.Done()
		g.acquire(urgent)
		mu.Lock()
		inside++
		if inside != 1 {
			t.Errorf("%d holders at once", inside)
		}
		order = append(order, name)
		inside--
		mu.Unlock()
		g.release()
	}
	wg.Add(3)
	go enter("rest1", false)
	waitQueued(t, &g, 1) // rest1 queues first
	go enter("urgent", true)
	waitQueued(t, &g, 2)
	go enter("rest2", false)
	waitQueued(t, &g, 3)
	g.release()
	wg.Wait()
	want := []string{"urgent", "rest1", "rest2"}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
}
