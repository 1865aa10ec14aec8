package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/store"
)

func (h *Console) staffPage(c *gin.Context) {
	list, err := h.Store.ListStaff(c.Request.Context())
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	h.render(c, "staff", gin.H{"Title": "Staff", "Staff": list, "Roles": []string{store.RoleAdmin, store.RoleAgent, store.RoleMarketing},
		"Problem": map[string]string{"exists": "That e-mail already has an account.", "input": "Check the e-mail, role and password (at least 12 characters).",
			"self": "You cannot remove your own admin rights or disable yourself."}[c.Query("e")],
		"Flash": map[string]string{"added": "Account added.", "updated": "Account updated."}[c.Query("m")]})
}

func (h *Console) addStaff(c *gin.Context) {
	email := strings.ToLower(strings.TrimSpace(c.PostForm("email")))
	role, name := c.PostForm("role"), strings.TrimSpace(c.PostForm("name"))
	if !strings.Contains(email, "@") || len(email) > 200 || len(name) > 100 || !store.ValidRole(role) {
		c.Redirect(http.StatusSeeOther, "/console/staff?e=input")
		return
	}
	hash, err := store.HashPassword(c.PostForm("password"), h.HashCost)
	if err != nil {
		c.Redirect(http.StatusSeeOther, "/console/staff?e=input")
		return
	}
	err = h.Store.AddStaff(c.Request.Context(), store.Staff{Email: email, Name: name, Role: role, Hash: hash, CreatedAt: h.Now()})
	if errors.Is(err, store.ErrExists) {
		c.Redirect(http.StatusSeeOther, "/console/staff?e=exists")
		return
	}
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	h.audit(c, "staff.add", email, "role="+role)
	c.Redirect(http.StatusSeeOther, "/console/staff?m=added")
}

// updateStaff changes an account's role, disables or enables it, or sets a new password.
func (h *Console) updateStaff(c *gin.Context) {
	email := c.PostForm("email")
	st, err := h.Store.StaffByEmail(c.Request.Context(), email)
	if errors.Is(err, store.ErrNotFound) {
		h.deny(c, http.StatusNotFound, "There is no such account.")
		return
	}
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	role, disabled := c.PostForm("role"), c.PostForm("disabled") == "1"
	if !store.ValidRole(role) {
		c.Redirect(http.StatusSeeOther, "/console/staff?e=input")
		return
	}
	if email == h.me(c).Email && (role != store.RoleAdmin || disabled) {
		c.Redirect(http.StatusSeeOther, "/console/staff?e=self")
		return
	}
	detail := "role=" + role
	if disabled {
		detail += " disabled"
	}
	st.Role, st.Disabled = role, disabled
	if pw := c.PostForm("password"); pw != "" {
		if st.Hash, err = store.HashPassword(pw, h.HashCost); err != nil {
			c.Redirect(http.StatusSeeOther, "/console/staff?e=input")
			return
		}
		detail += " password changed"
	}
	if err := h.Store.SaveStaff(c.Request.Context(), st); err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	_ = h.Store.DeleteSessionsOf(c.Request.Context(), email)
	h.forget(email)
	h.audit(c, "staff.update", email, detail)
	c.Redirect(http.StatusSeeOther, "/console/staff?m=updated")
}

func (h *Console) cannedPage(c *gin.Context) {
	list, err := h.Store.CannedReplies(c.Request.Context())
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	h.render(c, "canned", gin.H{"Title": "Canned replies", "Canned": list, "Problem": map[string]string{"input": "Give a title, a language and a text (at most 5,000 characters)."}[c.Query("e")]})
}

func (h *Console) saveCanned(c *gin.Context) {
	lang, title, text := c.PostForm("lang"), strings.TrimSpace(c.PostForm("title")), strings.TrimSpace(c.PostForm("text"))
	if (lang != "ja" && lang != "en") || title == "" || text == "" || len([]rune(text)) > 5000 || len([]rune(title)) > 80 {
		c.Redirect(http.StatusSeeOther, "/console/canned?e=input")
		return
	}
	id := c.PostForm("id")
	if id == "" {
		id = randomToken()[:16]
	}
	if err := h.Store.SaveCanned(c.Request.Context(), store.CannedReply{ID: id, Lang: lang, Title: title, Text: text}); err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	h.audit(c, "canned.save", id, lang+" "+title)
	c.Redirect(http.StatusSeeOther, "/console/canned")
}

func (h *Console) deleteCanned(c *gin.Context) {
	id := c.PostForm("id")
	if err := h.Store.DeleteCanned(c.Request.Context(), id); err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	h.audit(c, "canned.delete", id, "")
	c.Redirect(http.StatusSeeOther, "/console/canned")
}

func (h *Console) auditPage(c *gin.Context) {
	list, err := h.Store.AuditLog(c.Request.Context(), 300)
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	h.render(c, "audit", gin.H{"Title": "Audit log", "Entries": list})
}
