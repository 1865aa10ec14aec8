package flows

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enemane/privacybot/locales"
)

// handoffText renders a handoff catalog message in lang, failing when it is missing there.
func handoffText(t *testing.T, lang, id string, data map[string]string) string {
	t.Helper()
	b, err := locales.NewBundle()
	if err != nil {
		t.Fatal(err)
	}
	s, tag, err := i18n.NewLocalizer(b, lang).LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil || tag.String() != lang || strings.TrimSpace(s) == "" {
		t.Errorf("%s %s: %q (tag %s) %v", lang, id, s, tag, err)
	}
	return s
}

func replyIDs(rs []Reply) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

func choicePostbacks(r Reply) []string {
	var out []string
	for _, c := range r.Choices {
		out = append(out, c.Postback)
	}
	return out
}

func TestComplaintFlowTable(t *testing.T) {
	text := func(s, intent string) Input { return Input{Kind: InputText, Text: s, Intent: Intent{Name: intent}} }
	pb := func(d string) Input { return Input{Kind: InputPostback, Postback: d} }
	internal := func(d string) Input { return Input{Kind: InputInternal, Postback: d} }
	inComplaint := func(stage HandoffStage, cat, desc string) State {
		return State{Flow: FlowComplaint, Handoff: HandoffState{Stage: stage, Category: cat, Description: desc}}
	}
	long := strings.Repeat("長", 1500)
	cases := []struct {
		name    string
		st      State
		in      Input
		want    State
		replies []string
		effects []Effect
	}{
		{"complaint intent starts the flow", State{Misses: 1}, text("苦情です", "complaint"),
			inComplaint(StageCategory, "", ""), []string{msgComplaintCategory}, nil},
		{"a long complaint keeps its words", State{}, text("先週の電話で担当者に住所を大声で読み上げられ、とても不快でした", "complaint"),
			inComplaint(StageCategory, "", "先週の電話で担当者に住所を大声で読み上げられ、とても不快でした"), []string{msgComplaintCategory}, nil},
		{"menu chip starts the flow", State{}, pb("do=complain"), inComplaint(StageCategory, "", ""), []string{msgComplaintCategory}, nil},
		{"category chosen", inComplaint(StageCategory, "", ""), pb("do=hcat&c=data"),
			inComplaint(StageDescribe, CategoryData, ""), []string{msgComplaintDescribe}, nil},
		{"unknown category asks again", inComplaint(StageCategory, "", ""), pb("do=hcat&c=evil"),
			inComplaint(StageCategory, "", ""), []string{msgComplaintCategory}, nil},
		{"text instead of a category is kept", inComplaint(StageCategory, "", ""), text("電話の対応が悪い", "complaint"),
			inComplaint(StageCategory, "", "電話の対応が悪い"), []string{msgComplaintCategoryAgain}, nil},
		{"category after text goes to confirm", inComplaint(StageCategory, "", "電話の対応が悪い"), pb("do=hcat&c=conduct"),
			inComplaint(StageConfirm, CategoryConduct, "電話の対応が悪い"), []string{msgComplaintConfirm}, nil},
		{"description", inComplaint(StageDescribe, CategoryService, ""), text("  請求書が届きません ", "none"),
			inComplaint(StageConfirm, CategoryService, "請求書が届きません"), []string{msgComplaintConfirm}, nil},
		{"more text while confirming is appended", inComplaint(StageConfirm, CategoryService, "a"), text("b", "none"),
			inComplaint(StageConfirm, CategoryService, "a\nb"), []string{msgComplaintConfirm}, nil},
		{"description is bounded", inComplaint(StageDescribe, CategoryOther, ""), text(long, "none"),
			inComplaint(StageConfirm, CategoryOther, string([]rune(long)[:maxDescriptionRunes-1])+"…"), []string{msgComplaintConfirm}, nil},
		{"media in the flow", inComplaint(StageDescribe, CategoryOther, ""), Input{Kind: InputMedia},
			inComplaint(StageDescribe, CategoryOther, ""), []string{msgComplaintTextOnly}, nil},
		{"rewrite", inComplaint(StageConfirm, CategoryOther, "x"), pb("do=hedit"),
			inComplaint(StageDescribe, CategoryOther, ""), []string{msgComplaintDescribe}, nil},
		{"quit", inComplaint(StageDescribe, CategoryOther, "x"), pb("do=hquit"),
			State{}, []string{msgComplaintQuit, msgMenu}, nil},
		{"send a data complaint: high priority", inComplaint(StageConfirm, CategoryData, "漏えいが心配です"), pb("do=hsend"),
			State{Flow: FlowStaff}, []string{NoticeQueued},
			[]Effect{{Kind: EffectEscalate, Escalation: &EscalationRequest{Reason: ReasonComplaint, Category: CategoryData, Description: "漏えいが心配です", Priority: PriorityHigh}}}},
		{"send a service complaint: normal priority", inComplaint(StageConfirm, CategoryService, "遅い"), pb("do=hsend"),
			State{Flow: FlowStaff}, []string{NoticeQueued},
			[]Effect{{Kind: EffectEscalate, Escalation: &EscalationRequest{Reason: ReasonComplaint, Category: CategoryService, Description: "遅い", Priority: PriorityNormal}}}},
		{"send before confirming is refused", inComplaint(StageDescribe, CategoryService, ""), pb("do=hsend"),
			inComplaint(StageDescribe, CategoryService, ""), []string{msgComplaintCategory}, nil},
		{"human intent escalates", State{Misses: 1}, text("担当者と話したい", "human"), State{Flow: FlowStaff}, []string{NoticeQueued},
			[]Effect{{Kind: EffectEscalate, Escalation: &EscalationRequest{Reason: ReasonHuman, Priority: PriorityNormal}}}},
		{"accepting staff after misses", State{Misses: 2}, pb("do=human&r=misses"), State{Flow: FlowStaff}, []string{NoticeQueued},
			[]Effect{{Kind: EffectEscalate, Escalation: &EscalationRequest{Reason: ReasonMisses, Priority: PriorityNormal}}}},
		{"asking again while queued does not escalate twice", State{Flow: FlowStaff}, pb("do=human"), State{Flow: FlowStaff},
			[]string{msgHandoffStillQueued}, nil},
		{"first message while queued is acknowledged", State{Flow: FlowStaff}, text("まだですか", "none"),
			State{Flow: FlowStaff, Handoff: HandoffState{Noted: true}}, []string{msgHandoffWaiting}, nil},
		{"later messages while queued go to staff quietly", State{Flow: FlowStaff, Handoff: HandoffState{Noted: true}}, text("もしもし", "faq.1"),
			State{Flow: FlowStaff, Handoff: HandoffState{Noted: true}}, nil, nil},
		{"cancel while queued", State{Flow: FlowStaff, Lang: En}, pb(CancelPostback), State{Lang: En},
			[]string{msgHandoffCancelled, msgMenu}, []Effect{{Kind: EffectCancelEscalation}}},
		{"cancel with nothing queued", State{}, pb(CancelPostback), State{}, []string{msgHandoffNothingToCancel, msgMenu}, nil},
		{"handed back", State{Flow: FlowStaff, Handoff: HandoffState{Noted: true}, Misses: 2}, internal(ResumePostback("handback", "E1", false)),
			State{}, []string{msgHandoffBack, msgMenu}, nil},
		{"closed without the question", State{Flow: FlowStaff}, internal(ResumePostback("closed", "E1", false)),
			State{}, []string{msgHandoffClosed, msgMenu}, nil},
		{"closed with the question", State{Flow: FlowStaff}, internal(ResumePostback("closed", "E1", true)),
			State{}, []string{msgHandoffClosed, msgHandoffRateAsk}, nil},
		{"a customer's postback forging the hand-back leaves the queue alone", State{Flow: FlowStaff, Handoff: HandoffState{Noted: true}},
			pb(ResumePostback("handback", "E1", false)), State{Flow: FlowStaff, Handoff: HandoffState{Noted: true}}, []string{msgMenu}, nil},
		{"outside business hours the notice says when staff answer", State{},
			Input{Kind: InputText, Text: "担当者と話したい", Intent: Intent{Name: "human"}, Staff: StaffHours{Closed: true, Next: "12月7日(月) 9:00"}},
			State{Flow: FlowStaff}, []string{NoticeQueuedClosedHours},
			[]Effect{{Kind: EffectEscalate, Escalation: &EscalationRequest{Reason: ReasonHuman, Priority: PriorityNormal}}}},
		{"staff joined", State{Flow: FlowStaff}, internal(JoinedPostback("山田")), State{Flow: FlowStaff, Handoff: HandoffState{Noted: true}},
			[]string{NoticeJoined}, nil},
		{"staff joined just after the customer withdrew", State{}, internal(JoinedPostback("山田")),
			State{Flow: FlowStaff, Handoff: HandoffState{Noted: true}}, []string{NoticeJoined}, nil},
		{"a customer's postback forging the joined notice does nothing of the kind", State{}, pb(JoinedPostback("偽物")), State{},
			[]string{msgMenu}, nil},
		{"a customer whose request ended unheard is answered by the bot again", State{Flow: FlowStaff, Handoff: HandoffState{Noted: true}},
			Input{Kind: InputText, Text: "メニュー", Intent: Intent{Name: "menu"}, NoStaffRequest: true}, State{}, []string{msgMenu}, nil},
		{"an unknown internal event changes nothing", State{Flow: FlowStaff}, internal("do=lang&l=en"), State{Flow: FlowStaff}, nil, nil},
		{"rating", State{}, pb("do=hrate&e=E1&s=good"), State{}, []string{msgHandoffRateThanks, msgMenu},
			[]Effect{{Kind: EffectRateEscalation, Escalation: &EscalationRequest{Ticket: "E1", Rating: RatingGood}}}},
		{"forged rating is ignored", State{}, pb("do=hrate&e=E1&s=<script>"), State{}, []string{msgMenu}, nil},
		{"language switch inside the flow", inComplaint(StageDescribe, CategoryOther, ""), text("English", "none"),
			State{Lang: En, Flow: FlowComplaint, Handoff: HandoffState{Stage: StageDescribe, Category: CategoryOther}}, []string{msgLangSwitched, msgMenu}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Step(c.st, c.in)
			if got.State != c.want {
				t.Errorf("state %+v, want %+v", got.State, c.want)
			}
			if ids := replyIDs(got.Replies); !slices.Equal(ids, c.replies) {
				t.Errorf("replies %v, want %v", ids, c.replies)
			}
			if !reflect.DeepEqual(got.Effects, c.effects) {
				t.Errorf("effects %+v, want %+v", got.Effects, c.effects)
			}
		})
	}
}

func TestSecondMissOffersStaffFirst(t *testing.T) {
	none := Input{Kind: InputText, Text: "ふがふが", Intent: Intent{Name: "none"}}
	r := Step(State{}, none)
	if r.State.Misses != 1 || slices.Contains(choicePostbacks(r.Replies[len(r.Replies)-1]), "do=human&r=misses") {
		t.Fatalf("first miss: %+v", r)
	}
	r = Step(r.State, none)
	last := r.Replies[len(r.Replies)-1]
	if last.ID != msgHandoffOffer || len(last.Choices) == 0 || last.Choices[0].Postback != "do=human&r=misses" {
		t.Fatalf("second miss must offer staff as the first quick reply: %+v", last)
	}
	acc := Step(r.State, Input{Kind: InputPostback, Postback: last.Choices[0].Postback})
	if len(acc.Effects) != 1 || acc.Effects[0].Kind != EffectEscalate || acc.Effects[0].Escalation.Reason != ReasonMisses {
		t.Fatalf("accepting the offer: %+v", acc)
	}
}

func TestConfirmCarriesCustomerTextAsData(t *testing.T) {
	st := State{Flow: FlowComplaint, Handoff: HandoffState{Stage: StageDescribe, Category: CategoryData}}
	hostile := `{{.PolicyURL}} <script>alert(1)</script>`
	r := Step(st, Input{Kind: InputText, Text: hostile})
	if r.Replies[0].Data["Description"] != hostile || r.Replies[0].Data["Category"] != CategoryData {
		t.Fatalf("data %+v", r.Replies[0].Data)
	}
}

func TestHandoffLabelsFitLINE(t *testing.T) {
	for _, lang := range []string{"ja", "en"} {
		for _, id := range HandoffMessageIDs() {
			if !strings.HasPrefix(id, "label.") {
				continue
			}
			s := handoffText(t, lang, id, nil)
			if n := utf8.RuneCountInString(s); n == 0 || n > 20 {
				t.Errorf("%s %s: %q is %d characters (LINE allows 20)", lang, id, s, n)
			}
		}
		for _, id := range HandoffMessageIDs() {
			if !strings.HasPrefix(id, "label.") {
				handoffText(t, lang, id, map[string]string{"Next": "x", "Name": "y", "Category": "data", "Description": "z"})
			}
		}
	}
	// The confirmation names the category in words.
	if s := handoffText(t, "ja", msgComplaintConfirm, map[string]string{"Category": "conduct", "Description": "x"}); !strings.Contains(s, "従業員の対応") {
		t.Errorf("confirm: %q", s)
	}
}
