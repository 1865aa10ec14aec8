package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/flows"
)

// Alert tells staff of a new escalation. It carries no customer text (a staff group or a webhook
// receiver is no place for personal data): the link leads to the console, behind a login.
type Alert struct {
	ID        string    `json:"id"`
	Reason    string    `json:"reason"`
	Category  string    `json:"category,omitempty"`
	Priority  string    `json:"priority"`
	Lang      string    `json:"lang"`
	CreatedAt time.Time `json:"createdAt"`
	URL       string    `json:"url"`
}

// AlertType is the type of a staff alert: the "type" of its JSON payload and its outbox message type.
const AlertType = "escalation.created"

// Outbox destinations of staff alerts.
const (
	StaffLINEDestination    = "staff_line"    // the staff LINE group (GroupAlerter)
	StaffWebhookDestination = "staff_webhook" // STAFF_WEBHOOK_URL (an outbox.Webhook)
)

// AlertPayload is the JSON of an alert, as the staff webhook receives it: {"type":
// "escalation.created", "id": …, "reason": …, …}.
func AlertPayload(a Alert) ([]byte, error) {
	return json.Marshal(struct {
		Type string `json:"type"`
		Alert
	}{AlertType, a})
}

// Alerter delivers staff alerts. Alert is called while the escalation effect is applied, and again
// when the effect is applied again (after a crash or a store error): it must be quick, durable once
// it returns nil, and idempotent by Alert.ID. An error makes the pipeline apply the effect again.
type Alerter interface {
	Alert(ctx context.Context, a Alert) error
}

// alert tells staff of a new escalation: every alerter queues it durably (the outbox sends it).
func (h *Handoffs) alert(ctx context.Context, e Escalation) error {
	if len(h.cfg.Alerters) == 0 {
		return nil
	}
	a := Alert{ID: e.ID, Reason: e.Reason, Category: e.Category, Priority: e.Priority, Lang: string(e.Lang),
		CreatedAt: e.CreatedAt, URL: h.cfg.BaseURL + "/console/chats/" + e.ID}
	for _, al := range h.cfg.Alerters {
		if err := al.Alert(ctx, a); err != nil {
			return fmt.Errorf("staff alert of escalation %s: %w", e.ID, err)
		}
	}
	return nil
}

// AlertQueue takes messages durably: the outbox (outbox.Outbox).
type AlertQueue interface {
	Enqueue(ctx context.Context, m outbox.Message) error
}

// OutboxAlerter queues alerts for one outbox destination (the staff LINE group, the staff webhook),
// keyed by the escalation ID: queueing the same alert again is a no-op, and the outbox delivers it,
// retrying, across restarts.
type OutboxAlerter struct {
	Outbox      AlertQueue
	Destination string
}

// Alert implements Alerter.
func (q *OutboxAlerter) Alert(ctx context.Context, a Alert) error {
	body, err := AlertPayload(a)
	if err != nil {
		return err
	}
	return q.Outbox.Enqueue(ctx, outbox.Message{Destination: q.Destination, Type: AlertType, Key: a.ID, Payload: body,
		CreatedAt: a.CreatedAt})
}

// GroupAlerter is the outbox destination that pushes alerts to a staff LINE group, in Japanese, with a
// retry key derived from the alert's key, so a repeated alert arrives once. It words escalation
// alerts itself, and any other type with a format from Formats (the requests' alerts and digest).
type GroupAlerter struct {
	LINE     StaffLINE
	GroupID  string
	Renderer *Renderer
	// Formats word the alert types other than AlertType, by type.
	Formats map[string]AlertFormat
}

// AlertFormat turns an alert's payload into a catalog message ID and its data; word renders a
// catalog message without data in the group's language (names of kinds, statuses, …).
type AlertFormat func(payload []byte, word func(id string) string) (messageID string, data map[string]string, err error)

var _ outbox.Destination = (*GroupAlerter)(nil)

func escalationAlert(payload []byte, _ func(string) string) (string, map[string]string, error) {
	var a Alert
	if err := json.Unmarshal(payload, &a); err != nil {
		return "", nil, fmt.Errorf("alert payload: %w", err)
	}
	return flows.NoticeStaffAlert, map[string]string{
		"Reason": a.Reason, "Category": a.Category, "Priority": a.Priority, "Lang": a.Lang, "URL": a.URL}, nil
}

// Deliver implements outbox.Destination: one push of the alert in d.
func (g *GroupAlerter) Deliver(ctx context.Context, d outbox.Delivery) outbox.Result {
	format, ok := g.Formats[d.Type]
	if d.Type == AlertType {
		format, ok = escalationAlert, true
	}
	if !ok {
		return outbox.Result{Err: fmt.Errorf("the staff LINE group does not take %q", d.Type), Permanent: true}
	}
	word := func(id string) string {
		w, err := g.Renderer.Text(flows.Ja, id, nil)
		if err != nil {
			return id
		}
		return w
	}
	id, data, err := format(d.Payload, word)
	if err != nil {
		return outbox.Result{Err: err, Permanent: true}
	}
	text, err := g.Renderer.Text(flows.Ja, id, data)
	if err != nil {
		return outbox.Result{Err: err, Permanent: true}
	}
	r := g.LINE.Push(ctx, g.GroupID, RetryKey(d.Key+"/alert", 0), []Message{{Text: text}})
	switch r.Outcome {
	case Accepted, AlreadyDone:
		return outbox.Result{Status: r.Status}
	case Retryable:
		err := fmt.Errorf("group push: LINE answered %d", r.Status)
		if r.Err != nil {
			err = fmt.Errorf("group push: %w", r.Err)
		}
		return outbox.Result{Status: r.Status, Err: err, RetryAfter: r.RetryAfter}
	}
	err = r.Err
	if err == nil {
		err = errors.New("refused")
	}
	return outbox.Result{Status: r.Status, Err: fmt.Errorf("group push refused (%d): %w", r.Status, err), Permanent: true}
}
