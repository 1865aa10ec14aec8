package store

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/flows"
)

func consentStep(event, user string, at time.Time, ch *flows.ConsentChange) bot.Step {
	return bot.Step{EventID: event, UserID: user, Lang: flows.Ja, EventAt: at,
		Effects: []flows.Effect{{Kind: flows.EffectEscalate}, {Kind: flows.EffectConsent, Consent: ch}}}
}

func TestConsentsRecordDeriveAndReload(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	render := func(lang flows.Lang, id string, data map[string]string) (string, error) {
		return string(lang) + ":" + id, nil
	}
	c, err := consent.Open(ctx, s, consent.Options{Render: render, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	out := &flows.ConsentChange{Action: flows.ConsentOptOut, Channels: flows.ChanPhone | flows.ChanMail, Phone: "+819012345678",
		Name: "岡山 花子", Source: flows.SourceChat, WordingID: "optout.confirm", Reference: "OPT-1", At: t1}
	st := consentStep("ev1", "U1", t1, out)
	for range 3 { // applied again after a crash: recorded once
		if err := c.Apply(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	// An opt-in of the phone at the same moment as the opt-out: the conflict resolves to opt-out.
	in := &flows.ConsentChange{Action: flows.ConsentOptIn, Channels: flows.ChanPhone, Source: flows.SourceChat, Reference: "OPT-2", At: t1}
	if err := c.Apply(ctx, consentStep("ev2", "U1", t1, in)); err != nil {
		t.Fatal(err)
	}
	// A later opt-in of direct mail wins.
	in2 := &flows.ConsentChange{Action: flows.ConsentOptIn, Channels: flows.ChanMail, Source: flows.SourceChat, Reference: "OPT-3", At: t1.Add(time.Minute)}
	if err := c.Apply(ctx, consentStep("ev3", "U1", t1, in2)); err != nil {
		t.Fatal(err)
	}
	check := func(c *consent.Consents) {
		t.Helper()
		recs, states, more := c.Since(0, 10)
		if len(recs) != 3 || more || recs[0].ID != "ev1/1" || recs[0].Seq != 1 || recs[2].Seq != 3 {
			t.Fatalf("history %+v more=%v", recs, more)
		}
		if recs[0].WordingText != "ja:optout.confirm" || recs[0].Subject != "line:U1" {
			t.Fatalf("record %+v", recs[0])
		}
		if got := states[2].OptedOut(); got != flows.ChanPhone {
			t.Fatalf("current state %v, want phone only", got.Names())
		}
		m := c.Match("+819012345678", "")
		if len(m) != 1 || m[0].OptedOut() != flows.ChanPhone || m[0].Name != "岡山 花子" {
			t.Fatalf("match %+v", m)
		}
		if r, _, _ := c.Since(2, 10); len(r) != 1 || r[0].Seq != 3 {
			t.Fatalf("cursor 2 gave %+v", r)
		}
	}
	check(c)
	c2, err := consent.Open(ctx, s, consent.Options{Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	check(c2) // rebuilt from the history
}

func TestConsentDeleteConsentsDeletesExactlyTheListedIDs(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i := range 5 {
		r := consent.Record{ID: fmt.Sprintf("ev%d/1", i+1), Seq: int64(i + 1), Subject: consent.LINESubject("U1"),
			Action: flows.ConsentOptOut, Channels: flows.ChanMail, Source: flows.SourceChat, At: at, RecordedAt: at}
		if err := s.InsertConsent(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteConsents(ctx, nil); n != 0 || err != nil {
		t.Fatalf("nothing listed: %d %v", n, err)
	}
	list := []string{"ev2/1", "ev4/1", "ev9/1"} // ev9/1 is not stored
	if n, err := s.DeleteConsents(ctx, list); n != 2 || err != nil {
		t.Fatalf("delete: %d %v, want 2", n, err)
	}
	if n, err := s.DeleteConsents(ctx, list); n != 0 || err != nil {
		t.Fatalf("delete again: %d %v, want 0", n, err)
	}
	recs, err := s.ConsentHistory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	if want := []string{"ev1/1", "ev3/1", "ev5/1"}; !slices.Equal(ids, want) {
		t.Fatalf("left %v, want %v", ids, want)
	}
	if _, err := s.ConsentByID(ctx, "ev2/1"); err != bot.ErrNotFound {
		t.Fatalf("a deleted record: %v", err)
	}
}

func TestConsentSweepSurvivesARestart(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	c, err := consent.Open(ctx, s, consent.Options{Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	for i, ch := range []*flows.ConsentChange{
		{Action: flows.ConsentOptOut, Channels: flows.ChanPhone, Phone: "+819012345678", Source: flows.SourceChat, Reference: "OPT-1", At: t0},
		{Action: flows.ConsentOptIn, Channels: flows.ChanPhone, Source: flows.SourceChat, Reference: "OPT-2", At: t0.Add(time.Hour)},
		{Action: flows.ConsentOptOut, Channels: flows.ChanMail, Source: flows.SourceChat, Reference: "OPT-3", At: t0.Add(2 * time.Hour)},
	} {
		if err := c.Apply(ctx, consentStep(fmt.Sprintf("ev%d", i+1), "U1", ch.At, ch)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.Sweep(ctx, flows.DataConsent, t0.AddDate(1, 0, 0)); n != 1 || err != nil {
		t.Fatalf("sweep: %d %v, want 1", n, err)
	}
	c2, err := consent.Open(ctx, s, consent.Options{Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*consent.Consents{c, c2} {
		recs, states, _ := c.Since(0, 10)
		if len(recs) != 2 || recs[0].ID != "ev2/1" || recs[0].Seq != 2 || recs[1].Seq != 3 || c.LastSeq() != 3 {
			t.Fatalf("history %+v, last seq %d", recs, c.LastSeq())
		}
		if states[1].OptedOut() != flows.ChanMail || states[1].Phone != "" || len(c.Match("+819012345678", "")) != 0 {
			t.Fatalf("state %+v", states[1])
		}
	}
}

// startOutbox runs an outbox's sender until the returned stop (also called at the end of the test),
// which waits for it to return.
func startOutbox(t *testing.T, ob *outbox.Outbox) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ob.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// waitFor waits until cond holds (the sender makes it so; nothing is timed).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestWebhookRetriesUntilAcceptedWithoutLossOrDuplicates(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var failing atomic.Bool
	failing.Store(true)
	var mu sync.Mutex
	got := map[string]int{}
	var badSig atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get(outbox.SignatureHeader) != outbox.Sign("s3cret", body) {
			badSig.Add(1)
		}
		if failing.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var p consent.WebhookPayload
		_ = json.Unmarshal(body, &p)
		if r.Header.Get(outbox.DeliveryHeader) != p.IdempotencyKey || r.Header.Get("Idempotency-Key") != p.IdempotencyKey {
			badSig.Add(1)
		}
		mu.Lock()
		got[p.IdempotencyKey]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	wh, err := OpenWebhooks(ctx, s, WebhookOptions{URL: recv.URL, Secret: "s3cret", RetryBase: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := consent.Open(ctx, s, consent.Options{Webhooks: wh, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	stop := startOutbox(t, wh)
	const n = 20
	for i := range n {
		ch := &flows.ConsentChange{Action: flows.ConsentOptOut, Channels: flows.ChanEmail, Source: flows.SourceChat, Reference: "R", At: time.Now()}
		st := consentStep("e"+string(rune('a'+i)), "U", time.Now(), ch)
		if err := c.Apply(ctx, st); err != nil {
			t.Fatal(err)
		}
		if err := c.Apply(ctx, st); err != nil { // re-applied: no second delivery
			t.Fatal(err)
		}
	}
	// While the receiver fails, every change stays pending; the destination is retried, with backoff.
	waitFor(t, "retries while the receiver fails", func() bool {
		p := wh.Pending(consent.MarketingDestination)
		retried := 0
		for _, d := range p {
			if d.Attempts >= 2 && d.LastStatus == 503 {
				retried++
			}
		}
		return len(p) == n && retried > 0
	})
	failing.Store(false)
	waitFor(t, "every delivery", func() bool {
		return len(wh.Pending(consent.MarketingDestination)) == 0 && len(wh.Delivered(consent.MarketingDestination)) == n
	})
	mu.Lock()
	if len(got) != n {
		t.Fatalf("receiver got %d distinct deliveries, want %d", len(got), n)
	}
	for k, v := range got {
		if v != 1 {
			t.Errorf("%s accepted %d times", k, v)
		}
	}
	mu.Unlock()
	if badSig.Load() != 0 {
		t.Fatalf("%d requests with a bad signature or delivery header", badSig.Load())
	}
	stop()
	// The outbox is empty after a restart: nothing is sent again, and a change applied again (a
	// step re-applied after a crash) is not queued again.
	wh2, err := OpenWebhooks(ctx, s, WebhookOptions{URL: recv.URL, Secret: "s3cret", Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if p := wh2.Pending(""); len(p) != 0 {
		t.Fatalf("%d deliveries left in the outbox", len(p))
	}
	c2, err := consent.Open(ctx, s, consent.Options{Webhooks: wh2, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ch := &flows.ConsentChange{Action: flows.ConsentOptOut, Channels: flows.ChanEmail, Source: flows.SourceChat, Reference: "R", At: time.Now()}
	if err := c2.Apply(ctx, consentStep("ea", "U", time.Now(), ch)); err != nil {
		t.Fatal(err)
	}
	if err := wh2.Enqueue(ctx, outbox.Message{Destination: consent.MarketingDestination, Type: "consent.optout", Key: "ea/1", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if p := wh2.Pending(""); len(p) != 0 {
		t.Fatalf("a delivered change queued again: %+v", p)
	}
}

func TestWebhookOutboxSurvivesRestart(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	wh, err := OpenWebhooks(ctx, s, WebhookOptions{URL: "http://127.0.0.1:1/", Secret: "x", Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := consent.Open(ctx, s, consent.Options{Webhooks: wh, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ch := &flows.ConsentChange{Action: flows.ConsentOptOut, Channels: flows.ChanLINE, Source: flows.SourceBlock, Reference: "R", At: time.Now()}
	if err := c.Apply(ctx, consentStep("ev", "U", time.Now(), ch)); err != nil {
		t.Fatal(err)
	}
	wh2, err := OpenWebhooks(ctx, s, WebhookOptions{URL: "http://127.0.0.1:1/", Secret: "x", Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	p := wh2.Pending(consent.MarketingDestination)
	if len(p) != 1 || p[0].Key != "ev/1" || p[0].Type != "consent.optout" {
		t.Fatalf("after restart: %+v", p)
	}
	var body consent.WebhookPayload
	if err := json.Unmarshal(p[0].Payload, &body); err != nil || body.ID != "ev/1" || body.Seq != 1 || body.Subject != "line:U" ||
		strings.Join(body.OptedOutNow, ",") != "line" {
		t.Fatalf("payload %s (%v)", p[0].Payload, err)
	}
	if w := consent.WebhookDeliveryOf(p[0]); w.ID != "ev/1" || w.Seq != 1 || w.State != "pending" || w.NextAttempt == nil {
		t.Fatalf("as the API shows it: %+v", w)
	}
}

func TestTokensAddVerifyRevoke(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	tk := NewTokens(s)
	tok, err := tk.Add(ctx, "crm", account.ScopeMarketing)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Add(ctx, "crm", account.ScopeMarketing); err != account.ErrTokenName {
		t.Fatalf("second live token with the same name: %v", err)
	}
	if got, err := tk.Verify(ctx, tok); err != nil || got.Name != "crm" || got.Scope != account.ScopeMarketing {
		t.Fatalf("verify: %+v %v", got, err)
	}
	if _, err := tk.Verify(ctx, tok+"x"); err != account.ErrTokenInvalid {
		t.Fatalf("wrong token: %v", err)
	}
	list, _ := tk.List(ctx)
	if len(list) != 1 || list[0].Hash == tok {
		t.Fatal("the token must be stored hashed")
	}
	if err := tk.Revoke(ctx, "crm"); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Verify(ctx, tok); err != account.ErrTokenInvalid {
		t.Fatalf("revoked token: %v", err)
	}
}
