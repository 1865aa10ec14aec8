package handlers

import (
	"errors"
	"maps"
	"mime"
	"net/http"
	"slices"
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

// reqPkgConsent and reqPkgEscalation are a package's consent records and escalations in the staff
// member's words; reqPkgRequest one of the customer's requests.
type (
	reqPkgConsent struct {
		At, Action, Source, Reference, Wording string
		Channels                               []string
	}
	reqPkgEscalation struct {
		ID, Reason, Category, Description, Status, Resolution, Created, Closed string
	}
	reqPkgRequest struct {
		Ref, Requester, Status, Received, Due string
		Kinds                                 []string
	}
	reqPkgLine struct{ At, Role, Kind, Text string }
)

// kindsNamed names kinds given by their machine names.
func (w *words) kindsNamed(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		k, _ := flows.ParseRequestKind(n)
		out = append(out, codeName(w, requestKindIDs, k))
	}
	return out
}

// requestPackage shows the staff the data package as it stands now (what the customer's link opens).
func (h *Console) requestPackage(c *gin.Context) {
	r, ok := h.loadRequest(c)
	if !ok {
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
	h.audit(c, "request.package.view", r.ID, "")
	w, loc := h.words(c), h.Requests.Location()
	var fields []option
	for _, k := range slices.Sorted(maps.Keys(p.Data.Profile.Fields)) {
		fields = append(fields, option{k, visibleControls(p.Data.Profile.Fields[k])})
	}
	lines := make([]reqPkgLine, len(p.Data.Transcript))
	for i, l := range p.Data.Transcript {
		lines[i] = reqPkgLine{At: clock(l.At), Role: codeName(w, transcriptRoleIDs, l.Role), Kind: l.Kind, Text: visibleControls(l.Text)}
	}
	consents := make([]reqPkgConsent, len(p.Data.Consents))
	for i, cr := range p.Data.Consents {
		pc := reqPkgConsent{At: clock(cr.At), Action: cr.Action, Source: w.Label("source", cr.Source), Reference: cr.Reference, Wording: cr.Wording}
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
	escs := make([]reqPkgEscalation, len(p.Data.Escalations))
	for i, e := range p.Data.Escalations {
		escs[i] = reqPkgEscalation{ID: e.ID, Reason: w.Label("reason", e.Reason), Category: w.Label("category", e.Category),
			Description: visibleControls(e.Description), Status: w.Label("status", e.Status),
			Resolution: w.Label("resolution", e.Resolution), Created: clock(e.CreatedAt), Closed: clock(e.ClosedAt)}
	}
	reqs := make([]reqPkgRequest, len(p.Requests))
	for i, x := range p.Requests {
		reqs[i] = reqPkgRequest{Ref: x.Reference, Kinds: w.kindsNamed(x.Kinds),
			Requester: codeName(w, requesterIDs, flows.Requester(x.Requester)),
			Status:    codeName(w, requestStatusIDs, flows.RequestStatus(x.Status)), Received: clock(x.ReceivedAt),
			Due: x.DueAt.In(loc).Format("2006-01-02")}
	}
	lang := ""
	if p.Data.Profile.Language != "" {
		lang = w.Label("lang", p.Data.Profile.Language)
	}
	h.render(c, "request_package", gin.H{"Title": w.T("console.requests.package_title", "Ref", r.ID), "P": p,
		"Kinds": w.kindsNamed(p.Kinds), "ProfileLang": lang, "Fields": fields, "Lines": lines, "Consents": consents,
		"Escalations": escs, "Requests": reqs, "Files": w.reqPackageView(r, h.Now()).Files,
		"Generated": clock(p.GeneratedAt), "FirstSeen": clock(p.Data.Profile.FirstSeen),
		"LastSeen": clock(p.Data.Profile.LastSeen), "Link": requestLink(r.ID), "Ref": r.ID})
}

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
