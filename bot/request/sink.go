package request

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

// Apply implements bot.EffectSink: it submits, documents, withdraws and erases for the chat's request
// flow. Every effect is idempotent: a request is keyed by its customer and draft, a document by its
// event and index, a withdrawal and an erasure do nothing the second time.
func (s *Service) Apply(ctx context.Context, st bot.Step) error {
	for i, e := range st.Effects {
		var err error
		switch e.Kind {
		case flows.EffectRequest:
			if e.Request != nil {
				sub := *e.Request
				if sub.Lang == "" {
					sub.Lang = st.Lang // the flow knows only a language chosen in the chat
				}
				err = s.submit(ctx, st.UserID, sub)
			}
		case flows.EffectRequestDocument:
			if e.Document != nil {
				err = s.attach(ctx, st.UserID, fmt.Sprintf("%s.%d", st.EventID, i), *e.Document)
			}
		case flows.EffectRequestWithdraw:
			if e.Withdrawal != nil {
				err = s.withdraw(ctx, st.UserID, e.Withdrawal.Ref)
			}
		case flows.EffectRequestErase:
			if e.Erasure != nil {
				err = s.erase(ctx, st.UserID, e.Erasure.Ref)
			}
		}
		if err != nil {
			return fmt.Errorf("request effect %d of %s: %w", i, st.EventID, err)
		}
	}
	return nil
}

// submit stores a request the customer confirmed, gives it its reference and due date, tells staff
// and the back office, and tells the customer both (an internal event: the flow's reply to the
// confirmation could not know them).
func (s *Service) submit(ctx context.Context, userID string, sub flows.RequestSubmission) error {
	return s.submitTry(ctx, userID, sub, 0)
}

func (s *Service) submitTry(ctx context.Context, userID string, sub flows.RequestSubmission, try int) error {
	if ref, ok := s.refOf(userID, sub.Draft); ok {
		r, err := s.Get(ref)
		if err != nil {
			return err
		}
		return s.received(ctx, r) // applied before: make sure everyone was told (each is idempotent)
	}
	now := s.cfg.Now()
	day := now.In(s.cfg.Location)
	n, err := s.cfg.Store.NextRequestNumber(ctx, day.Format("20060102"))
	if err != nil {
		return err
	}
	y, m, d := day.Date()
	due := time.Date(y, m, d, 23, 59, 59, 0, s.cfg.Location).AddDate(0, 0, s.cfg.DueDays)
	status := flows.StatusReceived
	if sub.DocsBy == flows.DocsLater {
		status = flows.StatusDocumentsNeeded
	} else if sub.DocsBy == flows.DocsChat {
		// What the flow counted may include photos refused since: the store knows what arrived.
		if usable, err := s.usableDocuments(ctx, userID, sub.Draft); err != nil {
			return err
		} else if usable == 0 {
			status = flows.StatusDocumentsNeeded
		}
	}
	delivery := sub.Delivery
	if sub.Kinds&flows.KindsAnswered == 0 || delivery == "" {
		delivery = flows.DeliveryNone
	}
	r := Request{ID: Reference(day, n), UserID: userID, Draft: sub.Draft, Kinds: sub.Kinds & flows.KindsAll,
		Correction: sub.Correction, Target: sub.Target, Ground: sub.Ground, GroundText: sub.GroundText,
		Requester: sub.Requester, RepKind: sub.RepKind, RepName: sub.RepName, Name: sub.Name, Address: sub.Address,
		Phone: sub.Phone, DocsBy: sub.DocsBy, Delivery: delivery, Lang: sub.Lang, WordingID: sub.WordingID,
		WordingData: sub.WordingData, Status: status, ReceivedAt: now, DueAt: due, UpdatedAt: now, Version: 1,
		History: []Change{{What: ChangeCreated, To: status, Actor: Actor{Kind: ActorCustomer}, At: now}}}
	s.upd.Lock()
	err = s.cfg.Store.InsertRequest(ctx, r)
	if err == nil {
		s.mu.Lock()
		s.index(&r)
		s.mu.Unlock()
	}
	s.upd.Unlock()
	if errors.Is(err, bot.ErrDuplicate) {
		// Stored already, but not in the index (written by another instance, or before this one
		// read the store): read the customer's requests again and carry on from what it holds. If
		// the draft is not among them, the reference was taken (the counter handed it out twice):
		// ask for another number.
		if err := s.RefreshUser(ctx, userID); err != nil {
			return err
		}
		if _, ok := s.refOf(userID, sub.Draft); !ok && try >= 2 {
			return fmt.Errorf("request %s: reference %s taken: %w", sub.Draft, r.ID, err)
		}
		return s.submitTry(ctx, userID, sub, try+1)
	}
	if err != nil {
		return err
	}
	return s.received(ctx, r)
}

// received tells staff (alert), the back office (webhook) and the customer (reference and due date)
// of a new request. Each is keyed by the request, so telling again after a crash doubles nothing.
func (s *Service) received(ctx context.Context, r Request) error {
	if err := s.alert(ctx, r); err != nil {
		return err
	}
	n := flows.RequestNotice{What: flows.NoticeReceived, Status: r.Status}
	s.changed(ctx, r, "created", n, 1)
	return nil
}

// erase deletes what the desk holds about the customer after a completed 削除/消去 request and records
// the counts on the request. The request records and the consent history stay: someone who asked to
// be erased must never be contacted again, and the company must show how it answered.
func (s *Service) erase(ctx context.Context, userID, ref string) error {
	r, err := s.Get(ref)
	if err != nil || r.UserID != userID {
		s.cfg.Log.Warn("erasure for an unknown request ignored", "request", ref)
		return nil
	}
	counts, err := s.cfg.Holdings.EraseCustomer(ctx, userID)
	if err != nil {
		return err
	}
	r, err = s.updateLatest(ctx, ref, func(r *Request, now time.Time) error {
		r.Erasure = &Erasure{At: now, Counts: counts}
		r.History = append(r.History, Change{What: ChangeErased, Actor: Actor{Kind: ActorSystem}, At: now})
		return nil
	})
	if err != nil {
		return err
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	s.cfg.Log.Info("customer data erased", "request", ref, "records", total)
	s.audit(ctx, AuditErased, ref, fmt.Sprintf("records=%d", total))
	s.webhook(ctx, r, "erased", len(r.History))
	s.publish(ref)
	return nil
}
