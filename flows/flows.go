// Package flows holds the conversation logic of the privacy desk as pure functions: a step takes the
// customer's conversation state and one input and returns the new state, the replies to send and the
// effects to carry out. Flows know nothing of LINE, HTTP or the store; replies name catalog message IDs
// (see package locales) plus template data, never literal text.
package flows

import "time"

// Lang is a customer's language. Only the languages with a catalog in package locales are valid.
type Lang string

// The supported languages. Japanese is the default.
const (
	Ja Lang = "ja"
	En Lang = "en"
)

// ParseLang maps a LINE profile language tag ("ja", "en", "en-US", …) to a supported language,
// falling back to Japanese.
func ParseLang(tag string) Lang {
	if len(tag) >= 2 && (tag[:2] == "en" || tag[:2] == "EN") {
		return En
	}
	return Ja
}

// InputKind says what happened in the chat.
type InputKind int

// The kinds of input a flow can receive.
const (
	InputText     InputKind = iota + 1 // the customer typed text
	InputPostback                      // the customer tapped a button or quick reply that carries data
	InputFollow                        // the customer added the account as a friend (or unblocked it)
	InputUnfollow                      // the customer blocked the account; nothing can be sent back
	InputMedia                         // an image, sticker, file or other non-text message
	// InputInternal is an event the service raises itself (staff handing a chat back, …); Postback
	// carries its data. Customers cannot send one: no webhook event becomes an InputInternal.
	InputInternal
)

// Intent is what the classifier made of a text message. Name is one of the intent names of
// shared/nlu/README.md (faq.1 … faq.13, optout, optin, disclosure, complaint, human, menu, none);
// Topic, when set, narrows a faq intent to one knowledge-base topic.
type Intent struct {
	Name       string
	Confidence float64
	Topic      string
	// Also lists further topics of the same intent the message asks about in the same breath
	// ("how long does it take, and is there a fee?"), answered after Topic.
	Also []string
	// Guess and GuessConf are the model's own best intent and its probability before its checks
	// (what the review inbox shows staff when the answer was "none").
	Guess     string
	GuessConf float64
}

// Input is one customer action, already classified.
type Input struct {
	Kind      InputKind
	Text      string // InputText: what the customer typed (normalised for display only by the caller)
	Postback  string // InputPostback: the data of the tapped action; InputInternal: the event's data
	Unblocked bool   // InputFollow: the customer unblocked the account rather than adding it anew
	Intent    Intent // InputText: the classifier's reading
	Now       time.Time
	// Staff says whether staff answer now (business hours), for the notice of a new request.
	Staff StaffHours
	// NoStaffRequest says the customer has no request with staff open (set by a pipeline that knows;
	// false means "has one, or unknown"). A conversation still in the staff flow then leaves it: the
	// request ended without the bot hearing of it.
	NoStaffRequest bool
	// Media is the non-text message of an InputMedia.
	Media MediaRef
	// Desk is the customer's personal-data requests and the desk's terms (set by the pipeline).
	Desk RequestDesk
	// Lang is the language the answer is written in (the chat's choice, else the LINE profile's);
	// "" when unknown. Step speaks it, and offers the other one.
	Lang Lang
	// Retention is the periods in force, set by the pipeline; nil: unknown.
	Retention []Period
	// Ref is the pipeline's reference of this input as a question (InputText): carried by the
	// question's record (EffectQuestion) and by the feedback chips under its answer. "" when the
	// pipeline keeps no record of questions.
	Ref string
}

// StaffHours is the business-hours status a step needs: Closed when staff do not answer now, and
// then Next, when they will, already written in the customer's language.
type StaffHours struct {
	Closed bool
	Next   string
}

// Choice is a quick-reply chip or button. Exactly one of Postback and Text is set: Postback sends data
// back as an InputPostback (shown in the chat as the label), Text makes the customer say Text.
type Choice struct {
	LabelID  string // catalog ID of the label (LINE allows 20 characters)
	Postback string
	Text     string // literal text the customer sends (only for language switches such as "English")
}

// Reply is one outbound message described by a catalog message ID and its template data.
type Reply struct {
	ID      string
	Data    map[string]string
	Choices []Choice
}

// EffectKind names a side effect a step asks the pipeline to carry out.
type EffectKind string

// Effects carried out by the pipeline after the step is stored and before its replies are sent. Each
// kind's payload is a field of Effect named after it; the pipeline applies every effect of a step
// exactly once (keyed by the event and the effect's index), also across crashes.
const (
	EffectNone EffectKind = ""
	// EffectEscalate hands the customer to staff (payload: Escalation).
	EffectEscalate EffectKind = "escalate"
	// EffectCancelEscalation withdraws the customer's queued escalation.
	EffectCancelEscalation EffectKind = "escalation.cancel"
	// EffectRateEscalation records the customer's satisfaction with a closed escalation (payload:
	// Escalation.Ticket and Escalation.Rating).
	EffectRateEscalation EffectKind = "escalation.rate"
	// EffectConsent records an opt-out or opt-in of marketing contact (payload: Consent).
	EffectConsent EffectKind = "consent"
	// EffectRequest submits a personal-data request (payload: Request).
	EffectRequest EffectKind = "request"
	// EffectRequestDocument attaches a photo to a request, drafted or submitted (payload: Document).
	EffectRequestDocument EffectKind = "request.document"
	// EffectRequestWithdraw withdraws a request (payload: Withdrawal).
	EffectRequestWithdraw EffectKind = "request.withdraw"
	// EffectRequestErase erases what the desk holds about the customer (payload: Erasure).
	EffectRequestErase EffectKind = "request.erase"
	// EffectQuestion records a typed question and how it was answered (payload: Question).
	EffectQuestion EffectKind = "question"
	// EffectFeedback records whether an answer helped (payload: Feedback).
	EffectFeedback EffectKind = "feedback"
)

// Effect is a side effect requested by a step, executed outside the flow. It is stored with the step,
// so it holds only plain data.
type Effect struct {
	Kind EffectKind `bson:"kind"`
	// Escalation is the payload of the escalation effects.
	Escalation *EscalationRequest `bson:"escalation,omitempty"`
	// Consent is the payload of EffectConsent.
	Consent *ConsentChange `bson:"consent,omitempty"`
	// Request is the payload of EffectRequest.
	Request *RequestSubmission `bson:"request,omitempty"`
	// Document is the payload of EffectRequestDocument.
	Document *DocumentUpload `bson:"document,omitempty"`
	// Withdrawal is the payload of EffectRequestWithdraw.
	Withdrawal *RequestWithdrawal `bson:"withdrawal,omitempty"`
	// Erasure is the payload of EffectRequestErase.
	Erasure *RequestErasure `bson:"erasure,omitempty"`
	// Question is the payload of EffectQuestion.
	Question *AskedQuestion `bson:"question,omitempty"`
	// Feedback is the payload of EffectFeedback.
	Feedback *AnswerFeedback `bson:"feedback,omitempty"`
}

// Result is the outcome of one step.
type Result struct {
	State   State
	Replies []Reply
	Effects []Effect
}
