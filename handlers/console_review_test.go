package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/insight"
)

// seedReview puts questions in the review inbox as the recorder does, and returns their keys.
func seedReview(t *testing.T, h *consoleHarness, texts ...string) []string {
	t.Helper()
	var keys []string
	for i, text := range texts {
		at := time.Now().Add(time.Duration(i-len(texts)) * time.Minute)
		q := insight.Question{Key: insight.QuestionKey(at, "ev"+text), EventID: "ev" + text, UserID: "Ucustomer", At: at,
			Lang: "ja", Text: text, Intent: "none", Guess: "faq.5", GuessConf: 0.31, Answer: "miss.first",
			Review: insight.StatusOpen, Reasons: []string{insight.ReasonUnanswered}}
		if err := h.st.RecordQuestion(context.Background(), q); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, q.Key)
	}
	return keys
}

// TestReviewInboxConsole: who may see the inbox (the roles that read transcripts and answer
// customers), what it shows (alike questions grouped, the bot's guess, the phrase proposed with
// personal data masked), teaching refused with personal data and accepted without, ignoring,
// taking a phrase back, and every decision audited.
func TestReviewInboxConsole(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	for email, role := range map[string]string{"admin@x.example": account.RoleAdmin, "agent@x.example": account.RoleAgent,
		"privacy@x.example": account.RolePrivacy, "mkt@x.example": account.RoleMarketing} {
		h.addStaff(email, "", role)
	}
	h.addStaffLang("en@x.example", "", account.RoleAgent, "en")
	keys := seedReview(t, h, "開示請求の手数料はいくらですか", "開示請求の手数料っていくら？", "山田花子です。090-1234-5678に電話ください")

	for email, want := range map[string]int{"privacy@x.example": http.StatusForbidden, "mkt@x.example": http.StatusForbidden,
		"admin@x.example": http.StatusOK, "agent@x.example": http.StatusOK} {
		if code, _ := h.login(email).get("/console/review"); code != want {
			t.Errorf("%s: /console/review %d, want %d", email, code, want)
		}
	}
	agent := h.login("agent@x.example")
	code, body := agent.get("/console/review")
	if code != 200 || !strings.Contains(body, "2件") || !strings.Contains(body, "開示請求の手数料っていくら？") ||
		!strings.Contains(body, "答えられず") || !strings.Contains(body, "第5項") {
		t.Fatalf("inbox page: %d\n%s", code, body)
	}
	// The proposal for the third question is masked; staff still see the message itself.
	if !strings.Contains(body, "＊＊＊です。＊＊＊に電話ください</textarea>") || !strings.Contains(body, "お名前・電話番号") {
		t.Errorf("masked proposal missing:\n%s", body)
	}
	// Teaching a phrase with personal data is refused and comes back masked.
	code, body = agent.act("/console/review/teach", url.Values{"key": {keys[2]}, "target": {"human|"}, "text": {"山田です 090-1234-5678"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "個人情報（お名前・電話番号）") || strings.Contains(body, "090-1234-5678</textarea>") {
		t.Fatalf("teach with personal data: %d\n%s", code, body)
	}
	// A topic of another item is refused.
	if code, _ = agent.act("/console/review/teach", url.Values{"key": {keys[0]}, "target": {"faq.3|5.id"}, "text": {"x"}}); code != http.StatusUnprocessableEntity {
		t.Fatalf("a topic of another item: %d", code)
	}
	// Teach the group of two.
	code, loc := agent.act("/console/review/teach", url.Values{"key": {keys[0], keys[1]}, "target": {"faq.5|5.how"}, "text": {"開示請求の手数料はいくらですか"}})
	if code != http.StatusSeeOther || loc != "/console/review?m=taught&tab=open" {
		t.Fatalf("teach: %d %s", code, loc)
	}
	if it, _, _ := h.st.ReviewItem(context.Background(), keys[1]); it.Status != insight.StatusTaught || it.By != "agent@x.example" {
		t.Fatalf("item after teaching: %+v", it)
	}
	if code, loc = agent.act("/console/review/teach", url.Values{"key": {keys[0]}, "target": {"faq.5|"}, "text": {"x"}}); loc != "/console/review?e=decided&tab=open" {
		t.Fatalf("teaching a decided item: %d %s", code, loc)
	}
	code, body = agent.get("/console/review?tab=taught")
	if code != 200 || !strings.Contains(body, "開示請求の手数料はいくらですか") || !strings.Contains(body, "学習に使用中") || !strings.Contains(body, "質問2件から") {
		t.Fatalf("taught tab: %d\n%s", code, body)
	}
	taught, _ := h.st.TaughtPhrases(context.Background())
	if len(taught) != 1 || taught[0].Intent != "faq.5" || taught[0].Topic != "5.how" || len(taught[0].Items) != 2 {
		t.Fatalf("taught: %+v", taught)
	}
	// Ignore the third; take the phrase back (its two questions come back).
	if code, loc = agent.act("/console/review/ignore", url.Values{"key": {keys[2]}}); loc != "/console/review?m=ignored&tab=open" {
		t.Fatalf("ignore: %d %s", code, loc)
	}
	admin := h.login("admin@x.example")
	if code, loc = admin.act("/console/review/revert", url.Values{"id": {taught[0].ID}}); loc != "/console/review?m=reverted&tab=taught" {
		t.Fatalf("revert: %d %s", code, loc)
	}
	if code, loc = admin.act("/console/review/revert", url.Values{"id": {taught[0].ID}}); loc != "/console/review?e=reverted&tab=taught" {
		t.Fatalf("revert twice: %d %s", code, loc)
	}
	_, body = admin.get("/console/review")
	if !strings.Contains(body, "2件") || strings.Contains(body, "090-1234-5678に電話ください") {
		t.Errorf("after the revert the two are open again, the ignored one is not:\n%s", body)
	}
	if code, loc = admin.act("/console/review/reopen", url.Values{"key": {keys[2]}}); loc != "/console/review?m=reopened&tab=done" {
		t.Fatalf("reopen: %d %s", code, loc)
	}
	// A form without the session's token changes nothing.
	if code, _ = agent.post("/console/review/ignore", url.Values{"key": {keys[0]}}); code != http.StatusForbidden {
		t.Errorf("ignore without CSRF: %d", code)
	}
	actions := h.auditActions(t)
	for _, a := range []string{"review.teach", "review.teach.refused", "review.ignore", "review.revert", "review.reopen"} {
		if !actions[a] {
			t.Errorf("audit log lacks %s: %v", a, actions)
		}
	}
	// In English.
	_, body = h.login("en@x.example").get("/console/review")
	if !strings.Contains(body, "Review questions") || !strings.Contains(body, "Not answered") || !strings.Contains(body, "Item 5:") {
		t.Errorf("English page:\n%s", body)
	}
}
