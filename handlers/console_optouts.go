package handlers

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/text/unicode/norm"

	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/flows"
)

// OptOutStore is what the console's opt-out pages need of the consent records (consent.Consents): the
// reads of the marketing API, one person's history, and recording a staff entry.
type OptOutStore interface {
	ConsentReader
	History(subject string) []consent.Record
	Record(ctx context.Context, rec consent.Record) error
}

// optoutPageSize is how many people one page of the opt-out list shows.
const optoutPageSize = 50

// viaCodes are the ways a staff entry can reach the desk; the record's wording ID says which
// (staff_entry.<code>). The console names them through the catalog (console.label.via_<code>).
var viaCodes = []string{"phone", "letter", "email", "counter", "other"}

// channelOptions are the marketing channels: machine name and the console's words for it.
func channelOptions(w *words) []option {
	out := make([]option, 0, 7)
	for _, ch := range flows.ChannelList() {
		out = append(out, option{ch.Name(), w.Label("channel", ch.Name())})
	}
	return out
}

func sourceOptions(w *words) []option {
	out := make([]option, 0, len(codeKinds["source"]))
	for _, s := range codeKinds["source"] {
		out = append(out, option{s, w.Label("source", s)})
	}
	return out
}

func viaOptions(w *words) []option {
	out := make([]option, len(viaCodes))
	for i, v := range viaCodes {
		out[i] = option{v, w.Label("via", v)}
	}
	return out
}

func knownSource(s string) bool { return slices.Contains(codeKinds["source"], s) }

// registerOptOuts mounts the opt-out pages (marketing and admin only; agents get 403).
func (h *Console) registerOptOuts(authed *gin.RouterGroup) {
	g := authed.Group("/optouts", h.requireRole(account.RoleAdmin, account.RoleMarketing), h.needConsents)
	g.GET("", h.optoutList)
	g.POST("", h.optoutEntry)
	authed.GET("/optouts.csv", h.requireRole(account.RoleAdmin, account.RoleMarketing), h.needConsents, h.optoutCSV)
	g.GET("/new", h.optoutForm)
	g.GET("/:subject", h.optoutHistory)
}

func (h *Console) needConsents(c *gin.Context) {
	if h.Consents == nil {
		h.deny(c, http.StatusServiceUnavailable, "console.error.no_consents")
		return
	}
	c.Next()
}

// --- the list ---

// optoutFilter is the list's query: channel, source, opted out since (a date in Japan), free text, and
// whether people who opted back in are shown.
type optoutFilter struct {
	Channel string // machine name, "" for any
	Source  string
	Since   string // 2006-01-02
	Q       string
	All     bool
	Page    int

	ch     flows.Channels
	since  time.Time
	phone  string // Q read as a phone number (E.164)
	email  string // Q read as an e-mail address
	digits string // Q's digits when Q looks like part of a phone number
	text   string // Q folded for substring matching
}

// readOptoutFilter reads the list's query; problem is the catalog ID of what was ignored in it.
func readOptoutFilter(c *gin.Context) (f optoutFilter, problem string) {
	f = optoutFilter{Channel: c.Query("channel"), Source: c.Query("source"), Since: strings.TrimSpace(c.Query("since")),
		Q: strings.TrimSpace(c.Query("q")), All: c.Query("state") == "all", Page: 1}
	if p, err := strconv.Atoi(c.Query("page")); err == nil && p > 1 {
		f.Page = p
	}
	if f.Channel != "" {
		if ch, ok := flows.ParseChannel(f.Channel); ok && ch != flows.ChanAll {
			f.ch = ch
		} else {
			f.Channel, problem = "", "console.optouts.problem_channel"
		}
	}
	if f.Source != "" && !knownSource(f.Source) {
		f.Source, problem = "", "console.optouts.problem_source"
	}
	if f.Since != "" {
		t, err := time.ParseInLocation("2006-01-02", f.Since, tokyo)
		if err != nil {
			f.Since, problem = "", "console.optouts.problem_date"
		}
		f.since = t
	}
	if len(f.Q) > 200 {
		f.Q = f.Q[:200]
	}
	if f.Q != "" {
		f.phone, _ = flows.NormalizePhone(f.Q)
		f.email, _ = flows.NormalizeEmail(f.Q)
		folded := norm.NFKC.String(f.Q)
		f.text = strings.ToLower(folded)
		if strings.Trim(folded, "0123456789 -‐‑–—−ー().+") == "" {
			f.digits = strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, folded)
			if len(f.digits) < 3 {
				f.digits = ""
			}
		}
	}
	return f, problem
}

// query is the filter as a query string, for the pager and the history's back link.
func (f optoutFilter) query(page int) string {
	v := url.Values{}
	for k, s := range map[string]string{"channel": f.Channel, "source": f.Source, "since": f.Since, "q": f.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.All {
		v.Set("state", "all")
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// sourceOf finds the source of the record with the given Seq (cached for one request).
type sourceCache struct {
	h    *Console
	seen map[int64]flows.ConsentSource
}

func (s *sourceCache) of(seq int64) flows.ConsentSource {
	if src, ok := s.seen[seq]; ok {
		return src
	}
	recs, _, _ := s.h.Consents.Since(seq-1, 1)
	var src flows.ConsentSource
	if len(recs) == 1 {
		src = recs[0].Source
	}
	s.seen[seq] = src
	return src
}

// match reports whether a person passes the filter. The channel, source and date filters look at the
// channels that count: those opted out now (or, with "everyone", every channel with a record) and,
// with a channel filter, only that channel.
func (f *optoutFilter) match(s *consent.State, src *sourceCache) bool {
	out := s.OptedOut()
	if !f.All && out == 0 {
		return false
	}
	if f.Q != "" && !f.matchText(s) {
		return false
	}
	if f.ch == 0 && f.Source == "" && f.since.IsZero() {
		return true
	}
	for i, ch := range flows.ChannelList() {
		st := s.Channels[i]
		if st.Seq == 0 || (!f.All && !st.OptedOut) || (f.ch != 0 && f.ch != ch) {
			continue
		}
		if !f.since.IsZero() && st.At.Before(f.since) {
			continue
		}
		if f.Source != "" && string(src.of(st.Seq)) != f.Source {
			continue
		}
		return true
	}
	return false
}

// matchText: a phone number in any format matches the normalised phone, an e-mail address the
// address; otherwise any part of the name, phone (also as 090…), e-mail, postal code or customer number.
func (f *optoutFilter) matchText(s *consent.State) bool {
	if f.phone != "" && s.Phone == f.phone {
		return true
	}
	if f.email != "" && s.Email == f.email {
		return true
	}
	if f.digits != "" && s.Phone != "" && strings.Contains(nationalPhone(s.Phone), f.digits) {
		return true
	}
	for _, v := range []string{s.Name, s.Phone, s.Email, s.Postal, s.Customer} {
		if v != "" && strings.Contains(strings.ToLower(norm.NFKC.String(v)), f.text) {
			return true
		}
	}
	return false
}

// nationalPhone writes an E.164 Japanese number as dialled in Japan (+819012345678 → 09012345678).
func nationalPhone(e164 string) string {
	if rest, ok := strings.CutPrefix(e164, "+81"); ok {
		return "0" + rest
	}
	return e164
}

// optoutRow is one person in the list.
type optoutRow struct {
	Link                             string
	Subject, Kind                    string
	Name, Phone, Email, Postal, Cust string
	Channels                         []string
	OptedOutAt, Updated, Source      string
	AllChannels, OptedIn             bool
}

func (w *words) toOptoutRow(s consent.State, src *sourceCache) optoutRow {
	r := optoutRow{Link: historyLink(s.Subject), Subject: visibleControls(s.Subject), Kind: w.subjectKind(s.Subject),
		Name: visibleControls(s.Name), Phone: nationalPhone(s.Phone), Email: visibleControls(s.Email),
		Postal: s.Postal, Cust: s.Customer, Updated: clock(s.UpdatedAt)}
	out := s.OptedOut()
	r.AllChannels, r.OptedIn = out == flows.ChanAll, out == 0
	var latest consent.ChannelState
	for i, ch := range flows.ChannelList() {
		st := s.Channels[i]
		if !st.OptedOut {
			continue
		}
		r.Channels = append(r.Channels, w.Label("channel", ch.Name()))
		if st.At.After(latest.At) {
			latest = st
		}
	}
	if latest.Seq != 0 {
		r.OptedOutAt = clock(latest.At)
		r.Source = w.Label("source", string(src.of(latest.Seq)))
	}
	return r
}

func historyLink(subject string) string { return "/console/optouts/" + url.PathEscape(subject) }

// subjectKind says where a person's records come from: LINE, or a staff entry.
func (w *words) subjectKind(subject string) string {
	switch kind, _ := consent.SubjectKind(subject); kind {
	case "line":
		return w.T("console.optouts.kind_line")
	case "staff":
		return w.T("console.optouts.kind_staff")
	}
	return ""
}

func (h *Console) optoutList(c *gin.Context) {
	w := h.words(c)
	f, problem := readOptoutFilter(c)
	src := &sourceCache{h: h, seen: map[int64]flows.ConsentSource{}}
	// Newest change first. Only the states up to the requested page are kept (the list can be long).
	need := f.Page * optoutPageSize
	var kept []consent.State
	total := 0
	newestFirst := func(a, b consent.State) int { return int(b.LastSeq - a.LastSeq) }
	_ = h.Consents.Subjects(512, func(s consent.State) error {
		if !f.match(&s, src) {
			return nil
		}
		total++
		kept = append(kept, s)
		if len(kept) >= 2*need+optoutPageSize {
			slices.SortFunc(kept, newestFirst)
			kept = kept[:need]
		}
		return nil
	})
	slices.SortFunc(kept, newestFirst)
	pages := max(1, (total+optoutPageSize-1)/optoutPageSize)
	from := min((f.Page-1)*optoutPageSize, len(kept))
	to := min(from+optoutPageSize, len(kept))
	rows := make([]optoutRow, 0, to-from)
	for _, s := range kept[from:to] {
		rows = append(rows, w.toOptoutRow(s, src))
	}
	data := gin.H{"Title": w.T("console.optouts.title"), "Rows": rows, "F": f, "Total": total, "Page": f.Page, "Pages": pages,
		"From": from + 1, "To": to, "Channels": channelOptions(w), "Sources": sourceOptions(w), "Problem": problem,
		"Filtered": f.Channel != "" || f.Source != "" || f.Since != "" || f.Q != "" || f.All}
	if f.Page > 1 {
		data["PrevURL"] = "/console/optouts" + f.query(f.Page-1)
	}
	if f.Page < pages {
		data["NextURL"] = "/console/optouts" + f.query(f.Page+1)
	}
	h.render(c, "optouts", data)
}

// --- CSV ---

// optoutCSV is the API's CSV export (serveOptOutCSV) behind the console's session instead of a token.
func (h *Console) optoutCSV(c *gin.Context) {
	h.audit(c, "optout.csv", "", "")
	serveOptOutCSV(c, h.Now(), h.Consents)
}
