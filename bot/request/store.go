package request

import (
	"context"
	"time"
)

// Document is one identity document (a photo the customer sent in the chat). The bytes are encrypted
// at rest (Sealer); everything else is metadata that staff see.
type Document struct {
	// ID is derived from the event that carried the photo and the effect's index, so applying the
	// effect again finds the same document.
	ID     string `bson:"_id"`
	UserID string `bson:"user"`
	// Draft is the request's draft key (documents sent before the request was submitted carry it too).
	Draft string `bson:"draft"`
	// MessageID is LINE's ID of the image message (content fetched from LINE); URL is set for
	// external content.
	MessageID string `bson:"mid"`
	URL       string `bson:"url,omitempty"`
	// Seq is the photo's number for the customer (1, 2, …).
	Seq    int    `bson:"seq"`
	Status string `bson:"status"` // DocFetching, DocStored, DocRejected, DocDeleted
	// Problem is why a rejected document could not be used (flows.DocNotImage, …).
	Problem     string `bson:"problem,omitempty"`
	ContentType string `bson:"contentType,omitempty"`
	Size        int    `bson:"size,omitempty"`
	// SHA256 is the hex SHA-256 of the plaintext.
	SHA256 string `bson:"sha256,omitempty"`
	// Sealed is the encrypted content (Sealer.Seal); KeyID names the key that sealed it.
	Sealed []byte `bson:"sealed,omitempty"`
	KeyID  string `bson:"keyId,omitempty"`
	// Attempts counts fetch attempts.
	Attempts  int       `bson:"attempts,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
	StoredAt  time.Time `bson:"storedAt,omitzero"`
	DeletedAt time.Time `bson:"deletedAt,omitzero"`
}

// Document statuses.
const (
	DocFetching = "fetching" // waiting for LINE's content
	DocStored   = "stored"   // checked and stored encrypted
	DocRejected = "rejected" // not usable (Problem says why); no bytes kept
	DocDeleted  = "deleted"  // bytes deleted on schedule or by erasure; the metadata stays
)

// StoredFile is an attached package file with its encrypted bytes.
type StoredFile struct {
	ID      string `bson:"_id"`
	Request string `bson:"request"`
	FileInfo
	Sealed []byte `bson:"sealed"`
	KeyID  string `bson:"keyId"`
}

// Store is the persistence of requests, documents and package files (store.Store implements it).
// Requests are few (a desk receives a handful a week): the service reads them all at start and keeps
// an index, which Refresh brings up to date with what other instances wrote; updates are conditional
// on the version.
type Store interface {
	// NextRequestNumber returns the next sequence number of the day (1, 2, …), atomically.
	NextRequestNumber(ctx context.Context, day string) (int, error)
	// InsertRequest stores a new request; bot.ErrDuplicate when one with the same (UserID, Draft) or
	// ID exists.
	InsertRequest(ctx context.Context, r Request) error
	// UpdateRequest replaces the request r.ID stored with version r.Version-1; ErrConflict when the
	// stored version differs.
	UpdateRequest(ctx context.Context, r Request) error
	// AllRequests returns every stored request (read at start, and now and then by Refresh to
	// notice requests deleted on another instance).
	AllRequests(ctx context.Context) ([]Request, error)
	// RequestsUpdatedSince returns the requests whose UpdatedAt is at or after t (Refresh: what
	// other instances changed).
	RequestsUpdatedSince(ctx context.Context, t time.Time) ([]Request, error)
	// UserRequests returns a customer's requests (RefreshUser).
	UserRequests(ctx context.Context, userID string) ([]Request, error)

	// AddDocument stores a new document; false when one with its ID exists.
	AddDocument(ctx context.Context, d Document) (bool, error)
	// SaveDocument replaces a document.
	SaveDocument(ctx context.Context, d Document) error
	// Document loads one document, with its sealed bytes.
	Document(ctx context.Context, id string) (Document, error)
	// Documents returns a customer's documents of one draft, oldest first, without their bytes.
	Documents(ctx context.Context, userID, draft string) ([]Document, error)
	// FetchingDocuments returns the documents still waiting for their content (read at start, and by
	// RequeueStranded).
	FetchingDocuments(ctx context.Context) ([]Document, error)

	// AddFile stores an attached package file; PackageFile loads one.
	AddFile(ctx context.Context, f StoredFile) error
	PackageFile(ctx context.Context, request, id string) (StoredFile, error)

	// What the retention sweeper deletes (each idempotent: deleting what is gone counts 0).
	// DocumentsBefore returns the documents created before t, without their bytes.
	DocumentsBefore(ctx context.Context, t time.Time) ([]Document, error)
	// DeleteDocuments deletes a customer's documents of one draft, records and bytes.
	DeleteDocuments(ctx context.Context, userID, draft string) (int64, error)
	// DeletePackageFiles deletes the files attached to a request's package.
	DeletePackageFiles(ctx context.Context, request string) (int64, error)
	// DeleteRequest deletes a request record.
	DeleteRequest(ctx context.Context, id string) error
}

// Holdings is what the desk holds about a customer, read for the data package and erased by an
// erasure (store.Store implements it).
type Holdings interface {
	// CustomerData returns everything the desk holds about a LINE user.
	CustomerData(ctx context.Context, userID string) (CustomerData, error)
	// EraseCustomer deletes what the desk holds about a LINE user (transcript, conversation state,
	// steps, deliveries, document bytes, escalation texts) and returns the counts per collection. The
	// consent history and the request records stay.
	EraseCustomer(ctx context.Context, userID string) (map[string]int64, error)
}

// CustomerData is what the desk holds about a customer, as the data package shows it.
type CustomerData struct {
	UserID string `json:"lineUserId"`
	// Profile is what is held about the customer themselves: the language, the conversation state's
	// fields that hold personal data, and when the desk first and last heard from them.
	Profile Profile `json:"profile"`
	// Transcript is the whole chat, oldest first.
	Transcript []TranscriptLine `json:"transcript"`
	// Consents is the consent history, with the wording the customer agreed to.
	Consents []ConsentRecord `json:"consents"`
	// Escalations are the complaints and requests for staff.
	Escalations []EscalationRecord `json:"escalations"`
}

// Profile is the customer's profile as held.
type Profile struct {
	Language  string    `json:"language,omitempty"`
	FirstSeen time.Time `json:"firstSeen,omitzero"`
	LastSeen  time.Time `json:"lastSeen,omitzero"`
	// Fields are the personal data the conversation state holds (name, phone, …), by name.
	Fields map[string]string `json:"fields,omitempty"`
}

// TranscriptLine is one line of the chat. As the store holds it, Kind is the event's (text, image, …,
// postback, internal, follow, unfollow) and Text its data (a button's or an internal event's raw
// data); the customer's pages put every line into words before anyone reads it (a postback becomes
// kind "button" with the label tapped, an internal event a system line saying what happened).
type TranscriptLine struct {
	At   time.Time `json:"at"`
	Role string    `json:"role"` // customer, bot, staff, note, system
	Kind string    `json:"kind"`
	Text string    `json:"text,omitempty"`
}

// ConsentRecord is one opt-out or opt-in with the wording agreed.
type ConsentRecord struct {
	At        time.Time `json:"at"`
	Action    string    `json:"action"`
	Channels  []string  `json:"channels"`
	Source    string    `json:"source"`
	Reference string    `json:"reference,omitempty"`
	Wording   string    `json:"wording,omitempty"`
	// The identifiers the customer gave with it (to match them in marketing's lists).
	Name     string `json:"name,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Email    string `json:"email,omitempty"`
	Postal   string `json:"postalCode,omitempty"`
	Customer string `json:"customerNumber,omitempty"`
}

// EscalationRecord is one complaint or request for staff.
type EscalationRecord struct {
	ID          string    `json:"id"`
	Reason      string    `json:"reason"`
	Category    string    `json:"category,omitempty"`
	Description string    `json:"description,omitempty"`
	Status      string    `json:"status"`
	Resolution  string    `json:"resolution,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	ClosedAt    time.Time `json:"closedAt,omitzero"`
}
