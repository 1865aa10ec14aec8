package handlers

import (
	"sync"
	"time"
)

// loginLimiter slows password guessing down without locking anyone out: per key (the client's
// address, the e-mail tried) the first few failures cost nothing, then each further attempt must
// wait twice as long as the one before, up to a minute. A guesser gets about one try a minute per
// account and per address; the real user, whose account a guesser keeps busy, waits at most a
// minute rather than a quarter of an hour. Failures are forgotten after the window.
type loginLimiter struct {
	mu       sync.Mutex
	free     int           // failures that cost no wait
	base     time.Duration // the wait after the first costly failure
	maxWait  time.Duration
	window   time.Duration
	failures map[string]*failures
}

type failures struct {
	n    int
	last time.Time
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{free: 3, base: time.Second, maxWait: time.Minute, window: 15 * time.Minute,
		failures: map[string]*failures{}}
}

// wait returns how long the keys must still wait before another attempt (0: try now).
func (l *loginLimiter) wait(now time.Time, keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var longest time.Duration
	for _, k := range keys {
		f := l.failures[k]
		if f == nil {
			continue
		}
		if now.Sub(f.last) >= l.window {
			delete(l.failures, k)
			continue
		}
		if w := f.last.Add(l.delay(f.n)).Sub(now); w > longest {
			longest = w
		}
	}
	return longest
}

// delay is the wait after n failures.
func (l *loginLimiter) delay(n int) time.Duration {
	if n <= l.free {
		return 0
	}
	d := l.base << min(n-l.free-1, 16)
	return min(d, l.maxWait)
}

func (l *loginLimiter) fail(now time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) > 100_000 {
		l.pruneLocked(now)
	}
	for _, k := range keys {
		f := l.failures[k]
		if f == nil {
			f = &failures{}
			l.failures[k] = f
		}
		f.n++
		f.last = now
	}
}

func (l *loginLimiter) reset(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.failures, k)
	}
}

// pruneLocked forgets keys whose last failure is older than the window (bounds memory under a spray
// of addresses or e-mails).
func (l *loginLimiter) pruneLocked(now time.Time) {
	for k, f := range l.failures {
		if now.Sub(f.last) >= l.window {
			delete(l.failures, k)
		}
	}
}
