package store

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/outbox"
)

// WebhookOptions configures OpenWebhooks.
type WebhookOptions struct {
	URL, Secret string
	Client      *http.Client
	// RetryBase and RetryMax shape the backoff (defaults 1 s and 5 min).
	RetryBase, RetryMax time.Duration
	Log                 *slog.Logger
}

// OpenWebhooks opens the outbox with the marketing webhook as its only destination: a shorthand for
// tests and tools. The server opens one outbox for all its destinations (OpenOutbox) and hands it to
// consent.Consents and the marketing API the same way.
func OpenWebhooks(ctx context.Context, s *Store, o WebhookOptions) (*outbox.Outbox, error) {
	return OpenOutbox(ctx, s, outbox.Config{
		Destinations: map[string]outbox.Destination{consent.MarketingDestination: &outbox.Webhook{URL: o.URL, Secret: o.Secret, Client: o.Client}},
		Policy:       outbox.Policy{RetryBase: o.RetryBase, RetryMax: o.RetryMax},
		Log:          o.Log,
	})
}
