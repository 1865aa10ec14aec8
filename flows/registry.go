package flows

import "slices"

// Feature is one thing the desk does (policy questions, opt-out, complaints and staff, …), declared in
// one place: the flows it runs, the intents and postback actions that start it, its main-menu chips
// and the catalog messages it uses. Step dispatches through the registry; the core (greeting,
// language, menu, misses) is in step.go.
type Feature struct {
	Name string
	// Flows are the State.Flow values of conversations inside this feature.
	Flows []FlowID
	// Intents are the classifier intents it answers (see shared/nlu/README.md).
	Intents []string
	// Actions are the postback actions it answers outside its flows.
	Actions []Action
	// Buttons are the postback actions of the buttons inside its flows (Continue answers them; outside
	// the flows they are stale and get the main menu).
	Buttons []Action
	// Internal are the internal actions (InputInternal) it answers.
	Internal []Action
	// Menu are its chips in the main menu, in order.
	Menu []Choice
	// MessageIDs lists every catalog ID it uses (the catalogs' completeness test reads it).
	MessageIDs func() []string

	// Continue handles an input while the conversation is in one of Flows; ok=false leaves it to the
	// general dispatch (the customer moved on to something else).
	Continue func(st State, in Input, p Postback) (Result, bool)
	// OnText answers a text whose intent is one of Intents, outside the feature's flows; ok=false
	// passes it on.
	OnText func(st State, in Input) (Result, bool)
	// OnAction answers one of Actions (InputPostback) or Internal (InputInternal).
	OnAction func(st State, in Input, p Postback) Result
	// Label names the label of the chip that carries p, one of Actions or Buttons (see PostbackLabel).
	Label func(p Postback) (labelID string, ok bool)
}

// features is the registry, in menu order. Adding a feature: write flows/<name>.go with its Feature
// value and add it to the list in init. (The list is built in init because the features' functions
// reach the main menu, which reads the list.)
var features []*Feature

func init() {
	features = []*Feature{faqFeature, handoffFeature, optOutFeature, requestFeature, feedbackFeature}
}

// Features returns the registry (for tests and documentation).
func Features() []*Feature { return slices.Clone(features) }

func featureOfFlow(f FlowID) *Feature {
	for _, ft := range features {
		if slices.Contains(ft.Flows, f) {
			return ft
		}
	}
	return nil
}

func featureOfIntent(intent string) *Feature {
	for _, ft := range features {
		if slices.Contains(ft.Intents, intent) {
			return ft
		}
	}
	return nil
}

// featureOfLabel finds the feature that offers a chip with action a (Actions or Buttons).
func featureOfLabel(a Action) *Feature {
	for _, ft := range features {
		if slices.Contains(ft.Actions, a) || slices.Contains(ft.Buttons, a) {
			return ft
		}
	}
	return nil
}

func featureOfAction(a Action, internal bool) *Feature {
	for _, ft := range features {
		if (!internal && slices.Contains(ft.Actions, a)) || (internal && slices.Contains(ft.Internal, a)) {
			return ft
		}
	}
	return nil
}

// AllMessageIDs lists every catalog ID the flows use: the core's and every feature's.
func AllMessageIDs() []string {
	ids := MessageIDs()
	for _, ft := range features {
		ids = append(ids, ft.MessageIDs()...)
	}
	return ids
}

// act is the encoded data of an action without parameters.
func act(a Action) string { return Postback{Do: a}.Encode() }
