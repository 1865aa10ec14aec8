package nlu

import (
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"
)

func TestClassifyTable(t *testing.T) {
	m := testModel(t)
	tests := []struct {
		text   string
		intent string
		topic  string // checked when set
	}{
		// Policy items, with the finer topic where the text names one.
		{"個人情報って具体的にはどういうもの？", "faq.1", ""},
		{"What personal details count as personal information?", "faq.1", ""},
		{"なんで家の図面が必要なんですか", "faq.2", ""},
		{"Do you use my data to send me advertising?", "faq.2", "2.marketing"},
		{"警察に情報を渡すことはありますか", "faq.3", "3.police"},
		{"Do you give my information to other companies?", "faq.3", "3.third"},
		{"私の情報はしっかり守られていますか", "faq.4", ""},
		{"開示請求のやり方を教えてください", "faq.5", ""},
		{"免許証のコピーで本人確認できますか", "faq.5", "5.id"},
		{"Can my husband request my data as my agent?", "faq.5", "5.agent"},
		{"委託業者にも私の情報が渡るの？", "faq.6", ""},
		{"リンク先のサイトで入力した情報は？", "faq.7", ""},
		{"どの法律を守っていますか", "faq.8", ""},
		{"ポリシーの変更はどこで知らせていますか", "faq.9", ""},
		{"Can I block cookies on your website?", "faq.10", "10.disable"},
		{"情報漏えいのときは報告しますか", "faq.11", ""},
		{"Where can I contact your privacy desk?", "faq.12", ""},
		{"How long do you keep customer data?", "faq.13", ""},
		// faq.5 (how a request works) against disclosure (make the request).
		{"How do I request disclosure?", "faq.5", ""},
		{"開示請求はどうやってするんですか", "faq.5", ""},
		{"Disclose my data", "disclosure", ""},
		{"私の個人情報を開示して", "disclosure", ""},
		{"私の情報を他の会社に渡さないで", "disclosure", ""},
		{"Don't share my data with anyone", "disclosure", ""},
		{"Delete my personal data please", "disclosure", ""},
		{"How do I get my personal data deleted?", "faq.5", ""},
		// The phrases the FAQ answers tell customers to send (2.marketing, 5.how) must work.
		{"営業の連絡を止めて", "optout", ""},
		{"stop marketing", "optout", ""},
		{"開示請求したい", "disclosure", ""},
		{"I want to make a disclosure request", "disclosure", ""},
		// Opt-out, opt-in and negations.
		{"営業の電話はもうかけないで", "optout", ""},
		{"Stop sending me marketing emails", "optout", ""},
		{"メールは止めないで", "optin", ""},
		{"Don't stop sending me the newsletter", "optin", ""},
		{"opt me back in", "optin", ""},
		{"配信を再開してください", "optin", ""},
		// Complaint, human, menu.
		{"断ったのにまた営業が来た、どういうこと", "complaint", ""},
		{"I want to complain about your staff", "complaint", ""},
		{"担当者につないでください", "human", ""},
		{"Can I talk to a human?", "human", ""},
		{"こんにちは", "menu", ""},
		{"Hello", "menu", ""},
		// Off-topic must never get a policy answer.
		{"what's the weather?", "none", ""},
		{"how much is a solar panel?", "none", ""},
		{"蓄電池の値段は？", "none", ""},
		{"今日は何曜日？", "none", ""},
		{"", "none", ""},
		{"🙂🙂", "none", ""},
		{"asdf qwer", "none", ""},
		{"クッキーのレシピを教えて", "none", ""},
		{"I love chocolate chip cookies", "none", ""},
		{"my roof is leaking", "none", ""},
		{"電話番号を変えたい", "disclosure", ""},
		{"I don't want to unsubscribe", "optin", ""},
		{"停止", "optout", ""},
		// A long message about the drawings is a purpose question, not a marketing one.
		{"先日御社の営業の方が来られて家の図面を渡しました。あの図面は何に使われるのでしょうか。", "faq.2", "2.purpose"},
	}
	for _, tt := range tests {
		got := m.Classify(tt.text)
		if got.Intent != tt.intent {
			t.Errorf("Classify(%q) = %s (%.2f), want %s", tt.text, got.Intent, got.Confidence, tt.intent)
			continue
		}
		if tt.topic != "" && got.Topic != tt.topic {
			t.Errorf("Classify(%q) topic = %q, want %q", tt.text, got.Topic, tt.topic)
		}
	}
}

func TestLang(t *testing.T) {
	m := testModel(t)
	for text, want := range map[string]string{"クッキーについて": "ja", "cookies?": "en", "ＣＯＯＫＩＥ": "en", "😊": "ja", "DMやめて": "ja"} {
		if got := m.Classify(text).Lang; got != want {
			t.Errorf("Lang(%q) = %s, want %s", text, got, want)
		}
	}
}

func TestTopicOnlyForFAQ(t *testing.T) {
	m := testModel(t)
	for _, text := range []string{"DMを止めて", "Delete my data", "hello"} {
		if r := m.Classify(text); r.Topic != "" {
			t.Errorf("Classify(%q) = %+v: topic on a non-faq intent", text, r)
		}
	}
}

func TestClassifyConcurrent(t *testing.T) {
	m := testModel(t)
	want := m.Classify("クッキーを無効にできますか")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if got := m.Classify("クッキーを無効にできますか"); !reflect.DeepEqual(got, want) { // Result holds a slice (Also)
					t.Errorf("concurrent Classify = %+v, want %+v", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestLoadTime logs how long Load takes (with the dictionary already in memory when another test ran
// first, so run it alone for the cold figure: go test -run TestLoadTime -v). No timed assertion.
func TestLoadTime(t *testing.T) {
	start := time.Now()
	if _, err := Load(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Load took %v", time.Since(start))
}

var benchTexts = []string{
	"個人情報の保存期間はどれくらいですか", "開示請求に必要な書類は？", "メールは止めないで",
	"How do I request disclosure?", "what's the weather?", "Please stop sending me direct mail",
	"他のサイトへのリンクの責任は", "I want to speak to someone",
}

func BenchmarkClassify(b *testing.B) {
	m := testModel(b)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		m.Classify(benchTexts[i%len(benchTexts)])
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkLoad(b *testing.B) {
	testModel(b) // the dictionary is loaded once per process; this measures building the model
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}
