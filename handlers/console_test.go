package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/flows"
)

func lastText(t *testing.T, h *consoleHarness, user string) string {
	t.Helper()
	ts := texts(h.api.Deliveries(user))
	if len(ts) == 0 {
		return ""
	}
	return ts[len(ts)-1]
}

func TestHandoffEndToEnd(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	h.addStaff("sato@enemane.example", "佐藤", account.RoleAgent)
	const user = "Ucustomer0001"
	h.api.SetProfile(user, "山田 花子", "ja")

	e := h.complain(user, "先月の電話で、私の住所を別の人に読み上げられました")
	ds := h.api.Deliveries(user)
	queued := ds[len(ds)-1]
	// The queued notice is the step's own answer: it uses the free reply token.
	if queued.Via != "reply" || !strings.Contains(texts(ds[len(ds)-1:])[0], "担当者におつなぎします") {
		t.Fatalf("queued notice: via %s key %q text %q", queued.Via, queued.RetryKey, texts(ds[len(ds)-1:]))
	}
	if e.Reason != "complaint" || e.Category != "data" || e.Priority != "high" || e.Name != "山田 花子" || e.Lang != "ja" {
		t.Fatalf("escalation %+v", e)
	}
	alert := h.waitDeliveries("Cstaffgroup", 1)
	if a := texts(alert)[0]; !strings.Contains(a, "https://console.example/console/chats/"+e.ID) || strings.Contains(a, "住所") {
		t.Fatalf("staff alert %q: want the link and no customer text", a)
	}

	agent := h.login("sato@enemane.example")
	if code, body := agent.get("/console/queue"); code != 200 || !strings.Contains(body, "山田 花子") || !strings.Contains(body, "個人情報の取り扱い") {
		t.Fatalf("queue: %d", code)
	}
	if code, body := agent.get("/console/chats/" + e.ID); code != 200 || !strings.Contains(body, "別の人に読み上げられました") || !strings.Contains(body, "苦情を申し立てたいです") {
		t.Fatalf("chat page: %d (want the description and the earlier conversation)", code)
	}

	// Claim: the customer is told who joined; from now on the bot is silent.
	if code, loc := agent.act("/console/chats/"+e.ID+"/claim", nil); code != http.StatusSeeOther || !strings.HasSuffix(loc, "?m=claim") {
		t.Fatalf("claim: %d %s", code, loc)
	}
	h.waitDeliveries(user, 5)
	if got := lastText(t, h, user); !strings.Contains(got, "担当の佐藤です") {
		t.Fatalf("joined notice %q", got)
	}
	if !h.handoffs.OwnedByStaff(user) {
		t.Fatal("staff own the chat after the claim")
	}
	before := len(h.api.Deliveries(user))
	h.send(h.sender.TextEvent(user, "個人情報の保存期間はどのくらい？"))
	h.send(h.sender.TextEvent(user, "よろしくお願いします"))
	h.settle()
	if n := len(h.api.Deliveries(user)); n != before {
		t.Fatalf("the bot answered while staff own the chat: %q", texts(h.api.Deliveries(user)[before:]))
	}
	_, body := agent.get("/console/api/chats/" + e.ID)
	if !strings.Contains(body, "よろしくお願いします") {
		t.Fatalf("the customer's message during the handoff is missing from the conversation: %s", body)
	}
	// Opening the chat marks the customer's messages as read.
	agent.get("/console/chats/" + e.ID)
	waitFor(t, "read mark", func() bool { return len(h.api.ReadMarks(user)) > 0 })

	// Reply by push; a resubmitted form is delivered once.
	form := url.Values{"mid": {"m-0001"}, "text": {"ご不便をおかけして申し訳ございません。確認いたします。"}}
	if code, loc := agent.act("/console/chats/"+e.ID+"/reply", form); code != http.StatusSeeOther || !strings.HasSuffix(loc, "?m=reply") {
		t.Fatalf("reply: %d %s", code, loc)
	}
	agent.act("/console/chats/"+e.ID+"/reply", url.Values{"mid": {"m-0001"}, "text": form["text"]})
	if got := lastText(t, h, user); got != form.Get("text") {
		t.Fatalf("customer got %q", got)
	}
	if n := len(h.api.Deliveries(user)); n != before+1 {
		t.Fatalf("%d deliveries after one reply submitted twice, want %d", n, before+1)
	}
	if code, _ := agent.act("/console/chats/"+e.ID+"/note", url.Values{"mid": {"n-1"}, "text": {"住所の件、上長に確認"}}); code != http.StatusSeeOther {
		t.Fatalf("note: %d", code)
	}
	if n := len(h.api.Deliveries(user)); n != before+1 {
		t.Fatal("a private note reached the customer")
	}

	// Hand back: the customer is told, and the bot answers again.
	if code, loc := agent.act("/console/chats/"+e.ID+"/handback", nil); code != http.StatusSeeOther || !strings.HasSuffix(loc, "?m=handback") {
		t.Fatalf("handback: %d %s", code, loc)
	}
	h.waitDeliveries(user, before+2)
	if got := lastText(t, h, user); !strings.Contains(got, "メニュー") && !strings.Contains(got, "ご用件") {
		t.Fatalf("hand-back message %q", texts(h.api.Deliveries(user)[before+1:]))
	}
	if h.handoffs.OwnedByStaff(user) || len(h.handoffs.Queue()) != 0 {
		t.Fatal("the chat is still with staff after the hand-back")
	}
	n := len(h.api.Deliveries(user))
	h.send(h.sender.TextEvent(user, "個人情報の保存期間はどのくらい？"))
	ds = h.waitDeliveries(user, n+1)
	if ds[n].Via != "reply" || !strings.Contains(texts(ds[n:])[0], "第13項") {
		t.Fatalf("the bot did not answer after the hand-back: %q", texts(ds[n:]))
	}

	admin := h.auditActions(t)
	for _, want := range []string{"login", "chat.open", "claim", "reply", "note", "handback"} {
		if !admin[want] {
			t.Errorf("audit log lacks %q", want)
		}
	}
}

func (h *consoleHarness) auditActions(t *testing.T) map[string]bool {
	t.Helper()
	log, err := h.st.AuditLog(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range log {
		out[e.Action] = true
	}
	return out
}

func TestCloseAsksSatisfaction(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	h.addStaff("a@x.example", "Alex", account.RoleAgent)
	const user = "Uenglish0001"
	h.api.SetProfile(user, "Kim", "en")
	h.send(h.sender.TextEvent(user, "I want to talk to a person"))
	h.waitDeliveries(user, 1)
	e := h.escalationOf(user)
	if e.Reason != "human" || !strings.Contains(lastText(t, h, user), "connecting you with a member of staff") {
		t.Fatalf("escalation %+v, notice %q", e, lastText(t, h, user))
	}
	a := h.login("a@x.example")
	a.act("/console/chats/"+e.ID+"/claim", nil)
	h.waitDeliveries(user, 2)
	if got := lastText(t, h, user); got != "Hello, this is Alex. I'll take it from here." {
		t.Fatalf("joined %q", got)
	}
	if code, loc := a.act("/console/chats/"+e.ID+"/close", url.Values{"resolution": {"not a category"}}); !strings.HasSuffix(loc, "?e=close") {
		t.Fatalf("close with an invented resolution: %d %s", code, loc)
	}
	if code, loc := a.act("/console/chats/"+e.ID+"/close", url.Values{"resolution": {"answered"}, "ask": {"1"}}); !strings.HasSuffix(loc, "?m=close") {
		t.Fatalf("close: %d %s", code, loc)
	}
	ds := h.waitDeliveries(user, 3)
	if got := texts(ds[2:]); len(got) != 2 || !strings.Contains(got[0], "closed this enquiry") || !strings.Contains(got[1], "how did we do") {
		t.Fatalf("close messages %q", got)
	}
	h.send(h.sender.PostbackEvent(user, "do=hrate&e="+e.ID+"&s=good"))
	h.waitDeliveries(user, 4)
	waitFor(t, "rating", func() bool {
		got, _ := h.handoffs.Get(context.Background(), e.ID)
		return got.Rating == "good" && got.Status == bot.StatusClosed && got.Resolution == "answered"
	})
}

func TestCustomerCancelsWhileQueuedAfterHours(t *testing.T) {
	// Closed all day today: a holiday.
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	hours, err := bot.ParseBusinessHours("Mon-Sun 09:00-18:00", tokyo, []string{time.Now().In(tokyo).Format(time.DateOnly)})
	if err != nil {
		t.Fatal(err)
	}
	h := newConsoleHarness(t, hours)
	const user = "Ucancel0001"
	h.send(h.sender.TextEvent(user, "担当者と話したい"))
	h.waitDeliveries(user, 1)
	if got := lastText(t, h, user); !strings.Contains(got, "受付時間外") || !strings.Contains(got, "9:00") {
		t.Fatalf("after-hours notice %q", got)
	}
	e := h.escalationOf(user)
	// Waiting: the first message is acknowledged once, not answered by the bot.
	h.send(h.sender.TextEvent(user, "個人情報の保存期間はどのくらい？"))
	h.waitDeliveries(user, 2)
	h.send(h.sender.TextEvent(user, "まだですか"))
	h.settle()
	if n := len(h.api.Deliveries(user)); n != 2 {
		t.Fatalf("%d deliveries while queued, want 2: %q", n, texts(h.api.Deliveries(user)))
	}
	h.send(h.sender.PostbackEvent(user, "do=hdrop"))
	h.waitDeliveries(user, 3)
	if got := texts(h.api.Deliveries(user)[2:])[0]; !strings.Contains(got, "取り消しました") {
		t.Fatalf("cancel answer %q", got)
	}
	waitFor(t, "cancelled", func() bool {
		got, _ := h.handoffs.Get(context.Background(), e.ID)
		return got.Status == bot.StatusCancelled && len(h.handoffs.Queue()) == 0
	})
}

func TestTwoStaffClaimAtOnce(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	h.addStaff("one@x.example", "One", account.RoleAgent)
	h.addStaff("two@x.example", "Two", account.RoleAgent)
	const user = "Urace0001"
	h.send(h.sender.TextEvent(user, "担当者と話したい"))
	e := h.escalationOf(user)
	clients := []*staffClient{h.login("one@x.example"), h.login("two@x.example")}
	locs := make([]string, 2)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, locs[i] = c.act("/console/chats/"+e.ID+"/claim", nil)
		}()
	}
	wg.Wait()
	wins := 0
	for _, l := range locs {
		if strings.HasSuffix(l, "?m=claim") {
			wins++
		} else if !strings.HasSuffix(l, "?e=claim") {
			t.Fatalf("claim answered %q", l)
		}
	}
	if wins != 1 {
		t.Fatalf("%d claims won, want exactly 1 (%q)", wins, locs)
	}
	loser := clients[0]
	if strings.HasSuffix(locs[0], "?m=claim") {
		loser = clients[1]
	}
	if _, body := loser.get("/console/chats/" + e.ID + "?e=claim"); !strings.Contains(body, "すでに別のスタッフが対応しています") {
		t.Fatal("the losing staff member is not told")
	}
	// The loser cannot write to the customer either.
	if _, loc := loser.act("/console/chats/"+e.ID+"/reply", url.Values{"mid": {"x"}, "text": {"hi"}}); !strings.HasSuffix(loc, "?e=reply") {
		t.Fatalf("loser's reply: %s", loc)
	}
}

func TestReplyToBlockedCustomerIsShown(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	h.addStaff("a@x.example", "A", account.RoleAgent)
	const user = "Ublocked0001"
	h.send(h.sender.TextEvent(user, "担当者と話したい"))
	e := h.escalationOf(user)
	a := h.login("a@x.example")
	a.act("/console/chats/"+e.ID+"/claim", nil)
	h.api.SetBlocked(user, true)
	code, loc := a.act("/console/chats/"+e.ID+"/reply", url.Values{"mid": {"b1"}, "text": {"お待たせしました"}})
	if code != http.StatusSeeOther || !strings.HasSuffix(loc, "?e=delivery") {
		t.Fatalf("reply to a blocked customer: %d %s", code, loc)
	}
	_, body := a.get("/console/chats/" + e.ID + "?e=delivery")
	// The page's problem and the conversation's system line, both in Japanese; the stored detail on hover.
	if !strings.Contains(body, "ブロックしている可能性があります") || !strings.Contains(body, "メッセージをお届けできませんでした") ||
		!strings.Contains(body, `title="delivery failed: LINE refused the message (400)`) {
		t.Fatal("the failure is not shown in the chat")
	}
	if !h.auditActions(t)["reply.failed"] {
		t.Fatal("the failure is not in the audit log")
	}
}

func TestHostileCustomerTextIsInert(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	h.addStaff("a@x.example", "A", account.RoleAgent)
	const user = "Uhostile0001"
	h.api.SetProfile(user, `<b>Mallory</b>`, "ja")
	h.send(h.sender.TextEvent(user, "担当者と話したい"))
	e := h.escalationOf(user)
	a := h.login("a@x.example")
	a.act("/console/chats/"+e.ID+"/claim", nil)
	long := strings.Repeat("長文", 2500)
	for _, s := range hostileTexts(long) {
		h.send(h.sender.TextEvent(user, s))
	}
	h.settle()
	_, body := a.get("/console/chats/" + e.ID)
	for _, bad := range []string{"<script>alert(1)</script>", `"><img src=x onerror=alert(1)>`, "<b>Mallory</b>", "\u202e"} {
		if strings.Contains(body, bad) {
			t.Errorf("chat page contains %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;", "abc[U&#43;202E]txt.exe", "😀👨‍👩‍👧", long, "&lt;b&gt;Mallory&lt;/b&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("chat page lacks %q", want[:min(len(want), 40)])
		}
	}
	_, q := a.get("/console/queue")
	if strings.Contains(q, "<b>Mallory</b>") {
		t.Error("queue shows the customer's name as HTML")
	}
}

func hostileTexts(long string) []string {
	return []string{"<script>alert(1)</script>", `"><img src=x onerror=alert(1)>`, "abc\u202etxt.exe", long, "😀👨‍👩‍👧 絵文字"}
}

func TestRoleBoundaries(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	h.addStaff("admin@x.example", "Admin", account.RoleAdmin)
	h.addStaff("agent@x.example", "Agent", account.RoleAgent)
	h.addStaff("mkt@x.example", "Mkt", account.RoleMarketing)
	const user = "Uroles0001"
	h.send(h.sender.TextEvent(user, "担当者と話したい"))
	e := h.escalationOf(user)
	admin, agent, mkt := h.login("admin@x.example"), h.login("agent@x.example"), h.login("mkt@x.example")
	anon := &staffClient{t: t, base: h.bot.URL, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	chat := "/console/chats/" + e.ID
	gets := []struct {
		who  string
		c    *staffClient
		path string
		want int
	}{
		{"marketing", mkt, chat, 403},
		{"marketing", mkt, "/console/api/chats/" + e.ID, 403},
		{"marketing", mkt, "/console/queue", 403},
		{"marketing", mkt, "/console/api/queue", 403},
		{"marketing", mkt, "/console/events", 403},
		{"marketing", mkt, "/console/search?q=a", 403},
		{"marketing", mkt, "/console/staff", 403},
		{"marketing", mkt, "/console/marketing", 200},
		{"agent", agent, chat, 200},
		{"agent", agent, "/console/staff", 403},
		{"agent", agent, "/console/canned", 403},
		{"agent", agent, "/console/audit", 403},
		{"agent", agent, "/console/marketing", 403},
		{"admin", admin, "/console/staff", 200},
		{"admin", admin, "/console/canned", 200},
		{"admin", admin, "/console/audit", 200},
		{"admin", admin, chat, 200},
		{"nobody", anon, "/console/queue", 303},
		{"nobody", anon, chat, 303},
		{"nobody", anon, "/console/api/queue", 401},
		{"nobody", anon, "/console/events", 401},
	}
	for _, g := range gets {
		if code, _ := g.c.get(g.path); code != g.want {
			t.Errorf("%s GET %s: %d, want %d", g.who, g.path, code, g.want)
		}
	}
	posts := []struct {
		who  string
		c    *staffClient
		path string
		form url.Values
		want int
	}{
		{"marketing", mkt, chat + "/claim", nil, 403},
		{"marketing", mkt, chat + "/note", url.Values{"mid": {"1"}, "text": {"x"}}, 403},
		{"agent", agent, "/console/staff", url.Values{"email": {"evil@x.example"}, "role": {"admin"}, "password": {"long enough password"}}, 403},
		{"agent", agent, "/console/staff/update", url.Values{"email": {"agent@x.example"}, "role": {"admin"}}, 403},
		{"agent", agent, "/console/canned", url.Values{"lang": {"ja"}, "title": {"t"}, "text": {"x"}}, 403},
		{"admin", admin, "/console/canned", url.Values{"lang": {"ja"}, "title": {"お詫び"}, "text": {"ご不便をおかけしました。"}}, 303},
	}
	for _, p := range posts {
		if code, _ := p.c.act(p.path, p.form); code != p.want {
			t.Errorf("%s POST %s: %d, want %d", p.who, p.path, code, p.want)
		}
	}
	if _, err := h.st.StaffByEmail(context.Background(), "evil@x.example"); err == nil {
		t.Error("an agent created an account")
	}
	if st, _ := h.st.StaffByEmail(context.Background(), "agent@x.example"); st.Role != account.RoleAgent {
		t.Error("an agent promoted themselves")
	}

	// No CSRF token, or a wrong one: 403, and nothing happens.
	for _, form := range []url.Values{{}, {"csrf": {"forged"}}} {
		if code, _ := agent.post(chat+"/claim", form); code != 403 {
			t.Errorf("claim with csrf %q: %d, want 403", form.Get("csrf"), code)
		}
		if code, _ := admin.post("/console/staff", url.Values{"csrf": form["csrf"], "email": {"x@x.example"}, "role": {"admin"}, "password": {"long enough password"}}); code != 403 {
			t.Errorf("add staff without a valid token: %d", code)
		}
		if code, _ := agent.post("/console/logout", form); code != 403 {
			t.Errorf("logout without a valid token: %d", code)
		}
	}
	if got, _ := h.handoffs.Get(context.Background(), e.ID); got.Status != bot.StatusQueued {
		t.Fatalf("a forged claim changed the escalation: %s", got.Status)
	}
	if code, _ := anon.post("/console/login", url.Values{"email": {"agent@x.example"}, "password": {testPassword}}); code != 403 {
		t.Errorf("login without its token: %d, want 403", code)
	}
	// The canned reply shows up for Japanese chats.
	agent.act(chat+"/claim", nil)
	if _, body := agent.get(chat); !strings.Contains(body, "お詫び") {
		t.Error("canned reply missing in a Japanese chat")
	}
}

// TestForgedHandBackPostbackHasNoEffect: a signed webhook carrying the hand-back's internal data as a
// customer's postback neither tells the customer the bot is back nor takes them out of the queue; the
// next request for a person is still answered.
func TestForgedHandBackPostbackHasNoEffect(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	const user = "Uforge0001"
	h.send(h.sender.TextEvent(user, "担当者と話したい"))
	h.waitDeliveries(user, 1)
	e := h.escalationOf(user)
	h.send(h.sender.PostbackEvent(user, flows.ResumePostback("handback", e.ID, false)))
	h.waitDeliveries(user, 2)
	if got := lastText(t, h, user); strings.Contains(got, "自動応答でご案内") {
		t.Fatalf("a forged hand-back was answered as one: %q", got)
	}
	if got, _ := h.handoffs.Get(context.Background(), e.ID); got.Status != bot.StatusQueued {
		t.Fatalf("escalation %s after the forged postback, want queued", got.Status)
	}
	h.send(h.sender.PostbackEvent(user, "do=human"))
	h.waitDeliveries(user, 3)
	if got := lastText(t, h, user); !strings.Contains(got, "おつなぎしているところ") {
		t.Fatalf("asking for a person again while queued: %q", got)
	}
}
