package flows

// FlowID names the flow a conversation is in; the empty FlowID is the idle main menu.
type FlowID string

// The flows. Each flow that keeps data between steps has its own typed data struct in State.
const (
	FlowIdle FlowID = ""
	// FlowComplaint is the complaint flow (category, description, confirm); see HandoffState.
	FlowComplaint FlowID = "complaint"
	// FlowStaff: the customer's chat is with staff (queued or assigned). The bot answers only the
	// first message while queued, and the escalation manager's resume event ends it.
	FlowStaff FlowID = "staff"
)

// State is one customer's conversation state. It is stored as a whole after every step, so it stays
// small and holds only typed fields (never map[string]any).
type State struct {
	// Lang is the language the customer chose in the chat ("" = use the profile language).
	Lang Lang `json:"lang,omitempty" bson:"lang,omitempty"`
	// Flow is the flow in progress.
	Flow FlowID `json:"flow,omitempty" bson:"flow,omitempty"`
	// Misses counts consecutive messages the bot could not answer, up to 2.
	Misses int `json:"misses,omitempty" bson:"misses,omitempty"`
	// Handoff is the complaint flow's data and the customer's place in the staff queue.
	Handoff HandoffState `json:"handoff,omitzero" bson:"handoff,omitempty"`
	// OptOut is the opt-out/opt-in flows' data and what this chat has stopped (see OptOutData).
	OptOut OptOutData `json:"optout,omitzero" bson:"optout,omitempty"`
	// Request is the personal-data request form and what the chat remembers of the customer's
	// requests (see RequestData).
	Request RequestData `json:"request,omitzero" bson:"request,omitempty"`
}
