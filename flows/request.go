package flows

import (
	"strconv"
	"strings"
	"time"
)

// The personal-data request flow (開示等の請求, policy item 5): what the customer asks for, who asks,
// who the customer is (with photos of identity documents), how the answer reaches them, a summary to
// confirm, and afterwards the request's status, withdrawal and the request service's notices.
const FlowRequest FlowID = "request"

// reqStep is where the request form stands.
type reqStep uint8

// The steps of the form, in order. Which of them a form goes through depends on its answers
// (applies).
const (
	rqKinds      reqStep = iota + 1 // one or more of the nine kinds
	rqCorrection                    // 訂正/追加: what is wrong and what it should be
	rqTarget                        // the stop kinds: which data
	rqGround                        // the stop kinds: on what ground
	rqGroundText                    // the ground "other", in the customer's words
	rqWho                           // the customer, an appointed agent or a legal representative
	rqRepKind                       // a legal representative: parent or guardian
	rqRepName                       // an agent's or representative's own name
	rqName                          // the customer's name as the company holds it
	rqAddress                       // … address
	rqPhone                         // … phone number
	rqDocs                          // photos of the identity documents (or later, or by post)
	rqDelivery                      // how the answer is received (the answered kinds only)
	rqSummary                       // everything, to confirm
)

// reqSection is a part of the summary the customer can change (RequestData.Section).
type reqSection uint8

// The sections, each with its steps (sectionOf).
const (
	secWhat reqSection = iota + 1
	secDetails
	secWho
	secIdentity
	secPhotos
	secDelivery
)

// The flow's time rules and limits.
const (
	reqResumeAfter   = 24 * 60 * 60      // seconds untouched after which the customer is asked to resume or restart
	reqDropAfter     = 30 * 24 * 60 * 60 // seconds untouched after which a draft is dropped
	maxRequestPhotos = 10                // photos one request takes in the flow
	maxStatusRows    = 10                // requests listed by 申請状況 (the catalogs' {{range 10}})
)

// RequestData is the state of the request flow and what the chat remembers of the customer's
// requests afterwards. It is comparable (strings, numbers, booleans and the kinds bitmask) because
// State is. Times are Unix seconds.
type RequestData struct {
	// The form in progress (Step 0: none). A form the customer left for something else keeps its
	// answers (Flow is then not FlowRequest) until it is resumed, restarted or 30 days old.
	Step    reqStep    `json:"step,omitempty" bson:"step,omitempty"`
	Draft   string     `json:"draft,omitempty" bson:"draft,omitempty"`
	Touched int64      `json:"touched,omitempty" bson:"touched,omitempty"`
	Resume  bool       `json:"resume,omitempty" bson:"resume,omitempty"`   // asking "continue or start again?"
	Leave   bool       `json:"leave,omitempty" bson:"leave,omitempty"`     // asking "keep going or quit?" (「メニュー」 typed)
	Section reqSection `json:"section,omitempty" bson:"section,omitempty"` // the summary section being changed

	Kinds      RequestKind    `json:"kinds,omitempty" bson:"kinds,omitempty"`
	Correction string         `json:"-" bson:"correction,omitempty"`
	Target     string         `json:"-" bson:"target,omitempty"`
	Ground     Ground         `json:"ground,omitempty" bson:"ground,omitempty"`
	GroundText string         `json:"-" bson:"groundText,omitempty"`
	Requester  Requester      `json:"requester,omitempty" bson:"requester,omitempty"`
	RepKind    string         `json:"repKind,omitempty" bson:"repKind,omitempty"`
	RepName    string         `json:"-" bson:"repName,omitempty"`
	Name       string         `json:"-" bson:"name,omitempty"`
	Address    string         `json:"-" bson:"address,omitempty"`
	Phone      string         `json:"-" bson:"phone,omitempty"`                 // E.164
	Docs       int            `json:"docs,omitempty" bson:"docs,omitempty"`     // photos taken and not refused since
	DocSeq     int            `json:"docSeq,omitempty" bson:"docSeq,omitempty"` // the last photo's number (refused ones too)
	DocsBy     DocumentsBy    `json:"docsBy,omitempty" bson:"docsBy,omitempty"`
	Delivery   DeliveryMethod `json:"delivery,omitempty" bson:"delivery,omitempty"`

	// Sent is the draft key of the last request submitted (a second tap on its confirm button is
	// told it was sent), with the number of its last photo (photos sent later number on from it) and
	// how the rest comes.
	Sent     string      `json:"sent,omitempty" bson:"sent,omitempty"`
	SentDocs int         `json:"sentDocs,omitempty" bson:"sentDocs,omitempty"`
	SentBy   DocumentsBy `json:"sentBy,omitempty" bson:"sentBy,omitempty"`
	// WaitDraft (and WaitRef once known) is the submitted request waiting for photos: images sent
	// outside the form attach to it, numbered after WaitSeq.
	WaitDraft string `json:"waitDraft,omitempty" bson:"waitDraft,omitempty"`
	WaitRef   string `json:"waitRef,omitempty" bson:"waitRef,omitempty"`
	WaitSeq   int    `json:"waitSeq,omitempty" bson:"waitSeq,omitempty"`
	// Withdrawn is the last request the customer withdrew (a second tap changes nothing).
	Withdrawn string `json:"withdrawn,omitempty" bson:"withdrawn,omitempty"`
}

// afterForm is what stays of the request data when the form ends (sent, cancelled or dropped).
func (d RequestData) afterForm() RequestData {
	return RequestData{Sent: d.Sent, SentDocs: d.SentDocs, SentBy: d.SentBy, WaitDraft: d.WaitDraft,
		WaitRef: d.WaitRef, WaitSeq: d.WaitSeq, Withdrawn: d.Withdrawn}
}

// DraftKey derives a request form's key from the time it starts: "D" and the Unix nanoseconds in
// base 36. Flows are pure, so it cannot come from a random source; one customer cannot start two
// forms in the same nanosecond.
func DraftKey(at time.Time) string {
	return "D" + strings.ToUpper(strconv.FormatInt(at.UnixNano(), 36))
}

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

// hasForm reports whether a form (in progress or left aside) exists.
func (d RequestData) hasForm() bool { return d.Step != 0 && d.Draft != "" }

func (d RequestData) age(in Input) int64 { return in.Now.Unix() - d.Touched }

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

// hasAnswers reports whether the form holds anything the customer gave (kinds, answers, photos).
func (d RequestData) hasAnswers() bool {
	empty := d.afterForm()
	empty.Step, empty.Draft, empty.Touched = d.Step, d.Draft, d.Touched
	empty.Resume, empty.Leave, empty.Section = d.Resume, d.Leave, d.Section
	return d != empty
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
