package handlers

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/enemane/privacybot/bot/account"
	"github.com/gin-gonic/gin"
)

// AccountStore reads and saves one staff account (store.Store): the login, the session's account,
// the staff member's own settings, and the admin's changes to an account.
type AccountStore interface {
	StaffByEmail(ctx context.Context, email string) (account.Staff, error)
	SaveStaff(ctx context.Context, st account.Staff) error
}

// loginCSRFCookie carries the login form's token (there is no session yet to hold it).
const loginCSRFCookie = "pb_login"

// authenticate loads the session: pages redirect to the login, API calls get 401.
func (h *Console) authenticate(c *gin.Context) {
	if h.sessionOf(c) {
		c.Next()
		return
	}
	if c.Request.Method == http.MethodGet && !isAPI(c) {
		c.Redirect(http.StatusSeeOther, "/console/login")
		c.Abort()
		return
	}
	h.deny(c, http.StatusUnauthorized, "console.error.login_first")
}

// csrf checks the form token of every state-changing request: no or a wrong token is 403.
func (h *Console) csrf(c *gin.Context) {
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		c.Next()
		return
	}
	se := c.MustGet(ctxSession).(account.Session)
	got := c.PostForm("csrf")
	if got == "" {
		got = c.GetHeader("X-CSRF-Token")
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(se.CSRF)) != 1 {
		h.deny(c, http.StatusForbidden, "console.error.csrf")
		return
	}
	c.Next()
}

func (h *Console) requireRole(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		st := h.me(c)
		for _, r := range roles {
			if st.Role == r {
				c.Next()
				return
			}
		}
		// A staff member reaching for a page their role does not open (an agent at a request's
		// documents) is worth knowing about: audited with the path and the role.
		h.audit(c, "access.denied", c.Request.URL.Path, st.Role)
		h.deny(c, http.StatusForbidden, "console.error.role")
	}
}

// loginPage is the log-in card (in Japanese: nobody is known yet).
func (h *Console) loginPage(c *gin.Context) {
	tok := randomToken()
	http.SetCookie(c.Writer, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/console/login", HttpOnly: true,
		Secure: h.SecureCookies, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	h.renderLogin(c, tok, "", 0)
}

func (h *Console) renderLogin(c *gin.Context, csrf, problem string, wait int) {
	h.render(c, "login", gin.H{"Title": h.words(c).T("console.login.title"), "LoginCSRF": csrf, "Error": problem, "Wait": wait})
}

func (h *Console) login(c *gin.Context) {
	ck, _ := c.Cookie(loginCSRFCookie)
	form := c.PostForm("csrf")
	if ck == "" || form == "" || subtle.ConstantTimeCompare([]byte(ck), []byte(form)) != 1 {
		h.deny(c, http.StatusForbidden, "console.error.login_expired")
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
		h.renderLogin(c, ck, "throttled", secs)
		return
	}
	st, err := h.Accounts.StaffByEmail(c.Request.Context(), email)
	ok := false
	if err == nil {
		ok = st.PasswordMatches(pw) && !st.Disabled
	} else {
		account.CheckNobody(pw)
	}
	if !ok {
		h.limiter.fail(h.Now(), keys...)
		h.audit(c, "login.failed", email, "")
		c.Status(http.StatusUnauthorized)
		h.renderLogin(c, ck, "bad", 0)
		return
	}
	h.limiter.reset(keys...)
	if st.OneTime {
		// The password was printed to a log: it opens one session and no more.
		used := st
		used.Hash = nil
		if err := h.Accounts.SaveStaff(c.Request.Context(), used); err != nil {
			internalError(c, err)
			return
		}
		h.audit(c, "login.one_time_password_used", st.Email, "")
	}
	if err := h.startSession(c, st); err != nil {
		internalError(c, err)
		return
	}
	c.Set(ctxStaff, st)
	h.audit(c, "login", st.Email, "")
	c.Redirect(http.StatusSeeOther, "/console")
}

func (h *Console) logout(c *gin.Context) {
	se := c.MustGet(ctxSession).(account.Session)
	h.endSession(c, se)
	h.audit(c, "logout", se.Email, "")
	c.Redirect(http.StatusSeeOther, "/console/login")
}
