package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/store"
)

// entryForm is the staff entry form: what was typed (kept on errors) and the problems found.
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
			h.deny(c, http.StatusNotFound, "There is no consent record for this person.")
			return
		}
		f.Subject = s
	}
	h.renderEntry(c, f)
}

func (h *Console) renderEntry(c *gin.Context, f entryForm) {
	data := gin.H{"Title": "Record an opt-out", "Form": f, "Channels": channelOptions(), "Via": receivedVia,
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
	rec := store.ConsentRecord{ID: "staff/" + f.Entry, Source: flows.SourceStaff, Staff: h.me(c).Email}
	switch flows.ConsentAction(f.Action) {
	case flows.ConsentOptOut, flows.ConsentOptIn:
		rec.Action = flows.ConsentAction(f.Action)
	default:
		f.Action = string(flows.ConsentOptOut)
		f.Errors["action"] = "Choose opt-out or opt-in."
	}
	for _, name := range c.PostFormArray("channel") {
		if ch, ok := flows.ParseChannel(name); ok {
			rec.Channels |= ch
			f.Channels[name] = true
		}
	}
	if rec.Channels == 0 {
		f.Errors["channel"] = "Choose at least one channel."
	}
	var ok bool
	if f.Name != "" {
		if rec.Name, ok = flows.NormalizeName(f.Name); !ok {
			f.Errors["name"] = "The name must be 1–60 characters, without digits or @."
		}
	}
	if f.Phone != "" {
		if rec.Phone, ok = flows.NormalizePhone(f.Phone); !ok {
			f.Errors["phone"] = "Not a Japanese phone number. Write it like 090-1234-5678 or 086-123-4567."
		}
	}
	if f.Email != "" {
		if rec.Email, ok = flows.NormalizeEmail(f.Email); !ok {
			f.Errors["email"] = "Not an e-mail address. Write it like hanako@example.jp."
		}
	}
	if f.Extra != "" {
		if rec.Postal, rec.Customer, ok = flows.NormalizePostalOrCustomer(f.Extra); !ok {
			f.Errors["extra"] = "Write a postal code (700-0975) or a customer number (letters, digits, hyphens; 3–20)."
		}
	}
	if utf8.RuneCountInString(f.Note) > maxNoteRunes {
		f.Errors["note"] = "The note is limited to 1,000 characters."
	}
	via := ""
	for _, v := range receivedVia {
		if v.Value == f.Via {
			via = v.Value
		}
	}
	if via == "" {
		f.Via, f.Errors["via"] = "phone", "Choose how the request was received."
	}
	now := h.Now()
	rec.At = now
	if f.Received != "" {
		day, err := time.ParseInLocation("2006-01-02", f.Received, tokyo)
		today := now.In(tokyo).Format("2006-01-02")
		switch {
		case err != nil || day.Year() < 2000:
			f.Errors["received"] = "Write the date like 2026-04-01."
		case f.Received > today:
			f.Errors["received"] = "The date cannot be in the future."
		case f.Received < today:
			rec.At = day // the customer's statement is dated that day
		}
	}
	switch {
	case f.Subject != "":
		if len(h.Consents.History(f.Subject)) == 0 {
			h.deny(c, http.StatusNotFound, "There is no consent record for this person.")
			return
		}
		rec.Subject = f.Subject
	case rec.Phone != "":
		rec.Subject = "staff:" + rec.Phone
	case rec.Email != "":
		rec.Subject = "staff:" + rec.Email
	case rec.Customer != "":
		rec.Subject = "staff:" + rec.Customer
	case f.Errors["phone"] == "" && f.Errors["email"] == "" && f.Errors["extra"] == "":
		f.Errors["who"] = "Give a phone number, an e-mail address or a customer number, so that marketing can match the person."
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
		_ = c.Error(err)
		c.Abort()
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
