package bot

import (
	"sync"
	"sync/atomic"
	"time"
)

// Metrics counts what the processor did. Read it with Processor.Stats.
type Metrics struct {
	processed, duplicates, ignored, silenced, checkpointsDeferred, replies, pushes, retries, failures, storeErrors atomic.Int64

	mu      sync.Mutex
	sendSum time.Duration
	sendN   int64
}

func (m *Metrics) observeSend(d time.Duration) {
	m.mu.Lock()
	m.sendSum += d
	m.sendN++
	m.mu.Unlock()
}

// Stats is a snapshot of the processor's counters.
type Stats struct {
	Processed   int64 `json:"processed"`
	Duplicates  int64 `json:"duplicates"`
	Ignored     int64 `json:"ignored"`
	Silenced    int64 `json:"silenced"`
	Replies     int64 `json:"replies"`
	Pushes      int64 `json:"pushes"`
	Retries     int64 `json:"retries"`
	Failures    int64 `json:"failures"`
	StoreErrors int64 `json:"storeErrors"`
	QueuedUsers int   `json:"queuedUsers"`
	// Unfinished counts events taken and not yet out of the inbox (queued, running, or handled and
	// waiting for their checkpoint); zero means every event handed over is answered and checkpointed.
	Unfinished  int     `json:"unfinished"`
	CachedUsers int     `json:"cachedUsers"`
	AvgSendMs   float64 `json:"avgSendMs"`
}

// Stats returns the processor's counters.
func (p *Processor) Stats() Stats {
	m := &p.metrics
	s := Stats{
		Processed: m.processed.Load(), Duplicates: m.duplicates.Load(), Ignored: m.ignored.Load(), Silenced: m.silenced.Load(),
		Replies: m.replies.Load(), Pushes: m.pushes.Load(), Retries: m.retries.Load(),
		Failures: m.failures.Load(), StoreErrors: m.storeErrors.Load(),
	}
	m.mu.Lock()
	if m.sendN > 0 {
		s.AvgSendMs = float64(m.sendSum.Microseconds()) / float64(m.sendN) / 1000
	}
	m.mu.Unlock()
	p.mu.Lock()
	s.QueuedUsers, s.CachedUsers, s.Unfinished = len(p.queues), len(p.convs), len(p.known)-len(p.released)
	p.mu.Unlock()
	return s
}
