package handlers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

// line is one transcript entry as the console shows it: the role decides the look (customer, bot,
// staff, private note, system) and Text is always shown as text. Title, shown on hover, is the raw
// postback data of a tapped button or the stored detail of a delivery failure.
type line struct {
	ID    string `json:"id"`
	Role  string `json:"role"`
	Who   string `json:"who"`
	Text  string `json:"text"`
	At    string `json:"at"`
	Extra string `json:"extra,omitempty"`
	Title string `json:"title,omitempty"`
}

// toLine renders a transcript entry in the staff member's language.
func (w *words) toLine(t bot.TranscriptEntry) line {
	l := line{ID: t.ID, Role: t.Role, Text: visibleControls(t.Text), At: clock(t.At)}
	switch t.Role {
	case bot.RoleCustomer:
		l.Who = w.T("console.transcript.customer")
		switch t.Kind {
		case "text":
		case string(bot.EventInternal):
			l.Role, l.Who, l.Text = bot.RoleSystem, w.T("console.transcript.system"), w.internal(t.Text)
		case string(bot.EventPostback):
			l.Extra, l.Title = w.T("console.transcript.tapped"), l.Text
			if id, ok := flows.PostbackLabel(t.Text); ok {
				if s, ok := w.lookup(id); ok {
					l.Text = s
				}
			}
		case string(bot.EventFollow):
			l.Role, l.Who, l.Text = bot.RoleSystem, w.T("console.transcript.system"), w.T("console.transcript.followed")
		case string(bot.EventUnfollow):
			l.Role, l.Who, l.Text = bot.RoleSystem, w.T("console.transcript.system"), w.T("console.transcript.blocked")
		default:
			l.Extra = w.T("console.transcript.media", "Kind", w.Label("kind", t.Kind))
		}
	case bot.RoleBot:
		l.Who = w.T("console.transcript.bot")
	case bot.RoleStaff:
		l.Who = w.T("console.transcript.staff")
	case bot.RoleNote:
		l.Who = w.T("console.transcript.note")
	default:
		l.Role, l.Who = bot.RoleSystem, w.T("console.transcript.system")
		l.Text, l.Title = w.systemText(t)
	}
	return l
}

// internal names an internal event of the pipeline (the bot resumed, a staff member joined).
func (w *words) internal(data string) string {
	p, ok := flows.DecodeInternalPostback(data)
	switch {
	case ok && p.Do == flows.ActRequestNotice:
		n := p.Notice
		switch n.What {
		case flows.NoticeDocument:
			return w.T("console.transcript.request_document", "Seq", strconv.Itoa(n.Seq))
		case flows.NoticeExtended:
			return w.T("console.transcript.request_extended", "Ref", n.Ref, "Due", n.Due)
		}
		return w.T("console.transcript.request_notice", "Ref", n.Ref,
			"Status", w.T("console.requests.status_"+string(n.Status)))
	case ok && p.Do == flows.ActResume && p.Why == "handback":
		return w.T("console.transcript.resumed_handback")
	case ok && p.Do == flows.ActResume && p.Why == "closed":
		return w.T("console.transcript.resumed_closed")
	case ok && p.Do == flows.ActJoined && p.Name != "":
		return w.T("console.transcript.joined", "Name", visibleControls(p.Name))
	}
	return w.T("console.transcript.resumed")
}

// handedBack is the resolution the escalation manager records for a hand-back.
const handedBack = bot.ResolutionHandback

var statusRe = regexp.MustCompile(`\((?:status )?(\d{3})\)`)

// systemText renders a system line of the escalation manager. It writes them in English with the
// line ID "<escalation>/sys/<key>"; the key says what happened, the text carries the details (a
// name, a resolution, a status). Lines this does not recognise are shown as stored.
func (w *words) systemText(t bot.TranscriptEntry) (text, title string) {
	stored := visibleControls(t.Text)
	if n := t.System; n != nil {
		if text, ok := w.systemNote(*n); ok {
			if n.What == "failed" {
				return text, stored // LINE's own words on hover
			}
			return text, ""
		}
	}
	// Lines written before they carried a SystemNote: read the key and the English text.
	_, key, ok := strings.Cut(t.ID, "/sys/")
	if !ok {
		return stored, ""
	}
	switch {
	case key == "escalated":
		if reason, ok := strings.CutPrefix(t.Text, "escalated: "); ok {
			return w.T("console.system.escalated", "Reason", w.Label("reason", reason)), ""
		}
	case key == "claimed":
		if name, ok := strings.CutPrefix(stored, "claimed by "); ok {
			return w.T("console.system.claimed", "Name", name), ""
		}
	case key == "handback":
		if rest, ok := strings.CutPrefix(stored, "handback by "); ok {
			return w.T("console.system.handback", "Name", strings.TrimSuffix(rest, ": "+handedBack)), ""
		}
	case key == "closed":
		if rest, ok := strings.CutPrefix(stored, "closed by "); ok {
			if i := strings.LastIndex(rest, ": "); i >= 0 {
				return w.T("console.system.closed", "Name", rest[:i], "Resolution", w.Label("resolution", rest[i+2:])), ""
			}
		}
	case strings.HasPrefix(key, "failed/"):
		return w.failure(strings.TrimPrefix(key, "failed/"), stored), stored
	}
	return stored, ""
}

// systemNote words a system line recorded as data; ok is false for what it does not know.
func (w *words) systemNote(n bot.SystemNote) (string, bool) {
	who := visibleControls(n.Who)
	switch n.What {
	case "escalated":
		return w.T("console.system.escalated", "Reason", w.Label("reason", n.Reason)), true
	case "claimed":
		return w.T("console.system.claimed", "Name", who), true
	case "handback":
		return w.T("console.system.handback", "Name", who), true
	case "closed":
		return w.T("console.system.closed", "Name", who, "Resolution", w.Label("resolution", n.Resolution)), true
	case "failed":
		if n.Status == 400 {
			return w.T("console.system.reply_blocked"), true
		}
		return w.T("console.system.reply_failed", "Status", strconv.Itoa(n.Status)), true
	}
	return "", false
}

// failure renders a failed delivery: a staff reply LINE refused, or a notice to the customer.
func (w *words) failure(what, stored string) string {
	status := ""
	if m := statusRe.FindStringSubmatch(stored); m != nil {
		status = m[1]
	}
	switch {
	case strings.HasPrefix(stored, "joined notice not sent"):
		return w.T("console.system.joined_not_rendered")
	case strings.HasPrefix(stored, "notice "):
		return w.T("console.system.notice_failed", "Notice", w.Label("notice", what), "Status", status)
	case strings.HasPrefix(stored, "delivery failed: ") && status == "400":
		return w.T("console.system.reply_blocked")
	case strings.HasPrefix(stored, "delivery failed: "):
		return w.T("console.system.reply_failed", "Status", status)
	}
	return stored
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
