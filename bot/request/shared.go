package request

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Several instances on one store. Each keeps its own index of the requests, and any of them may
// change one: the chat's steps run on whichever instance holds the customer, staff act on whichever
// serves their console, the fetcher on whichever received the photo. What one writes the others read
// back: Refresh (every few seconds) takes in what changed since its last read, RefreshUser a
// customer's requests at once, and an update that finds the stored version moved on reads the
// request again. Documents left "fetching" by an instance that died are queued again by one
// instance (RequeueStranded, under the store's lease "documents").

// Lease keeps a piece of work on one instance at a time. It is the store's lease, the one the
// retention sweeper and the outbox's sender take (store.Store implements it).
type Lease interface {
	// TryLease takes the named lease for holder until the given time, or renews it when holder has
	// it; false when another holder has it and it has not expired at now.
	TryLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	// ReleaseLease gives the lease up if holder has it.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// DocumentsLease is the lease of RequeueStranded in the store.
const DocumentsLease = "documents"

const (
	// refreshMargin is how far before its last read Refresh reads again. A change is stamped
	// (UpdatedAt) with its instance's clock before it is written, and may land up to a store
	// operation's timeout (10 s) later: a read in that gap misses it, the next one takes it. Changes
	// read twice are told apart by their version.
	refreshMargin = 15 * time.Second
	// fullRefreshEvery is how often Refresh reads every request instead, to drop those that another
	// instance's retention sweep deleted (a deletion leaves nothing to read since).
	fullRefreshEvery = 10 * time.Minute
	// strandedAfter is how long past its fetcher's deadline (Config.FetchFor from its arrival) a
	// document may stay "fetching" before RequeueStranded takes it for abandoned: a live instance
	// has stored or refused it by then.
	strandedAfter = time.Minute
)

// Refresh reads what other instances changed since the last read (and, every fullRefreshEvery,
// everything, dropping what was deleted) into the index, and tells the subscribers (the console's
// live views) of each request that changed.
func (s *Service) Refresh(ctx context.Context) error {
	s.refreshMu.Lock()
	full := s.seen.IsZero() || !s.cfg.Now().Before(s.fullAt.Add(fullRefreshEvery))
	s.refreshMu.Unlock()
	if full {
		_, err := s.readAll(ctx)
		return err
	}
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	started := s.cfg.Now()
	rs, err := s.cfg.Store.RequestsUpdatedSince(ctx, s.seen.Add(-refreshMargin))
	if err != nil {
		return fmt.Errorf("refresh requests: %w", err)
	}
	s.seen = started
	s.take(rs)
	return nil
}

// readAll reads every request into the index (Open, and Refresh now and then), drops those no longer
// stored, and returns how many it dropped.
func (s *Service) readAll(ctx context.Context) (int, error) {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	started := s.cfg.Now()
	all, err := s.cfg.Store.AllRequests(ctx)
	if err != nil {
		return 0, fmt.Errorf("load requests: %w", err)
	}
	opening := s.seen.IsZero()
	s.seen, s.fullAt = started, started
	stored := make(map[string]bool, len(all))
	for _, r := range all {
		stored[r.ID] = true
	}
	var gone []Request
	s.mu.RLock()
	for _, r := range s.byRef {
		// One written since the read began (here or elsewhere) may be missing from it.
		if !stored[r.ID] && r.UpdatedAt.Before(started.Add(-refreshMargin)) {
			gone = append(gone, clone(*r))
		}
	}
	s.mu.RUnlock()
	for _, r := range gone {
		s.forget(r)
		s.publish(r.ID)
	}
	if opening {
		s.mu.Lock()
		for i := range all {
			s.index(&all[i])
		}
		s.mu.Unlock()
		return 0, nil
	}
	s.take(all)
	return len(gone), nil
}

// take indexes requests read from the store and tells the subscribers of those that changed.
func (s *Service) take(rs []Request) {
	var changed []string
	s.mu.Lock()
	for i := range rs {
		if s.index(&rs[i]) {
			changed = append(changed, rs[i].ID)
		}
	}
	s.mu.Unlock()
	for _, ref := range changed {
		s.publish(ref)
	}
}

// RefreshUser reads a customer's requests into the index at once: for an instance that takes over a
// customer (their next step asks Desk), and for an update that found its request changed elsewhere.
func (s *Service) RefreshUser(ctx context.Context, userID string) error {
	rs, err := s.cfg.Store.UserRequests(ctx, userID)
	if err != nil {
		return fmt.Errorf("refresh the requests of a customer: %w", err)
	}
	s.take(rs)
	return nil
}

// RequeueStranded queues again the documents left "fetching" by an instance that died (its queue
// was in its memory): those past their fetcher's deadline by strandedAfter, and not queued in this
// process. It runs on one instance at a time (the lease DocumentsLease, held for leaseFor and
// renewed by each call), and returns how many it queued; 0 when another instance holds the lease.
func (s *Service) RequeueStranded(ctx context.Context, lease Lease, holder string, leaseFor time.Duration) (int, error) {
	now := s.cfg.Now()
	ok, err := lease.TryLease(ctx, DocumentsLease, holder, now, now.Add(leaseFor))
	if err != nil || !ok {
		return 0, err
	}
	docs, err := s.cfg.Store.FetchingDocuments(ctx)
	if err != nil {
		return 0, fmt.Errorf("stranded documents: %w", err)
	}
	n := 0
	for _, d := range docs {
		if now.Sub(d.CreatedAt) < s.cfg.FetchFor+strandedAfter {
			continue
		}
		if s.queueFetch(d) {
			s.cfg.Log.Warn("document left fetching queued again", "document", d.ID, "since", d.CreatedAt)
			n++
		}
	}
	return n, nil
}

// RunShared keeps this instance current with the others until ctx ends: Refresh every `every` (a few
// seconds: how late a change made elsewhere reaches this instance's chat and console), and a minute
// apart RequeueStranded under the lease, which is released when ctx ends. Run it on every instance,
// beside Run; holder names this instance (INSTANCE_ID).
func (s *Service) RunShared(ctx context.Context, lease Lease, holder string, every time.Duration) {
	if every <= 0 {
		every = 2 * time.Second
	}
	const requeueEvery = time.Minute
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := lease.ReleaseLease(rctx, DocumentsLease, holder); err != nil {
			s.cfg.Log.Warn("documents lease not released; it expires on its own", "err", err)
		}
	}()
	var requeued time.Time
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Log.Warn("requests not refreshed", "err", err)
		}
		if now := s.cfg.Now(); !now.Before(requeued.Add(requeueEvery)) {
			requeued = now
			if _, err := s.RequeueStranded(ctx, lease, holder, 3*requeueEvery); err != nil && ctx.Err() == nil {
				s.cfg.Log.Warn("stranded documents not queued again", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// updateLatest is update for the desk's own changes (a document arrived, the sweeper's records, the
// customer's withdrawal and erasure, a download counted): none was decided on a view someone saw, so
// when the stored version moved on (another instance changed the request), the request is read
// again and the change applied to what it is now. Staff's changes stay with update, which answers
// ErrConflict for them to look again.
func (s *Service) updateLatest(ctx context.Context, ref string, change func(r *Request, now time.Time) error) (Request, error) {
	for attempt := 0; ; attempt++ {
		r, err := s.update(ctx, ref, change)
		if !errors.Is(err, ErrConflict) || attempt == 2 {
			return r, err
		}
	}
}
