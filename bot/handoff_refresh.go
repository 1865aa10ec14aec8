package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SharedEscalationStore is what Handoffs needs, beyond EscalationStore, of a store that several
// instances share (package store implements it). Without it the manager works as one process does.
type SharedEscalationStore interface {
	// TranscriptActivity returns the transcript lines of these customers whose time is after since:
	// their IDs, customers and times only.
	TranscriptActivity(ctx context.Context, users []string, since time.Time) ([]TranscriptMark, error)
	// SetReadToken keeps a customer's markAsReadToken (of the message at at) on their open escalation,
	// unless the escalation holds one of a later message.
	SetReadToken(ctx context.Context, escalationID, token string, at time.Time) error
	// ClearReadToken removes the token from the escalation if it still holds this one (it is used).
	ClearReadToken(ctx context.Context, escalationID, token string) error
}

// TranscriptMark is a transcript line as TranscriptActivity names it.
type TranscriptMark struct {
	ID     string    `bson:"_id"`
	UserID string    `bson:"user"`
	At     time.Time `bson:"at"`
}

// transcriptLookback is how far back Refresh looks for transcript lines it has not seen. A line's time
// is fixed before it is written (a customer's message: the event's time), so a line can be older
// than the previous Refresh when it lands; one written more than this after its time (a backlog, an
// outage) is not announced by Refresh, and the chat shows it at its next notice.
const transcriptLookback = 2 * time.Minute

// Refresh brings this process's view of the open escalations up to date with the store, for several
// instances on one store; it is called every second, and is idempotent. It reads the open
// escalations (queued or assigned: a small set, on the status index) and reconciles the index with
// them: new ones added, changed ones (another version) replaced, ones closed or cancelled elsewhere
// removed, so that a chat claimed by staff on one instance silences the bot on this one within a
// second (OwnedByStaff). It publishes on the hub what changed, and the chats of the open escalations
// whose transcript grew (a customer's message, a staff reply or note written by another instance),
// for the console's live view connected here. Last, it stores the markAsReadTokens this process
// received, for the instance whose console marks the chat read.
func (h *Handoffs) Refresh(ctx context.Context) error {
	h.refreshMu.Lock()
	defer h.refreshMu.Unlock()
	h.mu.Lock()
	gen := h.gen
	h.mu.Unlock()
	es, err := h.cfg.Store.OpenEscalations(ctx)
	if err != nil {
		return fmt.Errorf("refresh escalations: %w", err)
	}
	changed, open := h.reconcile(newestByUser(es), gen)
	sh, shared := h.cfg.Store.(SharedEscalationStore)
	if shared && len(open) > 0 {
		grew, err := h.activity(ctx, sh, open)
		if err != nil {
			return fmt.Errorf("refresh escalations: %w", err)
		}
		changed = append(changed, grew...)
	}
	if len(changed) > 0 {
		h.hub.Publish(Notice{Kind: NoticeQueue})
		for _, id := range changed {
			h.hub.Publish(Notice{Kind: NoticeChat, ID: id})
		}
	}
	if shared {
		return h.flushRead(ctx, sh)
	}
	return nil
}

// reconcile makes the index what the store holds (stored: its open escalations by customer, read
// after this process's change number gen) and returns the IDs of the escalations that changed and
// the open ones by customer. A customer changed here since gen is left alone: this process's change
// is newer than what was read, and the next Refresh reconciles it.
func (h *Handoffs) reconcile(stored map[string]*Escalation, gen uint64) (changed []string, open map[string]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for user, e := range stored {
		if h.touched[user] > gen {
			continue
		}
		cur := h.open[user]
		if cur != nil && cur.ID == e.ID && cur.Version >= e.Version {
			continue
		}
		if cur != nil && cur.ID != e.ID {
			changed = append(changed, cur.ID)
		}
		h.open[user] = e
		changed = append(changed, e.ID)
	}
	for user, cur := range h.open {
		if stored[user] == nil && h.touched[user] <= gen {
			delete(h.open, user) // closed or cancelled on another instance
			delete(h.read, user)
			changed = append(changed, cur.ID)
		}
	}
	for user, g := range h.touched {
		if g <= gen {
			delete(h.touched, user)
		}
	}
	open = make(map[string]string, len(h.open))
	for user, e := range h.open {
		open[user] = e.ID
	}
	return changed, open
}

// activity returns the escalations (of open, by customer) whose transcript has lines Refresh has not
// seen: one query on the transcript's {user, at} index over the last transcriptLookback. A line this
// process wrote is announced again (TranscriptGrew did first): a notice only says "refetch".
func (h *Handoffs) activity(ctx context.Context, sh SharedEscalationStore, open map[string]string) ([]string, error) {
	users := make([]string, 0, len(open))
	for user := range open {
		users = append(users, user)
	}
	since := h.cfg.Now().Add(-transcriptLookback)
	marks, err := sh.TranscriptActivity(ctx, users, since)
	if err != nil {
		return nil, err
	}
	grew := map[string]bool{}
	for _, m := range marks {
		if _, seen := h.lines[m.ID]; !seen {
			h.lines[m.ID] = m.At
			grew[m.UserID] = true
		}
	}
	for id, at := range h.lines {
		if !at.After(since) {
			delete(h.lines, id)
		}
	}
	var ids []string
	for user := range grew {
		if id := open[user]; id != "" {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// flushRead stores the markAsReadTokens this process received since the last Refresh on the
// customers' escalations (one small update per customer who wrote).
func (h *Handoffs) flushRead(ctx context.Context, sh SharedEscalationStore) error {
	type pending struct {
		user, escalation string
		m                readMark
	}
	var todo []pending
	h.mu.Lock()
	for user, m := range h.read {
		if e := h.open[user]; e != nil && !m.flushed {
			todo = append(todo, pending{user, e.ID, m})
		}
	}
	h.mu.Unlock()
	for _, p := range todo {
		if err := sh.SetReadToken(ctx, p.escalation, p.m.token, p.m.at); err != nil {
			return fmt.Errorf("store read token: %w", err)
		}
		h.mu.Lock()
		if m, ok := h.read[p.user]; ok && m.token == p.m.token {
			m.flushed = true
			h.read[p.user] = m
		}
		h.mu.Unlock()
	}
	return nil
}

// current returns the customer's open escalation as the store has it now, and puts it in the index
// (nil: none). The escalate and cancel effects ask: the customer's events move between instances,
// and whether a customer already has an escalation (one per customer) or still has the one to
// withdraw must not hinge on an index up to a second old. Rare, so a query or two is fine.
func (h *Handoffs) current(ctx context.Context, userID string) (*Escalation, error) {
	h.mu.Lock()
	cur := h.open[userID]
	h.mu.Unlock()
	if cur != nil {
		e, err := h.cfg.Store.Escalation(ctx, cur.ID)
		switch {
		case err == nil && e.Status.Open():
			h.mu.Lock()
			if c := h.open[userID]; c != nil && c.ID == e.ID && c.Version < e.Version {
				h.setOpen(&e)
			}
			cur = h.open[userID]
			h.mu.Unlock()
			return cur, nil
		case err != nil && !errors.Is(err, ErrNotFound):
			return nil, err
		}
		// Closed elsewhere (or swept): the customer may have opened another since.
		h.mu.Lock()
		if c := h.open[userID]; c != nil && c.ID == cur.ID {
			h.dropOpen(userID)
		}
		h.mu.Unlock()
	}
	es, err := h.cfg.Store.OpenEscalations(ctx)
	if err != nil {
		return nil, err
	}
	e := newestByUser(es)[userID]
	if e == nil {
		return nil, nil
	}
	h.mu.Lock()
	if h.open[userID] == nil {
		h.setOpen(e)
	}
	cur = h.open[userID]
	h.mu.Unlock()
	return cur, nil
}
