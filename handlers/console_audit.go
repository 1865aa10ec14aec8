package handlers

import (
	"context"

	"github.com/enemane/privacybot/bot/account"
	"github.com/gin-gonic/gin"
)

// AuditStore is the console's insert-only audit log (store.Store).
type AuditStore interface {
	Audit(ctx context.Context, e account.AuditEntry) error
	AuditLog(ctx context.Context, limit int) ([]account.AuditEntry, error)
}

// audit records who did what (the staff member of the request, if any) from which address. A failed
// write is logged; the action it records has happened.
func (h *Console) audit(c *gin.Context, action, target, detail string) {
	actor := ""
	if st, ok := c.Get(ctxStaff); ok {
		actor = st.(account.Staff).Email
	}
	if err := h.Audit.Audit(c.Request.Context(), account.AuditEntry{At: h.Now(), Actor: actor, Action: action,
		Target: target, Detail: detail, IP: c.ClientIP()}); err != nil {
		h.Log.Error("audit write failed", "action", action, "err", err)
	}
}

func (h *Console) auditPage(c *gin.Context) {
	list, err := h.Audit.AuditLog(c.Request.Context(), 300)
	if err != nil {
		internalError(c, err)
		return
	}
	h.render(c, "audit", gin.H{"Title": h.words(c).T("console.audit.title"), "Entries": list})
}
