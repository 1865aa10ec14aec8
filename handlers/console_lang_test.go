package handlers_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/handlers"
)

// mustContain fails for every piece the page lacks, and for every piece it must not have.
func mustContain(t *testing.T, what, body string, want []string, not ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
	for _, n := range not {
		if strings.Contains(body, n) {
			t.Errorf("%s has %q", what, n)
		}
	}
}

// TestConsoleSpeaksJapaneseByDefault: the login page, and every page of a staff member who has not
// chosen a language, are in Japanese, down to the live view's JSON and the words of the script.
func TestConsoleSpeaksJapaneseByDefault(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	h.addStaff("sato@x.example", "佐藤", account.RoleAgent)
	anon := &staffClient{t: t, base: h.bot.URL, c: &http.Client{}}
	_, login := anon.get("/console/login")
	mustContain(t, "login page", login, []string{`<html lang="ja">`, "スタッフ ログイン", "メールアドレス", "パスワード", "ログインする"}, "Log in", "Password")

	const user = "Ujapanese01"
	h.send(h.sender.TextEvent(user, "担当者と話したい"))
	e := h.escalationOf(user)
	a := h.login("sato@x.example")
	_, queue := a.get("/console/queue")
	mustContain(t, "queue", queue, []string{`<html lang="ja">`, "受付一覧", "担当者を希望", "対応待ち", ">開く<", "自動更新中", "ログアウト", "設定",
		`data-i18n="{&#34;live&#34;:&#34;自動更新中&#34;,&#34;offline&#34;:&#34;再接続しています…&#34;,&#34;open&#34;:&#34;開く&#34;}"`},
		">Queue<", ">Open<", "Log out", ">queued<", "Asked for staff")
	_, live := a.get("/console/api/queue")
	mustContain(t, "queue JSON", live, []string{`"statusLabel":"対応待ち"`, `"reason":"担当者を希望"`, `"priorityLabel":"通常"`, `"lang":"日本語"`})
	_, chat := a.get("/console/chats/" + e.ID)
	mustContain(t, "chat", chat, []string{"お問い合わせの詳細", ">対応する<", ">自動応答に戻す<", ">対応済みにする<", "お客さまに満足度をおたずねする",
		`<option value="data_request">開示等の請求として担当部署へ引き継ぎ</option>`, `<option value="answered">回答済み</option>`,
		"担当者への引き継ぎを受け付けました（理由：担当者を希望）。"},
		"Claim this chat", "escalated: human", `<option>answered</option>`)
	code, denied := a.get("/console/staff")
	if code != http.StatusForbidden {
		t.Fatalf("agent on the staff page: %d", code)
	}
	mustContain(t, "403 page", denied, []string{`<html lang="ja">`, "この操作は許可されていません", "お使いのアカウントの権限では"}, "Your role")
}

// TestConsoleSpeaksEnglishWhenChosen: a staff member who chose English gets every page in English,
// while a colleague on the same server keeps Japanese.
func TestConsoleSpeaksEnglishWhenChosen(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	h.addStaffLang("kim@x.example", "Kim", account.RoleAdmin, "en")
	h.addStaff("sato@x.example", "佐藤", account.RoleAgent)
	const user = "Uenglish02"
	h.send(h.sender.TextEvent(user, "担当者と話したい"))
	e := h.escalationOf(user)
	k, s := h.login("kim@x.example"), h.login("sato@x.example")
	_, queue := k.get("/console/queue")
	mustContain(t, "queue (en)", queue, []string{`<html lang="en">`, ">Queue<", "Asked for staff", ">queued<", ">Open<", "Log out", ">Staff<", ">Audit log<"},
		"受付一覧", "対応待ち")
	_, live := k.get("/console/api/queue")
	mustContain(t, "queue JSON (en)", live, []string{`"statusLabel":"queued"`, `"reason":"Asked for staff"`, `"lang":"Japanese"`})
	_, chat := k.get("/console/chats/" + e.ID)
	mustContain(t, "chat (en)", chat, []string{"Claim this chat", "Hand back to the bot", `<option value="answered">Answered</option>`,
		"Handed to staff (reason: Asked for staff)."}, "対応する")
	code, missing := k.get("/console/chats/no-such-chat")
	if code != http.StatusNotFound {
		t.Fatalf("unknown chat: %d", code)
	}
	mustContain(t, "404 (en)", missing, []string{"Page not found", "There is no such chat."})
	_, other := s.get("/console/queue")
	mustContain(t, "colleague's queue", other, []string{"受付一覧", "対応待ち"}, ">Queue<")
}

// TestSettingsNameAndLanguage: every staff member sets their display name and console language on
// the settings page (CSRF-protected, audited); the new name is what the customer is told when the
// staff member joins, and the console switches language at once.
func TestSettingsNameAndLanguage(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	h.addStaff("sato@x.example", "", account.RoleAgent)
	h.addStaffLang("mkt@x.example", "Mkt", account.RoleMarketing, "en")
	a := h.login("sato@x.example")
	code, page := a.get("/console/settings")
	if code != 200 {
		t.Fatalf("settings: %d", code)
	}
	mustContain(t, "settings", page, []string{"表示名", "コンソールの表示言語", "担当のsato@x.exampleです", `value="ja" checked`})

	// No token or a forged one: 403, nothing changes.
	for _, form := range []url.Values{{"name": {"偽名"}, "lang": {"en"}}, {"name": {"偽名"}, "lang": {"en"}, "csrf": {"forged"}}} {
		if code, body := a.post("/console/settings", form); code != http.StatusForbidden || !strings.Contains(body, "フォームの有効期限") {
			t.Errorf("settings without a valid token: %d", code)
		}
	}
	// Names customers could not be shown: 422, nothing changes.
	for _, bad := range []string{"", "   ", "佐藤\u202e", "佐藤\n美咲", strings.Repeat("長", 31)} {
		code, body := a.act("/console/settings", url.Values{"name": {bad}, "lang": {"en"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "表示名を入力してください") {
			t.Errorf("name %q: %d", bad, code)
		}
	}
	if st, _ := h.st.StaffByEmail(context.Background(), "sato@x.example"); st.Name != "" || st.Lang != "" {
		t.Fatalf("a refused form changed the account: %+v", st)
	}

	code, loc := a.act("/console/settings", url.Values{"name": {"  佐藤 美咲 "}, "lang": {"en"}})
	if code != http.StatusSeeOther || loc != "/console/settings?m=saved" {
		t.Fatalf("save: %d %s", code, loc)
	}
	if st, _ := h.st.StaffByEmail(context.Background(), "sato@x.example"); st.Name != "佐藤 美咲" || st.Lang != "en" {
		t.Fatalf("saved account %+v", st)
	}
	_, page = a.get(loc)
	mustContain(t, "settings after saving", page, []string{`<html lang="en">`, "Your settings are saved.", `value="佐藤 美咲"`,
		">佐藤 美咲</a>", "担当の佐藤 美咲です", "Hello, this is 佐藤 美咲.", `value="en" checked`}, "設定を保存しました")
	log, err := h.st.AuditLog(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	audited := false
	for _, e := range log {
		audited = audited || (e.Action == "settings.update" && e.Actor == "sato@x.example" && e.Target == "sato@x.example" &&
			strings.Contains(e.Detail, `name "" -> "佐藤 美咲"`) && strings.Contains(e.Detail, "lang ja -> en"))
	}
	if !audited {
		t.Fatalf("the change is not in the audit log: %+v", log)
	}

	// The customer is told the new name.
	const user = "Usettings01"
	h.send(h.sender.TextEvent(user, "担当者と話したい"))
	h.waitDeliveries(user, 1)
	e := h.escalationOf(user)
	if code, _ := a.act("/console/chats/"+e.ID+"/claim", nil); code != http.StatusSeeOther {
		t.Fatalf("claim: %d", code)
	}
	h.waitDeliveries(user, 2)
	if got := lastText(t, h, user); !strings.Contains(got, "担当の佐藤 美咲です") {
		t.Fatalf("joined notice %q", got)
	}

	// Every role has the page; back to Japanese.
	m := h.login("mkt@x.example")
	if code, body := m.get("/console/settings"); code != 200 || !strings.Contains(body, "Display name") {
		t.Errorf("marketing's settings: %d", code)
	}
	a.act("/console/settings", url.Values{"name": {"佐藤 美咲"}, "lang": {"ja"}})
	if _, body := a.get("/console/queue"); !strings.Contains(body, "受付一覧") {
		t.Error("the console did not switch back to Japanese")
	}
}

// TestTranscriptShowsWhatTheCustomerSaw: a tapped button is shown as its label in the staff member's
// language (the raw data only on hover), system lines and the bot's return are told in words, and
// resolutions are codes shown through the catalog (old English ones as they are).
func TestTranscriptShowsWhatTheCustomerSaw(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	h.addStaff("sato@x.example", "佐藤", account.RoleAgent)
	h.addStaffLang("kim@x.example", "Kim", account.RoleAdmin, "en")
	const user = "Utranscript1"
	e := h.complain(user, "住所を別の人に読み上げられました")
	a, k := h.login("sato@x.example"), h.login("kim@x.example")
	a.act("/console/chats/"+e.ID+"/claim", nil)
	chat := "/console/chats/" + e.ID
	_, page := a.get(chat)
	mustContain(t, "chat", page, []string{`title="do=hcat&amp;c=data"`, `<span class="extra">ボタンを選択</span>`,
		`<div class="text">個人情報の取り扱い</div>`, `<div class="text">送信する</div>`,
		"担当者への引き継ぎを受け付けました（理由：苦情）。", "佐藤が対応を始めました。"},
		`<div class="text">do=hcat`, "tapped a button", "claimed by")
	_, en := k.get(chat)
	mustContain(t, "chat (en)", en, []string{`<div class="text">Personal data</div>`, `<div class="text">Send</div>`, "Claimed by 佐藤."})
	_, js := a.get("/console/api/chats/" + e.ID)
	mustContain(t, "chat JSON", js, []string{`"text":"個人情報の取り扱い"`, `"title":"do=hcat\u0026c=data"`, `"extra":"ボタンを選択"`})

	a.act(chat+"/handback", nil)
	waitFor(t, "the bot's return in the conversation", func() bool {
		_, js := a.get("/console/api/chats/" + e.ID)
		return strings.Contains(js, "担当者の対応が終わり、自動応答に戻りました。")
	})
	_, page = a.get(chat)
	mustContain(t, "chat after the hand-back", page, []string{"佐藤が自動応答に戻しました。", "自動応答に戻した"}, "hresume")

	// A chat closed with a code; one closed with the English words of before.
	const other = "Utranscript2"
	h.send(h.sender.TextEvent(other, "担当者と話したい"))
	e2 := h.escalationOf(other)
	a.act("/console/chats/"+e2.ID+"/claim", nil)
	if _, loc := a.act("/console/chats/"+e2.ID+"/close", url.Values{"resolution": {"data_request"}}); !strings.HasSuffix(loc, "?m=close") {
		t.Fatalf("close: %s", loc)
	}
	if got, _ := h.handoffs.Get(context.Background(), e2.ID); got.Resolution != "data_request" {
		t.Fatalf("stored resolution %q, want the code", got.Resolution)
	}
	if err := h.st.CreateEscalation(context.Background(), bot.Escalation{ID: "legacy-1", UserID: "Ulegacy0001", Name: "旧データ", Lang: "ja",
		Reason: "human", Priority: "normal", Status: bot.StatusClosed, Resolution: "spam or abuse", CreatedAt: time.Now(), ClosedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, found := a.get("/console/search")
	mustContain(t, "search", found, []string{"開示等の請求として担当部署へ引き継ぎ", ">spam or abuse<", "旧データ"})
	_, found = a.get("/console/search?q=" + url.QueryEscape("開示等の請求として担当部署へ引き継ぎ"))
	mustContain(t, "search by the resolution's name", found, []string{"/console/chats/" + e2.ID}, "旧データ")
	_, closed := a.get("/console/chats/" + e2.ID)
	mustContain(t, "closed chat", closed, []string{"佐藤が対応済みにしました（対応結果：開示等の請求として担当部署へ引き継ぎ）。", "対応済み"})
}

// brokenSearch fails, or panics, as a store in trouble might.
type brokenSearch struct{}

func (brokenSearch) SearchEscalations(_ context.Context, q string, _ time.Time, _ int) ([]bot.Escalation, error) {
	if q == "panic" {
		panic("search exploded")
	}
	return nil, errors.New("store unreachable")
}

// TestConsoleErrorsArePages: inside /console a 404, 403 or 500 (or a panic) is the console's error
// page in the staff member's language, never the JSON error body; the JSON routes keep JSON.
func TestConsoleErrorsArePages(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	h.addStaffLang("kim@x.example", "Kim", account.RoleAgent, "en")
	res, err := http.Get(h.bot.URL + "/console/no-such-page")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 404 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || res.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("unknown console page without a session: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	mustContain(t, "404 without a session", string(b), []string{`<html lang="ja">`, "ページが見つかりません", "コンソールのトップに戻る"}, `"error"`)

	k := h.login("kim@x.example")
	for _, p := range []string{"/console/no-such-page", "/console/chats/nope/more", "/console/static/nope.css"} {
		code, body := k.get(p)
		if code != 404 {
			t.Errorf("GET %s: %d", p, code)
		}
		mustContain(t, p, body, []string{`<html lang="en">`, "Page not found", ">Queue<"}, `"error"`)
	}
	for _, p := range []string{"/console/api/nope", "/console/api/chats/nope"} {
		if code, body := k.get(p); code != 404 || !strings.Contains(body, `"error":"not_found"`) {
			t.Errorf("GET %s: %d %s", p, code, body)
		}
	}
	if code, body := k.get("/elsewhere"); code != 404 || strings.Contains(body, "Page not found") {
		t.Errorf("outside the console: %d %s", code, body)
	}

	// The same store behind a console whose search is broken: 500 pages, in English for Kim.
	con := (&handlers.Console{Chats: h.handoffs, Live: h.handoffs.Hub(), Search: brokenSearch{}, Log: quietLog(), HashCost: 4}).UseBackend(h.st)
	srv := httptest.NewServer(handlers.NewRouter(quietLog(), handlers.Routes{Console: con}))
	defer srv.Close()
	k2 := loginAt(t, srv.URL, "kim@x.example")
	for _, q := range []string{"x", "panic"} {
		code, body := k2.get("/console/search?q=" + q)
		if code != http.StatusInternalServerError {
			t.Errorf("search %q: %d", q, code)
		}
		mustContain(t, "500 page ("+q+")", body, []string{`<html lang="en">`, "Something went wrong", ">Queue<"}, `"internal"`, "store unreachable", "exploded")
	}
}
