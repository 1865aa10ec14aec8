package flows

// The personal-data request flow (開示等の請求, policy item 5): what the customer asks for, who asks,
// who the customer is (with photos of identity documents), how the answer reaches them, a summary to
// confirm, and afterwards the request's status, withdrawal and the request service's notices.
const FlowRequest FlowID = "request"

// requestFeature is the personal-data request: the disclosure intent, the menu chip and the rich-menu
// tile start the form; 申請状況 lists the customer's requests and withdraws one; the request service's
// notices (internal events) tell the customer about theirs.
var requestFeature = &Feature{
	Name:       "request",
	Flows:      []FlowID{FlowRequest},
	Intents:    []string{"disclosure"},
	Actions:    []Action{ActRequest, ActReqStatus, ActReqStep, ActReqWithdraw},
	Internal:   []Action{ActRequestNotice},
	Menu:       []Choice{{LabelID: lblReqMenu, Postback: RequestStartPostback}},
	MessageIDs: RequestMessageIDs,
	Continue: func(st State, in Input, p Postback) (Result, bool) {
		switch in.Kind {
		case InputText, InputPostback, InputMedia:
			return stepRequest(st, in, p), true
		}
		return Result{}, false // follow and unfollow: the draft stays as it is
	},
	OnText:   onRequestText,
	OnAction: onRequestAction,
	Label:    requestLabel,
}

// RequestStartPostback is the data of the chips and the rich-menu tile that start a request.
var RequestStartPostback = act(ActRequest)

// onRequestText answers a message classified as disclosure outside the form: a question about the
// customer's requests, a withdrawal, or the start of a request with the kinds the message names.
func onRequestText(st State, in Input) (Result, bool) {
	st.Misses = 0
	if asksRequestStatus(in.Text) || asksWithdraw(in.Text) {
		return Result{State: st, Replies: []Reply{statusReply(st, in)}}, true
	}
	return startRequest(st, in, kindsIn(in.Text)), true
}

// onRequestAction answers the feature's postbacks outside the form, and the notices.
func onRequestAction(st State, in Input, p Postback) Result {
	if in.Kind == InputInternal {
		return requestNotice(st, in, p.Notice)
	}
	st.Misses = 0
	switch p.Do {
	case ActRequest:
		return startRequest(st, in, 0)
	case ActReqStatus:
		return Result{State: st, Replies: []Reply{statusReply(st, in)}}
	case ActReqWithdraw:
		return withdrawAction(st, in, p)
	}
	// A button of a form that is not in progress.
	d := st.Request
	if d.hasForm() && p.Draft == d.Draft && d.age(in) <= reqDropAfter {
		st.Flow = FlowRequest // the form left aside: carry on with it
		return stepRequest(st, in, p)
	}
	if p.Step == "ok" && p.Draft != "" && (p.Draft == d.Sent || deskByDraft(in.Desk, p.Draft).Ref != "") {
		return Result{State: st, Replies: []Reply{alreadySent(in, p.Draft)}}
	}
	return Result{State: st, Replies: []Reply{{ID: msgReqExpired}, mainMenu(st)}}
}

// startRequest opens the form with the kinds the customer's message named, or offers to resume a
// form left aside.
func startRequest(st State, in Input, preset RequestKind) Result {
	st.Misses = 0
	d := &st.Request
	if d.hasForm() && d.age(in) <= reqDropAfter {
		st.Flow, d.Resume, d.Touched = FlowRequest, true, in.Now.Unix()
		return Result{State: st, Replies: []Reply{resumeReply(st)}}
	}
	return newForm(st, in, preset)
}

// newForm starts a form afresh. Kinds already in an open request are pointed to it and left out.
func newForm(st State, in Input, preset RequestKind) Result {
	open := openKinds(in.Desk)
	var out []Reply
	if dup := preset & open; dup != 0 {
		out = append(out, duplicateReply(in.Desk, dup, false))
	}
	if KindsAll&^open == 0 {
		st.Flow = FlowIdle
		st.Request = st.Request.afterForm()
		return Result{State: st, Replies: []Reply{duplicateReply(in.Desk, KindsAll, true)}}
	}
	st.Flow = FlowRequest
	st.Request = st.Request.afterForm()
	st.Request.Step, st.Request.Draft, st.Request.Touched = rqKinds, DraftKey(in.Now), in.Now.Unix()
	st.Request.Kinds = preset &^ open
	return Result{State: st, Replies: append(out, kindsReply(st, in, kindsIntro))}
}

// leaveForm takes the conversation out of the form, keeping the answers for later.
func leaveForm(st State) State {
	if st.Flow == FlowRequest {
		st.Flow = FlowIdle
	}
	st.Request.Resume, st.Request.Leave, st.Request.Section = false, false, 0
	return st
}

// dropForm forgets the form.
func dropForm(st State) State {
	if st.Flow == FlowRequest {
		st.Flow = FlowIdle
	}
	st.Request = st.Request.afterForm()
	return st
}

// stepRequest handles text, postbacks and media while the form is in progress.
func stepRequest(st State, in Input, p Postback) Result {
	st.Misses = 0
	d := &st.Request
	if !d.hasForm() || d.age(in) > reqDropAfter {
		return Step(dropForm(st), in) // nothing to continue, or 30 days old: as a new message
	}
	if in.Kind == InputPostback {
		switch p.Do {
		case ActReqStep:
			if p.Draft != d.Draft {
				return staleButton(st, in, p)
			}
			switch p.Step {
			case "resume", "restart", "cancel", "stay", "quit":
				d.Touched = in.Now.Unix()
				return formAction(st, in, p)
			}
		case ActLang:
			st.Lang = p.Lang
			d.Touched = in.Now.Unix()
			return Result{State: st, Replies: append([]Reply{{ID: msgLangSwitched}}, reqPrompt(st, in)...)}
		case ActReqStatus:
			d.Touched = in.Now.Unix()
			return Result{State: st, Replies: []Reply{statusReply(st, in)}}
		case ActReqWithdraw:
			d.Touched = in.Now.Unix()
			return withdrawAction(st, in, p)
		case ActRequest:
		default:
			// Another of the desk's buttons: the customer moved on; the form waits.
			return Step(leaveForm(st), in)
		}
	}
	if !d.Resume && d.age(in) > reqResumeAfter {
		d.Resume, d.Leave, d.Touched = true, false, in.Now.Unix()
		return Result{State: st, Replies: []Reply{resumeReply(st)}}
	}
	d.Touched = in.Now.Unix()
	switch in.Kind {
	case InputPostback:
		if p.Do == ActRequest {
			d.Leave = false // the request chip: the customer wants the form
			return Result{State: st, Replies: reqPrompt(st, in)}
		}
		if d.Resume {
			return Result{State: st, Replies: []Reply{resumeReply(st)}}
		}
		d.Leave = false // a chip of the form: the customer carries on
		return formAction(st, in, p)
	case InputMedia:
		if d.Resume {
			return Result{State: st, Replies: []Reply{resumeReply(st)}}
		}
		d.Leave = false
		if d.Step == rqDocs {
			return onPhoto(st, in)
		}
		return Result{State: st, Replies: append([]Reply{{ID: msgReqMediaNotNow}}, reqPrompt(st, in)...)}
	}
	return formText(st, in)
}

// formText reads a message typed inside the form: first what can be said at any step (language,
// resume, back, menu, cancel, status, "what does … mean?"), then the step's answer.
func formText(st State, in Input) Result {
	d := &st.Request
	if lang, ok := languageRequest(in.Text); ok {
		st.Lang = lang
		return Result{State: st, Replies: append([]Reply{{ID: msgLangSwitched}}, reqPrompt(st, in)...)}
	}
	if d.Resume {
		switch {
		case isRestartWord(in.Text):
			return formAction(st, in, Postback{Do: ActReqStep, Step: "restart", Draft: d.Draft})
		case isResumeWord(in.Text):
			return formAction(st, in, Postback{Do: ActReqStep, Step: "resume", Draft: d.Draft})
		case isMenuWord(in.Text):
			d.Resume = false
			return askLeave(st)
		case isCancelWord(in.Text) && !isBackWord(in.Text):
			return cancelForm(st)
		case asksRequestStatus(in.Text):
			return Result{State: st, Replies: []Reply{statusReply(st, in)}}
		}
		return Result{State: st, Replies: []Reply{resumeReply(st)}}
	}
	if d.Leave {
		switch {
		case isStayWord(in.Text):
			return formAction(st, in, Postback{Do: ActReqStep, Step: "stay", Draft: d.Draft})
		case isQuitWord(in.Text):
			return cancelForm(st)
		case asksRequestStatus(in.Text):
			return Result{State: st, Replies: []Reply{statusReply(st, in)}}
		}
		return Result{State: st, Replies: []Reply{leaveReply(st)}}
	}
	switch {
	case isBackWord(in.Text):
		return goBack(st, in)
	case isMenuWord(in.Text):
		return askLeave(st)
	case isCancelWord(in.Text):
		return cancelForm(st)
	case asksRequestStatus(in.Text):
		return Result{State: st, Replies: []Reply{statusReply(st, in)}}
	case isExplainWord(in.Text):
		return Result{State: st, Replies: append([]Reply{explainReply(0)}, reqPrompt(st, in)...)}
	}
	if k, ok := explainAsked(in.Text); ok {
		return Result{State: st, Replies: append([]Reply{explainReply(k)}, reqPrompt(st, in)...)}
	}
	return answerText(st, in)
}

// askLeave answers 「メニュー」 typed in the form: a form with answers asks first whether to quit
// (the answers would be lost) or keep going; an empty one is simply closed.
func askLeave(st State) Result {
	if !st.Request.hasAnswers() {
		st = dropForm(st)
		return Result{State: st, Replies: []Reply{mainMenu(st)}}
	}
	st.Request.Leave = true
	return Result{State: st, Replies: []Reply{leaveReply(st)}}
}

// formAction handles a button of the form in progress.
func formAction(st State, in Input, p Postback) Result {
	d := &st.Request
	switch p.Step {
	case "resume", "stay":
		d.Resume, d.Leave = false, false
		return Result{State: st, Replies: reqPrompt(st, in)}
	case "restart":
		return newForm(st, in, 0)
	case "cancel", "quit":
		return cancelForm(st)
	case "back":
		return goBack(st, in)
	case "explain":
		return Result{State: st, Replies: append([]Reply{explainReply(0)}, reqPrompt(st, in)...)}
	}
	return answerButton(st, in, p)
}

// cancelForm ends the form without sending anything.
func cancelForm(st State) Result {
	st = dropForm(st)
	return Result{State: st, Replies: []Reply{{ID: msgReqCancelled}, mainMenu(st)}}
}

// staleButton answers a button of an earlier form tapped while another is in progress.
func staleButton(st State, in Input, p Postback) Result {
	first := Reply{ID: msgReqStale}
	if p.Step == "ok" && p.Draft != "" && (p.Draft == st.Request.Sent || deskByDraft(in.Desk, p.Draft).Ref != "") {
		first = alreadySent(in, p.Draft)
		first.Choices = nil
	}
	st.Request.Touched = in.Now.Unix()
	return Result{State: st, Replies: append([]Reply{first}, reqPrompt(st, in)...)}
}

// alreadySent tells a second tap on a confirm button that its request went already.
func alreadySent(in Input, draft string) Reply {
	r := Reply{ID: msgReqAlreadySent, Data: map[string]string{}, Choices: []Choice{
		{LabelID: lblReqStatus, Postback: act(ActReqStatus)}, {LabelID: lblMenu, Postback: act(ActMenu)}}}
	if s := deskByDraft(in.Desk, draft); s.Ref != "" {
		r.Data["Ref"] = s.Ref
	}
	return r
}

// submit sends the request as the summary shows it. The reference number and the due date follow
// in the request service's notice.
func submit(st State, in Input) Result {
	d := st.Request
	for _, s := range formOrder {
		if s != rqSummary && d.applies(s) && d.missing(s) {
			return goTo(st, in, s) // cannot happen through the buttons; never send a gap
		}
	}
	if dup := d.Kinds & openKinds(in.Desk); dup != 0 {
		// Another request with one of these kinds was opened meanwhile.
		st.Request.Kinds &^= dup
		st.Request.Step = rqKinds
		return Result{State: st, Replies: []Reply{duplicateReply(in.Desk, dup, false), kindsReply(st, in, kindsAsk)}}
	}
	if d.Kinds&KindsAnswered == 0 {
		d.Delivery = DeliveryNone
	}
	shown := summaryReply(st, in)
	sub := &RequestSubmission{Draft: d.Draft, Kinds: d.Kinds, Correction: d.Correction, Target: d.Target,
		Ground: d.Ground, GroundText: d.GroundText, Requester: d.Requester, RepKind: d.RepKind, RepName: d.RepName,
		Name: d.Name, Address: d.Address, Phone: d.Phone, Documents: d.Docs, DocsBy: d.DocsBy, Delivery: d.Delivery,
		WordingID: shown.ID, WordingData: shown.Data, Lang: st.Lang, At: in.Now}
	next := d.afterForm()
	next.Sent, next.SentDocs, next.SentBy = d.Draft, d.lastSeq(), d.DocsBy
	if d.DocsBy == DocsLater {
		next.WaitDraft, next.WaitRef, next.WaitSeq = d.Draft, "", d.lastSeq()
	}
	st.Flow, st.Request = FlowIdle, next
	data := map[string]string{}
	if in.Desk.DueDays > 0 {
		data["Days"] = itoa(in.Desk.DueDays)
	}
	return Result{State: st, Replies: []Reply{{ID: msgReqSubmitted, Data: data}},
		Effects: []Effect{{Kind: EffectRequest, Request: sub}}}
}
