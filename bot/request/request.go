// Package request is the desk's personal-data requests (開示等請求, policy item 5): the request record
// shared by the chat and the staff side, its lifecycle, identity documents (fetched from LINE,
// checked, encrypted at rest), the data package with its download link, and erasure.
//
// The package knows no HTTP and no database: persistence is the Store interface (store.Store
// implements it), LINE content comes through Content, and customer notices are internal events
// raised into the pipeline (bot.Raiser), so each is answered exactly once in the customer's language.
package request

import (
	"errors"
	"fmt"
	"time"

	"github.com/enemane/privacybot/flows"
)

// Request is one personal-data request: what the customer confirmed in the chat, and everything
// staff did with it.
type Request struct {
	// ID is the reference the customer and staff use: R-YYYYMMDD-NNNN (the desk's day of receipt and
	// the day's sequence number).
	ID string `bson:"_id"`
	// UserID and Draft identify the request in the chat: the draft key is unique per customer, which
	// makes a repeated submission (a crash, a double tap) create nothing new.
	UserID string `bson:"user"`
	Draft  string `bson:"draft"`

	Kinds      flows.RequestKind `bson:"kinds"`
	Correction string            `bson:"correction,omitempty"`
	Target     string            `bson:"target,omitempty"`
	Ground     flows.Ground      `bson:"ground,omitempty"`
	GroundText string            `bson:"groundText,omitempty"`
	Requester  flows.Requester   `bson:"requester"`
	RepKind    string            `bson:"repKind,omitempty"`
	RepName    string            `bson:"repName,omitempty"`
	// Name, Address and Phone (E.164) are the identity fields the customer gave.
	Name     string               `bson:"name"`
	Address  string               `bson:"address"`
	Phone    string               `bson:"phone"`
	DocsBy   flows.DocumentsBy    `bson:"docsBy"`
	Delivery flows.DeliveryMethod `bson:"delivery"`
	Lang     flows.Lang           `bson:"lang"`
	// WordingID and WordingData are the summary the customer confirmed (the receipt).
	WordingID   string            `bson:"wordingId"`
	WordingData map[string]string `bson:"wordingData,omitempty"`

	Status     flows.RequestStatus `bson:"status"`
	ReceivedAt time.Time           `bson:"receivedAt"`
	DueAt      time.Time           `bson:"dueAt"`
	UpdatedAt  time.Time           `bson:"updatedAt"`
	// Missing is, while documents are needed, what is missing (the staff's words, sent to the
	// customer).
	Missing string `bson:"missing,omitempty"`
	// Outcome is what was changed (訂正/追加/削除), told to the customer on completion.
	Outcome string `bson:"outcome,omitempty"`
	// History is every change, oldest first: transitions, extensions, notes, package and erasure events.
	History []Change `bson:"history"`
	// Package is the data package of a disclosure-type request, once completed.
	Package *Package `bson:"package,omitempty"`
	// Erasure records what completing a 削除/消去 request erased.
	Erasure *Erasure `bson:"erasure,omitempty"`
	// Version increases with every update (updates are conditional on it).
	Version int64 `bson:"version"`
}

// Actor is who made a change.
type Actor struct {
	Kind string `bson:"kind"`           // ActorCustomer, ActorStaff, ActorSystem, ActorAPI
	ID   string `bson:"id,omitempty"`   // staff e-mail, API token name
	Name string `bson:"name,omitempty"` // staff display name
}

// Actor kinds.
const (
	ActorCustomer = "customer"
	ActorStaff    = "staff"
	ActorAPI      = "api"
	ActorSystem   = "system"
)

// Change is one entry of a request's history.
type Change struct {
	What   string              `bson:"what"` // ChangeCreated, ChangeStatus, …
	From   flows.RequestStatus `bson:"from,omitempty"`
	To     flows.RequestStatus `bson:"to,omitempty"`
	Reason string              `bson:"reason,omitempty"` // shown to the customer (rejected, refused, documents_needed, extended)
	Note   string              `bson:"note,omitempty"`   // internal, staff only
	Due    time.Time           `bson:"due,omitzero"`     // ChangeExtended: the new due date
	Actor  Actor               `bson:"actor"`
	At     time.Time           `bson:"at"`
}

// What a Change records.
const (
	ChangeCreated   = "created"
	ChangeStatus    = "status"
	ChangeExtended  = "extended"
	ChangeNote      = "note"
	ChangeDocument  = "document"   // a document arrived or was refused
	ChangePackage   = "package"    // the link was issued, revoked or reissued, or the answer posted
	ChangeErased    = "erased"     // the desk's data about the customer was erased
	ChangeDocsGone  = "docs_gone"  // the identity documents were deleted (after the identity decision)
	ChangeFilesGone = "files_gone" // the package's attached files were deleted (its link expired)
	ChangeWithdrawn = "withdrawn"  // (the customer) — recorded as a ChangeStatus to StatusWithdrawn
)

// Package is the data package of a disclosure-type request and its download link.
type Package struct {
	// LinkHash is the SHA-256 of the link's token (the token itself is never stored).
	LinkHash  string    `bson:"linkHash,omitempty"`
	ExpiresAt time.Time `bson:"expiresAt,omitzero"`
	Revoked   bool      `bson:"revoked,omitempty"`
	PostedAt  time.Time `bson:"postedAt,omitzero"`
	// Files are the files staff attached from other systems (the bytes are in the store's package
	// files, encrypted like documents).
	Files []FileInfo `bson:"files,omitempty"`
	// Downloads counts the link's uses (each is audited).
	Downloads int `bson:"downloads,omitempty"`
}

// FileInfo describes a file of a package.
type FileInfo struct {
	ID          string    `bson:"id"`
	Name        string    `bson:"name"`
	ContentType string    `bson:"contentType"`
	Size        int       `bson:"size"`
	SHA256      string    `bson:"sha256"`
	AddedBy     string    `bson:"addedBy"`
	AddedAt     time.Time `bson:"addedAt"`
}

// Erasure records what an erasure removed (counts per collection, never content).
type Erasure struct {
	At     time.Time        `bson:"at"`
	Counts map[string]int64 `bson:"counts"`
}

// Open reports whether the request is still being worked on.
func (r Request) Open() bool { return r.Status.Open() }

// DaysLeft is the number of whole days from now to the due date in loc: positive while due, 0 on
// the due date, negative when overdue.
func (r Request) DaysLeft(now time.Time, loc *time.Location) int {
	y, m, d := r.DueAt.In(loc).Date()
	due := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	y, m, d = now.In(loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return int(due.Sub(today).Hours() / 24)
}

// Urgent reports whether under a quarter of the period is left (or the request is overdue).
func (r Request) Urgent(now time.Time) bool {
	period := r.DueAt.Sub(r.ReceivedAt)
	return r.Open() && r.DueAt.Sub(now) < period/4
}

// Summary is what the chat's flow knows of the request.
func (r Request) Summary(loc *time.Location) flows.RequestSummary {
	return flows.RequestSummary{Ref: r.ID, Draft: r.Draft, Kinds: r.Kinds, Status: r.Status,
		Due: r.DueAt.In(loc).Format(time.DateOnly)}
}

// Reference formats a request reference: R-YYYYMMDD-NNNN.
func Reference(day time.Time, n int) string {
	return fmt.Sprintf("R-%s-%04d", day.Format("20060102"), n)
}

// Errors of the lifecycle (the API maps them: ErrTransition 409, ErrReasonRequired 400).
var (
	ErrTransition     = errors.New("request: the lifecycle does not allow this transition")
	ErrReasonRequired = errors.New("request: a reason is required")
	ErrConflict       = errors.New("request: changed by someone else; reload")
	ErrNoPackage      = errors.New("request: no data package")
	ErrLinkGone       = errors.New("request: the link has expired or was revoked")
)

// transitions is the lifecycle: from each status, the statuses staff (or the back office) may move a
// request to. The customer may withdraw any open request (Withdraw).
var transitions = map[flows.RequestStatus][]flows.RequestStatus{
	flows.StatusReceived:        {flows.StatusVerified, flows.StatusDocumentsNeeded, flows.StatusRejected, flows.StatusWithdrawn},
	flows.StatusDocumentsNeeded: {flows.StatusReceived, flows.StatusVerified, flows.StatusRejected, flows.StatusWithdrawn},
	flows.StatusVerified:        {flows.StatusInProgress, flows.StatusWithdrawn},
	flows.StatusInProgress:      {flows.StatusCompleted, flows.StatusRefused, flows.StatusWithdrawn},
}

// Allowed reports whether the lifecycle allows from → to.
func Allowed(from, to flows.RequestStatus) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Next lists the statuses a request in status from may move to, in lifecycle order.
func Next(from flows.RequestStatus) []flows.RequestStatus {
	return append([]flows.RequestStatus(nil), transitions[from]...)
}

// NeedsReason reports whether moving to status to requires a reason the customer will read:
// rejected and refused (why), documents_needed (what is missing).
func NeedsReason(to flows.RequestStatus) bool {
	return to == flows.StatusRejected || to == flows.StatusRefused || to == flows.StatusDocumentsNeeded
}

// RefusalGround is one of the seven grounds of policy item 5(1) on which the company may refuse.
type RefusalGround string

// The grounds of policy item 5(1), in its order; RefusalOther is written by staff.
const (
	RefusalHarm       RefusalGround = "harm"        // 1. 本人又は第三者の生命、身体、財産その他の権利利益を害する恐れ
	RefusalBusiness   RefusalGround = "business"    // 2. 当社の権利・正当な利益、業務の適正実施に著しい支障
	RefusalIllegal    RefusalGround = "illegal"     // 3. 違法又は不当な行為を助長・誘発する恐れ
	RefusalNational   RefusalGround = "national"    // 4. 国の安全、他国・国際機関との信頼関係・交渉
	RefusalCrime      RefusalGround = "crime"       // 5. 犯罪の予防・捜査その他公共の安全と秩序の維持
	RefusalPublicDuty RefusalGround = "public_duty" // 6. 国の機関・地方公共団体の法令上の事務への協力
	RefusalOtherLaw   RefusalGround = "other_law"   // 7. 他の法令に違反することとなる
	RefusalOther      RefusalGround = "other"
)

// RefusalGrounds lists the grounds of item 5(1), in order, then RefusalOther.
func RefusalGrounds() []RefusalGround {
	return []RefusalGround{RefusalHarm, RefusalBusiness, RefusalIllegal, RefusalNational, RefusalCrime,
		RefusalPublicDuty, RefusalOtherLaw, RefusalOther}
}
