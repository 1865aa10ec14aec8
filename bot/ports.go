package bot

import (
	"context"
	"time"

	"github.com/enemane/privacybot/flows"
)

// Journal is the durable side of the pipeline. Implementations must make each call atomic on its own;
// no call spans two documents.
type Journal interface {
	// AddToInbox stores events durably and returns those to dispatch: every event not known to be
	// handled, including redeliveries of events stored earlier (an insert may commit after its caller
	// gave up, so a duplicate is no proof of dispatch; the processor ignores events it already has).
	// An error means nothing can be assumed stored, and the webhook must not be acknowledged.
	AddToInbox(ctx context.Context, events []Event) (dispatch []Event, err error)
	// Inbox returns every event still in the inbox (not yet fully handled), for resuming after a restart.
	Inbox(ctx context.Context) ([]Event, error)
	// RemoveFromInbox drops handled events from the inbox.
	RemoveFromInbox(ctx context.Context, ids []string) error
	// SealInbox is called once no event can arrive any more (at shutdown, after the last
	// checkpoint): the inbox may then drop whatever it kept only in case more events came.
	SealInbox(ctx context.Context) error
	// CommitStep stores a step; ErrDuplicate when the event was already processed.
	CommitStep(ctx context.Context, s Step) error
	// Step loads the step of an event.
	Step(ctx context.Context, eventID string) (Step, error)
	// RecordDelivery stores the outcome of sending a step (a duplicate is ignored).
	RecordDelivery(ctx context.Context, d Delivery) error
	// Delivery loads the recorded outcome of an event's step, if any.
	Delivery(ctx context.Context, eventID string) (Delivery, bool, error)
	// Conversation loads a customer's checkpoint, if any.
	Conversation(ctx context.Context, userID string) (Conversation, bool, error)
	// InsertConversations writes the first checkpoint of conversations not stored yet (cheap: an
	// insert); SaveConversations overwrites stored ones (costly on the embedded engine: a scan each).
	InsertConversations(ctx context.Context, convs []Conversation) error
	SaveConversations(ctx context.Context, convs []Conversation) error
	// AppendTranscript stores transcript lines.
	AppendTranscript(ctx context.Context, entries ...TranscriptEntry) error
}

// EffectSink carries out the effects of a step (consent changes, escalations, …). Apply is called
// again after a crash or a store failure, so it must be idempotent per (st.EventID, effect index).
type EffectSink interface {
	Apply(ctx context.Context, st Step) error
}

// EffectSinks applies a step's effects with every sink in turn (each ignores the kinds it does not
// own). An error stops the chain; the pipeline calls Apply again, and every sink is idempotent.
type EffectSinks []EffectSink

// Apply implements EffectSink.
func (s EffectSinks) Apply(ctx context.Context, st Step) error {
	for _, sink := range s {
		if err := sink.Apply(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// Handoff says whether staff own a customer's chat. While they do, the bot stays silent for that
// customer: events are stored in the transcript and nothing else happens.
type Handoff interface {
	OwnedByStaff(userID string) bool
	// HasOpenRequest reports whether the customer has a request with staff, queued or assigned.
	HasOpenRequest(userID string) bool
}

// RequestDesk tells a step what the desk knows of a customer's personal-data requests
// (request.Service).
type RequestDesk interface {
	Desk(userID, fee string) flows.RequestDesk
}

// SharedInbox is the inbox of a store several instances share (MongoDB): besides the Journal's calls,
// a customer's events can be read by whichever instance holds the customer's lease.
type SharedInbox interface {
	// PendingFor returns the customer's events in the inbox, oldest timestamp first.
	PendingFor(ctx context.Context, userID string) ([]Event, error)
	// Waiting returns the customers among users (nil: any) with events in the inbox received before
	// before.
	Waiting(ctx context.Context, users []string, before time.Time) ([]string, error)
}
