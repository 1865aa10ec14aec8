package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
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
//	GET /package/:token/data.json       the package as JSON (request.PackageContent; ?lang=ja|en)
//	GET /package/:token/transcript.csv  the chat transcript as CSV (UTF-8 with BOM, formula-safe; ?lang=ja|en)
//	GET /package/:token/files/:id       an attached file
//
// The page, data.json and transcript.csv are made from the same worded package (pkgRender.worded):
// a tapped button is its label, the service's events are sentences, the summaries the customer
// confirmed are their text; kinds stay codes in the JSON and the CSV.
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

	once   sync.Once
	render *pkgRender
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
section.request{margin:1.2rem 0 2rem;padding-top:.2rem}
h3{font-size:1.05rem;margin:1.6rem 0 .4rem}
h4{font-size:.95rem;margin:1rem 0 .3rem}
.summary{white-space:pre-wrap;overflow-wrap:anywhere;background:#f5f7fa;border:1px solid #cbd2d9;border-radius:6px;padding:.6rem 1rem;margin:.4rem 0;font-size:.92rem}
.preview{background:#fffbea;border:2px dashed #b7791f;border-radius:6px;padding:.6rem 1rem;margin:0 0 1rem;font-weight:600}
@media print{body{max-width:none;padding:0;font-size:10pt}.lang,ul.downloads,.noprint{display:none}a{color:inherit;text-decoration:none}tr{break-inside:avoid}.lead,.preview{border-color:#000}}
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
		p.render = newPkgRender(p.Bundle, p.Log)
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

// linkPage is where the customer's link shows the package: base is the link's path.
func (p *PackagePages) linkPage(base, lang string, r request.Request) pkgPage {
	other := "en"
	if lang == "en" {
		other = "ja"
	}
	return pkgPage{Now: p.Now(), Location: p.Location, PolicyURL: p.PolicyURL, Expires: r.Package.ExpiresAt,
		OtherURL: "?lang=" + other, DataURL: base + "/data.json?lang=" + lang, CSVURL: base + "/transcript.csv?lang=" + lang,
		FileURL: func(id string) string { return base + "/files/" + id }}
}

func (p *PackagePages) page(c *gin.Context) {
	r, pc, ok := p.openPackage(c, "page")
	if !ok {
		return
	}
	lang := pkgLang(string(r.Lang), c.Query("lang"))
	body, err := p.render.page(lang, p.linkPage("/package/"+c.Param("token"), lang, r), pc)
	if err != nil {
		p.Log.Error("package page template", "lang", lang, "err", err)
		p.notice(c, http.StatusInternalServerError)
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", body)
}

func (p *PackagePages) dataJSON(c *gin.Context) {
	r, pc, ok := p.openPackage(c, "data.json")
	if !ok {
		return
	}
	body, err := pkgJSON(p.render.worded(pkgLang(string(r.Lang), c.Query("lang")), pc))
	if err != nil {
		p.Log.Error("package: JSON", "request", r.ID, "err", err)
		p.notice(c, http.StatusInternalServerError)
		return
	}
	pkgDownload(c, pkgJSONName(pc.Reference), "")
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
}

// pkgJSONName and pkgCSVName are the names data.json and transcript.csv are saved under.
func pkgJSONName(ref string) string { return "privacy-package-" + pkgSafeRef(ref) + ".json" }
func pkgCSVName(ref string) string  { return "privacy-transcript-" + pkgSafeRef(ref) + ".csv" }

// pkgJSON is data.json: a worded package (pkgRender.worded), indented.
func pkgJSON(pc request.PackageContent) ([]byte, error) {
	body, err := json.MarshalIndent(pc, "", "  ")
	return append(body, '\n'), err
}

func (p *PackagePages) transcriptCSV(c *gin.Context) {
	r, pc, ok := p.openPackage(c, "transcript.csv")
	if !ok {
		return
	}
	pc = p.render.worded(pkgLang(string(r.Lang), c.Query("lang")), pc)
	pkgDownload(c, pkgCSVName(pc.Reference), "")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", pkgCSV(pc.Data.Transcript, p.Location))
}

// pkgCSV is transcript.csv of a worded transcript (pkgRender.worded): UTF-8 with a BOM (Excel reads
// Japanese), a header row, one line a row, every cell quoted and neutralised against formula
// injection (appendCell).
func pkgCSV(lines []request.TranscriptLine, loc *time.Location) []byte {
	b := make([]byte, 0, 4096)
	b = append(b, "\xEF\xBB\xBF"...)
	for i, h := range []string{"at", "role", "kind", "text"} {
		b = appendCell(b, h, i == 0)
	}
	b = append(b, '\r', '\n')
	for _, l := range lines {
		b = appendCell(b, l.At.In(loc).Format(time.RFC3339), true)
		b = appendCell(b, l.Role, false)
		b = appendCell(b, l.Kind, false)
		b = appendCell(b, l.Text, false)
		b = append(b, '\r', '\n')
	}
	return b
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
		w := p.render.vocab[lang]
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
	if err := p.render.note.Execute(&buf, data); err != nil {
		p.Log.Error("package notice template", "err", err)
		c.AbortWithStatus(status)
		return
	}
	c.Writer.Header().Set("Content-Security-Policy", packageCSP)
	c.Writer.Header().Del("Content-Disposition")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}
