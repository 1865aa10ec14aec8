package store

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/outbox/outboxtest"
)

func countDocs(t *testing.T, s *Store, col string) int64 {
	t.Helper()
	n, err := s.db.Collection(col).CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testDelivery(dest, key string, at time.Time) outbox.Delivery {
	return outbox.Delivery{Message: outbox.Message{Destination: dest, Type: "escalation.created", Key: key,
		Payload: []byte(`{"type":"escalation.created","id":"` + key + `","reason":"人と話したい"}`), CreatedAt: at},
		ID: outbox.ID(dest, key), State: outbox.Pending, QueuedAt: at, NextAttempt: at}
}

// TestOutboxStoreKeepsOnlyPendingHot: the store's side of the outbox on the embedded engine: adds are
// idempotent across every state, delivered and failed deliveries leave the pending collection, a
// failed one can be reopened once, and every field survives the round trip.
func TestOutboxStoreKeepsOnlyPendingHot(t *testing.T) {
	s := openTest(t)
	o := NewOutboxStore(s)
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 9, 0, 0, 123e6, time.UTC)
	a, b := testDelivery("staff_webhook", "a", at), testDelivery("staff_line", "a", at)
	for _, d := range []outbox.Delivery{a, b} {
		if added, err := o.Add(ctx, d); err != nil || !added {
			t.Fatalf("add %s: %v %v", d.ID, added, err)
		}
	}
	if added, err := o.Add(ctx, a); err != nil || added {
		t.Fatalf("a pending one added again: %v %v", added, err)
	}
	a.Attempts, a.LastStatus, a.LastError = 1, 503, "receiver answered 503"
	a.LastAttempt, a.NextAttempt = at.Add(time.Second), at.Add(3*time.Second)
	if err := o.Save(ctx, a); err != nil {
		t.Fatal(err)
	}
	p, err := o.Pending(ctx)
	if err != nil || len(p) != 2 {
		t.Fatalf("pending %+v %v", p, err)
	}
	got := p[0]
	if got.ID != a.ID {
		got = p[1]
	}
	if got.Attempts != 1 || got.LastStatus != 503 || got.LastError != a.LastError || !got.NextAttempt.Equal(a.NextAttempt) ||
		!got.LastAttempt.Equal(a.LastAttempt) || !got.QueuedAt.Equal(at) || !got.CreatedAt.Equal(at) || string(got.Payload) != string(a.Payload) ||
		got.Type != a.Type || got.Key != "a" || got.Destination != "staff_webhook" || !got.DoneAt.IsZero() {
		t.Fatalf("round trip: %+v", got)
	}

	a.State, a.DoneAt = outbox.Delivered, at.Add(time.Minute)
	b.State, b.DoneAt, b.LastStatus = outbox.Failed, at.Add(time.Hour), 400
	for _, d := range []outbox.Delivery{a, b, a} { // finishing twice is harmless
		if err := o.Finish(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if n := countDocs(t, s, colOutbox); n != 0 {
		t.Fatalf("%d documents left in the pending collection", n)
	}
	for _, d := range []outbox.Delivery{a, b} {
		if added, err := o.Add(ctx, testDelivery(d.Destination, d.Key, at)); err != nil || added {
			t.Fatalf("%s (%s) added again: %v %v", d.ID, d.State, added, err)
		}
	}
	failed, err := o.Failed(ctx)
	if err != nil || len(failed) != 1 || failed[0].ID != b.ID || failed[0].LastStatus != 400 || !failed[0].DoneAt.Equal(b.DoneAt) {
		t.Fatalf("failed %+v %v", failed, err)
	}

	b.State, b.Attempts, b.DoneAt = outbox.Pending, 0, time.Time{}
	if err := o.Reopen(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := o.Reopen(ctx, b); !errors.Is(err, outbox.ErrNotFailed) {
		t.Fatalf("reopened twice: %v", err)
	}
	if err := o.Reopen(ctx, a); !errors.Is(err, outbox.ErrNotFailed) {
		t.Fatalf("a delivered one reopened: %v", err)
	}
	if p, _ := o.Pending(ctx); len(p) != 1 || p[0].ID != b.ID || p[0].State != outbox.Pending {
		t.Fatalf("pending after reopen %+v", p)
	}
	if n := countDocs(t, s, colOutboxFailed); n != 0 {
		t.Fatalf("%d failed left", n)
	}
}

// TestOutboxOnTheEngineRetriesResumesAndDelivers: the outbox with its MongoDB store and a real
// receiver: failures are retried (the attempts stored), a restart resumes them, and once delivered the
// pending collection is empty.
func TestOutboxOnTheEngineRetriesResumesAndDelivers(t *testing.T) {
	s := openTest(t)
	var up atomic.Bool
	var hits atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		if !up.Load() || !outbox.Verify("staff-secret", body, r.Header.Get(outbox.SignatureHeader)) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer recv.Close()
	clk := outboxtest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	cfg := outbox.Config{Clock: clk, Log: quiet(),
		Destinations: map[string]outbox.Destination{"staff_webhook": &outbox.Webhook{URL: recv.URL, Secret: "staff-secret"}},
		Policy:       outbox.Policy{RetryBase: time.Second, RetryMax: time.Minute, Jitter: func(d time.Duration) time.Duration { return d }}}
	ctx := context.Background()
	ob, err := OpenOutbox(ctx, s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop := startOutbox(t, ob)
	for _, k := range []string{"e1", "e2", "e3"} {
		if err := ob.Enqueue(ctx, outbox.Message{Destination: "staff_webhook", Type: "escalation.created", Key: k, Payload: []byte(`{"id":"` + k + `"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a failed attempt and the lane paused", func() bool { return hits.Load() >= 1 && len(clk.Timers()) == 1 })
	stop()
	p, _ := NewOutboxStore(s).Pending(ctx)
	if len(p) != 3 {
		t.Fatalf("stored pending %+v", p)
	}
	up.Store(true)
	ob2, err := OpenOutbox(ctx, s, cfg) // the restart
	if err != nil {
		t.Fatal(err)
	}
	startOutbox(t, ob2)
	waitFor(t, "the never-attempted two", func() bool { return len(ob2.Delivered("")) == 2 })
	waitFor(t, "the retry timer", func() bool { return len(clk.Timers()) == 1 })
	clk.Advance(time.Minute)
	waitFor(t, "all three", func() bool { return len(ob2.Delivered("")) == 3 })
	if n := countDocs(t, s, colOutbox); n != 0 {
		t.Fatalf("%d documents left in the pending collection", n)
	}
	if n := countDocs(t, s, colOutboxDelivered); n != 3 {
		t.Fatalf("%d delivered documents, want 3", n)
	}
}

// TestOutboxTakesOverTheFormerMarketingOutbox: deliveries left in the marketing webhook's own outbox
// by the previous version are pending marketing deliveries of the outbox, with the same key and body.
func TestOutboxTakesOverTheFormerMarketingOutbox(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	body := `{"id":"ev9/1","idempotency_key":"ev9/1","type":"consent.optout","seq":7,"subject":"line:U9"}`
	created := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	if _, err := s.db.Collection(colLegacyMarketingOutbox).InsertOne(ctx, bson.D{{Key: "_id", Value: "ev9/1"}, {Key: "seq", Value: int64(7)},
		{Key: "body", Value: body}, {Key: "createdAt", Value: created}}); err != nil {
		t.Fatal(err)
	}
	ob, err := OpenWebhooks(ctx, s, WebhookOptions{URL: "http://127.0.0.1:1/", Secret: "x", Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	p := ob.Pending(consent.MarketingDestination)
	if len(p) != 1 || p[0].Key != "ev9/1" || string(p[0].Payload) != body || p[0].Type != "consent.optout" || !p[0].CreatedAt.Equal(created) {
		t.Fatalf("moved %+v", p)
	}
	if w := consent.WebhookDeliveryOf(p[0]); w.Seq != 7 || w.ID != "ev9/1" {
		t.Fatalf("as the API shows it %+v", w)
	}
	if n := countDocs(t, s, colLegacyMarketingOutbox); n != 0 {
		t.Fatalf("%d left in the former outbox", n)
	}
	// Opening again moves nothing twice.
	ob2, err := OpenWebhooks(ctx, s, WebhookOptions{URL: "http://127.0.0.1:1/", Secret: "x", Log: quiet()})
	if err != nil || len(ob2.Pending("")) != 1 {
		t.Fatalf("reopened: %v %+v", err, ob2.Pending(""))
	}
}
