package request

import (
	"context"
	"fmt"
	"time"

	"github.com/enemane/privacybot/flows"
)

// decidedAt is when the identity decision on a request was made: its first move out of received or
// documents_needed (verified, rejected, or withdrawn before a decision). Zero while undecided.
func (r Request) decidedAt() time.Time {
	for _, c := range r.History {
		if c.What == ChangeStatus && c.To != flows.StatusReceived && c.To != flows.StatusDocumentsNeeded {
			return c.At
		}
	}
	return time.Time{}
}

// documentsGone reports whether the request's documents were deleted on schedule already.
func (r Request) documentsGone() bool {
	for _, c := range r.History {
		if c.What == ChangeDocsGone {
			return true
		}
	}
	return false
}

// SweepDocuments deletes the bytes of identity documents DocumentsKeep after the identity decision on
// their request (their metadata stays: type, size, digest, times), and records it on the request.
// It returns how many documents it deleted. Running it again, or twice at once, deletes nothing more.
func (s *Service) SweepDocuments(ctx context.Context) (int, error) {
	s.sweepMu.Lock() // one sweep at a time in this process (the store's conditional save keeps a deleted document deleted)
	defer s.sweepMu.Unlock()
	now := s.cfg.Now()
	s.mu.RLock()
	var due []Request
	for _, r := range s.byRef {
		if at := r.decidedAt(); !at.IsZero() && !now.Before(at.Add(s.cfg.DocumentsKeep)) && !r.documentsGone() {
			due = append(due, clone(*r))
		}
	}
	s.mu.RUnlock()
	total := 0
	for _, r := range due {
		docs, err := s.cfg.Store.Documents(ctx, r.UserID, r.Draft)
		if err != nil {
			return total, err
		}
		n := 0
		for _, d := range docs {
			if d.Status != DocStored && d.Status != DocFetching {
				continue
			}
			d.Status, d.Sealed, d.DeletedAt = DocDeleted, nil, now
			if err := s.cfg.Store.SaveDocument(ctx, d); err != nil {
				return total, err
			}
			n++
		}
		total += n
		if _, err := s.update(ctx, r.ID, func(r *Request, now time.Time) error {
			if r.documentsGone() {
				return errSame
			}
			r.History = append(r.History, Change{What: ChangeDocsGone, Actor: Actor{Kind: ActorSystem}, At: now})
			return nil
		}); err != nil && err != errSame {
			return total, err
		}
		s.audit(ctx, AuditDocsDelete, r.ID, fmt.Sprintf("documents=%d", n))
		s.publish(r.ID)
	}
	if total > 0 {
		s.cfg.Log.Info("identity documents deleted on schedule", "documents", total)
	}
	return total, nil
}

// sweepLoop runs SweepDocuments at start and then every hour until ctx ends.
func (s *Service) sweepLoop(ctx context.Context) {
	for {
		if _, err := s.SweepDocuments(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("document sweep failed; tried again in an hour", "err", err)
		}
		t := time.NewTimer(time.Hour)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
