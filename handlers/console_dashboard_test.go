package handlers_test

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot/insight"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/store"
)

// csvRows writes the expected file: each row's cells (comma-separated, as written here) quoted, CRLF.
// A part is a row or a list of rows.
func csvRows(parts ...any) string {
	var rows []string
	for _, p := range parts {
		switch x := p.(type) {
		case string:
			rows = append(rows, x)
		case []string:
			rows = append(rows, x...)
		}
	}
	var b strings.Builder
	for _, r := range rows {
		cells := strings.Split(r, ",")
		for i, c := range cells {
			cells[i] = `"` + c + `"`
		}
		b.WriteString(strings.Join(cells, ",") + "\r\n")
	}
	return b.String()
}

// quietDays is rows of the days from first (YYYY-MM-DD) on, n of them, each with the same cells.
func quietDays(first string, n int, cells string) []string {
	d, _ := time.Parse(time.DateOnly, first)
	var out []string
	for i := range n {
		out = append(out, d.AddDate(0, 0, i).Format(time.DateOnly)+","+cells)
	}
	return out
}

// getCSV downloads a dashboard CSV: 200, text/csv, an attachment, the byte order mark; the text after it.
func getCSV(t *testing.T, s *staffClient, path string) string {
	t.Helper()
	res, err := s.c.Get(s.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), `attachment; filename="dashboard-`) {
		t.Fatalf("%s: %d %q %q", path, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	body, ok := strings.CutPrefix(string(b), "\xEF\xBB\xBF")
	if !ok {
		t.Fatalf("%s: no byte order mark", path)
	}
	return body
}

func sameCSV(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestDashboardFiguresFromStore: the figures of the records seeded in the embedded store
// (seedDashboard), counted by hand, as the CSV files give them, by day (25 March – 7 April) and by
// week (the 12 weeks from Monday 19 January). Business hours Mon–Fri 09:00–18:00.
func TestDashboardFiguresFromStore(t *testing.T) {
	h := newDashboardConsole(t, seedDashboard)
	admin := h.login("admin@x.example")

	// Questions on 4 April 1 (helped), 5 April 4 (one unanswered; one helped, one not), 6 April 6 (two
	// unanswered; one helped), 7 April 2; nothing before.
	sameCSV(t, "unanswered by day", getCSV(t, admin, "/console/dashboard/unanswered.csv?by=day"), csvRows(
		"日付,質問数,未回答,割合（%）",
		"2026-03-25,0,0,", "2026-03-26,0,0,", "2026-03-27,0,0,", "2026-03-28,0,0,", "2026-03-29,0,0,",
		"2026-03-30,0,0,", "2026-03-31,0,0,", "2026-04-01,0,0,", "2026-04-02,0,0,", "2026-04-03,0,0,",
		"2026-04-04,1,0,0", "2026-04-05,4,1,25", "2026-04-06,6,2,33.3", "2026-04-07,2,0,0"))
	sameCSV(t, "helped by day", getCSV(t, admin, "/console/dashboard/helped.csv?by=day"), csvRows(
		"日付,評価の数,役に立った,割合（%）", quietDays("2026-03-25", 10, "0,0,"),
		"2026-04-04,1,1,100", "2026-04-05,2,1,50", "2026-04-06,1,1,100", "2026-04-07,0,0,"))
	// By week: the first minute of 19 January counts, the last minute before it does not; Tuesday
	// 24 March's last minute falls in the week of the 23rd.
	sameCSV(t, "questions by week", getCSV(t, admin, "/console/dashboard/questions.csv?by=week"), csvRows(
		"週（月曜日の日付）,プライバシーポリシー,配信停止・再開,開示等の請求,苦情・担当者の希望,その他,未回答,合計",
		"2026-01-19,1,0,0,0,0,0,1", "2026-01-26,0,0,0,0,0,0,0", "2026-02-02,0,0,0,0,0,0,0", "2026-02-09,0,0,0,0,0,0,0",
		"2026-02-16,0,0,0,0,0,0,0", "2026-02-23,0,0,0,0,0,0,0", "2026-03-02,0,0,0,0,0,0,0", "2026-03-09,0,0,0,0,0,0,0",
		"2026-03-16,0,0,0,0,0,0,0", "2026-03-23,0,0,0,0,0,1,1", "2026-03-30,3,1,0,0,0,1,5", "2026-04-06,2,0,1,2,1,2,8"))
	sameCSV(t, "topics by day", getCSV(t, admin, "/console/dashboard/topics.csv?by=day"), csvRows(
		"トピック,回答した数,評価の数,役に立った,割合（%）", "本人確認書類,3,2,1,50", "個人情報とは,1,1,1,100", "保存期間,1,1,1,100"))

	// Escalations: E0 (1 April, still queued), E1 (5 April), E2, E3, E4 (cancelled), E7 (an unknown
	// reason) on the 6th, E5 (queued) and E6 on the 7th.
	sameCSV(t, "escalations by day", getCSV(t, admin, "/console/dashboard/escalations.csv?by=day"), csvRows(
		"日付,苦情,担当者を希望,自動応答で解決できず,staff_test,合計", quietDays("2026-03-25", 7, "0,0,0,0,0"),
		"2026-04-01,0,1,0,0,1", quietDays("2026-04-02", 3, "0,0,0,0,0"),
		"2026-04-05,1,0,0,0,1", "2026-04-06,0,2,1,1,4", "2026-04-07,1,1,0,0,2"))
	// First response in business minutes: E1 30 (Sunday evening to Monday 09:30); E2 10, E3 80
	// (Monday 17:00 to Tuesday 09:20), E7 120; E6 15 (closed from the queue at 09:15).
	sameCSV(t, "first response by day", getCSV(t, admin, "/console/dashboard/first_response.csv?by=day"), csvRows(
		"日付,件数,中央値（分）,90パーセンタイル（分）", quietDays("2026-03-25", 11, "0,,"),
		"2026-04-05,1,30,30", "2026-04-06,3,80,120", "2026-04-07,1,15,15"))
	// Resolution: E1 90; E2 120, E7 240; E6 15.
	sameCSV(t, "resolution by day", getCSV(t, admin, "/console/dashboard/resolution.csv?by=day"), csvRows(
		"日付,件数,中央値（分）,90パーセンタイル（分）", quietDays("2026-03-25", 11, "0,,"),
		"2026-04-05,1,90,90", "2026-04-06,2,180,240", "2026-04-07,1,15,15"))
	sameCSV(t, "satisfaction by day", getCSV(t, admin, "/console/dashboard/satisfaction.csv?by=day"), csvRows(
		"日付,満足,ふつう,不満,「満足」の割合（%）", quietDays("2026-03-25", 11, "0,0,0,"),
		"2026-04-05,1,0,0,100", "2026-04-06,0,0,1,0", "2026-04-07,0,1,0,0"))

	// Consent: an opt-out of phone on the 4th, of phone and mail on the 5th, of LINE and of everything
	// on the 6th; opt-ins of mail on the 6th, of phone and LINE on the 7th.
	sameCSV(t, "opt-outs by day", getCSV(t, admin, "/console/dashboard/optouts.csv?by=day"), csvRows(
		"日付,電話,ダイレクトメール,メール,訪問,キャンペーン・イベント,アンケート,LINEでのお知らせ", quietDays("2026-03-25", 10, "0,0,0,0,0,0,0"),
		"2026-04-04,1,0,0,0,0,0,0", "2026-04-05,1,1,0,0,0,0,0", "2026-04-06,1,1,1,1,1,1,2", "2026-04-07,0,0,0,0,0,0,0"))
	sameCSV(t, "opt-ins by day", getCSV(t, admin, "/console/dashboard/optins.csv?by=day"), csvRows(
		"日付,電話,ダイレクトメール,メール,訪問,キャンペーン・イベント,アンケート,LINEでのお知らせ", quietDays("2026-03-25", 12, "0,0,0,0,0,0,0"),
		"2026-04-06,0,1,0,0,0,0,0", "2026-04-07,1,0,0,0,0,0,1"))
	// The e-mail opt-out of Sunday 1 March is in the week of 23 February.
	if got := getCSV(t, admin, "/console/dashboard/optouts.csv?by=week"); !strings.Contains(got, csvRows("2026-02-23,0,0,1,0,0,0,0")) {
		t.Errorf("opt-outs by week: %q", got)
	}

	// Requests received: erasure on 30 March, disclosure on the 31st, disclosure and correction (one
	// request) on 5 April, deletion on the 6th, disclosure (withdrawn) and purpose notice on the 7th.
	sameCSV(t, "requests by day", getCSV(t, admin, "/console/dashboard/requests.csv?by=day"), csvRows(
		"日付,開示,利用目的の通知,訂正,追加,削除,利用停止,消去,第三者への提供停止,第三者提供記録の開示,請求の件数",
		quietDays("2026-03-25", 5, "0,0,0,0,0,0,0,0,0,0"),
		"2026-03-30,0,0,0,0,0,0,1,0,0,1", "2026-03-31,1,0,0,0,0,0,0,0,0,1", quietDays("2026-04-01", 4, "0,0,0,0,0,0,0,0,0,0"),
		"2026-04-05,1,0,1,0,0,0,0,0,0,1", "2026-04-06,0,0,0,0,1,0,0,0,0,1", "2026-04-07,1,1,0,0,0,0,0,0,0,2"))
	sameCSV(t, "request status by day", getCSV(t, admin, "/console/dashboard/request_status.csv?by=day"), csvRows(
		"種類,受付済み,書類の提出待ち,本人確認済み,却下（本人確認不可）,対応中,完了,不実施,取り下げ",
		"開示,0,0,1,0,0,1,0,1", "利用目的の通知,1,0,0,0,0,0,0,0", "訂正,0,0,0,0,0,1,0,0", "追加,0,0,0,0,0,0,0,0",
		"削除,1,0,0,0,0,0,0,0", "利用停止,0,0,0,0,0,0,0,0", "消去,0,1,0,0,0,0,0,0", "第三者への提供停止,0,0,0,0,0,0,0,0",
		"第三者提供記録の開示,0,0,0,0,0,0,0,0", "請求の件数,2,1,1,0,0,1,0,1"))

	// The page's headline figures, by day.
	code, body := admin.get("/console/dashboard?by=day")
	if code != http.StatusOK {
		t.Fatalf("dashboard: %d", code)
	}
	tile := func(id string) string {
		m := regexp.MustCompile(`id="tile-` + id + `"><span class="dash-tile-label">[^<]*</span><b class="dash-tile-value">([^<]*)</b>(?:<span class="dash-tile-sub">([^<]*)</span>)?`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no tile %s", id)
		}
		return m[1] + "|" + m[2]
	}
	for id, want := range map[string]string{
		"asked":          "13件|担当者への引き継ぎ 8件",
		"unanswered":     "23.1%|13件中3件",
		"helped":         "75%|4件中3件",
		"waiting":        "2件|最も長い待ち 31時間・対応中 1件", // E0 since Wednesday 17:00: 1 + 9 + 9 + 9 + 3 h
		"first_response": "30分|90パーセンタイル 2時間（5件）",
		"resolution":     "1時間45分|90パーセンタイル 4時間（4件）",
		"satisfaction":   "33.3%|3件中1件",
		"requests":       "4件|間近 2件・超過 2件（未完了 5件）",
	} {
		if got := tile(id); got != want {
			t.Errorf("tile %s: %q, want %q", id, got, want)
		}
	}
	// Due soon or overdue, soonest first, linked for the admin: overdue since 3 April, overdue since
	// 11:00 today, due in 2 days, due in 3.
	var refs []string
	for _, m := range regexp.MustCompile(`<a href="/console/requests/(R-[0-9-]+)">`).FindAllStringSubmatch(body, -1) {
		refs = append(refs, m[1])
	}
	if got := strings.Join(refs, " "); got != "R-20260320-0001 R-20260407-0002 R-20260406-0001 R-20260330-0001" {
		t.Errorf("attention list %q", got)
	}
	obHas(t, "the attention list", body, "4日超過", "本日期限切れ", "残り2日", "残り3日")
	obHas(t, "the page", body, "集計期間：2026年3月25日〜2026年4月7日（日本時間）", "Mon-Fri 09:00-18:00")
}

// TestDashboardRoles: admins and agents see the dashboard and its link; the privacy officer and
// marketing do not (their work is the request and opt-out pages), and their attempt is audited as any
// denied page; nobody logged in is sent to log in. Viewing and downloading audit nothing.
func TestDashboardRoles(t *testing.T) {
	h := newDashboardConsole(t, seedDashboard)
	ctx := context.Background()
	roles := []struct {
		email  string
		status int
		s      *staffClient
	}{{"admin@x.example", 200, nil}, {"agent@x.example", 200, nil}, {"privacy@x.example", 403, nil}, {"mkt@x.example", 403, nil}}
	for i := range roles {
		roles[i].s = h.login(roles[i].email)
	}
	before, err := h.st.AuditLog(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range roles {
		code, body := c.s.get("/console/dashboard")
		if code != c.status {
			t.Errorf("%s: dashboard %d, want %d", c.email, code, c.status)
		}
		if code, _ := c.s.get("/console/dashboard/questions.csv?by=month"); code != c.status {
			t.Errorf("%s: CSV %d, want %d", c.email, code, c.status)
		}
		home := body
		if c.status != 200 {
			_, home = c.s.get("/console/settings")
		}
		if has := strings.Contains(home, `href="/console/dashboard"`); has != (c.status == 200) {
			t.Errorf("%s: navigation link shown %v", c.email, has)
		}
	}
	after, err := h.st.AuditLog(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range after[:len(after)-len(before)] {
		actions = append(actions, e.Action+" "+e.Target)
	}
	slices.Sort(actions)
	if got := strings.Join(actions, "|"); got != "access.denied /console/dashboard|access.denied /console/dashboard|"+
		"access.denied /console/dashboard/questions.csv|access.denied /console/dashboard/questions.csv" {
		t.Errorf("audit: %q (the denials only)", got)
	}
	anon := &staffClient{t: t, base: h.bot.URL, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if code, loc := anon.get("/console/dashboard"); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/login") {
		t.Errorf("anonymous: %d %q", code, loc)
	}
	admin := h.login("admin@x.example")
	for _, p := range []string{"/console/dashboard/nothing.csv", "/console/dashboard/questions.json", "/console/dashboard/questions.csv/x"} {
		if code, _ := admin.get(p); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
}

// TestDashboardPageAndCharts: the page in Japanese (week by default) has every section and chart,
// each chart an inline SVG that is well-formed XML with an accessible name and no style attribute,
// and a CSV link keeping the period; a reason code nobody knows, hostile as it may be, is escaped on
// the page and guarded in the CSV. The English page speaks English.
func TestDashboardPageAndCharts(t *testing.T) {
	hostile := `=HYPERLINK("x")<script>alert(1)</script>`
	h := newDashboardConsole(t, func(t *testing.T, st *store.Store) {
		seedDashboard(t, st)
		seedEscalation(t, st, "EX", hostile, dj("2026-04-06 15:00"))
	})
	admin := h.login("admin@x.example")
	code, body := admin.get("/console/dashboard")
	if code != http.StatusOK {
		t.Fatalf("dashboard: %d", code)
	}
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the hostile reason is not escaped on the page")
	}
	obHas(t, "the page", body, `aria-current="page">週別</a>`, "お客さまからの質問", "担当者への引き継ぎ", "配信停止・配信再開", "開示等の請求",
		`href="/console/dashboard/questions.csv?by=week"`, "CSVをダウンロード")
	svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(body, -1)
	if len(svgs) != 10 {
		t.Fatalf("%d charts, want 10", len(svgs))
	}
	for _, s := range svgs {
		d := xml.NewDecoder(strings.NewReader(s))
		d.Strict = true
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("a chart is not well-formed: %v", err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				for _, a := range se.Attr {
					if a.Name.Local == "style" || strings.HasPrefix(a.Name.Local, "on") {
						t.Errorf("attribute %s in a chart", a.Name.Local)
					}
				}
				if se.Name.Local == "script" || se.Name.Local == "foreignObject" {
					t.Errorf("<%s> in a chart", se.Name.Local)
				}
			}
		}
		if !regexp.MustCompile(`^<svg [^>]*role="img" aria-label="[^"]+"`).MatchString(s) {
			t.Errorf("a chart has no accessible name: %.120s", s)
		}
	}
	if got := getCSV(t, admin, "/console/dashboard/escalations.csv?by=day"); !strings.Contains(got, `"'=HYPERLINK(""x"")<script>alert(1)</script>"`) {
		t.Errorf("the hostile reason is not guarded in the CSV: %q", strings.SplitN(got, "\r\n", 2)[0])
	}

	en := h.login("admin-en@x.example")
	_, body = en.get("/console/dashboard?by=month")
	obHas(t, "the English page", body, `aria-current="page">Monthly</a>`, "Customer questions", "Handoffs to staff", "Download CSV", "Apr 2026")
	if got := getCSV(t, en, "/console/dashboard/satisfaction.csv?by=month"); !strings.HasPrefix(got, csvRows("Month,Satisfied,OK,Dissatisfied,Satisfied (%)")) ||
		!strings.Contains(got, csvRows("2026-04,1,1,1,33.3")) || !strings.Contains(got, csvRows("2026-01,0,0,1,0")) {
		t.Errorf("English satisfaction by month: %q", got)
	}
}

// countingSource counts the dashboard's reads.
type countingSource struct{ n atomic.Int32 }

func (s *countingSource) DashboardRecords(context.Context, time.Time, time.Time) (insight.Records, error) {
	s.n.Add(1)
	return insight.Records{}, nil
}

// TestDashboardCache: figures are computed once per period for 30 seconds, then again.
func TestDashboardCache(t *testing.T) {
	src := &countingSource{}
	var now atomic.Int64
	now.Store(dashNow.UnixNano())
	h := newDashboardConsole(t, nil, func(d *handlers.Dashboard) {
		d.Source, d.Now = src, func() time.Time { return time.Unix(0, now.Load()) }
	})
	admin := h.login("agent@x.example")
	for range 3 {
		admin.get("/console/dashboard")
		admin.get("/console/dashboard/questions.csv?by=week")
	}
	admin.get("/console/dashboard?by=day")
	if n := src.n.Load(); n != 2 {
		t.Fatalf("%d reads, want 2 (week, day)", n)
	}
	now.Add(int64(31 * time.Second))
	admin.get("/console/dashboard")
	if n := src.n.Load(); n != 3 {
		t.Fatalf("%d reads after 31 s, want 3", n)
	}
}

// TestDashboardUnconfigured: without a source the page answers 503.
func TestDashboardUnconfigured(t *testing.T) {
	h := newRetentionConsole(t, nil)
	if code, _ := h.login("admin@x.example").get("/console/dashboard"); code != http.StatusServiceUnavailable {
		t.Errorf("no dashboard: %d", code)
	}
	var _ handlers.DashboardSource = handlers.DashboardStores{}
}
