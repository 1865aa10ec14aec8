package flows

import (
	"bufio"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enemane/privacybot/locales"
)

// coreIntents are the intents Step answers itself, outside every feature.
var coreIntents = map[string]bool{"menu": true, "none": true, "disclosure": true}

func TestEveryIntentHasOneHome(t *testing.T) {
	trained := map[string]bool{}
	for _, f := range []string{"nlu/ja.tsv", "nlu/en.tsv"} {
		file, err := locales.FS.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
				intent, _, _ := strings.Cut(line, "\t")
				trained[intent] = true
			}
		}
		file.Close()
	}
	owner := map[string]string{}
	for _, ft := range Features() {
		for _, in := range ft.Intents {
			if prev, ok := owner[in]; ok {
				t.Errorf("intent %s claimed by %s and %s", in, prev, ft.Name)
			}
			owner[in] = ft.Name
		}
	}
	for in := range trained {
		if owner[in] == "" && !coreIntents[in] {
			t.Errorf("the classifier knows intent %q but no feature answers it", in)
		}
	}
}

func TestEveryActionAndFlowHasOneHome(t *testing.T) {
	actions, flows := map[Action]string{}, map[FlowID]string{}
	for _, ft := range Features() {
		for _, a := range slices.Concat(ft.Actions, ft.Buttons, ft.Internal) {
			if prev, ok := actions[a]; ok {
				t.Errorf("action %s claimed by %s and %s", a, prev, ft.Name)
			}
			actions[a] = ft.Name
		}
		for _, f := range ft.Flows {
			if prev, ok := flows[f]; ok {
				t.Errorf("flow %s claimed by %s and %s", f, prev, ft.Name)
			}
			flows[f] = ft.Name
		}
		if ft.OnAction == nil && len(ft.Actions)+len(ft.Internal) > 0 {
			t.Errorf("%s declares actions but no OnAction", ft.Name)
		}
		if ft.OnText == nil && len(ft.Intents) > 0 {
			t.Errorf("%s declares intents but no OnText", ft.Name)
		}
		if ft.Continue == nil && len(ft.Flows) > 0 {
			t.Errorf("%s declares flows but no Continue", ft.Name)
		}
	}
	for _, f := range []FlowID{FlowComplaint, FlowStaff, FlowOptOut, FlowOptIn} {
		if flows[f] == "" {
			t.Errorf("flow %s belongs to no feature", f)
		}
	}
	for _, a := range []Action{ActResume, ActJoined} {
		if ft := featureOfAction(a, false); ft != nil {
			t.Errorf("internal action %s is answered as a customer's postback by %s", a, ft.Name)
		}
	}
}

// offeredChoices collects the chips and buttons the flows offer, across many states.
func offeredChoices() []Choice {
	var rs []Reply
	for _, lang := range []Lang{Ja, En} {
		st := State{Lang: lang}
		rs = append(rs, mainMenu(st), staffOffer(st))
	}
	rs = append(rs, FAQMenuReplies()...)
	for _, tp := range FAQTopics() {
		rs = append(rs, topicReplies(tp)...)
	}
	for _, flow := range []FlowID{FlowOptOut, FlowOptIn} {
		st := State{Flow: flow, OptOut: OptOutData{Step: optPick, Pick: ChanPhone, Out: ChanAll}}
		rs = append(rs, pickReply(st, false), confirmReply(st))
		for _, step := range []OptStep{optName, optPhone} {
			st.OptOut.Step = step
			rs = append(rs, askReply(st, msgOptAskName))
		}
	}
	rs = append(rs, optOutStatus(State{}), optOutStatus(State{OptOut: OptOutData{Out: ChanMail}}), startOptIn(State{}, 0).Replies[0])
	rs = append(rs, askCategory(msgComplaintCategory), confirmComplaint(inComplaintState()), describeReply(), waitingReply(NoticeQueued))
	closed := Step(State{Flow: FlowStaff}, Input{Kind: InputInternal, Postback: ResumePostback("closed", "0123456789abcdef0123", true)})
	rs = append(rs, closed.Replies...)
	var out []Choice
	for _, r := range rs {
		out = append(out, r.Choices...)
	}
	return out
}

func inComplaintState() State {
	return State{Flow: FlowComplaint, Handoff: HandoffState{Stage: StageConfirm, Category: CategoryData, Description: "x"}}
}

// TestOfferedPostbacksRoundTripAndNameTheirLabel: every chip's data decodes, encodes back to itself,
// fits LINE's limit, and PostbackLabel finds the label the customer saw.
func TestOfferedPostbacksRoundTripAndNameTheirLabel(t *testing.T) {
	choices := offeredChoices()
	if len(choices) < 50 {
		t.Fatalf("only %d choices collected", len(choices))
	}
	for _, c := range choices {
		if c.Postback == "" {
			continue // a message action (the customer says c.Text)
		}
		p, ok := DecodePostback(c.Postback)
		if !ok || p.Encode() != c.Postback || len(c.Postback) > MaxPostbackBytes {
			t.Errorf("%q: decoded %+v %v, encodes to %q", c.Postback, p, ok, p.Encode())
			continue
		}
		label, ok := PostbackLabel(c.Postback)
		switch c.LabelID {
		case lblInAll:
			c.LabelID = lblOptAll // the opt-in flow words "all" its own way; the data is the same
		case FAQMoreLabelID:
			c.LabelID = lblTopics // "back to the list" after an answer opens the same list as the menu chip
		}
		if !ok || label != c.LabelID {
			t.Errorf("%q: label %q %v, want %q", c.Postback, label, ok, c.LabelID)
		}
	}
}

func TestDecodePostbackRejectsWhatTheBotNeverSends(t *testing.T) {
	for _, data := range []string{"", "%zz", "topic=1.what", "do=" + strings.Repeat("x", MaxPostbackBytes)} {
		if p, ok := DecodePostback(data); ok {
			t.Errorf("%q decoded as %+v", data, p)
		}
	}
	if _, ok := PostbackLabel("do=faq&topic=no.such"); ok {
		t.Error("an unknown topic has a label")
	}
	long := JoinedPostback(strings.Repeat("長", 100))
	if p, ok := decodePostback(long); !ok || len([]rune(p.Name)) != MaxStaffNameRunes {
		t.Errorf("joined event with a long name: %d bytes, decoded %v", len(long), ok)
	}
	// Names of 4-byte characters escape to 12 bytes each: the internal event is longer than LINE's
	// limit and is still answered.
	for _, name := range []string{strings.Repeat("😀", 24), strings.Repeat("𠮷", MaxStaffNameRunes)} {
		r := Step(State{Flow: FlowStaff}, Input{Kind: InputInternal, Postback: JoinedPostback(name)})
		if len(r.Replies) != 1 || r.Replies[0].Data["Name"] != name || !r.State.Handoff.Noted {
			t.Errorf("joined %q (%d bytes): %+v", name, len(JoinedPostback(name)), r)
		}
	}
}

func TestNoticesCarryTheirData(t *testing.T) {
	now := time.Date(2026, 12, 5, 20, 0, 0, 0, time.UTC)
	r := Step(State{}, Input{Kind: InputText, Intent: Intent{Name: "human"}, Now: now, Staff: StaffHours{Closed: true, Next: "月曜 9:00"}})
	if len(r.Replies) != 1 || r.Replies[0].Data["Next"] != "月曜 9:00" || r.Replies[0].Choices[0].Postback != CancelPostback {
		t.Fatalf("after-hours notice %+v", r.Replies)
	}
	r = Step(State{Flow: FlowStaff}, Input{Kind: InputInternal, Postback: JoinedPostback("山田 花子")})
	if len(r.Replies) != 1 || r.Replies[0].Data["Name"] != "山田 花子" {
		t.Fatalf("joined notice %+v", r.Replies)
	}
}
