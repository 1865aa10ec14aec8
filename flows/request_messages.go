package flows

// Catalog IDs of the request flow (locales/request.*.toml).
//
// The buttons inside the form are ActReqStep with Step (wire "a"): kind (Kind), done, explain, ground
// (Value: a Ground), who (Value: a Requester), rep (Value: RepParent or RepGuardian), docsdone, later,
// post, deliv (Value: a DeliveryMethod), edit (Value: a section name), ok, cancel, back, resume,
// restart, stay, quit; each carries the form's Draft. ActReqWithdraw has Step "" (ask, with Num), ok or no.
const (
	msgReqKinds        = "request.kinds"          // which kinds (the choice; Intro: the opening, Tap: the choice only, Hint: choose one)
	msgReqExplain      = "request.explain"        // one line per kind (One: only that kind)
	msgReqDuplicate    = "request.duplicate"      // kinds already in an open request (All: every kind)
	msgReqAskCorr      = "request.ask_correction" // 訂正/追加: what is wrong, what it should be
	msgReqAskTarget    = "request.ask_target"     // the stop kinds: which data (SK_…: the stop kinds chosen)
	msgReqAskGround    = "request.ask_ground"     // … on what ground
	msgReqAskGroundTxt = "request.ask_ground_text"
	msgReqTextShort    = "request.text_short"
	msgReqTextLong     = "request.text_long" // Max
	msgReqAskWho       = "request.ask_who"
	msgReqAskRepKind   = "request.ask_rep_kind"
	msgReqAskRepName   = "request.ask_rep_name"
	msgReqAskName      = "request.ask_name" // Rep: asked of a representative
	msgReqBadName      = "request.bad_name"
	msgReqAskAddress   = "request.ask_address"
	msgReqBadAddress   = "request.bad_address"
	msgReqAskPhone     = "request.ask_phone"
	msgReqBadPhone     = "request.bad_phone"
	msgReqDocsList     = "request.docs_list"    // what this requester sends (Who, RepKind)
	msgReqDocsAsk      = "request.docs_ask"     // what to hide, then "send the photos"
	msgReqDocsAgain    = "request.docs_again"   // text at the photo step (N so far)
	msgReqDocReceived  = "request.doc_received" // Seq: the photo's number
	msgReqDocNotImage  = "request.doc_not_image"
	msgReqDocTooMany   = "request.doc_too_many" // Max
	msgReqDocsNone     = "request.docs_none"    // "sent them all" with none sent or all refused (Refused)
	msgReqAskDelivery  = "request.ask_delivery" // Fee
	msgReqSummary      = "request.summary"      // the wording the customer confirms (recorded)
	msgReqSubmitted    = "request.submitted"    // Days
	msgReqAlreadySent  = "request.already_sent" // Ref when known
	msgReqExpired      = "request.expired"      // a button of a form that has ended
	msgReqStale        = "request.stale"        // a button of an earlier form, while another is in progress
	msgReqCancelled    = "request.cancelled"
	msgReqResume       = "request.resume"
	msgReqLeaveAsk     = "request.leave_ask" // 「メニュー」 typed in a form with answers: quit or keep going?
	msgReqHint         = "request.hint"
	msgReqMediaNotNow  = "request.media_not_now"

	msgReqStatusList   = "request.status_list" // rows R0_… to R9_…
	msgReqStatusNone   = "request.status_none"
	msgReqWithdrawAsk  = "request.withdraw_ask"
	msgReqWithdrawDone = "request.withdraw_done"
	msgReqWithdrawKept = "request.withdraw_kept"
	msgReqWithdrawNot  = "request.withdraw_not_open"
	msgReqDocAttached  = "request.doc_attached" // a photo for a submitted request (N, Ref)

	// The request service's notices (internal events).
	msgReqNoticeReceived = "request.notice.received"
	msgReqNoticeStatus   = "request.notice.status"
	msgReqNoticeExtended = "request.notice.extended"
	msgReqNoticeDocument = "request.notice.document"

	lblReqMenu         = "request.label.menu"
	lblReqStatus       = "request.label.status"
	lblReqExplain      = "request.label.explain"
	lblReqDone         = "request.label.done"
	lblReqCancel       = "request.label.cancel"
	lblReqBack         = "request.label.back"
	lblReqDocsDone     = "request.label.docs_done"
	lblReqDocsLater    = "request.label.docs_later"
	lblReqDocsPost     = "request.label.docs_post"
	lblReqConfirm      = "request.label.confirm"
	lblReqResume       = "request.label.resume"
	lblReqRestart      = "request.label.restart"
	lblReqStay         = "request.label.stay"
	lblReqQuit         = "request.label.quit"
	lblReqWithdrawYes  = "request.label.withdraw_yes"
	lblReqWithdrawNo   = "request.label.withdraw_no"
	lblReqRepParent    = "request.label.rep_parent"
	lblReqRepGuardian  = "request.label.rep_guardian"
	lblReqElectronic   = "request.label.delivery_electronic"
	lblReqPost         = "request.label.delivery_post"
	lblReqWhoSelf      = "request.label.who_self"
	lblReqWhoAgent     = "request.label.who_agent"
	lblReqWhoLegal     = "request.label.who_legal"
	lblReqWithdrawNPre = "request.label.withdraw_" // + 1 … maxStatusRows
)

// kindLabel, groundLabel and editLabel are the catalog IDs of those chips' labels. Their names avoid
// go-i18n's reserved keys (a table key "other" would make the table a plural message).
func kindLabel(k RequestKind) string  { return "request.label.kind_" + k.Name() }
func groundLabel(g Ground) string     { return "request.label.ground_" + string(g) }
func editLabel(sec reqSection) string { return "request.label.edit_" + sectionName(sec) }
func withdrawLabel(n int) string      { return lblReqWithdrawNPre + itoa(n) }

var sectionNames = []struct {
	sec  reqSection
	name string
}{{secWhat, "what"}, {secDetails, "details"}, {secWho, "who"}, {secIdentity, "identity"}, {secPhotos, "photos"},
	{secDelivery, "delivery"}}

func sectionName(sec reqSection) string {
	for _, s := range sectionNames {
		if s.sec == sec {
			return s.name
		}
	}
	return ""
}

func sectionNamed(name string) reqSection {
	for _, s := range sectionNames {
		if s.name == name {
			return s.sec
		}
	}
	return 0
}

// RequestMessageIDs lists every catalog ID the request flow uses.
func RequestMessageIDs() []string {
	ids := []string{msgReqKinds, msgReqExplain, msgReqDuplicate, msgReqAskCorr, msgReqAskTarget, msgReqAskGround,
		msgReqAskGroundTxt, msgReqTextShort, msgReqTextLong, msgReqAskWho, msgReqAskRepKind, msgReqAskRepName,
		msgReqAskName, msgReqBadName, msgReqAskAddress, msgReqBadAddress, msgReqAskPhone, msgReqBadPhone,
		msgReqDocsList, msgReqDocsAsk, msgReqDocsAgain, msgReqDocReceived, msgReqDocNotImage, msgReqDocTooMany,
		msgReqDocsNone, msgReqAskDelivery, msgReqSummary, msgReqSubmitted, msgReqAlreadySent, msgReqExpired,
		msgReqStale, msgReqCancelled, msgReqResume, msgReqLeaveAsk, msgReqHint, msgReqMediaNotNow,
		msgReqStatusList, msgReqStatusNone, msgReqWithdrawAsk, msgReqWithdrawDone, msgReqWithdrawKept,
		msgReqWithdrawNot, msgReqDocAttached,
		msgReqNoticeReceived, msgReqNoticeStatus, msgReqNoticeExtended, msgReqNoticeDocument,
		lblReqMenu, lblReqStatus, lblReqExplain, lblReqDone, lblReqCancel, lblReqBack, lblReqDocsDone,
		lblReqDocsLater, lblReqDocsPost, lblReqConfirm, lblReqResume, lblReqRestart, lblReqStay, lblReqQuit, lblReqWithdrawYes,
		lblReqWithdrawNo, lblReqRepParent, lblReqRepGuardian, lblReqElectronic, lblReqPost, lblReqWhoSelf,
		lblReqWhoAgent, lblReqWhoLegal}
	for _, k := range RequestKindList() {
		ids = append(ids, kindLabel(k))
	}
	for _, g := range GroundList() {
		ids = append(ids, groundLabel(g))
	}
	for _, s := range sectionNames {
		ids = append(ids, editLabel(s.sec))
	}
	for n := 1; n <= maxStatusRows; n++ {
		ids = append(ids, withdrawLabel(n))
	}
	return ids
}

// requestLabel names the label of a request chip (Feature.Label).
func requestLabel(p Postback) (string, bool) {
	switch p.Do {
	case ActRequest:
		return lblReqMenu, true
	case ActReqStatus:
		return lblReqStatus, true
	case ActReqWithdraw:
		switch {
		case p.Step == "ok":
			return lblReqWithdrawYes, true
		case p.Step == "no":
			return lblReqWithdrawNo, true
		case p.Step == "" && p.Num >= 1 && p.Num <= maxStatusRows:
			return withdrawLabel(p.Num), true
		}
		return "", false
	}
	switch p.Step {
	case "kind":
		if p.Kind.Name() != "" {
			return kindLabel(p.Kind), true
		}
	case "ground":
		if validGround(Ground(p.Value)) {
			return groundLabel(Ground(p.Value)), true
		}
	case "who":
		switch Requester(p.Value) {
		case RequesterSelf:
			return lblReqWhoSelf, true
		case RequesterAgent:
			return lblReqWhoAgent, true
		case RequesterLegal:
			return lblReqWhoLegal, true
		}
	case "rep":
		switch p.Value {
		case RepParent:
			return lblReqRepParent, true
		case RepGuardian:
			return lblReqRepGuardian, true
		}
	case "deliv":
		switch DeliveryMethod(p.Value) {
		case DeliveryElectronic:
			return lblReqElectronic, true
		case DeliveryPost:
			return lblReqPost, true
		}
	case "edit":
		if sec := sectionNamed(p.Value); sec != 0 {
			return editLabel(sec), true
		}
	case "done":
		return lblReqDone, true
	case "explain":
		return lblReqExplain, true
	case "docsdone":
		return lblReqDocsDone, true
	case "later":
		return lblReqDocsLater, true
	case "post":
		return lblReqDocsPost, true
	case "ok":
		return lblReqConfirm, true
	case "cancel":
		return lblReqCancel, true
	case "back":
		return lblReqBack, true
	case "resume":
		return lblReqResume, true
	case "restart":
		return lblReqRestart, true
	case "stay":
		return lblReqStay, true
	case "quit":
		return lblReqQuit, true
	}
	return "", false
}
