package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/enemane/privacybot/flows"
)

// StaffLINE is what the handoff needs of the Messaging API.
type StaffLINE interface {
	Push(ctx context.Context, to, retryKey string, msgs []Message) CallResult
	MarkAsRead(ctx context.Context, token string) error
}

// Enqueuer takes events for processing (the Processor); an error means they were not placed (see
// ErrNotPlaced) and are to be handed over again.
type Enqueuer interface {
	Enqueue(events []Event) error
}

// HandoffConfig wires a Handoffs manager.
type HandoffConfig struct {
	Store    EscalationStore
	Inbox    Inboxer
	LINE     StaffLINE
	Renderer *Renderer
	// Profile looks up a customer's display name (optional).
	Profile func(ctx context.Context, userID string) (string, error)
	// Alerters queue the alert of every new escalation (bot.OutboxAlerter: durable, sent by the
	// outbox).
	Alerters []Alerter
	// BaseURL is the public address of the console, for links in alerts.
	BaseURL string
	Now     func() time.Time
	Log     *slog.Logger
	// Metrics counts the retries of staff messages (nil: not counted).
	Metrics *Metrics
}

// Handoffs is the escalation manager: the EffectSink that opens, cancels and rates escalations, the
// Handoff that silences the bot while staff own a chat, and the staff actions of the console. Open
// escalations are indexed in memory (one per customer), written through to the store; with several
// instances on one store, Refresh brings the index up to date with what the others wrote.
type Handoffs struct {
	cfg    HandoffConfig
	hub    *Hub
	raiser *Raiser

	// upd serialises the read-change-write of escalations in this process: the embedded engine's
	// conditional update is not atomic under concurrency. Across instances the update conditional on
	// the version is what decides: atomic on MongoDB; a standalone FerretDB queries, then updates, so
	// two instances there can both win a race that one process's upd would have decided.
	upd     sync.Mutex
	mu      sync.Mutex
	open    map[string]*Escalation // by user ID
	read    map[string]readMark    // latest markAsReadToken per escalated user
	gen     uint64                 // counts this process's changes of open
	touched map[string]uint64      // gen of each user's latest change of open here, until Refresh passes it

	refreshMu sync.Mutex           // one Refresh at a time
	lines     map[string]time.Time // transcript lines Refresh has seen (by ID), within transcriptLookback
}

// readMark is a customer's latest markAsReadToken, of the message at at; flushed once it is in the
// store (Refresh).
type readMark struct {
	token   string
	at      time.Time
	flushed bool
}

var (
	_ EffectSink = (*Handoffs)(nil)
	_ Handoff    = (*Handoffs)(nil)
)

// NewHandoffs returns the manager; call Load before the processor starts.
func NewHandoffs(cfg HandoffConfig) *Handoffs {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Handoffs{cfg: cfg, hub: NewHub(), open: map[string]*Escalation{}, read: map[string]readMark{},
		touched: map[string]uint64{}, lines: map[string]time.Time{},
		raiser: &Raiser{Inbox: cfg.Inbox, Now: cfg.Now, Log: cfg.Log}}
}

// Load fills the index with the open escalations of the store.
func (h *Handoffs) Load(ctx context.Context) error {
	es, err := h.cfg.Store.OpenEscalations(ctx)
	if err != nil {
		return fmt.Errorf("load escalations: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for user, e := range newestByUser(es) {
		h.open[user] = e
	}
	return nil
}

// newestByUser indexes open escalations by customer: the newest one where a customer has two (two
// instances that escalated at once, or an older version of the store).
func newestByUser(es []Escalation) map[string]*Escalation {
	m := make(map[string]*Escalation, len(es))
	for i := range es {
		e := &es[i]
		if cur, ok := m[e.UserID]; !ok || cur.CreatedAt.Before(e.CreatedAt) {
			m[e.UserID] = e
		}
	}
	return m
}

// setOpen and dropOpen change the index for a change made here, stamping the customer so that a
// Refresh that read the store before it does not undo it (mu held).
func (h *Handoffs) setOpen(e *Escalation) {
	h.open[e.UserID] = e
	h.gen++
	h.touched[e.UserID] = h.gen
}

func (h *Handoffs) dropOpen(userID string) {
	delete(h.open, userID)
	delete(h.read, userID)
	h.gen++
	h.touched[userID] = h.gen
}

// SetDispatcher gives the manager the processor, which answers the resume events of hand-backs.
func (h *Handoffs) SetDispatcher(d Enqueuer) { h.raiser.SetDispatcher(d) }

// Hub is the notification hub of the console's live view.
func (h *Handoffs) Hub() *Hub { return h.hub }

// OwnedByStaff implements Handoff: true while a staff member holds the customer's chat.
func (h *Handoffs) OwnedByStaff(userID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.open[userID]
	return e != nil && e.Status == StatusAssigned
}

// HasOpenRequest implements Handoff: true while the customer's escalation is queued or assigned.
func (h *Handoffs) HasOpenRequest(userID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.open[userID] != nil
}

// TranscriptGrew is the processor's OnTranscript hook: a customer with an open escalation wrote, so
// the console's views of it refresh.
func (h *Handoffs) TranscriptGrew(userID string) {
	h.mu.Lock()
	e := h.open[userID]
	h.mu.Unlock()
	if e != nil {
		h.hub.Publish(Notice{Kind: NoticeChat, ID: e.ID})
		h.hub.Publish(Notice{Kind: NoticeQueue})
	}
}

// Tap wraps the processor's Enqueue: it keeps the latest markAsReadToken of customers with an open
// escalation, so that staff opening the chat mark the customer's messages as read.
func (h *Handoffs) Tap(next Enqueuer) Enqueuer {
	return enqueueFunc(func(evs []Event) error {
		h.mu.Lock()
		for _, ev := range evs {
			if ev.MarkAsReadToken != "" && h.open[ev.UserID] != nil && !h.read[ev.UserID].at.After(ev.Timestamp) {
				h.read[ev.UserID] = readMark{token: ev.MarkAsReadToken, at: ev.Timestamp}
			}
		}
		h.mu.Unlock()
		return next.Enqueue(evs)
	})
}

type enqueueFunc func([]Event) error

func (f enqueueFunc) Enqueue(evs []Event) error { return f(evs) }

// Apply implements EffectSink. Each effect is idempotent: the escalation's ID derives from the event
// and the effect's index. What the customer is told (queued, joined, closed) is decided by the flows
// and sent with the step's own messages, never from here.
func (h *Handoffs) Apply(ctx context.Context, st Step) error {
	for i, ef := range st.Effects {
		var err error
		switch ef.Kind {
		case flows.EffectEscalate:
			err = h.escalate(ctx, st, i, ef.Escalation)
		case flows.EffectCancelEscalation:
			err = h.cancel(ctx, st)
		case flows.EffectRateEscalation:
			err = h.rate(ctx, st.UserID, ef.Escalation)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// EscalationID is the ID of the escalation opened by effect index of an event's step.
func EscalationID(eventID string, index int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s#%d", eventID, index))
	return hex.EncodeToString(sum[:10])
}

func (h *Handoffs) escalate(ctx context.Context, st Step, index int, req *flows.EscalationRequest) error {
	if req == nil {
		req = &flows.EscalationRequest{Reason: flows.ReasonHuman}
	}
	id := EscalationID(st.EventID, index)
	cur, err := h.current(ctx, st.UserID)
	if err != nil {
		return err
	}
	if cur != nil && cur.ID != id {
		return nil // already with staff: the flow said so; one open escalation per customer
	}
	e := Escalation{ID: id, UserID: st.UserID, Lang: st.Lang, Reason: req.Reason, Category: req.Category,
		Description: req.Description, Priority: req.Priority, Status: StatusQueued, EventID: st.EventID,
		CreatedAt: st.At, Version: 1}
	if e.Priority == "" {
		e.Priority = flows.PriorityNormal
	}
	if cur == nil && h.cfg.Profile != nil {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		e.Name, _ = h.cfg.Profile(pctx, st.UserID)
		cancel()
	}
	err = h.cfg.Store.CreateEscalation(ctx, e)
	switch {
	case errors.Is(err, ErrDuplicate):
		// Applied before a crash: the stored escalation stands.
		if e, err = h.cfg.Store.Escalation(ctx, id); err != nil {
			return err
		}
		if !e.Status.Open() {
			return nil
		}
	case err != nil:
		return err
	}
	h.mu.Lock()
	h.setOpen(&e)
	h.mu.Unlock()
	h.system(ctx, e, "escalated", "escalated: "+e.Reason, SystemNote{What: "escalated", Reason: e.Reason})
	h.hub.Publish(Notice{Kind: NoticeQueue})
	return h.alert(ctx, e)
}

// cancel withdraws the customer's queued escalation, the one the customer saw when they tapped: a
// step applied again later (a redelivery, a restart) must not withdraw a request made after it.
func (h *Handoffs) cancel(ctx context.Context, st Step) error {
	cur, err := h.current(ctx, st.UserID)
	if err != nil {
		return err
	}
	tapped := st.EventAt
	if tapped.IsZero() {
		tapped = st.At
	}
	if cur == nil || cur.Status != StatusQueued || cur.CreatedAt.After(tapped) {
		return nil
	}
	_, err = h.update(ctx, cur.ID, func(e *Escalation) error {
		if e.Status != StatusQueued {
			return ErrNotAllowed
		}
		e.Status, e.ClosedAt, e.Resolution = StatusCancelled, h.cfg.Now(), "cancelled by the customer"
		return nil
	})
	if errors.Is(err, ErrNotAllowed) {
		return nil // staff joined meanwhile; the joined notice tells the customer
	}
	return err
}

func (h *Handoffs) rate(ctx context.Context, userID string, req *flows.EscalationRequest) error {
	if req == nil || req.Ticket == "" {
		return nil
	}
	_, err := h.update(ctx, req.Ticket, func(e *Escalation) error {
		if e.UserID != userID || e.Status != StatusClosed {
			return ErrNotAllowed // a rating for someone else's or an open escalation
		}
		e.Rating = req.Rating
		return nil
	})
	if errors.Is(err, ErrNotAllowed) || errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// update reads an escalation, applies change and writes it back conditionally on the version, keeping
// the index in sync. A concurrent writer makes it fail with ErrConflict (after a reread, change decides
// again: a second claim then fails with ErrNotAllowed).
func (h *Handoffs) update(ctx context.Context, id string, change func(*Escalation) error) (Escalation, error) {
	h.upd.Lock()
	defer h.upd.Unlock()
	for attempt := 0; ; attempt++ {
		e, err := h.cfg.Store.Escalation(ctx, id)
		if err != nil {
			return e, err
		}
		if err := change(&e); err != nil {
			return e, err
		}
		e.Version++
		err = h.cfg.Store.UpdateEscalation(ctx, e)
		if errors.Is(err, ErrConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return e, err
		}
		h.mu.Lock()
		if e.Status.Open() {
			h.setOpen(&e)
		} else if cur := h.open[e.UserID]; cur != nil && cur.ID == e.ID {
			h.dropOpen(e.UserID)
		}
		h.mu.Unlock()
		h.hub.Publish(Notice{Kind: NoticeQueue})
		h.hub.Publish(Notice{Kind: NoticeChat, ID: e.ID})
		return e, nil
	}
}

// Queue returns the open escalations: high priority first, then the longest waiting.
func (h *Handoffs) Queue() []Escalation {
	h.mu.Lock()
	out := make([]Escalation, 0, len(h.open))
	for _, e := range h.open {
		out = append(out, *e)
	}
	h.mu.Unlock()
	slices.SortFunc(out, func(a, b Escalation) int {
		if (a.Priority == flows.PriorityHigh) != (b.Priority == flows.PriorityHigh) {
			if a.Priority == flows.PriorityHigh {
				return -1
			}
			return 1
		}
		return a.CreatedAt.Compare(b.CreatedAt)
	})
	return out
}

// Counts returns how many open escalations wait in the queue and how many a staff member has
// claimed (metrics).
func (h *Handoffs) Counts() (queued, assigned int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.open {
		switch e.Status {
		case StatusQueued:
			queued++
		case StatusAssigned:
			assigned++
		}
	}
	return queued, assigned
}

// system writes a system line into the customer's transcript (what happened to the escalation).
// key makes the line's ID, so that a repeated action writes it once.
func (h *Handoffs) system(ctx context.Context, e Escalation, key, text string, note SystemNote) {
	entry := TranscriptEntry{ID: e.ID + "/sys/" + key, UserID: e.UserID, Role: RoleSystem,
		Kind: "text", Text: text, At: h.cfg.Now(), System: &note}
	if err := h.cfg.Store.AppendTranscript(ctx, entry); err != nil {
		h.cfg.Log.Warn("transcript write failed", "escalation", e.ID, "err", err)
	}
}
