package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/enemane/privacybot/bot/account"
	"github.com/gin-gonic/gin"
)

// render executes a page in the staff member's language with the common data: the staff member, the
// CSRF token, the page's language and the words the page's script needs.
func (h *Console) render(c *gin.Context, page string, data gin.H) {
	h.init()
	w := h.words(c)
	if st, ok := c.Get(ctxStaff); ok {
		data["Me"] = st
	}
	if se, ok := c.Get(ctxSession); ok {
		data["CSRF"] = se.(account.Session).CSRF
	}
	data["Lang"] = w.lang
	data["ScriptWords"] = w.scriptWords()
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := h.pages[w.lang][page].ExecuteTemplate(c.Writer, "layout.html", data); err != nil {
		h.Log.Error("console template", "page", page, "lang", w.lang, "err", err)
	}
}

// isAPI reports whether the request is one of the console's JSON routes (or its event stream): those
// answer errors in JSON, every other console route with the error page.
func isAPI(c *gin.Context) bool {
	p := c.Request.URL.Path
	return strings.HasPrefix(p, "/console/api/") || p == "/console/events"
}

// deny ends the request with an error: the console's error page in the staff member's language, or
// {"error": code, "message": …} on the JSON routes. msgID is the catalog ID of the explanation.
func (h *Console) deny(c *gin.Context, status int, msgID string) {
	w := h.words(c)
	msg := w.T(msgID)
	if isAPI(c) {
		c.AbortWithStatusJSON(status, gin.H{"error": errorCode(status), "message": msg})
		return
	}
	c.Status(status)
	h.render(c, "error", gin.H{"Title": w.errorTitle(status), "Message": msg, "Status": status})
	c.Abort()
}

func errorCode(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusInternalServerError:
		return "internal"
	}
	return strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_")
}

// statusMessages explain the statuses an error recorded with c.Error can carry.
var statusMessages = map[int]string{
	http.StatusBadRequest:          "console.error.bad_request",
	http.StatusNotFound:            "console.error.not_found",
	http.StatusForbidden:           "console.error.role",
	http.StatusServiceUnavailable:  "console.error.unavailable",
	http.StatusInternalServerError: "console.error.internal",
}

// consoleErrors turns what goes wrong inside the console into the console's error page: errors
// recorded with c.Error (the JSON routes leave them to ErrorHandler) and panics (logged with the
// stack; the JSON routes get a JSON 500).
func (h *Console) consoleErrors(c *gin.Context) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			panic(p)
		}
		h.Log.Error("panic in console handler", "route", c.FullPath(), "panic", p, "stack", string(debug.Stack()))
		if c.Writer.Written() {
			c.Abort()
			return
		}
		h.deny(c, http.StatusInternalServerError, "console.error.internal")
	}()
	c.Next()
	if len(c.Errors) == 0 || c.Writer.Written() || isAPI(c) {
		return
	}
	err := c.Errors.Last().Err
	status := http.StatusInternalServerError
	var he *Error
	if errors.As(err, &he) && statusMessages[he.Status] != "" {
		status = he.Status
	}
	lvl := slog.LevelInfo
	if status >= 500 {
		lvl = slog.LevelError
	}
	h.Log.Log(c.Request.Context(), lvl, "console request failed", "route", c.FullPath(), "status", status, "err", err)
	h.deny(c, status, statusMessages[status])
}

// NotFound answers unmatched paths under /console: the console's 404 page in the language of the
// staff member whose session the request carries (Japanese without one), or JSON under
// /console/api/. Other paths are left to gin's default.
func (h *Console) NotFound(c *gin.Context) {
	p := c.Request.URL.Path
	if p != "/console" && !strings.HasPrefix(p, "/console/") {
		return
	}
	h.init()
	setSecurityHeaders(c)
	h.sessionOf(c)
	h.deny(c, http.StatusNotFound, "console.error.not_found")
}
