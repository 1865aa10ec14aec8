package outbox

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Run sends due deliveries until ctx ends, then returns (after the attempts in flight, which ctx
// interrupts and which are not counted). Call it once; the caller waits for it to return before
// closing the store. Run alone is for one process on its store; several instances on one store run
// RunShared instead, which runs this sender on one of them at a time.
func (o *Outbox) Run(ctx context.Context) {
	if !o.running.CompareAndSwap(false, true) {
		o.log.Error("outbox: Run is running already")
		return
	}
	defer o.running.Store(false)
	o.run(ctx)
}

// run is Run's sender, with o.running already set by the caller.
func (o *Outbox) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, name := range o.names {
		l := o.lanes[name]
		wg.Go(func() { o.runLane(ctx, l) })
	}
	wg.Wait()
	<-ctx.Done()
}

func (o *Outbox) runLane(ctx context.Context, l *lane) {
	for ctx.Err() == nil {
		wait, ok := o.round(ctx, l)
		if ctx.Err() != nil {
			return
		}
		if ok && wait <= 0 {
			continue
		}
		var fire <-chan time.Time
		stop := func() {}
		if ok {
			fire, stop = o.clock.Timer(wait)
		}
		select {
		case <-ctx.Done():
		case <-l.wake:
		case <-fire:
		}
		stop()
	}
}

// round fails the deliveries that are too old and attempts the due ones, unless the lane is paused,
// and returns how long to wait for the next round (false: nothing pending, wait for Enqueue).
func (o *Outbox) round(ctx context.Context, l *lane) (time.Duration, bool) {
	now := o.clock.Now()
	var expired, due []item
	o.mu.Lock()
	paused := now.Before(l.paused)
	for _, it := range l.pending {
		switch {
		case paused:
		case !now.Before(it.d.QueuedAt.Add(o.policy.MaxAge)):
			expired = append(expired, *it)
		case !it.d.NextAttempt.After(now):
			due = append(due, *it)
		}
	}
	o.mu.Unlock()
	for _, it := range expired {
		o.giveUp(ctx, l, it.d, now)
	}
	slices.SortFunc(due, func(a, b item) int {
		return cmp.Or(a.d.NextAttempt.Compare(b.d.NextAttempt), cmp.Compare(a.seq, b.seq))
	})
	for _, it := range due {
		if ctx.Err() != nil || !o.attempt(ctx, l, it.d) {
			break
		}
	}
	return o.untilNext(l)
}

// untilNext is the wait until the lane has something to do: the next due attempt or the next
// delivery to give up, not before the lane's pause ends.
func (o *Outbox) untilNext(l *lane) (time.Duration, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(l.pending) == 0 {
		return 0, false
	}
	var next time.Time
	for _, it := range l.pending {
		t := it.d.NextAttempt
		if exp := it.d.QueuedAt.Add(o.policy.MaxAge); exp.Before(t) {
			t = exp
		}
		if t.Before(l.paused) {
			t = l.paused
		}
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next.Sub(o.clock.Now()), true
}

// attempt makes one attempt and records its outcome. It returns false when the lane should stop
// this round: the destination failed transiently (it is paused), or ctx ended.
func (o *Outbox) attempt(ctx context.Context, l *lane, d Delivery) bool {
	actx, cancel := context.WithTimeout(ctx, o.policy.Timeout)
	res := l.dest.Deliver(actx, d)
	cancel()
	if res.Err != nil && ctx.Err() != nil {
		return false // interrupted by shutdown: not an attempt; it stays pending as it was
	}
	// The outcome is recorded even if ctx ends meanwhile (the caller waits for Run to return before
	// closing the store): a delivery whose 2xx went unrecorded would be sent again after a restart.
	bctx, bcancel := context.WithTimeout(context.WithoutCancel(ctx), o.policy.Timeout)
	defer bcancel()
	ctx = bctx
	now := o.clock.Now()
	d.Attempts++
	d.LastAttempt, d.LastStatus, d.LastError = now, res.Status, ""
	if res.Err != nil {
		d.LastError = truncate(res.Err.Error(), 500)
	}
	log := o.log.With("delivery", d.ID, "destination", d.Destination, "type", d.Type, "attempt", d.Attempts, "status", res.Status)
	switch {
	case res.Err == nil:
		d.State, d.DoneAt, d.NextAttempt = Delivered, now, time.Time{}
		if err := o.store.Finish(ctx, d); err != nil {
			// Sent, but still pending in the store: sent again after a restart, under the same key.
			log.Warn("outbox: delivered, but the store did not record it", "err", err)
		}
		o.mu.Lock()
		delete(l.pending, d.ID)
		o.finished(d)
		l.delivered++
		l.recent = append(l.recent, d)
		if len(l.recent) > o.keep {
			l.recent = slices.Delete(l.recent, 0, len(l.recent)-o.keep)
		}
		l.streak, l.paused = 0, time.Time{}
		o.mu.Unlock()
		log.Info("outbox: delivered")
		return true
	case res.Permanent:
		o.fail(ctx, l, d, now, log.With("err", d.LastError), "outbox: refused; not retried")
		o.mu.Lock()
		l.streak = 0 // the destination answered: it is up
		o.mu.Unlock()
		return true
	}
	retryAfter := min(res.RetryAfter, o.policy.MaxAge)
	d.NextAttempt = now.Add(max(o.policy.backoff(d.Attempts), retryAfter))
	if err := o.store.Save(ctx, d); err != nil {
		log.Warn("outbox: attempt not recorded", "err", err)
	}
	o.mu.Lock()
	if it := l.pending[d.ID]; it != nil {
		it.d = d
	}
	l.streak++
	l.retried++
	pause := max(o.policy.backoff(l.streak), retryAfter)
	l.paused = now.Add(pause)
	o.mu.Unlock()
	log.Warn("outbox: attempt failed; will retry", "err", d.LastError, "retry_in_ms", d.NextAttempt.Sub(now).Milliseconds(),
		"lane_paused_ms", pause.Milliseconds())
	return false
}

// giveUp fails a delivery that was not accepted within Policy.MaxAge.
func (o *Outbox) giveUp(ctx context.Context, l *lane, d Delivery, now time.Time) {
	last := d.LastError
	if last == "" {
		last = "none recorded"
	}
	d.LastError = truncate(fmt.Sprintf("not delivered within %s; last error: %s", o.policy.MaxAge, last), 600)
	o.fail(ctx, l, d, now, o.log.With("delivery", d.ID, "destination", d.Destination, "type", d.Type, "attempts", d.Attempts),
		"outbox: given up")
}

// fail moves a delivery to the failed set. If the store cannot record that, the delivery stays
// pending and is attempted (or given up) again later.
func (o *Outbox) fail(ctx context.Context, l *lane, d Delivery, now time.Time, log *slog.Logger, msg string) {
	d.State, d.DoneAt, d.NextAttempt = Failed, now, time.Time{}
	if err := o.store.Finish(ctx, d); err != nil {
		// The lane waits for the store, then tries again (an attempt, or giving up).
		log.Warn("outbox: failed delivery not recorded; kept pending", "err", err)
		wait := o.policy.backoff(max(d.Attempts, 1))
		d.State, d.DoneAt, d.NextAttempt = Pending, time.Time{}, now.Add(wait)
		o.mu.Lock()
		if it := l.pending[d.ID]; it != nil {
			it.d = d
		}
		if until := now.Add(wait); until.After(l.paused) {
			l.paused = until
		}
		o.mu.Unlock()
		return
	}
	o.mu.Lock()
	delete(l.pending, d.ID)
	o.finished(d)
	l.failed++
	o.mu.Unlock()
	log.Error(msg)
}
