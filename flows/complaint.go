package flows

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// Postback actions of the complaint flow and the staff handoff ("do=<action>&…").
const (
	actComplain = "complain" // start the complaint flow
	actCategory = "hcat"     // c=<category>
	actSend     = "hsend"    // send the complaint to staff
	actRewrite  = "hedit"    // write the description again
	actQuit     = "hquit"    // abandon the complaint flow
	actHuman    = "human"    // ask for a person (r=misses when offered after two misses)
	actDrop     = "hdrop"    // withdraw a queued escalation
	actResume   = "hresume"  // the escalation manager hands the chat back (why=handback|closed, e=<id>, ask=1)
	actRate     = "hrate"    // e=<id>, s=<rating>
)

// ResumePostback is the data of the internal event (InputInternal) with which the escalation manager ends a
// handoff: why is "handback" (staff hand the chat back to the bot) or "closed"; ask offers the
// satisfaction question for ticket.
func ResumePostback(why, ticket string, ask bool) string {
	v := url.Values{"do": {actResume}, "why": {why}, "e": {ticket}}
	if ask {
		v.Set("ask", "1")
	}
	return v.Encode()
}

// CancelPostback is the postback data of the "cancel my request" quick reply offered while queued.
const CancelPostback = "do=" + actDrop

// maxDescriptionRunes bounds the complaint description kept in the conversation state (it is stored
// after every step); longer text stays whole in the transcript, which staff see.
const maxDescriptionRunes = 1000

var categories = []string{CategoryData, CategoryConduct, CategoryService, CategoryOther}

// complaintStep is the complaint flow in progress. ok is false for inputs it leaves to the main
// dispatch (follow, unfollow, postbacks of other features).
func complaintStep(st State, in Input) (Result, bool) {
	switch in.Kind {
	case InputText:
		if _, ok := languageRequest(in.Text); ok {
			return Result{}, false
		}
		text := strings.TrimSpace(in.Text)
		switch st.Handoff.Stage {
		case StageCategory:
			// The customer wrote instead of choosing: keep the words, still ask for the category.
			st.Handoff.Description = clip(text)
			return Result{State: st, Replies: []Reply{askCategory(msgComplaintCategoryAgain)}}, true
		case StageConfirm:
			st.Handoff.Description = clip(st.Handoff.Description + "\n" + text)
		default:
			st.Handoff.Description = clip(text)
		}
		st.Handoff.Stage = StageConfirm
		return Result{State: st, Replies: []Reply{confirmComplaint(st)}}, true
	case InputMedia:
		return Result{State: st, Replies: []Reply{{ID: msgComplaintTextOnly}}}, true
	case InputPostback:
		q, _ := url.ParseQuery(in.Postback)
		switch q.Get("do") {
		case actCategory:
			c := q.Get("c")
			if !validCategory(c) {
				return Result{State: st, Replies: []Reply{askCategory(msgComplaintCategory)}}, true
			}
			st.Handoff.Category = c
			if st.Handoff.Description != "" {
				st.Handoff.Stage = StageConfirm
				return Result{State: st, Replies: []Reply{confirmComplaint(st)}}, true
			}
			st.Handoff.Stage = StageDescribe
			return Result{State: st, Replies: []Reply{{ID: msgComplaintDescribe, Choices: []Choice{{LabelID: lblQuit, Postback: "do=" + actQuit}}}}}, true
		case actRewrite:
			st.Handoff.Stage, st.Handoff.Description = StageDescribe, ""
			return Result{State: st, Replies: []Reply{{ID: msgComplaintDescribe, Choices: []Choice{{LabelID: lblQuit, Postback: "do=" + actQuit}}}}}, true
		case actSend:
			if st.Handoff.Stage != StageConfirm || st.Handoff.Category == "" || st.Handoff.Description == "" {
				return Result{State: st, Replies: []Reply{askCategory(msgComplaintCategory)}}, true
			}
			prio := PriorityNormal
			if st.Handoff.Category == CategoryData {
				prio = PriorityHigh
			}
			return escalate(st, EscalationRequest{Reason: ReasonComplaint, Category: st.Handoff.Category,
				Description: st.Handoff.Description, Priority: prio}), true
		case actQuit:
			st.Flow, st.Handoff = FlowIdle, HandoffState{}
			return Result{State: st, Replies: []Reply{{ID: msgComplaintQuit}, mainMenu(st)}}, true
		case actComplain:
			return startComplaint(st, ""), true
		}
	}
	return Result{}, false
}

// staffStep answers while the customer's chat is with staff but still queued (once assigned, the
// pipeline silences the bot before any step). The first message is acknowledged with the offer to
// cancel; later ones reach staff without an answer.
func staffStep(st State, in Input) (Result, bool) {
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
		q, _ := url.ParseQuery(in.Postback)
		switch q.Get("do") {
		case actDrop:
			st.Flow, st.Handoff = FlowIdle, HandoffState{}
			return Result{State: st, Replies: []Reply{{ID: msgHandoffCancelled}, mainMenu(st)},
				Effects: []Effect{{Kind: EffectCancelEscalation}}}, true
		case actHuman, actComplain, actSend:
			return Result{State: st, Replies: []Reply{waitingReply(msgHandoffStillQueued)}}, true
		}
	}
	return Result{}, false
}

// handoffPostback handles the handoff actions valid in any flow; ok is false for other postbacks.
func handoffPostback(st State, q url.Values) (Result, bool) {
	switch q.Get("do") {
	case actComplain:
		return startComplaint(st, ""), true
	case actHuman:
		reason := ReasonHuman
		if q.Get("r") == ReasonMisses {
			reason = ReasonMisses
		}
		return escalate(st, EscalationRequest{Reason: reason, Priority: PriorityNormal}), true
	case actDrop:
		// Nothing queued any more (staff closed it, or it was withdrawn already).
		return Result{State: st, Replies: []Reply{{ID: msgHandoffNothingToCancel}, mainMenu(st)}}, true
	case actRate:
		r, e := q.Get("s"), q.Get("e")
		if e == "" || (r != RatingGood && r != RatingOK && r != RatingBad) {
			return Result{State: st, Replies: []Reply{mainMenu(st)}}, true
		}
		return Result{State: st, Replies: []Reply{{ID: msgHandoffRateThanks}, mainMenu(st)},
			Effects: []Effect{{Kind: EffectRateEscalation, Escalation: &EscalationRequest{Ticket: e, Rating: r}}}}, true
	}
	return Result{}, false
}

// onInternal handles the events the service raises itself. Only the escalation manager's resume
// (staff handed the chat back or closed it) exists; anything else changes nothing.
func onInternal(st State, in Input) Result {
	q, err := url.ParseQuery(in.Postback)
	if err != nil || q.Get("do") != actResume {
		return Result{State: st}
	}
	st.Flow, st.Handoff, st.Misses = FlowIdle, HandoffState{}, 0
	if q.Get("why") == "handback" {
		return Result{State: st, Replies: []Reply{{ID: msgHandoffBack}, mainMenu(st)}}
	}
	if q.Get("ask") == "1" && q.Get("e") != "" {
		e := q.Get("e")
		rate := func(label, r string) Choice {
			return Choice{LabelID: label, Postback: url.Values{"do": {actRate}, "e": {e}, "s": {r}}.Encode()}
		}
		return Result{State: st, Replies: []Reply{{ID: msgHandoffClosed}, {ID: msgHandoffRateAsk,
			Choices: []Choice{rate(lblRateGood, RatingGood), rate(lblRateOK, RatingOK), rate(lblRateBad, RatingBad)}}}}
	}
	return Result{State: st, Replies: []Reply{{ID: msgHandoffClosed}, mainMenu(st)}}
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
		return escalate(st, EscalationRequest{Reason: ReasonHuman, Priority: PriorityNormal}), true
	}
	return Result{}, false
}

func startComplaint(st State, desc string) Result {
	st.Flow, st.Misses = FlowComplaint, 0
	st.Handoff = HandoffState{Stage: StageCategory, Description: clip(desc)}
	return Result{State: st, Replies: []Reply{askCategory(msgComplaintCategory)}}
}

// escalate hands the customer to staff. The escalation manager tells the customer it is queued (it
// knows the business hours), so the step itself sends nothing.
func escalate(st State, req EscalationRequest) Result {
	if st.Flow == FlowStaff {
		return Result{State: st, Replies: []Reply{waitingReply(msgHandoffStillQueued)}}
	}
	st.Flow, st.Misses, st.Handoff = FlowStaff, 0, HandoffState{}
	return Result{State: st, Effects: []Effect{{Kind: EffectEscalate, Escalation: &req}}}
}

func askCategory(id string) Reply {
	return Reply{ID: id, Choices: []Choice{
		{LabelID: lblCatData, Postback: "do=" + actCategory + "&c=" + CategoryData},
		{LabelID: lblCatConduct, Postback: "do=" + actCategory + "&c=" + CategoryConduct},
		{LabelID: lblCatService, Postback: "do=" + actCategory + "&c=" + CategoryService},
		{LabelID: lblCatOther, Postback: "do=" + actCategory + "&c=" + CategoryOther},
		{LabelID: lblQuit, Postback: "do=" + actQuit},
	}}
}

func confirmComplaint(st State) Reply {
	return Reply{ID: msgComplaintConfirm,
		Data: map[string]string{"Category": st.Handoff.Category, "Description": st.Handoff.Description},
		Choices: []Choice{
			{LabelID: lblSend, Postback: "do=" + actSend},
			{LabelID: lblRewrite, Postback: "do=" + actRewrite},
			{LabelID: lblQuit, Postback: "do=" + actQuit},
		}}
}

func waitingReply(id string) Reply {
	return Reply{ID: id, Choices: []Choice{{LabelID: lblCancelRequest, Postback: CancelPostback}}}
}

func validCategory(c string) bool {
	for _, x := range categories {
		if x == c {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxDescriptionRunes {
		return s
	}
	return string([]rune(s)[:maxDescriptionRunes-1]) + "…"
}

// handoffChoices are the main menu's quick replies of this feature: complain, talk to staff.
func handoffChoices() []Choice {
	return []Choice{{LabelID: lblComplain, Postback: "do=" + actComplain}, {LabelID: lblTalkToStaff, Postback: "do=" + actHuman}}
}

// staffOffer follows the second miss in a row: staff first, prominently, then the usual ways on.
func staffOffer(st State) Reply {
	m := mainMenu(st)
	choices := []Choice{{LabelID: lblTalkToStaff, Postback: "do=" + actHuman + "&r=" + ReasonMisses}}
	for _, c := range m.Choices {
		if c.LabelID != lblTalkToStaff {
			choices = append(choices, c)
		}
	}
	return Reply{ID: msgHandoffOffer, Choices: choices}
}
