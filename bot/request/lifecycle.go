package request

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

// Transition is a staff member's (or the back office's) move of a request to another status.
type Transition struct {
	To flows.RequestStatus
	// Reason is what the customer reads: why (rejected, refused) or what is missing
	// (documents_needed). Required for those (NeedsReason).
	Reason string
	// Note is internal: staff and the back office read it, the customer never does.
	Note string
	// Outcome is, on completing 訂正/追加/削除, what was changed (the customer reads it).
	Outcome string
	Actor   Actor
}

// maxText bounds the texts staff write into a request (a LINE message holds 5,000 characters; the
// notice wraps the reason in a sentence).
const maxText = 2000

// Transition moves a request along its lifecycle: the change is recorded with its actor and time,
// the customer is told by push in their language, and the back office's webhook is queued. Errors:
// bot.ErrNotFound, ErrTransition (the lifecycle does not allow it), ErrReasonRequired, ErrConflict.
// Completing a disclosure-type request with electronic delivery issues its package link; completing
// a 削除/消去 request erases what the desk holds about the customer (after the notice).
func (s *Service) Transition(ctx context.Context, ref string, t Transition) (Request, error) {
	t.Reason, t.Note, t.Outcome = clean(t.Reason), clean(t.Note), clean(t.Outcome)
	if NeedsReason(t.To) && t.Reason == "" {
		return Request{}, ErrReasonRequired
	}
	if tooLong(t.Reason, t.Note, t.Outcome) {
		return Request{}, fmt.Errorf("%w: at most %d characters", ErrTooLong, maxText)
	}
	var link string
	r, err := s.update(ctx, ref, func(r *Request, now time.Time) error {
		if !Allowed(r.Status, t.To) {
			return ErrTransition
		}
		r.History = append(r.History, Change{What: ChangeStatus, From: r.Status, To: t.To, Reason: t.Reason,
			Note: t.Note, Actor: t.Actor, At: now})
		r.Status = t.To
		switch t.To {
		case flows.StatusDocumentsNeeded:
			r.Missing = t.Reason
		case flows.StatusCompleted:
			r.Outcome = t.Outcome
			if r.Kinds&flows.KindsAnswered != 0 && r.Delivery == flows.DeliveryElectronic {
				var err error
				if link, err = s.issueLink(r, now, t.Actor); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	n := flows.RequestNotice{What: flows.NoticeStatus, Status: t.To, Reason: t.Reason, Link: link,
		Outcome: t.Outcome, Erase: t.To == flows.StatusCompleted && r.Kinds&flows.KindsErase != 0}
	if link != "" {
		n.Expires = s.linkExpiry(r)
	}
	s.changed(ctx, r, "status."+string(t.To), n, len(r.History))
	return r, nil
}

// ErrTooLong is returned for a text longer than staff may write into a request.
var ErrTooLong = errors.New("request: text too long")

// Extend moves the due date of an open request to due (a later day), with a reason the customer
// reads.
func (s *Service) Extend(ctx context.Context, ref string, due time.Time, reason string, a Actor) (Request, error) {
	reason = clean(reason)
	if reason == "" {
		return Request{}, ErrReasonRequired
	}
	if tooLong(reason) {
		return Request{}, fmt.Errorf("%w: at most %d characters", ErrTooLong, maxText)
	}
	y, m, d := due.In(s.cfg.Location).Date()
	due = time.Date(y, m, d, 23, 59, 59, 0, s.cfg.Location)
	r, err := s.update(ctx, ref, func(r *Request, now time.Time) error {
		if !r.Open() || !due.After(r.DueAt) {
			return ErrTransition
		}
		r.History = append(r.History, Change{What: ChangeExtended, Reason: reason, Due: due, Actor: a, At: now})
		r.DueAt = due
		return nil
	})
	if err != nil {
		return r, err
	}
	s.changed(ctx, r, "extended", flows.RequestNotice{What: flows.NoticeExtended, Reason: reason}, len(r.History))
	return r, nil
}

// Note adds an internal note (never shown to the customer).
func (s *Service) Note(ctx context.Context, ref, text string, a Actor) (Request, error) {
	text = clean(text)
	if text == "" {
		return Request{}, ErrReasonRequired
	}
	if tooLong(text) {
		return Request{}, fmt.Errorf("%w: at most %d characters", ErrTooLong, maxText)
	}
	r, err := s.update(ctx, ref, func(r *Request, now time.Time) error {
		r.History = append(r.History, Change{What: ChangeNote, Note: text, Actor: a, At: now})
		return nil
	})
	if err == nil {
		s.publish(r.ID)
	}
	return r, err
}

// withdraw is the customer withdrawing their own open request from the chat (the flow answered it).
func (s *Service) withdraw(ctx context.Context, userID, ref string) error {
	r, err := s.updateLatest(ctx, ref, func(r *Request, now time.Time) error {
		if r.UserID != userID {
			return bot.ErrNotFound
		}
		if r.Status == flows.StatusWithdrawn {
			return errSame
		}
		if !r.Open() {
			return ErrTransition
		}
		r.History = append(r.History, Change{What: ChangeStatus, From: r.Status, To: flows.StatusWithdrawn,
			Actor: Actor{Kind: ActorCustomer}, At: now})
		r.Status = flows.StatusWithdrawn
		return nil
	})
	switch {
	case errors.Is(err, errSame):
		return nil // applied before
	case errors.Is(err, ErrTransition), errors.Is(err, bot.ErrNotFound):
		s.cfg.Log.Warn("withdrawal not applied", "request", ref, "err", err)
		return nil // completed meanwhile, or not theirs: nothing to do
	case err != nil:
		return err
	}
	s.audit(ctx, AuditWithdrawn, r.ID, "")
	s.webhook(ctx, r, "status.withdrawn", len(r.History))
	s.publish(r.ID)
	return nil
}

var errSame = errors.New("request: already so")

// update is the read-change-write of one request, conditional on its version.
func (s *Service) update(ctx context.Context, ref string, change func(r *Request, now time.Time) error) (Request, error) {
	s.upd.Lock()
	defer s.upd.Unlock()
	cur, err := s.Get(ref)
	if err != nil {
		return cur, err
	}
	now := s.cfg.Now()
	next := clone(cur)
	if err := change(&next, now); err != nil {
		return cur, err
	}
	next.UpdatedAt = now
	next.Version = cur.Version + 1
	if err := s.cfg.Store.UpdateRequest(ctx, next); err != nil {
		if errors.Is(err, ErrConflict) {
			// Changed on another instance since this one's index read it: read it again, so that
			// the next try (staff looking again, or updateLatest) starts from what it is now.
			if rerr := s.RefreshUser(ctx, cur.UserID); rerr != nil {
				s.cfg.Log.Warn("request not read again after a conflict", "request", ref, "err", rerr)
			}
		}
		return cur, err
	}
	s.mu.Lock()
	s.index(&next)
	s.mu.Unlock()
	return clone(next), nil
}

// changed tells everyone of a change: the customer (an internal event keyed by the request and the
// change's position in the history, so a repeat raises nothing new), the back office and the console.
func (s *Service) changed(ctx context.Context, r Request, what string, n flows.RequestNotice, seq int) {
	n.Ref, n.Draft, n.Kinds = r.ID, r.Draft, r.Kinds
	if n.Status == "" {
		n.Status = r.Status
	}
	n.Due = r.DueAt.In(s.cfg.Location).Format(time.DateOnly)
	if s.cfg.Raiser != nil {
		id := fmt.Sprintf("req-%s-%d", r.ID, seq)
		if err := s.cfg.Raiser.Raise(ctx, r.UserID, id, flows.RequestNoticePostback(n)); err != nil {
			s.cfg.Log.Error("request notice not raised", "request", r.ID, "err", err)
		}
	}
	s.webhook(ctx, r, what, seq)
	s.publish(r.ID)
}

func clean(s string) string { return strings.TrimSpace(strings.ToValidUTF8(s, "")) }

func tooLong(texts ...string) bool {
	for _, t := range texts {
		if utf8.RuneCountInString(t) > maxText {
			return true
		}
	}
	return false
}
