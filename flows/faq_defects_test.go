package flows

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/flows/nlu"
)

// The answer defects found when the bot was tried as a customer would, end to end: the real classifier
// reads the message (as cmd/privacybot's classify does), Step answers it, and the test checks the
// intent, the topics and the replies. The classifier's side, with more phrasings, is in
// flows/nlu/defects_test.go.

var (
	defectModelOnce sync.Once
	defectModel     *nlu.Model
	defectModelErr  error
)

func defectClassifier(t *testing.T) *nlu.Model {
	t.Helper()
	defectModelOnce.Do(func() { defectModel, defectModelErr = nlu.Load() })
	if defectModelErr != nil {
		t.Fatal(defectModelErr)
	}
	return defectModel
}

// classified is the input of a typed message as the pipeline builds it.
func classified(t *testing.T, text string) Input {
	t.Helper()
	r := defectClassifier(t).Classify(text)
	return Input{Kind: InputText, Text: text, Now: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC), Lang: Lang(r.Lang),
		Intent: Intent{Name: r.Intent, Confidence: r.Confidence, Topic: r.Topic, Also: r.Also, Guess: r.Guess, GuessConf: r.GuessConf}}
}

func TestFAQDefectsEndToEnd(t *testing.T) {
	for _, c := range []struct {
		text    string
		start   State
		intent  string
		topics  []string // Topic, then Also
		replies []string
	}{
		// 1. Vendors and contractors receive data: item 6, not item 3.
		{text: "業者に私の情報を渡してるんですか", intent: "faq.6", topics: []string{"6.contractors"},
			replies: []string{"faq.t6_contractors.answer"}},
		{text: "Do you give my data to your vendors?", intent: "faq.6", topics: []string{"6.contractors"},
			replies: []string{"faq.t6_contractors.answer"}},
		{text: "外注先に個人情報を教えていますか", intent: "faq.6", topics: []string{"6.contractors"},
			replies: []string{"faq.t6_contractors.answer"}},
		// 2. Who is the manager: the answer that says what the policy names (checked below).
		{text: "個人情報保護管理者って誰？", intent: "faq.4", topics: []string{"4.manager"},
			replies: []string{"faq.t4_manager.answer"}},
		{text: "Who is your data protection officer?", intent: "faq.4", topics: []string{"4.manager"},
			replies: []string{"faq.t4_manager.answer"}},
		// 3. The forum.
		{text: "サイトでフォーラムに書き込んだ内容はどうなる", intent: "faq.10", topics: []string{"10.forum"},
			replies: []string{"faq.t10_forum.answer"}},
		{text: "If I write a comment on your site, who can see it?", intent: "faq.10", topics: []string{"10.forum"},
			replies: []string{"faq.t10_forum.answer"}},
		// 4. Two questions in one message, each its own answer.
		{text: "開示ってどれくらいで…手数料は？", intent: "faq.5", topics: []string{"5.fee", "5.result"},
			replies: []string{"faq.t5_fee.answer", "faq.t5_result.answer"}},
		{text: "How long does a disclosure request take and is there a fee?", intent: "faq.5", topics: []string{"5.fee", "5.result"},
			replies: []string{"faq.t5_fee.answer", "faq.t5_result.answer"}},
		{text: "What documents do I need and is there a charge?", intent: "faq.5", topics: []string{"5.id", "5.fee"},
			replies: []string{"faq.t5_id.answer", "faq.t5_fee.answer"}},
		{text: "開示までの日数は？代理人でもいい？費用は？", intent: "faq.5", topics: []string{"5.agent", "5.fee", "5.result"},
			replies: []string{"faq.t5_agent.answer", "faq.t5_fee.answer", "faq.t5_result.answer"}},
		// 5. What have I stopped: the status, not a new opt-out.
		{text: "今って何を停止してるんだっけ？", start: State{OptOut: OptOutData{Out: ChanMail | ChanPhone}}, intent: "optout",
			topics: []string{OptStatusTopic}, replies: []string{msgOptStatus}},
		{text: "配信停止の設定を確認したい", intent: "optout", topics: []string{OptStatusTopic}, replies: []string{msgOptStatusNone}},
		{text: "What have I opted out of?", start: State{OptOut: OptOutData{Out: ChanEmail}}, intent: "optout",
			topics: []string{OptStatusTopic}, replies: []string{msgOptStatus}},
		{text: "Check my unsubscribe settings", intent: "optout", topics: []string{OptStatusTopic}, replies: []string{msgOptStatusNone}},
		{text: "DMを止めて", intent: "optout", replies: []string{msgOptPick}},
		{text: "Please unsubscribe me from all emails, currently I get three a day", intent: "optout", replies: []string{msgOptPick}},
		// 6. Refusing cookies; someone else making a request.
		{text: "How do I refuse cookies?", intent: "faq.10", topics: []string{"10.disable"}, replies: []string{"faq.t10_disable.answer"}},
		{text: "Can I stop your site from using cookies?", intent: "faq.10", topics: []string{"10.disable"},
			replies: []string{"faq.t10_disable.answer"}},
		{text: "クッキーを断るにはどうすればいいですか", intent: "faq.10", topics: []string{"10.disable"},
			replies: []string{"faq.t10_disable.answer"}},
		{text: "Can someone else file the request for me?", intent: "faq.5", topics: []string{"5.agent"},
			replies: []string{"faq.t5_agent.answer"}},
		{text: "Can I make a request for my elderly mother?", intent: "faq.5", topics: []string{"5.agent"},
			replies: []string{"faq.t5_agent.answer"}},
		{text: "Can a lawyer ask on my behalf?", intent: "faq.5", topics: []string{"5.agent"}, replies: []string{"faq.t5_agent.answer"}},
		{text: "高齢の母の代わりに手続きできますか", intent: "faq.5", topics: []string{"5.agent"}, replies: []string{"faq.t5_agent.answer"}},
	} {
		in := classified(t, c.text)
		topics := in.Intent.Also
		if in.Intent.Topic != "" {
			topics = append([]string{in.Intent.Topic}, topics...)
		}
		if in.Intent.Name != c.intent || !slices.Equal(topics, c.topics) {
			t.Errorf("%q: classified %s %v, want %s %v", c.text, in.Intent.Name, topics, c.intent, c.topics)
			continue
		}
		res := Step(c.start, in)
		if got := replyIDs(res.Replies); !slices.Equal(got, c.replies) {
			t.Errorf("%q: replies %v, want %v", c.text, got, c.replies)
		}
		if len(res.Effects) != 0 {
			t.Errorf("%q: effects %+v, want none", c.text, res.Effects)
		}
		if n := len(res.Replies); n > 5 {
			t.Errorf("%q: %d messages, LINE takes 5", c.text, n)
		}
	}
}

func TestFAQRepliesAnswerAlso(t *testing.T) {
	in := Input{Kind: InputText, Intent: Intent{Name: "faq.5", Topic: "5.fee",
		Also: []string{"5.result", "5.fee", "3.police", "nope", "5.agent", "5.id"}}}
	replies, ok := FAQReplies(in)
	if !ok {
		t.Fatal("not answered")
	}
	// Distinct topics of the item asked, in order, three at most; other items and unknown IDs dropped.
	want := []string{"faq.t5_fee.answer", "faq.t5_result.answer", "faq.t5_agent.answer"}
	if got := replyIDs(replies); !slices.Equal(got, want) {
		t.Fatalf("replies %v, want %v", got, want)
	}
	for i, r := range replies[:len(replies)-1] {
		if r.Choices != nil {
			t.Errorf("answer %d has quick replies; only the last may", i)
		}
	}
	last := replies[len(replies)-1].Choices
	if len(last) == 0 || last[len(last)-1].Postback != FAQPostback(FAQMenuTopic) {
		t.Fatalf("last answer's quick replies %+v: want related topics and the item list", last)
	}
	for _, c := range last {
		if id, _ := ParseFAQPostback(c.Postback); id == "5.fee" || id == "5.result" || id == "5.agent" {
			t.Errorf("quick reply %q repeats a topic just answered", c.Postback)
		}
	}
	// One topic: exactly as before (the answer with all its related topics).
	one, _ := FAQReplies(Input{Intent: Intent{Name: "faq.5", Topic: "5.fee"}})
	tp, _ := FAQTopicByID("5.fee")
	if len(one) != 1 || !slices.Equal(one[0].Choices, topicReplies(tp)[0].Choices) {
		t.Errorf("single answer %+v", one)
	}
	// A topic of another item: the item's default answers, the further topics still follow.
	other, _ := FAQReplies(Input{Intent: Intent{Name: "faq.5", Topic: "3.police", Also: []string{"5.fee"}}})
	if got := replyIDs(other); !slices.Equal(got, []string{"faq.t5_how.answer", "faq.t5_fee.answer"}) {
		t.Errorf("replies %v", got)
	}
}

// TestFAQDeskTermsInAnswers: the fee and the answer days come from the desk when it has them; without
// them the answers say what the policy says (it sets neither) and where to ask.
func TestFAQDeskTermsInAnswers(t *testing.T) {
	withDesk := Input{Intent: Intent{Name: "faq.5", Topic: "5.fee", Also: []string{"5.result"}},
		Desk: RequestDesk{Fee: "1,100円（税込）", DueDays: 14}}
	r, _ := FAQReplies(withDesk)
	if r[0].Data["Fee"] != "1,100円（税込）" || r[1].Data["Days"] != "14" {
		t.Fatalf("data %v %v", r[0].Data, r[1].Data)
	}
	for _, lang := range []Lang{Ja, En} {
		fee := renderText(t, lang, "faq.t5_fee.answer", r[0].Data)
		days := renderText(t, lang, "faq.t5_result.answer", r[1].Data)
		if !strings.Contains(fee, "1,100円（税込）") || !strings.Contains(days, "14") {
			t.Errorf("%s: the desk's terms are not in the answers:\n%s\n%s", lang, fee, days)
		}
		noFee := renderText(t, lang, "faq.t5_fee.answer", nil)
		noDays := renderText(t, lang, "faq.t5_result.answer", nil)
		for _, s := range []string{noFee, noDays} {
			if !strings.Contains(s, "12") { // the window of item 12
				t.Errorf("%s: without the desk's terms the answer should point to item 12: %s", lang, s)
			}
		}
	}
	r, _ = FAQTopicReplies("5.fee", Input{Desk: RequestDesk{Fee: "500円"}})
	if r[0].Data["Fee"] != "500円" {
		t.Errorf("a tapped fee topic should use the desk's fee too: %v", r[0].Data)
	}
}

// TestFAQAnswersDoNotStartWithYesOrNo: an answer serves every question of its topic ("who is the
// manager?" as well as "do you have one?"), so none opens with a yes or a no.
func TestFAQAnswersDoNotStartWithYesOrNo(t *testing.T) {
	for _, tp := range faqTopics {
		for _, lang := range []Lang{Ja, En} {
			s := renderText(t, lang, tp.AnswerID(), nil)
			for _, w := range []string{"はい", "いいえ", "Yes", "No,", "No."} {
				if strings.HasPrefix(s, w) {
					t.Errorf("%s %s starts with %q", lang, tp.ID, w)
				}
			}
		}
	}
	// The manager's answer says what the policy names (the role, no person) and where to ask.
	ja := renderText(t, Ja, "faq.t4_manager.answer", nil)
	en := renderText(t, En, "faq.t4_manager.answer", nil)
	if !strings.Contains(ja, "個人情報保護管理者") || !strings.Contains(ja, "第12項") || !strings.Contains(en, "item 12") {
		t.Errorf("4.manager:\n%s\n%s", ja, en)
	}
	// 6.contractors says contractors do receive data, under item 2 (2); 3.third points to item 6.
	if s := renderText(t, Ja, "faq.t6_contractors.answer", nil); !strings.Contains(s, "第2項(2)") {
		t.Errorf("6.contractors should cite item 2 (2): %s", s)
	}
	if s := renderText(t, En, "faq.t6_contractors.answer", nil); !strings.Contains(s, "item 2 (2)") {
		t.Errorf("6.contractors should cite item 2 (2): %s", s)
	}
	for _, lang := range []Lang{Ja, En} {
		if s := renderText(t, lang, "faq.t3_third.answer", nil); !strings.Contains(s, map[Lang]string{Ja: "第6項", En: "item 6"}[lang]) {
			t.Errorf("%s 3.third should point to item 6: %s", lang, s)
		}
	}
}

// TestOptOutStatusTyped: a typed question about what is stopped shows the status outside the flow and
// inside it (then asks the flow's question again), and records nothing.
func TestOptOutStatusTyped(t *testing.T) {
	ask := Input{Kind: InputText, Text: "今何を止めてる？", Intent: Intent{Name: "optout", Topic: OptStatusTopic}, Now: ooT0}
	r := Step(State{OptOut: OptOutData{Out: ChanSurvey}}, ask)
	if got := replyIDs(r.Replies); !slices.Equal(got, []string{msgOptStatus}) || r.State.Flow != FlowIdle || len(r.Effects) != 0 {
		t.Fatalf("idle: replies %v flow %q effects %v", got, r.State.Flow, r.Effects)
	}
	mid, _ := ooRun(State{OptOut: OptOutData{Out: ChanSurvey}}, ooPb("do=optout"), ooPb(optPostback("pick", ChanPhone)))
	r = Step(mid.State, ask)
	if got := replyIDs(r.Replies); !slices.Equal(got, []string{msgOptStatus, msgOptPick}) || r.State.OptOut.Pick != ChanPhone {
		t.Fatalf("in the flow: replies %v pick %v", got, r.State.OptOut.Pick.Names())
	}
	// Without the topic, status words in a request do not stop the request.
	r = Step(State{}, Input{Kind: InputText, Text: "配信設定でメールを止めてください", Intent: Intent{Name: "optout"}, Now: ooT0})
	if r.State.Flow != FlowOptOut || r.State.OptOut.Pick != ChanEmail {
		t.Fatalf("request: flow %q pick %v", r.State.Flow, r.State.OptOut.Pick.Names())
	}
	if OptStatusTopic != nlu.TopicOptStatus {
		t.Fatalf("OptStatusTopic %q differs from the classifier's %q", OptStatusTopic, nlu.TopicOptStatus)
	}
}
