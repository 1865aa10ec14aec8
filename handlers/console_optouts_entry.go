package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/flows"
)

// entryForm is the staff entry form: what was typed (kept on errors) and the problems found (field →
// catalog ID).
type entryForm struct {
	Entry, Subject, Action, Via, Received string
	Channels                              map[string]bool
	Name, Phone, Email, Extra, Note       string
	Errors                                map[string]string
}

const maxNoteRunes = 1000

func (h *Console) optoutForm(c *gin.Context) {
	f := entryForm{Entry: randomToken(), Action: string(flows.ConsentOptOut), Via: "phone",
		Received: h.Now().In(tokyo).Format("2006-01-02"), Channels: map[string]bool{}}
	if s := c.Query("subject"); s != "" {
		if len(h.Consents.History(s)) == 0 {
			h.deny(c, http.StatusNotFound, "console.error.no_consent_record")
			return
		}
		f.Subject = s
	}
	h.renderEntry(c, f)
}

func (h *Console) renderEntry(c *gin.Context, f entryForm) {
	w := h.words(c)
	data := gin.H{"Title": w.T("console.entry.title"), "Form": f, "Channels": channelOptions(w), "Via": viaOptions(w),
		"Today": h.Now().In(tokyo).Format("2006-01-02")}
	if f.Subject != "" {
		data["SubjectShown"] = visibleControls(f.Subject)
		data["BackURL"] = historyLink(f.Subject)
	}
	h.render(c, "optouts_new", data)
}

// optoutEntry records an opt-out or opt-in received by phone, letter or otherwise: validated with the
// chat flow's validators, recorded with source staff_entry and the staff member, so that it reaches the
// API, the check and the webhook like any other change.
func (h *Console) optoutEntry(c *gin.Context) {
	f := entryForm{Entry: c.PostForm("entry"), Subject: c.PostForm("subject"), Action: c.PostForm("action"),
		Via: c.PostForm("via"), Received: strings.TrimSpace(c.PostForm("received")), Channels: map[string]bool{},
		Name: strings.TrimSpace(c.PostForm("name")), Phone: strings.TrimSpace(c.PostForm("phone")),
		Email: strings.TrimSpace(c.PostForm("email")), Extra: strings.TrimSpace(c.PostForm("extra")),
		Note: strings.TrimSpace(c.PostForm("note")), Errors: map[string]string{}}
	if !validEntryID(f.Entry) {
		f.Entry = randomToken()
	}
	rec := consent.Record{ID: "staff/" + f.Entry, Source: flows.SourceStaff, Staff: h.me(c).Email}
	switch flows.ConsentAction(f.Action) {
	case flows.ConsentOptOut, flows.ConsentOptIn:
		rec.Action = flows.ConsentAction(f.Action)
	default:
		f.Action = string(flows.ConsentOptOut)
		f.Errors["action"] = "console.entry.err_action"
	}
	for _, name := range c.PostFormArray("channel") {
		if ch, ok := flows.ParseChannel(name); ok {
			rec.Channels |= ch
			f.Channels[name] = true
		}
	}
	if rec.Channels == 0 {
		f.Errors["channel"] = "console.entry.err_channel"
	}
	var ok bool
	if f.Name != "" {
		if rec.Name, ok = flows.NormalizeName(f.Name); !ok {
			f.Errors["name"] = "console.entry.err_name"
		}
	}
	if f.Phone != "" {
		if rec.Phone, ok = flows.NormalizePhone(f.Phone); !ok {
			f.Errors["phone"] = "console.entry.err_phone"
		}
	}
	if f.Email != "" {
		if rec.Email, ok = flows.NormalizeEmail(f.Email); !ok {
			f.Errors["email"] = "console.entry.err_email"
		}
	}
	if f.Extra != "" {
		if rec.Postal, rec.Customer, ok = flows.NormalizePostalOrCustomer(f.Extra); !ok {
			f.Errors["extra"] = "console.entry.err_extra"
		}
	}
	if utf8.RuneCountInString(f.Note) > maxNoteRunes {
		f.Errors["note"] = "console.entry.err_note"
	}
	via := ""
	if slices.Contains(viaCodes, f.Via) {
		via = f.Via
	}
	if via == "" {
		f.Via, f.Errors["via"] = "phone", "console.entry.err_via"
	}
	now := h.Now()
	rec.At = now
	if f.Received != "" {
		day, err := time.ParseInLocation("2006-01-02", f.Received, tokyo)
		today := now.In(tokyo).Format("2006-01-02")
		switch {
		case err != nil || day.Year() < 2000:
			f.Errors["received"] = "console.entry.err_date"
		case f.Received > today:
			f.Errors["received"] = "console.entry.err_future"
		case f.Received < today:
			rec.At = day // the customer's statement is dated that day
		}
	}
	switch {
	case f.Subject != "":
		if len(h.Consents.History(f.Subject)) == 0 {
			h.deny(c, http.StatusNotFound, "console.error.no_consent_record")
			return
		}
		rec.Subject = f.Subject
	case rec.Phone != "":
		rec.Subject = consent.StaffSubject(rec.Phone)
	case rec.Email != "":
		rec.Subject = consent.StaffSubject(rec.Email)
	case rec.Customer != "":
		rec.Subject = consent.StaffSubject(rec.Customer)
	case f.Errors["phone"] == "" && f.Errors["email"] == "" && f.Errors["extra"] == "":
		f.Errors["who"] = "console.entry.err_who"
	}
	if len(f.Errors) > 0 {
		c.Status(http.StatusUnprocessableEntity)
		h.renderEntry(c, f)
		return
	}
	rec.Reference = flows.ConsentReference(now)
	rec.WordingID, rec.WordingText = "staff_entry."+via, f.Note
	if err := h.Consents.Record(c.Request.Context(), rec); err != nil {
		h.audit(c, "optout.entry.failed", rec.Subject, err.Error())
		internalError(c, err)
		return
	}
	for _, r := range h.Consents.History(rec.Subject) {
		if r.ID == rec.ID { // a resubmitted form: the first submission's record
			rec = r
		}
	}
	h.audit(c, "optout.entry", rec.Subject, string(rec.Action)+" "+strings.Join(rec.Channels.Names(), ",")+
		" via="+via+" ref="+rec.Reference)
	c.Redirect(http.StatusSeeOther, historyLink(rec.Subject)+"?recorded="+url.QueryEscape(rec.Reference))
}

// validEntryID accepts the form's one-time entry ID (randomToken): a resubmitted form records once.
func validEntryID(s string) bool {
	if len(s) < 20 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
