package handlers_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot/request"
)

// rqStream opens a server-sent event stream and returns its status and content type.
func rqStream(t *testing.T, s *staffClient, path string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	res, err := s.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	return res.StatusCode, res.Header.Get("Content-Type")
}

// TestRequestPagesRoleBoundaries: every route of the request pages for every role. Admins and
// privacy officers use them all; agents and marketing get 403 (and see no link, no customer data);
// without a session pages lead to the login, the JSON routes and forms answer 401. Privacy officers
// also work the chats like agents.
func TestRequestPagesRoleBoundaries(t *testing.T) {
	f := newRQFixture(t, rqSeeds)
	ref := f.refs["fresh"]
	data := []byte("billing export\n")
	if _, err := f.svc.AttachFile(context.Background(), ref, "billing.csv", "text/csv", data, request.Actor{Kind: request.ActorStaff, ID: "admin@x.example"}); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	base := "/console/requests/" + ref
	gets := map[string]int{ // path → status for admins and privacy officers
		"/console/requests": 200,
		"/console/requests?status=all&kind=correction&overdue=1&q=x": 200,
		"/console/api/requests":        200,
		base:                           200,
		base + "/documents/" + f.docID: 200,
		base + "/package":              200,
		base + "/files/" + hex.EncodeToString(sum[:8]): 200,
	}
	posts := map[string]struct {
		form url.Values
		code int
	}{
		base + "/transition":   {url.Values{"to": {"completed"}}, http.StatusConflict},
		base + "/extend":       {url.Values{"due": {""}, "reason": {"x"}}, http.StatusBadRequest},
		base + "/note":         {url.Values{"text": {"確認中"}}, http.StatusSeeOther},
		base + "/files":        {url.Values{}, http.StatusBadRequest},
		base + "/link/revoke":  {nil, http.StatusConflict},
		base + "/link/reissue": {nil, http.StatusConflict},
		base + "/posted":       {nil, http.StatusConflict},
	}
	const events = "/console/api/requests/events"

	for _, who := range []string{"admin@x.example", "privacy@x.example"} {
		s := f.login(who)
		for path, want := range gets {
			if code, body := s.get(path); code != want {
				t.Errorf("%s GET %s: %d, want %d: %.300s", who, path, code, want, body)
			}
		}
		if code, ct := rqStream(t, s, events); code != 200 || ct != "text/event-stream" {
			t.Errorf("%s: event stream %d %s", who, code, ct)
		}
		for path, p := range posts {
			if code, body := s.act(path, p.form); code != p.code {
				t.Errorf("%s POST %s: %d, want %d: %.300s", who, path, code, p.code, body)
			}
		}
		if _, body := s.get("/console/settings"); !strings.Contains(body, `href="/console/requests"`) {
			t.Errorf("%s has no link to the requests", who)
		}
	}
	if n := len(f.audits("request.document.view")); n != 2 {
		t.Errorf("%d document views audited, want 2", n)
	}

	// Privacy officers work chats too.
	priv := f.login("privacy@x.example")
	for _, path := range []string{"/console/queue", "/console/chats/E1", "/console/search?q=x", "/console/api/queue"} {
		if code, _ := priv.get(path); code != 200 {
			t.Errorf("privacy GET %s: %d", path, code)
		}
	}
	if code, _ := priv.get("/console/staff"); code != http.StatusForbidden {
		t.Errorf("privacy GET /console/staff: %d", code)
	}

	views := len(f.audits("request.document.view"))
	for _, who := range []string{"agent@x.example", "mkt@x.example"} {
		s := f.login(who)
		for path := range gets {
			code, body := s.get(path)
			if code != http.StatusForbidden || strings.Contains(body, ref) || strings.Contains(body, "山田") {
				t.Errorf("%s GET %s: %d", who, path, code)
			}
		}
		if code, _ := rqStream(t, s, events); code != http.StatusForbidden {
			t.Errorf("%s: event stream %d", who, code)
		}
		for path, p := range posts {
			if code, _ := s.act(path, p.form); code != http.StatusForbidden {
				t.Errorf("%s POST %s: %d", who, path, code)
			}
		}
		if _, body := s.get("/console/settings"); strings.Contains(body, `href="/console/requests"`) {
			t.Errorf("%s sees the link to the requests", who)
		}
	}
	if code, _ := f.login("mkt@x.example").get("/console/chats/E1"); code != http.StatusForbidden {
		t.Errorf("marketing opens a chat: %d", code)
	}
	if n := len(f.audits("request.document.view")); n != views {
		t.Errorf("a refused document view was audited (%d → %d)", views, n)
	}
	// …but the attempt was: who, where, with which role.
	denied := strings.Join(f.audits("access.denied"), "\n")
	for _, want := range []string{"agent@x.example /console/requests/" + ref, "mkt@x.example /console/requests", " agent", " marketing"} {
		if !strings.Contains(denied, want) {
			t.Errorf("refused access not audited as %q:\n%s", want, denied)
		}
	}

	// Logged out: pages lead to the login, JSON and forms answer 401.
	jar, _ := cookiejar.New(nil)
	anon := &staffClient{t: t, base: f.bot.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
	for path := range gets {
		code, loc := anon.get(path)
		switch {
		case strings.HasPrefix(path, "/console/api/"):
			if code != http.StatusUnauthorized {
				t.Errorf("logged out GET %s: %d", path, code)
			}
		case code != http.StatusSeeOther || loc != "/console/login":
			t.Errorf("logged out GET %s: %d %s", path, code, loc)
		}
	}
	if code, _ := rqStream(t, anon, events); code != http.StatusUnauthorized {
		t.Errorf("logged out event stream: %d", code)
	}
	for path, p := range posts {
		if code, _ := anon.post(path, p.form); code != http.StatusUnauthorized {
			t.Errorf("logged out POST %s: %d", path, code)
		}
	}
	if n := len(f.audits("request.note")); n != 2 {
		t.Errorf("%d notes audited, want the 2 of admin and privacy", n)
	}
}

// TestRequestEventsStream: a change of a request reaches the open stream as its reference.
func TestRequestEventsStream(t *testing.T) {
	f := newRQFixture(t, rqSeeds)
	s := f.login("privacy@x.example")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/console/api/requests/events", nil)
	res, err := s.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rd := bufio.NewReader(res.Body)
	if line, _ := rd.ReadString('\n'); !strings.HasPrefix(line, "retry:") {
		t.Fatalf("stream starts with %q", line)
	}
	// The stream subscribes before it writes its first line: a change now reaches it.
	ref := f.refs["docs"]
	if _, err := f.svc.Note(context.Background(), ref, "書類を確認中", request.Actor{Kind: request.ActorStaff, ID: "x@x.example"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 2 {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v (got %q)", err, got)
		}
		if line = strings.TrimSpace(line); line != "" {
			got = append(got, line)
		}
	}
	if got[0] != "event: request" || got[1] != "data: "+ref {
		t.Fatalf("event %q", got)
	}
}
