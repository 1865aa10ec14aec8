package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/enemane/privacybot/linesim"
)

// TestSimulatorChatInBrowser opens the simulator's chat page, served next to the real bot as in local
// mode, in headless chromium: the customer types a question and sees the cited answer, taps a
// related-topic quick reply and sees the next answer, blocks and unblocks the account and is greeted,
// switches the profile language, and a second, English customer is greeted and answered in English.
// The final page is saved to /tmp/sim-e2e.png.
func TestSimulatorChatInBrowser(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	chat := linesim.NewChat(h.api, h.sender, linesim.ChatOptions{Prefix: "/sim"})
	// One server, as `go run ./cmd/privacybot` in local mode: the page at /sim, the bot everywhere else.
	mux := http.NewServeMux()
	mux.Handle("/sim", chat)
	mux.Handle("/sim/", chat)
	mux.Handle("/", h.bot.Config.Handler)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, closeBrowser := newBrowser(t, 1100, 860, 120*time.Second)
	defer closeBrowser()

	run := func(what string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, acts...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	poll := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v\npage log: %s", what, err, evalString(t, ctx, `document.getElementById("panes").innerText`))
		}
	}
	js := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	pane := func(user string) string { return `.phone[data-user-id="` + user + `"]` }
	// botSaid waits for a bot bubble in the customer's pane that contains sub.
	botSaid := func(user, what, sub string) {
		t.Helper()
		poll(what, `[...document.querySelectorAll(`+js(pane(user)+" .row.bot .bubble")+`)].some(b => b.textContent.includes(`+js(sub)+`))`)
	}
	userSaid := func(user, what, text string) {
		t.Helper()
		poll(what, `[...document.querySelectorAll(`+js(pane(user)+" .row.user .bubble")+`)].some(b => b.textContent === `+js(text)+`)`)
	}
	// typeAndSend types text into the customer's input, key by key, and presses the send button.
	typeAndSend := func(user, text string) {
		t.Helper()
		run("type "+text,
			chromedp.Click(chromedp.CSS(pane(user)+" .text")),
			chromedp.SendKeys(chromedp.CSS(pane(user)+" .text"), text),
			chromedp.Click(chromedp.CSS(pane(user)+" .send")))
		userSaid(user, "the customer's bubble "+text, text)
	}
	customers := func(n int) []linesim.Customer {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			cs := chat.Customers()
			if len(cs) >= n {
				return cs
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d simulated customers, want %d", len(cs), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// The page adds the first customer by itself; the follow event gets the bot's greeting.
	run("chat page", chromedp.Navigate(srv.URL+"/sim/"))
	u1 := customers(1)[0].UserID
	poll("first pane", `!!document.querySelector(`+js(pane(u1)+" .text")+`)`)
	botSaid(u1, "greeting on follow", "友だち追加ありがとうございます")

	// A typed question gets the cited answer, with related topics as chips.
	typeAndSend(u1, "個人情報の保存期間はどのくらい？")
	botSaid(u1, "cited answer", "プライバシーポリシー第13項")
	ds := h.waitDeliveries(u1, 2)
	answer := decodeAnswer(t, ds[len(ds)-1])
	related := answer.faqChips()
	if len(related) == 0 {
		t.Fatalf("the answer has no related topics: %+v", answer.Chips)
	}
	idx := -1
	for i, c := range answer.Chips {
		if c.Data == related[0].Data {
			idx = i
		}
	}
	chip := fmt.Sprintf("%s .chips .chip:nth-child(%d)", pane(u1), idx+1)
	poll("related-topic chips", `(() => { const c = document.querySelector(`+js(chip)+`); return !!c && c.textContent === `+js(related[0].Label)+`; })()`)

	// Tap the chip: the customer's bubble shows its label, the bot answers the related topic.
	item := topicItem(t, related[0].Data)
	run("tap "+related[0].Label, chromedp.Click(chromedp.CSS(chip)))
	userSaid(u1, "tapped chip shown as the customer's words", related[0].Label)
	poll("the related topic's cited answer", `(() => {
		const cited = [...document.querySelectorAll(`+js(pane(u1)+" .row.bot .bubble")+`)].filter(b => /プライバシーポリシー第\d+項/.test(b.textContent));
		return cited.length === 2 && cited[1].textContent.includes(`+js(fmt.Sprintf("プライバシーポリシー第%d項", item))+`); })()`)
	poll("chips replaced by the new answer's", `document.querySelectorAll(`+js(pane(u1)+" .chips .chip")+`).length > 0`)

	// The follow toggle: block (input disabled), then follow again: the bot welcomes the customer back.
	run("block", chromedp.Click(chromedp.CSS(pane(u1)+" .block")))
	poll("blocked", `document.querySelector(`+js(pane(u1)+" .text")+`).disabled`)
	run("follow again", chromedp.Click(chromedp.CSS(pane(u1)+" .block")))
	poll("unblocked", `!document.querySelector(`+js(pane(u1)+" .text")+`).disabled`)
	botSaid(u1, "greeting on follow again", "おかえりなさい")

	// The simulated profile language: switched on the first customer's pane ...
	run("profile language", chromedp.SetValue(chromedp.CSS(pane(u1)+" .lang"), "en"))
	evalString(t, ctx, `(() => { document.querySelector(`+js(pane(u1)+" .lang")+`).dispatchEvent(new Event("change")); return ""; })()`)
	deadline := time.Now().Add(20 * time.Second)
	for p, _ := h.api.Profile(u1); p.Language != "en"; p, _ = h.api.Profile(u1) {
		if time.Now().After(deadline) {
			t.Fatalf("the language switch did not reach the profile: %+v", p)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// ... and chosen for a new customer, whose first event (the follow) the bot answers in English.
	run("new customer's language", chromedp.SetValue(chromedp.CSS("#add-lang"), "en"))
	run("add a customer", chromedp.Click(chromedp.CSS("#add")))
	c2 := customers(2)[1]
	if c2.Language != "en" {
		t.Fatalf("the second customer's profile language is %q, want en", c2.Language)
	}
	u2 := c2.UserID
	poll("second pane", `document.querySelectorAll(".phone").length === 2 && !!document.querySelector(`+js(pane(u2)+" .text")+`)`)
	botSaid(u2, "English greeting", "Thanks for adding us")
	typeAndSend(u2, "How long do you keep my data?")
	botSaid(u2, "English cited answer", "Privacy Policy, item 13")

	// Every webhook the page sent was acknowledged; the first customer saw nothing meant for the second.
	if bad := evalString(t, ctx, `String(document.querySelectorAll(".meta.bad").length)`); bad != "0" {
		t.Errorf("%s webhook errors shown on the page", bad)
	}
	if got := evalString(t, ctx, `document.querySelector(`+js(pane(u1)+" .log")+`).textContent`); strings.Contains(got, "Thanks for adding us") {
		t.Errorf("the second customer's greeting appeared in the first customer's pane")
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("/tmp/sim-e2e.png", png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// evalString evaluates a JavaScript expression that yields a string.
func evalString(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return s
}
