// Package handlers holds the HTTP side of the bot: the LINE webhook, health checks, and (in later
// files) the staff console and the marketing API. Handlers are methods on small structs whose fields
// are interfaces declared here, by the consumer; errors flow through one middleware.
package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Error is an error with the HTTP status and public message it maps to. Anything else that reaches
// the middleware is a 500 whose detail stays in the log.
type Error struct {
	Status  int
	Code    string // stable machine-readable code
	Message string // safe to show the caller
	Err     error  // the cause, logged, never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// fail records err on the context and aborts the chain; ErrorHandler writes the response.
func fail(c *gin.Context, status int, code, msg string, cause error) {
	_ = c.Error(&Error{Status: status, Code: code, Message: msg, Err: cause})
	c.Abort()
}

// ErrorHandler writes the last error of a request as JSON {"error": code, "message": …}.
func ErrorHandler(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if len(c.Errors) == 0 || c.Writer.Written() {
			return
		}
		err := c.Errors.Last().Err
		var he *Error
		if !errors.As(err, &he) {
			he = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error", Err: err}
		}
		lvl := slog.LevelInfo
		if he.Status >= 500 {
			lvl = slog.LevelError
		}
		log.Log(c.Request.Context(), lvl, "request failed", "path", c.FullPath(), "status", he.Status, "code", he.Code, "err", he.Err)
		c.JSON(he.Status, gin.H{"error": he.Code, "message": he.Message})
	}
}

// AccessLog logs one line per request: method, route, status, duration. Never bodies or queries.
func AccessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		log.Debug("http", "method", c.Request.Method, "route", route, "status", c.Writer.Status(),
			"ms", float64(time.Since(start).Microseconds())/1000)
	}
}
