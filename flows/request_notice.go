package flows

// After the form: the request service's notices (internal events), photos for a submitted request
// that waits for documents, and withdrawal.

// noticeChoices end a notice outside the form: the customer's requests and the menu.
func noticeChoices() []Choice {
	return []Choice{{LabelID: lblReqStatus, Postback: act(ActReqStatus)}, {LabelID: lblMenu, Postback: act(ActMenu)}}
}

// requestNotice words a notice of the request service for the customer. It is self-contained (the
// customer may be anywhere in the chat); inside the form, the form's question follows it.
func requestNotice(st State, in Input, n RequestNotice) Result {
	d := &st.Request
	data := map[string]string{"Ref": n.Ref, "St": string(n.Status)}
	kindData(data, "", n.Kinds)
	if n.Kinds&KindsAnswered != 0 {
		data["Answered"] = "1"
	}
	var id string
	switch n.What {
	case NoticeReceived:
		id = msgReqNoticeReceived
		dueData(data, "", n.Due)
		switch {
		case n.Draft != "" && n.Draft == d.Sent && d.SentBy == DocsPost:
			data["Post"] = "1"
		case n.Status == StatusDocumentsNeeded:
			data["Later"] = "1"
		}
		if n.Status == StatusDocumentsNeeded {
			d.waitFor(n.Draft, n.Ref, 0)
		}
	case NoticeStatus:
		id = msgReqNoticeStatus
		if !ValidStatus(n.Status) {
			return Result{State: st}
		}
		setIf(data, "Reason", n.Reason)
		setIf(data, "Link", n.Link)
		setIf(data, "Outcome", n.Outcome)
		if n.Link != "" {
			dueData(data, "Link", n.Expires) // LinkDueJa, LinkDueEn: the link's last day
			if n.Reissued {
				data["Reissued"] = "1"
			}
		}
		if n.Status.Open() {
			dueData(data, "", n.Due)
		}
		switch {
		case n.Status == StatusDocumentsNeeded:
			d.waitFor(n.Draft, n.Ref, 0)
		case n.Status != StatusReceived && d.waiting(n):
			// Decided: photos no longer attach to it. (Back to received means photos arrived, and
			// more may follow.)
			d.stopWaiting()
		}
		if n.Status == StatusCompleted && n.Kinds&KindsAnswered != 0 && n.Link == "" {
			data["Posted"] = "1"
		}
	case NoticeExtended:
		id = msgReqNoticeExtended
		dueData(data, "", n.Due)
		setIf(data, "Reason", n.Reason)
	case NoticeDocument:
		id = msgReqNoticeDocument
		data["Seq"], data["P"] = itoa(n.Seq), n.Problem
		if d.hasForm() && n.Draft != "" && d.Draft == n.Draft {
			d.photoRefused(n.Seq) // a photo of the form: it no longer counts
		} else {
			d.waitFor(n.Draft, n.Ref, n.Seq) // the photo sent again attaches to the same request
		}
	default:
		return Result{State: st} // a notice this version does not know: nothing to say
	}
	reply := Reply{ID: id, Data: data}
	if n.What == NoticeStatus && n.Status == StatusCompleted && n.Erase {
		// A completed 削除/消去: the chat forgets the conversation (only the language stays, to be
		// understood) and the desk erases what it holds, after this notice.
		data["Erased"] = "1"
		reply.Choices = []Choice{{LabelID: lblMenu, Postback: act(ActMenu)}}
		return Result{State: State{Lang: st.Lang}, Replies: []Reply{reply},
			Effects: []Effect{{Kind: EffectRequestErase, Erasure: &RequestErasure{Ref: n.Ref}}}}
	}
	if inForm(st) {
		return Result{State: st, Replies: append([]Reply{reply}, reqPrompt(st, in)...)}
	}
	reply.Choices = noticeChoices()
	if n.What == NoticeStatus && n.Status == StatusRejected {
		// The notice invites a new request: offer it where the customer reads that.
		reply.Choices = append([]Choice{{LabelID: lblReqMenu, Postback: RequestStartPostback}}, reply.Choices...)
	}
	if n.What == NoticeDocument && d.hasForm() && d.Draft == n.Draft {
		// The photo of a form left aside: back to the form to send it again.
		reply.Choices = []Choice{rqChoice(lblReqResume, rq(*d, "resume")), {LabelID: lblMenu, Postback: act(ActMenu)}}
	}
	return Result{State: st, Replies: []Reply{reply}}
}

func setIf(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// waitFor makes a submitted request the one photos attach to; seq is the last photo number known.
func (d *RequestData) waitFor(draft, ref string, seq int) {
	if draft == "" {
		return
	}
	if d.WaitDraft != draft {
		d.WaitSeq = 0
		if draft == d.Sent {
			d.WaitSeq = d.SentDocs
		}
	}
	d.WaitDraft, d.WaitSeq = draft, max(d.WaitSeq, seq)
	if ref != "" {
		d.WaitRef = ref
	}
}

// stopWaiting ends the wait for photos, remembering how many the last request received (a later
// "documents needed" numbers on).
func (d *RequestData) stopWaiting() {
	if d.WaitDraft != "" && d.WaitDraft == d.Sent {
		d.SentDocs = max(d.SentDocs, d.WaitSeq)
	}
	d.WaitDraft, d.WaitRef, d.WaitSeq = "", "", 0
}

// waiting reports whether the notice is about the request photos attach to.
func (d RequestData) waiting(n RequestNotice) bool {
	return (n.Draft != "" && n.Draft == d.WaitDraft) || (n.Ref != "" && n.Ref == d.WaitRef)
}

// waitingPhoto attaches an image sent outside the form to the request waiting for documents.
// Stickers and locations are left to the rest of the chat.
func waitingPhoto(st State, in Input) (Result, bool) {
	d := &st.Request
	data := map[string]string{"Ref": d.WaitRef}
	switch in.Media.Type {
	case "image":
	case "video", "audio", "file":
		data["Waiting"] = "1"
		return Result{State: st, Replies: []Reply{{ID: msgReqDocNotImage, Data: data, Choices: noticeChoices()}}}, true
	default:
		return Result{}, false
	}
	st.Misses = 0
	d.WaitSeq++
	data["N"] = itoa(d.WaitSeq)
	up := &DocumentUpload{Draft: d.WaitDraft, MessageID: in.Media.MessageID, URL: in.Media.URL, Seq: d.WaitSeq}
	return Result{State: st, Replies: []Reply{{ID: msgReqDocAttached, Data: data, Choices: noticeChoices()}},
		Effects: []Effect{{Kind: EffectRequestDocument, Document: up}}}, true
}

// withdrawAction asks to confirm a withdrawal, withdraws, or keeps the request. Only an open request
// of the customer's can be withdrawn.
func withdrawAction(st State, in Input, p Postback) Result {
	x := deskByRef(in.Desk, p.Ref)
	data := map[string]string{"Ref": p.Ref}
	tail := append([]Choice{{LabelID: lblReqStatus, Postback: act(ActReqStatus)}}, tailChoices(st)...)
	if p.Step == "no" {
		return Result{State: st, Replies: []Reply{{ID: msgReqWithdrawKept, Data: data, Choices: tail}}}
	}
	if x.Ref == "" || !x.Status.Open() || p.Ref == st.Request.Withdrawn {
		data["St"] = string(x.Status)
		if p.Ref != "" && p.Ref == st.Request.Withdrawn {
			data["St"] = string(StatusWithdrawn)
		}
		return Result{State: st, Replies: []Reply{{ID: msgReqWithdrawNot, Data: data, Choices: tail}}}
	}
	kindData(data, "", x.Kinds)
	if p.Step != "ok" {
		yes := Postback{Do: ActReqWithdraw, Step: "ok", Ref: x.Ref}.Encode()
		no := Postback{Do: ActReqWithdraw, Step: "no", Ref: x.Ref}.Encode()
		return Result{State: st, Replies: []Reply{{ID: msgReqWithdrawAsk, Data: data, Choices: []Choice{
			{LabelID: lblReqWithdrawYes, Postback: yes}, {LabelID: lblReqWithdrawNo, Postback: no}}}}}
	}
	d := &st.Request
	d.Withdrawn = x.Ref
	if d.waiting(RequestNotice{Ref: x.Ref, Draft: x.Draft}) {
		d.stopWaiting()
	}
	return Result{State: st, Replies: []Reply{{ID: msgReqWithdrawDone, Data: data, Choices: tail}},
		Effects: []Effect{{Kind: EffectRequestWithdraw, Withdrawal: &RequestWithdrawal{Ref: x.Ref}}}}
}

// openKinds are the kinds of the customer's open requests.
func openKinds(desk RequestDesk) RequestKind {
	var k RequestKind
	for _, r := range desk.Requests {
		if r.Status.Open() {
			k |= r.Kinds
		}
	}
	return k
}

// deskByRef and deskByDraft find one of the customer's requests.
func deskByRef(desk RequestDesk, ref string) RequestSummary {
	for _, r := range desk.Requests {
		if ref != "" && r.Ref == ref {
			return r
		}
	}
	return RequestSummary{}
}

func deskByDraft(desk RequestDesk, draft string) RequestSummary {
	for _, r := range desk.Requests {
		if draft != "" && r.Draft == draft {
			return r
		}
	}
	return RequestSummary{}
}

// requestAside is what the request feature answers whatever else the conversation is doing (Step
// calls it after the flow in progress passed on the input): 「申請状況」 in any message, a photo for a
// submitted request that waits for documents, and a form left aside that turned 30 days old.
func requestAside(st State, in Input) (Result, bool) {
	switch in.Kind {
	case InputText, InputPostback, InputMedia:
	default:
		return Result{}, false
	}
	if st.Flow != FlowRequest && st.Request.hasForm() && st.Request.age(in) > reqDropAfter {
		return Step(dropForm(st), in), true
	}
	switch {
	case in.Kind == InputText && asksRequestStatus(in.Text):
		st.Misses = 0
		return Result{State: st, Replies: []Reply{statusReply(st, in)}}, true
	case in.Kind == InputMedia && st.Request.WaitDraft != "":
		return waitingPhoto(st, in)
	}
	return Result{}, false
}
