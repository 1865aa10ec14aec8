package flows

import (
	"time"
)

// The vocabulary of personal-data requests (開示等請求, policy item 5), shared by the chat's request flow,
// the request records (package bot/request), the console and the back-office API. The machine names
// are stable: the API and the outgoing webhooks carry them.

// RequestKind is a set of request kinds (a bitmask, so that State stays comparable).
type RequestKind uint16

// The kinds of policy item 5, in its order, plus the disclosure of third-party provision records
// (APPI §33(5)).
const (
	KindDisclosure        RequestKind = 1 << iota // 開示
	KindPurposeNotice                             // 利用目的の通知
	KindCorrection                                // 訂正
	KindAddition                                  // 追加
	KindDeletion                                  // 削除
	KindSuspension                                // 利用停止
	KindErasure                                   // 消去
	KindStopThirdParty                            // 第三者への提供停止
	KindThirdPartyRecords                         // 第三者提供記録の開示

	// KindsAll is every kind.
	KindsAll = KindDisclosure | KindPurposeNotice | KindCorrection | KindAddition | KindDeletion |
		KindSuspension | KindErasure | KindStopThirdParty | KindThirdPartyRecords
	// KindsAnswered are the kinds answered with something the customer receives (the data package
	// or a notice): they ask how to receive it, and only they may carry a fee (APPI §38).
	KindsAnswered = KindDisclosure | KindPurposeNotice | KindThirdPartyRecords
	// KindsChange are the kinds that change data: they ask what is wrong and what it should be.
	KindsChange = KindCorrection | KindAddition
	// KindsStop are the kinds that stop or remove data: they ask which data and on what ground.
	KindsStop = KindDeletion | KindSuspension | KindErasure | KindStopThirdParty
	// KindsErase are the kinds whose completion erases what the desk holds about the customer.
	KindsErase = KindDeletion | KindErasure
)

var kindNames = []struct {
	k    RequestKind
	name string
}{
	{KindDisclosure, "disclosure"}, {KindPurposeNotice, "purpose_notice"}, {KindCorrection, "correction"},
	{KindAddition, "addition"}, {KindDeletion, "deletion"}, {KindSuspension, "suspension"},
	{KindErasure, "erasure"}, {KindStopThirdParty, "stop_third_party"},
	{KindThirdPartyRecords, "third_party_records"},
}

// RequestKindList returns every single kind, in display order.
func RequestKindList() []RequestKind {
	out := make([]RequestKind, len(kindNames))
	for i, n := range kindNames {
		out[i] = n.k
	}
	return out
}

// Name is the machine name of a single kind ("disclosure", …); "" for a set or none.
func (k RequestKind) Name() string {
	for _, n := range kindNames {
		if n.k == k {
			return n.name
		}
	}
	return ""
}

// Names lists the machine names of the kinds in the set, in display order.
func (k RequestKind) Names() []string {
	var out []string
	for _, n := range kindNames {
		if k&n.k != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// List splits the set into single kinds, in display order.
func (k RequestKind) List() []RequestKind {
	var out []RequestKind
	for _, n := range kindNames {
		if k&n.k != 0 {
			out = append(out, n.k)
		}
	}
	return out
}

// ParseRequestKind maps a machine name to its kind.
func ParseRequestKind(name string) (RequestKind, bool) {
	for _, n := range kindNames {
		if n.name == name {
			return n.k, true
		}
	}
	return 0, false
}

// Requester says who makes a request.
type Requester string

// The requesters of policy item 5(2) and 施行令13条.
const (
	RequesterSelf  Requester = "self"                 // the customer
	RequesterAgent Requester = "agent"                // an agent the customer appointed (委任状)
	RequesterLegal Requester = "legal_representative" // 親権者 or 成年後見人
)

// ValidRequester reports whether r is a requester type.
func ValidRequester(r Requester) bool {
	return r == RequesterSelf || r == RequesterAgent || r == RequesterLegal
}

// Representative kinds of a legal representative.
const (
	RepParent   = "parent"   // 親権者 (proof: 戸籍謄本 or 住民票)
	RepGuardian = "guardian" // 成年後見人 (proof: 登記事項証明書)
)

// Ground is the reason the customer gives for stopping or removing data (the grounds APPI §35
// recognises, plus "other" in the customer's words).
type Ground string

// The grounds.
const (
	GroundBeyondPurpose Ground = "beyond_purpose" // used beyond the purposes told
	GroundImproper      Ground = "improper"       // obtained or used improperly
	GroundUnneeded      Ground = "unneeded"       // no longer needed
	GroundLeaked        Ground = "leaked"         // leaked or at risk of leaking
	GroundRightsAtRisk  Ground = "rights_at_risk" // the customer's rights or interests are at risk
	GroundOther         Ground = "other"          // in the customer's words (GroundText)
)

// GroundList returns every ground, in display order.
func GroundList() []Ground {
	return []Ground{GroundBeyondPurpose, GroundImproper, GroundUnneeded, GroundLeaked, GroundRightsAtRisk, GroundOther}
}

// DeliveryMethod is how the customer receives the answer of a disclosure-type request.
type DeliveryMethod string

// The methods (APPI §33: the person chooses).
const (
	DeliveryElectronic DeliveryMethod = "electronic" // a download link in the chat
	DeliveryPost       DeliveryMethod = "post"       // by post to the verified address
	DeliveryNone       DeliveryMethod = "none"       // nothing to deliver (no disclosure-type kind)
)

// DocumentsBy says how the identity documents reach the company.
type DocumentsBy string

// The ways.
const (
	DocsChat  DocumentsBy = "chat"  // photos sent in this chat
	DocsLater DocumentsBy = "later" // photos to follow (the request waits as documents_needed)
	DocsPost  DocumentsBy = "post"  // copies by post
)

// RequestStatus is where a request stands in its lifecycle (see package bot/request for the
// transitions).
type RequestStatus string

// The statuses.
const (
	StatusReceived        RequestStatus = "received"
	StatusDocumentsNeeded RequestStatus = "documents_needed"
	StatusVerified        RequestStatus = "verified"
	StatusRejected        RequestStatus = "rejected"
	StatusInProgress      RequestStatus = "in_progress"
	StatusCompleted       RequestStatus = "completed"
	StatusRefused         RequestStatus = "refused"
	StatusWithdrawn       RequestStatus = "withdrawn"
)

// StatusList returns every status, in lifecycle order.
func StatusList() []RequestStatus {
	return []RequestStatus{StatusReceived, StatusDocumentsNeeded, StatusVerified, StatusRejected,
		StatusInProgress, StatusCompleted, StatusRefused, StatusWithdrawn}
}

// Open reports whether a request in this status is still being worked on.
func (s RequestStatus) Open() bool {
	switch s {
	case StatusReceived, StatusDocumentsNeeded, StatusVerified, StatusInProgress:
		return true
	}
	return false
}

// ValidStatus reports whether s is a status.
func ValidStatus(s RequestStatus) bool {
	for _, x := range StatusList() {
		if x == s {
			return true
		}
	}
	return false
}

// RequestSummary is what a step knows of one of the customer's submitted requests (Input.Requests):
// enough to list them, to point a duplicate to the open one, and to attach documents to the right one.
type RequestSummary struct {
	Ref    string // the reference shown to the customer (R-20261204-0007)
	Draft  string // the draft key the request was submitted with (documents attach by it)
	Kinds  RequestKind
	Status RequestStatus
	Due    string // the due date in the desk's time zone, YYYY-MM-DD
}

// RequestSubmission is the payload of EffectRequest: a request as the customer confirmed it. The
// pipeline adds the LINE user; the request service gives it its reference and due date and tells the
// customer both.
type RequestSubmission struct {
	// Draft is the flow's key of the request (unique per customer); documents sent during the flow
	// carry it too.
	Draft string      `bson:"draft"`
	Kinds RequestKind `bson:"kinds"`
	// Correction is, for 訂正/追加, what is wrong and what it should be.
	Correction string `bson:"correction,omitempty"`
	// Target is, for the stop kinds, which data; Ground and GroundText on what ground.
	Target     string `bson:"target,omitempty"`
	Ground     Ground `bson:"ground,omitempty"`
	GroundText string `bson:"groundText,omitempty"`
	// Requester is who asks; RepKind (legal representatives: parent or guardian) and RepName (agents
	// and representatives: their own name) describe a representative.
	Requester Requester `bson:"requester"`
	RepKind   string    `bson:"repKind,omitempty"`
	RepName   string    `bson:"repName,omitempty"`
	// Name, Address and Phone (E.164) identify the customer as the company holds them.
	Name    string `bson:"name"`
	Address string `bson:"address"`
	Phone   string `bson:"phone"`
	// Documents is how many photos the flow accepted; DocsBy how the rest reaches the company.
	Documents int            `bson:"documents"`
	DocsBy    DocumentsBy    `bson:"docsBy"`
	Delivery  DeliveryMethod `bson:"delivery"`
	// WordingID and WordingData are the summary the customer confirmed.
	WordingID   string            `bson:"wordingId"`
	WordingData map[string]string `bson:"wordingData,omitempty"`
	Lang        Lang              `bson:"lang"`
	At          time.Time         `bson:"at"`
}

// DocumentUpload is the payload of EffectRequestDocument: an image the customer sent for a request
// (drafted or submitted), to be fetched from LINE at once, checked and stored encrypted.
type DocumentUpload struct {
	Draft     string `bson:"draft"`
	MessageID string `bson:"mid"`
	// URL is set for content LINE does not hold (contentProvider "external").
	URL string `bson:"url,omitempty"`
	// Seq numbers the customer's photos for the draft, from 1 (told back in a rejection).
	Seq int `bson:"seq"`
}

// RequestWithdrawal is the payload of EffectRequestWithdraw: the customer withdraws a request.
type RequestWithdrawal struct {
	Ref string `bson:"ref"`
}

// RequestErasure is the payload of EffectRequestErase: erase what the desk holds about the customer
// for the completed request Ref.
type RequestErasure struct {
	Ref string `bson:"ref"`
}

// MediaRef is a non-text message the customer sent (Input.Media).
type MediaRef struct {
	// Type is LINE's message type: image, video, audio, file, sticker, location.
	Type      string
	MessageID string
	// URL is set for an image whose content is held outside LINE.
	URL string
}

// RequestDesk is what a step knows of the desk's request handling (Input.Desk): the customer's
// requests and the configured terms.
type RequestDesk struct {
	// Requests are the customer's submitted requests, newest first (nil when the pipeline has none).
	Requests []RequestSummary
	// Fee is REQUEST_FEE_TEXT ("" when no fee is charged).
	Fee string
	// DueDays is REQUEST_DUE_DAYS.
	DueDays int
}

// RequestNotice is the data of the internal event (ActRequestNotice) with which the request service
// tells the customer about their request; the flow words it in the customer's language.
type RequestNotice struct {
	// What happened: NoticeReceived, NoticeStatus, NoticeExtended, NoticeDocument.
	What   string
	Ref    string
	Draft  string
	Kinds  RequestKind
	Status RequestStatus // NoticeStatus: the new status
	Due    string        // the due date (YYYY-MM-DD, the desk's time zone)
	// Reason is the staff's words: why (rejected, refused, extended) or what is missing
	// (documents_needed).
	Reason string
	// Link is the data package's address (completed, electronic delivery); Expires the last day it
	// works (YYYY-MM-DD, the desk's time zone); Reissued says it replaces an earlier link.
	Link     string
	Expires  string
	Reissued bool
	// Outcome is what was changed (completed 訂正/追加/削除), in the staff's words.
	Outcome string
	// Seq and Problem (NoticeDocument): the photo that could not be used and why (DocNotImage,
	// DocTooLarge, DocTooMany, DocFetchFailed).
	Seq     int
	Problem string
	// Erase (a completed 削除/消去 request) asks the step to forget the conversation and to erase
	// what the desk holds (EffectRequestErase), after this notice.
	Erase bool
}

// What a RequestNotice reports.
const (
	NoticeReceived = "received" // the request was stored: its reference and due date
	NoticeStatus   = "status"   // staff moved it to Status
	NoticeExtended = "extended" // staff extended the due date to Due
	NoticeDocument = "document" // a photo could not be used
)

// Why a photo could not be used (RequestNotice.Problem).
const (
	DocNotImage    = "not_image"    // the bytes are not a JPEG, PNG or WebP image
	DocTooLarge    = "too_large"    // larger than the limit
	DocTooMany     = "too_many"     // more photos than a request takes
	DocFetchFailed = "fetch_failed" // LINE did not give the content in time
)
