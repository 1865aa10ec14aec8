package insight

import (
	"context"
	"errors"
	"time"
)

// Why a question is in the review inbox.
const (
	ReasonUnanswered = "unanswered" // the bot did not understand it ("none")
	ReasonUnsure     = "unsure"     // answered, with a confidence below the threshold
	ReasonNotHelped  = "not_helped" // the customer said the answer did not help
)

// Status of an item of the review inbox.
const (
	StatusOpen    = "open"
	StatusTaught  = "taught"  // staff assigned it an intent (amend)
	StatusIgnored = "ignored" // staff saw nothing to teach
)

// Item is a question in the review inbox: the question, and its place in the inbox apart.
type Item struct {
	Key      string
	Question Question
	Reasons  []string
	Status   string
	At       time.Time // the question's time
	// TaughtID is the phrase taught from it (StatusTaught).
	TaughtID  string
	By        string // who decided (staff ID)
	DecidedAt time.Time
}

// ItemOf is the inbox's view of a question.
func ItemOf(q Question) Item {
	return Item{Key: q.Key, Question: q, Reasons: q.Reasons, Status: q.Review, At: q.At, TaughtID: q.TaughtID,
		By: q.By, DecidedAt: q.DecidedAt}
}

// Taught is a phrase staff taught: training data from the next retraining on, until reverted.
type Taught struct {
	ID     string    `bson:"_id"`
	Text   string    `bson:"text"` // checked for personal data before it was stored
	Intent string    `bson:"intent"`
	Topic  string    `bson:"topic,omitempty"`
	Lang   string    `bson:"lang"`
	Items  []string  `bson:"items"` // the review items it was taught from
	By     string    `bson:"by"`
	At     time.Time `bson:"at"`
	// Reverted is set when staff took the phrase back; it is then no longer trained on.
	Reverted   bool      `bson:"reverted,omitempty"`
	RevertedBy string    `bson:"revertedBy,omitempty"`
	RevertedAt time.Time `bson:"revertedAt,omitzero"`
}

// Decision is staff's verdict on review items.
type Decision struct {
	Status   string // StatusTaught, StatusIgnored, or StatusOpen (an amend reverted)
	TaughtID string
	By       string
	At       time.Time
}

// Current is what a decision expects of the items it changes: their status and, when set, the
// phrase they were taught with. An item that is no longer so (someone else decided it meanwhile) is
// left as it is.
type Current struct {
	Status   string
	TaughtID string
}

// ReviewWindow is how far back the inbox looks: a question not decided within it leaves the inbox
// (it stays in the dashboard's figures until the transcript's period ends).
const ReviewWindow = 90 * 24 * time.Hour

// ReviewStore keeps the review inbox (on the questions) and the taught phrases (implemented by the
// store).
type ReviewStore interface {
	// MarkForReview puts a recorded question in the inbox for reason, or back in it if staff had
	// ignored it (new evidence); the reason is added once. A question taught already stays taught.
	MarkForReview(ctx context.Context, key, reason string) error
	// ReviewItems returns the items of a status asked within ReviewWindow, at most limit: open ones
	// by the question's time, decided ones by the decision's, newest first.
	ReviewItems(ctx context.Context, status string, limit int) ([]Item, error)
	// ReviewItem loads one item; found is false when there is none (or the question is not in the
	// inbox).
	ReviewItem(ctx context.Context, key string) (it Item, found bool, err error)
	// DecideReview sets the decision on those items of keys that are as cur says, and returns how
	// many it changed.
	DecideReview(ctx context.Context, keys []string, cur Current, d Decision) (int, error)
	// AddTaught stores a taught phrase.
	AddTaught(ctx context.Context, t Taught) error
	// TaughtPhrases returns every taught phrase, reverted ones included, oldest first.
	TaughtPhrases(ctx context.Context) ([]Taught, error)
	// RevertTaught marks a phrase reverted and deletes its text (a phrase taken back is no longer
	// kept); ErrNotFound when there is none, ErrReverted when it was.
	RevertTaught(ctx context.Context, id, by string, at time.Time) error
}

// Errors of the review inbox.
var (
	ErrNotFound = errors.New("insight: not found")
	ErrReverted = errors.New("insight: already reverted")
	// ErrPII: the phrase to teach holds personal data (PIIError says which kinds).
	ErrPII = errors.New("insight: the phrase holds personal data")
	// ErrBadTeach: no phrase, an unknown intent, or a topic of another intent.
	ErrBadTeach = errors.New("insight: nothing to teach")
	// ErrDecided: an item was decided by someone else meanwhile.
	ErrDecided = errors.New("insight: already decided")
	// ErrRetrain wraps the failure of the retraining after a phrase was taught or reverted: the
	// change is stored and the next sync retrains.
	ErrRetrain = errors.New("insight: stored, but the model in service was not retrained")
	// ErrNamesUnknown: the customer's names could not be read, so a phrase cannot be checked for
	// them; teaching waits until they can.
	ErrNamesUnknown = errors.New("insight: the customer's names could not be read")
)

// PIIError is ErrPII with the kinds found and the phrase masked.
type PIIError struct {
	Kinds  []string
	Masked string
}

func (e *PIIError) Error() string { return ErrPII.Error() }

// Unwrap makes errors.Is(err, ErrPII) true.
func (e *PIIError) Unwrap() error { return ErrPII }
