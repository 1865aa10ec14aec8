package handlers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/store"
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

// ConsoleStore is what the console reads and writes in the store besides escalations.
type ConsoleStore interface {
	Transcript(ctx context.Context, userID string, limit int) ([]bot.TranscriptEntry, error)
	SearchEscalations(ctx context.Context, q string, since time.Time, limit int) ([]bot.Escalation, error)
	StaffByEmail(ctx context.Context, email string) (store.Staff, error)
	ListStaff(ctx context.Context) ([]store.Staff, error)
	AddStaff(ctx context.Context, st store.Staff) error
	SaveStaff(ctx context.Context, st store.Staff) error
	CreateSession(ctx context.Context, se store.Session) error
	SessionByID(ctx context.Context, id string) (store.Session, error)
	DeleteSession(ctx context.Context, id string) error
	DeleteSessionsOf(ctx context.Context, email string) error
	CannedReplies(ctx context.Context) ([]store.CannedReply, error)
	SaveCanned(ctx context.Context, c store.CannedReply) error
	DeleteCanned(ctx context.Context, id string) error
	Audit(ctx context.Context, e store.AuditEntry) error
	AuditLog(ctx context.Context, limit int) ([]store.AuditEntry, error)
}

// Console is the staff console at /console: server-rendered pages, forms with CSRF tokens, live
// updates by server-sent events. Roles are checked on the server for every route.
type Console struct {
	Chats Chats
	Store ConsoleStore
	Live  Live
	// Consents is the consent history behind the opt-out pages (nil: the pages answer 503).
	Consents OptOutStore
	Log      *slog.Logger
	// SecureCookies sets the Secure flag (BASE_URL is https).
	SecureCookies bool
	// SessionTTL is how long a login lasts (default 12 h).
	SessionTTL time.Duration
	// HashCost is the bcrypt cost of new passwords (0: default; tests use the minimum).
	HashCost int
	Now      func() time.Time

	once    sync.Once
	pages   map[string]*template.Template
	limiter *loginLimiter
	mu      sync.Mutex
	cache   map[string]cachedSession
}

type cachedSession struct {
	se     store.Session
	staff  store.Staff
	loaded time.Time
}

const (
	sessionCookie   = "pb_session"
	loginCSRFCookie = "pb_login"
	ctxStaff        = "console.staff"
	ctxSession      = "console.session"
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
		h.limiter = newLoginLimiter()
		h.cache = map[string]cachedSession{}
		h.pages = map[string]*template.Template{}
		funcs := template.FuncMap{"ago": ago, "clock": clock, "visible": visibleControls, "label": label}
		base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(consoleFS, "templates/layout.html"))
		names, _ := fs.Glob(consoleFS, "templates/*.html")
		for _, n := range names {
			name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
			if name == "layout" {
				continue
			}
			h.pages[name] = template.Must(template.Must(base.Clone()).ParseFS(consoleFS, n))
		}
	})
}

// Register mounts the console's routes.
func (h *Console) Register(e *gin.Engine) {
	h.init()
	g := e.Group("/console", h.secureHeaders)
	static, _ := fs.Sub(consoleFS, "templates/static")
	g.StaticFS("/static", http.FS(static))
	g.GET("/login", h.loginPage)
	g.POST("/login", h.login)

	authed := g.Group("", h.authenticate, h.csrf)
	authed.POST("/logout", h.logout)
	authed.GET("", h.home)
	authed.GET("/", h.home)

	chats := authed.Group("", h.requireRole(store.RoleAdmin, store.RoleAgent))
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

	admin := authed.Group("", h.requireRole(store.RoleAdmin))
	admin.GET("/staff", h.staffPage)
	admin.POST("/staff", h.addStaff)
	admin.POST("/staff/update", h.updateStaff)
	admin.GET("/canned", h.cannedPage)
	admin.POST("/canned", h.saveCanned)
	admin.POST("/canned/delete", h.deleteCanned)
	admin.GET("/audit", h.auditPage)

	authed.GET("/marketing", h.requireRole(store.RoleAdmin, store.RoleMarketing), h.marketingPage)
	h.registerOptOuts(authed)
}

// secureHeaders: a strict content security policy (no inline script, so even text that escaped
// escaping could not run), no framing, no caching of pages with personal data.
func (h *Console) secureHeaders(c *gin.Context) {
	hd := c.Writer.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
	c.Next()
}

// authenticate loads the session: pages redirect to the login, API calls get 401.
func (h *Console) authenticate(c *gin.Context) {
	tok, err := c.Cookie(sessionCookie)
	if err == nil && tok != "" {
		if se, st, ok := h.session(c.Request.Context(), tok); ok {
			c.Set(ctxSession, se)
			c.Set(ctxStaff, st)
			c.Next()
			return
		}
	}
	if c.Request.Method == http.MethodGet && !strings.Contains(c.FullPath(), "/api/") && !strings.HasSuffix(c.FullPath(), "/events") {
		c.Redirect(http.StatusSeeOther, "/console/login")
		c.Abort()
		return
	}
	h.deny(c, http.StatusUnauthorized, "Please log in.")
}

func (h *Console) session(ctx context.Context, token string) (store.Session, store.Staff, bool) {
	id := hashToken(token)
	now := h.Now()
	h.mu.Lock()
	cs, ok := h.cache[id]
	h.mu.Unlock()
	if !ok || now.Sub(cs.loaded) > 30*time.Second {
		se, err := h.Store.SessionByID(ctx, id)
		if err != nil {
			return se, store.Staff{}, false
		}
		st, err := h.Store.StaffByEmail(ctx, se.Email)
		if err != nil {
			return se, st, false
		}
		cs = cachedSession{se: se, staff: st, loaded: now}
		h.mu.Lock()
		h.cache[id] = cs
		h.mu.Unlock()
	}
	if now.After(cs.se.Expires) || cs.staff.Disabled {
		return cs.se, cs.staff, false
	}
	return cs.se, cs.staff, true
}

func (h *Console) forget(email string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, cs := range h.cache {
		if cs.se.Email == email {
			delete(h.cache, id)
		}
	}
}

// csrf checks the form token of every state-changing request: no or a wrong token is 403.
func (h *Console) csrf(c *gin.Context) {
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		c.Next()
		return
	}
	se := c.MustGet(ctxSession).(store.Session)
	got := c.PostForm("csrf")
	if got == "" {
		got = c.GetHeader("X-CSRF-Token")
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(se.CSRF)) != 1 {
		h.deny(c, http.StatusForbidden, "The form has expired or did not come from the console. Reload the page and try again.")
		return
	}
	c.Next()
}

func (h *Console) requireRole(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		st := c.MustGet(ctxStaff).(store.Staff)
		for _, r := range roles {
			if st.Role == r {
				c.Next()
				return
			}
		}
		h.deny(c, http.StatusForbidden, "Your role does not give access to this page.")
	}
}

func (h *Console) deny(c *gin.Context, status int, msg string) {
	c.Status(status)
	h.render(c, "error", gin.H{"Title": http.StatusText(status), "Message": msg})
	c.Abort()
}

// render executes a page with the common data (the staff member and the CSRF token).
func (h *Console) render(c *gin.Context, page string, data gin.H) {
	h.init()
	if st, ok := c.Get(ctxStaff); ok {
		data["Me"] = st
	}
	if se, ok := c.Get(ctxSession); ok {
		data["CSRF"] = se.(store.Session).CSRF
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	if c.Writer.Status() == 0 {
		c.Status(http.StatusOK)
	}
	if err := h.pages[page].ExecuteTemplate(c.Writer, "layout.html", data); err != nil {
		h.Log.Error("console template", "page", page, "err", err)
	}
}

func (h *Console) audit(c *gin.Context, action, target, detail string) {
	actor := ""
	if st, ok := c.Get(ctxStaff); ok {
		actor = st.(store.Staff).Email
	}
	if err := h.Store.Audit(c.Request.Context(), store.AuditEntry{At: h.Now(), Actor: actor, Action: action,
		Target: target, Detail: detail, IP: c.ClientIP()}); err != nil {
		h.Log.Error("audit write failed", "action", action, "err", err)
	}
}

func (h *Console) me(c *gin.Context) store.Staff { return c.MustGet(ctxStaff).(store.Staff) }

func actor(st store.Staff) bot.Actor {
	name := st.Name
	if name == "" {
		name = st.Email
	}
	return bot.Actor{ID: st.Email, Name: name, Admin: st.Role == store.RoleAdmin}
}

func (h *Console) home(c *gin.Context) {
	if h.me(c).Role == store.RoleMarketing {
		c.Redirect(http.StatusSeeOther, "/console/marketing")
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/queue")
}

func (h *Console) marketingPage(c *gin.Context) {
	h.render(c, "marketing", gin.H{"Title": "Marketing"})
}

// --- login ---

func (h *Console) loginPage(c *gin.Context) {
	tok := randomToken()
	http.SetCookie(c.Writer, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/console/login", HttpOnly: true,
		Secure: h.SecureCookies, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	h.render(c, "login", gin.H{"Title": "Log in", "LoginCSRF": tok, "Error": c.Query("e")})
}

func (h *Console) login(c *gin.Context) {
	ck, _ := c.Cookie(loginCSRFCookie)
	form := c.PostForm("csrf")
	if ck == "" || form == "" || subtle.ConstantTimeCompare([]byte(ck), []byte(form)) != 1 {
		h.deny(c, http.StatusForbidden, "The login form has expired. Reload the page and try again.")
		return
	}
	email := strings.ToLower(strings.TrimSpace(c.PostForm("email")))
	pw := c.PostForm("password")
	keys := []string{"ip:" + c.ClientIP(), "email:" + email}
	if wait := h.limiter.wait(h.Now(), keys...); wait > 0 {
		h.audit(c, "login.throttled", email, "")
		secs := int((wait + time.Second - 1) / time.Second)
		c.Header("Retry-After", strconv.Itoa(secs))
		c.Status(http.StatusTooManyRequests)
		h.render(c, "login", gin.H{"Title": "Log in", "LoginCSRF": ck, "Error": "throttled", "Wait": secs})
		return
	}
	st, err := h.Store.StaffByEmail(c.Request.Context(), email)
	ok := false
	if err == nil {
		ok = st.PasswordMatches(pw) && !st.Disabled
	} else {
		store.CheckNobody(pw)
	}
	if !ok {
		h.limiter.fail(h.Now(), keys...)
		h.audit(c, "login.failed", email, "")
		c.Status(http.StatusUnauthorized)
		h.render(c, "login", gin.H{"Title": "Log in", "LoginCSRF": ck, "Error": "bad"})
		return
	}
	h.limiter.reset(keys...)
	if st.OneTime {
		// The password was printed to a log: it opens one session and no more.
		used := st
		used.Hash = nil
		if err := h.Store.SaveStaff(c.Request.Context(), used); err != nil {
			_ = c.Error(err)
			return
		}
		h.audit(c, "login.one_time_password_used", st.Email, "")
	}
	tok := randomToken()
	se := store.Session{ID: hashToken(tok), Email: st.Email, CSRF: randomToken(), Expires: h.Now().Add(h.SessionTTL), CreatedAt: h.Now()}
	if err := h.Store.CreateSession(c.Request.Context(), se); err != nil {
		_ = c.Error(err)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/console", HttpOnly: true,
		Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode, Expires: se.Expires})
	c.Set(ctxStaff, st)
	h.audit(c, "login", st.Email, "")
	c.Redirect(http.StatusSeeOther, "/console")
}

func (h *Console) logout(c *gin.Context) {
	se := c.MustGet(ctxSession).(store.Session)
	_ = h.Store.DeleteSession(c.Request.Context(), se.ID)
	h.mu.Lock()
	delete(h.cache, se.ID)
	h.mu.Unlock()
	h.audit(c, "logout", se.Email, "")
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: "", Path: "/console", MaxAge: -1, HttpOnly: true,
		Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
	c.Redirect(http.StatusSeeOther, "/console/login")
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) string {
	s := sha256.Sum256([]byte(t))
	return hex.EncodeToString(s[:])
}

var errBadForm = errors.New("bad form")
