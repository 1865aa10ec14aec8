package bot

import "github.com/enemane/privacybot/flows"

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
