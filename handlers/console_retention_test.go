package handlers_test

import (
	"context"
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
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/retention"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/locales"
	"github.com/enemane/privacybot/store"
)

// fakeRetention is a RetentionDesk with the policy and reports the test sets. Once records its
// triggers and answers onceErr, or adds next (newest first) and returns it (with onceErr when next
// has an ID: a sweep whose report was not saved).
type fakeRetention struct {
	mu       sync.Mutex
	policy   retention.Policy
	reports  []retention.Report
	lastErr  error
	next     retention.Report
	onceErr  error
	triggers []string
}

func (f *fakeRetention) Policy() retention.Policy { return f.policy }

func (f *fakeRetention) Last(_ context.Context, limit int) ([]retention.Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lastErr != nil {
		return nil, f.lastErr
	}
	return slices.Clone(f.reports[:min(limit, len(f.reports))]), nil
}

func (f *fakeRetention) Once(_ context.Context, trigger string) (retention.Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.triggers = append(f.triggers, trigger)
	if f.next.ID == "" {
		return retention.Report{}, f.onceErr
	}
	r := f.next
	r.Trigger = trigger
	if f.onceErr == nil {
		f.reports = append([]retention.Report{r}, f.reports...)
	}
	return r, f.onceErr
}

func (f *fakeRetention) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.triggers)
}

func (f *fakeRetention) set(fn func(f *fakeRetention)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// rtAt is 2026-04-01 hh:mm:ss in UTC (hh+9 in Japan).
func rtAt(hh, mm, ss int) time.Time { return time.Date(2026, 4, 1, hh, mm, ss, 0, time.UTC) }

// rtPolicy is the defaults with the conversation kept 400 days and the audit log five years.
func rtPolicy(t *testing.T) retention.Policy {
	t.Helper()
	p, err := retention.Parse("transcript=400d,audit=5y", 14)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// rtReport is a sweep of every kind of p at start: deleted[kind] items, errs[kind] failures.
func rtReport(id, instance, trigger string, p retention.Policy, start time.Time, took time.Duration,
	deleted map[flows.DataKind]int64, errs map[flows.DataKind]string) retention.Report {
	r := retention.Report{ID: id, Instance: instance, Trigger: trigger, Started: start, Finished: start.Add(took)}
	for _, x := range p {
		r.Kinds = append(r.Kinds, retention.KindResult{Kind: x.Kind, Cutoff: x.Before(start), Deleted: deleted[x.Kind], Error: errs[x.Kind]})
	}
	return r
}

// sampleRetention has two sweeps: the latest scheduled, with 12,345 deletions and two failed kinds
// (one with no target, one with a store error); the one before run by staff.
func sampleRetention(t *testing.T) *fakeRetention {
	p := rtPolicy(t)
	last := rtReport("sw-2", "app-7f3a", retention.TriggerSchedule, p, rtAt(3, 0, 0), 2*time.Minute+5*time.Second,
		map[flows.DataKind]int64{flows.DataTranscript: 12000, flows.DataSteps: 340, flows.DataAudit: 5},
		map[flows.DataKind]string{flows.DataDocuments: "no target", flows.DataOutbox: "outbox sweep: context deadline exceeded"})
	older := rtReport("sw-1", "app-1b2c", retention.TriggerStaff, p, rtAt(0, 0, 0), 300*time.Millisecond,
		map[flows.DataKind]int64{flows.DataConversations: 7}, nil)
	return &fakeRetention{policy: p, reports: []retention.Report{last, older}}
}

// newRetentionConsole is the console on its own database with rd as its sweeper (nil: none), an
// admin of each language, and an agent, a privacy officer and a marketing account.
func newRetentionConsole(t *testing.T, rd handlers.RetentionDesk) *consoleHarness {
	t.Helper()
	return newRetentionConsoleWith(t, func(*store.Store) handlers.RetentionDesk { return rd })
}

// newRetentionConsoleWith is newRetentionConsole with the sweeper made over the console's store.
func newRetentionConsoleWith(t *testing.T, desk func(*store.Store) handlers.RetentionDesk) *consoleHarness {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{URI: engineURI, Database: fmt.Sprintf("rt%d_%d", time.Now().UnixNano()%1e6, dbSeq.Add(1)), Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	con := &handlers.Console{Log: quietLog(), HashCost: 4}
	if rd := desk(st); rd != nil {
		con.Retention = rd
	}
	con.UseBackend(st)
	srv := httptest.NewServer(handlers.NewRouter(quietLog(), handlers.Routes{Console: con}))
	t.Cleanup(func() {
		srv.Close()
		st.Close(context.Background())
	})
	h := &consoleHarness{harness: &harness{t: t, st: st, bot: srv}, console: con}
	h.addStaff("admin@x.example", "管理者", account.RoleAdmin)
	h.addStaffLang("admin-en@x.example", "Admin", account.RoleAdmin, "en")
	h.addStaff("agent@x.example", "担当", account.RoleAgent)
	h.addStaff("privacy@x.example", "保護管理者", account.RolePrivacy)
	h.addStaff("mkt@x.example", "マーケ", account.RoleMarketing)
	return h
}

// rtRow returns the table row of a kind (data-kind) in a part of the page.
func rtRow(t *testing.T, part string, kind flows.DataKind) string {
	t.Helper()
	i := strings.Index(part, `data-kind="`+string(kind)+`"`)
	if i < 0 {
		t.Errorf("no row of %s", kind)
		return ""
	}
	s := part[i:]
	return s[:strings.Index(s, "</tr>")]
}

// kindNames are the kinds' names in the shared catalog (retention.kind.<kind>).
func kindNames(t *testing.T, lang string) map[flows.DataKind]string {
	t.Helper()
	b, err := locales.NewBundle()
	if err != nil {
		t.Fatal(err)
	}
	loc := i18n.NewLocalizer(b, lang)
	out := map[flows.DataKind]string{}
	for _, k := range flows.DataKinds() {
		s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: "retention.kind." + string(k)})
		if err != nil {
			t.Fatal(err)
		}
		out[k] = html.EscapeString(s)
	}
	return out
}

func jst(tm time.Time) string {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		loc = time.FixedZone("JST", 9*3600)
	}
	return tm.In(loc).Format("2006-01-02 15:04")
}

// TestRetentionPageShowsPolicyAndSweeps: an admin sees every kind with its name, period and where its
// clock starts, the setting, the last sweep (when, where, how long, what started it, the total, per
// kind the cutoff and count, failures in words) and the history, in Japanese and in English.
func TestRetentionPageShowsPolicyAndSweeps(t *testing.T) {
	rd := sampleRetention(t)
	h := newRetentionConsole(t, rd)
	admin := h.login("admin@x.example")
	code, body := admin.get("/console/retention")
	if code != http.StatusOK {
		t.Fatalf("retention page: %d", code)
	}
	obHas(t, "the page", body, "<h1>保存期間</h1>", `href="/console/retention"`, "プライバシーポリシー第13項",
		`action="/console/retention/sweep"`, `name="csrf" value="`+admin.csrf+`"`, "今すぐ実行")

	periods := obSection(t, body, "periods")
	ja := kindNames(t, "ja")
	wantJa := map[flows.DataKind][]string{
		flows.DataTranscript:    {"400日", "それぞれの発言の時点から"},
		flows.DataConversations: {"180日", "最後のやり取りから"},
		flows.DataSteps:         {"30日", "メッセージを受け取った時点から"},
		flows.DataEscalations:   {"3年", "対応済み（または取り消し）になってから"},
		flows.DataRequests:      {"5年", "請求の完了から"},
		flows.DataDocuments:     {"30日", "本人確認の判断から"},
		flows.DataPackages:      {"14日", "リンクの期限が切れた時点で添付ファイルを削除"},
		flows.DataConsent:       {"3年", "有効な間は保持し、変更・取り消しの時点から"},
		flows.DataOutbox:        {"90日", "送信が済んだ時点から"},
		flows.DataAudit:         {"5年", "操作の時点から"},
	}
	for _, k := range flows.DataKinds() {
		obHas(t, "the period of "+string(k), rtRow(t, periods, k), append(wantJa[k], ja[k])...)
	}
	obHas(t, "the setting", periods, "RETENTION=transcript=400d,conversations=180d,steps=30d,escalations=3y,requests=5y,documents=30d,consent=3y,outbox=90d,audit=5y")

	last := obSection(t, body, "last")
	obHas(t, "the last sweep", last, jst(rtAt(3, 0, 0)), "2026-04-01 12:00", "app-7f3a", "2分5秒", "定期実行", "<b>12,345件</b>", "失敗あり")
	p := rd.policy
	for k, want := range map[flows.DataKind][]string{
		flows.DataTranscript: {"12,000件", jst(rtAt(3, 0, 0).AddDate(0, 0, -400)), "2025-02-25 12:00", "完了"},
		flows.DataSteps:      {"340件", jst(rtAt(3, 0, 0).AddDate(0, 0, -30))},
		flows.DataAudit:      {"5件", jst(rtAt(3, 0, 0).AddDate(-5, 0, 0))},
		flows.DataRequests:   {"0件", "完了"},
		flows.DataDocuments:  {"失敗", "この種類のデータを削除する処理が設定されていないため、削除していません。"},
		flows.DataOutbox:     {"失敗", "outbox sweep: context deadline exceeded"},
	} {
		obHas(t, "the last sweep's "+string(k), rtRow(t, last, k), append(want, ja[k])...)
	}
	if n := strings.Count(last, "<tr data-kind="); n != len(p) {
		t.Errorf("the last sweep lists %d kinds, want %d", n, len(p))
	}
	if strings.Contains(last, "no target") {
		t.Error("the sweeper's code for a kind without a target is shown instead of words")
	}

	history := obSection(t, body, "history")
	obHas(t, "the history", history, "app-7f3a", "app-1b2c", "2026-04-01 09:00", "管理者による実行", "1秒未満", "7件", "最大20件")
	if strings.Index(history, "app-7f3a") > strings.Index(history, "app-1b2c") {
		t.Error("the history is not newest first")
	}
	if strings.Count(history, "<tr") != 3 || strings.Count(history, `<tr class="prio-high">`) != 1 {
		t.Errorf("the history's rows (one failed):\n%s", history)
	}

	// In English for a staff member who chose it.
	_, body = h.login("admin-en@x.example").get("/console/retention")
	en := kindNames(t, "en")
	obHas(t, "the English page", body, "<h1>Retention periods</h1>", ">Retention</a>", ">Sweep now</button>")
	periods = obSection(t, body, "periods")
	wantEn := map[flows.DataKind]string{flows.DataTranscript: "400 days", flows.DataConversations: "180 days", flows.DataSteps: "30 days",
		flows.DataEscalations: "3 years", flows.DataRequests: "5 years", flows.DataDocuments: "30 days", flows.DataPackages: "14 days",
		flows.DataConsent: "3 years", flows.DataOutbox: "90 days", flows.DataAudit: "5 years"}
	for _, k := range flows.DataKinds() {
		obHas(t, "the English period of "+string(k), rtRow(t, periods, k), wantEn[k], en[k])
	}
	obHas(t, "the English periods", periods, "Each message", "Kept while in force", "PACKAGE_LINK_DAYS")
	last = obSection(t, body, "last")
	obHas(t, "the English last sweep", last, "2026-04-01 12:00", "The schedule", "2 min 5 s", "12,345 items", "Failures",
		"Nothing is set up to delete this kind of data", "outbox sweep: context deadline exceeded")
	obHas(t, "the English history", obSection(t, body, "history"), "An admin", "Under a second", "7 items", "at most 20")
	if rd.calls() != nil {
		t.Fatalf("opening the page swept: %q", rd.calls())
	}
}

// TestRetentionPageBeforeAnySweep: no report yet says so; reports that cannot be read leave the
// periods on the page and say the history is unavailable.
func TestRetentionPageBeforeAnySweep(t *testing.T) {
	rd := &fakeRetention{policy: rtPolicy(t)}
	h := newRetentionConsole(t, rd)
	admin := h.login("admin@x.example")
	code, body := admin.get("/console/retention")
	if code != http.StatusOK || !strings.Contains(body, `id="retention-never"`) || !strings.Contains(body, "まだ一度も実行されていません") ||
		strings.Contains(body, `id="history"`) {
		t.Fatalf("page before any sweep: %d\n%s", code, body)
	}
	rd.set(func(f *fakeRetention) { f.lastErr = errors.New("store down") })
	code, body = admin.get("/console/retention")
	if code != http.StatusOK || !strings.Contains(body, "実行の記録を読み込めませんでした") || !strings.Contains(body, "400日") ||
		strings.Contains(body, "store down") {
		t.Fatalf("page with the reports unreadable: %d\n%s", code, body)
	}
}

// TestRetentionPageAdminOnly: agents, privacy officers and marketing get 403 (audited as
// access.denied with the path) for the page and the sweep, and see no link; nothing is swept.
func TestRetentionPageAdminOnly(t *testing.T) {
	rd := sampleRetention(t)
	h := newRetentionConsole(t, rd)
	for _, who := range []string{"agent@x.example", "privacy@x.example", "mkt@x.example"} {
		s := h.login(who)
		if code, body := s.get("/console/retention"); code != http.StatusForbidden || strings.Contains(body, "app-7f3a") || strings.Contains(body, "RETENTION=") {
			t.Errorf("%s: retention page %d", who, code)
		}
		if code, _ := s.act("/console/retention/sweep", nil); code != http.StatusForbidden {
			t.Errorf("%s: sweep %d", who, code)
		}
		if _, body := s.get("/console/settings"); strings.Contains(body, `href="/console/retention"`) {
			t.Errorf("%s sees the retention link", who)
		}
	}
	if c := rd.calls(); len(c) != 0 {
		t.Fatalf("Once called for a non-admin: %q", c)
	}
	log, err := h.st.AuditLog(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	denied := map[string]int{}
	for _, e := range log {
		if e.Action == "access.denied" && strings.HasPrefix(e.Target, "/console/retention") {
			denied[e.Actor]++
		}
	}
	for _, who := range []string{"agent@x.example", "privacy@x.example", "mkt@x.example"} {
		if denied[who] != 2 {
			t.Errorf("%s: %d access.denied entries for the retention routes, want 2", who, denied[who])
		}
	}
}

// TestRetentionSweepNow: the button needs the session's CSRF token, runs one sweep started by staff,
// is audited with the total, and returns to the page with what happened: done, some kinds failed,
// the report not saved, another sweep running (plainly, in the staff member's language, and not
// audited), or the error page when the sweep could not start.
func TestRetentionSweepNow(t *testing.T) {
	rd := sampleRetention(t)
	h := newRetentionConsole(t, rd)
	admin := h.login("admin@x.example")

	if code, _ := admin.post("/console/retention/sweep", url.Values{}); code != http.StatusForbidden {
		t.Fatalf("sweep without the CSRF token: %d", code)
	}
	if code, _ := admin.post("/console/retention/sweep", url.Values{"csrf": {"forged"}}); code != http.StatusForbidden {
		t.Fatalf("sweep with a wrong CSRF token: %d", code)
	}
	if c := rd.calls(); len(c) != 0 {
		t.Fatalf("Once called without a valid token: %q", c)
	}

	rd.set(func(f *fakeRetention) {
		f.next = rtReport("sw-3", "app-7f3a", "", f.policy, rtAt(5, 0, 0), time.Second,
			map[flows.DataKind]int64{flows.DataSteps: 1200, flows.DataOutbox: 34}, nil)
	})
	code, loc := admin.act("/console/retention/sweep", nil)
	if code != http.StatusSeeOther || loc != "/console/retention?m=done&n=1234" {
		t.Fatalf("sweep: %d %s", code, loc)
	}
	if c := rd.calls(); !slices.Equal(c, []string{retention.TriggerStaff}) {
		t.Fatalf("Once called %q, want once by staff", c)
	}
	sweeps := func() []account.AuditEntry {
		t.Helper()
		log, err := h.st.AuditLog(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		return slices.DeleteFunc(log, func(e account.AuditEntry) bool { return e.Action != "retention.sweep" })
	}
	if a := sweeps(); len(a) != 1 || a[0].Actor != "admin@x.example" || a[0].Target != "sw-3" || a[0].Detail != "deleted=1234" {
		t.Fatalf("the sweep's audit: %+v", a)
	}
	_, body := admin.get(loc)
	obHas(t, "the page after the sweep", body, `class="flash"`, "期限切れデータの削除を実行しました（削除件数：1,234件）。", "管理者による実行")
	obHas(t, "the last sweep after the sweep", obSection(t, body, "last"), "2026-04-01 14:00", "1,234件", "1秒")

	// Some kinds failed: said so, audited all the same.
	rd.set(func(f *fakeRetention) {
		f.next = rtReport("sw-4", "app-7f3a", "", f.policy, rtAt(6, 0, 0), time.Second, nil,
			map[flows.DataKind]string{flows.DataAudit: "audit sweep: store down"})
	})
	code, loc = admin.act("/console/retention/sweep", nil)
	if code != http.StatusSeeOther || loc != "/console/retention?e=failed&n=0" {
		t.Fatalf("sweep with a failed kind: %d %s", code, loc)
	}
	_, body = admin.get(loc)
	obHas(t, "the page after a partly failed sweep", body, `class="problem"`, "一部の種類で失敗しました（削除件数：0件）", "audit sweep: store down")

	// The report not saved: the sweep ran, so it is audited, and the page says the history lacks it.
	rd.set(func(f *fakeRetention) {
		f.next = rtReport("sw-5", "app-7f3a", "", f.policy, rtAt(7, 0, 0), time.Second, map[flows.DataKind]int64{flows.DataSteps: 2}, nil)
		f.onceErr = errors.New("retention report: store down")
	})
	code, loc = admin.act("/console/retention/sweep", nil)
	if code != http.StatusSeeOther || loc != "/console/retention?e=unsaved&n=2" {
		t.Fatalf("sweep whose report was not saved: %d %s", code, loc)
	}
	_, body = admin.get(loc)
	obHas(t, "the page after an unsaved report", body, "実行結果を記録できなかったため")

	// Another sweep running: plainly said, in Japanese and in English; nothing audited.
	rd.set(func(f *fakeRetention) { f.next, f.onceErr = retention.Report{}, retention.ErrBusy })
	code, loc = admin.act("/console/retention/sweep", nil)
	if code != http.StatusSeeOther || loc != "/console/retention?e=busy" {
		t.Fatalf("sweep while another runs: %d %s", code, loc)
	}
	_, body = admin.get(loc)
	obHas(t, "the page after a busy sweep", body, `role="alert"`, "ほかの削除処理が実行中のため、今回は実行しませんでした。")
	en := h.login("admin-en@x.example")
	if code, loc := en.act("/console/retention/sweep", nil); code != http.StatusSeeOther || loc != "/console/retention?e=busy" {
		t.Fatalf("English sweep while another runs: %d %s", code, loc)
	}
	_, body = en.get("/console/retention?e=busy")
	obHas(t, "the English page after a busy sweep", body, "Another sweep is running, so this one was not started.")

	// The sweep could not start at all: the error page, nothing audited.
	rd.set(func(f *fakeRetention) { f.onceErr = errors.New("retention lease: store down") })
	if code, body := admin.act("/console/retention/sweep", nil); code != http.StatusServiceUnavailable ||
		!strings.Contains(body, "現在ご利用いただけません") || strings.Contains(body, "store down") {
		t.Fatalf("sweep with the store down: %d", code)
	}

	if c := rd.calls(); len(c) != 6 {
		t.Fatalf("Once called %d times, want 6 (one per press)", len(c))
	}
	if a := sweeps(); len(a) != 3 {
		t.Fatalf("%d retention.sweep entries, want the three sweeps that ran: %+v", len(a), a)
	}

	// A forged count in the address is not shown as a count.
	_, body = admin.get("/console/retention?m=done&n=abc")
	if strings.Contains(body, `class="flash"`) {
		t.Error("a flash shown for a count that is not a number")
	}
}

// TestRetentionPageWithoutSweeper: with no sweeper the page and the button answer the console's 503
// page; other roles still get 403.
func TestRetentionPageWithoutSweeper(t *testing.T) {
	h := newRetentionConsole(t, nil)
	admin := h.login("admin@x.example")
	if code, body := admin.get("/console/retention"); code != http.StatusServiceUnavailable || !strings.Contains(body, "この機能は、この環境では現在ご利用いただけません。") {
		t.Fatalf("retention page without a sweeper: %d", code)
	}
	if code, _ := admin.act("/console/retention/sweep", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("sweep without a sweeper: %d", code)
	}
	if code, _ := h.login("agent@x.example").get("/console/retention"); code != http.StatusForbidden {
		t.Fatalf("agent, without a sweeper: %d", code)
	}
}

// TestRetentionPageWithRealSweeper: the page over *retention.Sweeper with the store's lease and
// records: the button sweeps every kind with its cutoff and the page shows the saved report; while
// another instance's sweep holds the lease the sweeper answers ErrBusy, which the page says plainly.
func TestRetentionPageWithRealSweeper(t *testing.T) {
	p := rtPolicy(t)
	now := rtAt(8, 0, 0)
	var mu sync.Mutex
	cutoffs := map[flows.DataKind]time.Time{}
	targets := map[flows.DataKind]retention.Target{}
	for _, x := range p {
		if x.Kind == flows.DataPackages {
			continue // no target: reported as failed
		}
		targets[x.Kind] = retention.TargetFunc(func(_ context.Context, k flows.DataKind, cutoff time.Time) (int64, error) {
			mu.Lock()
			defer mu.Unlock()
			cutoffs[k] = cutoff
			return int64(len(k)), nil
		})
	}
	var other *retention.Sweeper // another instance on the same store, whose sweep waits for the test
	entered, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	defer free() // the other sweep never outlives the test
	h := newRetentionConsoleWith(t, func(st *store.Store) handlers.RetentionDesk {
		clock := func() time.Time { return now }
		block := retention.TargetFunc(func(context.Context, flows.DataKind, time.Time) (int64, error) {
			close(entered)
			<-release
			return 0, nil
		})
		other = retention.New(retention.Config{Policy: p[:1], Targets: map[flows.DataKind]retention.Target{p[0].Kind: block},
			Lease: st, Records: st, Instance: "app-other", Now: clock, Log: quietLog()})
		return retention.New(retention.Config{Policy: p, Targets: targets, Lease: st, Records: st,
			Instance: "app-real", Now: clock, Log: quietLog()})
	})
	admin := h.login("admin@x.example")

	var total int64
	for _, x := range p {
		if x.Kind != flows.DataPackages {
			total += int64(len(x.Kind))
		}
	}
	code, loc := admin.act("/console/retention/sweep", nil)
	if code != http.StatusSeeOther || loc != fmt.Sprintf("/console/retention?e=failed&n=%d", total) {
		t.Fatalf("sweep: %d %s", code, loc)
	}
	mu.Lock()
	got := cutoffs[flows.DataTranscript]
	mu.Unlock()
	if !got.Equal(now.AddDate(0, 0, -400)) {
		t.Fatalf("transcript cutoff %s", got)
	}
	_, body := admin.get(loc)
	last := obSection(t, body, "last")
	obHas(t, "the last sweep", last, "app-real", "管理者による実行", fmt.Sprintf("%d件", total))
	obHas(t, "the packages' row", rtRow(t, last, flows.DataPackages), "この種類のデータを削除する処理が設定されていない")
	obHas(t, "the transcript's row", rtRow(t, last, flows.DataTranscript), jst(now.AddDate(0, 0, -400)), "10件")

	done := make(chan error, 1)
	go func() {
		_, err := other.Once(context.Background(), retention.TriggerSchedule)
		done <- err
	}()
	<-entered
	code, loc = admin.act("/console/retention/sweep", nil)
	free()
	if err := <-done; err != nil {
		t.Fatalf("the other instance's sweep: %v", err)
	}
	if code != http.StatusSeeOther || loc != "/console/retention?e=busy" {
		t.Fatalf("sweep while another instance holds the lease: %d %s", code, loc)
	}
	_, body = admin.get("/console/retention")
	obHas(t, "the history after both", obSection(t, body, "history"), "app-other", "app-real", "定期実行")
}

// TestRetentionPageInBrowser opens 保存期間 from the admin's navigation in chromium, presses 今すぐ実行
// and saves screenshots to /tmp/retention-console.png (before the press, with a failed sweep:
// /tmp/retention-console-before.png; the English page: /tmp/retention-console-en.png).
func TestRetentionPageInBrowser(t *testing.T) {
	rd := sampleRetention(t)
	rd.next = rtReport("sw-3", "app-7f3a", "", rd.policy, rtAt(5, 0, 0), 1500*time.Millisecond,
		map[flows.DataKind]int64{flows.DataSteps: 1200, flows.DataOutbox: 34}, nil)
	h := newRetentionConsole(t, rd)
	ctx, closeBrowser := newBrowser(t, 1366, 1000, 60*time.Second)
	defer closeBrowser()
	run := func(what string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, acts...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	shot := func(path string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("log in", consoleLogin(h.bot.URL, "admin@x.example")...)
	label, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('nav a[href="/console/retention"]').textContent`))
	if err != nil || label != "保存期間" {
		t.Fatalf("the navigation's link: %q %v", label, err)
	}
	run("retention page", chromedp.Click(chromedp.CSS(`nav a[href="/console/retention"]`)), chromedp.WaitVisible(chromedp.CSS(`table.retention-periods`)))
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelectorAll("table.retention-periods tbody tr").length + "|" +
		document.querySelectorAll("table.retention-last tbody tr").length + "|" + document.querySelectorAll("table.retention-history tbody tr").length`))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d|%d|2", len(rd.policy), len(rd.policy)); rows != want {
		t.Fatalf("periods | last sweep's kinds | history rows: %s, want %s", rows, want)
	}
	shot("/tmp/retention-console-before.png") // the last sweep with its failed kinds
	run("sweep now", chromedp.Click(chromedp.CSS(`#sweep-now button`)), chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	if c := rd.calls(); !slices.Equal(c, []string{retention.TriggerStaff}) {
		t.Fatalf("the button called Once %q", c)
	}
	flash, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".flash").textContent`))
	if err != nil || !strings.Contains(flash, "1,234件") {
		t.Fatalf("the flash: %q %v", flash, err)
	}
	// Nothing wider than the window (a long setting or error must wrap).
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || wide {
		t.Errorf("the page scrolls sideways: %v %v", wide, err)
	}
	shot("/tmp/retention-console.png")

	run("log out", chromedp.Click(chromedp.CSS(`form[action="/console/logout"] button`)), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	run("log in in English", consoleLogin(h.bot.URL, "admin-en@x.example")...)
	run("English page", chromedp.Navigate(h.bot.URL+"/console/retention"), chromedp.WaitVisible(chromedp.CSS(`table.retention-history`)))
	shot("/tmp/retention-console-en.png")

	// On a narrow screen the section's tables and the long setting stay inside the card.
	run("narrow", chromedp.EmulateViewport(1024, 900), chromedp.Navigate(h.bot.URL+"/console/retention"), chromedp.WaitVisible(chromedp.CSS(`table.retention-history`)))
	over, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const card = document.querySelector("main .card").getBoundingClientRect();
		return [...document.querySelectorAll("main .card table, #retention-setting, .desc")].filter(e => e.getBoundingClientRect().right > card.right + 1).map(e => e.className || e.id).join(",") })()`))
	if err != nil || over != "" {
		t.Errorf("wider than the card at 1024 px: %q %v", over, err)
	}
	shot("/tmp/retention-console-narrow.png")
}
