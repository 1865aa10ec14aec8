package flows_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

// The retention answer (topic 13.retention) is tested through the real renderer, in package flows_test
// so that it may use package bot.

// defaultRetention is the policy of the defaults (RETENTION unset, PACKAGE_LINK_DAYS 14).
func defaultRetention() []flows.Period {
	return []flows.Period{
		{Kind: flows.DataTranscript, N: 1, Unit: flows.Years},
		{Kind: flows.DataConversations, N: 180, Unit: flows.Days},
		{Kind: flows.DataSteps, N: 30, Unit: flows.Days},
		{Kind: flows.DataEscalations, N: 3, Unit: flows.Years},
		{Kind: flows.DataRequests, N: 5, Unit: flows.Years},
		{Kind: flows.DataDocuments, N: 30, Unit: flows.Days},
		{Kind: flows.DataPackages, N: 14, Unit: flows.Days},
		{Kind: flows.DataConsent, N: 3, Unit: flows.Years},
		{Kind: flows.DataOutbox, N: 90, Unit: flows.Days},
		{Kind: flows.DataAudit, N: 3, Unit: flows.Years},
	}
}

// otherRetention has other numbers, singulars and units swapped, so that nothing of the defaults can
// be written into the catalogs.
func otherRetention() []flows.Period {
	return []flows.Period{
		{Kind: flows.DataTranscript, N: 2, Unit: flows.Years},
		{Kind: flows.DataConversations, N: 1, Unit: flows.Days},
		{Kind: flows.DataSteps, N: 7, Unit: flows.Days},
		{Kind: flows.DataEscalations, N: 400, Unit: flows.Days},
		{Kind: flows.DataRequests, N: 1, Unit: flows.Years},
		{Kind: flows.DataDocuments, N: 2, Unit: flows.Years},
		{Kind: flows.DataPackages, N: 1, Unit: flows.Days},
		{Kind: flows.DataConsent, N: 10, Unit: flows.Years},
		{Kind: flows.DataOutbox, N: 45, Unit: flows.Days},
		{Kind: flows.DataAudit, N: 31, Unit: flows.Days},
	}
}

func renderer(t *testing.T) *bot.Renderer {
	t.Helper()
	r, err := bot.NewRenderer(map[string]string{"PolicyURL": "https://example.invalid/policy"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// periodText is how a period is written in each language.
func periodText(lang flows.Lang, p flows.Period) string {
	if lang == flows.Ja {
		if p.Unit == flows.Years {
			return fmt.Sprintf("%d年", p.N)
		}
		return fmt.Sprintf("%d日", p.N)
	}
	unit := "day"
	if p.Unit == flows.Years {
		unit = "year"
	}
	if p.N != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", p.N, unit)
}

// retentionCite is the citation of item 13 the answer ends with.
var retentionCite = map[flows.Lang]string{
	flows.Ja: "\n（プライバシーポリシー第13項「保存期間」）",
	flows.En: "\n(Privacy Policy, item 13: Retention period)",
}

// The clock of each kind, as the answer words it (the rules of docs: when each period starts).
var retentionStarts = map[flows.Lang]map[flows.DataKind]string{
	flows.Ja: {
		flows.DataTranscript:    "それぞれのメッセージから",
		flows.DataConversations: "最後のやりとりから",
		flows.DataSteps:         "それぞれのメッセージから",
		flows.DataEscalations:   "対応を終えてから",
		flows.DataRequests:      "ご請求のお手続きを終えてから",
		flows.DataDocuments:     "本人確認の判断から",
		flows.DataPackages:      "ダウンロード用リンクの期限が切れた時点で削除",
		flows.DataConsent:       "有効な間は保存し、取り消し・変更されてから",
		flows.DataOutbox:        "送信から",
		flows.DataAudit:         "操作から",
	},
	flows.En: {
		flows.DataTranscript:    "after each message",
		flows.DataConversations: "after the last exchange",
		flows.DataSteps:         "after the message",
		flows.DataEscalations:   "after the enquiry or complaint is closed",
		flows.DataRequests:      "after the request is closed",
		flows.DataDocuments:     "after we decide on your identity",
		flows.DataPackages:      "deleted when the download link expires",
		flows.DataConsent:       "kept while in force",
		flows.DataOutbox:        "after sending",
		flows.DataAudit:         "after the action",
	},
}

// retentionAnswer asks the question as typed and returns the rendered answer and the reply.
func retentionAnswer(t *testing.T, r *bot.Renderer, lang flows.Lang, in flows.Input) (string, flows.Reply) {
	t.Helper()
	in.Lang = lang
	res := flows.Step(flows.State{Lang: lang}, in)
	if len(res.Replies) != 1 || res.Replies[0].ID != "faq.t13_retention.answer" {
		t.Fatalf("%s: replies %+v, want the answer of 13.retention", lang, res.Replies)
	}
	msgs, err := r.Render(lang, res.Replies)
	if err != nil {
		t.Fatalf("%s: render: %v", lang, err)
	}
	return msgs[0].Text, res.Replies[0]
}

func typed(text string, periods []flows.Period) flows.Input {
	return flows.Input{Kind: flows.InputText, Text: text, Retention: periods,
		Intent: flows.Intent{Name: "faq.13", Confidence: 0.99, Topic: "13.retention"}}
}

func TestRetentionAnswerTellsThePeriodsInForce(t *testing.T) {
	r := renderer(t)
	for _, tc := range []struct {
		name    string
		periods []flows.Period
	}{
		{"defaults", defaultRetention()},
		{"other periods", otherRetention()},
	} {
		for _, lang := range []flows.Lang{flows.Ja, flows.En} {
			t.Run(tc.name+"/"+string(lang), func(t *testing.T) {
				answer, _ := retentionAnswer(t, r, lang, typed("保存期間は？", tc.periods))
				if !strings.HasSuffix(answer, retentionCite[lang]) {
					t.Errorf("the answer does not end with the citation of item 13:\n%s", answer)
				}
				lines := strings.Split(answer, "\n")
				bullet, sep := "・", "："
				if lang == flows.En {
					bullet, sep = "- ", ": "
				}
				var listed []string
				for _, l := range lines {
					if strings.HasPrefix(l, bullet) {
						listed = append(listed, l)
					}
				}
				if len(listed) != len(flows.DataKinds()) {
					t.Errorf("%d periods listed, want %d:\n%s", len(listed), len(flows.DataKinds()), answer)
				}
				for i, p := range tc.periods {
					// The kind is named with the words of the retention catalog (as the console names it).
					kind, err := r.Text(lang, "retention.kind."+string(p.Kind), nil)
					if err != nil {
						t.Fatal(err)
					}
					if i >= len(listed) || !strings.HasPrefix(listed[i], bullet+kind+sep) {
						t.Errorf("line %d should name %q (%s):\n%s", i+1, kind, p.Kind, answer)
						continue
					}
					line := listed[i]
					want := periodText(lang, p)
					if !containsWord(line, want) {
						t.Errorf("%s: line %q lacks the period %q", p.Kind, line, want)
					}
					if start := retentionStarts[lang][p.Kind]; !strings.Contains(line, start) {
						t.Errorf("%s: line %q does not say when the period starts (%q)", p.Kind, line, start)
					}
				}
				for _, want := range map[flows.Lang][]string{
					flows.Ja: {"期間を過ぎた情報は遅滞なく消去", "配信停止のお申し出は、有効な間は上記の期間にかかわらず保存します",
						"法令などで保存が義務づけられている情報は、その定めに従って保存します", "開示等の請求（第5項）としてお申し出いただけます"},
					flows.En: {"erase it without delay", "An opt-out stays on record for as long as it is in force",
						"unless a law requires us to keep it longer", "as a personal-data request (item 5)"},
				}[lang] {
					if !strings.Contains(answer, want) {
						t.Errorf("the answer lacks %q:\n%s", want, answer)
					}
				}
				if lang == flows.En && strings.ContainsFunc(answer, func(c rune) bool { return c >= 0x3000 }) {
					t.Errorf("the English answer has Japanese in it:\n%s", answer)
				}
			})
		}
	}
}

// containsWord reports whether s holds want not glued to a digit before it or an "s" after it ("1
// year" is not found in "11 years").
func containsWord(s, want string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], want)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(want)
		before := j == 0 || s[j-1] < '0' || s[j-1] > '9'
		after := end == len(s) || s[end] != 's'
		if before && after {
			return true
		}
		i = j + 1
	}
}

func TestRetentionAnswerWithoutPeriodsRefersToTheWindow(t *testing.T) {
	r := renderer(t)
	want := map[flows.Lang]string{
		flows.Ja: "当社は個人情報ごとに保存期間を定め、期間を過ぎた情報は遅滞なく消去します。ただし、法令などで保存が義務づけられている情報は、その定めに従って保存します。\nご契約や工事の記録など、個々の情報の保存期間は、第12項の窓口（TEL 086-239-7675）へお問い合わせください。保存している情報の削除・消去をご希望の場合は、開示等の請求（第5項）としてお申し出いただけます。",
		flows.En: "We set a retention period for each kind of personal information and erase it without delay once that period is over, unless a law requires us to keep it longer.\nFor the period of a particular piece of information, such as your contract or installation records, please ask our privacy desk (item 12, tel 086-239-7675). If you would like information we hold deleted, you can ask for that as a personal-data request (item 5).",
	}
	for _, tc := range []struct {
		name    string
		periods []flows.Period
	}{
		{"nil", nil},
		{"empty", []flows.Period{}},
		{"only unknown kinds", []flows.Period{{Kind: "newsletters", N: 3, Unit: flows.Years}}},
		{"no length", []flows.Period{{Kind: flows.DataTranscript, N: 0, Unit: flows.Years}}},
	} {
		for _, lang := range []flows.Lang{flows.Ja, flows.En} {
			answer, reply := retentionAnswer(t, r, lang, typed("保存期間は？", tc.periods))
			if answer != want[lang]+retentionCite[lang] {
				t.Errorf("%s/%s: answer\n%s\nwant today's answer\n%s", tc.name, lang, answer, want[lang]+retentionCite[lang])
			}
			if reply.Data != nil {
				t.Errorf("%s/%s: data %v, want none", tc.name, lang, reply.Data)
			}
		}
	}
}

// TestRetentionAnswerIsTheSameOnEveryPath: the typed question (with or without the classifier's topic),
// the item's chip in the list of policy items and the related-topic chip of 2.collect give one answer.
func TestRetentionAnswerIsTheSameOnEveryPath(t *testing.T) {
	r := renderer(t)
	periods := otherRetention()
	chip := flows.FAQPostback("13.retention")
	var fromMenu, fromRelated bool
	for _, c := range flows.FAQMenuReplies()[0].Choices {
		fromMenu = fromMenu || c.Postback == chip
	}
	collect, ok := flows.FAQTopicReplies("2.collect", flows.Input{})
	if !ok {
		t.Fatal("no answer for 2.collect")
	}
	for _, c := range collect[0].Choices {
		fromRelated = fromRelated || c.Postback == chip
	}
	if !fromMenu || !fromRelated {
		t.Fatalf("the chip %q is not offered (menu %v, related to 2.collect %v)", chip, fromMenu, fromRelated)
	}
	for _, lang := range []flows.Lang{flows.Ja, flows.En} {
		want, wantReply := retentionAnswer(t, r, lang, typed("保存期間は？", periods))
		for name, in := range map[string]flows.Input{
			"item only": {Kind: flows.InputText, Text: "how long do you keep my data?", Retention: periods,
				Intent: flows.Intent{Name: "faq.13", Confidence: 0.9}},
			"tapped": {Kind: flows.InputPostback, Postback: chip, Retention: periods},
		} {
			got, reply := retentionAnswer(t, r, lang, in)
			if got != want {
				t.Errorf("%s/%s: answer\n%s\nwant the typed question's\n%s", name, lang, got, want)
			}
			if !maps.Equal(reply.Data, wantReply.Data) || !slices.Equal(reply.Choices, wantReply.Choices) {
				t.Errorf("%s/%s: reply %+v, want %+v", name, lang, reply, wantReply)
			}
		}
		// The exported entry points agree with Step.
		if rs, ok := flows.FAQTopicReplies("13.retention", flows.Input{Retention: periods}); !ok || !maps.Equal(rs[0].Data, wantReply.Data) {
			t.Errorf("FAQTopicReplies: %+v, %v", rs, ok)
		}
		if rs, ok := flows.FAQReplies(typed("保存期間は？", periods)); !ok || !maps.Equal(rs[0].Data, wantReply.Data) {
			t.Errorf("FAQReplies: %+v, %v", rs, ok)
		}
	}
	// Without periods, the tapped topic keeps today's answer too.
	if rs, ok := flows.FAQTopicReplies("13.retention", flows.Input{}); !ok || rs[0].Data != nil {
		t.Errorf("FAQTopicReplies without periods: %+v, %v", rs, ok)
	}
}

// TestRetentionAnswerFitsLINE: the longest answer stays within one LINE message (5,000 characters) and
// within what a phone shows comfortably.
func TestRetentionAnswerFitsLINE(t *testing.T) {
	r := renderer(t)
	long := otherRetention()
	for i := range long {
		long[i].N = 9999
	}
	for _, lang := range []flows.Lang{flows.Ja, flows.En} {
		answer, _ := retentionAnswer(t, r, lang, typed("保存期間は？", long))
		if n := len([]rune(answer)); n > 2000 {
			t.Errorf("%s: the answer is %d characters", lang, n)
		}
	}
}
