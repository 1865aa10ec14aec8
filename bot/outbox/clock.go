package outbox

import "time"

// Clock is the outbox's time: tests replace it to control retries without sleeping.
type Clock interface {
	Now() time.Time
	// Timer returns a channel that receives once d has passed, and a function that stops the timer.
	Timer(d time.Duration) (<-chan time.Time, func())
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// Timer implements Clock.
func (SystemClock) Timer(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}
