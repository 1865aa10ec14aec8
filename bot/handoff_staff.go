package bot

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/enemane/privacybot/flows"
)

// Actor is the staff member doing something in the console.
type Actor struct {
	ID   string // e-mail
	Name string // shown to the customer when they join
	// Admin may act on chats assigned to someone else.
	Admin bool
}

// DeliveryError is a staff message LINE refused; it is recorded in the transcript and shown.
type DeliveryError struct {
	Status int
	Detail string
}

func (e *DeliveryError) Error() string {
	if e.Status == 400 {
		return "LINE refused the message (400): the customer may have blocked the account"
	}
	return fmt.Sprintf("LINE refused the message (%d): %s", e.Status, e.Detail)
}

// Get returns one escalation.
func (h *Handoffs) Get(ctx context.Context, id string) (Escalation, error) {
	return h.cfg.Store.Escalation(ctx, id)
}

// Claim assigns a queued escalation to a staff member. Of two staff claiming at once, one wins; the
// other gets ErrNotAllowed (already assigned) or ErrConflict. The customer is told who joined.
func (h *Handoffs) Claim(ctx context.Context, id string, who Actor) (Escalation, error) {
	e, err := h.update(ctx, id, func(e *Escalation) error {
		if e.Status != StatusQueued {
			return ErrNotAllowed
		}
		e.Status, e.Assignee, e.AssigneeName, e.ClaimedAt = StatusAssigned, who.ID, who.Name, h.cfg.Now()
		return nil
	})
	if err != nil {
		return e, err
	}
	h.system(ctx, e, "claimed", "claimed by "+who.Name, SystemNote{What: "claimed", Who: who.Name})
	// The customer is told who joined through the pipeline: an internal event, durable in the inbox,
	// answered exactly once like any other (by push: it has no reply token).
	if err := h.raise(ctx, e, "joined", flows.JoinedPostback(who.Name)); err != nil {
		return e, fmt.Errorf("claimed, but the customer could not be told: %w", err)
	}
	return e, nil
}

// raise puts an internal event for the escalation's customer into the pipeline (Raiser). key makes
// its ID, so a repeated action raises it once.
func (h *Handoffs) raise(ctx context.Context, e Escalation, key, data string) error {
	return h.raiser.Raise(ctx, e.UserID, "esc-"+e.ID+"-"+key, data)
}

// Reply sends a staff message to the customer by push. msgID identifies the message (the console's
// form carries it), so a resubmitted form is delivered once: the transcript line and the retry key
// derive from it. A refusal by LINE is recorded in the transcript and returned as a *DeliveryError.
func (h *Handoffs) Reply(ctx context.Context, id string, who Actor, msgID, text string) error {
	text = strings.TrimSpace(text)
	if text == "" || msgID == "" {
		return ErrNotAllowed
	}
	if utf8.RuneCountInString(text) > maxTextRunes {
		return fmt.Errorf("%w: a LINE message holds at most %d characters", ErrNotAllowed, maxTextRunes)
	}
	e, err := h.owned(ctx, id, who)
	if err != nil {
		return err
	}
	lineID := e.ID + "/staff/" + msgID
	if err := h.cfg.Store.AppendTranscript(ctx, TranscriptEntry{ID: lineID, UserID: e.UserID, Role: RoleStaff,
		Kind: "text", Text: text, At: h.cfg.Now()}); err != nil {
		return err
	}
	h.hub.Publish(Notice{Kind: NoticeChat, ID: e.ID})
	r := h.push(ctx, e.UserID, RetryKey(lineID, 0), []Message{{Text: text}})
	if r.Outcome == Accepted || r.Outcome == AlreadyDone {
		return nil
	}
	derr := &DeliveryError{Status: r.Status, Detail: errText(r)}
	h.system(ctx, e, "failed/"+msgID, "delivery failed: "+derr.Error(), SystemNote{What: "failed", Status: r.Status})
	h.hub.Publish(Notice{Kind: NoticeChat, ID: e.ID})
	return derr
}

// Note adds a private note, never sent to the customer.
func (h *Handoffs) Note(ctx context.Context, id string, who Actor, noteID, text string) error {
	text = strings.TrimSpace(text)
	if text == "" || noteID == "" {
		return ErrNotAllowed
	}
	e, err := h.cfg.Store.Escalation(ctx, id)
	if err != nil {
		return err
	}
	if err := h.cfg.Store.AppendTranscript(ctx, TranscriptEntry{ID: e.ID + "/note/" + noteID, UserID: e.UserID,
		Role: RoleNote, Kind: "text", Text: text, At: h.cfg.Now()}); err != nil {
		return err
	}
	h.hub.Publish(Notice{Kind: NoticeChat, ID: e.ID})
	return nil
}

// ResolutionHandback is the resolution a hand-back records on the escalation.
const ResolutionHandback = "handed back to the bot"

// HandBack ends the handoff without closing the matter for the customer: the bot answers again. The
// escalation is closed with the resolution "handed back".
func (h *Handoffs) HandBack(ctx context.Context, id string, who Actor) (Escalation, error) {
	return h.finish(ctx, id, who, "handback", ResolutionHandback, false)
}

// Close closes the escalation with a resolution category; ask adds the satisfaction question.
func (h *Handoffs) Close(ctx context.Context, id string, who Actor, resolution string, ask bool) (Escalation, error) {
	if resolution == "" {
		return Escalation{}, fmt.Errorf("%w: choose a resolution", ErrNotAllowed)
	}
	return h.finish(ctx, id, who, "closed", resolution, ask)
}

func (h *Handoffs) finish(ctx context.Context, id string, who Actor, why, resolution string, ask bool) (Escalation, error) {
	e, err := h.update(ctx, id, func(e *Escalation) error {
		if !e.Status.Open() || (e.Status == StatusAssigned && e.Assignee != who.ID && !who.Admin) {
			return ErrNotAllowed
		}
		e.Status, e.ClosedAt, e.Resolution = StatusClosed, h.cfg.Now(), resolution
		if e.Assignee == "" {
			e.Assignee, e.AssigneeName = who.ID, who.Name
		}
		return nil
	})
	if err != nil {
		return e, err
	}
	h.system(ctx, e, why, why+" by "+who.Name+": "+resolution, SystemNote{What: why, Who: who.Name, Resolution: resolution})
	// The bot resumes through the pipeline itself (see raise), in the customer's language.
	if err := h.raise(ctx, e, why, flows.ResumePostback(why, e.ID, ask)); err != nil {
		return e, fmt.Errorf("closed, but the bot could not be resumed: %w", err)
	}
	return e, nil
}

// MarkRead marks the customer's messages as read, up to the latest one seen (when staff open the chat).
func (h *Handoffs) MarkRead(ctx context.Context, id string) error {
	e, err := h.cfg.Store.Escalation(ctx, id)
	if err != nil {
		return err
	}
	// The token is this process's (it received the customer's latest message) or the one the
	// escalation holds (another instance received it: Refresh), whichever is of the later message.
	h.mu.Lock()
	m := h.read[e.UserID]
	delete(h.read, e.UserID)
	h.mu.Unlock()
	tok := m.token
	if e.ReadToken != "" && (tok == "" || e.ReadAt.After(m.at)) {
		tok = e.ReadToken
	}
	if tok == "" {
		return nil
	}
	if sh, ok := h.cfg.Store.(SharedEscalationStore); ok && e.ReadToken != "" {
		if err := sh.ClearReadToken(ctx, e.ID, e.ReadToken); err != nil {
			h.cfg.Log.Warn("read token not cleared", "escalation", e.ID, "err", err)
		}
	}
	return h.cfg.LINE.MarkAsRead(ctx, tok)
}

// owned returns the escalation if who may write to its customer: assigned to them (or an admin).
func (h *Handoffs) owned(ctx context.Context, id string, who Actor) (Escalation, error) {
	e, err := h.cfg.Store.Escalation(ctx, id)
	if err != nil {
		return e, err
	}
	if e.Status != StatusAssigned || (e.Assignee != who.ID && !who.Admin) {
		return e, fmt.Errorf("%w: claim the chat first", ErrNotAllowed)
	}
	return e, nil
}

// push retries retryable failures briefly (the retry key makes repeats harmless).
func (h *Handoffs) push(ctx context.Context, to, key string, msgs []Message) CallResult {
	var r CallResult
	for attempt := 0; attempt < 4; attempt++ {
		r = h.cfg.LINE.Push(ctx, to, key, msgs)
		if r.Outcome != Retryable || attempt == 3 {
			return r
		}
		h.cfg.Metrics.LINERetry(EndpointPush)
		select {
		case <-ctx.Done():
			return r
		case <-time.After(backoff(200*time.Millisecond, 2*time.Second, attempt, r.RetryAfter)):
		}
	}
	return r
}
