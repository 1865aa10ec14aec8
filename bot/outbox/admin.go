package outbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Pending returns the pending deliveries of a destination ("" = every destination), oldest first,
// with their attempts, next attempt and last status and error.
func (o *Outbox) Pending(destination string) []Delivery {
	o.mu.Lock()
	var its []item
	for _, name := range o.names {
		if destination == "" || destination == name {
			for _, it := range o.lanes[name].pending {
				its = append(its, *it)
			}
		}
	}
	o.mu.Unlock()
	slices.SortFunc(its, func(a, b item) int { return cmp.Or(a.d.QueuedAt.Compare(b.d.QueuedAt), cmp.Compare(a.seq, b.seq)) })
	out := make([]Delivery, len(its))
	for i, it := range its {
		out[i] = it.d
	}
	return out
}

// Counts is one destination's numbers (metrics): pending now, and the outcomes since the outbox opened.
type Counts struct {
	Pending int
	// OldestPending is when the oldest pending delivery was queued (zero when none is pending).
	OldestPending time.Time
	// Delivered, Failed (refused for good or given up) and Retried (attempts that failed transiently
	// and will be made again) since the outbox opened.
	Delivered, Failed, Retried int64
}

// Counts returns the numbers of every destination, by name, without copying the deliveries.
func (o *Outbox) Counts() map[string]Counts {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]Counts, len(o.names))
	for _, name := range o.names {
		l := o.lanes[name]
		c := Counts{Pending: len(l.pending), Delivered: l.delivered, Failed: l.failed, Retried: l.retried}
		for _, it := range l.pending {
			if c.OldestPending.IsZero() || it.d.QueuedAt.Before(c.OldestPending) {
				c.OldestPending = it.d.QueuedAt
			}
		}
		out[name] = c
	}
	return out
}

// Delivered returns the deliveries of a destination ("" = every destination) delivered since the
// outbox opened, newest first (at most Config.KeepDelivered per destination).
func (o *Outbox) Delivered(destination string) []Delivery {
	o.mu.Lock()
	var out []Delivery
	for _, name := range o.names {
		if destination == "" || destination == name {
			out = append(out, o.lanes[name].recent...)
		}
	}
	o.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Delivery) int { return b.DoneAt.Compare(a.DoneAt) })
	return out
}

// Failed returns the failed deliveries of a destination ("" = every destination), most recently
// failed first. It reads the store.
func (o *Outbox) Failed(ctx context.Context, destination string) ([]Delivery, error) {
	all, err := o.store.Failed(ctx)
	if err != nil {
		return nil, fmt.Errorf("outbox: list failed: %w", err)
	}
	o.mu.Lock()
	out := all[:0]
	for _, d := range all {
		if destination != "" && d.Destination != destination {
			continue
		}
		if l := o.lanes[d.Destination]; l != nil && l.pending[d.ID] != nil {
			continue // put back by Retry; its failed record is on its way out
		}
		out = append(out, d)
	}
	o.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Delivery) int { return cmp.Or(b.DoneAt.Compare(a.DoneAt), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// Retry puts a failed delivery back in the pending set: attempts start again from 0, with a fresh
// window of Policy.MaxAge, at once. It returns the pending delivery; ErrNotFailed when id is not a
// failed delivery, ErrUnknownDestination when its destination is not configured.
func (o *Outbox) Retry(ctx context.Context, id string) (Delivery, error) {
	o.enqMu.Lock()
	defer o.enqMu.Unlock()
	failed, err := o.store.Failed(ctx)
	if err != nil {
		return Delivery{}, fmt.Errorf("outbox: retry %s: %w", id, err)
	}
	i := slices.IndexFunc(failed, func(d Delivery) bool { return d.ID == id })
	if i < 0 {
		return Delivery{}, ErrNotFailed
	}
	d := failed[i]
	l := o.lanes[d.Destination]
	if l == nil {
		return Delivery{}, fmt.Errorf("%w %q", ErrUnknownDestination, d.Destination)
	}
	o.mu.Lock()
	cur := l.pending[id]
	o.mu.Unlock()
	if cur != nil {
		return cur.d, nil
	}
	now := o.clock.Now()
	d.State, d.Attempts, d.QueuedAt, d.NextAttempt, d.DoneAt = Pending, 0, now, now, time.Time{}
	if err := o.store.Reopen(ctx, d); err != nil {
		if errors.Is(err, ErrNotFailed) {
			return Delivery{}, err
		}
		return Delivery{}, fmt.Errorf("outbox: retry %s: %w", id, err)
	}
	o.add(l, d)
	o.log.Info("outbox: failed delivery put back", "delivery", id, "destination", d.Destination)
	return d, nil
}

// truncate cuts s to at most n bytes, on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
