package handlers

import (
	"fmt"
	"html/template"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
	"github.com/nicksnyder/go-i18n/v2/i18n"
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
