package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/handlers"
)

// loginTry is one login attempt from a fresh browser, with extra headers; it returns the status.
func (h *consoleHarness) loginTry(t *testing.T, email, pw string, header map[string]string) int {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &staffClient{t: t, base: h.bot.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
	_, page := s.get("/console/login")
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no login form")
	}
	req, _ := http.NewRequest(http.MethodPost, h.bot.URL+"/console/login",
		strings.NewReader(url.Values{"csrf": {m[1]}, "email": {email}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	code, _ := s.do(req)
	return code
}

// TestLoginGuessesAreSlowedNotLockedOut: after three free failures each attempt waits longer (1 s,
// 2 s, …, at most a minute); the right password works once the wait is over.
func TestLoginGuessesAreSlowedNotLockedOut(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	h.addStaff("a@x.example", "A", account.RoleAgent)
	for i := range 4 {
		if code := h.loginTry(t, "a@x.example", "wrong password "+string(rune('a'+i)), nil); code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d, want 401", i, code)
		}
	}
	if code := h.loginTry(t, "a@x.example", testPassword, nil); code != http.StatusTooManyRequests {
		t.Fatalf("right password straight after 4 failures: %d, want 429", code)
	}
	h.clock.Advance(time.Second)
	if code := h.loginTry(t, "a@x.example", "wrong again", nil); code != http.StatusUnauthorized {
		t.Fatalf("after the 1 s wait: %d, want 401 (a real attempt)", code)
	}
	h.clock.Advance(time.Second)
	if code := h.loginTry(t, "a@x.example", testPassword, nil); code != http.StatusTooManyRequests {
		t.Fatalf("1 s after the fifth failure: %d, want 429 (the wait is now 2 s)", code)
	}
	// However many failures, the wait never exceeds a minute.
	for range 10 {
		h.clock.Advance(time.Minute)
		h.loginTry(t, "a@x.example", "still wrong", nil)
	}
	h.clock.Advance(time.Minute)
	if code := h.loginTry(t, "a@x.example", testPassword, nil); code != http.StatusSeeOther {
		t.Fatalf("the real user a minute after the last guess: %d, want 303 (logged in)", code)
	}
	if a := h.auditActions(t); !a["login.failed"] || !a["login.throttled"] || !a["login"] {
		t.Fatalf("audit %v: want failed, throttled and login", a)
	}
}

// TestSpoofedForwardedForDoesNotEscapeTheLimit: without trusted proxies, X-Forwarded-For is not the
// client's address: changing it on every guess (and the e-mail too) does not reset the per-address
// wait, and the audit log names the real peer.
func TestSpoofedForwardedForDoesNotEscapeTheLimit(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	h.addStaff("a@x.example", "A", account.RoleAgent)
	throttled := 0
	for i := range 8 {
		xff := map[string]string{"X-Forwarded-For": "203.0.113." + string(rune('1'+i)), "X-Real-IP": "198.51.100.9"}
		code := h.loginTry(t, string(rune('a'+i))+"@guess.example", "guess", xff)
		if code == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled < 4 {
		t.Fatalf("%d of 8 spoofed guesses throttled, want the ones after the 4th", throttled)
	}
	log, err := h.st.AuditLog(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range log {
		if e.IP != "127.0.0.1" && e.IP != "::1" {
			t.Fatalf("audit entry %s names %q, not the real peer", e.Action, e.IP)
		}
	}
}

// TestClientAddressFollowsTheProxySettings: X-Forwarded-For names the client only when it comes from
// a configured proxy; on Fly.io the proxy's Fly-Client-IP does.
func TestClientAddressFollowsTheProxySettings(t *testing.T) {
	cases := []struct {
		name   string
		routes handlers.Routes
		header map[string]string
		want   string
	}{
		{"no proxies: the peer", handlers.Routes{}, map[string]string{"X-Forwarded-For": "203.0.113.7"}, "127.0.0.1"},
		{"trusted proxy: the forwarded client", handlers.Routes{TrustedProxies: []string{"127.0.0.1/32"}},
			map[string]string{"X-Forwarded-For": "203.0.113.7"}, "203.0.113.7"},
		{"another proxy is not trusted", handlers.Routes{TrustedProxies: []string{"10.0.0.0/8"}},
			map[string]string{"X-Forwarded-For": "203.0.113.7"}, "127.0.0.1"},
		{"Fly.io", handlers.Routes{ClientIPHeader: gin.PlatformFlyIO},
			map[string]string{"Fly-Client-IP": "198.51.100.4", "X-Forwarded-For": "203.0.113.7"}, "198.51.100.4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := handlers.NewRouter(quietLog(), c.routes)
			r.GET("/ip", func(g *gin.Context) { g.String(http.StatusOK, g.ClientIP()) })
			srv := httptest.NewServer(r)
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/ip", nil)
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if string(b) != c.want {
				t.Fatalf("client address %q, want %q", b, c.want)
			}
		})
	}
	if err := handlers.ValidProxies([]string{"not-an-address"}); err == nil {
		t.Fatal("a malformed TRUSTED_PROXIES entry was accepted")
	}
}

// TestOneTimePasswordOpensOneSession: local mode's printed admin password logs in once; the same
// password is refused afterwards.
func TestOneTimePasswordOpensOneSession(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	hash, err := account.HashPassword(testPassword, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.st.AddStaff(context.Background(), account.Staff{Email: "admin@localhost", Name: "管理者", Role: account.RoleAdmin,
		Hash: hash, OneTime: true, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	c := h.login("admin@localhost")
	if code, _ := c.get("/console/queue"); code != http.StatusOK {
		t.Fatalf("the session the one-time password opened: %d", code)
	}
	if code := h.loginTry(t, "admin@localhost", testPassword, nil); code != http.StatusUnauthorized {
		t.Fatalf("second login with the one-time password: %d, want 401", code)
	}
	if !h.auditActions(t)["login.one_time_password_used"] {
		t.Fatal("the use of the one-time password is not audited")
	}
	// A password the admin then sets on the staff page lasts: it logs in again and again.
	const lasting = "a lasting password 2026"
	if code, loc := c.act("/console/staff/update", url.Values{"email": {"admin@localhost"}, "role": {account.RoleAdmin}, "password": {lasting}}); code != http.StatusSeeOther || loc != "/console/staff?m=updated" {
		t.Fatalf("setting a password: %d %s", code, loc)
	}
	for i := range 2 {
		if code := h.loginTry(t, "admin@localhost", lasting, nil); code != http.StatusSeeOther {
			t.Fatalf("login %d with the password set: %d", i+1, code)
		}
	}
}
