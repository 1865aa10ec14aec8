package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/flows"
)

// Two consent.Consents on one store, each with its own memory, stand for two instances.

// webhookLog is the marketing webhook's outbox as the instances share it: idempotent by key.
type webhookLog struct {
	mu    sync.Mutex
	byKey map[string]consent.WebhookPayload
}

func (q *webhookLog) Enqueue(_ context.Context, m outbox.Message) error {
	var p consent.WebhookPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.byKey[m.Key]; !ok {
		q.byKey[m.Key] = p
	}
	return nil
}

func (q *webhookLog) get(key string) (consent.WebhookPayload, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	p, ok := q.byKey[key]
	return p, ok
}

// consentStore is the store as one instance sees it: beforeInsert runs once, before its next insert
// (another instance writing meanwhile); dups counts the inserts refused as duplicates.
type consentStore struct {
	*Store
	beforeInsert func()
	dups         atomic.Int32
}

func (c *consentStore) InsertConsent(ctx context.Context, r consent.Record) error {
	if f := c.beforeInsert; f != nil {
		c.beforeInsert = nil
		f()
	}
	err := c.Store.InsertConsent(ctx, r)
	if err == bot.ErrDuplicate {
		c.dups.Add(1)
	}
	return err
}

func openConsents(t *testing.T, s consent.Store, wh consent.WebhookQueue) *consent.Consents {
	t.Helper()
	o := consent.Options{Log: quiet()}
	if wh != nil {
		o.Webhooks = wh
	}
	c, err := consent.Open(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func feed(c *consent.Consents) []string {
	recs, _, _ := c.Since(0, 100000)
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = fmt.Sprintf("%d:%s", r.Seq, r.ID)
	}
	return out
}

func TestConsentRecordedOnOneInstanceIsSeenOnAnother(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	a, b := openConsents(t, s, nil), openConsents(t, s, nil)
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	const phone = "+819011112222"
	out := &flows.ConsentChange{Action: flows.ConsentOptOut, Channels: flows.ChanPhone, Phone: phone, Name: "岡山 花子",
		Source: flows.SourceChat, Reference: "OPT-1", At: t0}
	if err := a.Apply(ctx, consentStep("ev1", "U1", t0, out)); err != nil {
		t.Fatal(err)
	}
	if m := b.Match(phone, ""); len(m) != 0 {
		t.Fatalf("B knows %+v before it refreshed", m)
	}
	woke := b.Changed()
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woke:
	default:
		t.Fatal("B's Refresh folded a record without waking the long polls")
	}
	if m := b.Match(phone, ""); len(m) != 1 || m[0].OptedOut() != flows.ChanPhone || m[0].Name != "岡山 花子" {
		t.Fatalf("B's state after Refresh: %+v", m)
	}
	if got := feed(b); !slices.Equal(got, []string{"1:ev1/1"}) || b.LastSeq() != 1 {
		t.Fatalf("B's feed %v, last seq %d", got, b.LastSeq())
	}
	// B records next: it catches up before it picks a Seq, so it takes 2 (A holds 1), and A sees it.
	in := &flows.ConsentChange{Action: flows.ConsentOptIn, Channels: flows.ChanPhone, Source: flows.SourceChat, Reference: "OPT-2",
		At: t0.Add(time.Hour)}
	if err := b.Apply(ctx, consentStep("ev2", "U1", t0.Add(time.Hour), in)); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := a.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := feed(a), []string{"1:ev1/1", "2:ev2/1"}; !slices.Equal(got, want) || !slices.Equal(feed(b), want) {
		t.Fatalf("feeds A %v, B %v, want %v", got, feed(b), want)
	}
	if r, _, _ := a.Since(1, 10); len(r) != 1 || r[0].ID != "ev2/1" {
		t.Fatalf("A after cursor 1: %+v", r)
	}
	if m := a.Match(phone, ""); len(m) != 1 || m[0].OptedOut() != 0 {
		t.Fatalf("A's state after B's opt-in: %+v", m)
	}

	// A's retention sweep deletes ev1/1 (superseded by the opt-in); C, an instance that loaded it before,
	// drops it (and the phone number only it gave) at its first recount.
	c := openConsents(t, s, nil)
	if len(c.Match(phone, "")) != 1 {
		t.Fatal("C did not load the history")
	}
	if n, err := a.Sweep(ctx, flows.DataConsent, t0.AddDate(5, 0, 0)); n != 1 || err != nil {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := feed(c); !slices.Equal(got, []string{"2:ev2/1"}) || len(c.Match(phone, "")) != 0 || c.LastSeq() != 2 {
		t.Fatalf("C after another instance's sweep: feed %v, match %+v, last %d", got, c.Match(phone, ""), c.LastSeq())
	}
}

func TestConsentSeqTakenByAnotherInstanceIsPickedAgain(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	wh := &webhookLog{byKey: map[string]consent.WebhookPayload{}}
	sb := &consentStore{Store: s}
	a, b := openConsents(t, s, wh), openConsents(t, sb, wh)
	for _, c := range []*consent.Consents{a, b} { // as the wiring does on a shared store
		if err := c.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	change := func(ch flows.Channels) *flows.ConsentChange {
		return &flows.ConsentChange{Action: flows.ConsentOptOut, Channels: ch, Source: flows.SourceChat, Reference: "R", At: at}
	}
	// A takes Seq 1 between B's catch-up and B's insert: B's insert collides on the Seq, B catches up
	// and records with Seq 2; its webhook carries 2 and the state after A's record too.
	sb.beforeInsert = func() {
		if err := a.Apply(ctx, consentStep("evA", "U1", at, change(flows.ChanMail))); err != nil {
			t.Error(err)
		}
	}
	if err := b.Apply(ctx, consentStep("evB", "U1", at, change(flows.ChanPhone))); err != nil {
		t.Fatal(err)
	}
	if sb.dups.Load() != 1 {
		t.Fatalf("%d collisions, want 1", sb.dups.Load())
	}
	if got, want := feed(b), []string{"1:evA/1", "2:evB/1"}; !slices.Equal(got, want) {
		t.Fatalf("B's feed %v, want %v", got, want)
	}
	pa, _ := wh.get("evA/1")
	pb, _ := wh.get("evB/1")
	if pa.Seq != 1 || pb.Seq != 2 || strings.Join(pb.OptedOutNow, ",") != "phone,mail" {
		t.Fatalf("webhooks: A %+v, B %+v", pa, pb)
	}

	// The same step applied on both (its customer moved to B while A was applying it): B's insert
	// collides on the ID, and B adopts A's record; one record, one webhook, with A's Seq.
	sb.beforeInsert = func() {
		if err := a.Apply(ctx, consentStep("evC", "U2", at, change(flows.ChanVisit))); err != nil {
			t.Error(err)
		}
	}
	if err := b.Apply(ctx, consentStep("evC", "U2", at, change(flows.ChanVisit))); err != nil {
		t.Fatal(err)
	}
	if got, want := feed(b), []string{"1:evA/1", "2:evB/1", "3:evC/1"}; !slices.Equal(got, want) {
		t.Fatalf("B's feed %v, want %v", got, want)
	}
	if p, _ := wh.get("evC/1"); p.Seq != 3 {
		t.Fatalf("webhook of the adopted record: %+v", p)
	}
	if n, err := s.ConsentCount(ctx, 100); n != 3 || err != nil {
		t.Fatalf("%d records stored (%v), want 3", n, err)
	}
}

func TestConsentConcurrentInstancesGiveEverySeqOnceInOrder(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	wh := &webhookLog{byKey: map[string]consent.WebhookPayload{}}
	sa, sb := &consentStore{Store: s}, &consentStore{Store: s}
	a, b := openConsents(t, sa, wh), openConsents(t, sb, wh)
	for _, c := range []*consent.Consents{a, b} {
		if err := c.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	const writers, each = 2, 15 // per instance
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

	// A reader of A's feed follows the cursor as the API's client does, while A also refreshes (as the
	// wiring does every second): a record that showed up below a cursor already passed would be lost.
	stop := make(chan struct{})
	var seen []consent.Record
	readerDone := make(chan error, 1)
	go func() {
		var cursor int64
		read := func() {
			for {
				recs, _, more := a.Since(cursor, 7)
				seen = append(seen, recs...)
				if len(recs) > 0 {
					cursor = recs[len(recs)-1].Seq
				}
				if !more {
					return
				}
			}
		}
		for {
			changed := a.Changed()
			if err := a.Refresh(ctx); err != nil {
				readerDone <- err
				return
			}
			read()
			select {
			case <-changed:
			case <-stop:
				err := a.Refresh(ctx)
				read()
				readerDone <- err
				return
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 4*writers)
	for name, c := range map[string]*consent.Consents{"a": a, "b": b} {
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					user := fmt.Sprintf("U-%s%d-%d", name, w, i%3)
					ch := &flows.ConsentChange{Action: flows.ConsentOptOut, Channels: flows.ChanMail, Source: flows.SourceChat,
						Reference: "R", At: at.Add(time.Duration(i) * time.Second)}
					if err := c.Apply(ctx, consentStep(fmt.Sprintf("ev-%s%d-%d", name, w, i), user, ch.At, ch)); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	close(stop)
	if err := <-readerDone; err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Seq collisions: A %d, B %d", sa.dups.Load(), sb.dups.Load())

	const total = 2 * writers * each
	stored, err := s.ConsentHistory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seqs := map[int64]string{}
	for _, r := range stored {
		if other, dup := seqs[r.Seq]; dup {
			t.Fatalf("Seq %d given to %s and %s", r.Seq, other, r.ID)
		}
		seqs[r.Seq] = r.ID
		if p, ok := wh.get(r.ID); !ok || p.Seq != r.Seq {
			t.Fatalf("record %s (Seq %d): webhook %+v queued=%v", r.ID, r.Seq, p, ok)
		}
	}
	if len(stored) != total || len(wh.byKey) != total {
		t.Fatalf("%d records stored, %d webhooks, want %d", len(stored), len(wh.byKey), total)
	}
	fa, fb := feed(a), feed(b)
	if len(fa) != total || !slices.Equal(fa, fb) {
		t.Fatalf("feeds differ or are short: A %d, B %d records", len(fa), len(fb))
	}
	if len(seen) != total {
		t.Fatalf("the reader following A's cursor saw %d records, want %d", len(seen), total)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Seq <= seen[i-1].Seq {
			t.Fatalf("cursor order broken at %d: %d after %d", i, seen[i].Seq, seen[i-1].Seq)
		}
	}
}
