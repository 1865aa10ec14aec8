package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/gin-gonic/gin"
)

// StaffDirectory lists and adds staff accounts (store.Store); changes to one account go through
// AccountStore.
type StaffDirectory interface {
	ListStaff(ctx context.Context) ([]account.Staff, error)
	AddStaff(ctx context.Context, st account.Staff) error
}

// CannedStore keeps the canned replies (store.Store).
type CannedStore interface {
	CannedReplies(ctx context.Context) ([]account.CannedReply, error)
	SaveCanned(ctx context.Context, c account.CannedReply) error
	DeleteCanned(ctx context.Context, id string) error
}

var staffRoles = []string{account.RoleAdmin, account.RoleAgent, account.RolePrivacy, account.RoleMarketing}

func (h *Console) staffPage(c *gin.Context) {
	list, err := h.Directory.ListStaff(c.Request.Context())
	if err != nil {
		internalError(c, err)
		return
	}
	w := h.words(c)
	roles := make([]option, len(staffRoles))
	for i, r := range staffRoles {
		roles[i] = option{r, w.Label("role", r)}
	}
	h.render(c, "staff", gin.H{"Title": w.T("console.staff.title"), "Staff": list, "Roles": roles, "Langs": langOptions(w),
		"Problem": map[string]string{"exists": "console.staff.problem_exists", "input": "console.staff.problem_input",
			"self": "console.staff.problem_self"}[c.Query("e")],
		"Flash": map[string]string{"added": "console.staff.flash_added", "updated": "console.staff.flash_updated"}[c.Query("m")]})
}

// langOptions are the console's languages, each named in its own language.
func langOptions(w *words) []option {
	out := make([]option, len(consoleLangs))
	for i, l := range consoleLangs {
		out[i] = option{l, w.T("console.settings.lang_" + l)}
	}
	return out
}

func (h *Console) addStaff(c *gin.Context) {
	email := strings.ToLower(strings.TrimSpace(c.PostForm("email")))
	role, name, lang := c.PostForm("role"), strings.TrimSpace(c.PostForm("name")), c.PostForm("lang")
	if !strings.Contains(email, "@") || len(email) > 200 || !validDisplayName(name, true) || !account.ValidRole(role) || !validLang(lang) {
		c.Redirect(http.StatusSeeOther, "/console/staff?e=input")
		return
	}
	hash, err := account.HashPassword(c.PostForm("password"), h.HashCost)
	if err != nil {
		c.Redirect(http.StatusSeeOther, "/console/staff?e=input")
		return
	}
	err = h.Directory.AddStaff(c.Request.Context(), account.Staff{Email: email, Name: name, Role: role, Lang: lang, Hash: hash, CreatedAt: h.Now()})
	if errors.Is(err, account.ErrExists) {
		c.Redirect(http.StatusSeeOther, "/console/staff?e=exists")
		return
	}
	if err != nil {
		internalError(c, err)
		return
	}
	h.audit(c, "staff.add", email, "role="+role)
	c.Redirect(http.StatusSeeOther, "/console/staff?m=added")
}

// updateStaff changes an account's role, disables or enables it, or sets a new password.
func (h *Console) updateStaff(c *gin.Context) {
	email := c.PostForm("email")
	st, err := h.Accounts.StaffByEmail(c.Request.Context(), email)
	if errors.Is(err, bot.ErrNotFound) {
		h.deny(c, http.StatusNotFound, "console.error.no_account")
		return
	}
	if err != nil {
		internalError(c, err)
		return
	}
	role, disabled := c.PostForm("role"), c.PostForm("disabled") == "1"
	if !account.ValidRole(role) {
		c.Redirect(http.StatusSeeOther, "/console/staff?e=input")
		return
	}
	if email == h.me(c).Email && (role != account.RoleAdmin || disabled) {
		c.Redirect(http.StatusSeeOther, "/console/staff?e=self")
		return
	}
	detail := "role=" + role
	if disabled {
		detail += " disabled"
	}
	st.Role, st.Disabled = role, disabled
	if pw := c.PostForm("password"); pw != "" {
		if st.Hash, err = account.HashPassword(pw, h.HashCost); err != nil {
			c.Redirect(http.StatusSeeOther, "/console/staff?e=input")
			return
		}
		st.OneTime = false // a password an admin sets lasts (local mode's printed one was for one login)
		detail += " password changed"
	}
	if err := h.Accounts.SaveStaff(c.Request.Context(), st); err != nil {
		internalError(c, err)
		return
	}
	_ = h.Sessions.DeleteSessionsOf(c.Request.Context(), email)
	h.forget(email)
	h.audit(c, "staff.update", email, detail)
	c.Redirect(http.StatusSeeOther, "/console/staff?m=updated")
}

func (h *Console) cannedPage(c *gin.Context) {
	list, err := h.Canned.CannedReplies(c.Request.Context())
	if err != nil {
		internalError(c, err)
		return
	}
	w := h.words(c)
	h.render(c, "canned", gin.H{"Title": w.T("console.canned.title"), "Canned": list,
		"Problem": map[string]string{"input": "console.canned.problem_input"}[c.Query("e")]})
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
	if err := h.Canned.SaveCanned(c.Request.Context(), account.CannedReply{ID: id, Lang: lang, Title: title, Text: text}); err != nil {
		internalError(c, err)
		return
	}
	h.audit(c, "canned.save", id, lang+" "+title)
	c.Redirect(http.StatusSeeOther, "/console/canned")
}

func (h *Console) deleteCanned(c *gin.Context) {
	id := c.PostForm("id")
	if err := h.Canned.DeleteCanned(c.Request.Context(), id); err != nil {
		internalError(c, err)
		return
	}
	h.audit(c, "canned.delete", id, "")
	c.Redirect(http.StatusSeeOther, "/console/canned")
}
