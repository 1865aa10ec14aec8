package flows

import (
	"fmt"
	"time"
)

// The replies of the request form. Lists of kinds are template flags: K_<name> is "1" for the first
// kind of the set and "2" for the others, so that the catalogs put a separator before all but the
// first ({{with .K_deletion}}{{if eq . "2"}}、{{end}}削除{{end}}) and the wording stays in the catalogs.

// kindData sets the flags of a set of kinds under prefix (prefix+"K_<name>"), and prefix+"Any".
func kindData(m map[string]string, prefix string, k RequestKind) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	for i, x := range k.List() {
		v := "2"
		if i == 0 {
			v = "1"
		}
		m[prefix+"K_"+x.Name()] = v
	}
	if k != 0 {
		m[prefix+"Any"] = "1"
	}
	return m
}

// listData sets the flags of a set of kinds under prefix (prefix+"K_<name>") for a list in running
// text, and prefix+"Any": "1" for the first kind, "3" for the last of two or more, "2" for those
// between (English puts "or" before the last).
func listData(m map[string]string, prefix string, k RequestKind) map[string]string {
	list := k.List()
	for i, x := range list {
		v := "2"
		switch {
		case i == 0:
			v = "1"
		case i == len(list)-1:
			v = "3"
		}
		m[prefix+"K_"+x.Name()] = v
	}
	if k != 0 {
		m[prefix+"Any"] = "1"
	}
	return m
}

// dueData sets prefix+"DueJa" (2026年12月18日) and prefix+"DueEn" (18 December 2026) from a date
// written YYYY-MM-DD; each catalog uses its own.
func dueData(m map[string]string, prefix, due string) {
	if due == "" {
		return
	}
	t, err := time.Parse(time.DateOnly, due)
	if err != nil {
		m[prefix+"DueJa"], m[prefix+"DueEn"] = due, due
		return
	}
	m[prefix+"DueJa"] = fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
	m[prefix+"DueEn"] = t.Format("2 January 2006")
}

// rq is the data of a button of the form.
func rq(d RequestData, step string) Postback {
	return Postback{Do: ActReqStep, Step: step, Draft: d.Draft}
}

func rqChoice(label string, p Postback) Choice { return Choice{LabelID: label, Postback: p.Encode()} }

// backCancel are the chips that end every question after the first.
func backCancel(d RequestData) []Choice {
	return []Choice{rqChoice(lblReqBack, rq(d, "back")), rqChoice(lblReqCancel, rq(d, "cancel"))}
}

// askData is the data of the form's questions: the chosen kinds and who asks.
func askData(d RequestData) map[string]string {
	m := kindData(nil, "", d.Kinds)
	m["Who"] = string(d.Requester)
	if d.Requester == RequesterAgent || d.Requester == RequesterLegal {
		m["Rep"] = "1"
	}
	m["RepKind"] = d.RepKind
	return m
}

// kindsMode says how much the kinds question says around the choice so far.
type kindsMode uint8

const (
	kindsAsk   kindsMode = iota // the question again (back, a change from the summary, a resume, …)
	kindsIntro                  // the form opens: what the form is for, once
	kindsTap                    // a kind chosen or taken off: the choice so far only
	kindsHint                   // nothing chosen yet: choose one first
)

// kindsReply asks which kinds, showing the choice.
func kindsReply(st State, in Input, mode kindsMode) Reply {
	d := st.Request
	open := openKinds(in.Desk)
	data := kindData(nil, "", d.Kinds)
	switch mode {
	case kindsIntro:
		data["Intro"] = "1"
	case kindsTap:
		data["Tap"] = "1"
	case kindsHint:
		data["Hint"] = "1"
	}
	if open != 0 {
		data["Open"] = "1"
	}
	r := Reply{ID: msgReqKinds, Data: data}
	for _, k := range RequestKindList() {
		if open&k == 0 {
			p := rq(d, "kind")
			p.Kind = k
			r.Choices = append(r.Choices, rqChoice(kindLabel(k), p))
		}
	}
	r.Choices = append(r.Choices, rqChoice(lblReqExplain, rq(d, "explain")))
	if d.Kinds != 0 {
		r.Choices = append(r.Choices, rqChoice(lblReqDone, rq(d, "done")))
	}
	if len(in.Desk.Requests) > 0 {
		r.Choices = append(r.Choices, Choice{LabelID: lblReqStatus, Postback: act(ActReqStatus)})
	}
	return appendChoice(r, rqChoice(lblReqCancel, rq(d, "cancel")))
}

// appendChoice adds a chip, keeping within LINE's 13.
func appendChoice(r Reply, c Choice) Reply {
	if len(r.Choices) < 13 {
		r.Choices = append(r.Choices, c)
	}
	return r
}

// explainReply explains the kinds, one line each; k names the one asked about (0: all).
func explainReply(k RequestKind) Reply {
	return Reply{ID: msgReqExplain, Data: map[string]string{"One": k.Name()}}
}

// duplicateReply points kinds the customer asks for to the open request that has them; all says
// every kind is in an open request, so no form starts.
func duplicateReply(desk RequestDesk, dup RequestKind, all bool) Reply {
	data := map[string]string{"Ref": "", "St": ""}
	for _, r := range desk.Requests {
		if r.Status.Open() && r.Kinds&dup != 0 {
			data["Ref"], data["St"] = r.Ref, string(r.Status)
			dueData(data, "", r.Due)
			kindData(data, "", r.Kinds&dup)
			break
		}
	}
	r := Reply{ID: msgReqDuplicate, Data: data}
	if all {
		data["All"] = "1"
		r.Choices = []Choice{{LabelID: lblReqStatus, Postback: act(ActReqStatus)}, {LabelID: lblMenu, Postback: act(ActMenu)}}
	}
	return r
}

// askReq is a question answered in words (or a "please try again"), with back and cancel.
func askReq(st State, id string) Reply {
	return Reply{ID: id, Data: askData(st.Request), Choices: backCancel(st.Request)}
}

// textProblem says a typed answer was too short or too long.
func textProblem(st State, bad string) Reply {
	r := askReq(st, msgReqTextShort)
	if bad == "long" {
		r.ID = msgReqTextLong
		r.Data["Max"] = itoa(textLimits[st.Request.Step].max)
	}
	return r
}

func groundReply(st State) Reply {
	d := st.Request
	r := Reply{ID: msgReqAskGround, Data: askData(d)}
	for _, g := range GroundList() {
		p := rq(d, "ground")
		p.Value = string(g)
		r.Choices = append(r.Choices, rqChoice(groundLabel(g), p))
	}
	r.Choices = append(r.Choices, backCancel(d)...)
	return r
}

func whoReply(st State) Reply {
	d := st.Request
	r := Reply{ID: msgReqAskWho, Data: askData(d)}
	for _, c := range []struct {
		label string
		who   Requester
	}{{lblReqWhoSelf, RequesterSelf}, {lblReqWhoAgent, RequesterAgent}, {lblReqWhoLegal, RequesterLegal}} {
		p := rq(d, "who")
		p.Value = string(c.who)
		r.Choices = append(r.Choices, rqChoice(c.label, p))
	}
	r.Choices = append(r.Choices, backCancel(d)...)
	return r
}

func repKindReply(st State) Reply {
	d := st.Request
	parent, guardian := rq(d, "rep"), rq(d, "rep")
	parent.Value, guardian.Value = RepParent, RepGuardian
	return Reply{ID: msgReqAskRepKind, Data: askData(d), Choices: append([]Choice{
		rqChoice(lblReqRepParent, parent), rqChoice(lblReqRepGuardian, guardian)}, backCancel(d)...)}
}

// docsListReply says which documents this requester sends.
func docsListReply(st State) Reply {
	return Reply{ID: msgReqDocsList, Data: askData(st.Request)}
}

// docsAskReply asks for the photos (or answers one) with the photo step's chips: sent all, later, by
// post, back, cancel. N is the number of photos received so far.
func docsAskReply(st State, id string) Reply {
	d := st.Request
	data := askData(d)
	data["N"], data["Max"] = itoa(d.Docs), itoa(maxRequestPhotos)
	if d.lastSeq() > d.Docs {
		data["Refused"] = "1" // some photos could not be used
	}
	return Reply{ID: id, Data: data, Choices: append([]Choice{rqChoice(lblReqDocsDone, rq(d, "docsdone")),
		rqChoice(lblReqDocsLater, rq(d, "later")), rqChoice(lblReqDocsPost, rq(d, "post"))}, backCancel(d)...)}
}

// deliveryReply asks how to receive the answer; the fee (REQUEST_FEE_TEXT) is shown when one is set
// (only the answered kinds, which this step is for, may carry one).
func deliveryReply(st State, in Input) Reply {
	d := st.Request
	data := askData(d)
	if in.Desk.Fee != "" {
		data["Fee"] = in.Desk.Fee
	}
	el, post := rq(d, "deliv"), rq(d, "deliv")
	el.Value, post.Value = string(DeliveryElectronic), string(DeliveryPost)
	return Reply{ID: msgReqAskDelivery, Data: data, Choices: append([]Choice{
		rqChoice(lblReqElectronic, el), rqChoice(lblReqPost, post)}, backCancel(d)...)}
}

// summaryReply is every answer, to confirm; its ID and data are recorded as the wording shown.
func summaryReply(st State, in Input) Reply {
	d := st.Request
	data := kindData(nil, "", d.Kinds)
	for k, v := range map[string]string{"Correction": d.Correction, "Target": d.Target, "G": string(d.Ground),
		"GroundText": d.GroundText, "Who": string(d.Requester), "RepKind": d.RepKind, "RepName": d.RepName,
		"Name": d.Name, "Address": d.Address, "Phone": displayPhone(d.Phone), "DocsBy": string(d.DocsBy),
		"Docs": itoa(d.Docs)} {
		data[k] = v
	}
	if d.Kinds&KindsAnswered != 0 {
		data["Delivery"] = string(d.Delivery)
		if in.Desk.Fee != "" {
			data["Fee"] = in.Desk.Fee
		}
	}
	r := Reply{ID: msgReqSummary, Data: data, Choices: []Choice{rqChoice(lblReqConfirm, rq(d, "ok"))}}
	for _, s := range sectionNames {
		if d.firstOf(s.sec) != 0 {
			p := rq(d, "edit")
			p.Value = s.name
			r.Choices = append(r.Choices, rqChoice(editLabel(s.sec), p))
		}
	}
	r.Choices = append(r.Choices, rqChoice(lblReqCancel, rq(d, "cancel")))
	return r
}

// resumeReply asks whether to continue a form or start again.
func resumeReply(st State) Reply {
	d := st.Request
	return Reply{ID: msgReqResume, Data: kindData(nil, "", d.Kinds), Choices: []Choice{
		rqChoice(lblReqResume, rq(d, "resume")), rqChoice(lblReqRestart, rq(d, "restart")),
		rqChoice(lblReqCancel, rq(d, "cancel"))}}
}

// leaveReply asks, after 「メニュー」 typed in a form with answers, whether to quit it or keep going.
func leaveReply(st State) Reply {
	d := st.Request
	return Reply{ID: msgReqLeaveAsk, Choices: []Choice{rqChoice(lblReqStay, rq(d, "stay")), rqChoice(lblReqQuit, rq(d, "quit"))}}
}

// reqPrompt asks the current question of the form again.
func reqPrompt(st State, in Input) []Reply {
	d := st.Request
	if d.Resume {
		return []Reply{resumeReply(st)}
	}
	if d.Leave {
		return []Reply{leaveReply(st)}
	}
	switch d.Step {
	case rqCorrection:
		return []Reply{askReq(st, msgReqAskCorr)}
	case rqTarget:
		r := askReq(st, msgReqAskTarget)
		listData(r.Data, "S", d.Kinds&KindsStop) // only the stop kinds chosen
		return []Reply{r}
	case rqGround:
		return []Reply{groundReply(st)}
	case rqGroundText:
		return []Reply{askReq(st, msgReqAskGroundTxt)}
	case rqWho:
		return []Reply{whoReply(st)}
	case rqRepKind:
		return []Reply{repKindReply(st)}
	case rqRepName:
		return []Reply{askReq(st, msgReqAskRepName)}
	case rqName:
		return []Reply{askReq(st, msgReqAskName)}
	case rqAddress:
		return []Reply{askReq(st, msgReqAskAddress)}
	case rqPhone:
		return []Reply{askReq(st, msgReqAskPhone)}
	case rqDocs:
		return []Reply{docsAskReply(st, msgReqDocsAsk)}
	case rqDelivery:
		return []Reply{deliveryReply(st, in)}
	case rqSummary:
		return []Reply{summaryReply(st, in)}
	}
	return []Reply{kindsReply(st, in, kindsAsk)}
}

// inForm reports whether the conversation is in a form (chips then lead back to it).
func inForm(st State) bool { return st.Flow == FlowRequest && st.Request.hasForm() }

// tailChoices end the replies about the customer's requests: back to the form in progress, or a new
// request and the menu.
func tailChoices(st State) []Choice {
	if inForm(st) {
		return []Choice{rqChoice(lblReqResume, rq(st.Request, "resume"))}
	}
	return []Choice{{LabelID: lblReqMenu, Postback: RequestStartPostback}, {LabelID: lblMenu, Postback: act(ActMenu)}}
}

// statusReply lists the customer's requests (newest first, up to maxStatusRows) with their kinds,
// status and due date, and offers to withdraw each open one.
func statusReply(st State, in Input) Reply {
	reqs := in.Desk.Requests
	if len(reqs) == 0 {
		return Reply{ID: msgReqStatusNone, Choices: tailChoices(st)}
	}
	data := map[string]string{"N": itoa(len(reqs))}
	if len(reqs) > maxStatusRows {
		data["More"] = "1"
		reqs = reqs[:maxStatusRows]
	}
	r := Reply{ID: msgReqStatusList, Data: data}
	for i, x := range reqs {
		p := "R" + itoa(i) + "_"
		data[p+"Num"], data[p+"Ref"], data[p+"St"] = itoa(i+1), x.Ref, string(x.Status)
		kindData(data, p, x.Kinds)
		if x.Status.Open() {
			dueData(data, p, x.Due)
		}
		if x.Status.Open() && x.Ref != "" {
			data["Open"] = "1"
			r.Choices = append(r.Choices, Choice{LabelID: withdrawLabel(i + 1),
				Postback: Postback{Do: ActReqWithdraw, Ref: x.Ref, Num: i + 1}.Encode()})
		}
	}
	r.Choices = append(r.Choices, tailChoices(st)...)
	return r
}
