// Package bot is the event pipeline of the privacy desk: platform-neutral events and messages, the inbox
// processor (dedupe, per-user ordering, exactly-once answers), the LINE adapter and the sender.
package bot

import (
	"errors"
	"time"

	"github.com/enemane/privacybot/flows"
)

// ErrDuplicate is returned by a Journal when a record with the same key is already stored.
var ErrDuplicate = errors.New("duplicate key")

// ErrNotFound is returned by every store of the service (escalations, staff accounts, sessions, …)
// for a record that does not exist.
var ErrNotFound = errors.New("not found")

// EventKind is the platform-neutral kind of an inbound event.
type EventKind string

// The event kinds the pipeline distinguishes. Everything else is EventOther: stored, acknowledged and
// not answered.
const (
	EventMessage  EventKind = "message"
	EventPostback EventKind = "postback"
	EventFollow   EventKind = "follow"
	EventUnfollow EventKind = "unfollow"
	EventOther    EventKind = "other"
	// EventInternal is an event the service raises itself (a hand-back, …): answered like a customer's
	// event, but never produced from a webhook, so no customer can send one.
	EventInternal EventKind = "internal"
)

// Event is one webhook event as the pipeline keeps it in the inbox.
type Event struct {
	ID         string    `bson:"_id"`
	Kind       EventKind `bson:"kind"`
	Type       string    `bson:"type"` // the platform's own type name, e.g. "message", "memberJoined"
	UserID     string    `bson:"user,omitempty"`
	Timestamp  time.Time `bson:"ts"`
	ReceivedAt time.Time `bson:"recv"`
	ReplyToken string    `bson:"rt,omitempty"`
	Standby    bool      `bson:"standby,omitempty"`
	Redelivery bool      `bson:"redelivery,omitempty"`
	// Message events.
	MessageID       string `bson:"mid,omitempty"`
	MessageType     string `bson:"mtype,omitempty"` // text, image, sticker, …
	Text            string `bson:"text,omitempty"`
	MarkAsReadToken string `bson:"mart,omitempty"`
	// ContentURL is where an image held outside LINE is (contentProvider "external").
	ContentURL string `bson:"curl,omitempty"`
	// Postback events: the tapped action's data; internal events: their data.
	Postback string `bson:"pb,omitempty"`
	// Follow events.
	Unblocked bool `bson:"unblocked,omitempty"`
}

// Answerable reports whether the bot may reply to the event at all: only active-mode events from a
// user in a one-to-one chat.
func (e Event) Answerable() bool {
	return !e.Standby && e.UserID != "" && e.Kind != EventOther
}

// QuickReply is one quick-reply chip. Data set: a postback action (Label is shown as the customer's
// message). Otherwise Text: a message action that makes the customer say Text.
type QuickReply struct {
	Label string `bson:"label" json:"label"`
	Data  string `bson:"data,omitempty" json:"data,omitempty"`
	Text  string `bson:"text,omitempty" json:"text,omitempty"`
}

// Message is one rendered outbound message, platform-neutral. It is stored rendered, so a resend after a
// crash sends exactly what was decided, whatever the catalogs say by then.
type Message struct {
	Text         string       `bson:"text" json:"text"`
	QuickReplies []QuickReply `bson:"qr,omitempty" json:"quickReplies,omitempty"`
}

// Step is the durable outcome of processing one event: the conversation state after it and the messages
// to send for it. It is written in one insert, keyed by the event ID, which makes processing idempotent.
type Step struct {
	EventID    string         `bson:"_id"`
	UserID     string         `bson:"user"`
	Seq        int64          `bson:"seq"` // orders a customer's steps across restarts (see Processor)
	State      flows.State    `bson:"state"`
	Lang       flows.Lang     `bson:"lang"`
	Out        []Message      `bson:"out,omitempty"`
	Effects    []flows.Effect `bson:"effects,omitempty"`
	Plan       string         `bson:"plan,omitempty"` // PlanReply or PlanPush, decided before storing
	ReplyToken string         `bson:"rt,omitempty"`
	EventAt    time.Time      `bson:"eventAt"`
	At         time.Time      `bson:"at"`
}

// How a step's messages are to leave.
const (
	PlanReply = "reply"
	PlanPush  = "push"
)

// Delivery statuses.
const (
	DeliverySent   = "sent"   // LINE accepted every message
	DeliveryFailed = "failed" // LINE refused for good (e.g. the customer blocked the account)
)

// Delivery records how a step's messages left.
type Delivery struct {
	EventID    string    `bson:"_id"`
	UserID     string    `bson:"user"`
	Status     string    `bson:"status"`
	Via        string    `bson:"via,omitempty"` // reply, push, reply-assumed
	Detail     string    `bson:"detail,omitempty"`
	RequestIDs []string  `bson:"requestIds,omitempty"`
	Attempts   int       `bson:"attempts"`
	At         time.Time `bson:"at"`
}

// Conversation is a customer's checkpointed conversation state.
type Conversation struct {
	UserID      string      `bson:"_id"`
	Seq         int64       `bson:"seq"`
	State       flows.State `bson:"state"`
	ProfileLang flows.Lang  `bson:"profileLang,omitempty"`
	// ProfileAt is when the profile language was last read from LINE (see profileMaxAge).
	ProfileAt time.Time `bson:"profileAt,omitzero"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

// Lang is the language to answer in: the one chosen in the chat, else the profile's, else Japanese.
func (c Conversation) Lang() flows.Lang {
	switch {
	case c.State.Lang != "":
		return c.State.Lang
	case c.ProfileLang != "":
		return c.ProfileLang
	}
	return flows.Ja
}

// Transcript roles.
const (
	RoleCustomer = "customer"
	RoleBot      = "bot"
	RoleStaff    = "staff"
	RoleNote     = "note"
	RoleSystem   = "system"
)

// TranscriptEntry is one line of a conversation as staff see it.
type TranscriptEntry struct {
	ID      string    `bson:"_id"`
	UserID  string    `bson:"user"`
	Role    string    `bson:"role"`
	Kind    string    `bson:"kind"` // text, postback, image, follow, …
	Text    string    `bson:"text,omitempty"`
	EventID string    `bson:"eventId,omitempty"`
	At      time.Time `bson:"at"`
	// System, on the escalation manager's system lines, says what happened as data (the console words
	// it in the staff member's language); Text is an English rendering for anything older.
	System *SystemNote `bson:"sys,omitempty"`
}

// SystemNote is what happened to an escalation, as a system line of the transcript records it.
type SystemNote struct {
	What       string `bson:"what"`                 // escalated, claimed, handback, closed, failed
	Who        string `bson:"who,omitempty"`        // the staff member's display name
	Reason     string `bson:"reason,omitempty"`     // escalated: the escalation's reason code
	Resolution string `bson:"resolution,omitempty"` // closed: the resolution code
	Status     int    `bson:"status,omitempty"`     // failed: LINE's HTTP status
}
