package insight

import (
	"strings"
	"time"

	"github.com/enemane/privacybot/flows"
)

// The dashboard's records are its own small types, filled by the console from the escalations, the
// consent history and the requests: this package sits below those that record questions (it imports
// none of bot, bot/consent and bot/request).

// Records is everything the dashboard counts for one window.
type Records struct {
	// Questions are the questions asked in the window.
	Questions []Question
	// Escalations are those created in the window; Open those queued or assigned now (whenever
	// created). One escalation may be in both.
	Escalations, Open []Escalation
	// Consent is the opt-outs and opt-ins given in the window.
	Consent []ConsentChange
	// Requests are those received in the window and every one still open (each once).
	Requests []Request
}

// The statuses of an escalation (bot.EscalationStatus), its reasons and its ratings.
const (
	EscalationQueued    = "queued"
	EscalationAssigned  = "assigned"
	EscalationClosed    = "closed"
	EscalationCancelled = "cancelled"

	ReasonComplaint = "complaint" // the complaint form
	ReasonHuman     = "human"     // the customer asked for a person
	ReasonMisses    = "misses"    // the bot did not understand several times

	RatingGood = "good"
	RatingOK   = "ok"
	RatingBad  = "bad"
)

// Reasons are the escalation reasons in the order the dashboard shows them (one it does not know is
// shown after them).
func Reasons() []string { return []string{ReasonComplaint, ReasonHuman, ReasonMisses} }

// Ratings are the satisfaction ratings, best first.
func Ratings() []string { return []string{RatingGood, RatingOK, RatingBad} }

// Escalation is what the dashboard reads of an escalation (bot.Escalation).
type Escalation struct {
	ID, Reason, Status, Rating     string
	CreatedAt, ClaimedAt, ClosedAt time.Time
}

// ConsentChange is one record of the consent history (consent.Record): an opt-out or an opt-in of
// some channels, at the time the customer gave it.
type ConsentChange struct {
	At       time.Time
	OptOut   bool
	Channels flows.Channels
}

// Request is what the dashboard reads of a personal-data request (request.Request).
type Request struct {
	ID                string
	Kinds             flows.RequestKind
	Status            flows.RequestStatus
	ReceivedAt, DueAt time.Time
}

// The question groups: what the bot took a question for.
const (
	GroupPolicy  = "policy"  // a policy item (faq.1 … faq.13)
	GroupOptOut  = "optout"  // opt-out or opt-in of marketing
	GroupRequest = "request" // a personal-data request
	GroupStaff   = "staff"   // a complaint, or asking for a person
	GroupOther   = "other"   // anything else it answered (the menu, …)
	GroupNone    = "none"    // not understood: unanswered
)

// QuestionGroups lists the groups in the order the charts stack them.
func QuestionGroups() []string {
	return []string{GroupPolicy, GroupOptOut, GroupRequest, GroupStaff, GroupOther, GroupNone}
}

// GroupOf is the group of a question's intent.
func GroupOf(intent string) string {
	switch {
	case intent == "" || intent == "none":
		return GroupNone
	case strings.HasPrefix(intent, "faq."):
		return GroupPolicy
	case intent == "optout" || intent == "optin":
		return GroupOptOut
	case intent == "disclosure":
		return GroupRequest
	case intent == "complaint" || intent == "human":
		return GroupStaff
	}
	return GroupOther
}
