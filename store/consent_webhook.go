package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/enemane/privacybot/flows"
)

// Collections of the marketing webhook: the outbox holds the deliveries not yet accepted (small:
// accepted ones leave it), the attempt log every attempt (insert-only).
const (
	colWebhookOutbox   = "marketing_outbox"
	colWebhookAttempts = "marketing_webhook_attempts"
)

// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the body with the shared secret>".
const SignatureHeader = "X-Privacybot-Signature"

// WebhookPayload is the JSON body sent to the marketing system for every opt-out and opt-in. ID is
// also the idempotency key: a receiver that has seen it must ignore the repeat.
type WebhookPayload struct {
	ConsentView
	IdempotencyKey string `json:"idempotency_key"`
	Type           string `json:"type"` // consent.optout, consent.optin
	Seq            int64  `json:"seq"`
}

type outboxDoc struct {
	ID        string    `bson:"_id"`
	Seq       int64     `bson:"seq"`
	Body      string    `bson:"body"`
	CreatedAt time.Time `bson:"createdAt"`
}

// WebhookAttempt is one delivery attempt, as logged and shown by the API.
type WebhookAttempt struct {
	ID        string    `bson:"_id" json:"-"`
	Delivery  string    `bson:"delivery" json:"delivery"`
	Attempt   int       `bson:"attempt" json:"attempt"`
	Status    int       `bson:"status" json:"http_status,omitempty"`
	Error     string    `bson:"error,omitempty" json:"error,omitempty"`
	Delivered bool      `bson:"delivered" json:"delivered"`
	At        time.Time `bson:"at" json:"at"`
}

// WebhookDelivery is the state of one delivery.
type WebhookDelivery struct {
	ID          string     `json:"id"`
	Seq         int64      `json:"seq"`
	State       string     `json:"state"` // pending, delivered
	Attempts    int        `json:"attempts"`
	LastStatus  int        `json:"last_http_status,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

type pending struct {
	doc    outboxDoc
	status WebhookDelivery
	next   time.Time
}

// WebhookOptions configures the webhook sender.
type WebhookOptions struct {
	URL, Secret string
	Client      *http.Client
	// RetryBase and RetryMax shape the backoff (defaults 1 s and 5 min).
	RetryBase, RetryMax time.Duration
	Log                 *slog.Logger
}

// Webhooks delivers consent changes to the marketing system from a durable outbox: a change is in the
// outbox before Consents.Record returns, and leaves it only once the receiver answers 2xx. Failed
// attempts are retried with exponential backoff and jitter, forever; a restart resumes the outbox.
type Webhooks struct {
	o        WebhookOptions
	outbox   *mongo.Collection
	attempts *mongo.Collection
	lock     func() func() // the store's write turn
	wake     chan struct{}

	mu      sync.Mutex
	pending map[string]*pending
	recent  []WebhookDelivery // the last delivered, newest last
}

const recentDeliveries = 200

// OpenWebhooks loads the outbox of the store.
func OpenWebhooks(ctx context.Context, s *Store, o WebhookOptions) (*Webhooks, error) {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.RetryBase == 0 {
		o.RetryBase = time.Second
	}
	if o.RetryMax == 0 {
		o.RetryMax = 5 * time.Minute
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	w := &Webhooks{o: o, outbox: s.db.Collection(colWebhookOutbox), attempts: s.db.Collection(colWebhookAttempts), lock: s.lockWrites,
		wake: make(chan struct{}, 1), pending: map[string]*pending{}}
	cur, err := w.outbox.Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("load webhook outbox: %w", err)
	}
	var docs []outboxDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("load webhook outbox: %w", err)
	}
	for _, d := range docs {
		w.pending[d.ID] = &pending{doc: d, status: WebhookDelivery{ID: d.ID, Seq: d.Seq, State: "pending", CreatedAt: d.CreatedAt}}
	}
	return w, nil
}

// enqueue puts a delivery in the outbox (once per record ID) and wakes the sender.
func (w *Webhooks) enqueue(ctx context.Context, rec ConsentRecord, now flows.Channels) error {
	w.mu.Lock()
	_, queued := w.pending[rec.ID]
	delivered := slices.ContainsFunc(w.recent, func(d WebhookDelivery) bool { return d.ID == rec.ID })
	w.mu.Unlock()
	if queued || delivered {
		return nil
	}
	p := WebhookPayload{ConsentView: rec.View(now), IdempotencyKey: rec.ID, Type: "consent." + string(rec.Action), Seq: rec.Seq}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	doc := outboxDoc{ID: rec.ID, Seq: rec.Seq, Body: string(body), CreatedAt: rec.RecordedAt}
	unlock := w.lock()
	_, err = w.outbox.InsertOne(ctx, doc)
	unlock()
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("queue webhook: %w", err)
	}
	w.mu.Lock()
	if _, ok := w.pending[rec.ID]; !ok {
		w.pending[rec.ID] = &pending{doc: doc, status: WebhookDelivery{ID: rec.ID, Seq: rec.Seq, State: "pending", CreatedAt: doc.CreatedAt}}
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return nil
}

// Sign returns the signature header value of a body.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Run sends due deliveries until ctx ends.
func (w *Webhooks) Run(ctx context.Context) {
	for {
		wait := w.sendDue(ctx)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// sendDue attempts every due delivery in Seq order and returns how long to wait for the next one.
func (w *Webhooks) sendDue(ctx context.Context) time.Duration {
	now := time.Now()
	w.mu.Lock()
	var due []*pending
	wait := time.Hour
	for _, p := range w.pending {
		if !p.next.After(now) {
			due = append(due, p)
		} else {
			wait = min(wait, p.next.Sub(now))
		}
	}
	w.mu.Unlock()
	slices.SortFunc(due, func(a, b *pending) int { return cmp.Compare(a.doc.Seq, b.doc.Seq) })
	for _, p := range due {
		if ctx.Err() != nil {
			return 0
		}
		if d := w.attempt(ctx, p); d > 0 {
			wait = min(wait, d)
		}
	}
	return wait
}

// attempt sends one delivery; it returns the backoff before the next attempt, or 0 when accepted.
func (w *Webhooks) attempt(ctx context.Context, p *pending) time.Duration {
	w.mu.Lock()
	p.status.Attempts++
	n := p.status.Attempts
	w.mu.Unlock()
	status, err := w.post(ctx, p.doc)
	at := time.Now().UTC()
	a := WebhookAttempt{ID: fmt.Sprintf("%s#%d#%d", p.doc.ID, n, at.UnixNano()), Delivery: p.doc.ID, Attempt: n, Status: status, At: at}
	if err != nil {
		a.Error = err.Error()
	}
	a.Delivered = err == nil
	unlock := w.lock()
	_, lerr := w.attempts.InsertOne(ctx, a)
	unlock()
	if lerr != nil {
		w.o.Log.Warn("webhook attempt log failed", "delivery", p.doc.ID, "err", lerr)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	p.status.LastStatus, p.status.LastError = status, a.Error
	if err == nil {
		unlock := w.lock()
		_, derr := w.outbox.DeleteOne(ctx, bson.D{{Key: "_id", Value: p.doc.ID}})
		unlock()
		if derr != nil {
			// It stays in the outbox and is sent again after a restart: the receiver sees the
			// idempotency key twice, which it must tolerate.
			w.o.Log.Warn("webhook outbox cleanup failed", "delivery", p.doc.ID, "err", derr)
		}
		delete(w.pending, p.doc.ID)
		p.status.State, p.status.NextAttempt, p.status.DeliveredAt = "delivered", nil, &at
		w.recent = append(w.recent, p.status)
		if len(w.recent) > recentDeliveries {
			w.recent = w.recent[len(w.recent)-recentDeliveries:]
		}
		w.o.Log.Info("webhook delivered", "delivery", p.doc.ID, "attempts", n)
		return 0
	}
	d := w.o.RetryBase << min(n-1, 20)
	if d <= 0 || d > w.o.RetryMax {
		d = w.o.RetryMax
	}
	d = d/2 + rand.N(d/2+1)
	p.next = time.Now().Add(d)
	next := p.next.UTC()
	p.status.NextAttempt = &next
	w.o.Log.Warn("webhook attempt failed; will retry", "delivery", p.doc.ID, "attempt", n, "status", status, "err", err,
		"retry_in_ms", d.Milliseconds())
	return d
}

func (w *Webhooks) post(ctx context.Context, d outboxDoc) (int, error) {
	body := []byte(d.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.o.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "privacybot-webhook/1")
	req.Header.Set(SignatureHeader, Sign(w.o.Secret, body))
	req.Header.Set("X-Privacybot-Delivery", d.ID)
	req.Header.Set("Idempotency-Key", d.ID)
	res, err := w.o.Client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, fmt.Errorf("receiver answered %d", res.StatusCode)
	}
	return res.StatusCode, nil
}

// Deliveries returns the pending deliveries (oldest first) and the recently delivered (newest first).
func (w *Webhooks) Deliveries() (pendingList, delivered []WebhookDelivery) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.pending {
		pendingList = append(pendingList, p.status)
	}
	slices.SortFunc(pendingList, func(a, b WebhookDelivery) int { return cmp.Compare(a.Seq, b.Seq) })
	for i := len(w.recent) - 1; i >= 0; i-- {
		delivered = append(delivered, w.recent[i])
	}
	return pendingList, delivered
}
