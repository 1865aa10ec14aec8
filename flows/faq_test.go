package flows

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/enemane/privacybot/flows/nlu"
	"github.com/enemane/privacybot/locales"
)

// faqLocalizers loads the FAQ catalogs with go-i18n, as the bot does, one localizer per language.
func faqLocalizers(t *testing.T) map[Lang]*i18n.Localizer {
	t.Helper()
	b := i18n.NewBundle(language.Japanese)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	out := map[Lang]*i18n.Localizer{}
	for _, lang := range []Lang{Ja, En} {
		name := "faq." + string(lang) + ".toml"
		mf, err := b.LoadMessageFileFS(locales.FS, name)
		if err != nil {
			t.Fatalf("load %s: %v", name, err)
		}
		if got := mf.Tag.String(); got != string(lang) {
			t.Fatalf("%s parsed as language %q", name, got)
		}
		out[lang] = i18n.NewLocalizer(b, string(lang))
	}
	return out
}

// render localizes id in one language, failing the test when the ID is missing in that language
// (go-i18n would otherwise fall back to the default language).
func render(t *testing.T, l *i18n.Localizer, lang Lang, id string) string {
	t.Helper()
	s, tag, err := l.LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id})
	if err != nil {
		t.Errorf("%s: %s: %v", lang, id, err)
		return ""
	}
	if tag.String() != string(lang) {
		t.Errorf("%s: %s is missing (fell back to %s)", lang, id, tag)
	}
	return s
}

func TestFAQCatalogsComplete(t *testing.T) {
	ls := faqLocalizers(t)
	for _, id := range FAQMessageIDs() {
		for lang, l := range ls {
			if s := render(t, l, lang, id); strings.TrimSpace(s) == "" {
				t.Errorf("%s: %s is empty", lang, id)
			}
		}
	}
}

// TestFAQCatalogsHaveNoStrays finds catalog entries the knowledge base does not use (typos in IDs).
func TestFAQCatalogsHaveNoStrays(t *testing.T) {
	used := map[string]bool{}
	for _, id := range FAQMessageIDs() {
		used[id] = true
	}
	for _, name := range []string{"faq.ja.toml", "faq.en.toml"} {
		raw, err := locales.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		mf, err := i18n.ParseMessageFileBytes(raw, name, map[string]i18n.UnmarshalFunc{"toml": toml.Unmarshal})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mf.Messages {
			if !used[m.ID] {
				t.Errorf("%s: %s is not used by the knowledge base", name, m.ID)
			}
		}
		if len(mf.Messages) != len(used) {
			t.Errorf("%s has %d messages, the knowledge base uses %d", name, len(mf.Messages), len(used))
		}
	}
}

var itemTitles = map[Lang]map[int]string{
	Ja: {1: "個人情報の定義", 2: "個人情報の取得、利用及び第三者への提供", 3: "個人情報の提供先の範囲",
		4: "お客様の個人情報の安全管理措置", 5: "お客様の個人情報の開示、利用目的の通知請求等",
		6: "当社の委託先への個人情報の提供", 7: "免責", 8: "関係法令の遵守", 9: "この基本方針の変更及び告知",
		10: "クッキー(Cookie)等の利用", 11: "個人情報が漏洩した場合の措置", 12: "個人情報についての窓口", 13: "保存期間"},
}

func TestFAQAnswersCiteTheirItem(t *testing.T) {
	ls := faqLocalizers(t)
	enCite := regexp.MustCompile(`\n\(Privacy Policy, item (\d+): [^()]+\)$`)
	for _, tp := range faqTopics {
		ja := render(t, ls[Ja], Ja, tp.AnswerID())
		wantJa := fmt.Sprintf("\n（プライバシーポリシー第%d項「%s」）", tp.Item, itemTitles[Ja][tp.Item])
		if !strings.HasSuffix(ja, wantJa) {
			t.Errorf("ja %s: answer must end with %q", tp.ID, wantJa)
		}
		body := strings.TrimSuffix(ja, wantJa)
		if n := utf8.RuneCountInString(body); n > 300 {
			t.Errorf("ja %s: answer is %d characters before the citation, want ≤ 300", tp.ID, n)
		}
		if !strings.Contains(body, "。") {
			t.Errorf("ja %s: answer should be written in full sentences", tp.ID)
		}
		en := render(t, ls[En], En, tp.AnswerID())
		m := enCite.FindStringSubmatch(en)
		if m == nil || m[1] != fmt.Sprint(tp.Item) {
			t.Errorf("en %s: answer must end with \"(Privacy Policy, item %d: <title>)\", got ...%q", tp.ID, tp.Item, en[max(0, len(en)-80):])
		}
		if n := utf8.RuneCountInString(en); n > 600 {
			t.Errorf("en %s: answer is %d characters, want ≤ 600 for a phone screen", tp.ID, n)
		}
	}
}

// TestFAQAnswersAvoidPolicySlips keeps the known slips of the policy text (see FAQ-NOTES.md) out of
// the answers.
func TestFAQAnswersAvoidPolicySlips(t *testing.T) {
	ls := faqLocalizers(t)
	for _, tp := range faqTopics {
		ja := render(t, ls[Ja], Ja, tp.AnswerID())
		en := render(t, ls[En], En, tp.AnswerID())
		for _, bad := range []string{"総務省", "第197項"} {
			if strings.Contains(ja, bad) {
				t.Errorf("ja %s repeats the policy slip %q", tp.ID, bad)
			}
		}
		if strings.Contains(en, "Ministry of Internal Affairs") || strings.Contains(en, "paragraph 197") {
			t.Errorf("en %s repeats a policy slip", tp.ID)
		}
	}
	if ja := render(t, ls[Ja], Ja, "faq.t3_police.answer"); !strings.Contains(ja, "刑事訴訟法第197条") {
		t.Errorf("3.police should cite 刑事訴訟法第197条")
	}
	if ja := render(t, ls[Ja], Ja, "faq.t11_report.answer"); !strings.Contains(ja, "個人情報保護委員会") {
		t.Errorf("11.report should name 個人情報保護委員会")
	}
	contact := render(t, ls[Ja], Ja, "faq.t12_contact.answer")
	for _, want := range []string{"株式会社エネマネ", "〒700-0975", "岡山県岡山市北区今2-6-10 内田ビル4F", "086-239-7675", "info@e-mana.co.jp"} {
		if !strings.Contains(contact, want) {
			t.Errorf("12.contact lacks %q", want)
		}
	}
}

func TestFAQLabelsFitLINE(t *testing.T) {
	ls := faqLocalizers(t)
	labels := map[string]bool{FAQMoreLabelID: true}
	for _, tp := range faqTopics {
		labels[tp.TitleID()] = true
	}
	for id := range labels {
		for lang, l := range ls {
			if n := utf8.RuneCountInString(render(t, l, lang, id)); n > 20 || n == 0 {
				t.Errorf("%s: label %s is %d characters, LINE allows 1–20", lang, id, n)
			}
		}
	}
}

func TestFAQTopicsConsistent(t *testing.T) {
	seen := map[string]bool{}
	defaults := map[int]int{}
	for _, tp := range faqTopics {
		if seen[tp.ID] {
			t.Errorf("duplicate topic %s", tp.ID)
		}
		seen[tp.ID] = true
		if !strings.HasPrefix(tp.ID, fmt.Sprintf("%d.", tp.Item)) {
			t.Errorf("topic %s is filed under item %d", tp.ID, tp.Item)
		}
		if tp.Default {
			defaults[tp.Item]++
		}
		if len(tp.Related)+1 > 13 {
			t.Errorf("topic %s has more quick replies than LINE allows", tp.ID)
		}
	}
	for _, tp := range faqTopics {
		for _, r := range tp.Related {
			if !seen[r] || r == tp.ID {
				t.Errorf("topic %s: related topic %q does not exist or is itself", tp.ID, r)
			}
		}
	}
	for item := 1; item <= faqItems; item++ {
		if defaults[item] != 1 {
			t.Errorf("item %d has %d default topics, want 1", item, defaults[item])
		}
	}
	if n := len(faqTopics); n < 25 || n > 40 {
		t.Errorf("%d topics, want 25–40", n)
	}
	// Every topic the classifier can name is in the knowledge base, under the same item.
	for _, id := range nlu.TopicIDs() {
		if !seen[id] {
			t.Errorf("the classifier can return topic %q, which the knowledge base lacks", id)
		}
	}
}

func TestFAQReplies(t *testing.T) {
	for _, in := range nlu.Intents {
		item, isFAQ := FAQItem(in)
		replies, ok := FAQReplies(Input{Kind: InputText, Intent: Intent{Name: in}})
		if ok != isFAQ {
			t.Errorf("FAQReplies(%s) ok = %v, want %v", in, ok, isFAQ)
			continue
		}
		if !ok {
			continue
		}
		def, _ := FAQDefaultTopic(item)
		if len(replies) != 1 || replies[0].ID != def.AnswerID() {
			t.Errorf("FAQReplies(%s) = %+v, want the answer of %s", in, replies, def.ID)
		}
	}
	tests := []struct {
		intent, topic, want string
	}{
		{"faq.5", "5.id", "faq.t5_id.answer"},
		{"faq.5", "", "faq.t5_how.answer"},
		{"faq.5", "3.police", "faq.t5_how.answer"}, // a topic of another item is ignored
		{"faq.5", "nope", "faq.t5_how.answer"},
		{"faq.11", "11.report", "faq.t11_report.answer"},
	}
	for _, tt := range tests {
		replies, ok := FAQReplies(Input{Kind: InputText, Intent: Intent{Name: tt.intent, Topic: tt.topic}})
		if !ok || replies[0].ID != tt.want {
			t.Errorf("FAQReplies(%s, %s) = %+v, want %s", tt.intent, tt.topic, replies, tt.want)
		}
	}
	for _, bad := range []string{"faq.0", "faq.14", "faq.x", "faq.", "optout", "none", ""} {
		if _, ok := FAQReplies(Input{Intent: Intent{Name: bad}}); ok {
			t.Errorf("FAQReplies(%q) ok, want not a faq intent", bad)
		}
	}
}

func TestFAQTopicReplies(t *testing.T) {
	r, ok := FAQTopicReplies("5.agent", Input{})
	if !ok || r[0].ID != "faq.t5_agent.answer" {
		t.Fatalf("FAQTopicReplies(5.agent) = %+v, %v", r, ok)
	}
	want := []string{"do=faq&topic=5.id", "do=faq&topic=5.how", "do=faq&topic=menu"}
	var got []string
	for _, c := range r[0].Choices {
		got = append(got, c.Postback)
		if c.LabelID == "" || c.Text != "" {
			t.Errorf("choice %+v: want a label and a postback only", c)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("quick replies = %v, want %v", got, want)
	}
	for _, tp := range faqTopics {
		r, ok := FAQTopicReplies(tp.ID, Input{})
		if !ok || len(r) != 1 || r[0].ID != tp.AnswerID() {
			t.Errorf("FAQTopicReplies(%s) = %+v, %v", tp.ID, r, ok)
		}
		for _, c := range r[0].Choices {
			id, ok := ParseFAQPostback(c.Postback)
			if !ok {
				t.Errorf("%s: bad postback %q", tp.ID, c.Postback)
			}
			if _, ok := FAQTopicReplies(id, Input{}); !ok {
				t.Errorf("%s: quick reply %q leads nowhere", tp.ID, c.Postback)
			}
		}
	}
	if _, ok := FAQTopicReplies("99.nope", Input{}); ok {
		t.Error("unknown topic answered")
	}
	if m, ok := FAQTopicReplies(FAQMenuTopic, Input{}); !ok || m[0].ID != FAQMenuPromptID {
		t.Errorf("FAQTopicReplies(menu) = %+v, %v", m, ok)
	}
}

func TestFAQMenuReplies(t *testing.T) {
	r := FAQMenuReplies()
	if len(r) != 1 || r[0].ID != FAQMenuPromptID {
		t.Fatalf("FAQMenuReplies = %+v", r)
	}
	if n := len(r[0].Choices); n != 13 {
		t.Fatalf("%d items in the menu, want 13 (LINE's quick-reply maximum)", n)
	}
	for i, c := range r[0].Choices {
		id, _ := ParseFAQPostback(c.Postback)
		tp, ok := FAQTopicByID(id)
		if !ok || tp.Item != i+1 || !tp.Default {
			t.Errorf("menu entry %d opens %q, want the default topic of item %d", i+1, id, i+1)
		}
	}
}

func TestParseFAQPostback(t *testing.T) {
	for data, want := range map[string]string{"do=faq&topic=5.id": "5.id", "topic=menu&do=faq": "menu", "do=optout": "", "do=faq": "", "%%": ""} {
		got, ok := ParseFAQPostback(data)
		if got != want || ok != (want != "") {
			t.Errorf("ParseFAQPostback(%q) = %q, %v", data, got, ok)
		}
	}
}
