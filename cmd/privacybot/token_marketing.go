package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/store"
)

// marketing is the consent side of the app: the consent history (an effect sink) and the marketing
// API. The outgoing webhook is the outbox's marketing destination (openOutbox).
type marketing struct {
	consents *consent.Consents
	api      *handlers.Marketing
}

// wireMarketing opens the consent history of the store; changes are queued in ob for the marketing
// webhook when it has that destination (MARKETING_WEBHOOK_URL).
func wireMarketing(st *store.Store, rend *bot.Renderer, ob *outbox.Outbox, log *slog.Logger) (*marketing, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := &marketing{}
	opts := consent.Options{Render: rend.Text, Log: log}
	webhook := hasDestination(ob, consent.MarketingDestination)
	if webhook {
		opts.Webhooks = ob
	}
	var err error
	if m.consents, err = consent.Open(ctx, st, opts); err != nil {
		return nil, err
	}
	m.api = &handlers.Marketing{Tokens: store.NewTokens(st), Consents: m.consents}
	if webhook {
		m.api.Webhooks = ob
	}
	log.Info("marketing ready", "consent_last_seq", m.consents.LastSeq(), "webhook", webhook)
	return m, nil
}

// requestsAPI is the back office's requests API over the request service (handlers.Routes.RequestsAPI):
// tokens with the scope requests from the store, each transition audited in the store's audit log as
// done by "api:<token name>".
func requestsAPI(st *store.Store, svc *request.Service, log *slog.Logger) *handlers.RequestsAPI {
	return &handlers.RequestsAPI{Tokens: store.NewTokens(st), Service: svc, Audit: st, Log: log, Now: time.Now}
}
