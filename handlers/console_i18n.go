package handlers

import (
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/enemane/privacybot/bot/account"
	"github.com/gin-gonic/gin"
	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// The console's languages: Japanese (the default, also for an account without a choice and for
// the login page) and English. Messages live in locales/console.{ja,en}.toml under "console.".
var consoleLangs = []string{"ja", "en"}

// staffLang is the console language of an account.
func staffLang(st account.Staff) string {
	if st.Lang == "en" {
		return "en"
	}
	return "ja"
}

// words is the console's vocabulary in one language: catalog messages, the names of codes, times.
type words struct {
	lang string
	loc  *i18n.Localizer
	log  *slog.Logger
}

func newWords(b *i18n.Bundle, lang string, log *slog.Logger) *words {
	return &words{lang: lang, loc: i18n.NewLocalizer(b, lang), log: log}
}

// words returns the vocabulary of the request's staff member (Japanese when nobody is logged in).
func (h *Console) words(c *gin.Context) *words {
	h.init()
	lang := "ja"
	if st, ok := c.Get(ctxStaff); ok {
		lang = staffLang(st.(account.Staff))
	}
	return h.vocab[lang]
}

// T renders a message; kv are its template data as key, value pairs (a "Count" also picks the
// plural form). A missing message is logged and shown as its ID (the catalog tests prevent it).
func (w *words) T(id string, kv ...any) string {
	return localize(w.loc, w.log, "console message missing", w.lang, id, kv...)
}

// localize renders the message id of a catalog (the console's, the package pages'): kv are its
// template data as key, value pairs, and a "Count" among them also picks the plural form. A missing
// message is logged as missing and shown as its ID.
func localize(loc *i18n.Localizer, log *slog.Logger, missing, lang, id string, kv ...any) string {
	cfg := &i18n.LocalizeConfig{MessageID: id}
	if len(kv) > 0 {
		data := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			k := fmt.Sprint(kv[i])
			data[k] = kv[i+1]
			if k == "Count" {
				cfg.PluralCount = kv[i+1]
			}
		}
		cfg.TemplateData = data
	}
	s, err := loc.Localize(cfg)
	if err != nil {
		log.Error(missing, "id", id, "lang", lang, "err", err)
		if s == "" {
			return id
		}
	}
	return s
}

// HTML renders a message whose catalog text carries markup (<b>, <code>): the template data are
// escaped before they go in, the catalog's own markup is kept.
func (w *words) HTML(id string, kv ...any) template.HTML {
	esc := make([]any, len(kv))
	for i, v := range kv {
		if i%2 == 1 {
			v = template.HTMLEscapeString(fmt.Sprint(v))
		}
		esc[i] = v
	}
	return template.HTML(w.T(id, esc...))
}

// lookup returns a message, or false when the catalog has none (quietly: for codes that may be old).
func (w *words) lookup(id string) (string, bool) { return lookupMessage(w.loc, id) }

// lookupMessage returns a message of a catalog, or false when it has none (quietly).
func lookupMessage(loc *i18n.Localizer, id string) (string, bool) {
	s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id})
	return s, err == nil && s != ""
}

// codeKinds are the coded values the console names through the catalog ("console.label.<kind>_<code>",
// a dot in a code written as "_") with every code each kind has. The catalog test checks that all of them exist in both languages.
var codeKinds = map[string][]string{
	"role":          {account.RoleAdmin, account.RoleAgent, account.RoleMarketing, account.RolePrivacy},
	"status":        {"queued", "assigned", "closed", "cancelled"},
	"priority":      {"high", "normal"},
	"reason":        {"complaint", "human", "misses"},
	"category":      {"data", "conduct", "service", "other"},
	"resolution":    append(append([]string{}, resolutions...), "handed_back"),
	"rating":        {"good", "ok", "bad"},
	"lang":          {"ja", "en"},
	"kind":          {"image", "video", "audio", "file", "location", "sticker"},
	"channel":       {"phone", "mail", "email", "visit", "campaign", "survey", "line"},
	"source":        {"line_chat", "line_block", "line_unblock", "staff_entry"},
	"via":           {"phone", "letter", "email", "counter", "other"},
	"notice":        {"queued", "joined"},
	"action":        append(append(auditActions, requestAuditActions...), reviewAuditActions...),
	"review_reason": {"unanswered", "unsure", "not_helped"},
	"pii":           {"phone", "email", "name", "postal"},
}

// auditActions are the actions the console writes to the audit log (shown in words, the code on hover).
var auditActions = []string{"login", "login.failed", "access.denied", "login.throttled", "login.one_time_password_used", "logout",
	"chat.open", "claim", "claim.refused", "claim.failed", "reply", "reply.refused", "reply.failed", "note", "note.refused",
	"note.failed", "handback", "handback.refused", "handback.failed", "close", "close.refused", "close.failed",
	"staff.add", "staff.update", "canned.save", "canned.delete", "settings.update",
	"optout.csv", "optout.history", "optout.entry", "optout.entry.failed", "outbox.retry", "retention.sweep"}

// Label names a code of a kind (status, reason, resolution, …) in this language. A code the catalog
// does not know (e.g. a resolution stored in English before resolutions were codes) is shown as it is.
func (w *words) Label(kind, code string) string {
	if code == "" {
		return ""
	}
	if kind == "resolution" && code == handedBack {
		code = "handed_back"
	}
	if s, ok := w.lookup("console.label." + kind + "_" + strings.ReplaceAll(code, ".", "_")); ok {
		return s
	}
	return code
}

// errorTitle is the heading of the error page for a status.
func (w *words) errorTitle(status int) string {
	switch status {
	case 400, 401, 403, 404, 500, 503:
		return w.T("console.error.title_" + strconv.Itoa(status))
	}
	return w.T("console.error.title_500")
}

// errorStatuses are the statuses errorTitle names (the catalog test checks them).
var errorStatuses = []int{400, 401, 403, 404, 500, 503}

// scriptIDs are the words console.js shows (passed in the page's data-i18n attribute as JSON).
var scriptIDs = map[string]string{
	"open":    "console.script.open",
	"live":    "console.script.live",
	"offline": "console.script.offline",
}

func (w *words) scriptWords() string {
	m := make(map[string]string, len(scriptIDs))
	for k, id := range scriptIDs {
		m[k] = w.T(id)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// Ago says how long since t, coarsely.
func (w *words) Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return w.T("console.time.just_now")
	case d < time.Hour:
		return w.T("console.time.minutes", "Count", int(d.Minutes()))
	case d < 48*time.Hour:
		return w.T("console.time.hours", "Hours", int(d.Hours()), "Minutes", int(d.Minutes())%60)
	}
	return w.T("console.time.days", "Count", int(d.Hours()/24))
}

var tokyo = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return l
	}
	return time.FixedZone("JST", 9*3600)
}()

// clock is a time in Japan, to the minute (the same in both languages).
func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(tokyo).Format("2006-01-02 15:04")
}
