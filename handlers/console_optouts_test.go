package handlers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/store"
)

// optoutConsole is the console and the marketing API on one store (the embedded engine), with the
// outgoing webhook sending to a test receiver: what the console records must reach all of them.
type optoutConsole struct {
	*consoleHarness
	consents *consent.Consents
	token    string

	mu    sync.Mutex
	hooks []consent.WebhookPayload
}

func newOptoutConsole(t *testing.T) *optoutConsole {
	t.Helper()
	return newOptoutConsoleAt(t, nil)
}

// newOptoutConsoleAt is newOptoutConsole with the console's and the API's clock (nil: time.Now). Logins
// last long enough for any clock.
func newOptoutConsoleAt(t *testing.T, now func() time.Time) *optoutConsole {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := store.Open(ctx, store.Config{URI: engineURI, Database: fmt.Sprintf("o%d_%d", time.Now().UnixNano()%1e6, dbSeq.Add(1)), Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	o := &optoutConsole{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get(outbox.SignatureHeader) != outbox.Sign("hook-secret-123456", body) {
			http.Error(w, "bad signature", 401)
			return
		}
		var p consent.WebhookPayload
		_ = json.Unmarshal(body, &p)
		o.mu.Lock()
		o.hooks = append(o.hooks, p)
		o.mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	wh, err := store.OpenWebhooks(ctx, st, store.WebhookOptions{URL: recv.URL, Secret: "hook-secret-123456", Log: quietLog(),
		RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { wh.Run(ctx); close(done) }()
	if o.consents, err = consent.Open(ctx, st, consent.Options{Webhooks: wh, Log: quietLog()}); err != nil {
		t.Fatal(err)
	}
	tokens := store.NewTokens(st)
	if o.token, err = tokens.Add(ctx, "crm", account.ScopeMarketing); err != nil {
		t.Fatal(err)
	}
	con := (&handlers.Console{Consents: o.consents, Log: quietLog(), HashCost: 4, Now: now}).UseBackend(st)
	if now != nil {
		con.SessionTTL = 50 * 365 * 24 * time.Hour
	}
	srv := httptest.NewServer(handlers.NewRouter(quietLog(), handlers.Routes{Console: con,
		Marketing: &handlers.Marketing{Tokens: tokens, Consents: o.consents, Webhooks: wh, Now: now}}))
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		st.Close(context.Background())
	})
	o.consoleHarness = &consoleHarness{harness: &harness{t: t, st: st, bot: srv}, console: con}
	// These tests are about what the pages do, and read their English words (TestConsoleSpeaksJapaneseByDefault
	// and TestOptOutPagesInJapanese cover the default language).
	o.addStaffLang("admin@x.example", "Admin", account.RoleAdmin, "en")
	o.addStaffLang("agent@x.example", "Agent", account.RoleAgent, "en")
	o.addStaffLang("mkt@x.example", "Mkt", account.RoleMarketing, "en")
	return o
}

func (o *optoutConsole) record(rec consent.Record) {
	o.t.Helper()
	if rec.Action == "" {
		rec.Action = flows.ConsentOptOut
	}
	if rec.Source == "" {
		rec.Source = flows.SourceChat
	}
	if rec.Subject == "" {
		rec.Subject = "line:U" + rec.ID
	}
	if rec.At.IsZero() {
		rec.At = time.Now()
	}
	if rec.Reference == "" {
		rec.Reference = flows.ConsentReference(rec.At)
	}
	if err := o.consents.Record(context.Background(), rec); err != nil {
		o.t.Fatal(err)
	}
}

func (o *optoutConsole) api(path string) (int, string) {
	o.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, o.bot.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+o.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// entryForm is the manual entry form as the page serves it (with its one-time entry ID), plus fields.
func entryForm(t *testing.T, s *staffClient, path string, fields url.Values) url.Values {
	t.Helper()
	code, body := s.get(path)
	if code != 200 {
		t.Fatalf("GET %s: %d", path, code)
	}
	m := regexp.MustCompile(`name="entry" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no entry ID in the form")
	}
	fields.Set("entry", m[1])
	if m := regexp.MustCompile(`name="subject" value="([^"]+)"`).FindStringSubmatch(body); m != nil {
		fields.Set("subject", html.UnescapeString(m[1]))
	}
	if fields.Get("via") == "" {
		fields.Set("via", "phone")
	}
	if fields.Get("action") == "" {
		fields.Set("action", "optout")
	}
	return fields
}

var historyLinkRe = regexp.MustCompile(`href="(/console/optouts/[^"]+)">History</a>`)

func rowsOf(body string) []string {
	var out []string
	for _, m := range historyLinkRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestOptOutPagesRoleBoundaries(t *testing.T) {
	o := newOptoutConsole(t)
	o.record(consent.Record{ID: "r1", Channels: flows.ChanMail, Name: "岡山 花子"})
	admin, agent, mkt := o.login("admin@x.example"), o.login("agent@x.example"), o.login("mkt@x.example")
	anon := &staffClient{t: t, base: o.bot.URL, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	history := "/console/optouts/line:Ur1"
	for _, path := range []string{"/console/optouts", "/console/optouts?channel=mail&q=花子", history,
		"/console/optouts/new", "/console/optouts/new?subject=line:Ur1", "/console/optouts.csv"} {
		for _, g := range []struct {
			who  string
			c    *staffClient
			want int
		}{{"marketing", mkt, 200}, {"admin", admin, 200}, {"agent", agent, 403}, {"nobody", anon, 303}} {
			if code, _ := g.c.get(path); code != g.want {
				t.Errorf("%s GET %s: %d, want %d", g.who, path, code, g.want)
			}
		}
	}
	// Marketing still never sees conversations.
	for _, path := range []string{"/console/queue", "/console/search?q=a", "/console/chats/x", "/console/api/queue"} {
		if code, _ := mkt.get(path); code != 403 {
			t.Errorf("marketing GET %s: %d, want 403", path, code)
		}
	}
	// The marketing page's link is served now.
	if _, body := mkt.get("/console/marketing"); !strings.Contains(body, `href="/console/optouts"`) {
		t.Error("the marketing page does not link the opt-out list")
	}
	if _, body := mkt.get("/console/optouts"); !strings.Contains(body, "岡山 花子") || !strings.Contains(body, "Direct mail") {
		t.Errorf("list: %s", body)
	}

	before := o.consents.LastSeq()
	good := url.Values{"channel": {"phone"}, "phone": {"090-1111-2222"}, "action": {"optout"}, "via": {"phone"}}
	if code, _ := agent.act("/console/optouts", good); code != 403 {
		t.Errorf("agent POST entry: %d, want 403", code)
	}
	if code, _ := anon.post("/console/optouts", good); code != 401 {
		t.Errorf("anonymous POST entry: %d, want 401", code)
	}
	// CSRF: missing or forged token → 403, nothing recorded.
	for _, c := range []*staffClient{mkt, admin} {
		for _, tok := range []string{"", "forged"} {
			f := url.Values{}
			for k, v := range good {
				f[k] = v
			}
			if tok != "" {
				f.Set("csrf", tok)
			}
			if code, body := c.post("/console/optouts", f); code != 403 || !strings.Contains(body, "did not come from the console") {
				t.Errorf("POST entry with csrf %q: %d", tok, code)
			}
		}
	}
	if got := o.consents.LastSeq(); got != before {
		t.Fatalf("a rejected form recorded something: seq %d → %d", before, got)
	}
	// With the token, marketing and admin may record.
	for i, c := range []*staffClient{mkt, admin} {
		f := entryForm(t, c, "/console/optouts/new", url.Values{"channel": {"phone"}, "phone": {fmt.Sprintf("090-1111-222%d", i)}})
		if code, loc := c.act("/console/optouts", f); code != 303 || !strings.HasPrefix(loc, "/console/optouts/staff:") {
			t.Errorf("entry %d: %d %s", i, code, loc)
		}
	}
	if got := o.consents.LastSeq(); got != before+2 {
		t.Fatalf("seq %d, want %d", got, before+2)
	}
	if _, body := anon.get(history); strings.Contains(body, "岡山") {
		t.Error("history shown without a session")
	}
}

func TestOptOutListFilters(t *testing.T) {
	o := newOptoutConsole(t)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }
	o.record(consent.Record{ID: "a", Channels: flows.ChanPhone | flows.ChanMail, Name: "岡山 花子", Phone: "+819012345678", At: day(1)})
	o.record(consent.Record{ID: "b", Channels: flows.ChanEmail, Name: "Taro Yamada", Email: "taro@example.jp", At: day(5)})
	o.record(consent.Record{ID: "c", Channels: flows.ChanLINE, Source: flows.SourceBlock, At: day(10)})
	o.record(consent.Record{ID: "d", Subject: "staff:+81862397675", Channels: flows.ChanAll, Name: "倉敷 次郎",
		Phone: "+81862397675", Source: flows.SourceStaff, Staff: "mkt@x.example", At: day(12)})
	// e opted out and back in: only in the "everyone" view.
	o.record(consent.Record{ID: "e", Channels: flows.ChanSurvey, Name: "Back In", At: day(2)})
	o.record(consent.Record{ID: "e2", Subject: "line:Ue", Action: flows.ConsentOptIn, Channels: flows.ChanSurvey, At: day(3)})
	// Hostile text renders as text.
	o.record(consent.Record{ID: "x", Channels: flows.ChanVisit, Name: `<script>alert(1)</script>"><img src=x onerror=alert(1)>`, At: day(4)})
	mkt := o.login("mkt@x.example")

	cases := []struct {
		query string
		want  []string // subjects, most recently changed first
	}{
		{"", []string{"line:Ux", "staff:+81862397675", "line:Uc", "line:Ub", "line:Ua"}},
		{"?channel=phone", []string{"staff:+81862397675", "line:Ua"}},
		{"?channel=email", []string{"staff:+81862397675", "line:Ub"}},
		{"?source=staff_entry", []string{"staff:+81862397675"}},
		{"?source=line_block", []string{"line:Uc"}},
		{"?source=line_chat&channel=line", nil},
		{"?since=2026-03-05", []string{"staff:+81862397675", "line:Uc", "line:Ub"}},
		{"?since=2026-03-05&channel=mail", []string{"staff:+81862397675"}},
		{"?q=" + url.QueryEscape("090-1234-5678"), []string{"line:Ua"}},
		{"?q=" + url.QueryEscape("０９０１２３４５６７８"), []string{"line:Ua"}},
		{"?q=" + url.QueryEscape("+81 90 1234 5678"), []string{"line:Ua"}},
		{"?q=" + url.QueryEscape("086-239-7675"), []string{"staff:+81862397675"}},
		{"?q=2397675", []string{"staff:+81862397675"}},
		{"?q=" + url.QueryEscape("TARO@Example.JP"), []string{"line:Ub"}},
		{"?q=yamada", []string{"line:Ub"}},
		{"?q=" + url.QueryEscape("花子"), []string{"line:Ua"}},
		{"?q=nobody", nil},
		{"?state=all&channel=survey", []string{"line:Ue", "staff:+81862397675"}},
		{"?channel=survey", []string{"staff:+81862397675"}},
	}
	for _, c := range cases {
		code, body := mkt.get("/console/optouts" + c.query)
		if code != 200 {
			t.Fatalf("%s: %d", c.query, code)
		}
		var got []string
		for _, l := range rowsOf(body) {
			s, _ := url.PathUnescape(html.UnescapeString(strings.TrimPrefix(l, "/console/optouts/")))
			got = append(got, s)
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s: %v, want %v", c.query, got, c.want)
		}
	}
	_, body := mkt.get("/console/optouts")
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") ||
		!strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("a customer's name was not escaped")
	}
	if _, body := mkt.get("/console/optouts?channel=bogus&since=yesterday"); !strings.Contains(body, "problem") {
		t.Error("a bad filter was not reported")
	}
}

func TestOptOutListPages(t *testing.T) {
	o := newOptoutConsole(t)
	for i := range 120 {
		o.record(consent.Record{ID: fmt.Sprintf("p%03d", i), Channels: flows.ChanMail, Name: fmt.Sprintf("Person %03d", i)})
	}
	mkt := o.login("mkt@x.example")
	seen := map[string]bool{}
	for page, want := range []int{50, 50, 20} {
		_, body := mkt.get(fmt.Sprintf("/console/optouts?channel=mail&page=%d", page+1))
		rows := rowsOf(body)
		if len(rows) != want {
			t.Fatalf("page %d: %d rows, want %d", page+1, len(rows), want)
		}
		for _, r := range rows {
			if seen[r] {
				t.Fatalf("%s on two pages", r)
			}
			seen[r] = true
		}
		if page == 0 && (!strings.Contains(rows[0], "p119") || !strings.Contains(body, "1–50 of 120") ||
			!strings.Contains(body, `href="/console/optouts?channel=mail&amp;page=2"`)) {
			t.Fatalf("page 1: first %s", rows[0])
		}
	}
}

func TestOptOutHistoryPage(t *testing.T) {
	o := newOptoutConsole(t)
	at := time.Date(2026, 3, 1, 1, 2, 0, 0, time.UTC)
	o.record(consent.Record{ID: "h1", Subject: "line:Uhist", Channels: flows.ChanPhone | flows.ChanMail, Name: "岡山 花子",
		Phone: "+819012345678", WordingID: "optout.confirm", WordingLang: "ja", WordingText: "お電話でのご案内、ダイレクトメールを停止します。<b>よろしいですか</b>",
		Reference: "OPT-FIRST", At: at})
	o.record(consent.Record{ID: "h2", Subject: "line:Uhist", Action: flows.ConsentOptIn, Channels: flows.ChanMail,
		Reference: "OPT-SECOND", At: at.Add(time.Hour), WordingID: "optin.confirm", WordingLang: "ja", WordingText: "再開します"})
	o.record(consent.Record{ID: "other", Channels: flows.ChanVisit, Name: "Someone Else"})
	mkt := o.login("mkt@x.example")
	code, body := mkt.get("/console/optouts/line:Uhist")
	if code != 200 {
		t.Fatalf("history: %d", code)
	}
	for _, want := range []string{"岡山 花子", "09012345678", "OPT-FIRST", "OPT-SECOND", "Opt-out", "Opt-in", "Phone calls", "Direct mail",
		"LINE chat", "optout.confirm", "&lt;b&gt;よろしいですか&lt;/b&gt;", "再開します", "2026-03-01 10:02", "2026-03-01 11:02"} {
		if !strings.Contains(body, want) {
			t.Errorf("history lacks %q", want)
		}
	}
	if strings.Contains(body, "Someone Else") {
		t.Error("another person's record in the history")
	}
	if strings.Index(body, "OPT-SECOND") > strings.Index(body, "OPT-FIRST") {
		t.Error("history not newest first")
	}
	if code, _ := mkt.get("/console/optouts/line:Unobody"); code != 404 {
		t.Errorf("unknown person: %d, want 404", code)
	}
	// The list's row links here.
	_, list := mkt.get("/console/optouts")
	if !strings.Contains(list, `href="/console/optouts/line:Uhist"`) {
		t.Error("the list does not link the history")
	}
	if !o.auditActions(t)["optout.history"] {
		t.Error("opening a history is not audited")
	}
}

// TestOptOutConsoleCSV: the console's CSV is the API's, byte for byte: formulas neutralised, phone
// numbers as they are, times and the file name's date in Japan time.
func TestOptOutConsoleCSV(t *testing.T) {
	downloaded := time.Date(2026, 12, 4, 16, 30, 0, 0, time.UTC) // 01:30 on the 5th in Japan
	o := newOptoutConsoleAt(t, func() time.Time { return downloaded })
	for i, name := range []string{"=HYPERLINK(\"http://evil\")", "+1+1", "-2", "@SUM(A1)", "\tTab", "岡山 花子"} {
		o.record(consent.Record{ID: fmt.Sprintf("f%d", i), Channels: flows.ChanMail, Name: name, Phone: "+819012345678",
			At: downloaded.Add(-time.Hour)})
	}
	mkt := o.login("mkt@x.example")
	req, _ := http.NewRequest(http.MethodGet, o.bot.URL+"/console/optouts.csv", nil)
	res, err := mkt.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		res.Header.Get("Content-Disposition") != `attachment; filename="optouts-20261205.csv"` {
		t.Fatalf("CSV: %d %v", res.StatusCode, res.Header)
	}
	if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		t.Fatal("no BOM")
	}
	_, apiBody := o.api("/api/v1/optouts.csv")
	if string(body) != apiBody {
		t.Fatalf("console CSV differs from the API's:\n%s\n---\n%s", body, apiBody)
	}
	rows, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil || len(rows) != 7 {
		t.Fatalf("CSV rows %d: %v", len(rows), err)
	}
	for _, r := range rows[1:6] {
		if !strings.HasPrefix(r[1], "'") {
			t.Errorf("formula not neutralised: %q", r[1])
		}
	}
	if r := rows[6]; r[1] != "岡山 花子" || r[2] != "+819012345678" || r[8] != "2026-12-05T00:30:00+09:00" ||
		r[len(r)-1] != "090-1234-5678" {
		t.Errorf("row %q", r)
	}
	if !o.auditActions(t)["optout.csv"] {
		t.Error("the CSV download is not audited")
	}
}

// TestOptOutManualEntry: an opt-out received by phone, entered in the console, is in the API feed, the
// check, the webhook and the CSV like any other, with the staff member; the same form resubmitted records
// once; an opt-in from the person's history page reopens a channel.
func TestOptOutManualEntry(t *testing.T) {
	o := newOptoutConsole(t)
	mkt := o.login("mkt@x.example")
	f := entryForm(t, mkt, "/console/optouts/new", url.Values{"channel": {"phone", "mail"}, "via": {"letter"},
		"name": {"岡山　花子"}, "phone": {"０９０-９８７６-５４３２"}, "email": {"Hanako@Example.JP"}, "extra": {"〒7000975"},
		"note": {"Letter dated 3/1: <b>please stop</b> calls and DM."}})
	code, loc := mkt.act("/console/optouts", f)
	if code != 303 || !strings.HasPrefix(loc, "/console/optouts/staff:+819098765432?recorded=OPT-") {
		t.Fatalf("entry: %d %s", code, loc)
	}
	ref, _ := url.QueryUnescape(loc[strings.Index(loc, "recorded=")+len("recorded="):])
	// Resubmitting the same form records nothing more.
	if code, _ := mkt.act("/console/optouts", f); code != 303 || o.consents.LastSeq() != 1 {
		t.Fatalf("resubmit: %d, seq %d", code, o.consents.LastSeq())
	}

	// The API feed.
	_, body := o.api("/api/v1/optouts")
	var feed struct {
		Items []struct {
			Subject, Action, Source, Reference, Staff string
			Channels                                  []string
			Identifiers                               map[string]string
			Wording                                   struct{ ID, Text string }
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &feed); err != nil || len(feed.Items) != 1 {
		t.Fatalf("feed: %s", body)
	}
	it := feed.Items[0]
	if it.Subject != "staff:+819098765432" || it.Action != "optout" || it.Source != "staff_entry" || it.Staff != "mkt@x.example" ||
		it.Reference != ref || strings.Join(it.Channels, ",") != "phone,mail" || it.Identifiers["name"] != "岡山 花子" ||
		it.Identifiers["phone"] != "+819098765432" || it.Identifiers["email"] != "hanako@example.jp" ||
		it.Identifiers["postal_code"] != "700-0975" || it.Wording.ID != "staff_entry.letter" || !strings.Contains(it.Wording.Text, "please stop") {
		t.Fatalf("feed item %+v", it)
	}
	// The check endpoint, with the phone written another way.
	_, body = o.api("/api/v1/optouts/check?phone=" + url.QueryEscape("+81 90 9876 5432"))
	if !strings.Contains(body, `"phone":{"may_contact":false`) || !strings.Contains(body, `"mail":{"may_contact":false`) ||
		!strings.Contains(body, `"email":{"may_contact":true`) {
		t.Fatalf("check: %s", body)
	}
	// The webhook.
	waitFor(t, "the webhook delivery", func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		return len(o.hooks) == 1
	})
	if p := o.hooks[0]; p.Type != "consent.optout" || p.Source != "staff_entry" || p.Reference != ref || p.Subject != "staff:+819098765432" {
		t.Fatalf("webhook %+v", p)
	}
	// The history shows who entered it and the note as text.
	_, page := mkt.get(loc)
	for _, want := range []string{"Recorded. Reference <b>" + ref, "entered by <b>mkt@x.example</b>", "Staff entry",
		"&lt;b&gt;please stop&lt;/b&gt;", "staff_entry.letter", "09098765432"} {
		if !strings.Contains(page, want) {
			t.Errorf("history lacks %q", want)
		}
	}
	if !o.auditActions(t)["optout.entry"] {
		t.Error("the entry is not audited")
	}

	// An opt-in of direct mail for the same person, from the history page.
	f = entryForm(t, mkt, "/console/optouts/new?subject="+url.QueryEscape("staff:+819098765432"),
		url.Values{"channel": {"mail"}, "action": {"optin"}, "via": {"phone"}})
	if f.Get("subject") != "staff:+819098765432" {
		t.Fatalf("form subject %q", f.Get("subject"))
	}
	if code, loc := mkt.act("/console/optouts", f); code != 303 || !strings.HasPrefix(loc, "/console/optouts/staff:+819098765432?") {
		t.Fatalf("opt-in: %d %s", code, loc)
	}
	_, body = o.api("/api/v1/optouts/check?phone=09098765432")
	if !strings.Contains(body, `"phone":{"may_contact":false`) || !strings.Contains(body, `"mail":{"may_contact":true`) {
		t.Fatalf("check after opt-in: %s", body)
	}
	waitFor(t, "the opt-in delivery", func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		return len(o.hooks) == 2 && o.hooks[1].Type == "consent.optin"
	})
	// An entry for someone unknown to the form's subject is refused.
	f.Set("subject", "line:Unobody")
	f.Set("entry", "")
	if code, _ := mkt.act("/console/optouts", f); code != 404 {
		t.Errorf("entry for an unknown subject: %d", code)
	}
}

func TestOptOutEntryInvalidKeepsInput(t *testing.T) {
	o := newOptoutConsole(t)
	mkt := o.login("mkt@x.example")
	hostile := `"><script>alert(1)</script>`
	f := entryForm(t, mkt, "/console/optouts/new", url.Values{"channel": {"email", "survey"}, "name": {"岡山 花子"},
		"phone": {"090-1234-56"}, "email": {"hanako@"}, "extra": {"C-10234"}, "note": {hostile}, "via": {"letter"}})
	code, body := mkt.act("/console/optouts", f)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("invalid entry: %d", code)
	}
	for _, want := range []string{"Not a Japanese phone number", "Not an e-mail address", "nothing has been recorded",
		`value="岡山 花子"`, `value="090-1234-56"`, `value="hanako@"`, `value="C-10234"`,
		`value="email" checked`, `value="survey" checked`, `value="letter" selected`, `value="` + f.Get("entry") + `"`,
		"&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("re-rendered form lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("the note was not escaped")
	}
	if strings.Contains(body, `value="phone" checked`) {
		t.Error("an unchosen channel came back checked")
	}
	for _, c := range []struct {
		name string
		form url.Values
		want string
	}{
		{"no identifier", url.Values{"channel": {"mail"}, "name": {"岡山 花子"}}, "Give a phone number, an e-mail address or a customer number"},
		{"no channel", url.Values{"phone": {"09012345678"}}, "Choose at least one channel"},
		{"bad name", url.Values{"channel": {"mail"}, "phone": {"09012345678"}, "name": {"12345"}}, "The name must be"},
		{"bad extra", url.Values{"channel": {"mail"}, "phone": {"09012345678"}, "extra": {"!!"}}, "postal code (700-0975)"},
		{"future date", url.Values{"channel": {"mail"}, "phone": {"09012345678"}, "received": {"2999-01-01"}}, "cannot be in the future"},
	} {
		code, body := mkt.act("/console/optouts", entryForm(t, mkt, "/console/optouts/new", c.form))
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d, want the error %q", c.name, code, c.want)
		}
	}
	if n := o.consents.LastSeq(); n != 0 {
		t.Fatalf("invalid forms recorded %d records", n)
	}
	// Corrected, it records; a letter dated earlier is recorded with that date.
	f.Set("phone", "090-1234-5678")
	f.Set("email", "hanako@example.jp")
	f.Set("note", "ok")
	f.Set("received", time.Now().In(time.FixedZone("JST", 9*3600)).AddDate(0, 0, -3).Format("2006-01-02"))
	if code, loc := mkt.act("/console/optouts", f); code != 303 {
		t.Fatalf("corrected entry: %d %s", code, loc)
	}
	recs := o.consents.History("staff:+819012345678")
	if len(recs) != 1 || recs[0].Customer != "C-10234" || time.Since(recs[0].At) < 48*time.Hour || recs[0].Staff != "mkt@x.example" {
		t.Fatalf("records %+v", recs)
	}
}
