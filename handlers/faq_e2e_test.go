package handlers_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/linesim"
)

// The citations that end every FAQ answer, per language.
var (
	citeJa = regexp.MustCompile(`プライバシーポリシー第(\d+)項`)
	citeEn = regexp.MustCompile(`Privacy Policy, item (\d+)`)
)

// chatChip is one quick-reply item of a message as LINE receives it.
type chatChip struct {
	Type, Label, Data, DisplayText, Text string
}

// chatAnswer is one delivery (the bot's whole answer to one event), decoded.
type chatAnswer struct {
	Via   string
	Texts []string
	Chips []chatChip // the quick replies of the last message (LINE shows only those)
}

func (a chatAnswer) all() string { return strings.Join(a.Texts, "\n") }

// cited returns the policy items cited in the answer, per language.
func (a chatAnswer) cited() (ja, en []int) {
	for _, m := range citeJa.FindAllStringSubmatch(a.all(), -1) {
		n, _ := strconv.Atoi(m[1])
		ja = append(ja, n)
	}
	for _, m := range citeEn.FindAllStringSubmatch(a.all(), -1) {
		n, _ := strconv.Atoi(m[1])
		en = append(en, n)
	}
	return ja, en
}

// faqChips returns the quick replies that open a policy topic (not the list of items).
func (a chatAnswer) faqChips() []chatChip {
	var out []chatChip
	for _, c := range a.Chips {
		if id, ok := flows.ParseFAQPostback(c.Data); ok && id != flows.FAQMenuTopic {
			out = append(out, c)
		}
	}
	return out
}

func decodeAnswer(t *testing.T, d linesim.Delivered) chatAnswer {
	t.Helper()
	a := chatAnswer{Via: d.Via}
	for i, raw := range d.Messages {
		var m struct {
			Type       string `json:"type"`
			Text       string `json:"text"`
			QuickReply *struct {
				Items []struct {
					Action chatChip `json:"action"`
				} `json:"items"`
			} `json:"quickReply"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("message %d is not JSON: %v: %s", i, err, raw)
		}
		a.Texts = append(a.Texts, m.Text)
		if i == len(d.Messages)-1 && m.QuickReply != nil {
			for _, it := range m.QuickReply.Items {
				a.Chips = append(a.Chips, it.Action)
			}
		}
	}
	return a
}

// chatUser is one customer chatting with the real bot through the simulator's webhook sender.
type chatUser struct {
	t    *testing.T
	h    *harness
	id   string
	seen int
}

func newChatUser(t *testing.T, h *harness, profileLang string) *chatUser {
	u := &chatUser{t: t, h: h, id: linesim.NewUserID()}
	h.api.SetProfile(u.id, "テスト 太郎", profileLang)
	return u
}

// next sends ev and returns the one delivery it causes.
func (u *chatUser) next(what string, ev linesim.Event) chatAnswer {
	u.t.Helper()
	if code := u.h.send(ev); code != 200 {
		u.t.Fatalf("%s: webhook status %d", what, code)
	}
	ds := u.h.waitDeliveries(u.id, u.seen+1)
	u.seen = len(ds)
	return decodeAnswer(u.t, ds[len(ds)-1])
}

func (u *chatUser) say(text string) chatAnswer {
	u.t.Helper()
	return u.next(text, u.h.sender.TextEvent(u.id, text))
}

func (u *chatUser) tap(c chatChip) chatAnswer {
	u.t.Helper()
	if c.Type != "postback" {
		u.t.Fatalf("chip %q is a %s action, want postback", c.Label, c.Type)
	}
	return u.next("tap "+c.Label, u.h.sender.PostbackEvent(u.id, c.Data))
}

// mustCite fails unless the answer cites item (and only item) in lang, and no item in the other language.
func mustCite(t *testing.T, what string, a chatAnswer, lang flows.Lang, item int) {
	t.Helper()
	ja, en := a.cited()
	want, other := ja, en
	if lang == flows.En {
		want, other = en, ja
	}
	if len(want) == 0 || len(other) != 0 {
		t.Fatalf("%s: want a %s citation of item %d, got ja %v en %v in %q", what, lang, item, ja, en, a.all())
	}
	for _, n := range want {
		if n != item {
			t.Fatalf("%s: cites item %d, want %d: %q", what, n, item, a.all())
		}
	}
}

// mustNotCite fails when the answer cites any policy item.
func mustNotCite(t *testing.T, what string, a chatAnswer) {
	t.Helper()
	if ja, en := a.cited(); len(ja)+len(en) != 0 {
		t.Fatalf("%s: an off-topic message was answered with policy items ja %v en %v: %q", what, ja, en, a.all())
	}
}

// topicItem is the policy item of a topic ID ("5.kinds" -> 5).
func topicItem(t *testing.T, data string) int {
	t.Helper()
	id, ok := flows.ParseFAQPostback(data)
	if !ok {
		t.Fatalf("not a topic postback: %q", data)
	}
	n, err := strconv.Atoi(strings.SplitN(id, ".", 2)[0])
	if err != nil {
		t.Fatalf("topic %q: %v", id, err)
	}
	return n
}

// TestFAQAnswersEndToEnd: for questions about many policy items in both languages, through the signed
// webhook, the real classifier, flows, renderer and sender: the answer cites the right item in the
// customer's language and offers related topics; tapping one gives another cited answer.
func TestFAQAnswersEndToEnd(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	cases := []struct {
		lang flows.Lang
		text string
		item int
	}{
		{flows.Ja, "個人情報って具体的に何のこと？", 1},
		{flows.Ja, "住所や電話番号も個人情報に入りますか", 1},
		{flows.Ja, "私の情報は何のために使われるの？", 2},
		{flows.Ja, "第三者に私の情報を渡すことはありますか", 3},
		{flows.Ja, "警察から照会があったら情報を出しますか", 3},
		{flows.Ja, "自分のデータの開示を求めるにはどうすればいいですか", 5},
		{flows.Ja, "開示請求のときの本人確認書類は何が必要？", 5},
		{flows.Ja, "ブラウザでクッキーを拒否できますか", 10},
		{flows.Ja, "個人情報が漏れたらどうなりますか", 11},
		{flows.Ja, "問い合わせ窓口の電話番号を教えて", 12},
		{flows.Ja, "データはいつまで保管されますか", 13},
		{flows.En, "What do you mean by personal information?", 1},
		{flows.En, "What do you use my data for?", 2},
		{flows.En, "Do you share my information with third parties?", 3},
		{flows.En, "Would you give my data to the police?", 3},
		{flows.En, "How do I request disclosure of my data?", 5},
		{flows.En, "What ID do I need for a disclosure request?", 5},
		{flows.En, "What are cookies used for on your site?", 10},
		{flows.En, "What happens if my data is leaked?", 11},
		{flows.En, "Who do I contact about my personal information?", 12},
		{flows.En, "How long do you keep my data?", 13},
	}
	for _, c := range cases {
		t.Run(string(c.lang)+"/"+c.text, func(t *testing.T) {
			u := newChatUser(t, h, "ja")
			if c.lang == flows.En {
				if sw := u.say("English"); !strings.Contains(sw.all(), "reply in English") {
					t.Fatalf("\"English\" answered with %q", sw.all())
				}
			}
			a := u.say(c.text)
			if a.Via != "reply" {
				t.Errorf("answered via %s, want reply", a.Via)
			}
			mustCite(t, "answer", a, c.lang, c.item)
			related := a.faqChips()
			if len(related) == 0 {
				t.Fatalf("answer without related topics: %+v", a.Chips)
			}
			if !slices.ContainsFunc(a.Chips, func(ch chatChip) bool { return ch.Data == flows.FAQPostback(flows.FAQMenuTopic) }) {
				t.Errorf("answer without the way back to the list of items: %+v", a.Chips)
			}
			for _, ch := range a.Chips {
				if ch.Label == "" || strings.Contains(ch.Label, "faq.") {
					t.Errorf("quick reply without a rendered label: %+v", ch)
				}
			}
			b := u.tap(related[0])
			mustCite(t, "related topic "+related[0].Label, b, c.lang, topicItem(t, related[0].Data))
			if b.all() == a.all() {
				t.Fatalf("the related topic %q repeated the answer", related[0].Label)
			}
			if len(b.faqChips()) == 0 {
				t.Errorf("related answer without related topics: %+v", b.Chips)
			}
		})
	}
}

// TestFAQConversationEndToEnd is one customer's conversation: a Japanese question, a related-topic tap,
// a switch to English and back, off-topic questions answered honestly without a policy item, and after
// two misses in a row the offer of staff, which starts the handoff when tapped.
func TestFAQConversationEndToEnd(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	u := newChatUser(t, h.harness, "ja")

	{
		g := u.say("個人情報の保存期間はどのくらい？")
		mustCite(t, "retention", g, flows.Ja, 13)
		rel := g.faqChips()
		if len(rel) == 0 {
			t.Fatalf("no related topics: %+v", g.Chips)
		}
		// Tap a related topic of another item when there is one.
		pick := rel[0]
		for _, c := range rel {
			if topicItem(t, c.Data) != 13 {
				pick = c
				break
			}
		}
		r := u.tap(pick)
		mustCite(t, "related "+pick.Label, r, flows.Ja, topicItem(t, pick.Data))
		if r.all() == g.all() {
			t.Fatal("the related topic repeated the answer")
		}
	}

	if sw := u.say("English"); !strings.Contains(sw.all(), "reply in English") {
		t.Fatalf("\"English\" answered with %q", sw.all())
	}
	mustCite(t, "english question", u.say("What do you use my data for?"), flows.En, 2)
	// A Japanese question after the switch is still answered in the chosen language.
	mustCite(t, "japanese question in english mode", u.say("クッキーって何に使ってるの？"), flows.En, 10)
	if sw := u.say("日本語"); !strings.Contains(sw.all(), "日本語でご案内します") {
		t.Fatalf("\"日本語\" answered with %q", sw.all())
	}
	mustCite(t, "back in japanese", u.say("個人情報が漏れたらどうなりますか"), flows.Ja, 11)

	// A miss, an answer, a miss: not two in a row, so no offer of staff yet.
	m1 := u.say("今日の天気は？")
	mustNotCite(t, "weather", m1)
	if !strings.Contains(m1.all(), "お答えできません") {
		t.Fatalf("off-topic answered with %q, want an honest cannot-answer", m1.all())
	}
	if slices.ContainsFunc(m1.Chips, func(c chatChip) bool { return strings.HasPrefix(c.Data, "do=human&r=") }) {
		t.Fatalf("staff offered after one miss: %+v", m1.Chips)
	}
	if !slices.ContainsFunc(m1.Chips, func(c chatChip) bool { return c.Data == flows.FAQPostback(flows.FAQMenuTopic) }) {
		t.Errorf("a miss without the menu: %+v", m1.Chips)
	}
	mustCite(t, "answer between misses", u.say("問い合わせ窓口の電話番号を教えて"), flows.Ja, 12)

	// In English now: two misses in a row.
	u.say("English")
	m2 := u.say("How much is a solar panel?")
	mustNotCite(t, "solar panel", m2)
	if !strings.Contains(m2.all(), "can't answer") {
		t.Fatalf("off-topic answered with %q, want an honest cannot-answer", m2.all())
	}
	if slices.ContainsFunc(m2.Chips, func(c chatChip) bool { return strings.HasPrefix(c.Data, "do=human&r=") }) {
		t.Fatalf("staff offered after the first miss of a new run: %+v", m2.Chips)
	}
	m3 := u.say("今日の天気は？")
	mustNotCite(t, "second miss", m3)
	if len(m3.Chips) == 0 || m3.Chips[0].Data != "do=human&r=misses" {
		t.Fatalf("two misses in a row: staff must be the first quick reply, got %+v", m3.Chips)
	}
	if !strings.Contains(m3.all(), "staff") || strings.Contains(m3.all(), "担当") {
		t.Fatalf("the staff offer is not in English: %q", m3.all())
	}

	// Accepting the offer queues the chat for staff, with the reason, and tells the customer.
	q := u.tap(m3.Chips[0])
	if !strings.Contains(q.all(), "connecting you with a member of staff") {
		t.Fatalf("accepting the offer answered %q", q.all())
	}
	queue := h.handoffs.Queue()
	if !slices.ContainsFunc(queue, func(e bot.Escalation) bool {
		return e.UserID == u.id && e.Reason == flows.ReasonMisses && e.Lang == flows.En
	}) {
		t.Fatalf("no escalation for misses in the queue: %+v", queue)
	}
	h.settle()
	if n := len(h.api.Deliveries(u.id)); n != u.seen {
		t.Fatalf("%d deliveries, want %d: an event was answered twice", n, u.seen)
	}
}
