package request

import (
	"context"
	"fmt"
	"time"

	"github.com/enemane/privacybot/flows"
)

// What the desk keeps of requests, and for how long (policy item 13; the periods come from the
// retention sweeper, package bot/retention, which calls Sweep):
//
//	documents  identity documents' bytes, the period after the identity decision (the metadata stays
//	           with the request); photos sent for a request never submitted, the period after they
//	           arrived (metadata and all)
//	packages   files staff attached to a data package, once the request is closed and its link has
//	           expired (the period is the link's life, from its issue) or was revoked (the package page
//	           itself is made from the store when opened)
//	requests   the request record with its documents' metadata and package files, the period after
//	           the request was closed

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

// closedAt is when the request was closed (its last move to a closed status); zero while open.
func (r Request) closedAt() time.Time {
	if r.Status.Open() {
		return time.Time{}
	}
	for i := len(r.History) - 1; i >= 0; i-- {
		if c := r.History[i]; c.What == ChangeStatus && !c.To.Open() {
			return c.At
		}
	}
	return r.UpdatedAt
}

// happened reports whether the history records a change of this kind.
func (r Request) happened(what string) bool {
	for _, c := range r.History {
		if c.What == what {
			return true
		}
	}
	return false
}

// Sweep implements retention.Target for documents, packages and requests. Each is idempotent: what
// went is recorded (on the request, or by its absence), so a second sweep, or two at once, deletes
// nothing more.
func (s *Service) Sweep(ctx context.Context, kind flows.DataKind, cutoff time.Time) (int64, error) {
	s.sweepMu.Lock() // one sweep at a time in this process (the store's conditional save does the rest)
	defer s.sweepMu.Unlock()
	// The sweep decides from the index: it must hold what other instances changed (a draft submitted
	// there a moment ago keeps its photos).
	if err := s.Refresh(ctx); err != nil {
		return 0, err
	}
	switch kind {
	case flows.DataDocuments:
		n, err := s.sweepDocuments(ctx, cutoff)
		if err != nil {
			return n, err
		}
		m, err := s.sweepDraftDocuments(ctx, cutoff)
		return n + m, err
	case flows.DataPackages:
		return s.sweepPackages(ctx, cutoff)
	case flows.DataRequests:
		return s.sweepRequests(ctx, cutoff)
	}
	return 0, fmt.Errorf("request: no retention rule for %q", kind)
}

// due returns copies of the requests that match.
func (s *Service) due(match func(r *Request) bool) []Request {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Request
	for _, r := range s.byRef {
		if match(r) {
			out = append(out, clone(*r))
		}
	}
	return out
}

// sweepDocuments deletes the bytes of identity documents decided on before cutoff (their metadata
// stays: type, size, digest, times) and records it on the request.
func (s *Service) sweepDocuments(ctx context.Context, cutoff time.Time) (int64, error) {
	now := s.cfg.Now()
	var total int64
	for _, r := range s.due(func(r *Request) bool {
		at := r.decidedAt()
		return !at.IsZero() && at.Before(cutoff) && !r.happened(ChangeDocsGone)
	}) {
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
		total += int64(n)
		if err := s.record(ctx, r.ID, ChangeDocsGone); err != nil {
			return total, err
		}
		s.audit(ctx, AuditDocsDelete, r.ID, fmt.Sprintf("documents=%d", n))
		s.publish(r.ID)
	}
	return total, nil
}

// sweepDraftDocuments deletes the photos sent before cutoff for a request that was never submitted
// (the chat drops such a draft after 30 days): records and bytes, for no request holds them.
func (s *Service) sweepDraftDocuments(ctx context.Context, cutoff time.Time) (int64, error) {
	docs, err := s.cfg.Store.DocumentsBefore(ctx, cutoff)
	if err != nil {
		return 0, err
	}
	drafts := map[[2]string]bool{}
	for _, d := range docs {
		s.mu.RLock()
		_, submitted := s.byKey[d.UserID+"\x00"+d.Draft]
		s.mu.RUnlock()
		if !submitted {
			drafts[[2]string{d.UserID, d.Draft}] = true
		}
	}
	var total int64
	for k := range drafts {
		// A draft submitted since the list was read keeps its photos.
		s.mu.RLock()
		_, submitted := s.byKey[k[0]+"\x00"+k[1]]
		s.mu.RUnlock()
		if submitted {
			continue
		}
		n, err := s.cfg.Store.DeleteDocuments(ctx, k[0], k[1])
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// sweepPackages deletes the files attached to the data package of a closed request once its link
// has expired or was revoked (an open request's link can still be reissued). The packages' period is
// the link's life, counted from its issue: a link issued before cutoff has expired by the end of its
// last day, cutoff plus the link's days.
func (s *Service) sweepPackages(ctx context.Context, cutoff time.Time) (int64, error) {
	expired := cutoff.AddDate(0, 0, s.cfg.LinkDays)
	var total int64
	for _, r := range s.due(func(r *Request) bool {
		p := r.Package
		return p != nil && len(p.Files) > 0 && !r.Status.Open() && (p.Revoked || !expired.Before(p.ExpiresAt)) &&
			!r.happened(ChangeFilesGone)
	}) {
		n, err := s.cfg.Store.DeletePackageFiles(ctx, r.ID)
		if err != nil {
			return total, err
		}
		total += n
		if err := s.record(ctx, r.ID, ChangeFilesGone); err != nil {
			return total, err
		}
		s.publish(r.ID)
	}
	return total, nil
}

// sweepRequests deletes the requests closed before cutoff: the record, its documents (metadata and
// any bytes left) and its package files.
func (s *Service) sweepRequests(ctx context.Context, cutoff time.Time) (int64, error) {
	var total int64
	for _, r := range s.due(func(r *Request) bool {
		at := r.closedAt()
		return !at.IsZero() && at.Before(cutoff)
	}) {
		if _, err := s.cfg.Store.DeleteDocuments(ctx, r.UserID, r.Draft); err != nil {
			return total, err
		}
		if _, err := s.cfg.Store.DeletePackageFiles(ctx, r.ID); err != nil {
			return total, err
		}
		if err := s.cfg.Store.DeleteRequest(ctx, r.ID); err != nil {
			return total, err
		}
		s.forget(r)
		total++
		s.audit(ctx, AuditRequestDeleted, r.ID, "")
	}
	return total, nil
}

// record notes on a request that the sweeper deleted something (once).
func (s *Service) record(ctx context.Context, ref, what string) error {
	_, err := s.updateLatest(ctx, ref, func(r *Request, now time.Time) error {
		if r.happened(what) {
			return errSame
		}
		r.History = append(r.History, Change{What: what, Actor: Actor{Kind: ActorSystem}, At: now})
		return nil
	})
	if err != nil && err != errSame {
		return err
	}
	return nil
}

// forget drops a deleted request from the index.
func (s *Service) forget(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byRef, r.ID)
	delete(s.byKey, r.UserID+"\x00"+r.Draft)
	refs := s.byUser[r.UserID]
	for i, ref := range refs {
		if ref == r.ID {
			s.byUser[r.UserID] = append(refs[:i:i], refs[i+1:]...)
			break
		}
	}
	if len(s.byUser[r.UserID]) == 0 {
		delete(s.byUser, r.UserID)
	}
}
