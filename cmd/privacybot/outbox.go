package main

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/store"
)

// openOutbox opens the durable outbox of everything the server sends outside (its sender is started
// and stopped by serve), with one destination for each that is configured:
//   - the marketing webhook: MARKETING_WEBHOOK_URL and MARKETING_WEBHOOK_SECRET (16 characters or
//     more, required with the URL);
//   - the staff webhook: STAFF_WEBHOOK_URL and STAFF_WEBHOOK_SECRET (16 characters or more; config checks it);
//   - the staff LINE group: STAFF_LINE_GROUP_ID;
//   - the back office's request webhook: REQUEST_WEBHOOK_URL and REQUEST_WEBHOOK_SECRET.
func openOutbox(cfg config, st *store.Store, line *bot.LINE, rend *bot.Renderer, log *slog.Logger) (*outbox.Outbox, error) {
	dests := map[string]outbox.Destination{}
	if url, secret := env("MARKETING_WEBHOOK_URL", ""), env("MARKETING_WEBHOOK_SECRET", ""); url != "" {
		if len(secret) < 16 {
			return nil, errors.New("MARKETING_WEBHOOK_SECRET (16 characters or more) is required with MARKETING_WEBHOOK_URL")
		}
		dests[consent.MarketingDestination] = &outbox.Webhook{URL: url, Secret: secret}
	}
	if cfg.StaffWebhookURL != "" {
		dests[bot.StaffWebhookDestination] = &outbox.Webhook{URL: cfg.StaffWebhookURL, Secret: cfg.StaffWebhookSecret}
	}
	if cfg.StaffLineGroupID != "" {
		dests[bot.StaffLINEDestination] = &bot.GroupAlerter{LINE: line, GroupID: cfg.StaffLineGroupID, Renderer: rend,
			Formats: request.GroupFormats()}
	}
	if rc := cfg.Requests; rc.WebhookURL != "" {
		dests[RequestWebhookDestination] = &outbox.Webhook{URL: rc.WebhookURL, Secret: rc.WebhookKey}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ob, err := store.OpenOutbox(ctx, st, outbox.Config{Destinations: dests, Log: log})
	if err != nil {
		return nil, err
	}
	log.Info("outbox ready", "destinations", ob.Destinations(), "pending", len(ob.Pending("")))
	return ob, nil
}

// hasDestination says whether the outbox has a destination.
func hasDestination(ob *outbox.Outbox, destination string) bool {
	return slices.Contains(ob.Destinations(), destination)
}
