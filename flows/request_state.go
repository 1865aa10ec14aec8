package flows

import (
	"strconv"
	"strings"
	"time"
)

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

// hasForm reports whether a form (in progress or left aside) exists.
func (d RequestData) hasForm() bool { return d.Step != 0 && d.Draft != "" }

func (d RequestData) age(in Input) int64 { return in.Now.Unix() - d.Touched }

// hasAnswers reports whether the form holds anything the customer gave (kinds, answers, photos).
func (d RequestData) hasAnswers() bool {
	empty := d.afterForm()
	empty.Step, empty.Draft, empty.Touched = d.Step, d.Draft, d.Touched
	empty.Resume, empty.Leave, empty.Section = d.Resume, d.Leave, d.Section
	return d != empty
}

// formOrder is every step in order; applies says which a form goes through.
var formOrder = []reqStep{rqKinds, rqCorrection, rqTarget, rqGround, rqGroundText, rqWho, rqRepKind, rqRepName,
	rqName, rqAddress, rqPhone, rqDocs, rqDelivery, rqSummary}

// applies reports whether the form goes through step s, given its answers so far.
func (d RequestData) applies(s reqStep) bool {
	switch s {
	case rqCorrection:
		return d.Kinds&KindsChange != 0
	case rqTarget, rqGround:
		return d.Kinds&KindsStop != 0
	case rqGroundText:
		return d.Kinds&KindsStop != 0 && d.Ground == GroundOther
	case rqRepKind:
		return d.Requester == RequesterLegal
	case rqRepName:
		return d.Requester == RequesterAgent || d.Requester == RequesterLegal
	case rqDelivery:
		return d.Kinds&KindsAnswered != 0
	}
	return true
}

// missing reports whether step s still lacks its answer.
func (d RequestData) missing(s reqStep) bool {
	switch s {
	case rqKinds:
		return d.Kinds == 0
	case rqCorrection:
		return d.Correction == ""
	case rqTarget:
		return d.Target == ""
	case rqGround:
		return d.Ground == ""
	case rqGroundText:
		return d.GroundText == ""
	case rqWho:
		return d.Requester == ""
	case rqRepKind:
		return d.RepKind == ""
	case rqRepName:
		return d.RepName == ""
	case rqName:
		return d.Name == ""
	case rqAddress:
		return d.Address == ""
	case rqPhone:
		return d.Phone == ""
	case rqDocs:
		return d.DocsBy == ""
	case rqDelivery:
		return d.Delivery == ""
	}
	return false
}

// sectionOf is the summary section a step belongs to.
func sectionOf(s reqStep) reqSection {
	switch s {
	case rqKinds:
		return secWhat
	case rqCorrection, rqTarget, rqGround, rqGroundText:
		return secDetails
	case rqWho, rqRepKind, rqRepName:
		return secWho
	case rqName, rqAddress, rqPhone:
		return secIdentity
	case rqDocs:
		return secPhotos
	case rqDelivery:
		return secDelivery
	}
	return 0
}

// firstOf is the first step of a section that applies (0 when none does).
func (d RequestData) firstOf(sec reqSection) reqStep {
	for _, s := range formOrder {
		if sectionOf(s) == sec && d.applies(s) {
			return s
		}
	}
	return 0
}

// after is the step that follows s. While a section of the summary is being changed, steps of other
// sections are skipped unless they lack an answer (a kind added asks its details), and the form
// returns to the summary.
func (d RequestData) after(s reqStep) reqStep {
	for i, x := range formOrder {
		if x != s {
			continue
		}
		for _, n := range formOrder[i+1:] {
			if !d.applies(n) {
				continue
			}
			if n == rqSummary || d.Section == 0 || sectionOf(n) == d.Section || d.missing(n) {
				return n
			}
		}
	}
	return rqSummary
}

// before is the step that precedes s (s itself at the first step).
func (d RequestData) before(s reqStep) reqStep {
	prev := s
	for _, x := range formOrder {
		if x == s {
			return prev
		}
		if d.applies(x) {
			prev = x
		}
	}
	return s
}
