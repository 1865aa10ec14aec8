package bot

import (
	"context"
	"errors"
	"time"

	"github.com/enemane/privacybot/flows"
)

// EscalationStatus is where an escalation is in its life: queued → assigned → closed, or cancelled
// (by the customer while queued).
type EscalationStatus string

// The statuses of an escalation.
const (
	StatusQueued    EscalationStatus = "queued"
	StatusAssigned  EscalationStatus = "assigned"
	StatusClosed    EscalationStatus = "closed"
	StatusCancelled EscalationStatus = "cancelled"
)

// Open reports whether staff still have to act on the escalation.
func (s EscalationStatus) Open() bool { return s == StatusQueued || s == StatusAssigned }

// Escalation is a customer's chat handed to staff. It stays small (the conversation itself is the
// customer's transcript, from CreatedAt on, plus what came before): the embedded store scans the
// whole collection on every update.
type Escalation struct {
	ID           string           `bson:"_id"`
	UserID       string           `bson:"user"`
	Name         string           `bson:"name,omitempty"` // the customer's LINE display name, when known
	Lang         flows.Lang       `bson:"lang"`
	Reason       string           `bson:"reason"`
	Category     string           `bson:"category,omitempty"`
	Description  string           `bson:"description,omitempty"`
	Priority     string           `bson:"priority"`
	Status       EscalationStatus `bson:"status"`
	Assignee     string           `bson:"assignee,omitempty"` // staff ID (e-mail)
	AssigneeName string           `bson:"assigneeName,omitempty"`
	EventID      string           `bson:"eventId"` // the step that escalated
	CreatedAt    time.Time        `bson:"createdAt"`
	ClaimedAt    time.Time        `bson:"claimedAt,omitempty"`
	ClosedAt     time.Time        `bson:"closedAt,omitempty"`
	Resolution   string           `bson:"resolution,omitempty"`
	Rating       string           `bson:"rating,omitempty"`
	// Version counts updates; every update is conditional on the version read (several instances).
	Version int64 `bson:"version"`
	// ReadToken is the customer's latest markAsReadToken while the escalation is open, and ReadAt the
	// time of its message: kept by the instance that received the message (Handoffs.Refresh) for the
	// one whose console marks the chat read. Set and cleared outside the version: a replace by an
	// update may drop one, which costs a read receipt at most.
	ReadToken string    `bson:"readToken,omitempty"`
	ReadAt    time.Time `bson:"readAt,omitempty"`
}

// Errors of the escalation manager.
var (
	// ErrConflict: the escalation changed since it was read (another staff member was faster).
	ErrConflict = errors.New("the chat was changed by someone else")
	// ErrNotAllowed: the action does not fit the escalation's status or owner.
	ErrNotAllowed = errors.New("not allowed in this state")
)

// EscalationStore persists escalations.
type EscalationStore interface {
	// CreateEscalation inserts e; ErrDuplicate when its ID exists.
	CreateEscalation(ctx context.Context, e Escalation) error
	// Escalation loads one escalation; ErrNotFound when there is none.
	Escalation(ctx context.Context, id string) (Escalation, error)
	// OpenEscalations returns every queued or assigned escalation.
	OpenEscalations(ctx context.Context) ([]Escalation, error)
	// UpdateEscalation replaces the stored escalation whose version is e.Version-1; ErrConflict when
	// the stored one has another version.
	UpdateEscalation(ctx context.Context, e Escalation) error
	// AppendTranscript stores transcript lines (duplicates by ID are ignored).
	AppendTranscript(ctx context.Context, entries ...TranscriptEntry) error
}
