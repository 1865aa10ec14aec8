package consent

import (
	"context"
	"fmt"
	"time"
)

// recountEvery is how often Refresh checks whether another instance's sweep deleted records this
// process still holds. The check counts index entries (not one small query), and what it catches (a
// superseded record's name or address kept in memory after its period) may wait a minute.
const recountEvery = time.Minute

// Refresh brings the in-memory history up to date with the store, for several instances on one
// store: it folds the records other instances stored since (one query on the seq index, usually
// empty; readers waiting on Changed are woken), and once a minute it notices records another
// instance's retention sweep deleted (a count on the seq index) and then derives the state again
// from the store, as Open does. Idempotent; safe to call at any time, concurrently with everything.
// Once it has been called, Record and Sweep catch up before they decide.
func (c *Consents) Refresh(ctx context.Context) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.shared = true
	if err := c.catchUp(ctx); err != nil {
		return fmt.Errorf("refresh consents: %w", err)
	}
	if time.Since(c.recounted) < recountEvery {
		return nil
	}
	if err := c.reloadIfSwept(ctx); err != nil {
		return fmt.Errorf("refresh consents: %w", err)
	}
	c.recounted = time.Now()
	return nil
}

// catchUp folds the records stored with a Seq above the highest this process holds: those other
// instances recorded. The caller holds writeMu.
func (c *Consents) catchUp(ctx context.Context) error {
	c.mu.RLock()
	after := c.lastSeq
	c.mu.RUnlock()
	recs, err := c.store.ConsentsAfter(ctx, after)
	if err != nil {
		return fmt.Errorf("catch up with the consent history: %w", err)
	}
	if len(recs) > 0 {
		c.fold(recs...)
	}
	return nil
}

// reloadIfSwept derives the state again from the whole history when the store holds fewer records up
// to lastSeq than memory does: another instance's sweep deleted some (a sweep runs on one instance at
// a time, hourly, and deletes only records superseded for the consent period). Nothing is lost for
// readers: a swept record was superseded long ago, and lastSeq stays. The caller holds writeMu.
func (c *Consents) reloadIfSwept(ctx context.Context) error {
	c.mu.RLock()
	last, held := c.lastSeq, len(c.records)
	c.mu.RUnlock()
	n, err := c.store.ConsentCount(ctx, last)
	if err != nil {
		return fmt.Errorf("count consent records: %w", err)
	}
	if n == int64(held) {
		return nil
	}
	recs, err := c.store.ConsentHistory(ctx)
	if err != nil {
		return fmt.Errorf("load consent history: %w", err)
	}
	sortRecords(recs)
	x := derive(recs, last)
	c.mu.Lock()
	grew := x.lastSeq > c.lastSeq
	c.index = x
	if grew {
		c.wake()
	}
	c.mu.Unlock()
	c.log.Info("consent history reloaded: another instance swept records", "stored", n, "held", held)
	return nil
}
