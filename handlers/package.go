package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/locales"
)

// The package pages have templates of their own, apart from the console's (the console parses every
// templates/*.html as one of its pages, inside its layout).
//
//go:embed package_templates/*.html
var packageFS embed.FS

// PackageDesk is what the customer's download link needs of the request service (*request.Service).
type PackageDesk interface {
	// ByToken finds the request whose link is token (request.ErrLinkGone when the link is unknown,
	// expired or revoked); it audits the use and counts it. Called once per HTTP request, with what
	// was asked for: "page", "data.json", "transcript.csv", "file:<id>".
	ByToken(ctx context.Context, token, what string) (request.Request, error)
	// PackageFor generates the request's data package as it stands now.
	PackageFor(ctx context.Context, ref string) (request.PackageContent, error)
	// File returns an attached file of the request's package, decrypted.
	File(ctx context.Context, ref, id string) (request.FileInfo, []byte, error)
}

// PackagePages serve the customer's download link, /package/<token>: the data package of a completed
// disclosure-type request (開示, 利用目的の通知, 第三者提供記録), opened without any login. The link is
// the key: the token is 32 random bytes, unknown to the server except as a hash, expiring and
// revocable (request.Service). An unknown, expired, revoked or malformed link gets one and the same
// 410 page, in Japanese and English, so the answer never tells whether a link existed.
//
//	GET /package/:token                 the package as a readable page (the request's language; ?lang=ja|en)
//	GET /package/:token/data.json       the package as JSON (request.PackageContent)
//	GET /package/:token/transcript.csv  the chat transcript as CSV (UTF-8 with BOM, formula-safe)
//	GET /package/:token/files/:id       an attached file
//
// Every response is no-store, no-referrer, noindex and nosniff, under a CSP that allows no script and
// only the page's own inline style (by its hash).
type PackagePages struct {
	Desk PackageDesk
	Log  *slog.Logger
	// Bundle holds the catalogs (locales/package.*.toml; nil: locales.NewBundle()).
	Bundle *i18n.Bundle
	// Now is the clock of the page ("N days left"); the service decides whether a link still works.
	Now func() time.Time
	// Location is the time zone times are shown in (nil: Asia/Tokyo).
	Location *time.Location
	// PolicyURL is where the published policy is ("": /policy).
	PolicyURL string

	once  sync.Once
	pages map[string]*template.Template // language → the package page
	vocab map[string]*pkgWords          // language → words
	note  *template.Template            // the bilingual notice (410, 404, 503)
}

// packageLangs are the languages of the package page; the first is the default.
var packageLangs = []string{"ja", "en"}

// packageCSS is the pages' only style, inline; the CSP allows exactly this text by its hash.
const packageCSS = `
:root{color-scheme:light}
body{font-family:system-ui,"Hiragino Sans","Noto Sans CJK JP","Yu Gothic",sans-serif;max-width:60rem;margin:0 auto;padding:1.25rem;line-height:1.7;color:#1f2933;background:#fff}
h1{font-size:1.5rem;border-bottom:3px solid #2f855a;padding-bottom:.4rem;margin:.4rem 0 1rem}
h2{font-size:1.15rem;border-left:5px solid #2f855a;padding-left:.5rem;margin:2.2rem 0 .6rem;break-after:avoid}
p{margin:.5rem 0}
.company{color:#52606d;margin:0}
.lang{float:right;font-size:.9rem}
.lead{background:#f0fff4;border:1px solid #9ae6b4;border-radius:6px;padding:.6rem 1rem}
.warn{font-weight:600}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:1rem 0}
dl.meta dt{color:#52606d}
dl.meta dd{margin:0}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.92rem}
th,td{border:1px solid #cbd2d9;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f7fa;white-space:nowrap}
td.text,td.long{white-space:pre-wrap;overflow-wrap:anywhere}
td.time,td.nowrap{white-space:nowrap}
td.hash{font-family:ui-monospace,monospace;font-size:.8rem;overflow-wrap:anywhere}
tr.customer td.who{color:#2f855a;font-weight:600}
tr.staff td.who{color:#2b6cb0;font-weight:600}
tr.system td,tr.note td{color:#52606d}
.extra{color:#52606d;font-size:.85rem}
.empty{color:#52606d}
ul.downloads{padding-left:1.2rem}
address{font-style:normal;white-space:pre-line}
footer{margin-top:2.5rem;border-top:1px solid #cbd2d9;padding-top:.5rem}
section.notice{margin:2rem 0}
@media print{body{max-width:none;padding:0;font-size:10pt}.lang,ul.downloads,.noprint{display:none}a{color:inherit;text-decoration:none}tr{break-inside:avoid}.lead{border-color:#000}}
`

// packageCSP is the pages' content security policy: nothing may load but the inline style above.
var packageCSP = func() string {
	sum := sha256.Sum256([]byte(packageCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

// downloadCSP is the policy of the downloads (JSON, CSV, files): nothing runs, even when opened inline.
const downloadCSP = "default-src 'none'; frame-ancestors 'none'; sandbox"

func (p *PackagePages) init() {
	p.once.Do(func() {
		if p.Desk == nil {
			panic("handlers: PackagePages needs a Desk (the request service)")
		}
		if p.Log == nil {
			p.Log = slog.Default()
		}
		if p.Now == nil {
			p.Now = time.Now
		}
		if p.Location == nil {
			p.Location = tokyo
		}
		if p.PolicyURL == "" {
			p.PolicyURL = "/policy"
		}
		if p.Bundle == nil {
			b, err := locales.NewBundle()
			if err != nil {
				panic("handlers: package catalogs: " + err.Error())
			}
			p.Bundle = b
		}
		p.vocab = map[string]*pkgWords{}
		p.pages = map[string]*template.Template{}
		for _, lang := range packageLangs {
			w := &pkgWords{lang: lang, loc: i18n.NewLocalizer(p.Bundle, lang), log: p.Log}
			p.vocab[lang] = w
			p.pages[lang] = template.Must(template.New("package.html").Funcs(template.FuncMap{"t": w.T}).
				ParseFS(packageFS, "package_templates/package.html"))
		}
		p.note = template.Must(template.New("package_notice.html").ParseFS(packageFS, "package_templates/package_notice.html"))
	})
}

// Register mounts the download link's routes.
func (p *PackagePages) Register(e *gin.Engine) {
	p.init()
	g := e.Group("/package/:token", packageHeaders)
	g.GET("", p.page)
	g.GET("/data.json", p.dataJSON)
	g.GET("/transcript.csv", p.transcriptCSV)
	g.GET("/files/:id", p.file)
}

// packageHeaders are set on every answer of the link, errors included.
func packageHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", packageCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	c.Next()
}

// packageTokenLen is the length of a link's token: 32 random bytes in unpadded base64url.
const packageTokenLen = 43

// validPackageToken reports whether t could be a link's token at all; anything else is refused without
// asking the service.
func validPackageToken(t string) bool {
	if len(t) != packageTokenLen {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(t)
	return err == nil && len(b) == 32
}

// open resolves the link of the request: the request whose package it opens, or false once the
// answer (410, 503) is written. what is the use the service audits.
func (p *PackagePages) open(c *gin.Context, what string) (request.Request, bool) {
	token := c.Param("token")
	if !validPackageToken(token) {
		p.notice(c, http.StatusGone)
		return request.Request{}, false
	}
	r, err := p.Desk.ByToken(c.Request.Context(), token, what)
	switch {
	case errors.Is(err, request.ErrLinkGone), errors.Is(err, bot.ErrNotFound):
		p.notice(c, http.StatusGone)
		return r, false
	case err != nil:
		p.Log.Error("package link: the request service failed", "what", what, "err", err)
		p.notice(c, http.StatusServiceUnavailable)
		return r, false
	case r.Package == nil || r.Package.Revoked:
		p.notice(c, http.StatusGone)
		return r, false
	}
	return r, true
}

// openPackage resolves the link (open) and generates the package of its request as it stands now,
// or returns false once the answer (410, 503) is written.
func (p *PackagePages) openPackage(c *gin.Context, what string) (request.Request, request.PackageContent, bool) {
	r, ok := p.open(c, what)
	if !ok {
		return r, request.PackageContent{}, false
	}
	pc, err := p.Desk.PackageFor(c.Request.Context(), r.ID)
	switch {
	case errors.Is(err, request.ErrNoPackage), errors.Is(err, bot.ErrNotFound):
		p.notice(c, http.StatusGone)
		return r, pc, false
	case err != nil:
		p.Log.Error("package: not generated", "request", r.ID, "err", err)
		p.notice(c, http.StatusServiceUnavailable)
		return r, pc, false
	}
	return r, pc, true
}

func (p *PackagePages) page(c *gin.Context) {
	r, pc, ok := p.openPackage(c, "page")
	if !ok {
		return
	}
	lang := string(r.Lang)
	if q := c.Query("lang"); slices.Contains(packageLangs, q) {
		lang = q
	}
	if !slices.Contains(packageLangs, lang) {
		lang = packageLangs[0]
	}
	w := p.vocab[lang]
	v := p.view(w, "/package/"+c.Param("token"), r, pc)
	var buf bytes.Buffer
	if err := p.pages[lang].Execute(&buf, v); err != nil {
		p.Log.Error("package page template", "lang", lang, "err", err)
		p.notice(c, http.StatusInternalServerError)
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

func (p *PackagePages) dataJSON(c *gin.Context) {
	r, pc, ok := p.openPackage(c, "data.json")
	if !ok {
		return
	}
	body, err := json.MarshalIndent(pc, "", "  ")
	if err != nil {
		p.Log.Error("package: JSON", "request", r.ID, "err", err)
		p.notice(c, http.StatusInternalServerError)
		return
	}
	pkgDownload(c, "privacy-package-"+pkgSafeRef(pc.Reference)+".json", "")
	c.Data(http.StatusOK, "application/json; charset=utf-8", append(body, '\n'))
}

// transcriptCSV writes the chat transcript: UTF-8 with a BOM (Excel reads Japanese), a header row,
// one line a row, every cell quoted and neutralised against formula injection (appendCell).
func (p *PackagePages) transcriptCSV(c *gin.Context) {
	_, pc, ok := p.openPackage(c, "transcript.csv")
	if !ok {
		return
	}
	b := make([]byte, 0, 4096)
	b = append(b, "\xEF\xBB\xBF"...)
	for i, h := range []string{"at", "role", "kind", "text"} {
		b = appendCell(b, h, i == 0)
	}
	b = append(b, '\r', '\n')
	for _, l := range pc.Data.Transcript {
		b = appendCell(b, l.At.In(p.Location).Format(time.RFC3339), true)
		b = appendCell(b, l.Role, false)
		b = appendCell(b, l.Kind, false)
		b = appendCell(b, l.Text, false)
		b = append(b, '\r', '\n')
	}
	pkgDownload(c, "privacy-transcript-"+pkgSafeRef(pc.Reference)+".csv", "")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", b)
}

// pkgFileIDOK bounds a file ID from the path before it goes anywhere (the service's are 16 hex digits).
func pkgFileIDOK(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func (p *PackagePages) file(c *gin.Context) {
	id := c.Param("id")
	if !validPackageToken(c.Param("token")) {
		p.notice(c, http.StatusGone)
		return
	}
	if !pkgFileIDOK(id) {
		p.notice(c, http.StatusNotFound)
		return
	}
	r, ok := p.open(c, "file:"+id)
	if !ok {
		return
	}
	if !slices.ContainsFunc(r.Package.Files, func(f request.FileInfo) bool { return f.ID == id }) {
		p.notice(c, http.StatusNotFound)
		return
	}
	info, data, err := p.Desk.File(c.Request.Context(), r.ID, id)
	switch {
	case errors.Is(err, bot.ErrNotFound):
		p.notice(c, http.StatusNotFound)
		return
	case err != nil:
		p.Log.Error("package file: not read", "request", r.ID, "file", id, "err", err)
		p.notice(c, http.StatusServiceUnavailable)
		return
	}
	pkgDownload(c, info.Name, info.ID)
	c.Data(http.StatusOK, pkgFileType(info.ContentType), data)
}

// pkgDownload marks the answer as a file to save, named name (RFC 6266, with RFC 5987's filename* for a
// name that is not plain ASCII; id names the ASCII fallback then).
func pkgDownload(c *gin.Context, name, id string) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", downloadCSP)
	h.Set("Content-Disposition", pkgDisposition(name, id))
}

// pkgDisposition is "attachment" with the file's name: as it is when it is printable ASCII,
// otherwise an ASCII fallback (file-<id><ext>) and the name itself in filename* (RFC 5987, UTF-8).
func pkgDisposition(name, id string) string {
	if pkgPlainASCII(name) {
		return `attachment; filename="` + name + `"`
	}
	fallback := "file"
	if id != "" {
		fallback += "-" + id
	}
	if ext := path.Ext(name); len(ext) > 1 && len(ext) <= 10 && pkgPlainASCII(ext) && !strings.ContainsAny(ext, " ;%") {
		fallback += ext
	}
	return `attachment; filename="` + fallback + `"; filename*=UTF-8''` + pkgRFC5987(name)
}

func pkgPlainASCII(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b > 0x7e || b == '"' || b == '\\' || b == '%' {
			return false
		}
	}
	return true
}

// pkgRFC5987 percent-encodes s (UTF-8) leaving only RFC 5987's attr-chars as they are.
func pkgRFC5987(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("!#$&+-.^_`|~", ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[ch>>4])
		b.WriteByte(hex[ch&15])
	}
	return b.String()
}

// pkgSafeRef keeps a reference fit for a file name (references are R-YYYYMMDD-NNNN).
func pkgSafeRef(ref string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-' {
			return r
		}
		return '_'
	}, ref)
}

// pkgFileTypes are the content types an attached file is served with; anything else (HTML, SVG, scripts)
// is served as application/octet-stream.
var pkgFileTypes = map[string]bool{
	"application/pdf": true, "image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true,
	"text/plain": true, "text/csv": true, "application/json": true, "application/zip": true,
	"application/msword": true, "application/vnd.ms-excel": true,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": true,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":       true,
}

func pkgFileType(ct string) string {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !pkgFileTypes[mt] {
		return "application/octet-stream"
	}
	if strings.HasPrefix(mt, "text/") {
		if cs := params["charset"]; cs != "" {
			return mime.FormatMediaType(mt, map[string]string{"charset": cs})
		}
	}
	return mt
}

// notice answers with the bilingual notice page of a status: 410 (the link does not work), 404 (no
// such file), 503 and 500 (try again later). The language of the customer is not known here, or
// not trusted: every notice is in Japanese and English.
func (p *PackagePages) notice(c *gin.Context, status int) {
	p.init()
	key := "unavailable"
	switch status {
	case http.StatusGone:
		key = "gone"
	case http.StatusNotFound:
		key = "notfound"
	}
	type block struct {
		Lang, Title, Body, HowTo                        string
		ContactTitle, Company, Address, Tel, Email, Src string
	}
	data := struct {
		Style  template.CSS
		Title  string
		Blocks []block
	}{Style: template.CSS(packageCSS)}
	for _, lang := range packageLangs {
		w := p.vocab[lang]
		b := block{Lang: lang, Title: w.T("package." + key + "_title"), Body: w.T("package." + key + "_body"),
			ContactTitle: w.T("package.contact_title"), Company: w.T("package.contact_name"),
			Address: w.T("package.contact_address"), Tel: w.T("package.contact_tel"), Email: w.T("package.contact_email"),
			Src: w.T("package.contact_source")}
		if key == "gone" {
			b.HowTo = w.T("package.gone_howto")
		}
		data.Blocks = append(data.Blocks, b)
	}
	data.Title = data.Blocks[0].Title + " / " + data.Blocks[1].Title
	var buf bytes.Buffer
	if err := p.note.Execute(&buf, data); err != nil {
		p.Log.Error("package notice template", "err", err)
		c.AbortWithStatus(status)
		return
	}
	c.Writer.Header().Set("Content-Security-Policy", packageCSP)
	c.Writer.Header().Del("Content-Disposition")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

// pkgWords are the package pages' words in one language (locales/package.*.toml, "package.").
type pkgWords struct {
	lang string
	loc  *i18n.Localizer
	log  *slog.Logger
}

// T renders a message; kv are its template data as key, value pairs ("Count" also picks the plural).
func (w *pkgWords) T(id string, kv ...any) string {
	return localize(w.loc, w.log, "package message missing", w.lang, id, kv...)
}

// label names a code ("package.<kind>_<code>"), or shows the code as it is when the catalog does not
// know it (a free-text resolution, a code newer than this page).
func (w *pkgWords) label(kind, code string) string {
	if code == "" {
		return ""
	}
	id := "package." + kind + "_" + strings.NewReplacer(".", "_", " ", "_", "-", "_").Replace(code)
	if s, ok := lookupMessage(w.loc, id); ok {
		return s
	}
	return code
}

func (w *pkgWords) labels(kind string, codes []string) string {
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		out = append(out, w.label(kind, c))
	}
	return strings.Join(out, w.T("package.sep"))
}

// The page's view of the package: everything already in words, the template only lays it out.
type (
	pkgView struct {
		Lang, OtherLang, OtherName string
		Style                      template.CSS
		Ref, Kinds                 string
		Generated, Expires         string
		DaysLeft                   int
		Purpose                    bool
		PolicyURL                  string
		DataURL, CSVURL            string
		Profile                    pkgProfile
		Transcript                 []pkgLine
		Consents                   []pkgConsent
		Escalations                []pkgEscalation
		Requests                   []pkgRequest
		Files                      []pkgFile
	}
	pkgProfile struct {
		UserID, Language, FirstSeen, LastSeen string
		Fields                                [][2]string
	}
	pkgLine struct {
		At, Role, Who, Text, Extra string
	}
	pkgConsent struct {
		At, Action, Channels, Source, Reference, Wording string
	}
	pkgEscalation struct {
		Created, Closed, Reason, Category, Status, Description, Resolution string
	}
	pkgRequest struct {
		Ref, Kinds, Requester, Status, Received, Due string
		This                                         bool
	}
	pkgFile struct {
		Name, Size, SHA256, URL string
	}
)

// view puts the package into words in w's language; base is the link's path.
func (p *PackagePages) view(w *pkgWords, base string, r request.Request, pc request.PackageContent) pkgView {
	other := "en"
	if w.lang == "en" {
		other = "ja"
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(p.Location).Format("2006-01-02 15:04")
	}
	long := func(t time.Time) string {
		layout := "2006年1月2日 15:04 MST"
		if w.lang == "en" {
			layout = "2 January 2006, 15:04 MST"
		}
		return t.In(p.Location).Format(layout)
	}
	v := pkgView{Lang: w.lang, OtherLang: other, OtherName: w.T("package.lang_switch"), Style: template.CSS(packageCSS),
		Ref: pc.Reference, Kinds: w.labels("kind", pc.Kinds), Generated: long(pc.GeneratedAt),
		Expires: long(r.Package.ExpiresAt), Purpose: slices.Contains(pc.Kinds, flows.KindPurposeNotice.Name()),
		PolicyURL: p.PolicyURL, DataURL: base + "/data.json", CSVURL: base + "/transcript.csv"}
	if left := r.Package.ExpiresAt.Sub(p.Now()); left > 0 {
		v.DaysLeft = int((left + 24*time.Hour - 1) / (24 * time.Hour))
	}
	d := pc.Data
	v.Profile = pkgProfile{UserID: d.UserID, Language: w.label("lang", d.Profile.Language),
		FirstSeen: stamp(d.Profile.FirstSeen), LastSeen: stamp(d.Profile.LastSeen)}
	keys := make([]string, 0, len(d.Profile.Fields))
	for k := range d.Profile.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v.Profile.Fields = append(v.Profile.Fields, [2]string{w.label("field", k), visibleControls(d.Profile.Fields[k])})
	}
	for _, l := range d.Transcript {
		v.Transcript = append(v.Transcript, w.line(l, stamp(l.At)))
	}
	for _, c := range d.Consents {
		v.Consents = append(v.Consents, pkgConsent{At: stamp(c.At), Action: w.label("action", c.Action),
			Channels: w.labels("channel", c.Channels), Source: w.label("source", c.Source), Reference: c.Reference,
			Wording: visibleControls(c.Wording)})
	}
	for _, e := range d.Escalations {
		v.Escalations = append(v.Escalations, pkgEscalation{Created: stamp(e.CreatedAt), Closed: stamp(e.ClosedAt),
			Reason: w.label("reason", e.Reason), Category: w.label("category", e.Category),
			Status: w.label("escalation", e.Status), Description: visibleControls(e.Description),
			Resolution: visibleControls(w.label("resolution", e.Resolution))})
	}
	for _, x := range pc.Requests {
		v.Requests = append(v.Requests, pkgRequest{Ref: x.Reference, Kinds: w.labels("kind", x.Kinds),
			Requester: w.label("requester", x.Requester), Status: w.label("status", x.Status),
			Received: stamp(x.ReceivedAt), Due: x.DueAt.In(p.Location).Format(time.DateOnly), This: x.Reference == pc.Reference})
	}
	for _, f := range pc.Files {
		v.Files = append(v.Files, pkgFile{Name: visibleControls(f.Name), Size: w.size(f.Size), SHA256: f.SHA256,
			URL: base + "/files/" + f.ID})
	}
	return v
}

// line words one transcript line: who wrote it, and what a tapped button or a photo was.
func (w *pkgWords) line(l request.TranscriptLine, at string) pkgLine {
	out := pkgLine{At: at, Role: l.Role, Who: w.label("who", l.Role), Text: visibleControls(l.Text)}
	if l.Role != bot.RoleCustomer {
		return out
	}
	switch l.Kind {
	case "", "text":
	case string(bot.EventPostback):
		out.Extra = w.T("package.tapped")
		if id, ok := flows.PostbackLabel(l.Text); ok {
			if s, ok := lookupMessage(w.loc, id); ok {
				out.Text = s
			}
		}
	case string(bot.EventInternal):
		out.Role, out.Who, out.Text = bot.RoleSystem, w.label("who", bot.RoleSystem), w.T("package.internal")
	case string(bot.EventFollow):
		out.Text = w.T("package.followed")
	case string(bot.EventUnfollow):
		out.Text = w.T("package.blocked")
	default:
		out.Extra = w.T("package.media", "Kind", w.label("media", l.Kind))
	}
	return out
}

// size is a file size for people.
func (w *pkgWords) size(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return w.T("package.size_bytes", "N", n)
}
