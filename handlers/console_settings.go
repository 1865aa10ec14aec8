package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/flows"
)

// maxNameRunes bounds a display name: it goes into a LINE message (「担当の〇〇です」).
const maxNameRunes = flows.MaxStaffNameRunes

// validDisplayName accepts a name customers may be shown: at most maxNameRunes characters, no
// control or bidirectional-control characters; empty only where allowed (the admin adding an
// account may leave it for the staff member to set).
func validDisplayName(name string, emptyOK bool) bool {
	if name == "" {
		return emptyOK
	}
	if utf8.RuneCountInString(name) > maxNameRunes || !utf8.ValidString(name) {
		return false
	}
	return !strings.ContainsFunc(name, func(r rune) bool { return unicode.IsControl(r) || isBidiControl(r) })
}

// validLang accepts a console language ("" is the default, Japanese).
func validLang(l string) bool { return l == "" || l == "ja" || l == "en" }

// settingsPage lets every staff member set their own display name (what customers are told when they
// join a chat) and their console language.
func (h *Console) settingsPage(c *gin.Context) {
	me := h.me(c)
	h.renderSettings(c, me.Name, staffLang(me), c.Query("m") == "saved", "")
}

func (h *Console) renderSettings(c *gin.Context, name, lang string, saved bool, problem string) {
	me, w := h.me(c), h.words(c)
	preview := name
	if preview == "" {
		preview = actor(me).Name
	}
	h.render(c, "settings", gin.H{"Title": w.T("console.settings.title"), "Name": name, "Choice": lang,
		"Langs": langOptions(w), "Saved": saved, "Problem": problem, "MaxName": maxNameRunes,
		// What customers read when this staff member joins, in both languages the bot speaks.
		"PreviewJa": h.vocab["ja"].T(flows.NoticeJoined, "Name", preview),
		"PreviewEn": h.vocab["en"].T(flows.NoticeJoined, "Name", preview)})
}

func (h *Console) saveSettings(c *gin.Context) {
	name, lang := strings.TrimSpace(c.PostForm("name")), c.PostForm("lang")
	if !validLang(lang) || lang == "" {
		lang = staffLang(h.me(c))
	}
	if !validDisplayName(name, false) {
		c.Status(http.StatusUnprocessableEntity)
		h.renderSettings(c, name, lang, false, "console.settings.problem_name")
		return
	}
	// The account as stored now (the session's copy may be up to 30 s old).
	st, err := h.Accounts.StaffByEmail(c.Request.Context(), h.me(c).Email)
	if err != nil {
		internalError(c, err)
		return
	}
	var changes []string
	if st.Name != name {
		changes = append(changes, fmt.Sprintf("name %q -> %q", st.Name, name))
	}
	if staffLang(st) != lang {
		changes = append(changes, "lang "+staffLang(st)+" -> "+lang)
	}
	if len(changes) > 0 {
		st.Name, st.Lang = name, lang
		if err := h.Accounts.SaveStaff(c.Request.Context(), st); err != nil {
			internalError(c, err)
			return
		}
		h.forget(st.Email)
		h.audit(c, "settings.update", st.Email, strings.Join(changes, "; "))
	}
	c.Redirect(http.StatusSeeOther, "/console/settings?m=saved")
}
