package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/bot/request/requesttest"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/locales"
)

// The request service is what the router gives the download pages.
var _ PackageDesk = (*request.Service)(nil)

// countingDesk counts the calls that reach the service.
type countingDesk struct {
	PackageDesk
	mu    sync.Mutex
	calls int
}

func (d *countingDesk) ByToken(ctx context.Context, token, what string) (request.Request, error) {
	d.mu.Lock()
	d.calls++
	d.mu.Unlock()
	return d.PackageDesk.ByToken(ctx, token, what)
}

func (d *countingDesk) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

const (
	pkgBase   = "https://privacy.example.jp"
	pkgAlice  = "U0000000000000000000000000000a11ce"
	pkgBob    = "U00000000000000000000000000000b0b"
	pkgRefA   = "R-20261201-0001"
	pkgRefA0  = "R-20261110-0003"
	pkgRefB   = "R-20261201-0002"
	pkgScript = "<script>alert('x')</script>"
)

var pkgPDF = []byte("%PDF-1.4\n% drawing of the house\n")

type pkgHarness struct {
	svc      *requesttest.Desk // the request service, with its doubles
	desk     *countingDesk
	engine   *gin.Engine
	tokenA   string
	tokenB   string
	fileID   string
	htmlID   string
	expiresA time.Time
}

func pkgTime(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, tokyo)
	if err != nil {
		panic(err)
	}
	return t
}

// newPkgHarness runs a real request service over in-memory doubles: Alice has an older completed
// correction and a disclosure in progress, Bob a disclosure of his own. Files are attached to Alice's,
// and both disclosures are completed with electronic delivery, which sends each customer a link.
func newPkgHarness(t *testing.T) *pkgHarness {
	t.Helper()
	ctx := context.Background()
	seed := func(id, user string, kinds flows.RequestKind, status flows.RequestStatus, lang flows.Lang, received string) request.Request {
		at := pkgTime(received)
		return request.Request{ID: id, UserID: user, Kinds: kinds, Name: "name of " + user, Delivery: flows.DeliveryElectronic,
			Lang: lang, Status: status, ReceivedAt: at, DueAt: at.AddDate(0, 0, 14)}
	}
	h := &pkgHarness{svc: requesttest.NewDesk(t, request.Config{BaseURL: pkgBase, Location: tokyo, LinkDays: 14,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, requesttest.At(pkgTime("2026-12-04 10:00")), requesttest.Seed(
		seed(pkgRefA0, pkgAlice, flows.KindCorrection, flows.StatusCompleted, flows.Ja, "2026-11-10 09:30"),
		seed(pkgRefA, pkgAlice, flows.KindDisclosure|flows.KindPurposeNotice, flows.StatusInProgress, flows.Ja, "2026-12-01 11:00"),
		seed(pkgRefB, pkgBob, flows.KindDisclosure, flows.StatusInProgress, flows.En, "2026-12-01 12:00")))}
	h.svc.Holdings.Set(pkgAlice, request.CustomerData{
		Profile: request.Profile{Language: "ja", FirstSeen: pkgTime("2026-11-01 09:00"), LastSeen: pkgTime("2026-12-01 11:00"),
			Fields: map[string]string{"name": "岡山 花子", "phone": "+819012345678"}},
		Transcript: []request.TranscriptLine{
			{At: pkgTime("2026-11-01 09:00"), Role: bot.RoleCustomer, Kind: "text", Text: "個人情報の開示をお願いします"},
			{At: pkgTime("2026-11-01 09:00"), Role: bot.RoleBot, Kind: "text", Text: "承知しました。"},
			{At: pkgTime("2026-11-01 09:01"), Role: bot.RoleCustomer, Kind: "text", Text: pkgScript},
			{At: pkgTime("2026-11-01 09:02"), Role: bot.RoleCustomer, Kind: "text", Text: "=HYPERLINK(\"http://evil.example\")"},
			{At: pkgTime("2026-11-01 09:03"), Role: bot.RoleCustomer, Kind: "image"},
			{At: pkgTime("2026-11-01 09:04"), Role: bot.RoleStaff, Kind: "text", Text: "担当の佐藤です。\n宛名を訂正しました。"},
		},
		Consents: []request.ConsentRecord{{At: pkgTime("2026-11-02 10:00"), Action: "optout", Channels: []string{"phone", "mail"},
			Source: "line_chat", Reference: "OPT-20261102-0001", Wording: "宣伝・ご案内の停止を承ります。"}},
		Escalations: []request.EscalationRecord{{ID: "E-1", Reason: "complaint", Category: "data",
			Description: "請求書の宛名が違います", Status: "closed", Resolution: "corrected",
			CreatedAt: pkgTime("2026-11-03 10:00"), ClosedAt: pkgTime("2026-11-04 10:00")}},
	})
	h.svc.Holdings.Set(pkgBob, request.CustomerData{
		Profile:    request.Profile{Language: "en"},
		Transcript: []request.TranscriptLine{{At: pkgTime("2026-11-05 09:00"), Role: bot.RoleCustomer, Kind: "text", Text: "Bob's secret question"}},
		Escalations: []request.EscalationRecord{{ID: "E-2", Reason: "human", Description: "Bob's private complaint", Status: "queued",
			CreatedAt: pkgTime("2026-11-05 09:05")}},
	})
	staff := request.Actor{Kind: request.ActorStaff, ID: "officer@example.jp", Name: "佐藤"}
	r, err := h.svc.AttachFile(ctx, pkgRefA, "工事図面 2026.pdf", "application/pdf", pkgPDF, staff)
	if err != nil {
		t.Fatal(err)
	}
	h.fileID = r.Package.Files[0].ID
	r, err = h.svc.AttachFile(ctx, pkgRefA, "memo.html", "text/html", []byte("<script>alert(1)</script>"), staff)
	if err != nil {
		t.Fatal(err)
	}
	h.htmlID = r.Package.Files[1].ID
	for _, ref := range []string{pkgRefA, pkgRefB} {
		if _, err := h.svc.Transition(ctx, ref, request.Transition{To: flows.StatusCompleted, Actor: staff}); err != nil {
			t.Fatal(err)
		}
	}
	h.tokenA = pkgToken(t, h.svc.Raiser.LastLink(pkgAlice))
	h.tokenB = pkgToken(t, h.svc.Raiser.LastLink(pkgBob))
	a, _ := h.svc.Get(pkgRefA)
	h.expiresA = a.Package.ExpiresAt

	gin.SetMode(gin.ReleaseMode)
	h.desk = &countingDesk{PackageDesk: h.svc.Service}
	h.engine = gin.New()
	pages := &PackagePages{Desk: h.desk, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: h.svc.Clock.Now}
	pages.Register(h.engine)
	return h
}

func pkgToken(t *testing.T, link string) string {
	t.Helper()
	// The link asks LINE to open it in the phone's browser (downloads work there).
	rest, ok := strings.CutPrefix(link, pkgBase+"/package/")
	token, query, _ := strings.Cut(rest, "?")
	if !ok || !validPackageToken(token) || query != "openExternalBrowser=1" {
		t.Fatalf("link %q is not a package link", link)
	}
	return token
}

// paths are what a link opens, after /package/<token>: the page and each download.
func (h *pkgHarness) paths() []string {
	return []string{"", "/data.json", "/transcript.csv", "/files/" + h.fileID}
}

func (h *pkgHarness) get(path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.engine.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// getOK gets a path of a link that works: 200, with the link's headers and the content type want.
func (h *pkgHarness) getOK(t *testing.T, what, path, contentType string) *httptest.ResponseRecorder {
	t.Helper()
	rec := h.get(path)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: status %d: %s", what, rec.Code, rec.Body)
	}
	checkPkgHeaders(t, what, rec)
	if ct := rec.Header().Get("Content-Type"); ct != contentType {
		t.Errorf("%s: Content-Type %q, want %q", what, ct, contentType)
	}
	return rec
}

// checkPkgHeaders: no caching, no referrer, no indexing, no sniffing, no script, on every answer.
func checkPkgHeaders(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	for k, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s = %q, want %q", what, k, got, want)
		}
	}
	if !strings.Contains(h.Get("X-Robots-Tag"), "noindex") {
		t.Errorf("%s: X-Robots-Tag = %q", what, h.Get("X-Robots-Tag"))
	}
	csp := h.Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "default-src 'none'") || strings.Contains(csp, "script-src") ||
		strings.Contains(csp, "unsafe") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: Content-Security-Policy = %q", what, csp)
	}
}

// checkStyleAllowed: the page's inline style is exactly the one its CSP allows by hash.
func checkStyleAllowed(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	body := rec.Body.String()
	_, rest, ok1 := strings.Cut(body, "<style>")
	style, _, ok2 := strings.Cut(rest, "</style>")
	if !ok1 || !ok2 || strings.Count(body, "<style") != 1 || strings.Contains(body, "style=") {
		t.Fatal("the page should have exactly one <style> block and no style attributes")
	}
	sum := sha256.Sum256([]byte(style))
	if want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(rec.Header().Get("Content-Security-Policy"), want) {
		t.Errorf("the CSP does not allow the page's style: %q lacks %q", rec.Header().Get("Content-Security-Policy"), want)
	}
}

func TestPackagePage(t *testing.T) {
	h := newPkgHarness(t)
	rec := h.getOK(t, "page", "/package/"+h.tokenA, "text/html; charset=utf-8")
	checkStyleAllowed(t, rec)
	body := rec.Body.String()
	for _, want := range []string{
		`<html lang="ja">`, "保有個人データの開示", pkgRefA, "開示、利用目的の通知", // title, reference, kinds
		"2026年12月18日",                                // the link's expiry (completed 2026-12-04 + 14 days)
		"期限を過ぎると", "（あと14日）", "2026年12月4日 10:00 JST", // the explanation; generated
		pkgAlice, "日本語", "2026-11-01 09:00", "岡山 花子", "&#43;819012345678", "お名前", // profile
		"個人情報の開示をお願いします", "承知しました。", "担当の佐藤です。\n宛名を訂正しました。", "（画像を送信）", "自動応答", // transcript
		"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", // escaped
		"停止", "お電話でのご案内、ダイレクトメール（郵送）", "LINEのトーク", "OPT-20261102-0001", "宣伝・ご案内の停止を承ります。", // consent
		"苦情", "個人情報の取り扱い", "請求書の宛名が違います", "訂正いたしました", "対応済み", // escalation
		pkgRefA0, "訂正", "完了", "ご本人", "今回のご請求", "2026-12-15", // requests
		"工事図面 2026.pdf", "memo.html", "/package/" + h.tokenA + "/files/" + h.fileID, hex.EncodeToString(sha256sum(pkgPDF)), // files
		"/package/" + h.tokenA + "/data.json", "/package/" + h.tokenA + "/transcript.csv",
		"プライバシーポリシー第2項（3）", `href="/policy"`, // purpose notice
		"086-239-7675", "info@e-mana.co.jp", "岡山県岡山市北区今2-6-10", // contact
		`href="?lang=en"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(body), "<script") {
		t.Error("the page carries a script element")
	}
	for _, bobs := range []string{pkgBob, "Bob's secret question", "Bob&#39;s secret question", "Bob&#39;s private complaint", pkgRefB} {
		if strings.Contains(body, bobs) {
			t.Errorf("Alice's page shows Bob's %q", bobs)
		}
	}

	// English by choice; Bob's own page is in his language, with nothing of Alice's.
	en := h.get("/package/" + h.tokenA + "?lang=en").Body.String()
	for _, want := range []string{`<html lang="en">`, "Your personal data we hold", "18 December 2026", "Complaint", "Corrected",
		"Phone calls, Direct mail (post)", "(sent an image)", `href="?lang=ja"`} {
		if !strings.Contains(en, want) {
			t.Errorf("the English page lacks %q", want)
		}
	}
	bob := h.get("/package/" + h.tokenB).Body.String()
	for _, want := range []string{`<html lang="en">`, pkgRefB, "Bob&#39;s secret question", "Bob&#39;s private complaint", "Asked to talk to staff"} {
		if !strings.Contains(bob, want) {
			t.Errorf("Bob's page lacks %q", want)
		}
	}
	for _, alices := range []string{pkgAlice, "岡山 花子", "請求書の宛名が違います", pkgRefA, pkgRefA0, h.fileID} {
		if strings.Contains(bob, alices) {
			t.Errorf("Bob's page shows Alice's %q", alices)
		}
	}
	if h.get("/package/"+h.tokenA+"?lang=fr").Body.String() != body {
		// the clock stands still: the same page, in the request's language
		t.Error("an unknown ?lang should leave the request's language")
	}
}

func sha256sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

func TestPackageDataJSON(t *testing.T) {
	h := newPkgHarness(t)
	rec := h.getOK(t, "data.json", "/package/"+h.tokenA+"/data.json", "application/json; charset=utf-8")
	if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename="privacy-package-`+pkgRefA+`.json"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("a download's CSP should sandbox it: %q", rec.Header().Get("Content-Security-Policy"))
	}
	var pc request.PackageContent
	if err := json.Unmarshal(rec.Body.Bytes(), &pc); err != nil {
		t.Fatal(err)
	}
	if pc.Reference != pkgRefA || pc.Data.UserID != pkgAlice || len(pc.Data.Transcript) != 6 || pc.Data.Transcript[2].Text != pkgScript ||
		len(pc.Data.Consents) != 1 || pc.Data.Consents[0].Wording != "宣伝・ご案内の停止を承ります。" || len(pc.Data.Escalations) != 1 ||
		pc.Data.Profile.Fields["name"] != "岡山 花子" || !slices.Equal(pc.Kinds, []string{"disclosure", "purpose_notice"}) {
		t.Errorf("data.json: %+v", pc)
	}
	var refs []string
	for _, r := range pc.Requests {
		refs = append(refs, r.Reference)
	}
	if !slices.Equal(refs, []string{pkgRefA, pkgRefA0}) {
		t.Errorf("requests %v, want Alice's only", refs)
	}
	if len(pc.Files) != 2 || pc.Files[0].ID != h.fileID || pc.Files[0].SHA256 != hex.EncodeToString(sha256sum(pkgPDF)) {
		t.Errorf("files %+v", pc.Files)
	}
	if strings.Contains(rec.Body.String(), "Bob") || strings.Contains(rec.Body.String(), "<script>") {
		t.Error("data.json carries Bob's data or an unescaped <script>")
	}
}

func TestPackageTranscriptCSV(t *testing.T) {
	h := newPkgHarness(t)
	rec := h.getOK(t, "transcript.csv", "/package/"+h.tokenA+"/transcript.csv", "text/csv; charset=utf-8")
	if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename="privacy-transcript-`+pkgRefA+`.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	body, ok := bytes.CutPrefix(rec.Body.Bytes(), []byte("\xEF\xBB\xBF"))
	if !ok {
		t.Fatal("no BOM")
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 7 || !slices.Equal(rows[0], []string{"at", "role", "kind", "text"}) {
		t.Fatalf("rows %q", rows)
	}
	want := [][]string{
		{"2026-11-01T09:00:00+09:00", "customer", "text", "個人情報の開示をお願いします"},
		{"2026-11-01T09:00:00+09:00", "bot", "text", "承知しました。"},
		{"2026-11-01T09:01:00+09:00", "customer", "text", pkgScript},
		{"2026-11-01T09:02:00+09:00", "customer", "text", `'=HYPERLINK("http://evil.example")`}, // no formula
		{"2026-11-01T09:03:00+09:00", "customer", "image", ""},
		{"2026-11-01T09:04:00+09:00", "staff", "text", "担当の佐藤です。\n宛名を訂正しました。"},
	}
	for i, w := range want {
		if !slices.Equal(rows[i+1], w) {
			t.Errorf("row %d = %q, want %q", i+1, rows[i+1], w)
		}
	}
	if strings.Contains(string(body), "Bob") {
		t.Error("Alice's transcript carries Bob's")
	}
}

func TestPackageFileDownload(t *testing.T) {
	h := newPkgHarness(t)
	rec := h.getOK(t, "file", "/package/"+h.tokenA+"/files/"+h.fileID, "application/pdf")
	if !bytes.Equal(rec.Body.Bytes(), pkgPDF) {
		t.Errorf("file content %q", rec.Body)
	}
	cd := rec.Header().Get("Content-Disposition")
	if want := `attachment; filename="file-` + h.fileID + `.pdf"; filename*=UTF-8''%E5%B7%A5%E4%BA%8B%E5%9B%B3%E9%9D%A2%202026.pdf`; cd != want {
		t.Errorf("Content-Disposition %q, want %q", cd, want)
	}
	if disp, params, err := mime.ParseMediaType(cd); err != nil || disp != "attachment" || params["filename"] != "工事図面 2026.pdf" {
		t.Errorf("Content-Disposition reads as %q %q (%v)", disp, params, err)
	}
	if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("a file's CSP should sandbox it: %q", rec.Header().Get("Content-Security-Policy"))
	}

	// An HTML file is only ever a download.
	rec = h.get("/package/" + h.tokenA + "/files/" + h.htmlID)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/octet-stream" ||
		rec.Header().Get("Content-Disposition") != `attachment; filename="memo.html"` {
		t.Errorf("HTML file: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Disposition"))
	}

	// A file of another request, an unknown one, a malformed ID: not found, the link still works.
	for _, id := range []string{"0123456789abcdef", "..", "a%2Fb", strings.Repeat("a", 65)} {
		if rec := h.get("/package/" + h.tokenA + "/files/" + id); rec.Code != http.StatusNotFound {
			t.Errorf("file %q: status %d", id, rec.Code)
		}
	}
	if rec := h.get("/package/" + h.tokenB + "/files/" + h.fileID); rec.Code != http.StatusNotFound || bytes.Contains(rec.Body.Bytes(), pkgPDF) {
		t.Errorf("Bob's link opens Alice's file: %d", rec.Code)
	}
}

// goneBody is the one answer to every link that does not work.
func goneBody(t *testing.T, h *pkgHarness) string {
	t.Helper()
	rec := h.get("/package/" + strings.Repeat("A", 43))
	if rec.Code != http.StatusGone {
		t.Fatalf("unknown link: status %d", rec.Code)
	}
	return rec.Body.String()
}

func checkGone(t *testing.T, h *pkgHarness, what, path, gone string) {
	t.Helper()
	rec := h.get(path)
	if rec.Code != http.StatusGone {
		t.Errorf("%s %s: status %d, want 410", what, path, rec.Code)
		return
	}
	checkPkgHeaders(t, what, rec)
	checkStyleAllowed(t, rec)
	if rec.Body.String() != gone {
		t.Errorf("%s: the 410 page differs from an unknown link's", what)
	}
	if cd := rec.Header().Get("Content-Disposition"); cd != "" {
		t.Errorf("%s: Content-Disposition %q on the 410 page", what, cd)
	}
}

func TestPackageGonePage(t *testing.T) {
	h := newPkgHarness(t)
	gone := goneBody(t, h)
	for _, want := range []string{"このリンクはご利用いただけません", "「申請状況」", "This link no longer works", "&#34;request status&#34;",
		"086-239-7675", "info@e-mana.co.jp", `lang="ja"`, `lang="en"`} {
		if !strings.Contains(gone, want) {
			t.Errorf("the 410 page lacks %q", want)
		}
	}
}

func TestPackageLinkExpires(t *testing.T) {
	h := newPkgHarness(t)
	gone := goneBody(t, h)
	h.svc.Clock.Add(h.expiresA.Sub(h.svc.Clock.Now()) - time.Minute)
	if rec := h.get("/package/" + h.tokenA); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "（あと1日）") {
		t.Fatalf("a minute before expiry: status %d", rec.Code)
	}
	h.svc.Clock.Add(time.Minute)
	for _, p := range h.paths() {
		checkGone(t, h, "expired", "/package/"+h.tokenA+p, gone)
	}
	if rec := h.get("/package/" + h.tokenB); rec.Code != http.StatusGone {
		t.Errorf("Bob's link, as old: status %d", rec.Code)
	}
}

func TestPackageLinkRevoked(t *testing.T) {
	h := newPkgHarness(t)
	gone := goneBody(t, h)
	if _, err := h.svc.RevokeLink(context.Background(), pkgRefA, request.Actor{Kind: request.ActorStaff, ID: "officer@example.jp"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range h.paths() {
		checkGone(t, h, "revoked", "/package/"+h.tokenA+p, gone)
	}
	if rec := h.get("/package/" + h.tokenB); rec.Code != http.StatusOK {
		t.Errorf("Bob's link after Alice's was revoked: status %d", rec.Code)
	}
}

func TestPackageMalformedToken(t *testing.T) {
	h := newPkgHarness(t)
	gone := goneBody(t, h) // well-formed, unknown: asked, refused
	asked := h.desk.count()
	for _, tok := range []string{
		"x", strings.Repeat("A", 42), strings.Repeat("A", 44), h.tokenA[:42], h.tokenA + "A",
		strings.Repeat("A", 42) + "B", // non-zero padding bits: not the canonical encoding of any token
		strings.Repeat("A", 42) + "=", strings.Repeat("A", 42) + "+", strings.Repeat("A", 42) + "~", "%E3%81%82" + strings.Repeat("A", 40),
	} {
		for _, p := range h.paths() {
			checkGone(t, h, "malformed "+tok, "/package/"+tok+p, gone)
		}
	}
	if n := h.desk.count() - asked; n != 0 {
		t.Errorf("malformed tokens reached the service %d times", n)
	}
}

// TestPackageUsesAudited: every use of the link is one call of ByToken, audited with what was
// downloaded, and counted; nothing else is.
func TestPackageUsesAudited(t *testing.T) {
	h := newPkgHarness(t)
	uses := []struct{ path, what string }{
		{"", "page"}, {"?lang=en", "page"}, {"/data.json", "data.json"}, {"/transcript.csv", "transcript.csv"},
		{"/files/" + h.fileID, "file:" + h.fileID}, {"/files/0123456789abcdef", "file:0123456789abcdef"},
	}
	for _, u := range uses {
		h.get("/package/" + h.tokenA + u.path)
	}
	h.get("/package/" + h.tokenA + "/files/" + strings.Repeat("z", 65)) // malformed file ID: never asked
	h.get("/package/" + strings.Repeat("A", 43))                        // unknown link: refused, not audited
	h.get("/package/abc")                                               // malformed link
	got := h.svc.Audit.Of("package.download")                           // "target detail"
	if len(got) != len(uses) {
		t.Fatalf("audit entries %q, want %d", got, len(uses))
	}
	for i, u := range uses {
		if got[i] != pkgRefA+" "+u.what {
			t.Errorf("audit %d = %q, want %q", i, got[i], u.what)
		}
	}
	r, err := h.svc.Get(pkgRefA)
	if err != nil {
		t.Fatal(err)
	}
	if r.Package.Downloads != len(uses) {
		t.Errorf("downloads %d, want %d", r.Package.Downloads, len(uses))
	}
	if n := h.desk.count(); n != len(uses)+1 {
		t.Errorf("ByToken called %d times, want %d", n, len(uses)+1)
	}
	if b, _ := h.svc.Get(pkgRefB); b.Package.Downloads != 0 {
		t.Errorf("Bob's downloads %d", b.Package.Downloads)
	}
}

// TestPackageServiceDown: a link that works, while the request service's store does not answer, gets
// the bilingual 503 page, not the 410 of a link that does not work.
func TestPackageServiceDown(t *testing.T) {
	h := newPkgHarness(t)
	h.svc.Store.SetFail(errors.New("store down"))
	for _, p := range h.paths() {
		rec := h.get("/package/" + h.tokenA + p)
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "ただいま表示できません") ||
			!strings.Contains(rec.Body.String(), "Please try again") {
			t.Errorf("%q: status %d: %s", p, rec.Code, rec.Body)
		}
		checkPkgHeaders(t, "503", rec)
	}
	h.svc.Store.SetFail(nil)
	if rec := h.get("/package/" + h.tokenA); rec.Code != http.StatusOK {
		t.Errorf("after the store is back: status %d", rec.Code)
	}
}

// TestPackageCatalog: every word the pages use is in both catalogs, Japanese in Japanese and English
// in English, and every code of the package's vocabulary has a name.
func TestPackageCatalog(t *testing.T) {
	ids, err := locales.MessageIDs()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	names, _ := fs.Glob(packageFS, "package_templates/*.html")
	for _, n := range names {
		b, _ := fs.ReadFile(packageFS, n)
		for _, m := range templateCallRe.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	sources, _ := filepath.Glob("package*.go")
	for _, f := range sources {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`"(package\.[a-z0-9_]+[a-z0-9])"`).FindAllStringSubmatch(string(src), -1) {
			if m[1] != "package.html" { // the template's file name
				used[m[1]] = true
			}
		}
	}
	for _, key := range []string{"gone", "notfound", "unavailable"} {
		used["package."+key+"_title"], used["package."+key+"_body"] = true, true
	}
	codes := map[string][]string{
		"status":     {},
		"kind":       flows.KindsAll.Names(),
		"requester":  {string(flows.RequesterSelf), string(flows.RequesterAgent), string(flows.RequesterLegal)},
		"who":        {bot.RoleCustomer, bot.RoleBot, bot.RoleStaff, bot.RoleNote, bot.RoleSystem},
		"action":     {string(flows.ConsentOptOut), string(flows.ConsentOptIn)},
		"source":     {string(flows.SourceChat), string(flows.SourceBlock), string(flows.SourceUnblock), string(flows.SourceStaff)},
		"reason":     {"complaint", "human", "misses"},
		"category":   {"data", "conduct", "service", "other"},
		"escalation": {"queued", "assigned", "closed", "cancelled"},
		"resolution": append(slices.Clone(resolutions), "handed_back", "handed_back_to_the_bot", "cancelled_by_the_customer"),
		"lang":       {"ja", "en"},
		"media":      {"image", "video", "audio", "file", "location", "sticker"},
		"field":      {"name", "phone", "email", "postal", "address", "customer"},
	}
	for _, s := range flows.StatusList() {
		codes["status"] = append(codes["status"], string(s))
	}
	for _, c := range flows.ChannelList() {
		codes["channel"] = append(codes["channel"], c.Name())
	}
	for kind, cs := range codes {
		for _, c := range cs {
			used["package."+kind+"_"+c] = true
		}
	}
	if len(used) < 100 {
		t.Fatalf("only %d IDs found: the scan is broken", len(used))
	}
	for id := range used {
		for _, lang := range packageLangs {
			if !slices.Contains(ids[lang], id) {
				t.Errorf("%q is missing in the %s catalog", id, lang)
			}
		}
	}
	b, err := locales.NewBundle()
	if err != nil {
		t.Fatal(err)
	}
	japanese := func(s string) bool {
		return strings.ContainsFunc(s, func(r rune) bool { return unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) })
	}
	for _, lang := range packageLangs {
		loc := i18n.NewLocalizer(b, lang)
		for _, id := range ids[lang] {
			if !strings.HasPrefix(id, "package.") || id == "package.col_sha256" || id == "package.sep" || id == "package.lang_switch" {
				continue
			}
			s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: 2,
				TemplateData: map[string]any{"Ref": "R", "Expires": "E", "Count": 2, "Kind": "k", "N": 1}})
			if err != nil || strings.TrimSpace(s) == "" {
				t.Errorf("%s %s: %q %v", lang, id, s, err)
				continue
			}
			if (lang == "ja") != japanese(s) {
				t.Errorf("%s %s is not in its language: %q", lang, id, s)
			}
			if !used[id] {
				t.Errorf("%s %s is in the catalog but the pages do not use it", lang, id)
			}
		}
	}
}
