package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/insight"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/linesim"
	"github.com/enemane/privacybot/store"
)

// consoleHarness is the whole bot with the staff console: real router, processor, escalation
// manager and embedded engine, the simulator as LINE.
type consoleHarness struct {
	*harness
	handoffs *bot.Handoffs
	console  *handlers.Console
	clock    *testClock // the console's clock (login throttling, sessions)
}

// testClock is a clock tests move by hand; it starts at the real time.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

const testPassword = "correct horse battery"

func newConsoleHarness(t *testing.T, hours bot.BusinessHours) *consoleHarness {
	t.Helper()
	h := &harness{t: t}
	h.api = linesim.NewAPI(linesim.APIOptions{AccessToken: testToken})
	apiSrv := httptest.NewServer(h.api)
	t.Cleanup(apiSrv.Close)
	var err error
	h.st, err = store.Open(context.Background(), store.Config{URI: engineURI, Database: fmt.Sprintf("c%d_%d", time.Now().UnixNano()%1e6, dbSeq.Add(1)), Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	rend, err := bot.NewRenderer(map[string]string{"PolicyURL": "https://example.invalid/policy"})
	if err != nil {
		t.Fatal(err)
	}
	line := bot.NewLINE(testToken, apiSrv.URL, nil)
	ho := bot.NewHandoffs(bot.HandoffConfig{Store: h.st, Inbox: h.st, LINE: line, Renderer: rend,
		Profile: line.ProfileName, BaseURL: "https://console.example", Log: quietLog(),
		Alerters: []bot.Alerter{staffGroupAlerts(t, &bot.GroupAlerter{LINE: line, GroupID: "Cstaffgroup", Renderer: rend})}})
	if err := ho.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.proc = bot.NewProcessor(bot.Config{
		Journal: h.st, Messenger: line, Renderer: rend, Step: flows.Step, Log: quietLog(), Classify: classify,
		RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond, CheckpointEvery: 50 * time.Millisecond,
		Effects: bot.EffectSinks{ho}, Handoff: ho, OnTranscript: ho.TranscriptGrew, Hours: hours,
	})
	ho.SetDispatcher(h.proc)
	if err := h.proc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk := &testClock{}
	// Every part named (the server passes the store as Store; the opt-out tests do too).
	con := &handlers.Console{Chats: ho, Live: ho.Hub(), Sessions: h.st, Accounts: h.st, Directory: h.st, Canned: h.st,
		Audit: h.st, Transcripts: h.st, Search: h.st, Log: quietLog(), HashCost: 4, Now: clk.Now,
		Review: &insight.Inbox{Store: h.st, Classifier: insight.NewClassifier(baseModel, h.st, quietLog()), Now: clk.Now,
			Names: func(context.Context, string) ([]string, error) { return []string{"山田 花子"}, nil }}}
	router := handlers.NewRouter(quietLog(), handlers.Routes{
		Callback: &handlers.Callback{Secret: testSecret, Inbox: h.st, Dispatch: ho.Tap(h.proc), Log: quietLog(), Now: time.Now},
		Health:   &handlers.Health{Store: h.st},
		Console:  con,
	})
	h.bot = httptest.NewServer(router)
	t.Cleanup(func() {
		h.bot.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.proc.Stop(ctx)
		h.st.Close(ctx)
	})
	h.sender = &linesim.Sender{BotURL: h.bot.URL + "/callback", ChannelSecret: testSecret, Destination: "Ubot", API: h.api}
	return &consoleHarness{harness: h, handoffs: ho, console: con, clock: clk}
}

// addStaff creates an account with testPassword and no language chosen (the console speaks Japanese).
func (h *consoleHarness) addStaff(email, name, role string) { h.addStaffLang(email, name, role, "") }

// addStaffLang creates an account with testPassword whose console language is lang ("ja", "en", "").
func (h *consoleHarness) addStaffLang(email, name, role, lang string) {
	h.t.Helper()
	hash, err := account.HashPassword(testPassword, 4)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.st.AddStaff(context.Background(), account.Staff{Email: email, Name: name, Role: role, Lang: lang, Hash: hash, CreatedAt: time.Now()}); err != nil {
		h.t.Fatal(err)
	}
}

// staffClient is a logged-in browser-like client (cookie jar, no redirects followed).
type staffClient struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (h *consoleHarness) login(email string) *staffClient {
	h.t.Helper()
	return loginAt(h.t, h.bot.URL, email)
}

// loginAt logs in to the console served at base.
func loginAt(t testing.TB, base, email string) *staffClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &staffClient{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
	code, body := s.get("/console/login")
	m := csrfRe.FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("login page: %d", code)
	}
	code, _ = s.post("/console/login", url.Values{"csrf": {m[1]}, "email": {email}, "password": {testPassword}})
	if code != http.StatusSeeOther {
		t.Fatalf("login %s: %d", email, code)
	}
	code, body = s.get("/console/")
	if code == http.StatusSeeOther {
		code, body = s.get("/console/marketing")
	}
	if m := csrfRe.FindStringSubmatch(body); m != nil {
		s.csrf = m[1]
	}
	return s
}

func (s *staffClient) do(req *http.Request) (int, string) {
	s.t.Helper()
	res, err := s.c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusSeeOther {
		return res.StatusCode, res.Header.Get("Location")
	}
	return res.StatusCode, string(b)
}

func (s *staffClient) get(path string) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
	return s.do(req)
}

func (s *staffClient) post(path string, form url.Values) (int, string) {
	req, _ := http.NewRequest(http.MethodPost, s.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.do(req)
}

// act posts a console form with the session's CSRF token.
func (s *staffClient) act(path string, form url.Values) (int, string) {
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", s.csrf)
	return s.post(path, form)
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// escalationOf waits for the customer's open escalation.
func (h *consoleHarness) escalationOf(user string) bot.Escalation {
	h.t.Helper()
	var e bot.Escalation
	waitFor(h.t, "an escalation of "+user, func() bool {
		for _, q := range h.handoffs.Queue() {
			if q.UserID == user {
				e = q
				return true
			}
		}
		return false
	})
	return e
}

// complain walks a customer through the complaint flow with real webhooks.
func (h *consoleHarness) complain(user, description string) bot.Escalation {
	h.t.Helper()
	h.send(h.sender.TextEvent(user, "苦情を申し立てたいです"))
	h.waitDeliveries(user, 1)
	h.send(h.sender.PostbackEvent(user, "do=hcat&c=data"))
	h.waitDeliveries(user, 2)
	h.send(h.sender.TextEvent(user, description))
	h.waitDeliveries(user, 3)
	h.send(h.sender.PostbackEvent(user, "do=hsend"))
	h.waitDeliveries(user, 4) // the queued notice, by push
	return h.escalationOf(user)
}
