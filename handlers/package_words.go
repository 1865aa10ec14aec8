package handlers

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// worded puts a package into words in lang: every transcript line as the customer saw it (line) and
// every request's confirmed summary worded again in that request's language. It is the one
// transformation behind all three of the customer's outputs: the page (view), data.json and
// transcript.csv. pc is not changed.
func (r *pkgRender) worded(lang string, pc request.PackageContent) request.PackageContent {
	w := r.vocab[pkgLang(lang, "")]
	pc.Language = w.lang
	lines := make([]request.TranscriptLine, len(pc.Data.Transcript))
	for i, l := range pc.Data.Transcript {
		lines[i] = w.line(l)
	}
	pc.Data.Transcript = lines
	reqs := make([]request.RequestOverview, len(pc.Requests))
	for i, x := range pc.Requests {
		x.ConfirmedSummary = r.summary(x)
		reqs[i] = x
	}
	pc.Requests = reqs
	if pc.Data.Consents == nil {
		pc.Data.Consents = []request.ConsentRecord{}
	}
	if pc.Data.Escalations == nil {
		pc.Data.Escalations = []request.EscalationRecord{}
	}
	if pc.Requests == nil {
		pc.Requests = []request.RequestOverview{}
	}
	if pc.Files == nil {
		pc.Files = []request.PackageFile{}
	}
	return pc
}

// summary words the summary the customer confirmed from its catalog ID and data, in the request's
// language: the text they agreed to, as they read it ("" when the catalogs no longer have it).
func (r *pkgRender) summary(x request.RequestOverview) string {
	if x.WordingID == "" {
		return ""
	}
	w := r.vocab[pkgLang(x.Language, "")]
	data := make(map[string]any, len(x.WordingData))
	for k, v := range x.WordingData {
		data[k] = v
	}
	s, err := w.loc.Localize(&i18n.LocalizeConfig{MessageID: x.WordingID, TemplateData: data})
	if err != nil || s == "" {
		w.log.Warn("package: the confirmed summary has no message", "request", x.Reference, "id", x.WordingID, "err", err)
		return ""
	}
	return s
}

// The kinds of a worded transcript line (data.json's "kind", transcript.csv's third column) besides
// LINE's message types (text, image, video, audio, file, location, sticker, other).
const (
	pkgKindButton    = "button"         // the customer tapped a button: the text is its label
	pkgKindFollow    = "follow"         // the customer added the account as a friend
	pkgKindUnfollow  = "unfollow"       // the customer blocked it
	pkgKindNotice    = "request_notice" // the desk told the customer about a request
	pkgKindJoined    = "staff_joined"   // a staff member took the chat
	pkgKindResumed   = "chat_resumed"   // staff handed the chat back to the automatic replies, or closed it
	pkgKindInternal  = "internal"       // another of the service's own events
	pkgKindEscalated = "escalated"      // the chat was passed to staff
	pkgKindClaimed   = "claimed"        // a staff member took it
	pkgKindHandback  = "handback"       // staff handed it back
	pkgKindClosed    = "closed"         // staff closed it
	pkgKindFailed    = "delivery_failed"
)

// line words one transcript line in w's language, as the customer saw it: a tapped button is its
// label, the service's own events (request notices, a staff member joining, the chat handed back)
// are system lines in words, adding and blocking the account are sentences, a photo says what was
// sent. Kind stays a code; Text never carries a button's or an event's raw data.
func (w *pkgWords) line(l request.TranscriptLine) request.TranscriptLine {
	out := l
	if out.Kind == "" {
		out.Kind = "text"
	}
	switch l.Role {
	case bot.RoleCustomer:
		switch l.Kind {
		case "", "text":
		case string(bot.EventPostback):
			out.Kind, out.Text = pkgKindButton, w.T("package.tapped_unknown")
			if id, ok := flows.PostbackLabel(l.Text); ok {
				if s, ok := lookupMessage(w.loc, id); ok {
					out.Text = s
				}
			}
		case string(bot.EventInternal):
			out.Role = bot.RoleSystem
			out.Kind, out.Text = w.internal(l.Text)
		case string(bot.EventFollow):
			out.Kind, out.Text = pkgKindFollow, w.T("package.followed")
		case string(bot.EventUnfollow):
			out.Kind, out.Text = pkgKindUnfollow, w.T("package.blocked")
		default:
			if strings.TrimSpace(l.Text) == "" {
				out.Text = w.T("package.media", "Kind", w.label("media", l.Kind))
			}
		}
	case bot.RoleSystem:
		if kind, text, ok := w.system(l.Text); ok {
			out.Kind, out.Text = kind, text
		}
	}
	return out
}

// internal words an internal event of the service (its data is an internal postback).
func (w *pkgWords) internal(data string) (kind, text string) {
	p, ok := flows.DecodeInternalPostback(data)
	if !ok {
		return pkgKindInternal, w.T("package.internal")
	}
	switch p.Do {
	case flows.ActRequestNotice:
		return pkgKindNotice, w.notice(p.Notice)
	case flows.ActJoined:
		return pkgKindJoined, w.T("package.staff_joined", "Name", strings.TrimSpace(p.Name))
	case flows.ActResume:
		if p.Why == "closed" {
			return pkgKindResumed, w.T("package.resumed_closed")
		}
		return pkgKindResumed, w.T("package.resumed_handback")
	}
	return pkgKindInternal, w.T("package.internal")
}

// notice words a request notice: what the desk told the customer about which request (the link it
// sent, if any, stays out: it is the key to a package).
func (w *pkgWords) notice(n flows.RequestNotice) string {
	switch n.What {
	case flows.NoticeReceived:
		return w.T("package.notice_received", "Ref", n.Ref)
	case flows.NoticeExtended:
		return w.T("package.notice_extended", "Ref", n.Ref, "Due", n.Due)
	case flows.NoticeDocument:
		return w.T("package.notice_document", "Seq", strconv.Itoa(n.Seq))
	case flows.NoticeStatus:
		switch {
		case n.Link != "" && n.Reissued:
			return w.T("package.notice_link_again", "Ref", n.Ref)
		case n.Link != "":
			return w.T("package.notice_link", "Ref", n.Ref)
		case n.Status != "":
			return w.T("package.notice_status", "Ref", n.Ref, "Status", w.label("status", string(n.Status)))
		}
	}
	return w.T("package.notice_other", "Ref", n.Ref)
}

// pkgNoteRe reads a system line that only its note worded ("closed who=佐藤 resolution=answered").
var pkgNoteRe = regexp.MustCompile(`^(escalated|claimed|handback|closed|failed)(?: who=(.*?))?(?: reason=(\S*))?(?: resolution=(.*))?$`)

// system words a system line of the escalation manager, which writes them in English ("escalated:
// human", "claimed by 佐藤", "handback by 佐藤: handed back to the bot", "closed by 佐藤: answered",
// "delivery failed: …"); ok is false for a line it does not know (shown as stored).
func (w *pkgWords) system(text string) (kind, words string, ok bool) {
	what, who, reason, resolution := "", "", "", ""
	switch {
	case strings.HasPrefix(text, "escalated: "):
		what, reason = "escalated", strings.TrimPrefix(text, "escalated: ")
	case strings.HasPrefix(text, "claimed by "):
		what, who = "claimed", strings.TrimPrefix(text, "claimed by ")
	case strings.HasPrefix(text, "handback by "):
		what, who = "handback", strings.TrimSuffix(strings.TrimPrefix(text, "handback by "), ": "+bot.ResolutionHandback)
	case strings.HasPrefix(text, "closed by "):
		rest := strings.TrimPrefix(text, "closed by ")
		what, who = "closed", rest
		if i := strings.LastIndex(rest, ": "); i >= 0 {
			who, resolution = rest[:i], rest[i+2:]
		}
	case strings.HasPrefix(text, "delivery failed"):
		what = "failed"
	default:
		m := pkgNoteRe.FindStringSubmatch(text)
		if m == nil {
			return "", "", false
		}
		what, who, reason, resolution = m[1], m[2], m[3], m[4]
	}
	who = strings.TrimSpace(who)
	switch what {
	case "escalated":
		return pkgKindEscalated, w.T("package.sys_escalated", "Reason", w.label("reason", reason)), true
	case "claimed":
		return pkgKindClaimed, w.T("package.sys_claimed", "Name", who), true
	case "handback":
		return pkgKindHandback, w.T("package.sys_handback", "Name", who), true
	case "closed":
		if resolution == "" {
			return pkgKindClosed, w.T("package.sys_closed", "Name", who), true
		}
		return pkgKindClosed, w.T("package.sys_closed_as", "Name", who, "Resolution", w.label("resolution", resolution)), true
	}
	return pkgKindFailed, w.T("package.sys_failed"), true
}
