package handlers

import (
	"errors"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// What of a request the console serves besides its page: the identity documents, the staff's preview
// of the data package, and the files attached to it. Every one of them is audited.

// requestDocument serves an identity document, decrypted, never cached, every view audited.
func (h *Console) requestDocument(c *gin.Context) {
	r, ok := h.loadRequest(c)
	if !ok {
		return
	}
	d, data, err := h.Requests.OpenDocument(c.Request.Context(), r.ID, c.Param("doc"))
	if errors.Is(err, bot.ErrNotFound) {
		h.deny(c, http.StatusNotFound, "console.requests.no_document")
		return
	}
	if err != nil {
		internalError(c, err)
		return
	}
	h.audit(c, "request.document.view", r.ID, d.ID)
	ct := d.ContentType
	if !strings.HasPrefix(ct, "image/") {
		ct = "application/octet-stream"
	}
	hd := c.Writer.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Pragma", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Disposition", "inline")
	c.Data(http.StatusOK, ct, data)
}

// transcriptRoleIDs name the roles of a package's transcript lines.
var transcriptRoleIDs = map[string]string{
	"customer": "console.transcript.customer", "bot": "console.transcript.bot",
	"staff": "console.transcript.staff", "system": "console.transcript.system", "note": "console.transcript.note",
}

// kindsNamed names kinds given by their machine names.
func (w *words) kindsNamed(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		k, _ := flows.ParseRequestKind(n)
		out = append(out, codeName(w, requestKindIDs, k))
	}
	return out
}

// reqPkgConsent is a consent record of a package in the staff member's words.
type reqPkgConsent struct {
	At, Action, Source string
	Channels           []string
}

// pkgPreviewCSP is the policy of the preview of the customer's page: the page's own (nothing runs,
// only its inline style), framed by the console's page and nothing else.
var pkgPreviewCSP = strings.Replace(packageCSP, "frame-ancestors 'none'", "frame-ancestors 'self'", 1)

// requestPackage shows the staff the data package as it stands now, as the customer will receive it:
// the customer's own page (the same worded package, view and template as the link's, in the
// request's language, marked as a staff preview) framed in a console page that sums the package up,
// and data.json and transcript.csv exactly as the link serves them. Every view is audited.
//
//	GET /console/requests/:id/package                      the console's page
//	GET /console/requests/:id/package?view=page            the customer's page (?lang=ja|en)
//	GET /console/requests/:id/package?view=data.json       data.json (?lang=ja|en)
//	GET /console/requests/:id/package?view=transcript.csv  transcript.csv (?lang=ja|en)
func (h *Console) requestPackage(c *gin.Context) {
	w := h.words(c) // (initialises the console: its bundle)
	r, ok := h.loadRequest(c)
	if !ok {
		return
	}
	view := c.Query("view")
	switch view {
	case "", "page", "data.json", "transcript.csv":
	default:
		h.deny(c, http.StatusNotFound, "console.requests.no_package")
		return
	}
	p, err := h.Requests.PackageFor(c.Request.Context(), r.ID)
	switch {
	case errors.Is(err, request.ErrNoPackage):
		h.deny(c, http.StatusNotFound, "console.requests.no_package")
		return
	case errors.Is(err, bot.ErrNotFound):
		h.deny(c, http.StatusNotFound, "console.requests.not_found")
		return
	case err != nil:
		internalError(c, err)
		return
	}
	pr, loc, now := sharedPkgRender(h.Bundle, h.Log), h.Requests.Location(), h.Now()
	lang := pkgLang(string(r.Lang), c.Query("lang"))
	base := requestLink(r.ID) + "/package"
	detail := ""
	if view != "" {
		detail = view + " " + lang
	}
	h.audit(c, "request.package.view", r.ID, detail)
	switch view {
	case "page":
		other := "en"
		if lang == "en" {
			other = "ja"
		}
		pg := pkgPage{Now: now, Location: loc, PolicyURL: "/policy", Preview: true,
			OtherURL: base + "?view=page&lang=" + other, DataURL: base + "?view=data.json&lang=" + lang,
			CSVURL:  base + "?view=transcript.csv&lang=" + lang,
			FileURL: func(id string) string { return requestLink(r.ID) + "/files/" + url.PathEscape(id) }}
		if k := r.Package; k != nil && k.LinkHash != "" && !k.Revoked && now.Before(k.ExpiresAt) {
			pg.Expires = k.ExpiresAt
		}
		body, err := pr.page(lang, pg, p)
		if err != nil {
			internalError(c, err)
			return
		}
		hd := c.Writer.Header()
		hd.Set("Content-Security-Policy", pkgPreviewCSP)
		hd.Set("X-Frame-Options", "SAMEORIGIN")
		hd.Set("X-Robots-Tag", "noindex, nofollow")
		c.Data(http.StatusOK, "text/html; charset=utf-8", body)
		return
	case "data.json":
		body, err := pkgJSON(pr.worded(lang, p))
		if err != nil {
			internalError(c, err)
			return
		}
		pkgDownload(c, pkgJSONName(p.Reference), "")
		c.Data(http.StatusOK, "application/json; charset=utf-8", body)
		return
	case "transcript.csv":
		pkgDownload(c, pkgCSVName(p.Reference), "")
		c.Data(http.StatusOK, "text/csv; charset=utf-8", pkgCSV(pr.worded(lang, p).Data.Transcript, loc))
		return
	}

	// The console's page: what is in the package, in the staff member's words, and the customer's
	// page as they will see it.
	worded := pr.worded(lang, p)
	staffPkg := pr.vocab[pkgLang(w.lang, "")]
	var fields []string
	for _, k := range slices.Sorted(maps.Keys(p.Data.Profile.Fields)) {
		fields = append(fields, staffPkg.label("field", k))
	}
	roles := map[string]int{}
	for _, l := range worded.Data.Transcript {
		roles[l.Role]++
	}
	var roleCounts []option
	for _, role := range []string{"customer", "bot", "staff", "note", "system"} {
		if n := roles[role]; n > 0 {
			roleCounts = append(roleCounts, option{codeName(w, transcriptRoleIDs, role), strconv.Itoa(n)})
		}
	}
	lines := make([]reqPkgLine, len(worded.Data.Transcript))
	for i, l := range worded.Data.Transcript {
		lines[i] = reqPkgLine{At: clock(l.At), Role: l.Role, Kind: l.Kind, Text: visibleControls(l.Text)}
	}
	consents := make([]reqPkgConsent, len(p.Data.Consents))
	for i, cr := range p.Data.Consents {
		pc := reqPkgConsent{At: clock(cr.At), Action: cr.Action, Source: w.Label("source", cr.Source)}
		switch flows.ConsentAction(cr.Action) {
		case flows.ConsentOptOut:
			pc.Action = w.T("console.history.optout")
		case flows.ConsentOptIn:
			pc.Action = w.T("console.history.optin")
		}
		for _, ch := range cr.Channels {
			pc.Channels = append(pc.Channels, w.Label("channel", ch))
		}
		consents[i] = pc
	}
	var reasons []string
	for _, e := range p.Data.Escalations {
		reasons = append(reasons, w.Label("reason", e.Reason))
	}
	var refs, files []string
	for _, x := range p.Requests {
		refs = append(refs, x.Reference)
	}
	for _, f := range p.Files {
		files = append(files, visibleControls(f.Name))
	}
	h.render(c, "request_package", gin.H{"Title": w.T("console.requests.package_title", "Ref", r.ID), "Ref": r.ID,
		"Link": requestLink(r.ID), "Kinds": w.kindsNamed(p.Kinds), "Generated": clock(p.GeneratedAt),
		"Language": w.Label("lang", lang), "UserID": p.Data.UserID, "Fields": fields,
		"FirstSeen": clock(p.Data.Profile.FirstSeen), "LastSeen": clock(p.Data.Profile.LastSeen),
		"Roles": roleCounts, "Lines": lines, "Consents": consents, "Escalations": reasons, "Requests": refs, "Files": files,
		"FrameURL": base + "?view=page&lang=" + lang, "DataURL": base + "?view=data.json&lang=" + lang,
		"CSVURL": base + "?view=transcript.csv&lang=" + lang, "DataName": pkgJSONName(p.Reference),
		"CSVName": pkgCSVName(p.Reference)})
}

// reqPkgLine is a line of a package's transcript.csv.
type reqPkgLine struct{ At, Role, Kind, Text string }

// requestFile sends an attached file of a request's package (audited).
func (h *Console) requestFile(c *gin.Context) {
	r, ok := h.loadRequest(c)
	if !ok {
		return
	}
	f, data, err := h.Requests.File(c.Request.Context(), r.ID, c.Param("file"))
	if errors.Is(err, bot.ErrNotFound) {
		h.deny(c, http.StatusNotFound, "console.requests.no_file")
		return
	}
	if err != nil {
		internalError(c, err)
		return
	}
	h.audit(c, "request.file.download", r.ID, f.ID+" "+visibleControls(f.Name))
	disp := mime.FormatMediaType("attachment", map[string]string{"filename": f.Name})
	if disp == "" {
		disp = `attachment; filename="file"`
	}
	ct := f.ContentType
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		ct = "application/octet-stream"
	}
	hd := c.Writer.Header()
	hd.Set("Content-Disposition", disp)
	hd.Set("Pragma", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, ct, data)
}
