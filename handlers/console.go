package handlers

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/locales"
)

//go:embed templates
var consoleFS embed.FS

// Chats is what the console needs of the escalation manager (bot.Handoffs).
type Chats interface {
	Queue() []bot.Escalation
	Get(ctx context.Context, id string) (bot.Escalation, error)
	Claim(ctx context.Context, id string, who bot.Actor) (bot.Escalation, error)
	Reply(ctx context.Context, id string, who bot.Actor, msgID, text string) error
	Note(ctx context.Context, id string, who bot.Actor, noteID, text string) error
	HandBack(ctx context.Context, id string, who bot.Actor) (bot.Escalation, error)
	Close(ctx context.Context, id string, who bot.Actor, resolution string, ask bool) (bot.Escalation, error)
	MarkRead(ctx context.Context, id string) error
}

// Live is the notification hub of the console's server-sent events.
type Live interface {
	Subscribe() (<-chan bot.Notice, func())
}

// Console is the staff console at /console: server-rendered pages in the staff member's language,
// forms with CSRF tokens, live updates by server-sent events. Roles are checked on the server for
// every route.
//
// The store is reached through one small interface per feature, each declared in the file of the
// feature that uses it; UseBackend sets them all from one value (the server's *store.Store).
type Console struct {
	Chats Chats
	Live  Live
	// Consents is the consent history behind the opt-out pages (nil: the pages answer 503).
	Consents OptOutStore
	// Outbox is the durable outbox of outgoing deliveries behind the admin's page (nil: the page says
	// no destination is configured).
	Outbox OutboxAdmin
	// Requests is the request service behind the pages of personal-data requests (nil: the pages
	// answer 503 and the chat page shows no request badge).
	Requests RequestDesk
	// Retention is the sweeper behind the admin's page of retention periods (nil: the page answers
	// 503).
	Retention RetentionDesk
	// Review is the review inbox, where staff teach the bot (nil: the page answers 503).
	Review ReviewDesk
	// Dashboard is the figures page of admins and agents (nil: the page answers 503).
	Dashboard *Dashboard

	Sessions    SessionStore     // logins (console_session.go)
	Accounts    AccountStore     // one staff account: login, settings (console_auth.go)
	Directory   StaffDirectory   // every staff account: the admin's staff page (console_admin.go)
	Canned      CannedStore      // canned replies (console_admin.go)
	Audit       AuditStore       // the audit log (console_audit.go)
	Transcripts TranscriptStore  // customers' conversations (console_chats.go)
	Search      EscalationSearch // past escalations (console_search.go)

	// Bundle holds the catalogs the console speaks from (nil: locales.NewBundle()).
	Bundle *i18n.Bundle
	Log    *slog.Logger
	// SecureCookies sets the Secure flag (BASE_URL is https).
	SecureCookies bool
	// SessionTTL is how long a login lasts (default 12 h).
	SessionTTL time.Duration
	// HashCost is the bcrypt cost of new passwords (0: default; tests use the minimum).
	HashCost int
	Now      func() time.Time

	once    sync.Once
	pages   map[string]map[string]*template.Template // language → page → template
	vocab   map[string]*words                        // language → words
	limiter *loginLimiter
	mu      sync.Mutex
	cache   map[string]cachedSession
}

const (
	ctxStaff   = "consoleStaff"
	ctxSession = "consoleSession"
)

func (h *Console) init() {
	h.once.Do(func() {
		if h.Now == nil {
			h.Now = time.Now
		}
		if h.Log == nil {
			h.Log = slog.Default()
		}
		if h.SessionTTL == 0 {
			h.SessionTTL = 12 * time.Hour
		}
		if h.Sessions == nil || h.Accounts == nil || h.Audit == nil {
			panic("handlers: the console needs Sessions, Accounts and Audit (see UseBackend)")
		}
		if h.Bundle == nil {
			b, err := locales.NewBundle()
			if err != nil {
				panic("handlers: console catalogs: " + err.Error())
			}
			h.Bundle = b
		}
		h.limiter = newLoginLimiter()
		h.cache = map[string]cachedSession{}
		h.vocab = map[string]*words{}
		h.pages = map[string]map[string]*template.Template{}
		for _, lang := range consoleLangs {
			w := newWords(h.Bundle, lang, h.Log)
			h.vocab[lang] = w
			h.pages[lang] = parsePages(w)
		}
	})
}

// Backend is every part of the console that lives in the store; the server's *store.Store is one.
type Backend interface {
	SessionStore
	AccountStore
	StaffDirectory
	CannedStore
	AuditStore
	TranscriptStore
	EscalationSearch
}

// UseBackend sets every store part of the console that is still unset from one backend, and returns
// the console.
func (h *Console) UseBackend(b Backend) *Console {
	setIfNil(&h.Sessions, SessionStore(b))
	setIfNil(&h.Accounts, AccountStore(b))
	setIfNil(&h.Directory, StaffDirectory(b))
	setIfNil(&h.Canned, CannedStore(b))
	setIfNil(&h.Audit, AuditStore(b))
	setIfNil(&h.Transcripts, TranscriptStore(b))
	setIfNil(&h.Search, EscalationSearch(b))
	return h
}

func setIfNil[T comparable](part *T, v T) {
	var zero T
	if *part == zero {
		*part = v
	}
}

// parsePages parses every page with the layout, its functions speaking one language.
func parsePages(w *words) map[string]*template.Template {
	funcs := template.FuncMap{"t": w.T, "th": w.HTML, "label": w.Label, "clock": clock, "visible": visibleControls}
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(consoleFS, "templates/layout.html"))
	names, _ := fs.Glob(consoleFS, "templates/*.html")
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := n[len("templates/") : len(n)-len(".html")]
		if name == "layout" {
			continue
		}
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(consoleFS, n))
	}
	return pages
}

// Register mounts the console's routes. The router sends unmatched paths under /console to NotFound.
func (h *Console) Register(e *gin.Engine) {
	h.init()
	g := e.Group("/console", h.secureHeaders, h.consoleErrors)
	static, _ := fs.Sub(consoleFS, "templates/static")
	g.StaticFS("/static", http.FS(static))
	g.GET("/login", h.loginPage)
	g.POST("/login", h.login)

	authed := g.Group("", h.authenticate, h.csrf)
	authed.POST("/logout", h.logout)
	authed.GET("", h.home)
	authed.GET("/", h.home)
	authed.GET("/settings", h.settingsPage)
	authed.POST("/settings", h.saveSettings)

	chats := authed.Group("", h.requireRole(account.RoleAdmin, account.RoleAgent, account.RolePrivacy),
		h.needs(h.Chats != nil && h.Live != nil && h.Transcripts != nil && h.Search != nil && h.Canned != nil))
	chats.GET("/queue", h.queuePage)
	chats.GET("/api/queue", h.queueJSON)
	chats.GET("/events", h.events)
	chats.GET("/search", h.searchPage)
	chats.GET("/chats/:id", h.chatPage)
	chats.GET("/api/chats/:id", h.chatJSON)
	chats.POST("/chats/:id/claim", h.claim)
	chats.POST("/chats/:id/reply", h.reply)
	chats.POST("/chats/:id/note", h.note)
	chats.POST("/chats/:id/handback", h.handBack)
	chats.POST("/chats/:id/close", h.closeChat)

	admin := authed.Group("", h.requireRole(account.RoleAdmin))
	admin.GET("/staff", h.needs(h.Directory != nil), h.staffPage)
	admin.POST("/staff", h.needs(h.Directory != nil), h.addStaff)
	admin.POST("/staff/update", h.updateStaff)
	admin.GET("/canned", h.needs(h.Canned != nil), h.cannedPage)
	admin.POST("/canned", h.needs(h.Canned != nil), h.saveCanned)
	admin.POST("/canned/delete", h.needs(h.Canned != nil), h.deleteCanned)
	admin.GET("/audit", h.auditPage)
	h.registerOutbox(admin)
	h.registerRetention(admin)

	authed.GET("/marketing", h.requireRole(account.RoleAdmin, account.RoleMarketing), h.marketingPage)
	h.registerOptOuts(authed)
	h.registerReview(authed)
	h.registerDashboard(authed)
	h.registerRequests(g)
}

// needs answers 503 when a feature's backend is not configured in this deployment.
func (h *Console) needs(ok bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !ok {
			h.deny(c, http.StatusServiceUnavailable, "console.error.unavailable")
			return
		}
		c.Next()
	}
}

// secureHeaders: a strict content security policy (no inline script, so even text that escaped
// escaping could not run), no framing, no caching of pages with personal data.
func (h *Console) secureHeaders(c *gin.Context) {
	setSecurityHeaders(c)
	c.Next()
}

func setSecurityHeaders(c *gin.Context) {
	hd := c.Writer.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
}

func (h *Console) me(c *gin.Context) account.Staff { return c.MustGet(ctxStaff).(account.Staff) }

// actor is the staff member as the escalation manager knows them; Name is what the customer is told.
func actor(st account.Staff) bot.Actor {
	name := st.Name
	if name == "" {
		name = st.Email
	}
	return bot.Actor{ID: st.Email, Name: name, Admin: st.Role == account.RoleAdmin}
}

func (h *Console) home(c *gin.Context) {
	switch h.me(c).Role {
	case account.RoleMarketing:
		c.Redirect(http.StatusSeeOther, "/console/marketing")
		return
	case account.RolePrivacy:
		c.Redirect(http.StatusSeeOther, "/console/requests")
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/queue")
}

func (h *Console) marketingPage(c *gin.Context) {
	h.render(c, "marketing", gin.H{"Title": h.words(c).T("console.marketing.title")})
}

// internalError aborts the request with err; consoleErrors turns it into the error page (or JSON).
func internalError(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}
