package consent

import (
	"context"
	"encoding/json"
	"time"

	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/flows"
)

// MarketingDestination is the outbox destination of the marketing webhook (MARKETING_WEBHOOK_URL):
// every consent change, as a WebhookPayload.
const MarketingDestination = "marketing"

// WebhookPayload is the JSON body sent to the marketing system for every opt-out and opt-in. ID is
// also the idempotency key: a receiver that has seen it must ignore the repeat.
type WebhookPayload struct {
	View
	IdempotencyKey string `json:"idempotency_key"`
	Type           string `json:"type"` // consent.optout, consent.optin
	Seq            int64  `json:"seq"`
}

// WebhookQueue takes the marketing webhook's deliveries: the outbox (outbox.Outbox).
type WebhookQueue interface {
	Enqueue(ctx context.Context, m outbox.Message) error
}

// queueWebhook puts the delivery of a consent change to the marketing webhook in the outbox (once
// per record ID: the outbox ignores a repeat of the key). now is the subject's state after it.
func (c *Consents) queueWebhook(ctx context.Context, rec Record, now flows.Channels) error {
	typ := "consent." + string(rec.Action)
	body, err := json.Marshal(WebhookPayload{View: rec.View(now), IdempotencyKey: rec.ID, Type: typ, Seq: rec.Seq})
	if err != nil {
		return err
	}
	return c.webhooks.Enqueue(ctx, outbox.Message{Destination: MarketingDestination, Type: typ, Key: rec.ID,
		Payload: body, CreatedAt: rec.RecordedAt})
}

// WebhookDelivery is a delivery of the marketing webhook as the marketing API shows it.
type WebhookDelivery struct {
	ID          string     `json:"id"` // the consent record's ID (the payload's id and idempotency_key)
	Seq         int64      `json:"seq"`
	State       string     `json:"state"` // pending, delivered, failed
	Attempts    int        `json:"attempts"`
	LastStatus  int        `json:"last_http_status,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	FailedAt    *time.Time `json:"failed_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

// WebhookDeliveryOf returns an outbox delivery of the marketing destination as the API shows it.
func WebhookDeliveryOf(d outbox.Delivery) WebhookDelivery {
	var p struct {
		Seq int64 `json:"seq"`
	}
	_ = json.Unmarshal(d.Payload, &p)
	w := WebhookDelivery{ID: d.Key, Seq: p.Seq, State: string(d.State), Attempts: d.Attempts, LastStatus: d.LastStatus,
		LastError: d.LastError, CreatedAt: d.CreatedAt.UTC()}
	switch d.State {
	case outbox.Pending:
		w.NextAttempt = timePtr(d.NextAttempt)
	case outbox.Delivered:
		w.DeliveredAt = timePtr(d.DoneAt)
	case outbox.Failed:
		w.FailedAt = timePtr(d.DoneAt)
	}
	return w
}

// timePtr is t, or nil for the zero time (omitted in JSON).
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
