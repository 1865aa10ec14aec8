package handlers

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

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

// pkgCodeID makes a code part of a message ID: "image/jpeg" → "image_jpeg".
var pkgCodeID = strings.NewReplacer(".", "_", " ", "_", "-", "_", "/", "_")

// label names a code ("package.<kind>_<code>"), or shows the code as it is when the catalog does not
// know it (a free-text resolution, a code newer than this page).
func (w *pkgWords) label(kind, code string) string {
	if code == "" {
		return ""
	}
	if s, ok := lookupMessage(w.loc, "package."+kind+"_"+pkgCodeID.Replace(code)); ok {
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

// pkgRender is what renders a package for people, in each language of the pages: the words, the
// page's template and the bilingual notice. The customer's link (PackagePages) and the staff's
// preview (Console.requestPackage) share it, so the preview is the customer's page.
type pkgRender struct {
	vocab map[string]*pkgWords          // language → words
	pages map[string]*template.Template // language → the package page
	note  *template.Template            // the bilingual notice (410, 404, 503)
}

func newPkgRender(b *i18n.Bundle, log *slog.Logger) *pkgRender {
	r := &pkgRender{vocab: map[string]*pkgWords{}, pages: map[string]*template.Template{}}
	for _, lang := range packageLangs {
		w := &pkgWords{lang: lang, loc: i18n.NewLocalizer(b, lang), log: log}
		r.vocab[lang] = w
		r.pages[lang] = template.Must(template.New("package.html").Funcs(template.FuncMap{"t": w.T}).
			ParseFS(packageFS, "package_templates/package.html"))
	}
	r.note = template.Must(template.New("package_notice.html").ParseFS(packageFS, "package_templates/package_notice.html"))
	return r
}

// pkgRenders are the renderers of the console's previews, one per catalog bundle.
var pkgRenders sync.Map // *i18n.Bundle → *pkgRender

// sharedPkgRender returns the renderer of a bundle's catalogs, made once.
func sharedPkgRender(b *i18n.Bundle, log *slog.Logger) *pkgRender {
	if r, ok := pkgRenders.Load(b); ok {
		return r.(*pkgRender)
	}
	r, _ := pkgRenders.LoadOrStore(b, newPkgRender(b, log))
	return r.(*pkgRender)
}

// pkgLang is the language a package is shown in: the one asked for (?lang) when the pages speak it,
// else the request's, else the first.
func pkgLang(requestLang, asked string) string {
	if slices.Contains(packageLangs, asked) {
		return asked
	}
	if slices.Contains(packageLangs, requestLang) {
		return requestLang
	}
	return packageLangs[0]
}

// The page's view of the package: everything already in words, the template only lays it out.
type (
	pkgView struct {
		Lang, OtherLang, OtherName string
		Style                      template.CSS
		Ref, Kinds                 string
		Generated, Expires         string
		DaysLeft                   int
		LastDay                    bool // the link works to the end of today
		Purpose                    bool
		PolicyURL                  string
		OtherURL                   string
		DataURL, CSVURL            string
		// Preview marks the staff's preview; NoLink says no link works yet (or any more).
		Preview, NoLink bool
		Profile         pkgProfile
		Transcript      []pkgLine
		Consents        []pkgConsent
		Escalations     []pkgEscalation
		Requests        []pkgRequest
		Files           []pkgFile
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
		// What the customer told the desk.
		RepKind, RepName, Name, Address, Phone string
		Correction, Target, Ground, GroundText string
		DocsBy, Delivery, Outcome, Language    string
		Documents                              []pkgDocument
		Summary                                string
	}
	pkgDocument struct {
		Number, Type, Size, Received, Status, Deleted string
	}
	pkgFile struct {
		Name, Size, SHA256, URL string
	}
)

// pkgPage is where a rendering of the package page is shown: the customer's link or the staff's
// preview.
type pkgPage struct {
	Now       time.Time
	Location  *time.Location
	PolicyURL string
	// Expires is when the link stops working; zero when no link works (the staff's preview of a
	// package not sent yet, or of a link expired or revoked).
	Expires time.Time
	// OtherURL is the page in the other language; DataURL and CSVURL the downloads in this one;
	// FileURL an attached file.
	OtherURL        string
	DataURL, CSVURL string
	FileURL         func(id string) string
	// Preview marks the page as the staff's preview.
	Preview bool
}

// view lays a worded package (pkgRender.worded) out for the page in w's language.
func (w *pkgWords) view(pg pkgPage, pc request.PackageContent) pkgView {
	other := "en"
	if w.lang == "en" {
		other = "ja"
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(pg.Location).Format("2006-01-02 15:04")
	}
	long := func(t time.Time) string {
		layout := "2006年1月2日 15:04 MST"
		if w.lang == "en" {
			layout = "2 January 2006, 15:04 MST"
		}
		return t.In(pg.Location).Format(layout)
	}
	v := pkgView{Lang: w.lang, OtherLang: other, OtherName: w.T("package.lang_switch"), Style: template.CSS(packageCSS),
		Ref: pc.Reference, Kinds: w.labels("kind", pc.Kinds), Generated: long(pc.GeneratedAt),
		Purpose: slices.Contains(pc.Kinds, flows.KindPurposeNotice.Name()), PolicyURL: pg.PolicyURL,
		OtherURL: pg.OtherURL, DataURL: pg.DataURL, CSVURL: pg.CSVURL, Preview: pg.Preview, NoLink: pg.Expires.IsZero()}
	if !v.NoLink {
		v.Expires = long(pg.Expires)
		if pg.Expires.After(pg.Now) {
			// Calendar days in the desk's zone: the link works to the end of its last day.
			day := func(t time.Time) time.Time {
				y, m, d := t.In(pg.Location).Date()
				return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
			}
			v.DaysLeft = int(day(pg.Expires).Sub(day(pg.Now)).Hours() / 24)
			v.LastDay = v.DaysLeft == 0
		}
	}
	d := pc.Data
	v.Profile = pkgProfile{UserID: d.UserID, Language: w.label("lang", d.Profile.Language),
		FirstSeen: stamp(d.Profile.FirstSeen), LastSeen: stamp(d.Profile.LastSeen)}
	for _, k := range slices.Sorted(maps.Keys(d.Profile.Fields)) {
		v.Profile.Fields = append(v.Profile.Fields, [2]string{w.label("field", k), visibleControls(d.Profile.Fields[k])})
	}
	for _, l := range d.Transcript {
		pl := pkgLine{At: stamp(l.At), Role: l.Role, Who: w.label("who", l.Role), Text: visibleControls(l.Text)}
		switch {
		case l.Kind == pkgKindButton && l.Text != w.T("package.tapped_unknown"):
			pl.Extra = w.T("package.tapped")
		case l.Role == bot.RoleCustomer && pkgMedia(l.Kind) && pl.Text != w.T("package.media", "Kind", w.label("media", l.Kind)):
			pl.Extra = w.T("package.media", "Kind", w.label("media", l.Kind))
		}
		v.Transcript = append(v.Transcript, pl)
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
		v.Requests = append(v.Requests, w.request(x, pc.Reference, stamp, pg.Location))
	}
	for _, f := range pc.Files {
		v.Files = append(v.Files, pkgFile{Name: visibleControls(f.Name), Size: w.size(f.Size), SHA256: f.SHA256,
			URL: pg.FileURL(f.ID)})
	}
	return v
}

// request lays out one of the customer's requests: what they told the desk, their documents'
// metadata and the summary they confirmed.
func (w *pkgWords) request(x request.RequestOverview, this string, stamp func(time.Time) string, loc *time.Location) pkgRequest {
	pr := pkgRequest{Ref: x.Reference, Kinds: w.labels("kind", x.Kinds), Requester: w.label("requester", x.Requester),
		Status: w.label("status", x.Status), Received: stamp(x.ReceivedAt), Due: x.DueAt.In(loc).Format(time.DateOnly),
		This: x.Reference == this, RepName: visibleControls(x.RepresentativeName), Name: visibleControls(x.Name),
		Address: visibleControls(x.Address), Phone: nationalPhone(x.Phone), Correction: visibleControls(x.Correction),
		Target: visibleControls(x.Target), DocsBy: w.label("docsby", x.DocumentsBy), Outcome: visibleControls(x.Outcome),
		Language: w.label("lang", x.Language), Summary: visibleControls(x.ConfirmedSummary)}
	if x.Requester == string(flows.RequesterLegal) {
		pr.RepKind = w.label("rep", x.RepresentativeKind)
	}
	if x.Delivery != string(flows.DeliveryNone) {
		pr.Delivery = w.label("delivery", x.Delivery)
	}
	if x.Ground != "" {
		pr.Ground, pr.GroundText = w.label("ground", x.Ground), visibleControls(strings.TrimSpace(x.GroundText))
	}
	for _, d := range x.Documents {
		pd := pkgDocument{Number: w.T("package.doc_number", "N", d.Number), Received: stamp(d.ReceivedAt),
			Status: w.label("doc_status", d.Status), Deleted: stamp(d.DeletedAt)}
		if d.ContentType != "" {
			pd.Type = w.label("doctype", d.ContentType)
		}
		if d.Size > 0 {
			pd.Size = w.size(d.Size)
		}
		if d.Status == request.DocRejected && d.Problem != "" {
			pd.Status = w.T("package.doc_rejected_because", "Problem", w.label("doc_problem", d.Problem))
		}
		pr.Documents = append(pr.Documents, pd)
	}
	return pr
}

// pkgMedia reports whether a customer line's kind is a message that is not text.
func pkgMedia(kind string) bool {
	switch kind {
	case "", "text", pkgKindButton, pkgKindFollow, pkgKindUnfollow:
		return false
	}
	return true
}

// page renders the package page: worded in lang, laid out for pg.
func (r *pkgRender) page(lang string, pg pkgPage, pc request.PackageContent) ([]byte, error) {
	w := r.vocab[pkgLang(lang, "")]
	var buf bytes.Buffer
	err := r.pages[w.lang].Execute(&buf, w.view(pg, r.worded(w.lang, pc)))
	return buf.Bytes(), err
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
