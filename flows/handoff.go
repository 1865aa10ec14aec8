package flows

// Escalation reasons: why a customer is handed to staff.
const (
	ReasonComplaint = "complaint" // the complaint flow, sent
	ReasonHuman     = "human"     // the customer asked for a person
	ReasonMisses    = "misses"    // the bot failed twice and the customer accepted staff
)

// Complaint categories (the first step of the complaint flow).
const (
	CategoryData    = "data"    // handling of personal data
	CategoryConduct = "conduct" // staff conduct
	CategoryService = "service" // the service
	CategoryOther   = "other"
)

// Escalation priorities.
const (
	PriorityHigh   = "high"   // complaints about personal data
	PriorityNormal = "normal" // everything else
)

// Satisfaction ratings a customer can give after a closed escalation.
const (
	RatingGood = "good"
	RatingOK   = "ok"
	RatingBad  = "bad"
)

// EscalationRequest is the payload of the escalation effects. For EffectEscalate: Reason, Category,
// Description and Priority describe the new escalation. For EffectRateEscalation: Ticket names the
// closed escalation and Rating the customer's answer. EffectCancelEscalation needs no payload (the
// customer's open escalation is cancelled, if it is still queued).
type EscalationRequest struct {
	Reason      string `bson:"reason,omitempty"`
	Category    string `bson:"category,omitempty"`
	Description string `bson:"description,omitempty"`
	Priority    string `bson:"priority,omitempty"`
	Ticket      string `bson:"ticket,omitempty"`
	Rating      string `bson:"rating,omitempty"`
}

// HandoffStage is where a customer is in the complaint flow.
type HandoffStage string

// The stages of the complaint flow.
const (
	StageNone     HandoffStage = ""
	StageCategory HandoffStage = "category" // choosing a category
	StageDescribe HandoffStage = "describe" // writing what happened
	StageConfirm  HandoffStage = "confirm"  // confirming before it goes to staff
)

// HandoffState is the complaint flow's data and the customer's place in the staff queue. It is a
// comparable value (State is compared with != in the pipeline): strings and booleans only.
type HandoffState struct {
	Stage       HandoffStage `json:"stage,omitempty" bson:"stage,omitempty"`
	Category    string       `json:"category,omitempty" bson:"category,omitempty"`
	Description string       `json:"description,omitempty" bson:"description,omitempty"`
	// Noted is set once the customer, waiting for staff, was told that further messages reach staff
	// (so that a burst of messages is not answered message by message).
	Noted bool `json:"noted,omitempty" bson:"noted,omitempty"`
}

// Catalog message IDs of the complaint flow and the staff handoff (locales/handoff.*.toml). The
// Notice* IDs are exported for the console (the settings page previews the joined notice) and the
// staff group's alert (rendered by package bot).
const (
	msgComplaintCategory      = "complaint.category"
	msgComplaintCategoryAgain = "complaint.category_again"
	msgComplaintDescribe      = "complaint.describe"
	msgComplaintConfirm       = "complaint.confirm"
	msgComplaintQuit          = "complaint.quit"
	msgComplaintTextOnly      = "complaint.text_only"
	msgHandoffWaiting         = "handoff.waiting"
	msgHandoffStillQueued     = "handoff.still_queued"
	msgHandoffCancelled       = "handoff.cancelled"
	msgHandoffNothingToCancel = "handoff.nothing_to_cancel"
	msgHandoffBack            = "handoff.back"
	msgHandoffClosed          = "handoff.closed"
	msgHandoffRateAsk         = "handoff.rate_ask"
	msgHandoffRateThanks      = "handoff.rate_thanks"
	msgHandoffOffer           = "handoff.offer"

	// NoticeQueued tells the customer the request is with staff (business hours).
	NoticeQueued = "handoff.queued"
	// NoticeQueuedClosedHours does the same outside business hours; data: Next (when staff answer).
	NoticeQueuedClosedHours = "handoff.queued_after_hours"
	// NoticeJoined tells the customer that a named staff member joined; data: Name.
	NoticeJoined = "handoff.joined"
	// NoticeStaffAlert is the staff group's alert; data: Reason, Category, Priority, Lang, URL.
	NoticeStaffAlert = "handoff.staff.alert"

	lblCatData       = "label.cat_data"
	lblCatConduct    = "label.cat_conduct"
	lblCatService    = "label.cat_service"
	lblCatOther      = "label.cat_other"
	lblQuit          = "label.quit"
	lblSend          = "label.send"
	lblRewrite       = "label.rewrite"
	lblCancelRequest = "label.cancel_request"
	lblTalkToStaff   = "label.talk_to_staff"
	lblComplain      = "label.complain"
	lblRateGood      = "label.rate_good"
	lblRateOK        = "label.rate_ok"
	lblRateBad       = "label.rate_bad"
)

// HandoffMessageIDs lists every catalog ID the complaint flow and the handoff use (for the
// missing-translation test).
func HandoffMessageIDs() []string {
	return []string{msgComplaintCategory, msgComplaintCategoryAgain, msgComplaintDescribe, msgComplaintConfirm,
		msgComplaintQuit, msgComplaintTextOnly, msgHandoffWaiting, msgHandoffStillQueued, msgHandoffCancelled,
		msgHandoffNothingToCancel, msgHandoffBack, msgHandoffClosed, msgHandoffRateAsk, msgHandoffRateThanks,
		msgHandoffOffer, NoticeQueued, NoticeQueuedClosedHours, NoticeJoined, NoticeStaffAlert,
		lblCatData, lblCatConduct, lblCatService, lblCatOther, lblQuit, lblSend, lblRewrite, lblCancelRequest,
		lblTalkToStaff, lblComplain, lblRateGood, lblRateOK, lblRateBad}
}
