package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/enemane/privacybot/store"
)

// Several instances on one MongoDB (store.SharedInbox): what each instance runs besides the webhook
// and the processor's leases (bot/cluster.go). docs/operations.md, "Several instances".

// sharedEvery is how often an instance catches up with what the others changed (requests, consent,
// escalations) and the outbox's sender renews its lease: how late a change made on one instance can
// reach the chat and the console served by another.
const sharedEvery = 2 * time.Second

// runOutbox sends the outbox: in this process alone on the embedded store, on one instance at a time
// (a lease in the store) on MongoDB.
func runOutbox(ctx context.Context, a *app, st *store.Store, instance string) {
	if !st.SharedInbox() {
		a.outbox.Run(ctx)
		return
	}
	a.outbox.RunShared(ctx, st, instance, sharedEvery)
}

// runDesk runs the request service's fetcher and digest, the sync of the taught phrases and, on
// MongoDB, what keeps this instance current with the others: the request index (and the documents an
// instance that died left unfetched), the consent index and the open escalations.
func runDesk(ctx context.Context, a *app, st *store.Store, instance string, log *slog.Logger) {
	var wg sync.WaitGroup
	wg.Go(func() { a.requests.Run(ctx) })
	if st.SharedInbox() {
		wg.Go(func() { a.requests.RunShared(ctx, st, instance, sharedEvery) })
		wg.Go(func() { runCatchUp(ctx, a, log) })
	}
	// The taught phrases: another instance's teaching, and a retraining that failed here, are taken up
	// at the next sync.
	wg.Go(func() { a.insight.classifier.Run(ctx, sharedEvery) })
	wg.Wait()
}

// catchUpEvery is how often the consent index and the open escalations catch up with the other
// instances (one or two small indexed reads each): a chat claimed on one instance silences the bot on
// the others within it, and an opt-out recorded on one is in every instance's marketing API.
const catchUpEvery = time.Second

// runCatchUp keeps the consent index and the staff's open escalations current with the other
// instances until ctx ends (MongoDB only; on the embedded store this process is the only writer).
func runCatchUp(ctx context.Context, a *app, log *slog.Logger) {
	t := time.NewTicker(catchUpEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.marketing.consents.Refresh(ctx); err != nil && ctx.Err() == nil {
			log.Warn("consent not caught up with the other instances", "err", err)
		}
		if err := a.handoffs.Refresh(ctx); err != nil && ctx.Err() == nil {
			log.Warn("escalations not caught up with the other instances", "err", err)
		}
	}
}
