package bot

import (
	"unicode"

	"github.com/enemane/privacybot/flows"
)

// input is what a step is told about an event: its kind and content (a text classified, a photo's
// reference, a postback's data), the moment, the answer's language, business hours, the customer's
// requests and the desk's terms, and the retention periods in force.
func (p *Processor) input(ev Event, lang flows.Lang) flows.Input {
	in := flows.Input{Now: p.cfg.Now(), Lang: lang, Retention: p.cfg.Retention}
	in.NoStaffRequest = p.cfg.Handoff != nil && !p.cfg.Handoff.HasOpenRequest(ev.UserID)
	if p.cfg.Requests != nil {
		in.Desk = p.cfg.Requests.Desk(ev.UserID, p.cfg.RequestFee)
	} else {
		in.Desk.Fee = p.cfg.RequestFee
	}
	if !p.cfg.Hours.IsOpen(in.Now) {
		in.Staff = flows.StaffHours{Closed: true, Next: p.cfg.Hours.FormatNext(in.Now, lang)}
	}
	switch ev.Kind {
	case EventMessage:
		if ev.MessageType == "text" {
			in.Kind, in.Text = flows.InputText, ev.Text
			in.Intent = p.cfg.Classify(ev.Text)
			if p.cfg.QuestionRef != nil {
				in.Ref = p.cfg.QuestionRef(ev.Timestamp, ev.ID)
			}
		} else {
			in.Kind = flows.InputMedia
			in.Media = flows.MediaRef{Type: ev.MessageType, MessageID: ev.MessageID, URL: ev.ContentURL}
		}
	case EventPostback:
		in.Kind, in.Postback = flows.InputPostback, ev.Postback
	case EventInternal:
		in.Kind, in.Postback = flows.InputInternal, ev.Postback
	case EventFollow:
		in.Kind, in.Unblocked = flows.InputFollow, ev.Unblocked
	case EventUnfollow:
		in.Kind = flows.InputUnfollow
	}
	if ev.Type == "internal" && ev.Kind == EventPostback {
		// Stored by a version that kept internal events as postbacks (still in an inbox at upgrade).
		// No webhook event has this type: ParseWebhook makes it EventOther.
		in.Kind = flows.InputInternal
	}
	return in
}

// answerLang is the language to answer ev in: the one chosen in the chat; else, for a text written
// plainly in the other language than the profile's, that language (an English-profile customer who
// writes in Japanese is answered in Japanese, and the other way round); else the profile's. "Plainly":
// any Japanese script makes a text Japanese; a text without any is English only from three words on,
// so that 「OK」 or "menu" from a Japanese customer stays Japanese. The chat's choice is not changed.
func answerLang(conv Conversation, ev Event) flows.Lang {
	lang := conv.Lang()
	if conv.State.Lang != "" || ev.Kind != EventMessage || ev.MessageType != "text" {
		return lang
	}
	words, japanese := 0, false
	inWord := false
	for _, r := range ev.Text {
		switch {
		case unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han):
			japanese = true
		case r < unicode.MaxASCII && unicode.IsLetter(r):
			if !inWord {
				words++
			}
			inWord = true
			continue
		}
		inWord = false
	}
	switch {
	case japanese:
		return flows.Ja
	case words >= 3:
		return flows.En
	}
	return lang
}
