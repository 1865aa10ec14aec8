package handlers

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Pinger reports whether the store answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Health serves the liveness and readiness checks.
type Health struct {
	Store Pinger
}

// Live answers GET /healthz: the process is up.
func (h *Health) Live(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

// Ready answers GET /readyz: 200 when the store answers, 503 otherwise.
func (h *Health) Ready(c *gin.Context) {
	if err := h.Store.Ping(c.Request.Context()); err != nil {
		fail(c, http.StatusServiceUnavailable, "store_unavailable", "the store does not answer", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
