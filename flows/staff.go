package flows

import (
	"strings"
	"unicode/utf8"
)

// handoffFeature is the complaint flow and the staff queue: a customer complains or asks for a person,
// waits in the queue (told whether staff are in now, and when they will be if not), is told who
// joined, and gets the bot back when staff hand the chat back or close it.
var handoffFeature = &Feature{
	Name:     "handoff",
	Flows:    []FlowID{FlowComplaint, FlowStaff},
	Intents:  []string{"complaint", "human"},
	Actions:  []Action{ActComplain, ActHuman, ActDrop, ActRate},
	Buttons:  []Action{ActCategory, ActSend, ActRewrite, ActQuit},
	Internal: []Action{ActJoined, ActResume},
	Menu: []Choice{{LabelID: lblComplain, Postback: act(ActComplain)},
		{LabelID: lblTalkToStaff, Postback: act(ActHuman)}},
	MessageIDs: HandoffMessageIDs,
	Continue: func(st State, in Input, p Postback) (Result, bool) {
		if st.Flow == FlowComplaint {
			return complaintStep(st, in, p)
		}
		return staffStep(st, in, p)
	},
	OnText:   onIntentHandoff,
	OnAction: handoffAction,
	Label:    handoffLabel,
}

func handoffLabel(p Postback) (string, bool) {
	switch p.Do {
	case ActComplain:
		return lblComplain, true
	case ActCategory:
		switch p.Category {
		case CategoryData:
			return lblCatData, true
		case CategoryConduct:
			return lblCatConduct, true
		case CategoryService:
			return lblCatService, true
		case CategoryOther:
			return lblCatOther, true
		}
	case ActSend:
		return lblSend, true
	case ActRewrite:
		return lblRewrite, true
	case ActQuit:
		return lblQuit, true
	case ActHuman:
		return lblTalkToStaff, true
	case ActDrop:
		return lblCancelRequest, true
	case ActRate:
		switch p.Rating {
		case RatingGood:
			return lblRateGood, true
		case RatingOK:
			return lblRateOK, true
		case RatingBad:
			return lblRateBad, true
		}
	}
	return "", false
}

// ResumePostback is the data of the internal event (InputInternal) with which the escalation manager
// ends a handoff: why is "handback" (staff hand the chat back to the bot) or "closed"; ask offers the
// satisfaction question for ticket.
func ResumePostback(why, ticket string, ask bool) string {
	return Postback{Do: ActResume, Why: why, Ticket: ticket, Ask: ask}.Encode()
}

// MaxStaffNameRunes bounds a staff member's display name, told to customers in the joined notice
// (「担当の〇〇です」 must stay a short line). The console accepts no longer name; the joined event cuts
// one that is.
const MaxStaffNameRunes = 30

// JoinedPostback is the data of the internal event that tells the customer a staff member took the
// chat; name is the display name customers see.
func JoinedPostback(name string) string {
	if utf8.RuneCountInString(name) > MaxStaffNameRunes {
		name = string([]rune(name)[:MaxStaffNameRunes])
	}
	return Postback{Do: ActJoined, Name: name}.Encode()
}

// CancelPostback is the postback data of the "cancel my request" quick reply offered while queued.
var CancelPostback = act(ActDrop)

// staffStep answers while the customer's chat is with staff but still queued (once assigned, the
// pipeline silences the bot before any step). The first message is acknowledged with the offer to
// cancel; later ones reach staff without an answer.
func staffStep(st State, in Input, p Postback) (Result, bool) {
	switch in.Kind {
	case InputText, InputMedia:
		if st.Handoff.Noted {
			return Result{State: st}, true
		}
		st.Handoff.Noted = true
		return Result{State: st, Replies: []Reply{waitingReply(msgHandoffWaiting)}}, true
	case InputFollow:
		r := greet(st, in)
		r.State = st // unblocking does not take the customer out of the queue
		r.Replies = []Reply{r.Replies[0], waitingReply(msgHandoffStillQueued)}
		return r, true
	case InputPostback:
		switch p.Do {
		case ActDrop:
			st.Flow, st.Handoff = FlowIdle, HandoffState{}
			return Result{State: st, Replies: []Reply{{ID: msgHandoffCancelled}, mainMenu(st)},
				Effects: []Effect{{Kind: EffectCancelEscalation}}}, true
		case ActHuman, ActComplain, ActSend:
			return Result{State: st, Replies: []Reply{waitingReply(msgHandoffStillQueued)}}, true
		}
	}
	return Result{}, false
}

// handoffAction answers the feature's actions outside its flows, and its internal events.
func handoffAction(st State, in Input, p Postback) Result {
	switch p.Do {
	case ActComplain:
		return startComplaint(st, "")
	case ActHuman:
		reason := ReasonHuman
		if p.Reason == ReasonMisses {
			reason = ReasonMisses
		}
		return escalate(st, in, EscalationRequest{Reason: reason, Priority: PriorityNormal})
	case ActDrop:
		// Nothing queued any more (staff closed it, or it was withdrawn already).
		return Result{State: st, Replies: []Reply{{ID: msgHandoffNothingToCancel}, mainMenu(st)}}
	case ActRate:
		if p.Ticket == "" || (p.Rating != RatingGood && p.Rating != RatingOK && p.Rating != RatingBad) {
			return Result{State: st, Replies: []Reply{mainMenu(st)}}
		}
		return Result{State: st, Replies: []Reply{{ID: msgHandoffRateThanks}, mainMenu(st)},
			Effects: []Effect{{Kind: EffectRateEscalation, Escalation: &EscalationRequest{Ticket: p.Ticket, Rating: p.Rating}}}}
	case ActJoined:
		// A staff member took the chat (also when the customer withdrew the request a moment before:
		// the claim won, and the customer is with staff again).
		st.Flow, st.Handoff, st.Misses = FlowStaff, HandoffState{Noted: true}, 0
		return Result{State: st, Replies: []Reply{{ID: NoticeJoined, Data: map[string]string{"Name": p.Name}}}}
	case ActResume:
		st.Flow, st.Handoff, st.Misses = FlowIdle, HandoffState{}, 0
		if p.Why == "handback" {
			return Result{State: st, Replies: []Reply{{ID: msgHandoffBack}, mainMenu(st)}}
		}
		if p.Ask && p.Ticket != "" {
			rate := func(label, r string) Choice {
				return Choice{LabelID: label, Postback: Postback{Do: ActRate, Ticket: p.Ticket, Rating: r}.Encode()}
			}
			return Result{State: st, Replies: []Reply{{ID: msgHandoffClosed}, {ID: msgHandoffRateAsk,
				Choices: []Choice{rate(lblRateGood, RatingGood), rate(lblRateOK, RatingOK), rate(lblRateBad, RatingBad)}}}}
		}
		return Result{State: st, Replies: []Reply{{ID: msgHandoffClosed}, mainMenu(st)}}
	}
	return Result{State: st, Replies: []Reply{mainMenu(st)}}
}

// onIntentHandoff handles the intents complaint and human outside a flow.
func onIntentHandoff(st State, in Input) (Result, bool) {
	switch in.Intent.Name {
	case "complaint":
		// A message that already says what happened is kept as the description.
		desc := ""
		if utf8.RuneCountInString(strings.TrimSpace(in.Text)) >= 25 {
			desc = strings.TrimSpace(in.Text)
		}
		return startComplaint(st, desc), true
	case "human":
		return escalate(st, in, EscalationRequest{Reason: ReasonHuman, Priority: PriorityNormal}), true
	}
	return Result{}, false
}

// escalate hands the customer to staff and tells them so: queued now, or outside business hours with
// when staff will answer (in.Staff). The escalation manager opens the escalation (the effect).
func escalate(st State, in Input, req EscalationRequest) Result {
	if st.Flow == FlowStaff {
		return Result{State: st, Replies: []Reply{waitingReply(msgHandoffStillQueued)}}
	}
	st.Flow, st.Misses, st.Handoff = FlowStaff, 0, HandoffState{}
	notice := waitingReply(NoticeQueued)
	if in.Staff.Closed {
		notice.ID, notice.Data = NoticeQueuedClosedHours, map[string]string{"Next": in.Staff.Next}
	}
	return Result{State: st, Replies: []Reply{notice}, Effects: []Effect{{Kind: EffectEscalate, Escalation: &req}}}
}

func waitingReply(id string) Reply {
	return Reply{ID: id, Choices: []Choice{{LabelID: lblCancelRequest, Postback: CancelPostback}}}
}

var postbackHumanAfterMisses = Postback{Do: ActHuman, Reason: ReasonMisses}.Encode()

// staffOffer follows the second miss in a row: staff first, prominently, then the usual ways on.
func staffOffer(st State) Reply {
	m := mainMenu(st)
	choices := []Choice{{LabelID: lblTalkToStaff, Postback: postbackHumanAfterMisses}}
	for _, c := range m.Choices {
		if c.LabelID != lblTalkToStaff {
			choices = append(choices, c)
		}
	}
	return Reply{ID: msgHandoffOffer, Choices: choices}
}
