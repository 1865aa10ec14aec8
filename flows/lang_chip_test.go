package flows

import (
	"fmt"
	"testing"
	"time"
)

// The language chip of the menu offers the language the answer is not written in: 日本語 to a customer
// answered in English, English to one answered in Japanese. These tests drive Step as the pipeline does
// (bot.Processor.handle): the input carries the chat's language, else the LINE profile's
// (bot.Conversation.Lang), and the answer is rendered in the language of the state after the step,
// else the profile's.

// langRun is one customer's conversation with a profile language.
type langRun struct {
	t       *testing.T
	profile Lang
	st      State
	now     time.Time
	last    Result
}

func newLangRun(t *testing.T, profile Lang, st State) *langRun {
	return &langRun{t: t, profile: profile, st: st, now: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
}

// speaks is the language of the conversation in a state: the chat's choice, else the profile's.
func (r *langRun) speaks(st State) Lang {
	if st.Lang != "" {
		return st.Lang
	}
	return r.profile
}

func (r *langRun) step(in Input) Result {
	r.t.Helper()
	r.now = r.now.Add(time.Minute)
	in.Now, in.Lang = r.now, r.speaks(r.st)
	res := Step(r.st, in)
	checkLangChips(r.t, res, r.speaks(res.State))
	r.st, r.last = res.State, res
	return res
}

func (r *langRun) data(d string) Result {
	r.t.Helper()
	return r.step(Input{Kind: InputPostback, Postback: d})
}

func (r *langRun) say(s, intent string) Result {
	r.t.Helper()
	return r.step(Input{Kind: InputText, Text: s, Intent: Intent{Name: intent, Confidence: 0.9}, Ref: "Q1"})
}

func (r *langRun) internal(d string) Result {
	r.t.Helper()
	return r.step(Input{Kind: InputInternal, Postback: d})
}

// tap taps the chip with the label in the last replies.
func (r *langRun) tap(label string) Result {
	r.t.Helper()
	for _, rep := range r.last.Replies {
		for _, c := range rep.Choices {
			if c.LabelID == label {
				return r.data(c.Postback)
			}
		}
	}
	r.t.Fatalf("no chip %q in %v", label, ids(r.last.Replies))
	return Result{}
}

// langChip reports the language a chip switches to, failing the test when its label and its data
// disagree.
func langChip(t *testing.T, c Choice) (Lang, bool) {
	t.Helper()
	var lang Lang
	if p, ok := DecodePostback(c.Postback); ok && p.Do == ActLang {
		lang = p.Lang
	} else if l, ok := languageRequest(c.Text); ok && c.Postback == "" {
		lang = l
	}
	want := map[string]Lang{lblEnglish: En, lblJapanese: Ja}[c.LabelID]
	if lang != want {
		t.Errorf("chip %q switches to %q", c.LabelID, lang)
	}
	return lang, lang != ""
}

// checkLangChips fails on a language chip of the replies that offers answer, the language they are
// written in, and returns the languages offered.
func checkLangChips(t *testing.T, res Result, answer Lang) []Lang {
	t.Helper()
	var offered []Lang
	for _, rep := range res.Replies {
		for _, c := range rep.Choices {
			lang, ok := langChip(t, c)
			if !ok {
				continue
			}
			offered = append(offered, lang)
			if lang == answer {
				t.Errorf("reply %s, written in %s, offers %s (%s)", rep.ID, answer, lang, c.LabelID)
			}
		}
	}
	return offered
}

func other(l Lang) Lang {
	if l == En {
		return Ja
	}
	return En
}

// TestMenusOfferTheOtherLanguage: on every path that ends in the menu (or the menu's chips), for a
// customer with an English and one with a Japanese LINE profile, the menu offers exactly one language
// chip, and it is the other language than the answer's; after a switch in the chat, the other than the
// one chosen.
func TestMenusOfferTheOtherLanguage(t *testing.T) {
	staff := State{Flow: FlowStaff, Handoff: HandoffState{Noted: true}}
	paths := []struct {
		name  string
		start State
		run   func(r *langRun)
	}{
		{"first contact (follow)", State{}, func(r *langRun) { r.step(Input{Kind: InputFollow}) }},
		{"unblock", State{}, func(r *langRun) { r.step(Input{Kind: InputFollow, Unblocked: true}) }},
		{"menu typed", State{}, func(r *langRun) { r.say("メニュー", "menu") }},
		{"first miss", State{}, func(r *langRun) { r.say("今日の天気は", "none") }},
		{"second miss offers staff and the menu", State{}, func(r *langRun) {
			r.say("今日の天気は", "none")
			r.say("株価は", "none")
		}},
		{"sticker", State{}, func(r *langRun) { r.step(Input{Kind: InputMedia, Media: MediaRef{Type: "sticker"}}) }},
		{"menu chip", State{}, func(r *langRun) { r.data(act(ActMenu)) }},
		{"unknown postback", State{}, func(r *langRun) { r.data("do=nothing") }},
		{"rich menu: 日本語", State{}, func(r *langRun) { r.data("do=lang&l=ja") }},
		{"rich menu: English", State{}, func(r *langRun) { r.data("do=lang&l=en") }},
		{"typed English", State{}, func(r *langRun) { r.say("English", "none") }},
		{"typed 日本語", State{}, func(r *langRun) { r.say("日本語", "none") }},
		{"switched, then the menu", State{}, func(r *langRun) {
			r.data("do=lang&l=" + string(other(r.profile)))
			r.data(act(ActMenu))
		}},
		{"switched and back", State{}, func(r *langRun) {
			r.data("do=lang&l=" + string(other(r.profile)))
			r.data("do=lang&l=" + string(r.profile))
		}},
		{"chose the profile's language", State{}, func(r *langRun) { r.data("do=lang&l=" + string(r.profile)) }},
		{"rich menu: opt-out, all, confirmed", State{}, func(r *langRun) {
			r.data("do=optout")
			r.tap(lblOptAll)
			r.tap(lblOptSkipAll)
			r.tap(lblOptConfirm)
		}},
		{"rich menu: opt-out, cancelled", State{}, func(r *langRun) {
			r.data("do=optout")
			r.tap(lblOptAll)
			r.tap(lblOptSkipAll)
			r.tap(lblOptCancel)
		}},
		{"rich menu: staff, withdrawn", State{}, func(r *langRun) {
			r.data("do=human")
			r.tap(lblCancelRequest)
		}},
		{"nothing to withdraw", State{}, func(r *langRun) { r.data(CancelPostback) }},
		{"rich menu: request, cancelled", State{}, func(r *langRun) {
			r.data(RequestStartPostback)
			r.tap(lblReqCancel)
		}},
		{"complaint, quit", State{}, func(r *langRun) {
			r.data(act(ActComplain))
			r.tap(lblQuit)
		}},
		{"staff hand the chat back", staff, func(r *langRun) { r.internal(ResumePostback("handback", "0123456789abcdef0123", false)) }},
		{"staff close the chat", staff, func(r *langRun) { r.internal(ResumePostback("closed", "0123456789abcdef0123", false)) }},
		{"staff close the chat, rated", staff, func(r *langRun) {
			r.internal(ResumePostback("closed", "0123456789abcdef0123", true))
			r.tap(lblRateGood)
		}},
		{"policy topic chip unknown", State{}, func(r *langRun) { r.data(FAQPostback("no.such.topic")) }},
	}
	for _, profile := range []Lang{En, Ja} {
		for _, p := range paths {
			t.Run(string(profile)+"/"+p.name, func(t *testing.T) {
				r := newLangRun(t, profile, p.start)
				p.run(r)
				answer := r.speaks(r.st)
				offered := checkLangChips(t, r.last, answer)
				if len(offered) != 1 || offered[0] != other(answer) {
					t.Fatalf("answered in %s, replies %v offer %v, want [%s]", answer, ids(r.last.Replies), offered, other(answer))
				}
			})
		}
	}
}

// TestNoReplyOffersItsOwnLanguage walks the conversation from many starting points, tapping every chip
// offered (four taps deep) and typing a few messages at every state, for both profiles and with and
// without a language chosen in the chat: no reply anywhere offers the language it is written in.
func TestNoReplyOffersItsOwnLanguage(t *testing.T) {
	const ticket = "0123456789abcdef0123"
	staff := State{Flow: FlowStaff, Handoff: HandoffState{Noted: true}}
	seeds := []struct {
		st State
		in Input
	}{
		{State{}, Input{Kind: InputFollow}},
		{State{}, Input{Kind: InputFollow, Unblocked: true}},
		{State{}, Input{Kind: InputText, Text: "メニュー", Intent: Intent{Name: "menu"}}},
		{State{}, Input{Kind: InputText, Text: "保存期間は？", Intent: Intent{Name: "faq.13", Confidence: 0.9}, Ref: "Q1"}},
		{State{}, Input{Kind: InputText, Text: "DMを送らないで", Intent: Intent{Name: "optout"}}},
		{State{}, Input{Kind: InputText, Text: "苦情です", Intent: Intent{Name: "complaint"}}},
		{State{}, Input{Kind: InputText, Text: "開示請求したい", Intent: Intent{Name: "disclosure"}}},
		{State{}, Input{Kind: InputPostback, Postback: FAQPostback(FAQMenuTopic)}},
		{State{}, Input{Kind: InputPostback, Postback: "do=optout"}},
		{State{}, Input{Kind: InputPostback, Postback: "do=human"}},
		{State{}, Input{Kind: InputPostback, Postback: RequestStartPostback}},
		{State{}, Input{Kind: InputPostback, Postback: "do=lang&l=ja"}},
		{State{}, Input{Kind: InputPostback, Postback: "do=lang&l=en"}},
		{staff, Input{Kind: InputInternal, Postback: JoinedPostback("高橋")}},
		{staff, Input{Kind: InputInternal, Postback: ResumePostback("handback", ticket, false)}},
		{staff, Input{Kind: InputInternal, Postback: ResumePostback("closed", ticket, true)}},
		{staff, Input{Kind: InputFollow}},
		{State{}, Input{Kind: InputInternal, Postback: RequestNoticePostback(RequestNotice{What: NoticeStatus, Ref: "R-1",
			Kinds: KindDisclosure, Status: StatusRejected, Reason: "理由"})}},
		{State{}, Input{Kind: InputInternal, Postback: RequestNoticePostback(RequestNotice{What: NoticeStatus, Ref: "R-2",
			Kinds: KindErasure, Status: StatusCompleted, Erase: true})}},
	}
	typed := []Input{
		{Kind: InputText, Text: "メニュー", Intent: Intent{Name: "menu"}},
		{Kind: InputText, Text: "今日の天気は", Intent: Intent{Name: "none"}},
		{Kind: InputText, Text: "English", Intent: Intent{Name: "none"}},
		{Kind: InputText, Text: "日本語", Intent: Intent{Name: "none"}},
		{Kind: InputMedia, Media: MediaRef{Type: "sticker"}},
	}
	for _, profile := range []Lang{En, Ja} {
		for _, chosen := range []Lang{"", Ja, En} {
			t.Run(fmt.Sprintf("profile %s, chose %q", profile, chosen), func(t *testing.T) {
				type node struct {
					st    State
					in    Input
					depth int
				}
				var queue []node
				for _, s := range seeds {
					st := s.st
					st.Lang = chosen
					queue = append(queue, node{st, s.in, 0})
				}
				seen, steps, chips := map[State]bool{}, 0, 0
				for len(queue) > 0 && steps < 20000 {
					n := queue[0]
					queue = queue[1:]
					r := newLangRun(t, profile, n.st)
					res := r.step(n.in)
					steps++
					chips += len(checkLangChips(t, res, r.speaks(res.State)))
					if t.Failed() {
						t.Fatalf("from %+v, input %+v: replies %v", n.st, n.in, ids(res.Replies))
					}
					if seen[res.State] || n.depth >= 4 {
						continue
					}
					seen[res.State] = true
					for _, rep := range res.Replies {
						for _, c := range rep.Choices {
							if c.Postback != "" {
								queue = append(queue, node{res.State, Input{Kind: InputPostback, Postback: c.Postback}, n.depth + 1})
							} else {
								queue = append(queue, node{res.State, Input{Kind: InputText, Text: c.Text, Intent: Intent{Name: "none"}}, n.depth + 1})
							}
						}
					}
					for _, in := range typed {
						queue = append(queue, node{res.State, in, n.depth + 1})
					}
				}
				t.Logf("walked %d steps, %d states, %d language chips", steps, len(seen), chips)
				if steps < 500 || chips < 100 {
					t.Fatalf("walked %d steps and saw %d language chips: the walk did not get far", steps, chips)
				}
			})
		}
	}
}
