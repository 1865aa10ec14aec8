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
	"fmt"
	"html/template"
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

// What the customers told the desk, their photos, and a link of an earlier package in a notice.
const (
	pkgAliceName    = "岡山 花子"
	pkgAliceAddress = "岡山県岡山市北区今1-2-3"
	pkgBobName      = "Bob Smith"
	pkgBobAddress   = "1-1 Omotecho, Kita-ku, Okayama"
	pkgOldLink      = pkgBase + "/package/OLDTOKENOLDTOKENOLDTOKENOLDTOKENOLDTOKEN123?openExternalBrowser=1"
)

var (
	pkgAlicePhoto = []byte("\x89PNG\r\n\x1a\nALICE-PASSPORT-PIXELS")
	pkgBobPhoto   = []byte("\x89PNG\r\n\x1a\nBOB-LICENCE-PIXELS")
)

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
	// What each customer told the desk in their requests: identity, representative, details, the
	// summary they confirmed (its catalog data).
	a0 := seed(pkgRefA0, pkgAlice, flows.KindCorrection|flows.KindSuspension, flows.StatusCompleted, flows.Ja, "2026-11-10 09:30")
	a0.Requester, a0.RepKind, a0.RepName = flows.RequesterLegal, flows.RepParent, "岡山 太郎"
	a0.Correction, a0.Target = "宛名の漢字を「花子」に訂正してください", "ダイレクトメールの送付先"
	a0.Ground, a0.GroundText, a0.DocsBy, a0.Delivery = flows.GroundOther, "引っ越したため", flows.DocsPost, flows.DeliveryNone
	a0.WordingData = map[string]string{"K_correction": "1", "K_suspension": "1", "Correction": a0.Correction, "Target": a0.Target,
		"G": "other", "GroundText": a0.GroundText, "Who": "legal_representative", "RepKind": "parent", "RepName": a0.RepName,
		"Name": pkgAliceName, "Address": pkgAliceAddress, "Phone": "090-1111-2222", "DocsBy": "post", "Docs": "0", "Delivery": ""}
	a := seed(pkgRefA, pkgAlice, flows.KindDisclosure|flows.KindPurposeNotice, flows.StatusInProgress, flows.Ja, "2026-12-01 11:00")
	a.DocsBy = flows.DocsChat
	a.WordingData = map[string]string{"K_disclosure": "1", "K_purpose_notice": "1", "Who": "self", "Name": pkgAliceName,
		"Address": pkgAliceAddress, "Phone": "090-1111-2222", "DocsBy": "chat", "Docs": "2", "Delivery": "electronic"}
	b := seed(pkgRefB, pkgBob, flows.KindDisclosure, flows.StatusInProgress, flows.En, "2026-12-01 12:00")
	b.Name, b.Address, b.Phone, b.DocsBy = pkgBobName, pkgBobAddress, "+819033334444", flows.DocsChat
	b.WordingData = map[string]string{"K_disclosure": "1", "Who": "self", "Name": pkgBobName, "Address": pkgBobAddress,
		"Phone": "090-3333-4444", "DocsBy": "chat", "Docs": "1", "Delivery": "electronic"}
	for _, r := range []*request.Request{&a0, &a} {
		r.Name, r.Address, r.Phone = pkgAliceName, pkgAliceAddress, "+819011112222"
	}
	// Their identity documents: Alice's photo kept (sealed), one refused, an older one deleted; Bob's.
	doc := func(id, user, ref string, seq int, at string) request.Document {
		return request.Document{ID: id, UserID: user, Draft: "d-" + ref, MessageID: "m-" + id, Seq: seq, CreatedAt: pkgTime(at)}
	}
	refused := doc("ev-a2.0", pkgAlice, pkgRefA, 2, "2026-12-01 11:06")
	refused.Status, refused.Problem = request.DocRejected, flows.DocNotImage
	deleted := doc("ev-a0.0", pkgAlice, pkgRefA0, 1, "2026-11-10 09:35")
	deleted.Status, deleted.ContentType, deleted.Size, deleted.DeletedAt = request.DocDeleted, "image/jpeg", 2<<20, pkgTime("2026-11-12 10:00")
	aliceDoc, bobDoc := doc("ev-a1.0", pkgAlice, pkgRefA, 1, "2026-12-01 11:05"), doc("ev-b1.0", pkgBob, pkgRefB, 1, "2026-12-01 12:05")
	aliceDoc.ContentType, bobDoc.ContentType = "image/png", "image/png"
	h := &pkgHarness{svc: requesttest.NewDesk(t, request.Config{BaseURL: pkgBase, Location: tokyo, LinkDays: 14,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, requesttest.At(pkgTime("2026-12-04 10:00")), requesttest.Seed(a0, a, b),
		requesttest.SealedDocument(aliceDoc, pkgAlicePhoto), requesttest.SealedDocument(bobDoc, pkgBobPhoto),
		requesttest.Documents(refused, deleted))}
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
			// What LINE and the service record as codes: buttons tapped, the service's own events.
			{At: pkgTime("2026-11-01 09:05"), Role: bot.RoleCustomer, Kind: "postback", Text: "do=rq&a=kind&d=D1&k=disclosure"},
			{At: pkgTime("2026-11-01 09:06"), Role: bot.RoleCustomer, Kind: "postback", Text: "do=human"},
			{At: pkgTime("2026-11-01 09:07"), Role: bot.RoleCustomer, Kind: "postback", Text: "do=nothing-we-offer"},
			{At: pkgTime("2026-11-01 09:08"), Role: bot.RoleCustomer, Kind: "internal", Text: flows.RequestNoticePostback(flows.RequestNotice{
				What: flows.NoticeStatus, Ref: pkgRefA0, Status: flows.StatusDocumentsNeeded, Reason: "保険証の裏面"})},
			{At: pkgTime("2026-11-01 09:09"), Role: bot.RoleCustomer, Kind: "internal", Text: flows.RequestNoticePostback(flows.RequestNotice{
				What: flows.NoticeStatus, Ref: pkgRefA0, Status: flows.StatusCompleted, Link: pkgOldLink, Expires: "2026-11-24"})},
			{At: pkgTime("2026-11-01 09:10"), Role: bot.RoleCustomer, Kind: "internal", Text: flows.JoinedPostback("佐藤")},
			{At: pkgTime("2026-11-01 09:11"), Role: bot.RoleCustomer, Kind: "internal", Text: flows.ResumePostback("handback", "E-1", false)},
			{At: pkgTime("2026-11-01 09:12"), Role: bot.RoleSystem, Kind: "text", Text: "escalated: complaint"},
			{At: pkgTime("2026-11-01 09:13"), Role: bot.RoleSystem, Kind: "text", Text: "closed by 佐藤: corrected"},
			{At: pkgTime("2026-11-01 09:14"), Role: bot.RoleCustomer, Kind: "follow"},
			{At: pkgTime("2026-11-01 09:15"), Role: bot.RoleCustomer, Kind: "unfollow"},
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
	done, _ := h.svc.Get(pkgRefA)
	h.expiresA = done.Package.ExpiresAt

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
	if pc.Reference != pkgRefA || pc.Data.UserID != pkgAlice || len(pc.Data.Transcript) != len(pkgWantLines["ja"]) || pc.Data.Transcript[2].Text != pkgScript ||
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
	// Every key is lowerCamel, and nothing tells the customer which staff member did what.
	var doc any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	checkLowerCamel(t, "", doc)
	for _, staff := range []string{"officer@example.jp", "addedBy", "AddedBy"} {
		if strings.Contains(rec.Body.String(), staff) {
			t.Errorf("data.json carries %q", staff)
		}
	}
	// The console still knows who attached a file (the Go field).
	if r, _ := h.svc.Get(pkgRefA); r.Package.Files[0].AddedBy != "officer@example.jp" {
		t.Errorf("the request lost who attached the file: %q", r.Package.Files[0].AddedBy)
	}
}

var lowerCamelRe = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)

// checkLowerCamel walks a decoded JSON document: every object key is lowerCamel (the keys of the
// profile's fields are data, the paths of the conversation's fields, and are not checked).
func checkLowerCamel(t *testing.T, path string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if !lowerCamelRe.MatchString(k) {
				t.Errorf("data.json key %s.%s is not lowerCamel", path, k)
			}
			if k != "fields" {
				checkLowerCamel(t, path+"."+k, x)
			}
		}
	case []any:
		for i, x := range v {
			checkLowerCamel(t, fmt.Sprintf("%s[%d]", path, i), x)
		}
	}
}

// pkgCSVRows reads a transcript.csv: BOM, header, rows.
func pkgCSVRows(t *testing.T, rec *httptest.ResponseRecorder) [][]string {
	t.Helper()
	body, ok := bytes.CutPrefix(rec.Body.Bytes(), []byte("\xEF\xBB\xBF"))
	if !ok {
		t.Fatal("no BOM")
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], []string{"at", "role", "kind", "text"}) {
		t.Fatalf("rows %q", rows)
	}
	return rows[1:]
}

// pkgWantLines is Alice's transcript as the customer saw it, in each language: role, kind, text.
var pkgWantLines = map[string][][3]string{
	"ja": {
		{"customer", "text", "個人情報の開示をお願いします"},
		{"bot", "text", "承知しました。"},
		{"customer", "text", pkgScript},
		{"customer", "text", `'=HYPERLINK("http://evil.example")`}, // no formula
		{"customer", "image", "（画像を送信）"},
		{"staff", "text", "担当の佐藤です。\n宛名を訂正しました。"},
		{"customer", "button", "開示"},
		{"customer", "button", "担当者と話す"},
		{"customer", "button", "ボタンを選択しました。"},
		{"system", "request_notice", "受付番号 " + pkgRefA0 + " のご請求の状況が「本人確認書類をお待ちしています」になったことをお知らせしました。"},
		{"system", "request_notice", "受付番号 " + pkgRefA0 + " のご請求へのご回答として、ダウンロード用のリンクをお送りしました。"},
		{"system", "staff_joined", "担当者（佐藤）がトークに参加しました。"},
		{"system", "chat_resumed", "担当者とのやりとりが終わり、自動応答に戻りました。"},
		{"system", "escalated", "担当者へのお引き継ぎを受け付けました（苦情）。"},
		{"system", "closed", "担当者（佐藤）がお問い合わせへの対応を終えました（対応結果：訂正いたしました）。"},
		{"customer", "follow", "友だち追加しました。"},
		{"customer", "unfollow", "ブロックしました。"},
	},
	"en": {
		{"customer", "text", "個人情報の開示をお願いします"},
		{"bot", "text", "承知しました。"},
		{"customer", "text", pkgScript},
		{"customer", "text", `'=HYPERLINK("http://evil.example")`},
		{"customer", "image", "(sent an image)"},
		{"staff", "text", "担当の佐藤です。\n宛名を訂正しました。"},
		{"customer", "button", "Disclosure"},
		{"customer", "button", "Talk to staff"},
		{"customer", "button", "Tapped a button."},
		{"system", "request_notice", "We told you that request " + pkgRefA0 + " is now: Waiting for identity documents."},
		{"system", "request_notice", "We sent you the download link that answers request " + pkgRefA0 + "."},
		{"system", "staff_joined", "A member of staff (佐藤) joined the chat."},
		{"system", "chat_resumed", "The chat with staff ended, and the automatic replies took over again."},
		{"system", "escalated", "Your chat was passed to our staff (Complaint)."},
		{"system", "closed", "A member of staff (佐藤) closed your enquiry (outcome: Corrected)."},
		{"customer", "follow", "Added us as a friend."},
		{"customer", "unfollow", "Blocked our account."},
	},
}

// pkgRaw are what the transcript stores that the customer must never get back as it is: button and
// event data, the escalation manager's English notes, the token of an earlier link.
var pkgRaw = []string{"do=", "rnotice", "hjoined", "hresume", "escalated: ", "closed by ", "OLDTOKEN", "postback", `"internal"`}

func TestPackageTranscriptCSV(t *testing.T) {
	h := newPkgHarness(t)
	rec := h.getOK(t, "transcript.csv", "/package/"+h.tokenA+"/transcript.csv", "text/csv; charset=utf-8")
	if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename="privacy-transcript-`+pkgRefA+`.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if strings.Contains(rec.Body.String(), "Bob") {
		t.Error("Alice's transcript carries Bob's")
	}
	ats := []string{"09:00", "09:00", "09:01", "09:02", "09:03", "09:04", "09:05", "09:06", "09:07", "09:08", "09:09", "09:10",
		"09:11", "09:12", "09:13", "09:14", "09:15"}
	for _, lang := range []string{"ja", "en"} {
		path := "/package/" + h.tokenA + "/transcript.csv"
		if lang == "en" {
			path += "?lang=en"
		}
		rec := h.getOK(t, "transcript.csv "+lang, path, "text/csv; charset=utf-8")
		rows := pkgCSVRows(t, rec)
		want := pkgWantLines[lang]
		if len(rows) != len(want) {
			t.Fatalf("%s: %d rows, want %d: %q", lang, len(rows), len(want), rows)
		}
		for i, w := range want {
			if row := []string{"2026-11-01T" + ats[i] + ":00+09:00", w[0], w[1], w[2]}; !slices.Equal(rows[i], row) {
				t.Errorf("%s row %d = %q, want %q", lang, i+1, rows[i], row)
			}
		}
		for _, raw := range pkgRaw {
			if strings.Contains(rec.Body.String(), raw) {
				t.Errorf("%s: transcript.csv carries %q", lang, raw)
			}
		}
	}
}

// TestPackageDataJSONInWords: data.json's transcript is the same lines as the CSV, in the package's
// language (the request's, or the one asked for), with machine-readable kinds and no raw data.
func TestPackageDataJSONInWords(t *testing.T) {
	h := newPkgHarness(t)
	for _, c := range []struct{ query, lang string }{{"", "ja"}, {"?lang=en", "en"}} {
		rec := h.getOK(t, "data.json "+c.lang, "/package/"+h.tokenA+"/data.json"+c.query, "application/json; charset=utf-8")
		var pc request.PackageContent
		if err := json.Unmarshal(rec.Body.Bytes(), &pc); err != nil {
			t.Fatal(err)
		}
		if pc.Language != c.lang {
			t.Errorf("%s: language %q", c.lang, pc.Language)
		}
		want := pkgWantLines[c.lang]
		if len(pc.Data.Transcript) != len(want) {
			t.Fatalf("%s: %d lines, want %d", c.lang, len(pc.Data.Transcript), len(want))
		}
		for i, w := range want {
			l := pc.Data.Transcript[i]
			text := w[2]
			if i == 3 {
				text = `=HYPERLINK("http://evil.example")` // neutralised in the CSV only
			}
			if l.Role != w[0] || l.Kind != w[1] || l.Text != text {
				t.Errorf("%s line %d = %s %s %q, want %q", c.lang, i, l.Role, l.Kind, l.Text, w)
			}
		}
		for _, raw := range pkgRaw {
			if strings.Contains(rec.Body.String(), raw) {
				t.Errorf("%s: data.json carries %q", c.lang, raw)
			}
		}
	}
	// Bob's request is in English: so are his package's texts.
	rec := h.getOK(t, "Bob's data.json", "/package/"+h.tokenB+"/data.json", "application/json; charset=utf-8")
	if !strings.Contains(rec.Body.String(), `"language": "en"`) {
		t.Error("Bob's data.json is not in his language")
	}
}

// TestPackagePageTranscriptInWords: the page shows the same words (the label tapped, the notices),
// never the data behind them.
func TestPackagePageTranscriptInWords(t *testing.T) {
	h := newPkgHarness(t)
	for _, c := range []struct{ query, lang, tapped string }{{"", "ja", "（ボタンを選択）"}, {"?lang=en", "en", "(tapped a button)"}} {
		body := h.get("/package/" + h.tokenA + c.query).Body.String()
		for _, w := range pkgWantLines[c.lang][6:] {
			if !strings.Contains(body, template.HTMLEscapeString(w[2])) {
				t.Errorf("%s: the page lacks %q", c.lang, w[2])
			}
		}
		if !strings.Contains(body, c.tapped) {
			t.Errorf("%s: the page does not say a button was tapped", c.lang)
		}
		for _, raw := range pkgRaw {
			if strings.Contains(body, raw) {
				t.Errorf("%s: the page shows %q", c.lang, raw)
			}
		}
	}
}

// TestPackageRequestsHoldWhatTheCustomerTold: the package gives back what the desk holds in the
// customer's own request records (identity, representative, details, the documents' metadata, the
// summary they confirmed, worded in the request's language) and nothing of another customer's, and
// never the documents themselves.
func TestPackageRequestsHoldWhatTheCustomerTold(t *testing.T) {
	h := newPkgHarness(t)
	rec := h.getOK(t, "data.json", "/package/"+h.tokenA+"/data.json", "application/json; charset=utf-8")
	raw := rec.Body.String()
	var pc request.PackageContent
	if err := json.Unmarshal(rec.Body.Bytes(), &pc); err != nil {
		t.Fatal(err)
	}
	if len(pc.Requests) != 2 {
		t.Fatalf("requests %+v", pc.Requests)
	}
	a, a0 := pc.Requests[0], pc.Requests[1]
	if a.Reference != pkgRefA || a.Name != pkgAliceName || a.Address != pkgAliceAddress || a.Phone != "+819011112222" ||
		a.Requester != "self" || a.DocumentsBy != "chat" || a.Delivery != "electronic" || a.Language != "ja" {
		t.Errorf("this request: %+v", a)
	}
	if a0.RepresentativeKind != "parent" || a0.RepresentativeName != "岡山 太郎" || a0.Requester != "legal_representative" ||
		a0.Correction != "宛名の漢字を「花子」に訂正してください" || a0.Target != "ダイレクトメールの送付先" ||
		a0.Ground != "other" || a0.GroundText != "引っ越したため" || a0.Name != pkgAliceName {
		t.Errorf("the earlier request: %+v", a0)
	}
	// The documents: metadata only.
	wantDocs := []request.DocumentInfo{
		{Number: 1, Status: request.DocStored, ContentType: "image/png", Size: len(pkgAlicePhoto), ReceivedAt: pkgTime("2026-12-01 11:05")},
		{Number: 2, Status: request.DocRejected, Problem: flows.DocNotImage, ReceivedAt: pkgTime("2026-12-01 11:06")},
	}
	if len(a.Documents) != len(wantDocs) {
		t.Fatalf("documents %+v", a.Documents)
	}
	for i, w := range wantDocs {
		if d := a.Documents[i]; d.Number != w.Number || d.Status != w.Status || d.Problem != w.Problem ||
			d.ContentType != w.ContentType || d.Size != w.Size || !d.ReceivedAt.Equal(w.ReceivedAt) || !d.DeletedAt.IsZero() {
			t.Errorf("document %d = %+v, want %+v", i, d, w)
		}
	}
	if len(a0.Documents) != 1 || a0.Documents[0].Status != request.DocDeleted || a0.Documents[0].Size != 2<<20 ||
		!a0.Documents[0].DeletedAt.Equal(pkgTime("2026-11-12 10:00")) {
		t.Errorf("the earlier request's documents %+v", a0.Documents)
	}
	for _, secret := range []string{"ALICE-PASSPORT-PIXELS", base64.StdEncoding.EncodeToString(pkgAlicePhoto), "m-ev-a1.0",
		"ev-a1.0", "sealed", "keyId", hex.EncodeToString(sha256sum(pkgAlicePhoto))} {
		if strings.Contains(raw, secret) {
			t.Errorf("data.json carries the document's %q", secret)
		}
	}
	// The summary they confirmed, as they read it (not its catalog ID).
	if strings.Contains(raw, "request.summary") || strings.Contains(raw, "confirmedSummaryId") {
		t.Error("data.json carries the summary's catalog ID")
	}
	for _, want := range []string{pkgAliceName, pkgAliceAddress, "開示", "利用目的の通知"} {
		if !strings.Contains(a.ConfirmedSummary, want) {
			t.Errorf("the confirmed summary lacks %q: %q", want, a.ConfirmedSummary)
		}
	}
	if !strings.Contains(a0.ConfirmedSummary, "岡山 太郎") || !strings.Contains(a0.ConfirmedSummary, "引っ越したため") {
		t.Errorf("the earlier confirmed summary: %q", a0.ConfirmedSummary)
	}
	// Worded in the request's language, whatever language the package is read in.
	var en request.PackageContent
	if err := json.Unmarshal(h.get("/package/"+h.tokenA+"/data.json?lang=en").Body.Bytes(), &en); err != nil {
		t.Fatal(err)
	}
	if en.Requests[0].ConfirmedSummary != a.ConfirmedSummary {
		t.Error("the confirmed summary changed with the package's language")
	}

	// The page says it in words.
	page := h.get("/package/" + h.tokenA).Body.String()
	for _, want := range []string{pkgAliceAddress, "09011112222", "岡山 太郎", "親権者", "法定代理人",
		"宛名の漢字を「花子」に訂正してください", "ダイレクトメールの送付先", "その他", "引っ越したため", "写しを郵送", "このトークで写真を送信",
		"電子（このトークでダウンロード用のリンクを受け取る）", "1枚目", "2枚目", "PNG画像", "保管しています",
		"使用できませんでした（JPEG・PNG・WebPの画像ではありませんでした）", "画像は削除済みです", "JPEG画像", "2.0 MB",
		"2026-11-12 10:00", "ご請求の際にご確認いただいた内容", template.HTMLEscapeString(a.ConfirmedSummary)} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "request.summary") || strings.Contains(page, "ALICE-PASSPORT") {
		t.Error("the page shows the summary's ID or a document's content")
	}

	// Bob's package holds his, and nothing of Alice's; Alice's nothing of his.
	bob := h.get("/package/" + h.tokenB + "/data.json").Body.String()
	bobPage := h.get("/package/" + h.tokenB).Body.String()
	for _, his := range []string{pkgBobName, pkgBobAddress, "+819033334444"} {
		if !strings.Contains(bob, his) {
			t.Errorf("Bob's data.json lacks his %q", his)
		}
		if strings.Contains(raw, his) || strings.Contains(page, his) {
			t.Errorf("Alice's package carries Bob's %q", his)
		}
	}
	if !strings.Contains(bobPage, "Name: "+pkgBobName) || !strings.Contains(bobPage, "09033334444") {
		t.Error("Bob's page lacks his confirmed summary or phone")
	}
	// Bob's conversation holds no fields: the page says so, and that stays true, for what he told
	// the desk in his request is on the page.
	for _, want := range []string{"Besides that, we hold nothing you gave us in the middle of a conversation",
		"What you told us in your personal-data requests", "<td class=\"long\">" + pkgBobName + "</td>",
		"<td class=\"long\">" + pkgBobAddress + "</td>"} {
		if !strings.Contains(bobPage, want) {
			t.Errorf("Bob's page lacks %q", want)
		}
	}
	for _, hers := range []string{pkgAliceName, pkgAliceAddress, "+819011112222", "09011112222", "岡山 太郎", "引っ越したため", pkgRefA0} {
		if strings.Contains(bob, hers) || strings.Contains(bobPage, hers) {
			t.Errorf("Bob's package carries Alice's %q", hers)
		}
	}
	if strings.Contains(bob, "BOB-LICENCE") || strings.Contains(bob, `"number": 2`) {
		t.Error("Bob's data.json carries his document's content or Alice's documents")
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
	for _, want := range []string{"このリンクはご利用いただけません", "新しいリンクが必要な旨をお送りください",
		"「担当者と話す」", "担当者が確認のうえ、新しいリンクをトークでお送りします。", "This link no longer works",
		"tell us you need a new link", "&#34;Talk to staff&#34;", "Our staff will check and send you a new link in the chat.",
		"086-239-7675", "info@e-mana.co.jp", `lang="ja"`, `lang="en"`} {
		if !strings.Contains(gone, want) {
			t.Errorf("the 410 page lacks %q", want)
		}
	}
	// The chat cannot issue a link: the page must not send the customer to a keyword that cannot.
	for _, wrong := range []string{"申請状況", "request status"} {
		if strings.Contains(gone, wrong) {
			t.Errorf("the 410 page still tells the customer to send %q", wrong)
		}
	}
}

func TestPackageLinkExpires(t *testing.T) {
	h := newPkgHarness(t)
	gone := goneBody(t, h)
	h.svc.Clock.Add(h.expiresA.Sub(h.svc.Clock.Now()) - time.Minute)
	if rec := h.get("/package/" + h.tokenA); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "（本日まで）") {
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
		"media":      {"image", "video", "audio", "file", "location", "sticker", "other"},
		"rep":        {flows.RepParent, flows.RepGuardian},
		"ground": {string(flows.GroundBeyondPurpose), string(flows.GroundImproper), string(flows.GroundUnneeded),
			string(flows.GroundLeaked), string(flows.GroundRightsAtRisk), string(flows.GroundOther)},
		"docsby":      {string(flows.DocsChat), string(flows.DocsLater), string(flows.DocsPost)},
		"delivery":    {string(flows.DeliveryElectronic), string(flows.DeliveryPost)},
		"doc_status":  {request.DocFetching, request.DocStored, request.DocRejected, request.DocDeleted},
		"doc_problem": {flows.DocNotImage, flows.DocTooLarge, flows.DocTooMany, flows.DocFetchFailed},
		"doctype":     {"image_jpeg", "image_png", "image_webp"},
		"field":       {"name", "phone", "email", "postal", "address", "customer"},
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
