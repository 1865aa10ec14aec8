package store

import (
	"sync"
	"testing"
	"time"
)

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
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		inside--
		mu.Unlock()
		g.release()
	}
	wg.Add(3)
	go enter("rest1", false)
	time.Sleep(20 * time.Millisecond) // let rest1 queue first
	go enter("urgent", true)
	time.Sleep(20 * time.Millisecond)
	go enter("rest2", false)
	time.Sleep(20 * time.Millisecond)
	g.release()
	wg.Wait()
	want := []string{"urgent", "rest1", "rest2"}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
}
