package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/store"
)

// transcriptLimit is how many lines of a customer's conversation the console shows (the newest).
const transcriptLimit = 300

// queueRow is one escalation as the queue shows it (also the JSON of the live view).
type queueRow struct {
	ID        string `json:"id"`
	Customer  string `json:"customer"`
	Lang      string `json:"lang"`
	Reason    string `json:"reason"`
	Category  string `json:"category"`
	Priority  string `json:"priority"`
	Status    string `json:"status"`
	Assignee  string `json:"assignee"`
	Waiting   string `json:"waiting"`
	CreatedAt string `json:"createdAt"`
}

func toRow(e bot.Escalation, now time.Time) queueRow {
	return queueRow{ID: e.ID, Customer: customerName(e), Lang: string(e.Lang), Reason: label(e.Reason),
		Category: label(e.Category), Priority: e.Priority, Status: string(e.Status), Assignee: e.AssigneeName,
		Waiting: ago(e.CreatedAt, now), CreatedAt: clock(e.CreatedAt)}
}

func customerName(e bot.Escalation) string {
	if e.Name != "" {
		return visibleControls(e.Name)
	}
	if len(e.UserID) > 8 {
		return "LINE user …" + e.UserID[len(e.UserID)-6:]
	}
	return e.UserID
}

func (h *Console) rows() []queueRow {
	q := h.Chats.Queue()
	rows := make([]queueRow, len(q))
	for i, e := range q {
		rows[i] = toRow(e, h.Now())
	}
	return rows
}

func (h *Console) queuePage(c *gin.Context) {
	h.render(c, "queue", gin.H{"Title": "Queue", "Rows": h.rows(), "Live": "queue"})
}

func (h *Console) queueJSON(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"rows": h.rows()}) }

// line is one transcript entry as the console shows it: the role decides the look (customer, bot,
// staff, private note, system) and Text is always shown as text.
type line struct {
	ID    string `json:"id"`
	Role  string `json:"role"`
	Who   string `json:"who"`
	Text  string `json:"text"`
	At    string `json:"at"`
	Extra string `json:"extra,omitempty"`
}

func toLine(t bot.TranscriptEntry) line {
	l := line{ID: t.ID, Role: t.Role, Text: visibleControls(t.Text), At: clock(t.At)}
	switch t.Role {
	case bot.RoleCustomer:
		l.Who = "Customer"
		switch t.Kind {
		case "text":
		case string(bot.EventInternal):
			l.Role, l.Who, l.Text = bot.RoleSystem, "System", "The bot resumed the conversation."
		case string(bot.EventPostback):
			l.Extra = "tapped a button"
		case string(bot.EventFollow):
			l.Role, l.Who, l.Text = bot.RoleSystem, "System", "The customer added the account as a friend."
		case string(bot.EventUnfollow):
			l.Role, l.Who, l.Text = bot.RoleSystem, "System", "The customer blocked the account."
		default:
			l.Extra = "sent a " + t.Kind + " (not shown)"
		}
	case bot.RoleBot:
		l.Who = "Bot"
	case bot.RoleStaff:
		l.Who = "Staff"
	case bot.RoleNote:
		l.Who = "Private note (not sent)"
	default:
		l.Role, l.Who = bot.RoleSystem, "System"
	}
	return l
}

func (h *Console) loadChat(c *gin.Context) (bot.Escalation, []line, bool) {
	e, err := h.Chats.Get(c.Request.Context(), c.Param("id"))
	if errors.Is(err, bot.ErrNotFound) {
		h.deny(c, http.StatusNotFound, "There is no such chat.")
		return e, nil, false
	}
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return e, nil, false
	}
	ts, err := h.Store.Transcript(c.Request.Context(), e.UserID, transcriptLimit)
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return e, nil, false
	}
	lines := make([]line, len(ts))
	for i, t := range ts {
		lines[i] = toLine(t)
	}
	return e, lines, true
}

func (h *Console) chatPage(c *gin.Context) {
	e, lines, ok := h.loadChat(c)
	if !ok {
		return
	}
	me := h.me(c)
	if e.Status == bot.StatusAssigned && (e.Assignee == me.Email || me.Role == store.RoleAdmin) {
		if err := h.Chats.MarkRead(c.Request.Context(), e.ID); err != nil {
			h.Log.Warn("mark as read failed", "escalation", e.ID, "err", err)
		}
	}
	h.audit(c, "chat.open", e.ID, "")
	canned, err := h.Store.CannedReplies(c.Request.Context())
	if err != nil {
		h.Log.Warn("canned replies", "err", err)
	}
	var mine []store.CannedReply
	for _, r := range canned {
		if r.Lang == string(e.Lang) {
			mine = append(mine, r)
		}
	}
	h.render(c, "chat", gin.H{"Title": customerName(e), "E": e, "Row": toRow(e, h.Now()), "Lines": lines,
		"Mine": e.Assignee == me.Email, "CanWrite": e.Status == bot.StatusAssigned && (e.Assignee == me.Email || me.Role == store.RoleAdmin),
		"Open": e.Status.Open(), "Canned": mine, "MsgID": randomToken()[:22], "Flash": flash(c.Query("m")),
		"Problem": problem(c.Query("e")), "Resolutions": resolutions, "Live": "chat"})
}

func (h *Console) chatJSON(c *gin.Context) {
	e, lines, ok := h.loadChat(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": e.Status, "assignee": e.AssigneeName, "lines": lines})
}

// resolutions are the categories a chat is closed with.
var resolutions = []string{"answered", "corrected", "data request forwarded", "complaint recorded", "no response", "spam or abuse", "other"}

func (h *Console) back(c *gin.Context, id, query string) {
	c.Redirect(http.StatusSeeOther, "/console/chats/"+id+query)
}

// outcome maps an action's error to the page's problem code (never reflecting input).
func (h *Console) outcome(c *gin.Context, id, action string, err error) {
	switch {
	case err == nil:
		h.audit(c, action, id, "")
		h.back(c, id, "?m="+action)
	case errors.Is(err, bot.ErrNotFound):
		h.deny(c, http.StatusNotFound, "There is no such chat.")
	case errors.Is(err, bot.ErrNotAllowed), errors.Is(err, bot.ErrConflict):
		h.audit(c, action+".refused", id, err.Error())
		h.back(c, id, "?e="+action)
	default:
		var de *bot.DeliveryError
		if errors.As(err, &de) {
			h.audit(c, action+".failed", id, de.Error())
			h.back(c, id, "?e=delivery")
			return
		}
		_ = c.Error(err)
		c.Abort()
	}
}

func (h *Console) claim(c *gin.Context) {
	_, err := h.Chats.Claim(c.Request.Context(), c.Param("id"), actor(h.me(c)))
	h.outcome(c, c.Param("id"), "claim", err)
}

func (h *Console) reply(c *gin.Context) {
	err := h.Chats.Reply(c.Request.Context(), c.Param("id"), actor(h.me(c)), c.PostForm("mid"), c.PostForm("text"))
	h.outcome(c, c.Param("id"), "reply", err)
}

func (h *Console) note(c *gin.Context) {
	err := h.Chats.Note(c.Request.Context(), c.Param("id"), actor(h.me(c)), c.PostForm("mid"), c.PostForm("text"))
	h.outcome(c, c.Param("id"), "note", err)
}

func (h *Console) handBack(c *gin.Context) {
	_, err := h.Chats.HandBack(c.Request.Context(), c.Param("id"), actor(h.me(c)))
	h.outcome(c, c.Param("id"), "handback", err)
}

func (h *Console) closeChat(c *gin.Context) {
	res := c.PostForm("resolution")
	valid := false
	for _, r := range resolutions {
		valid = valid || r == res
	}
	if !valid {
		h.back(c, c.Param("id"), "?e=close")
		return
	}
	_, err := h.Chats.Close(c.Request.Context(), c.Param("id"), actor(h.me(c)), res, c.PostForm("ask") == "1")
	h.outcome(c, c.Param("id"), "close", err)
}

func flash(code string) string {
	return map[string]string{
		"claim": "You have joined the chat. The customer was told your name.", "reply": "Sent.",
		"note": "Note saved (not sent to the customer).", "handback": "Handed back to the bot.", "close": "Chat closed.",
	}[code]
}

func problem(code string) string {
	return map[string]string{
		"claim":    "Someone else has already claimed this chat.",
		"reply":    "The message was not sent: claim the chat first (and write something).",
		"note":     "The note was empty.",
		"handback": "This chat is not yours to hand back, or it is closed already.",
		"close":    "Choose a resolution; only the assigned staff member (or an admin) can close an assigned chat.",
		"delivery": "LINE refused the message: the customer may have blocked the account. It is recorded in the conversation.",
	}[code]
}

// events streams notices (server-sent events) until the client goes away: "queue" when the queue
// changes, "chat" with the escalation ID when a conversation does. They carry no customer data.
func (h *Console) events(c *gin.Context) {
	ch, stop := h.Live.Subscribe()
	defer stop()
	w := c.Writer
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	w.Flush()
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-c.Request.Context().Done():
			return
		case n := <-ch:
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", n.Kind, n.ID)
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		}
		w.Flush()
	}
}

func (h *Console) searchPage(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	res, err := h.Store.SearchEscalations(c.Request.Context(), q, time.Time{}, 100)
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	rows := make([]gin.H, len(res))
	for i, e := range res {
		rows[i] = gin.H{"R": toRow(e, h.Now()), "Resolution": e.Resolution, "Rating": e.Rating, "Closed": clock(e.ClosedAt)}
	}
	h.render(c, "search", gin.H{"Title": "Search", "Q": q, "Results": rows})
}

// label turns a code into words for staff.
func label(code string) string {
	if s, ok := map[string]string{
		flows.ReasonComplaint: "Complaint", flows.ReasonHuman: "Asked for staff", flows.ReasonMisses: "Bot could not help",
		flows.CategoryData: "Personal data", flows.CategoryConduct: "Staff conduct", flows.CategoryService: "Service",
		flows.CategoryOther: "Other",
	}[code]; ok {
		return s
	}
	return code
}

// ago says how long since t, coarsely.
func ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

var tokyo = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return l
	}
	return time.FixedZone("JST", 9*3600)
}()

func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(tokyo).Format("2006-01-02 15:04")
}

// visibleControls shows the bidirectional-text controls (U+202A–U+202E, U+2066–U+2069, U+200E/F) as
// visible markers: customer text cannot reorder what staff read around it.
func visibleControls(s string) string {
	if !strings.ContainsFunc(s, isBidiControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isBidiControl(r) {
			fmt.Fprintf(&b, "[U+%04X]", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}
