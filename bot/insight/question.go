// Package insight is what the desk learns from its conversations: every question the bot read (what
// it made of it, what it answered, whether the customer said it helped), the review inbox where staff
// look at the misses and teach the bot, and the figures of the console's dashboard.
package insight

import (
	"context"
	"fmt"
	"time"
)

// Feedback values: what the customer tapped under a policy answer.
const (
	FeedbackHelped    = "helped"
	FeedbackNotHelped = "not_helped"
)

// Question is one message the customer typed as a question (outside any form) and how the bot took
// it. It holds the customer's words, so it is kept as long as the transcript it copies and shown only
// to roles that may read transcripts.
type Question struct {
	// Key orders questions by time and names the event: see QuestionKey.
	Key     string    `bson:"_id"`
	EventID string    `bson:"event"`
	UserID  string    `bson:"user"`
	At      time.Time `bson:"at"`
	Lang    string    `bson:"lang"`
	Text    string    `bson:"text"`
	// Intent is what the bot answered: an intent name of flows/nlu, "none" when it did not understand.
	Intent string `bson:"intent"`
	// Topic is the knowledge-base topic of a policy answer ("5.id"); "" otherwise.
	Topic      string  `bson:"topic,omitempty"`
	Confidence float64 `bson:"conf"`
	// Guess and GuessConf are the model's own best intent and its probability, before the checks
	// that may have turned the answer into "none".
	Guess     string  `bson:"guess,omitempty"`
	GuessConf float64 `bson:"guessConf,omitempty"`
	// Answer is the catalog ID of the first message sent in reply ("faq.t5_id.answer").
	Answer string `bson:"answer"`
	// Feedback is FeedbackHelped, FeedbackNotHelped or "" (not asked, or not tapped).
	Feedback   string    `bson:"fb,omitempty"`
	FeedbackAt time.Time `bson:"fbAt,omitzero"`

	// The review inbox is kept on the question itself (one write per question, none more for a
	// miss): Review is "" for a question nobody needs to look at, else its status in the inbox
	// (StatusOpen, StatusTaught, StatusIgnored), Reasons why it is there, and the decision.
	Review    string    `bson:"review,omitempty"`
	Reasons   []string  `bson:"reasons,omitempty"`
	TaughtID  string    `bson:"taught,omitempty"`
	By        string    `bson:"by,omitempty"`
	DecidedAt time.Time `bson:"decidedAt,omitzero"`
}

// Answered reports whether the bot gave an answer (anything but "none").
func (q Question) Answered() bool { return q.Intent != "" && q.Intent != "none" }

// QuestionKey is the key of the question asked in event eventID at at: the time in UTC to the
// millisecond, then the event, so that keys sort by time and a range of keys is a range of time.
func QuestionKey(at time.Time, eventID string) string {
	return fmt.Sprintf("%s/%s", at.UTC().Format("20060102T150405.000"), eventID)
}

// KeyAt is the smallest key of a question asked at or after t.
func KeyAt(t time.Time) string { return t.UTC().Format("20060102T150405.000") }

// QuestionStore keeps the questions (implemented by the store).
type QuestionStore interface {
	// RecordQuestion stores q; storing the same key again changes nothing.
	RecordQuestion(ctx context.Context, q Question) error
	// Question loads one question by key; found is false when there is none.
	Question(ctx context.Context, key string) (q Question, found bool, err error)
	// SetFeedback records the customer's verdict on a question; the first verdict stands.
	SetFeedback(ctx context.Context, key, feedback string, at time.Time) error
	// Questions returns the questions asked in [from, to), oldest first, without their Text.
	Questions(ctx context.Context, from, to time.Time) ([]Question, error)
}
