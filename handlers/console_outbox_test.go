package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/outbox/outboxtest"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/store"
)

// fakeOutbox is an OutboxAdmin with deliveries the test sets; Retry moves a failed delivery to the
// pending list (or answers retryErr) and records the IDs it was called with.
type fakeOutbox struct {
	mu                         sync.Mutex
	dests                      []string
	pending, failed, delivered []outbox.Delivery
	failedErr, retryErr        error
	retried                    []string
}

func (f *fakeOutbox) Destinations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.dests)
}

func obOf(ds []outbox.Delivery, destination string) []outbox.Delivery {
	var out []outbox.Delivery
	for _, d := range ds {
		if destination == "" || d.Destination == destination {
			out = append(out, d)
		}
	}
	return out
}

func (f *fakeOutbox) Pending(destination string) []outbox.Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return obOf(f.pending, destination)
}

func (f *fakeOutbox) Failed(_ context.Context, destination string) ([]outbox.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failedErr != nil {
		return nil, f.failedErr
	}
	return obOf(f.failed, destination), nil
}

func (f *fakeOutbox) Delivered(destination string) []outbox.Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return obOf(f.delivered, destination)
}

func (f *fakeOutbox) Retry(_ context.Context, id string) (outbox.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.retried = append(f.retried, id)
	if f.retryErr != nil {
		return outbox.Delivery{}, f.retryErr
	}
	i := slices.IndexFunc(f.failed, func(d outbox.Delivery) bool { return d.ID == id })
	if i < 0 {
		return outbox.Delivery{}, outbox.ErrNotFailed
	}
	d := f.failed[i]
	f.failed = slices.Delete(f.failed, i, i+1)
	d.State, d.Attempts, d.QueuedAt, d.NextAttempt, d.DoneAt = outbox.Pending, 0, obAt(4, 0), obAt(4, 0), time.Time{}
	f.pending = append(f.pending, d)
	return d, nil
}

func (f *fakeOutbox) retriedIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.retried)
}

// The personal data a payload carries: the page must never show any of it.
var outboxSecrets = []string{"山田 花子", "09012345678", "hanako@example.jp"}

func outboxPayload(typ string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"type": typ, "name": outboxSecrets[0], "phone": outboxSecrets[1], "email": outboxSecrets[2]})
	return b
}

// obAt is 2026-04-01 hh:mm in UTC (hh+9 in Japan).
func obAt(hh, mm int) time.Time { return time.Date(2026, 4, 1, hh, mm, 0, 0, time.UTC) }

func obDelivery(dest, typ, key string, state outbox.State) outbox.Delivery {
	return outbox.Delivery{Message: outbox.Message{Destination: dest, Type: typ, Key: key, Payload: outboxPayload(typ), CreatedAt: obAt(0, 0)},
		ID: outbox.ID(dest, key), State: state, QueuedAt: obAt(0, 0)}
}

// sampleOutbox has two failed, two pending and three delivered deliveries, one of each destination,
// one of a type the catalog does not know and one failed of a destination no longer configured.
func sampleOutbox() *fakeOutbox {
	f1 := obDelivery("marketing", "consent.optout", "c/2026/0001", outbox.Failed)
	f1.Attempts, f1.LastStatus, f1.LastError, f1.LastAttempt, f1.DoneAt = 3, 400, "receiver answered 400", obAt(1, 1), obAt(1, 2)
	f2 := obDelivery("old_crm", "crm.sync", "x1", outbox.Failed)
	f2.Attempts, f2.LastError, f2.LastAttempt, f2.DoneAt = 1, "destination old_crm is not configured", obAt(0, 30), obAt(0, 30)
	p1 := obDelivery("staff_line", "escalation.created", "E100", outbox.Pending)
	p1.Attempts, p1.LastStatus, p1.LastError, p1.LastAttempt, p1.NextAttempt = 2, 503, "group push: LINE answered 503", obAt(2, 0), obAt(2, 5)
	p2 := obDelivery("staff_webhook", "escalation.created", "E101", outbox.Pending)
	p2.Attempts, p2.LastError, p2.LastAttempt, p2.NextAttempt = 1, `Post "https://hooks.example/staff": dial tcp: connection refused`, obAt(2, 1), obAt(2, 3)
	var done []outbox.Delivery
	for i, k := range []string{"c/2026/0002", "c/2026/0003", "c/2026/0004"} {
		d := obDelivery("marketing", "consent.optin", k, outbox.Delivered)
		d.Attempts, d.LastStatus, d.DoneAt = 1, 204, obAt(3, 10-i)
		done = append(done, d)
	}
	return &fakeOutbox{dests: []string{"marketing", "staff_line", "staff_webhook"},
		failed: []outbox.Delivery{f1, f2}, pending: []outbox.Delivery{p1, p2}, delivered: done}
}

// newOutboxConsole is the console on its own database with ob as its outbox (nil: none configured),
// an admin of each language, an agent and a marketing account.
func newOutboxConsole(t *testing.T, ob handlers.OutboxAdmin) *consoleHarness {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{URI: engineURI, Database: fmt.Sprintf("ob%d_%d", time.Now().UnixNano()%1e6, dbSeq.Add(1)), Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	con := (&handlers.Console{Outbox: ob, Log: quietLog(), HashCost: 4}).UseBackend(st)
	srv := httptest.NewServer(handlers.NewRouter(quietLog(), handlers.Routes{Console: con}))
	t.Cleanup(func() {
		srv.Close()
		st.Close(context.Background())
	})
	h := &consoleHarness{harness: &harness{t: t, st: st, bot: srv}, console: con}
	h.addStaff("admin@x.example", "管理者", "admin")
	h.addStaffLang("admin-en@x.example", "Admin", "admin", "en")
	h.addStaff("agent@x.example", "担当", "agent")
	h.addStaff("mkt@x.example", "マーケ", "marketing")
	return h
}

// obSection returns the HTML of the page's section that starts at the heading with the id, up to the
// next heading.
func obSection(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `<h2 id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no section %q in the page", id)
	}
	s := body[i+1:]
	if j := strings.Index(s, "<h2 "); j >= 0 {
		s = s[:j]
	}
	return s
}

func obHas(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("%s lacks %q", what, s)
		}
	}
}

// TestOutboxPageShowsDeliveries: an admin sees the failed deliveries (with a retry form carrying the
// ID), the pending ones and the recently delivered, named through the catalog (unknown codes as
// they are), times in Japan, and nothing of the payloads.
func TestOutboxPageShowsDeliveries(t *testing.T) {
	ob := sampleOutbox()
	h := newOutboxConsole(t, ob)
	admin := h.login("admin@x.example")
	code, body := admin.get("/console/outbox")
	if code != http.StatusOK {
		t.Fatalf("outbox page: %d", code)
	}
	obHas(t, "the page", body, "<h1>外部への送信</h1>", `href="/console/outbox"`)

	failed := obSection(t, body, "failed")
	obHas(t, "the failed section", failed,
		"マーケティング部門（Webhook）", "配信停止", "c/2026/0001", "<code>400</code>", "receiver answered 400", "2026-04-01 10:02",
		// unknown destination and type: shown as they are
		"old_crm", "crm.sync", "x1", "応答なし",
		`action="/console/outbox/retry"`, `name="id" value="marketing/c/2026/0001"`, `name="id" value="old_crm/x1"`,
		`name="csrf" value="`+admin.csrf+`"`, "再送する")
	if strings.Index(failed, "c/2026/0001") > strings.Index(failed, "old_crm/x1") {
		t.Error("failed deliveries are not in the outbox's order (newest failure first)")
	}
	pending := obSection(t, body, "pending")
	obHas(t, "the pending section", pending,
		"スタッフへの通知（LINEグループ）", "スタッフへの通知（Webhook）", "担当者への引き継ぎ", "E100", "E101",
		"<code>503</code>", "group push: LINE answered 503", "2026-04-01 11:05", "2026-04-01 11:03", html.EscapeString(`Post "https://hooks.example/staff"`))
	if strings.Contains(pending, "再送する") {
		t.Error("pending deliveries have a retry button")
	}
	delivered := obSection(t, body, "delivered")
	obHas(t, "the delivered section", delivered, ">3</span>", "配信再開", "c/2026/0002", "c/2026/0004", "<code>204</code>", "2026-04-01 12:10")
	for _, s := range append(outboxSecrets, `"phone"`) {
		if strings.Contains(body, s) || strings.Contains(body, html.EscapeString(s)) {
			t.Errorf("the page shows payload text %q", s)
		}
	}

	// The filter: one destination; an unknown one shows everything with a notice.
	_, body = admin.get("/console/outbox?dest=staff_line")
	if !strings.Contains(body, `<option value="staff_line" selected>`) || !strings.Contains(body, "E100") ||
		strings.Contains(body, "E101") || strings.Contains(body, "c/2026/0001") || strings.Contains(body, "c/2026/0002") {
		t.Error("the staff_line filter shows other destinations' deliveries")
	}
	if !strings.Contains(obSection(t, body, "failed"), "送信できなかったものはありません。") {
		t.Error("no empty notice for the filtered failed list")
	}
	_, body = admin.get("/console/outbox?dest=old_crm") // no longer configured, but a failed delivery names it
	if !strings.Contains(body, "old_crm/x1") || strings.Contains(body, "c/2026/0001") {
		t.Error("the filter does not offer a destination only failed deliveries name")
	}
	_, body = admin.get("/console/outbox?dest=nowhere")
	obHas(t, "the page of an unknown destination", body, "送信先の指定が正しくないため", "c/2026/0001", "E100", "E101")

	// In English for a staff member who chose it.
	_, body = h.login("admin-en@x.example").get("/console/outbox")
	obHas(t, "the English page", body, "<h1>Outgoing deliveries</h1>", "Marketing (webhook)", "Opt-out", "Staff alerts (LINE group)",
		"Handed to staff", ">Retry</button>", "no response", "2026-04-01 10:02", "crm.sync")
}

// TestOutboxPageAdminOnly: agents and marketing get 403 for the page and the retry, and see no link.
func TestOutboxPageAdminOnly(t *testing.T) {
	ob := sampleOutbox()
	h := newOutboxConsole(t, ob)
	for _, who := range []string{"agent@x.example", "mkt@x.example"} {
		s := h.login(who)
		if code, body := s.get("/console/outbox"); code != http.StatusForbidden || strings.Contains(body, "c/2026/0001") {
			t.Errorf("%s: outbox page %d", who, code)
		}
		if code, _ := s.act("/console/outbox/retry", url.Values{"id": {"marketing/c/2026/0001"}}); code != http.StatusForbidden {
			t.Errorf("%s: retry %d", who, code)
		}
		if _, body := s.get("/console/settings"); strings.Contains(body, `href="/console/outbox"`) {
			t.Errorf("%s sees the outbox link", who)
		}
	}
	if ids := ob.retriedIDs(); len(ids) != 0 {
		t.Fatalf("Retry called for a non-admin: %q", ids)
	}
}

// TestOutboxRetry: the retry form needs the session's CSRF token, calls Retry with the ID from the
// form (slashes and all), is audited, and returns to the page (and its filter) with a flash; a
// delivery no longer failed and one of an unconfigured destination get their notices, other errors
// the error page.
func TestOutboxRetry(t *testing.T) {
	ob := sampleOutbox()
	h := newOutboxConsole(t, ob)
	admin := h.login("admin@x.example")
	const id = "marketing/c/2026/0001"

	if code, _ := admin.post("/console/outbox/retry", url.Values{"id": {id}}); code != http.StatusForbidden {
		t.Fatalf("retry without the CSRF token: %d", code)
	}
	if code, _ := admin.post("/console/outbox/retry", url.Values{"id": {id}, "csrf": {"forged"}}); code != http.StatusForbidden {
		t.Fatalf("retry with a wrong CSRF token: %d", code)
	}
	if ids := ob.retriedIDs(); len(ids) != 0 {
		t.Fatalf("Retry called without a valid token: %q", ids)
	}

	code, loc := admin.act("/console/outbox/retry", url.Values{"id": {id}, "dest": {"marketing"}})
	if code != http.StatusSeeOther || loc != "/console/outbox?dest=marketing&m=retried" {
		t.Fatalf("retry: %d %s", code, loc)
	}
	if ids := ob.retriedIDs(); !slices.Equal(ids, []string{id}) {
		t.Fatalf("Retry called with %q", ids)
	}
	log, err := h.st.AuditLog(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(log, func(e account.AuditEntry) bool { return e.Action == "outbox.retry" }); i < 0 ||
		log[i].Target != id || log[i].Actor != "admin@x.example" {
		t.Fatalf("retry not audited with the delivery and the admin: %+v", log)
	}
	_, body := admin.get(loc)
	obHas(t, "the page after the retry", body, "送信待ちに戻しました。")
	if failed := obSection(t, body, "failed"); strings.Contains(failed, id) {
		t.Error("the retried delivery is still listed as failed")
	}
	if !strings.Contains(obSection(t, body, "pending"), "c/2026/0001") {
		t.Error("the retried delivery is not listed as pending")
	}

	// Retried again: no longer failed.
	code, loc = admin.act("/console/outbox/retry", url.Values{"id": {id}})
	if code != http.StatusSeeOther || loc != "/console/outbox?e=gone" {
		t.Fatalf("retry of a delivery no longer failed: %d %s", code, loc)
	}
	_, body = admin.get(loc)
	obHas(t, "the page after a stale retry", body, "すでに「送信できなかったもの」にはありません")

	ob.mu.Lock()
	ob.retryErr = fmt.Errorf("%w %q", outbox.ErrUnknownDestination, "old_crm")
	ob.mu.Unlock()
	code, loc = admin.act("/console/outbox/retry", url.Values{"id": {"old_crm/x1"}})
	if code != http.StatusSeeOther || loc != "/console/outbox?e=unconfigured" {
		t.Fatalf("retry of an unconfigured destination: %d %s", code, loc)
	}
	_, body = admin.get(loc)
	obHas(t, "the page after retrying an unconfigured destination", body, "送信先は現在設定されていないため、再送できません")

	ob.mu.Lock()
	ob.retryErr = errors.New("store down")
	ob.mu.Unlock()
	if code, body := admin.act("/console/outbox/retry", url.Values{"id": {"old_crm/x1"}}); code != http.StatusServiceUnavailable ||
		!strings.Contains(body, "現在ご利用いただけません") || strings.Contains(body, "store down") {
		t.Fatalf("retry with the store down: %d", code)
	}
	if code, _ := admin.act("/console/outbox/retry", nil); code != http.StatusBadRequest {
		t.Fatalf("retry without an ID: %d", code)
	}

	n := 0
	log, _ = h.st.AuditLog(context.Background(), 50)
	for _, e := range log {
		if e.Action == "outbox.retry" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d outbox.retry entries, want the one that worked", n)
	}

	// The failed list unavailable: the error page, not a half page.
	ob.mu.Lock()
	ob.failedErr = errors.New("store down")
	ob.mu.Unlock()
	if code, _ := admin.get("/console/outbox"); code != http.StatusServiceUnavailable {
		t.Fatalf("outbox page with the store down: %d", code)
	}
}

// TestOutboxPageWithoutOutbox: with no outbox the page says so and the retry answers 503; with no
// destination configured the page says so too.
func TestOutboxPageWithoutOutbox(t *testing.T) {
	h := newOutboxConsole(t, nil)
	admin := h.login("admin@x.example")
	code, body := admin.get("/console/outbox")
	if code != http.StatusOK || !strings.Contains(body, `id="outbox-off"`) || !strings.Contains(body, "外部への送信先が設定されていないため") ||
		strings.Contains(body, `id="failed"`) {
		t.Fatalf("outbox page without an outbox: %d %s", code, body)
	}
	if code, _ := admin.act("/console/outbox/retry", url.Values{"id": {"marketing/x"}}); code != http.StatusServiceUnavailable {
		t.Fatalf("retry without an outbox: %d", code)
	}

	// An outbox without destinations (the server always opens one): said so, and what failed under
	// an earlier setup is still listed.
	ob := sampleOutbox()
	ob.dests, ob.pending, ob.delivered, ob.failed = nil, nil, nil, ob.failed[1:]
	_, body = newOutboxConsole(t, ob).login("admin@x.example").get("/console/outbox")
	obHas(t, "the page without destinations", body, `id="outbox-none"`, "外部への送信先は1つも設定されていません", `value="old_crm/x1"`,
		"送信待ちのものはありません。", "起動してから送信したものはまだありません。")
}

// nowhere is a destination the tests never send to (the outbox's sender is not run).
type nowhere struct{}

func (nowhere) Deliver(context.Context, outbox.Delivery) outbox.Result {
	return outbox.Result{Err: errors.New("not used")}
}

// TestOutboxPageWithRealOutbox: the page over *outbox.Outbox and the in-memory store: a failed
// delivery is listed and put back to pending; one of a destination no longer configured is told so.
func TestOutboxPageWithRealOutbox(t *testing.T) {
	ctx := context.Background()
	st := outboxtest.NewStore()
	add := func(d outbox.Delivery) {
		t.Helper()
		if _, err := st.Add(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	failed := obDelivery("marketing", "consent.optout", "r1", outbox.Pending)
	add(failed)
	failed.State, failed.Attempts, failed.LastStatus, failed.LastError, failed.DoneAt = outbox.Failed, 4, 500, "HTTP 500", obAt(5, 0)
	if err := st.Finish(ctx, failed); err != nil {
		t.Fatal(err)
	}
	pending := obDelivery("staff_webhook", "escalation.created", "E7", outbox.Pending)
	pending.NextAttempt = obAt(6, 0)
	add(pending)
	orphan := obDelivery("gone_dest", "consent.optin", "r2", outbox.Pending)
	add(orphan) // failed by Open: its destination is not configured
	ob, err := outbox.Open(ctx, outbox.Config{Store: st, Clock: outboxtest.NewClock(obAt(7, 0)), Log: quietLog(),
		Destinations: map[string]outbox.Destination{"marketing": nowhere{}, "staff_webhook": nowhere{}}})
	if err != nil {
		t.Fatal(err)
	}
	h := newOutboxConsole(t, ob)
	admin := h.login("admin@x.example")
	_, body := admin.get("/console/outbox")
	obHas(t, "the failed section", obSection(t, body, "failed"), `value="marketing/r1"`, `value="gone_dest/r2"`, "<code>500</code>", "2026-04-01 14:00")
	obHas(t, "the pending section", obSection(t, body, "pending"), "E7", "2026-04-01 15:00")
	for _, s := range outboxSecrets {
		if strings.Contains(body, s) {
			t.Errorf("the page shows payload text %q", s)
		}
	}

	if code, loc := admin.act("/console/outbox/retry", url.Values{"id": {"marketing/r1"}}); code != http.StatusSeeOther || loc != "/console/outbox?m=retried" {
		t.Fatalf("retry: %d %s", code, loc)
	}
	if d, _ := st.Get("marketing/r1"); d.State != outbox.Pending || d.Attempts != 0 {
		t.Fatalf("the retried delivery is %s with %d attempts", d.State, d.Attempts)
	}
	_, body = admin.get("/console/outbox")
	if !strings.Contains(obSection(t, body, "pending"), "r1") || strings.Contains(obSection(t, body, "failed"), "marketing/r1") {
		t.Error("the page does not show the retried delivery as pending")
	}
	if code, loc := admin.act("/console/outbox/retry", url.Values{"id": {"gone_dest/r2"}}); code != http.StatusSeeOther || loc != "/console/outbox?e=unconfigured" {
		t.Fatalf("retry of an unconfigured destination: %d %s", code, loc)
	}
}

// TestOutboxPageInBrowser renders the page in chromium with failed and pending deliveries, retries
// one by its button, and saves screenshots to /tmp/console-shots/outbox*.png (also the page after the
// retry, and in English).
func TestOutboxPageInBrowser(t *testing.T) {
	ob := sampleOutbox()
	h := newOutboxConsole(t, ob)
	ctx, closeBrowser := newBrowser(t, 1366, 1000, 60*time.Second)
	defer closeBrowser()
	run := func(what string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, acts...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	run("log in", consoleLogin(h.bot.URL, "admin@x.example")...)
	run("outbox page", chromedp.Click(chromedp.CSS(`nav a[href="/console/outbox"]`)), chromedp.WaitVisible(chromedp.CSS(`table.outbox-failed`)))
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("table.outbox-failed tbody tr, table.outbox-pending tbody tr")].length + "|" + document.body.innerText.includes("hanako")`))
	if err != nil {
		t.Fatal(err)
	}
	if rows != "4|false" {
		t.Fatalf("failed and pending rows | payload shown: %s", rows)
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll("/tmp/console-shots", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("/tmp/console-shots/"+name+".png", png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	shot("outbox")
	run("retry", chromedp.Click(chromedp.CSS(`table.outbox-failed tbody tr:first-child button`)), chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	if ids := ob.retriedIDs(); !slices.Equal(ids, []string{"marketing/c/2026/0001"}) {
		t.Fatalf("the button retried %q", ids)
	}
	shot("outbox-retried")

	// The same page in English.
	run("log out", chromedp.Click(chromedp.CSS(`form[action="/console/logout"] button`)), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	run("log in in English", chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "admin-en@x.example"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Click(chromedp.CSS(`button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`header nav`)),
		chromedp.Navigate(h.bot.URL+"/console/outbox"), chromedp.WaitVisible(chromedp.CSS(`table.outbox-pending`)))
	shot("outbox-en")
}
