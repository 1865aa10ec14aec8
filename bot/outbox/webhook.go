package outbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"time"
)

// Headers of a webhook POST. Receivers verify SignatureHeader and deduplicate by DeliveryHeader
// (IdempotencyHeader carries the same value).
const (
	// SignatureHeader is "sha256=" and the hex HMAC-SHA256 of the body keyed with the secret.
	SignatureHeader = "X-Privacybot-Signature"
	// DeliveryHeader is the message's idempotency key: the same on every attempt and repeat.
	DeliveryHeader    = "X-Privacybot-Delivery"
	IdempotencyHeader = "Idempotency-Key"
)

// Sign returns the SignatureHeader value of a body.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify says whether a SignatureHeader value signs body with secret (in constant time).
func Verify(secret string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}

// Webhook is a destination that POSTs each message's payload as JSON to URL, signed with Secret.
type Webhook struct {
	URL    string
	Secret string
	// Client sends the POST (default: 10 s timeout, redirects not followed: a redirected POST would
	// arrive as a GET without its body, and its 200 would not mean delivered).
	Client *http.Client
	// UserAgent defaults to "privacybot-webhook/1".
	UserAgent string
}

var defaultWebhookClient = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Deliver implements Destination.
func (w *Webhook) Deliver(ctx context.Context, d Delivery) Result {
	if w.URL == "" {
		return Result{Err: errors.New("webhook: no URL"), Permanent: true}
	}
	body := []byte(d.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return Result{Err: err, Permanent: true}
	}
	ua := w.UserAgent
	if ua == "" {
		ua = "privacybot-webhook/1"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", ua)
	req.Header.Set(SignatureHeader, Sign(w.Secret, body))
	req.Header.Set(DeliveryHeader, d.Key)
	req.Header.Set(IdempotencyHeader, d.Key)
	hc := w.Client
	if hc == nil {
		hc = defaultWebhookClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return Result{Err: err}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	return HTTPResult(res, time.Now())
}
