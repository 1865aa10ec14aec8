package handlers_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/linesim"
)

func chromium() string {
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	return ""
}

// newBrowser starts headless chromium (skipping the test when there is none) with a window of w×h
// and returns a tab whose context ends after timeout, and the function that closes the browser. Defer
// it after the test's servers' Close: a server waits for the browser's open event streams.
func newBrowser(t *testing.T, w, h int, timeout time.Duration) (context.Context, func()) {
	t.Helper()
	chrome := chromium()
	if chrome == "" {
		t.Skip("no chromium binary (/usr/bin/chromium): the browser tests need Debian's chromium package")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
		chromedp.Flag("headless", true), chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(w, h))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelR := chromedp.NewContext(actx)
	ctx, cancel := context.WithTimeout(root, timeout)
	return ctx, func() { cancel(); cancelR(); cancelA() }
}

// browserPage is one chromium tab of a test; each method fails the test on an error.
type browserPage struct {
	t   *testing.T
	ctx context.Context
}

// openPage starts chromium (see newBrowser) and returns its tab and the function that closes it.
func openPage(t *testing.T, w, h int, timeout time.Duration) (*browserPage, func()) {
	t.Helper()
	ctx, closeBrowser := newBrowser(t, w, h, timeout)
	return &browserPage{t: t, ctx: ctx}, closeBrowser
}

// run carries out actions; what names them in a failure.
func (p *browserPage) run(what string, acts ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, acts...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression whose value is a string.
func (p *browserPage) eval(expr string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		p.t.Fatalf("%s: %v", expr, err)
	}
	return s
}

// shot saves a screenshot of the whole page to path.
func (p *browserPage) shot(path string) {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// consoleLogin is the browser actions that log a staff member (password testPassword) in to the
// console at base and wait for its navigation.
func consoleLogin(base, email string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/console/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Click(chromedp.CSS(`button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`header nav`))}
}

// TestConsoleInBrowser: a customer asks for a person in the simulator's chat page; staff log in,
// see it arrive live, claim, read the conversation (hostile text rendered inert), reply; the customer
// sees the reply; staff hand back; the bot answers again. Screenshots go to /tmp/console-*.png.
func TestConsoleInBrowser(t *testing.T) {
	h := newConsoleHarness(t, bot.BusinessHours{})
	h.addStaff("misaki@enemane.example", "佐藤 美咲", account.RoleAgent)
	chat := linesim.NewChat(h.api, h.sender, linesim.ChatOptions{Prefix: "/sim"})
	simSrv := httptest.NewServer(chat)
	defer simSrv.Close()

	ctx, closeBrowser := newBrowser(t, 1366, 900, 90*time.Second)
	defer closeBrowser()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	staff, cancelS := chromedp.NewContext(ctx) // a second tab
	defer cancelS()
	sim := ctx

	run := func(c context.Context, what string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(c, acts...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// submit clicks a form button and waits for the page it leads to: old flash messages are removed
	// first, so the wait cannot be satisfied by the page being left.
	submit := func(c context.Context, what string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(c, chromedp.Evaluate[bool](`(document.querySelectorAll('.flash').forEach(e => e.remove()), true)`)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		run(c, what, append(acts, chromedp.WaitVisible(chromedp.CSS(`.flash`)))...)
	}
	poll := func(c context.Context, what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(c, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	eval := func(c context.Context, expr string) string {
		t.Helper()
		s, err := chromedp.Run(c, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return s
	}
	shot := func(c context.Context, name string) {
		t.Helper()
		png, err := chromedp.Run(c, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("/tmp/console-"+name+".png", png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	say := func(text string) {
		t.Helper()
		js, _ := json.Marshal(text)
		eval(sim, `(() => { const i = document.querySelector(".phone .text"); i.value = `+string(js)+`; return ""; })()`)
		run(sim, "send", chromedp.Click(chromedp.CSS(".phone .send")))
	}
	botSaid := func(what, sub string) {
		t.Helper()
		js, _ := json.Marshal(sub)
		poll(sim, what, `[...document.querySelectorAll(".row.bot .bubble")].some(b => b.textContent.includes(`+string(js)+`))`)
	}

	// Staff log in; the queue is empty.
	run(staff, "login page", chromedp.Navigate(h.bot.URL+"/console/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	shot(staff, "login")
	run(staff, "log in",
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "misaki@enemane.example"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Click(chromedp.CSS(`button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#queue`)))
	poll(staff, "live connection", `document.body.classList.contains("connected")`)

	// The customer asks for a person in the simulator.
	run(sim, "chat page", chromedp.Navigate(simSrv.URL+"/sim/"))
	poll(sim, "customer pane", `!!document.querySelector(".phone .text") && document.querySelectorAll(".row.bot .bubble").length > 0`)
	say("担当者と話したい")
	botSaid("queued notice", "担当者におつなぎします")
	user := chat.Customers()[0].UserID

	// It appears in the queue without a reload.
	poll(staff, "escalation in the queue", `document.querySelectorAll("#queue tbody tr").length === 1`)
	// The row was built by the page's script: its words come from the server, in Japanese.
	if got := eval(staff, `document.querySelector("#queue tbody tr").textContent + "|" + document.querySelector(".live-dot").textContent`); !strings.Contains(got, "対応待ち") ||
		!strings.Contains(got, "担当者を希望") || !strings.Contains(got, "開く") || !strings.HasSuffix(got, "|自動更新中") {
		t.Fatalf("the live queue row is not in Japanese: %q", got)
	}
	shot(staff, "queue")
	run(staff, "open chat", chromedp.Click(chromedp.CSS(`#queue tbody a.button`)), chromedp.WaitVisible(chromedp.CSS(`#claim`)))
	if got := eval(staff, `document.getElementById("log").textContent`); !strings.Contains(got, "担当者と話したい") {
		t.Fatalf("the conversation so far is not shown: %q", got)
	}
	run(staff, "claim", chromedp.Click(chromedp.CSS(`#claim`)), chromedp.WaitVisible(chromedp.CSS(`#reply-form`)))
	botSaid("joined notice", "担当の佐藤 美咲です")
	if got := eval(staff, `document.getElementById("log").textContent`); !strings.Contains(got, "佐藤 美咲が対応を始めました。") {
		t.Fatalf("the claim is not told in Japanese: %q", got)
	}

	// Hostile customer text while staff own the chat: shown live, as text.
	long := strings.Repeat("とても長いメッセージ。", 499)
	hostile := []string{`<script>window.pwned=1</script>`, `"><img src=x onerror="window.pwned=2">`, "請求書\u202Efdp.exe", "😀 絵文字 👨‍👩‍👧", long}
	for _, s := range hostile {
		say(s)
	}
	poll(staff, "hostile lines live", `[...document.querySelectorAll("#log .msg.role-customer .text")].some(e => e.textContent.includes("絵文字"))
		&& [...document.querySelectorAll("#log .msg.role-customer .text")].some(e => e.textContent === "<script>window.pwned=1</script>")`)
	if got := eval(staff, `String(document.querySelectorAll("#log img, #log script").length) + "|" + String(window.pwned) + "|" +
		String([...document.querySelectorAll("#log .text")].some(e => e.textContent.includes("[U+202E]")))`); got != "0|undefined|true" {
		t.Fatalf("hostile text was not inert (img/script count | window.pwned | bidi shown): %s", got)
	}
	if n := len(texts(h.api.Deliveries(user))); n != 4 { // greeting, menu, queued, joined
		t.Fatalf("the bot answered while staff own the chat: %q", texts(h.api.Deliveries(user)))
	}
	shot(staff, "chat")

	// Reply; the customer sees it.
	const answer = "佐藤です。お問い合わせの件、確認いたしました。ご不便をおかけして申し訳ございません。"
	run(staff, "type reply", chromedp.SendKeys(chromedp.CSS(`#reply-text`), answer))
	submit(staff, "reply", chromedp.Click(chromedp.CSS(`#reply-form button.primary`)))
	botSaid("staff reply", answer)
	if ds := h.api.Deliveries(user); ds[len(ds)-1].Via != "push" || texts(ds[len(ds)-1:])[0] != answer {
		t.Fatalf("the reply did not go out by push: %+v", ds[len(ds)-1])
	}
	shot(sim, "customer")

	// Hand back; the bot answers again.
	// The outcome, not the flash: the live update may reload the page before the form's redirect
	// arrives, and that page shows the new state without the flash.
	run(staff, "hand back", chromedp.WaitVisible(chromedp.CSS(`#handback`)), chromedp.Click(chromedp.CSS(`#handback`)))
	pollAcrossNavigation(t, staff, "the chat to leave staff", `(() => { const l = document.querySelector('[data-chat]');
		return !!l && l.getAttribute('data-status') !== 'assigned' && !document.getElementById('handback'); })()`)
	botSaid("hand-back notice", "自動応答でご案内します")
	say("個人情報の保存期間はどのくらい？")
	botSaid("bot answer after the hand-back", "第13項")
	shot(staff, "closed")
}

// pollAcrossNavigation evaluates expr until it is true, for up to 15 s, tolerating the page navigating
// (or reloading itself) in between evaluations.
func pollAcrossNavigation(t *testing.T, c context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(c, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: timed out", what)
}
