package store

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
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
	c, err := OpenConsents(ctx, s, ConsentOptions{Render: render, Log: quiet()})
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
	check := func(c *Consents) {
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
	c2, err := OpenConsents(ctx, s, ConsentOptions{Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	check(c2) // rebuilt from the history
}

func TestWebhookRetriesUntilAcceptedWithoutLossOrDuplicates(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var failing atomic.Bool
	failing.Store(true)
	var mu sync.Mutex
	got := map[string]int{}
	var badSig atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get(SignatureHeader) != Sign("s3cret", body) {
			badSig.Add(1)
		}
		if failing.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var p WebhookPayload
		_ = json.Unmarshal(body, &p)
		mu.Lock()
		got[p.IdempotencyKey]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	wh, err := OpenWebhooks(ctx, s, WebhookOptions{URL: recv.URL, Secret: "s3cret", RetryBase: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := OpenConsents(ctx, s, ConsentOptions{Webhooks: wh, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	go wh.Run(ctx)
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
	// While the receiver fails, every change stays pending and is retried.
	triedAll := func() bool {
		p, _ := wh.Deliveries()
		if len(p) != n {
			return false
		}
		for _, d := range p {
			if d.Attempts < 2 || d.LastStatus != 503 {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(10 * time.Second); !triedAll(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			p, d := wh.Deliveries()
			t.Fatalf("while the receiver fails: %d pending, %d delivered; want %d pending, each tried twice with 503", len(p), len(d), n)
		}
	}
	failing.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, d := wh.Deliveries()
		if len(p) == 0 && len(d) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered: %d pending, %d delivered", len(p), len(d))
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n {
		t.Fatalf("receiver got %d distinct deliveries, want %d", len(got), n)
	}
	for k, v := range got {
		if v != 1 {
			t.Errorf("%s accepted %d times", k, v)
		}
	}
	if badSig.Load() != 0 {
		t.Fatalf("%d requests with a bad signature", badSig.Load())
	}
	// The outbox is empty after a restart: nothing is sent again.
	wh2, err := OpenWebhooks(ctx, s, WebhookOptions{URL: recv.URL, Secret: "s3cret", Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := wh2.Deliveries(); len(p) != 0 {
		t.Fatalf("%d deliveries left in the outbox", len(p))
	}
}

func TestWebhookOutboxSurvivesRestart(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	wh, _ := OpenWebhooks(ctx, s, WebhookOptions{URL: "http://127.0.0.1:1/", Secret: "x", Log: quiet()})
	c, _ := OpenConsents(ctx, s, ConsentOptions{Webhooks: wh, Log: quiet()})
	ch := &flows.ConsentChange{Action: flows.ConsentOptOut, Channels: flows.ChanLINE, Source: flows.SourceBlock, Reference: "R", At: time.Now()}
	if err := c.Apply(ctx, consentStep("ev", "U", time.Now(), ch)); err != nil {
		t.Fatal(err)
	}
	wh2, err := OpenWebhooks(ctx, s, WebhookOptions{URL: "http://127.0.0.1:1/", Secret: "x", Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := wh2.Deliveries(); len(p) != 1 || p[0].ID != "ev/1" {
		t.Fatalf("after restart: %+v", p)
	}
}

func TestTokensAddVerifyRevoke(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	tk := NewTokens(s)
	tok, err := tk.Add(ctx, "crm", ScopeMarketing)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Add(ctx, "crm", ScopeMarketing); err != ErrTokenName {
		t.Fatalf("second live token with the same name: %v", err)
	}
	if got, err := tk.Verify(ctx, tok); err != nil || got.Name != "crm" || got.Scope != ScopeMarketing {
		t.Fatalf("verify: %+v %v", got, err)
	}
	if _, err := tk.Verify(ctx, tok+"x"); err != ErrTokenInvalid {
		t.Fatalf("wrong token: %v", err)
	}
	list, _ := tk.List(ctx)
	if len(list) != 1 || list[0].Hash == tok {
		t.Fatal("the token must be stored hashed")
	}
	if err := tk.Revoke(ctx, "crm"); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Verify(ctx, tok); err != ErrTokenInvalid {
		t.Fatalf("revoked token: %v", err)
	}
}
