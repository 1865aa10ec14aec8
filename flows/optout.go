package flows

import (
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// The opt-out flow (stop marketing contact, per channel) and its reverse, the opt-in flow.
const (
	FlowOptOut FlowID = "optout"
	FlowOptIn  FlowID = "optin"
)

// OptStep is where the opt-out or opt-in flow stands.
type OptStep uint8

// The steps of the flows. Opt-in goes from optPick straight to optConfirm: the customer is known by the
// LINE account the earlier opt-out was given from.
const (
	optPick    OptStep = iota + 1 // choosing channels
	optName                       // name, or skip all identifiers (LINE-only)
	optPhone                      // phone number, or skip
	optEmail                      // e-mail address, or skip
	optExtra                      // postal code or customer number, or skip
	optConfirm                    // confirm or cancel
)

// OptOutData is the state of the opt-out and opt-in flows. It is comparable (no slices, maps or
// pointers) because State is.
type OptOutData struct {
	Step     OptStep  `json:"step,omitempty" bson:"step,omitempty"`
	Pick     Channels `json:"pick,omitempty" bson:"pick,omitempty"` // channels chosen in the flow in progress
	Name     string   `json:"-" bson:"name,omitempty"`
	Phone    string   `json:"-" bson:"phone,omitempty"` // E.164
	Email    string   `json:"-" bson:"email,omitempty"`
	Postal   string   `json:"-" bson:"postal,omitempty"`
	Customer string   `json:"-" bson:"customer,omitempty"`
	// Out is what this chat has stopped (chat opt-outs and blocks, minus opt-ins); it answers "what
	// have I opted out of?". The consent history in the store is the record of proof.
	Out Channels `json:"out,omitempty" bson:"out,omitempty"`
}

// ConsentAction says whether a consent change stops or resumes contact.
type ConsentAction string

// Consent actions.
const (
	ConsentOptOut ConsentAction = "optout"
	ConsentOptIn  ConsentAction = "optin"
)

// ConsentSource says how a consent change was given.
type ConsentSource string

// Consent sources.
const (
	SourceChat    ConsentSource = "line_chat"    // the opt-out or opt-in flow
	SourceBlock   ConsentSource = "line_block"   // the customer blocked the account
	SourceUnblock ConsentSource = "line_unblock" // the customer unblocked it
	SourceStaff   ConsentSource = "staff_entry"  // staff recorded an opt-out received by phone or letter
)

// ConsentChange is the payload of an EffectConsent: one opt-out or opt-in as the customer gave it. The
// pipeline adds who (the LINE user) and the language when it records it.
type ConsentChange struct {
	Action   ConsentAction `bson:"action"`
	Channels Channels      `bson:"channels"`
	Name     string        `bson:"name,omitempty"`
	Phone    string        `bson:"phone,omitempty"` // E.164
	Email    string        `bson:"email,omitempty"` // lower case
	Postal   string        `bson:"postal,omitempty"`
	Customer string        `bson:"customer,omitempty"`
	// WordingID and WordingData are the confirmation message the customer agreed to.
	WordingID   string            `bson:"wordingId,omitempty"`
	WordingData map[string]string `bson:"wordingData,omitempty"`
	Lang        Lang              `bson:"lang,omitempty"`
	Source      ConsentSource     `bson:"source"`
	Reference   string            `bson:"ref"`
	At          time.Time         `bson:"at"`
}

// ConsentReference derives the customer-facing reference of a change from its time: "OPT-" and the
// Unix nanoseconds in base 36. Flows are pure, so the reference cannot come from a random source; two
// changes share one only if they are confirmed in the same nanosecond.
func ConsentReference(at time.Time) string {
	return "OPT-" + strings.ToUpper(strconv.FormatInt(at.UnixNano(), 36))
}

// optOutFeature is the opt-out of marketing contact and the opt-in again: ActOptOut, ActOptIn and
// ActOptStatus start them from the menu, ActOptStep are the buttons inside them.
var optOutFeature = &Feature{
	Name:       "optout",
	Flows:      []FlowID{FlowOptOut, FlowOptIn},
	Intents:    []string{"optout", "optin"},
	Actions:    []Action{ActOptOut, ActOptIn, ActOptStatus, ActOptStep},
	Menu:       []Choice{{LabelID: lblOptOut, Postback: act(ActOptOut)}},
	MessageIDs: OptOutMessageIDs,
	Continue: func(st State, in Input, p Postback) (Result, bool) {
		if in.Kind == InputText || in.Kind == InputPostback || in.Kind == InputMedia {
			return stepOptOut(st, in, p), true
		}
		return Result{}, false
	},
	OnText:   func(st State, in Input) (Result, bool) { return onOptText(st, in), true },
	OnAction: func(st State, _ Input, p Postback) Result { return onOptPostback(st, p) },
	Label:    optLabel,
}

func optPostback(step string, ch Channels) string {
	return Postback{Do: ActOptStep, Step: step, Channel: ch}.Encode()
}

// startOptOut opens the opt-out flow, with the channels the customer's message already named chosen.
func startOptOut(st State, preset Channels) Result {
	st.Flow, st.Misses = FlowOptOut, 0
	st.OptOut = OptOutData{Step: optPick, Pick: preset & ChanAll, Out: st.OptOut.Out}
	return Result{State: st, Replies: []Reply{pickReply(st, false)}}
}

// startOptIn opens the opt-in flow; with nothing stopped from this chat it says so instead.
func startOptIn(st State, preset Channels) Result {
	st.Misses = 0
	if st.OptOut.Out == 0 {
		return Result{State: st, Replies: []Reply{{ID: msgInNothing, Choices: []Choice{
			{LabelID: lblOptOut, Postback: act(ActOptOut)}, {LabelID: lblMenu, Postback: act(ActMenu)}}}}}
	}
	st.Flow = FlowOptIn
	st.OptOut = OptOutData{Step: optPick, Pick: preset & st.OptOut.Out, Out: st.OptOut.Out}
	return Result{State: st, Replies: []Reply{pickReply(st, false)}}
}

// optOutStatus answers "what have I opted out of?".
func optOutStatus(st State) Reply {
	if st.OptOut.Out == 0 {
		return Reply{ID: msgOptStatusNone, Choices: []Choice{{LabelID: lblOptOut, Postback: act(ActOptOut)},
			{LabelID: lblMenu, Postback: act(ActMenu)}}}
	}
	return Reply{ID: msgOptStatus, Data: channelData(st.OptOut.Out, nil), Choices: []Choice{
		{LabelID: lblOptOut, Postback: act(ActOptOut)}, {LabelID: lblOptIn, Postback: act(ActOptIn)},
		{LabelID: lblMenu, Postback: act(ActMenu)}}}
}

// OptStatusTopic is the topic the classifier gives an opt-out or opt-in message that asks what is
// stopped now rather than asking to stop something (「今って何を停止してるんだっけ？」, "check my
// unsubscribe settings"); it is nlu.TopicOptStatus. The classifier decides, from the whole message,
// so that a request that merely mentions a setting (「配信設定でメールを止めて」) still starts the flow.
const OptStatusTopic = "optout.status"

// asksOptStatus reports whether a classified message asks what is stopped now.
func asksOptStatus(in Input) bool {
	return in.Kind == InputText && (in.Intent.Name == "optout" || in.Intent.Name == "optin") && in.Intent.Topic == OptStatusTopic
}

// onOptText starts a flow from a classified message: "optout"/"optin", or a question about the state.
func onOptText(st State, in Input) Result {
	if asksOptStatus(in) {
		st.Misses = 0
		return Result{State: st, Replies: []Reply{optOutStatus(st)}}
	}
	named := channelsIn(in.Text)
	if in.Intent.Name == "optin" {
		return startOptIn(st, named)
	}
	return startOptOut(st, named)
}

// onOptPostback handles the menu postbacks of the flows outside a flow.
func onOptPostback(st State, p Postback) Result {
	switch p.Do {
	case ActOptOut:
		return startOptOut(st, 0)
	case ActOptIn:
		return startOptIn(st, 0)
	case ActOptStatus:
		return Result{State: st, Replies: []Reply{optOutStatus(st)}}
	}
	// A button of a flow that has ended.
	return Result{State: st, Replies: []Reply{{ID: msgOptExpired}, mainMenu(st)}}
}

// stepOptOut handles text, postback and media inputs while the opt-out or opt-in flow is in progress.
func stepOptOut(st State, in Input, p Postback) Result {
	d := &st.OptOut
	var action string
	var arg Channels
	switch in.Kind {
	case InputPostback:
		if p.Do != ActOptStep {
			// Another menu action: the customer moved on.
			st = leaveOptFlow(st)
			return Step(st, in)
		}
		action, arg = p.Step, p.Channel
	case InputText:
		if isCancelWord(in.Text) {
			action = "cancel"
		} else if asksOptStatus(in) {
			action = "status" // as the status button: the state, then the question again
		}
	default:
		return Result{State: st, Replies: []Reply{reprompt(st)}}
	}
	if action == "cancel" {
		st = leaveOptFlow(st)
		return Result{State: st, Replies: []Reply{{ID: msgOptCancelled}, mainMenu(st)}}
	}
	if action == "status" {
		return Result{State: st, Replies: []Reply{optOutStatus(st), reprompt(st)}}
	}
	switch d.Step {
	case optPick:
		return onPick(st, in, action, arg)
	case optName, optPhone, optEmail, optExtra:
		return onIdentifier(st, in, action)
	case optConfirm:
		if action == "ok" || (in.Kind == InputText && isYesWord(in.Text)) {
			return confirm(st, in)
		}
		if in.Kind == InputText {
			return Result{State: st, Replies: []Reply{{ID: msgOptConfirmAsk}, confirmReply(st)}}
		}
		return Result{State: st, Replies: []Reply{confirmReply(st)}}
	}
	st = leaveOptFlow(st)
	return Result{State: st, Replies: []Reply{mainMenu(st)}}
}

func onPick(st State, in Input, action string, arg Channels) Result {
	d := &st.OptOut
	allowed := ChanAll
	if st.Flow == FlowOptIn {
		allowed = d.Out
	}
	switch action {
	case "all":
		d.Pick = allowed
		return advanceFromPick(st)
	case "pick":
		d.Pick ^= arg & allowed
		return Result{State: st, Replies: []Reply{pickReply(st, false)}}
	case "done":
		if d.Pick == 0 {
			return Result{State: st, Replies: []Reply{pickReply(st, true)}}
		}
		return advanceFromPick(st)
	case "":
		if in.Kind != InputText {
			break
		}
		if named := channelsIn(in.Text) & allowed; named != 0 {
			d.Pick |= named
			if named == allowed {
				return advanceFromPick(st)
			}
			return Result{State: st, Replies: []Reply{pickReply(st, false)}}
		}
		if isYesWord(in.Text) && d.Pick != 0 {
			return advanceFromPick(st)
		}
		return Result{State: st, Replies: []Reply{pickReply(st, true)}}
	}
	return Result{State: st, Replies: []Reply{pickReply(st, false)}}
}

func advanceFromPick(st State) Result {
	if st.Flow == FlowOptIn {
		st.OptOut.Step = optConfirm
		return Result{State: st, Replies: []Reply{confirmReply(st)}}
	}
	st.OptOut.Step = optName
	return Result{State: st, Replies: []Reply{askReply(st, msgOptAskName)}}
}

// onIdentifier reads the name, phone, e-mail or extra identifier, each of which can be skipped; skipping
// the name skips them all (a LINE-only opt-out).
func onIdentifier(st State, in Input, action string) Result {
	d := &st.OptOut
	next := map[OptStep]OptStep{optName: optPhone, optPhone: optEmail, optEmail: optExtra, optExtra: optConfirm}
	ask := map[OptStep]string{optPhone: msgOptAskPhone, optEmail: msgOptAskEmail, optExtra: msgOptAskExtra}
	switch {
	case action == "skipall" || (action == "skip" && d.Step == optName):
		d.Name, d.Phone, d.Email, d.Postal, d.Customer = "", "", "", "", ""
		d.Step = optConfirm
		return Result{State: st, Replies: []Reply{confirmReply(st)}}
	case action == "skip":
		d.Step = next[d.Step]
	case in.Kind == InputText:
		var ok bool
		bad := ""
		switch d.Step {
		case optName:
			d.Name, ok = normalizeName(in.Text)
			bad = msgOptBadName
		case optPhone:
			d.Phone, ok = NormalizePhone(in.Text)
			bad = msgOptBadPhone
		case optEmail:
			d.Email, ok = NormalizeEmail(in.Text)
			bad = msgOptBadEmail
		case optExtra:
			d.Postal, d.Customer, ok = normalizePostalOrCustomer(in.Text)
			bad = msgOptBadExtra
		}
		if !ok {
			return Result{State: st, Replies: []Reply{askReply(st, bad)}}
		}
		d.Step = next[d.Step]
	default:
		return Result{State: st, Replies: []Reply{reprompt(st)}}
	}
	if d.Step == optConfirm {
		return Result{State: st, Replies: []Reply{confirmReply(st)}}
	}
	return Result{State: st, Replies: []Reply{askReply(st, ask[d.Step])}}
}

// confirm records the change: the effect carries what the customer confirmed and the wording shown.
func confirm(st State, in Input) Result {
	d := st.OptOut
	shown := confirmReply(st)
	change := &ConsentChange{Action: ConsentOptOut, Channels: d.Pick, Name: d.Name, Phone: d.Phone, Email: d.Email,
		Postal: d.Postal, Customer: d.Customer, WordingID: shown.ID, WordingData: shown.Data, Lang: st.Lang,
		Source: SourceChat, Reference: ConsentReference(in.Now), At: in.Now}
	out := d.Out | d.Pick
	doneID := msgOptDone
	if st.Flow == FlowOptIn {
		change.Action = ConsentOptIn
		out = d.Out &^ d.Pick
		doneID = msgInDone
	}
	st.Flow = FlowIdle
	st.OptOut = OptOutData{Out: out}
	data := channelData(d.Pick, map[string]string{"Ref": change.Reference})
	return Result{State: st,
		Replies: []Reply{{ID: doneID, Data: data}, mainMenu(st)},
		Effects: []Effect{{Kind: EffectConsent, Consent: change}}}
}

// recordBlockChange adds to the result of any step the consent record of a block or an unblock: a
// customer who blocks the account no longer wants LINE messages (an opt-out of ChanLINE); one who
// unblocks it welcomes them again (an opt-in). It runs after whatever flow handled the input.
func recordBlockChange(res Result, in Input) Result {
	change := &ConsentChange{Channels: ChanLINE, Lang: res.State.Lang, Reference: ConsentReference(in.Now), At: in.Now}
	switch {
	case in.Kind == InputUnfollow:
		res.State = leaveOptFlow(res.State)
		res.State.OptOut.Out |= ChanLINE
		change.Action, change.Source = ConsentOptOut, SourceBlock
	case in.Kind == InputFollow && in.Unblocked:
		res.State.OptOut.Out &^= ChanLINE
		change.Action, change.Source = ConsentOptIn, SourceUnblock
	default:
		return res
	}
	res.Effects = append(res.Effects, Effect{Kind: EffectConsent, Consent: change})
	return res
}

func leaveOptFlow(st State) State {
	if st.Flow == FlowOptOut || st.Flow == FlowOptIn {
		st.Flow = FlowIdle
	}
	st.OptOut = OptOutData{Out: st.OptOut.Out}
	return st
}

// isCancelWord recognises "cancel" in the flows.
func isCancelWord(text string) bool {
	switch strings.Trim(strings.ToLower(norm.NFKC.String(strings.TrimSpace(text))), "!.。！ ") {
	case "キャンセル", "やめる", "やめます", "やめて", "中止", "取り消し", "取消", "もういい", "cancel", "quit",
		"メニュー", "menu", "戻る", "back":
		return true
	}
	return false
}

// isYesWord recognises a plain "yes" / "confirm".
func isYesWord(text string) bool {
	switch strings.Trim(strings.ToLower(norm.NFKC.String(strings.TrimSpace(text))), "!.。！ ") {
	case "はい", "確定", "確定します", "お願いします", "おねがいします", "ok", "yes", "confirm", "done", "完了",
		"選択完了", "以上", "それで", "それでお願いします":
		return true
	}
	return false
}
