package handlers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
)

// TestReviewInboxInBrowser: an agent opens the review inbox from the navigation in chromium, in
// Japanese, teaches a group through its form and finds the phrase on the taught tab. Screenshots go
// to /tmp/review-ja.png (the inbox) and /tmp/review-taught-ja.png (after teaching).
func TestReviewInboxInBrowser(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	h.addStaff("agent@x.example", "佐藤", account.RoleAgent)
	seedReview(t, h, "開示請求の手数料はいくらですか", "開示請求の手数料っていくら？", "スマートメーターの情報はどこまで見られてるの",
		"山田花子です。090-1234-5678に電話ください")
	page, closeBrowser := openPage(t, 1366, 900, 60*time.Second)
	defer closeBrowser()
	run, eval, shot := page.run, page.eval, page.shot
	run("log in", consoleLogin(h.bot.URL, "agent@x.example")...)
	run("open the inbox", chromedp.Click(chromedp.CSS(`nav a[href="/console/review"]`)), chromedp.WaitVisible(chromedp.CSS(`.review .group`)))
	if got := eval(`[...document.querySelectorAll('.review .group')].map(g => g.dataset.count).join(',')`); got != "2,1,1" {
		t.Errorf("groups: %s", got)
	}
	if got := eval(`[...document.querySelectorAll('.review .group textarea')].map(t => t.value).join('|')`); !strings.Contains(got, "＊＊＊です。＊＊＊に電話ください") || strings.Contains(got, "090") {
		t.Errorf("proposal of the question with personal data: %q", got)
	}
	shot("/tmp/review-ja.png")
	// Teach the first group as item 5's fee topic (or its item when the topic is not offered).
	eval(`(() => { const s = document.querySelector('.review .group select');
		const o = [...s.options].find(o => o.value === 'faq.5|5.fee') || [...s.options].find(o => o.value === 'faq.5|');
		s.value = o.value; return o.value; })()`)
	run("teach", chromedp.Click(chromedp.CSS(`.review .group form.teach button`)), chromedp.WaitVisible(chromedp.CSS(`.review .flash`)))
	if got := eval(`document.querySelector('.review .flash').textContent`); !strings.Contains(got, "ボットに教えました") {
		t.Errorf("flash after teaching: %q", got)
	}
	if got := eval(`String(document.querySelectorAll('.review .group').length)`); got != "2" {
		t.Errorf("groups left: %s", got)
	}
	run("taught tab", chromedp.Click(chromedp.CSS(`.review .tabs a[href="/console/review?tab=taught"]`)), chromedp.WaitVisible(chromedp.CSS(`.review table.taught`)))
	if got := eval(`document.querySelector('.review table.taught tbody').textContent`); !strings.Contains(got, "開示請求の手数料っていくら？") || !strings.Contains(got, "学習に使用中") {
		t.Errorf("taught tab: %q", got)
	}
	shot("/tmp/review-taught-ja.png")
}
