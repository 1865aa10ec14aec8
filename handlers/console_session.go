package handlers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/enemane/privacybot/bot/account"
	"github.com/gin-gonic/gin"
)

// SessionStore keeps the console's logins (store.Store).
type SessionStore interface {
	CreateSession(ctx context.Context, se account.Session) error
	SessionByID(ctx context.Context, id string) (account.Session, error)
	DeleteSession(ctx context.Context, id string) error
	// DeleteSessionsOf ends every session of an account (disabled, password changed).
	DeleteSessionsOf(ctx context.Context, email string) error
}

const sessionCookie = "pb_session"

// cachedSession is a session and its account as loaded at most 30 s ago.
type cachedSession struct {
	se     account.Session
	staff  account.Staff
	loaded time.Time
}

// sessionCacheTTL is how long a loaded session and account are trusted before they are read again
// (a change made on another instance reaches this one within that time; this instance forgets at once).
const sessionCacheTTL = 30 * time.Second

// session returns the live session of a cookie's token and its (enabled) account.
func (h *Console) session(ctx context.Context, token string) (account.Session, account.Staff, bool) {
	id := hashToken(token)
	now := h.Now()
	h.mu.Lock()
	cs, ok := h.cache[id]
	h.mu.Unlock()
	if !ok || now.Sub(cs.loaded) > sessionCacheTTL {
		se, err := h.Sessions.SessionByID(ctx, id)
		if err != nil {
			return se, account.Staff{}, false
		}
		st, err := h.Accounts.StaffByEmail(ctx, se.Email)
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

// sessionOf loads the request's session, if its cookie names a live one, into the context.
func (h *Console) sessionOf(c *gin.Context) bool {
	tok, err := c.Cookie(sessionCookie)
	if err != nil || tok == "" {
		return false
	}
	se, st, ok := h.session(c.Request.Context(), tok)
	if !ok {
		return false
	}
	c.Set(ctxSession, se)
	c.Set(ctxStaff, st)
	return true
}

// forget drops the cached sessions of an account, so that the next request reads it again (after its
// role, password, name or language changed).
func (h *Console) forget(email string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, cs := range h.cache {
		if cs.se.Email == email {
			delete(h.cache, id)
		}
	}
}

// startSession stores a new session for st and sets its cookie.
func (h *Console) startSession(c *gin.Context, st account.Staff) error {
	tok := randomToken()
	now := h.Now()
	se := account.Session{ID: hashToken(tok), Email: st.Email, CSRF: randomToken(), Expires: now.Add(h.SessionTTL), CreatedAt: now}
	if err := h.Sessions.CreateSession(c.Request.Context(), se); err != nil {
		return err
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/console", HttpOnly: true,
		Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode, Expires: se.Expires})
	return nil
}

// endSession deletes the request's session and its cookie.
func (h *Console) endSession(c *gin.Context, se account.Session) {
	_ = h.Sessions.DeleteSession(c.Request.Context(), se.ID)
	h.mu.Lock()
	delete(h.cache, se.ID)
	h.mu.Unlock()
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: "", Path: "/console", MaxAge: -1, HttpOnly: true,
		Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// randomToken is 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) string {
	s := sha256.Sum256([]byte(t))
	return hex.EncodeToString(s[:])
}
