package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/enemane/privacybot/bot/retention"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/store"
)

// loadRetention reads RETENTION over the defaults (README: configuration). DOCUMENT_KEEP_DAYS, which
// it replaces, is refused with the setting to write instead, so that no deployment keeps documents
// longer than it meant to.
func loadRetention(linkDays int) (retention.Policy, error) {
	if v := os.Getenv("DOCUMENT_KEEP_DAYS"); v != "" {
		if os.Getenv("RETENTION") != "" {
			return nil, errors.New("DOCUMENT_KEEP_DAYS is replaced by RETENTION: remove it, and set documents=" + v + "d in RETENTION if that is the period meant")
		}
		return nil, errors.New("DOCUMENT_KEEP_DAYS is replaced by RETENTION: write RETENTION=documents=" + v + "d")
	}
	return retention.Parse(os.Getenv("RETENTION"), linkDays)
}

// sweepDelay is how long after start the first sweep runs: after the start's own work.
const sweepDelay = time.Minute

// wireRetention builds the sweeper: the store deletes what it keeps on its own, the consent history
// what is superseded, the request service documents, packages and requests, and the processor forgets
// the conversations the store deletes.
func wireRetention(cfg config, st *store.Store, a *app, log *slog.Logger) *retention.Sweeper {
	targets := map[flows.DataKind]retention.Target{}
	for _, k := range flows.DataKinds() {
		targets[k] = st
	}
	targets[flows.DataConversations] = retention.TargetFunc(func(ctx context.Context, k flows.DataKind, cutoff time.Time) (int64, error) {
		a.proc.ForgetIdle(cutoff)
		return st.Sweep(ctx, k, cutoff)
	})
	targets[flows.DataConsent] = a.marketing.consents
	for _, k := range []flows.DataKind{flows.DataDocuments, flows.DataPackages, flows.DataRequests} {
		targets[k] = a.requests
	}
	return retention.New(retention.Config{Policy: cfg.Retention, Targets: targets, Lease: st, Records: st,
		Instance: cfg.InstanceID, Log: log})
}
