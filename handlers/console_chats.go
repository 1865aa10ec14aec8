package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
)

// TranscriptStore reads customers' conversations (store.Store).
type TranscriptStore interface {
	// Transcript returns a customer's conversation, oldest first, at most limit lines (the newest).
	Transcript(ctx context.Context, userID string, limit int) ([]bot.TranscriptEntry, error)
}

// transcriptLimit is how many lines of a customer's conversation the console shows (the newest).
const transcriptLimit = 300

// resolutions are the codes a chat is closed with (stored on the escalation; shown through the
// catalog as console.label.resolution_<code>). Escalations closed before the codes keep their
// English words, shown as they are.
var resolutions = []string{"answered", "corrected", "data_request", "complaint_recorded", "no_response", "spam", "other"}

// queueRow is one escalation as the queue shows it (also the JSON of the live view), in the staff
// member's language; Priority and Status stay codes for the page's styles.
type queueRow struct {
	ID            string `json:"id"`
	Customer      string `json:"customer"`
	Lang          string `json:"lang"`
	Reason        string `json:"reason"`
	Category      string `json:"category"`
	Priority      string `json:"priority"`
	PriorityLabel string `json:"priorityLabel"`
	Status        string `json:"status"`
	StatusLabel   string `json:"statusLabel"`
	Assignee      string `json:"assignee"`
	Waiting       string `json:"waiting"`
	CreatedAt     string `json:"createdAt"`
}

func (w *words) toRow(e bot.Escalation, now time.Time) queueRow {
	return queueRow{ID: e.ID, Customer: w.customerName(e), Lang: w.Label("lang", string(e.Lang)),
		Reason: w.Label("reason", e.Reason), Category: w.Label("category", e.Category),
		Priority: e.Priority, PriorityLabel: w.Label("priority", e.Priority),
		Status: string(e.Status), StatusLabel: w.Label("status", string(e.Status)),
		Assignee: visibleControls(e.AssigneeName), Waiting: w.Ago(e.CreatedAt, now), CreatedAt: clock(e.CreatedAt)}
}

// customerName is the customer's LINE name, or the end of their LINE ID when it is not known.
func (w *words) customerName(e bot.Escalation) string {
	if e.Name != "" {
		return visibleControls(e.Name)
	}
	if len(e.UserID) > 8 {
		return w.T("console.queue.line_user", "Tail", e.UserID[len(e.UserID)-6:])
	}
	return e.UserID
}

func (h *Console) rows(c *gin.Context) []queueRow {
	w := h.words(c)
	q := h.Chats.Queue()
	rows := make([]queueRow, len(q))
	for i, e := range q {
		rows[i] = w.toRow(e, h.Now())
	}
	return rows
}

func (h *Console) queuePage(c *gin.Context) {
	h.render(c, "queue", gin.H{"Title": h.words(c).T("console.queue.title"), "Rows": h.rows(c), "Live": "queue"})
}

func (h *Console) queueJSON(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"rows": h.rows(c)}) }

func (h *Console) loadChat(c *gin.Context) (bot.Escalation, []line, bool) {
	e, err := h.Chats.Get(c.Request.Context(), c.Param("id"))
	if errors.Is(err, bot.ErrNotFound) {
		h.deny(c, http.StatusNotFound, "console.error.no_chat")
		return e, nil, false
	}
	if err != nil {
		internalError(c, err)
		return e, nil, false
	}
	ts, err := h.Transcripts.Transcript(c.Request.Context(), e.UserID, transcriptLimit)
	if err != nil {
		internalError(c, err)
		return e, nil, false
	}
	w := h.words(c)
	lines := make([]line, len(ts))
	for i, t := range ts {
		lines[i] = w.toLine(t)
	}
	return e, lines, true
}

// option is a choice of a select or a group of radio buttons: a code and its words.
type option struct{ Value, Label string }

func (h *Console) chatPage(c *gin.Context) {
	e, lines, ok := h.loadChat(c)
	if !ok {
		return
	}
	me, w := h.me(c), h.words(c)
	if e.Status == bot.StatusAssigned && (e.Assignee == me.Email || me.Role == account.RoleAdmin) {
		if err := h.Chats.MarkRead(c.Request.Context(), e.ID); err != nil {
			h.Log.Warn("mark as read failed", "escalation", e.ID, "err", err)
		}
	}
	h.audit(c, "chat.open", e.ID, "")
	canned, err := h.Canned.CannedReplies(c.Request.Context())
	if err != nil {
		h.Log.Warn("canned replies", "err", err)
	}
	var mine []account.CannedReply
	for _, r := range canned {
		if r.Lang == string(e.Lang) {
			mine = append(mine, r)
		}
	}
	res := make([]option, len(resolutions))
	for i, r := range resolutions {
		res[i] = option{r, w.Label("resolution", r)}
	}
	row := w.toRow(e, h.Now())
	// Whether the customer has a personal-data request open: every role of the chat sees that much;
	// only those who may see requests get a link to them.
	var openRequest, requestsLink string
	if h.Requests != nil && h.Requests.HasOpen(e.UserID) {
		openRequest = "console.chat.open_request"
		if account.SeesDocuments(me.Role) {
			requestsLink = "/console/requests?" + url.Values{"status": {"all"}, "q": {e.UserID}}.Encode()
		}
	}
	h.render(c, "chat", gin.H{"Title": row.Customer, "E": e, "Row": row, "Lines": lines,
		"OpenRequest": openRequest, "RequestsLink": requestsLink,
		"Mine": e.Assignee == me.Email, "CanWrite": e.Status == bot.StatusAssigned && (e.Assignee == me.Email || me.Role == account.RoleAdmin),
		"Open": e.Status.Open(), "Canned": mine, "MsgID": randomToken()[:22], "Flash": flashIDs[c.Query("m")],
		"Problem": problemIDs[c.Query("e")], "Resolutions": res, "Live": "chat"})
}

func (h *Console) chatJSON(c *gin.Context) {
	e, lines, ok := h.loadChat(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": e.Status, "assignee": visibleControls(e.AssigneeName), "lines": lines})
}

// flashIDs and problemIDs are the chat page's messages after an action (?m=… and ?e=…): codes in the
// address, never the input itself.
var flashIDs = map[string]string{
	"claim": "console.chat.flash_claim", "reply": "console.chat.flash_reply", "note": "console.chat.flash_note",
	"handback": "console.chat.flash_handback", "close": "console.chat.flash_close",
}

var problemIDs = map[string]string{
	"claim": "console.chat.problem_claim", "reply": "console.chat.problem_reply", "note": "console.chat.problem_note",
	"handback": "console.chat.problem_handback", "close": "console.chat.problem_close",
	"delivery": "console.chat.problem_delivery",
}

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
		h.deny(c, http.StatusNotFound, "console.error.no_chat")
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
		internalError(c, err)
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
