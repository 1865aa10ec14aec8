package flows

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

var ooT0 = time.Date(2026, 11, 26, 10, 0, 0, 123, time.UTC)

func ooTxt(s string) Input {
	return Input{Kind: InputText, Text: s, Intent: Intent{Name: "none"}, Now: ooT0}
}
func ooPb(s string) Input { return Input{Kind: InputPostback, Postback: s, Now: ooT0} }
func ooIntent(s, n string) Input {
	return Input{Kind: InputText, Text: s, Intent: Intent{Name: n}, Now: ooT0}
}

// run feeds inputs through Step and returns the last result and every effect on the way.
func ooRun(st State, ins ...Input) (Result, []Effect) {
	var r Result
	var effs []Effect
	for _, in := range ins {
		r = Step(st, in)
		st = r.State
		effs = append(effs, r.Effects...)
	}
	return r, effs
}

func ooIDs(r Result) []string {
	var ids []string
	for _, rep := range r.Replies {
		ids = append(ids, rep.ID)
	}
	return ids
}

func TestOptOutEveryChannelChoice(t *testing.T) {
	for _, ch := range ChannelList() {
		t.Run(ch.Name(), func(t *testing.T) {
			r, effs := ooRun(State{}, ooPb("do=optout"), ooPb(optPostback("pick", ch)), ooPb(optPostback("done", 0)),
				ooPb(optPostback("skipall", 0)), ooPb(optPostback("ok", 0)))
			if len(effs) != 1 || effs[0].Kind != EffectConsent {
				t.Fatalf("effects %+v", effs)
			}
			c := effs[0].Consent
			if c.Action != ConsentOptOut || c.Channels != ch || c.Source != SourceChat || c.WordingID != msgOptConfirm ||
				c.Reference != ConsentReference(ooT0) || !c.At.Equal(ooT0) || c.WordingData["Ch_"+ch.Name()] != "1" {
				t.Fatalf("change %+v", c)
			}
			if r.State.Flow != FlowIdle || r.State.OptOut.Out != ch || r.State.OptOut.Step != 0 {
				t.Fatalf("state %+v", r.State)
			}
			if ids := ooIDs(r); ids[0] != msgOptDone || r.Replies[0].Data["Ref"] != c.Reference {
				t.Fatalf("replies %v %v", ids, r.Replies[0].Data)
			}
		})
	}
}

func TestOptOutFlowTable(t *testing.T) {
	cases := []struct {
		name      string
		start     State
		ins       []Input
		wantIDs   []string // replies of the last step
		wantFlow  FlowID
		wantOut   Channels
		wantPick  Channels
		wantStep  OptStep
		effect    *ConsentChange // compared on Action, Channels, identifiers, Source
		noEffects bool
	}{
		{name: "stop everything from the menu, skip identifiers",
			ins:     []Input{ooPb("do=optout"), ooPb(optPostback("all", 0)), ooPb(optPostback("skipall", 0)), ooPb(optPostback("ok", 0))},
			wantIDs: []string{msgOptDone, msgMenu}, wantOut: ChanAll,
			effect: &ConsentChange{Action: ConsentOptOut, Channels: ChanAll, Source: SourceChat}},
		{name: "several channels, toggled off again",
			ins: []Input{ooPb("do=optout"), ooPb(optPostback("pick", ChanPhone)), ooPb(optPostback("pick", ChanMail)),
				ooPb(optPostback("pick", ChanSurvey)), ooPb(optPostback("pick", ChanMail))},
			wantIDs: []string{msgOptPick}, wantFlow: FlowOptOut, wantPick: ChanPhone | ChanSurvey, wantStep: optPick, noEffects: true},
		{name: "done with nothing chosen asks again",
			ins:     []Input{ooPb("do=optout"), ooPb(optPostback("done", 0))},
			wantIDs: []string{msgOptPickEmpty}, wantFlow: FlowOptOut, wantStep: optPick, noEffects: true},
		{name: "message naming a channel preselects it",
			ins:     []Input{ooIntent("DMを送らないでください", "optout")},
			wantIDs: []string{msgOptPick}, wantFlow: FlowOptOut, wantPick: ChanMail, wantStep: optPick, noEffects: true},
		{name: "channels typed in the picker",
			ins:     []Input{ooPb("do=optout"), ooTxt("電話とメール"), ooTxt("はい")},
			wantIDs: []string{msgOptAskName}, wantFlow: FlowOptOut, wantPick: ChanPhone | ChanEmail, wantStep: optName, noEffects: true},
		{name: "full identifiers, invalid phone and e-mail corrected",
			ins: []Input{ooPb("do=optout"), ooPb(optPostback("pick", ChanPhone)), ooPb(optPostback("pick", ChanEmail)), ooPb(optPostback("done", 0)),
				ooTxt("岡山　花子"), ooTxt("090-1234"), ooTxt("０９０－１２３４－５６７８"), ooTxt("hanako@"), ooTxt("Hanako@Example.JP"),
				ooTxt("〒700-0975"), ooPb(optPostback("ok", 0))},
			wantIDs: []string{msgOptDone, msgMenu}, wantOut: ChanPhone | ChanEmail,
			effect: &ConsentChange{Action: ConsentOptOut, Channels: ChanPhone | ChanEmail, Name: "岡山 花子", Phone: "+819012345678",
				Email: "hanako@example.jp", Postal: "700-0975", Source: SourceChat}},
		{name: "invalid phone asks again and stays",
			ins:     []Input{ooPb("do=optout"), ooPb(optPostback("all", 0)), ooTxt("山田 太郎"), ooTxt("12345")},
			wantIDs: []string{msgOptBadPhone}, wantFlow: FlowOptOut, wantPick: ChanAll, wantStep: optPhone, noEffects: true},
		{name: "invalid e-mail asks again",
			ins:     []Input{ooPb("do=optout"), ooPb(optPostback("all", 0)), ooTxt("山田 太郎"), ooPb(optPostback("skip", 0)), ooTxt("not an address")},
			wantIDs: []string{msgOptBadEmail}, wantFlow: FlowOptOut, wantPick: ChanAll, wantStep: optEmail, noEffects: true},
		{name: "skip phone and extra, keep e-mail and customer number",
			ins: []Input{ooPb("do=optout"), ooPb(optPostback("pick", ChanCampaign)), ooPb(optPostback("done", 0)), ooTxt("Jane Doe"),
				ooPb(optPostback("skip", 0)), ooTxt("jane@example.com"), ooTxt("c-12345"), ooTxt("ok")},
			wantIDs: []string{msgOptDone, msgMenu}, wantOut: ChanCampaign,
			effect: &ConsentChange{Action: ConsentOptOut, Channels: ChanCampaign, Name: "Jane Doe", Email: "jane@example.com",
				Customer: "C-12345", Source: SourceChat}},
		{name: "cancel midway by button",
			ins:     []Input{ooPb("do=optout"), ooPb(optPostback("all", 0)), ooTxt("山田 太郎"), ooPb(optPostback("cancel", 0))},
			wantIDs: []string{msgOptCancelled, msgMenu}, noEffects: true},
		{name: "cancel midway by text",
			ins:     []Input{ooPb("do=optout"), ooPb(optPostback("pick", ChanVisit)), ooTxt("キャンセル")},
			wantIDs: []string{msgOptCancelled, msgMenu}, noEffects: true},
		{name: "cancel at the confirmation",
			ins:     []Input{ooPb("do=optout"), ooPb(optPostback("all", 0)), ooPb(optPostback("skipall", 0)), ooPb(optPostback("cancel", 0))},
			wantIDs: []string{msgOptCancelled, msgMenu}, noEffects: true},
		{name: "other text at the confirmation asks again",
			ins:     []Input{ooPb("do=optout"), ooPb(optPostback("all", 0)), ooPb(optPostback("skipall", 0)), ooTxt("えーと")},
			wantIDs: []string{msgOptConfirmAsk, msgOptConfirm}, wantFlow: FlowOptOut, wantPick: ChanAll, wantStep: optConfirm, noEffects: true},
		{name: "another menu action leaves the flow",
			ins:     []Input{ooPb("do=optout"), ooPb("do=lang&l=en")},
			wantIDs: []string{msgLangSwitched, msgMenu}, noEffects: true},
		{name: "stale button after the flow ended",
			ins:     []Input{ooPb(optPostback("ok", 0))},
			wantIDs: []string{msgOptExpired, msgMenu}, noEffects: true},
		{name: "media inside the flow repeats the question",
			ins:     []Input{ooPb("do=optout"), ooPb(optPostback("all", 0)), {Kind: InputMedia, Now: ooT0}},
			wantIDs: []string{msgOptAskName}, wantFlow: FlowOptOut, wantPick: ChanAll, wantStep: optName, noEffects: true},
		{name: "opt back in to one channel",
			start:   State{OptOut: OptOutData{Out: ChanPhone | ChanMail}},
			ins:     []Input{ooIntent("また電話での案内を受けたい", "optin"), ooPb(optPostback("done", 0)), ooPb(optPostback("ok", 0))},
			wantIDs: []string{msgInDone, msgMenu}, wantOut: ChanMail,
			effect: &ConsentChange{Action: ConsentOptIn, Channels: ChanPhone, Source: SourceChat}},
		{name: "opt back in to everything stopped",
			start:   State{OptOut: OptOutData{Out: ChanPhone | ChanLINE}},
			ins:     []Input{ooPb("do=optin"), ooPb(optPostback("all", 0)), ooPb(optPostback("ok", 0))},
			wantIDs: []string{msgInDone, msgMenu},
			effect:  &ConsentChange{Action: ConsentOptIn, Channels: ChanPhone | ChanLINE, Source: SourceChat}},
		{name: "opt in cannot pick a channel that is not stopped",
			start:   State{OptOut: OptOutData{Out: ChanPhone}},
			ins:     []Input{ooPb("do=optin"), ooPb(optPostback("pick", ChanMail)), ooPb(optPostback("done", 0))},
			wantIDs: []string{msgInPickEmpty}, wantFlow: FlowOptIn, wantOut: ChanPhone, wantStep: optPick, noEffects: true},
		{name: "opt in with nothing stopped",
			ins:     []Input{ooPb("do=optin")},
			wantIDs: []string{msgInNothing}, noEffects: true},
		{name: "what have I opted out of",
			start:   State{OptOut: OptOutData{Out: ChanSurvey}},
			ins:     []Input{{Kind: InputText, Text: "配信停止の状況を確認したい", Intent: Intent{Name: "optout", Topic: OptStatusTopic}, Now: ooT0}},
			wantIDs: []string{msgOptStatus}, wantOut: ChanSurvey, noEffects: true},
		{name: "status with nothing stopped",
			ins:     []Input{ooPb("do=optstatus")},
			wantIDs: []string{msgOptStatusNone}, noEffects: true},
		{name: "block records a LINE opt-out and leaves the flow",
			ins:     []Input{ooPb("do=optout"), {Kind: InputUnfollow, Now: ooT0}},
			wantOut: ChanLINE,
			effect:  &ConsentChange{Action: ConsentOptOut, Channels: ChanLINE, Source: SourceBlock}},
		{name: "unblock records the LINE opt-in",
			start:   State{OptOut: OptOutData{Out: ChanLINE | ChanPhone}},
			ins:     []Input{{Kind: InputFollow, Unblocked: true, Now: ooT0}},
			wantIDs: []string{msgWelcomeBack, msgMenu}, wantOut: ChanPhone,
			effect: &ConsentChange{Action: ConsentOptIn, Channels: ChanLINE, Source: SourceUnblock}},
		{name: "a new follow records nothing",
			ins:     []Input{{Kind: InputFollow, Now: ooT0}},
			wantIDs: []string{msgGreeting, msgMenu}, noEffects: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, effs := ooRun(c.start, c.ins...)
			if c.wantIDs != nil && !reflect.DeepEqual(ooIDs(r), c.wantIDs) {
				t.Errorf("replies %v, want %v", ooIDs(r), c.wantIDs)
			}
			d := r.State.OptOut
			if r.State.Flow != c.wantFlow || d.Out != c.wantOut || d.Pick != c.wantPick || d.Step != c.wantStep {
				t.Errorf("state flow=%q out=%v pick=%v step=%v, want %q %v %v %v", r.State.Flow, d.Out, d.Pick, d.Step,
					c.wantFlow, c.wantOut, c.wantPick, c.wantStep)
			}
			if c.noEffects && len(effs) != 0 {
				t.Errorf("unexpected effects %+v", effs)
			}
			if c.effect != nil {
				if len(effs) != 1 || effs[0].Kind != EffectConsent || effs[0].Consent == nil {
					t.Fatalf("effects %+v, want one consent change", effs)
				}
				got := *effs[0].Consent
				w := *c.effect
				if got.Action != w.Action || got.Channels != w.Channels || got.Source != w.Source || got.Name != w.Name ||
					got.Phone != w.Phone || got.Email != w.Email || got.Postal != w.Postal || got.Customer != w.Customer {
					t.Errorf("change %+v, want %+v", got, w)
				}
				if got.Reference == "" || got.At.IsZero() {
					t.Errorf("change lacks reference or time: %+v", got)
				}
			}
			for _, rep := range r.Replies {
				if len(rep.Choices) > 13 {
					t.Errorf("%s has %d quick replies", rep.ID, len(rep.Choices))
				}
			}
		})
	}
}

func TestOptOutConfirmationWarnsWithoutIdentifiers(t *testing.T) {
	r, _ := ooRun(State{}, ooPb("do=optout"), ooPb(optPostback("pick", ChanPhone)), ooPb(optPostback("done", 0)), ooPb(optPostback("skipall", 0)))
	if r.Replies[0].ID != msgOptConfirm || r.Replies[0].Data["NoIDs"] != "1" {
		t.Fatalf("confirmation %+v: want the no-identifier warning", r.Replies[0])
	}
	r, _ = ooRun(State{}, ooPb("do=optout"), ooPb(optPostback("pick", ChanLINE)), ooPb(optPostback("done", 0)), ooPb(optPostback("skipall", 0)))
	if r.Replies[0].Data["NoIDs"] != "" {
		t.Fatal("a LINE-only opt-out needs no identifiers")
	}
}

func TestMainMenuOffersOptOut(t *testing.T) {
	m := mainMenu(State{})
	for _, c := range m.Choices {
		if c.Postback == "do=optout" && c.LabelID == lblOptOut {
			return
		}
	}
	t.Fatalf("main menu %+v has no opt-out choice", m.Choices)
}

func TestNormalizePhone(t *testing.T) {
	same := []string{"090-1234-5678", "09012345678", "０９０１２３４５６７８", "+81 90 1234 5678", "+81-90-1234-5678",
		"+81 (0)90 1234 5678", "090 1234 5678", "（090）1234－5678", "090ー1234ー5678"}
	for _, s := range same {
		if got, ok := NormalizePhone(s); !ok || got != "+819012345678" {
			t.Errorf("NormalizePhone(%q) = %q, %v", s, got, ok)
		}
	}
	valid := map[string]string{"086-239-7675": "+81862397675", "0120-123-456": "+81120123456", "050-1234-5678": "+815012345678",
		"0800-123-4567": "+818001234567", "03-1234-5678": "+81312345678"}
	for in, want := range valid {
		if got, ok := NormalizePhone(in); !ok || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, s := range []string{"", "12345", "090-1234-567", "090-1234-56789", "0862397675x", "+1 415 555 0100", "00-1234-5678",
		"086-239-76755", "電話番号", "090-1234-5678 内線2"} {
		if got, ok := NormalizePhone(s); ok {
			t.Errorf("NormalizePhone(%q) = %q, want invalid", s, got)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{"Hanako@Example.JP": "hanako@example.jp", " ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ ": "hanako@example.jp",
		"a.b+tag@mail.co.jp": "a.b+tag@mail.co.jp"} {
		if got, ok := NormalizeEmail(in); !ok || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v", in, got, ok)
		}
	}
	for _, s := range []string{"", "hanako", "hanako@", "@example.jp", "hanako@example", "Hanako <h@example.jp>", "a b@example.jp",
		"h@.jp", "h@example."} {
		if got, ok := NormalizeEmail(s); ok {
			t.Errorf("NormalizeEmail(%q) = %q, want invalid", s, got)
		}
	}
}

func TestChannelsInText(t *testing.T) {
	for text, want := range map[string]Channels{
		"ダイレクトメールを止めて": ChanMail, "メルマガ解除": ChanEmail, "営業の電話とアンケート": ChanPhone | ChanSurvey,
		"販促の連絡は一切いりません": ChanAll, "Please stop the e-mails": ChanEmail, "こんにちは": 0,
	} {
		if got := channelsIn(text); got != want {
			t.Errorf("channelsIn(%q) = %v, want %v", text, got.Names(), want.Names())
		}
	}
}

func TestConsentReferenceIsStable(t *testing.T) {
	a, b := ConsentReference(ooT0), ConsentReference(ooT0.Add(time.Nanosecond))
	if a == b || !strings.HasPrefix(a, "OPT-") || a != ConsentReference(ooT0) {
		t.Fatalf("references %q %q", a, b)
	}
}
