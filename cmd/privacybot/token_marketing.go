package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/store"
)

// marketing is the consent side of the app: the consent history (an effect sink), the marketing API
// and, when MARKETING_WEBHOOK_URL is set, the outgoing webhook, whose sender run starts.
type marketing struct {
	consents *store.Consents
	api      *handlers.Marketing
	run      func(ctx context.Context)
}

// wireMarketing opens the consent history and the webhook outbox of the store. MARKETING_WEBHOOK_URL
// and MARKETING_WEBHOOK_SECRET (required with the URL) configure the webhook.
func wireMarketing(st *store.Store, rend *bot.Renderer, log *slog.Logger) (*marketing, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := &marketing{run: func(context.Context) {}}
	url, secret := env("MARKETING_WEBHOOK_URL", ""), env("MARKETING_WEBHOOK_SECRET", "")
	var wh *store.Webhooks
	if url != "" {
		if len(secret) < 16 {
			return nil, errors.New("MARKETING_WEBHOOK_SECRET (16 characters or more) is required with MARKETING_WEBHOOK_URL")
		}
		var err error
		if wh, err = store.OpenWebhooks(ctx, st, store.WebhookOptions{URL: url, Secret: secret, Log: log}); err != nil {
			return nil, err
		}
		m.run = wh.Run
	}
	var err error
	m.consents, err = store.OpenConsents(ctx, st, store.ConsentOptions{Render: rend.Text, Webhooks: wh, Log: log})
	if err != nil {
		return nil, err
	}
	m.api = &handlers.Marketing{Tokens: store.NewTokens(st), Consents: m.consents}
	if wh != nil {
		m.api.Webhooks = wh
	}
	log.Info("marketing ready", "consent_records", m.consents.LastSeq(), "webhook", url != "")
	return m, nil
}
