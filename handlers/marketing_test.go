package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/outbox/outboxtest"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/store"
)

// marketingAPI is the marketing API on its own store, with a live and a revoked token.
type marketingAPI struct {
	srv            *httptest.Server
	consents       *consent.Consents
	token, revoked string
}

func newMarketingAPI(t *testing.T) *marketingAPI {
	t.Helper()
	return newMarketingAPIAt(t, nil)
}

// newMarketingAPIAt is newMarketingAPI with the API's clock (nil: time.Now).
func newMarketingAPIAt(t *testing.T, now func() time.Time) *marketingAPI {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{URI: engineURI, Database: fmt.Sprintf("m%d_%d", time.Now().UnixNano()%1e6, dbSeq.Add(1)), Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	m := &marketingAPI{}
	if m.consents, err = consent.Open(ctx, st, consent.Options{Log: quietLog()}); err != nil {
		t.Fatal(err)
	}
	tokens := store.NewTokens(st)
	if m.token, err = tokens.Add(ctx, "crm", account.ScopeMarketing); err != nil {
		t.Fatal(err)
	}
	if m.revoked, err = tokens.Add(ctx, "old", account.ScopeMarketing); err != nil {
		t.Fatal(err)
	}
	if err := tokens.Revoke(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	m.srv = httptest.NewServer(handlers.NewRouter(quietLog(), handlers.Routes{
		Marketing: &handlers.Marketing{Tokens: tokens, Consents: m.consents, Now: now}}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *marketingAPI) get(t *testing.T, path, token string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, m.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

func (m *marketingAPI) record(t *testing.T, id string, rec consent.Record) {
	t.Helper()
	rec.ID = id
	if rec.Subject == "" {
		rec.Subject = "line:U" + id
	}
	if rec.Action == "" {
		rec.Action = flows.ConsentOptOut
	}
	if rec.At.IsZero() {
		rec.At = time.Now()
	}
	if err := m.consents.Record(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
}

func TestMarketingAPIAuth(t *testing.T) {
	m := newMarketingAPI(t)
	for _, path := range []string{"/api/v1/optouts", "/api/v1/optouts.csv", "/api/v1/optouts/check?phone=09012345678", "/api/v1/webhook-deliveries"} {
		for _, c := range []struct {
			name, token string
			want        int
		}{{"no token", "", 401}, {"wrong token", "pbm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401},
			{"not a token", "hello", 401}, {"revoked token", m.revoked, 401}, {"live token", m.token, 200}} {
			t.Run(path+"/"+c.name, func(t *testing.T) {
				code, body, hdr := m.get(t, path, c.token)
				if code != c.want {
					t.Fatalf("status %d, want %d (%s)", code, c.want, body)
				}
				if code == 401 && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
					t.Fatal("401 without WWW-Authenticate")
				}
			})
		}
	}
}

func TestMarketingCheckNormalisesPhones(t *testing.T) {
	m := newMarketingAPI(t)
	m.record(t, "a", consent.Record{Channels: flows.ChanPhone | flows.ChanSurvey, Phone: "+819012345678", Reference: "OPT-A"})
	m.record(t, "b", consent.Record{Channels: flows.ChanEmail, Email: "hanako@example.jp", Reference: "OPT-B"})
	for _, phone := range []string{"090-1234-5678", "09012345678", "０９０１２３４５６７８", "+81 90 1234 5678"} {
		code, body, _ := m.get(t, "/api/v1/optouts/check?phone="+url.QueryEscape(phone), m.token)
		var res struct {
			Matched  int `json:"matched"`
			Channels map[string]struct {
				MayContact bool   `json:"may_contact"`
				Reference  string `json:"reference"`
			} `json:"channels"`
			MayAll bool `json:"may_contact_all"`
		}
		if err := json.Unmarshal(body, &res); err != nil || code != 200 {
			t.Fatalf("%s: %d %s", phone, code, body)
		}
		if res.Matched != 1 || res.Channels["phone"].MayContact || res.Channels["survey"].MayContact ||
			!res.Channels["mail"].MayContact || res.Channels["phone"].Reference != "OPT-A" || res.MayAll {
			t.Fatalf("%s: %+v", phone, res)
		}
	}
	// Phone and e-mail of two different records: both count.
	_, body, _ := m.get(t, "/api/v1/optouts/check?phone=090-1234-5678&email=Hanako@Example.jp", m.token)
	if !strings.Contains(string(body), `"matched":2`) || !strings.Contains(string(body), `"email":{"may_contact":false`) {
		t.Fatalf("phone+email: %s", body)
	}
	if code, _, _ := m.get(t, "/api/v1/optouts/check?phone=12345", m.token); code != 400 {
		t.Fatalf("invalid phone: %d", code)
	}
	if code, _, _ := m.get(t, "/api/v1/optouts/check", m.token); code != 400 {
		t.Fatalf("no identifier: %d", code)
	}
	_, body, _ = m.get(t, "/api/v1/optouts/check?phone=080-0000-0000", m.token)
	if !strings.Contains(string(body), `"may_contact_all":true`) {
		t.Fatalf("unknown person: %s", body)
	}
}

func TestMarketingListCursor(t *testing.T) {
	m := newMarketingAPI(t)
	for i := range 5 {
		m.record(t, fmt.Sprint(i), consent.Record{Channels: flows.ChanMail, Reference: fmt.Sprint("R", i)})
	}
	var ids []string
	cursor := ""
	for range 10 {
		code, body, _ := m.get(t, "/api/v1/optouts?limit=2&since="+cursor, m.token)
		var page struct {
			Items []struct {
				ID     string `json:"id"`
				Cursor string `json:"cursor"`
			} `json:"items"`
			Next string `json:"next_cursor"`
			More bool   `json:"has_more"`
		}
		if code != 200 || json.Unmarshal(body, &page) != nil {
			t.Fatalf("%d %s", code, body)
		}
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		cursor = page.Next
		if !page.More {
			break
		}
	}
	if strings.Join(ids, ",") != "0,1,2,3,4" {
		t.Fatalf("paged through %v", ids)
	}
	// Polling with the last cursor returns only what is new.
	m.record(t, "5", consent.Record{Channels: flows.ChanMail})
	_, body, _ := m.get(t, "/api/v1/optouts?since="+cursor, m.token)
	if !strings.Contains(string(body), `"id":"5"`) || strings.Contains(string(body), `"id":"4"`) {
		t.Fatalf("poll: %s", body)
	}
	if code, _, _ := m.get(t, "/api/v1/optouts?since=abc", m.token); code != 400 {
		t.Fatalf("bad cursor: %d", code)
	}
}

// TestOptOutChatEndToEnd: a customer opts out in the simulated LINE chat; marketing sees it in the
// API, the CSV, the check endpoint and their webhook receiver, with the proof record.
func TestOptOutChatEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var received []consent.WebhookPayload
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get(outbox.SignatureHeader) != outbox.Sign("hook-secret", body) {
			http.Error(w, "bad signature", 401)
			return
		}
		var p consent.WebhookPayload
		_ = json.Unmarshal(body, &p)
		mu.Lock()
		received = append(received, p)
		mu.Unlock()
	}))
	defer recv.Close()
	var token string
	ctx := context.Background()
	stopOutbox := func() {}
	h := newHarness(t, harnessOpts{marketing: func(h *harness, cfg *bot.Config) *handlers.Marketing {
		rend, _ := bot.NewRenderer(nil)
		wh, err := store.OpenOutbox(ctx, h.st, outbox.Config{Log: quietLog(), Destinations: map[string]outbox.Destination{
			consent.MarketingDestination: &outbox.Webhook{URL: recv.URL, Secret: "hook-secret"}}})
		if err != nil {
			t.Fatal(err)
		}
		stopOutbox = startOutbox(t, wh)
		cons, err := consent.Open(ctx, h.st, consent.Options{Render: rend.Text, Webhooks: wh, Log: quietLog()})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Effects = cons
		tokens := store.NewTokens(h.st)
		if token, err = tokens.Add(ctx, "crm", account.ScopeMarketing); err != nil {
			t.Fatal(err)
		}
		return &handlers.Marketing{Tokens: tokens, Consents: cons, Webhooks: wh}
	}})
	defer stopOutbox() // before the harness closes the store
	user := "Uoptout0000000000000000000000001"
	h.api.SetProfile(user, "岡山 花子", "ja")
	say := func(n int, ev func() int) []string {
		t.Helper()
		if code := ev(); code != 200 {
			t.Fatalf("webhook status %d", code)
		}
		return texts(h.waitDeliveries(user, n)[n-1:])
	}
	say(1, func() int { return h.send(h.sender.TextEvent(user, "営業の電話をかけてこないで")) })
	say(2, func() int { return h.send(h.sender.PostbackEvent(user, "do=oo&a=pick&c=mail")) })
	say(3, func() int { return h.send(h.sender.PostbackEvent(user, "do=oo&a=done")) })
	say(4, func() int { return h.send(h.sender.TextEvent(user, "岡山 花子")) })
	got := say(5, func() int { return h.send(h.sender.TextEvent(user, "090-1234-56")) })
	if !strings.Contains(got[0], "お電話番号として確認できませんでした") {
		t.Fatalf("invalid phone answered %q", got)
	}
	say(6, func() int { return h.send(h.sender.TextEvent(user, "０９０－１２３４－５６７８")) })
	say(7, func() int { return h.send(h.sender.PostbackEvent(user, "do=oo&a=skip")) })
	confirmText := say(8, func() int { return h.send(h.sender.PostbackEvent(user, "do=oo&a=skip")) })
	if !strings.Contains(confirmText[0], "お電話でのご案内") || !strings.Contains(confirmText[0], "09012345678") {
		t.Fatalf("confirmation %q", confirmText)
	}
	receipt := say(9, func() int { return h.send(h.sender.PostbackEvent(user, "do=oo&a=ok")) })
	if !strings.Contains(receipt[0], "受付番号：OPT-") {
		t.Fatalf("receipt %q", receipt)
	}
	ref := receipt[0][strings.Index(receipt[0], "OPT-"):]
	ref = ref[:strings.IndexAny(ref, "\n")]

	api := &marketingAPI{srv: h.bot}
	_, body, _ := api.get(t, "/api/v1/optouts", token)
	var list struct {
		Items []struct {
			Action      string            `json:"action"`
			Channels    []string          `json:"channels"`
			Identifiers map[string]string `json:"identifiers"`
			Reference   string            `json:"reference"`
			Source      string            `json:"source"`
			Wording     struct{ ID, Lang, Text string }
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list.Items) != 1 {
		t.Fatalf("API list: %s", body)
	}
	it := list.Items[0]
	if it.Action != "optout" || strings.Join(it.Channels, ",") != "phone,mail" || it.Identifiers["phone"] != "+819012345678" ||
		it.Reference != ref || it.Source != "line_chat" || it.Wording.ID != "optout.confirm" || it.Wording.Text != confirmText[0] {
		t.Fatalf("API item %+v (ref %s)", it, ref)
	}
	_, body, _ = api.get(t, "/api/v1/optouts/check?phone=090-1234-5678", token)
	if !strings.Contains(string(body), `"phone":{"may_contact":false`) || !strings.Contains(string(body), `"email":{"may_contact":true`) {
		t.Fatalf("check: %s", body)
	}
	_, body, _ = api.get(t, "/api/v1/optouts.csv", token)
	if !strings.Contains(string(body), "岡山 花子") {
		t.Fatalf("CSV: %s", body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(received)
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook receiver got %d deliveries within 5 s", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if p := received[0]; p.Type != "consent.optout" || p.Reference != ref || strings.Join(p.OptedOutNow, ",") != "phone,mail" {
		t.Fatalf("webhook payload %+v", p)
	}
	// The API's view of the webhook.
	var deliveries struct {
		Configured bool
		Pending    []consent.WebhookDelivery
		Delivered  []consent.WebhookDelivery
	}
	waitFor(t, "the delivery in the API", func() bool {
		_, body, _ := api.get(t, "/api/v1/webhook-deliveries", token)
		return json.Unmarshal(body, &deliveries) == nil && len(deliveries.Delivered) == 1
	})
	if d := deliveries.Delivered[0]; !deliveries.Configured || len(deliveries.Pending) != 0 || d.ID != received[0].ID || d.Seq != 1 ||
		d.State != "delivered" || d.Attempts != 1 || d.DeliveredAt == nil {
		t.Fatalf("webhook deliveries %+v", deliveries)
	}
	// Blocking the account is an opt-out of LINE messages.
	h.send(h.sender.UnfollowEvent(user))
	h.settle()
	_, body, _ = api.get(t, "/api/v1/optouts?since=1", token)
	if !strings.Contains(string(body), `"source":"line_block"`) || !strings.Contains(string(body), `"opted_out_now":["phone","mail","line"]`) {
		t.Fatalf("after block: %s", body)
	}
}

// TestMarketingWebhookDeliveries: GET /api/v1/webhook-deliveries lists the marketing webhook's
// pending deliveries (attempts, last status, next attempt), the delivered and the failed (a 4xx
// fails at once), and nothing of the outbox's other destinations.
func TestMarketingWebhookDeliveries(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{URI: engineURI, Database: fmt.Sprintf("w%d_%d", time.Now().UnixNano()%1e6, dbSeq.Add(1)), Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	answer := map[string]int{"refused": 422, "ok": 204, "down": 503}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(answer[r.Header.Get(outbox.DeliveryHeader)])
	}))
	defer recv.Close()
	staff := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer staff.Close()
	ob, err := store.OpenOutbox(ctx, st, outbox.Config{Log: quietLog(), Policy: outbox.Policy{RetryBase: time.Hour},
		Destinations: map[string]outbox.Destination{
			consent.MarketingDestination: &outbox.Webhook{URL: recv.URL, Secret: "hook-secret"},
			bot.StaffWebhookDestination:  &outbox.Webhook{URL: staff.URL, Secret: "staff-secret"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer startOutbox(t, ob)()
	cons, err := consent.Open(ctx, st, consent.Options{Webhooks: ob, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"refused", "ok", "down"} {
		if err := cons.Record(ctx, consent.Record{ID: id, Subject: "line:U" + id, Action: flows.ConsentOptOut, Channels: flows.ChanPhone, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ob.Enqueue(ctx, outbox.Message{Destination: bot.StaffWebhookDestination, Type: bot.AlertType, Key: "e1", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	tokens := store.NewTokens(st)
	token, err := tokens.Add(ctx, "crm", account.ScopeMarketing)
	if err != nil {
		t.Fatal(err)
	}
	m := &marketingAPI{srv: httptest.NewServer(handlers.NewRouter(quietLog(), handlers.Routes{
		Marketing: &handlers.Marketing{Tokens: tokens, Consents: cons, Webhooks: ob}}))}
	defer m.srv.Close()
	var got struct {
		Configured                 bool
		Pending, Delivered, Failed []consent.WebhookDelivery
	}
	waitFor(t, "one delivery in each state", func() bool {
		_, body, _ := m.get(t, "/api/v1/webhook-deliveries", token)
		got.Pending, got.Delivered, got.Failed = nil, nil, nil
		return json.Unmarshal(body, &got) == nil && len(got.Pending) == 1 && len(got.Delivered) == 1 && len(got.Failed) == 1 &&
			got.Pending[0].Attempts == 1
	})
	if p := got.Pending[0]; !got.Configured || p.ID != "down" || p.Seq != 3 || p.State != "pending" || p.LastStatus != 503 ||
		p.NextAttempt == nil || p.LastError == "" {
		t.Fatalf("pending %+v", p)
	}
	if d := got.Delivered[0]; d.ID != "ok" || d.Seq != 2 || d.State != "delivered" || d.DeliveredAt == nil {
		t.Fatalf("delivered %+v", d)
	}
	if f := got.Failed[0]; f.ID != "refused" || f.Seq != 1 || f.State != "failed" || f.LastStatus != 422 || f.FailedAt == nil || f.Attempts != 1 {
		t.Fatalf("failed %+v", f)
	}
}

// startOutbox runs ob's sender until stop, which waits for it to return. Tests on the embedded engine
// call stop before the store closes; it also runs at the end of the test, as a safety net.
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

// staffGroupAlerts is the staff alerts of the console harness: the staff LINE group as a destination
// of an outbox kept in memory, whose sender runs until the test ends.
func staffGroupAlerts(t *testing.T, g *bot.GroupAlerter) bot.Alerter {
	t.Helper()
	ob, err := outbox.Open(context.Background(), outbox.Config{Store: outboxtest.NewStore(), Log: quietLog(),
		Destinations: map[string]outbox.Destination{bot.StaffLINEDestination: g}})
	if err != nil {
		t.Fatal(err)
	}
	startOutbox(t, ob)
	return &bot.OutboxAlerter{Outbox: ob, Destination: bot.StaffLINEDestination}
}
