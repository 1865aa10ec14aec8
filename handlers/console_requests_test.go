package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/bot/request/requesttest"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/handlers"
)

// rqRow returns the queue's table row of a reference ("" when it is not listed).
func rqRow(body, ref string) string {
	i := strings.Index(body, `data-ref="`+ref+`"`)
	if i < 0 {
		return ""
	}
	row := body[i:]
	if j := strings.Index(row, "</tr>"); j >= 0 {
		row = row[:j]
	}
	return body[strings.LastIndex(body[:i], "<tr"):i] + row
}

// TestRequestQueue: the queue lists the open requests with their kinds, requester, status, due date
// and what is left (urgent and overdue marked; nothing for closed requests), filters by status, kind
// and overdue, searches, and answers the live view's JSON in the staff member's language.
func TestRequestQueue(t *testing.T) {
	f := newRQFixture(t, rqSeeds)
	s := f.login("privacy@x.example")
	code, body := s.get("/console/requests")
	if code != http.StatusOK {
		t.Fatalf("queue: %d", code)
	}
	mustContain(t, "the queue", body, []string{"<h1>開示等の請求</h1>", "受付番号", "回答期限", "残り日数", `id="requests"`,
		`src="/console/static/requests.js"`, "自動更新中"})
	for _, key := range []string{"fresh", "docs", "late", "post", "fix"} {
		if rqRow(body, f.refs[key]) == "" {
			t.Errorf("open request %s is not listed", key)
		}
	}
	for _, key := range []string{"done", "refused"} {
		if rqRow(body, f.refs[key]) != "" {
			t.Errorf("closed request %s is listed among the open ones", key)
		}
	}
	fresh := rqRow(body, f.refs["fresh"])
	mustContain(t, "the fresh row", fresh, []string{"<span class=\"kind\">開示</span>", "<span class=\"kind\">利用目的の通知</span>", "ご本人",
		"受付済み", "残り13日", f.now.AddDate(0, 0, 13).Format("2006-01-02"), `href="/console/requests/` + f.refs["fresh"] + `"`},
		"urgent", "overdue", "超過")
	mustContain(t, "the urgent row", rqRow(body, f.refs["docs"]), []string{`class="urgent"`, "残り2日", "書類の提出待ち", "任意代理人", "訂正"})
	mustContain(t, "the overdue row", rqRow(body, f.refs["late"]), []string{`class="overdue"`, "3日超過", "対応中", "削除", "消去"})

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"?status=refused", []string{"refused"}},
		{"?status=all", []string{"fresh", "docs", "late", "post", "done", "refused", "fix"}},
		{"?kind=correction", []string{"docs", "fix"}},
		{"?kind=disclosure&status=all", []string{"fresh", "post", "done"}},
		{"?overdue=1", []string{"late"}},
		{"?overdue=1&status=all", []string{"late"}}, // a closed request past its date is not overdue
		{"?q=" + url.QueryEscape("佐藤"), []string{"docs"}},
		{"?q=" + f.refs["post"], []string{"post"}},
		{"?q=090-1234-0006&status=all", []string{"fix"}},
		{"?q=" + rqUser("late"), []string{"late"}},
		{"?status=nonsense", []string{"fresh", "docs", "late", "post", "fix"}},
	} {
		_, body := s.get("/console/requests" + c.query)
		var listed []string
		for _, seed := range rqSeeds {
			if rqRow(body, f.refs[seed.key]) != "" {
				listed = append(listed, seed.key)
			}
		}
		if strings.Join(listed, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s lists %v, want %v", c.query, listed, c.want)
		}
		if c.query == "?status=refused" {
			row := rqRow(body, f.refs["refused"])
			mustContain(t, "the refused row", row, []string{"不実施"}, "超過", "残り", "overdue", "urgent")
			mustContain(t, "the filtered queue", body, []string{`<option value="refused" selected>`, `href="/console/requests">条件をクリア`})
		}
		if c.query == "?status=nonsense" {
			mustContain(t, "a queue with a bad filter", body, []string{"絞り込みの条件に正しくないもの"})
		}
	}
	if _, body := s.get("/console/requests?kind=correction&status=completed"); !strings.Contains(body, "条件に合う請求はありません。") {
		t.Error("no empty notice for a filter that matches nothing")
	}

	// The live view's rows, in English for a staff member who chose it.
	en := f.login("privacy-en@x.example")
	code, raw := en.get("/console/api/requests?overdue=1")
	var d struct {
		Rows []struct {
			Ref, Left, Status, StatusLabel, Requester string
			Kinds                                     []string
			Overdue, Urgent                           bool
		} `json:"rows"`
		Next string `json:"next"`
	}
	if err := json.Unmarshal([]byte(raw), &d); code != 200 || err != nil || len(d.Rows) != 1 {
		t.Fatalf("live rows: %d %v %s", code, err, raw)
	}
	if r := d.Rows[0]; r.Ref != f.refs["late"] || r.Left != "3 days overdue" || !r.Overdue || !r.Urgent || r.StatusLabel != "In progress" ||
		strings.Join(r.Kinds, "|") != "Deletion|Erasure" || r.Requester != "The customer" || d.Next != "" {
		t.Fatalf("live row %+v", d)
	}
	_, body = en.get("/console/requests")
	mustContain(t, "the English queue", body, []string{"<h1>Personal-data requests</h1>", "13 days left", "2 days left", "Documents needed"}, "残り")
}

// TestRequestQueuePages: the queue pages with a cursor (50 a page, newest first).
func TestRequestQueuePages(t *testing.T) {
	seeds := make([]rqSeed, 53)
	for i := range seeds {
		seeds[i] = rqSeed{key: "p" + string(rune('A'+i/26)) + string(rune('a'+i%26)), status: flows.StatusReceived,
			kinds: flows.KindDisclosure, req: flows.RequesterSelf, delivery: flows.DeliveryPost, lang: flows.Ja, due: 14 - i%5, name: "客"}
	}
	f := newRQFixture(t, seeds)
	s := f.login("admin@x.example")
	_, body := s.get("/console/requests")
	refRe := regexp.MustCompile(`data-ref="(R-[0-9-]+)"`)
	first := refRe.FindAllStringSubmatch(body, -1)
	next := regexp.MustCompile(`href="([^"]*)" id="next-page"`).FindStringSubmatch(body)
	if len(first) != 50 || next == nil {
		t.Fatalf("first page: %d rows, next %v", len(first), next)
	}
	_, body = s.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	second := refRe.FindAllStringSubmatch(body, -1)
	if len(second) != 3 || strings.Contains(body, `id="next-page"`) || !strings.Contains(body, "最初のページへ") {
		t.Fatalf("second page: %d rows", len(second))
	}
	seen := map[string]bool{}
	for _, m := range append(first, second...) {
		if seen[m[1]] {
			t.Fatalf("%s is on both pages", m[1])
		}
		seen[m[1]] = true
	}
}

// rqNoMissingIDRe finds a console message ID shown instead of its text (a message missing in the catalog).
var rqNoMissingIDRe = regexp.MustCompile(`console\.[a-z_]+\.[a-z_]+`)

// TestRequestPagesSpeakBothLanguages renders every request page, every request's page and the
// package preview in Japanese (the default) and in English: no message ID may show instead of its
// text, and no English is left on the Japanese pages.
func TestRequestPagesSpeakBothLanguages(t *testing.T) {
	f := newRQFixture(t, rqSeeds)
	ctx := context.Background()
	for _, seed := range rqSeeds {
		_, _ = f.svc.Note(ctx, f.refs[seed.key], "メモ", rqStaff)
	}
	paths := []string{"/console/requests", "/console/requests?status=all", "/console/requests/" + f.refs["fresh"] + "/package"}
	for _, seed := range rqSeeds {
		paths = append(paths, "/console/requests/"+f.refs[seed.key])
	}
	for _, who := range []string{"privacy@x.example", "privacy-en@x.example"} {
		s := f.login(who)
		for _, p := range paths {
			code, body := s.get(p)
			if code != http.StatusOK {
				t.Errorf("%s %s: %d", who, p, code)
				continue
			}
			if m := rqNoMissingIDRe.FindAllString(body, -1); m != nil {
				t.Errorf("%s %s shows message IDs %q", who, p, m)
			}
			if who == "privacy@x.example" {
				for _, english := range []string{"Received", "Status", "Due", "Reference", "Kinds", "Delete", "Refuse"} {
					if strings.Contains(body, ">"+english) {
						t.Errorf("%s shows English %q in Japanese", p, english)
					}
				}
			}
		}
	}
}

// pkgMain is a package page's <main> without its links' addresses and targets (the customer's link
// and the console's preview serve the same files from different places).
func pkgMain(t *testing.T, page string) string {
	t.Helper()
	_, rest, ok1 := strings.Cut(page, "<main>")
	main, _, ok2 := strings.Cut(rest, "</main>")
	if !ok1 || !ok2 {
		t.Fatalf("no <main> in %.200q", page)
	}
	return regexp.MustCompile(` (?:href|target|rel)="[^"]*"`).ReplaceAllString(main, "")
}

// rqGet gets a path of a test server with a client (its cookies), with the answer's headers.
func rqGet(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestRequestPackagePreviewIsTheCustomersPage: the console's preview shows exactly what the customer
// will see: their own page (the same worded package, view and template), in the request's language,
// marked as a staff preview and framed in the console's page, with the customer's data.json and
// transcript.csv; no button's or event's raw data anywhere.
func TestRequestPackagePreviewIsTheCustomersPage(t *testing.T) {
	f := newRQFixture(t, rqSeeds)
	ctx := context.Background()
	ref, user := f.refs["fresh"], rqUser("fresh")
	f.svc.Holdings.Set(user, request.CustomerData{
		Profile: request.Profile{Language: "ja", FirstSeen: f.now.Add(-48 * time.Hour)},
		Transcript: []request.TranscriptLine{
			{At: f.now.Add(-50 * time.Minute), Role: "customer", Kind: "text", Text: "自分の情報を開示してください"},
			{At: f.now.Add(-49 * time.Minute), Role: "customer", Kind: "postback", Text: "do=rq&a=kind&d=D1&k=disclosure"},
			{At: f.now.Add(-48 * time.Minute), Role: "customer", Kind: "internal", Text: flows.RequestNoticePostback(flows.RequestNotice{
				What: flows.NoticeReceived, Ref: ref, Due: "2026-12-18"})},
			{At: f.now.Add(-47 * time.Minute), Role: "system", Kind: "text", Text: "escalated: human"},
			{At: f.now.Add(-46 * time.Minute), Role: "customer", Kind: "internal", Text: flows.JoinedPostback("佐藤")},
			{At: f.now.Add(-45 * time.Minute), Role: "bot", Kind: "text", Text: "承知しました。"},
		},
	})
	officer := request.Actor{Kind: request.ActorStaff, ID: "privacy@x.example", Name: "保護管理者"}
	for _, to := range []flows.RequestStatus{flows.StatusVerified, flows.StatusInProgress, flows.StatusCompleted} {
		if _, err := f.svc.Transition(ctx, ref, request.Transition{To: to, Actor: officer}); err != nil {
			t.Fatal(err)
		}
	}
	token := requesttest.LinkToken(f.svc.Raiser.LastLink(user))
	link := httptest.NewServer(handlers.NewRouter(quietLog(), handlers.Routes{Package: &handlers.PackagePages{
		Desk: f.svc.Service, Log: quietLog(), Now: f.svc.Clock.Now, Location: rqTokyo}}))
	defer link.Close()
	_, customer := rqGet(t, http.DefaultClient, link.URL+"/package/"+token)
	raw := []string{"do=rq", "rnotice", "hjoined", "escalated: human"}
	words := []string{"開示 <span class=\"extra\">（ボタンを選択）</span>", "受付番号 " + ref + " のご請求を受け付けたことをお知らせしました。",
		"担当者へのお引き継ぎを受け付けました（担当者とのやりとりのご希望）。", "担当者（佐藤）がトークに参加しました。"}
	mustContain(t, "the customer's page", customer, words, raw...)

	s := f.login("privacy@x.example")
	base := "/console/requests/" + ref + "/package"
	code, outer := s.get(base)
	if code != http.StatusOK {
		t.Fatalf("the console's page: %d", code)
	}
	mustContain(t, "the console's page", outer, []string{"データパッケージ（" + ref + "）", `<iframe class="pkg-frame" src="` + base + `?view=page&amp;lang=ja"`,
		`href="` + base + `?view=data.json&amp;lang=ja"`, "privacy-package-" + ref + ".json", "privacy-transcript-" + ref + ".csv"}, raw...)

	res, preview := rqGet(t, s.c, s.base+base+"?view=page")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the preview: %d", res.StatusCode)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self'") ||
		strings.Contains(csp, "script-src") || !strings.HasPrefix(csp, "default-src 'none'") || res.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Errorf("the preview's headers: CSP %q, X-Frame-Options %q", csp, res.Header.Get("X-Frame-Options"))
	}
	mustContain(t, "the preview", preview, append(words, `<html lang="ja">`, "これはスタッフ用のプレビューです。"), raw...)
	if strings.Contains(customer, "これはスタッフ用のプレビューです。") {
		t.Error("the customer's page is marked as a preview")
	}
	if pkgMain(t, preview) != pkgMain(t, customer) {
		t.Errorf("the preview differs from the customer's page:\npreview  %s\ncustomer %s", pkgMain(t, preview), pkgMain(t, customer))
	}
	for _, file := range []string{"data.json", "transcript.csv"} {
		_, mine := rqGet(t, http.DefaultClient, link.URL+"/package/"+token+"/"+file)
		res, theirs := rqGet(t, s.c, s.base+base+"?view="+file)
		if res.StatusCode != http.StatusOK || theirs != mine || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("the preview's %s (%d) differs from the customer's", file, res.StatusCode)
		}
	}
	got := strings.Join(f.audits("request.package.view"), "\n")
	for _, want := range []string{ref + " \n", ref + " page ja", ref + " data.json ja", ref + " transcript.csv ja"} {
		if !strings.Contains(got+"\n", want) {
			t.Errorf("preview audits %q lack %q", got, want)
		}
	}

	// A request in English is previewed in English, whoever looks.
	post := "/console/requests/" + f.refs["post"] + "/package"
	_, outer = s.get(post)
	mustContain(t, "the English request's page", outer, []string{`src="` + post + `?view=page&amp;lang=en"`})
	_, preview = s.get(post + "?view=page")
	mustContain(t, "the English request's preview", preview, []string{`<html lang="en">`, "Staff preview", "Your personal data we hold",
		"There is no working download link at the moment."}, "This link works until")
}
