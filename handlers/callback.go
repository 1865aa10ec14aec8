package handlers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot"
)

// MaxWebhookBody is the largest webhook body accepted (LINE's bodies are far smaller).
const MaxWebhookBody = 1 << 20

// Inbox stores acknowledged events durably.
type Inbox interface {
	AddToInbox(ctx context.Context, events []bot.Event) ([]bot.Event, error)
}

// Dispatcher takes stored events for processing after the acknowledgement; an error means they
// were stored but could not be placed (several instances: bot.ErrNotPlaced), so they are not
// acknowledged.
type Dispatcher interface {
	Enqueue(events []bot.Event) error
}

// Callback is the LINE webhook endpoint.
type Callback struct {
	Secret   string
	Inbox    Inbox
	Dispatch Dispatcher
	Log      *slog.Logger
	Now      func() time.Time
	// Metrics counts requests, acknowledged events and the time to acknowledge (nil: not counted).
	Metrics *WebhookMetrics
}

// Handle answers POST /callback: 413 for a body over 1 MiB, 400 for a missing or wrong signature or a
// body that is not a webhook, 503 when the events cannot be stored or (several instances) handed to
// the instance holding their customer (LINE redelivers), and 200 once every event is durably in the
// inbox and placed. Nothing of the body is logged.
func (h *Callback) Handle(c *gin.Context) {
	arrived := time.Now() // the ack latency is measured on the monotonic clock, whatever Now says
	start := h.Now()
	defer func() {
		// Errors are written after the handler returns (ErrorHandler); a panic writes nothing and
		// is counted by nobody (the recovery answers 500).
		var e *Error
		switch {
		case len(c.Errors) > 0 && errors.As(c.Errors.Last().Err, &e):
			h.Metrics.request(e.Status)
		case c.Writer.Written():
			h.Metrics.request(c.Writer.Status())
		}
	}()
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(c, http.StatusRequestEntityTooLarge, "body_too_large", "webhook body over 1 MiB", nil)
			return
		}
		fail(c, http.StatusBadRequest, "unreadable_body", "could not read the body", err)
		return
	}
	sig := c.GetHeader("X-Line-Signature")
	if sig == "" {
		fail(c, http.StatusBadRequest, "missing_signature", "X-Line-Signature is missing", nil)
		return
	}
	if !validSignature(h.Secret, sig, body) {
		fail(c, http.StatusBadRequest, "bad_signature", "X-Line-Signature does not match the body", nil)
		return
	}
	events, err := bot.ParseWebhook(body, start)
	if err != nil {
		fail(c, http.StatusBadRequest, "malformed", "the body is not a LINE webhook", nil)
		return
	}
	if len(events) == 0 {
		c.JSON(http.StatusOK, gin.H{}) // LINE's verification request
		return
	}
	// LINE waits only a few seconds for the answer; a store that cannot take the events by then is
	// treated as down, and LINE redelivers.
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	fresh, err := h.Inbox.AddToInbox(ctx, events)
	if err != nil {
		c.Header("Retry-After", "5")
		fail(c, http.StatusServiceUnavailable, "store_unavailable", "events could not be stored; please redeliver", err)
		return
	}
	if err := h.Dispatch.Enqueue(fresh); err != nil {
		// Stored, but neither taken by this instance nor their customer's holder told: acknowledged,
		// the customer's next event could be answered first. LINE's redelivery places them (the
		// inbox keeps each event once).
		c.Header("Retry-After", "5")
		fail(c, http.StatusServiceUnavailable, "not_placed", "events stored but not handed to an instance; please redeliver", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{})
	h.Metrics.acknowledged(events, time.Since(arrived))
	h.Log.Info("webhook acknowledged", "events", len(events), "new", len(fresh),
		"ids", eventIDs(events), "ms", float64(h.Now().Sub(start).Microseconds())/1000)
}

// validSignature checks X-Line-Signature: base64 of HMAC-SHA256 of the raw body keyed with the channel
// secret, compared in constant time.
func validSignature(secret, sig string, body []byte) bool {
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

func eventIDs(evs []bot.Event) []string {
	ids := make([]string, 0, min(len(evs), 10))
	for i, e := range evs {
		if i == 10 {
			break
		}
		ids = append(ids, e.ID)
	}
	return ids
}
