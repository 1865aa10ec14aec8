package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	_ "image/png"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/enemane/privacybot/linesim"
)

// TestRequestInBrowser is issue 12's browser test on the real binary in local mode (no LINE
// credentials: the built-in simulator at /sim plays LINE; the embedded store in a temporary DATA_DIR).
// A customer asks for disclosure in the simulator and sends the sample ID card; a privacy officer,
// logged in beforehand in a browser context of their own, sees the request arrive in the queue without
// a reload, views the document, verifies, starts and completes the request; the customer gets the
// package link in the chat and opens it. Screenshots go to $PRIVACYBOT_SCREENSHOTS when it is set.
func TestRequestInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary and chromium")
	}
	chrome := browserPath()
	if chrome == "" {
		t.Skip("no chromium binary (/usr/bin/chromium): the browser test needs Debian's chromium package")
	}
	started := time.Now()
	const officer, password = "privacy@example.jp", "correct-horse-battery-staple"
	bin := buildBinary(t)
	dataDir := t.TempDir()
	addConsoleUser(t, bin, dataDir, "privacy", officer, password)
	srv := startLocalServer(t, bin, freePort(t), dataDir)
	t.Logf("server ready after %s", time.Since(started).Round(time.Millisecond))

	// The browser: the customer's tab, and the officer's tab in a browser context of its own (its own
	// cookies). Everything is stopped by t.Cleanup, in reverse order, after the failure dump below.
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
		chromedp.Flag("headless", true), chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 1000))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	custBase, cancelC := chromedp.NewContext(actx)
	t.Cleanup(cancelC)
	if err := chromedp.Do(custBase); err != nil { // starts the browser and the first tab
		t.Fatal(err)
	}
	staffBase, cancelS := chromedp.NewContext(custBase, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelS)
	if err := chromedp.Do(staffBase); err != nil {
		t.Fatal(err)
	}
	// The whole story has 90 s (it takes well under a minute); dumps after a failure use the tabs'
	// own contexts, which have no deadline.
	deadline := time.Now().Add(90 * time.Second)
	within := func(base context.Context) context.Context {
		ctx, cancel := context.WithDeadline(base, deadline)
		t.Cleanup(cancel)
		return ctx
	}
	cust := &tab{t: t, name: "customer", base: custBase, ctx: within(custBase)}
	staff := &tab{t: t, name: "privacy officer", base: staffBase, ctx: within(staffBase)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("customer's chat:\n%s", cust.text())
			t.Logf("console page:\n%s", staff.text())
		}
	})

	// The officer logs in and lands on the queue of requests, which is live.
	staff.run("login page", chromedp.Navigate(srv.URL+"/console/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	staff.run("log in",
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), officer),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#requests`)))
	if loc := staff.eval(`location.pathname`); loc != "/console/requests" {
		t.Fatalf("a privacy officer lands on %s, want /console/requests", loc)
	}
	staff.poll("the queue's live connection", `document.body.classList.contains("connected") && document.querySelector(".live-dot").textContent === "自動更新中"`)
	// A mark on this document: it is still there when the request appears only if nothing reloaded it.
	staff.eval(`(window.__sameDocument = "yes", document.querySelectorAll("#requests tbody tr").length + " rows")`)

	// The customer asks for disclosure in the simulator.
	botSays := func(what, sub string) {
		t.Helper()
		cust.poll(what, `[...document.querySelectorAll(".phone .row.bot .bubble")].some(b => b.textContent.includes(`+jsString(sub)+`))`)
	}
	say := func(text string) {
		t.Helper()
		cust.eval(`(() => { const i = document.querySelector(".phone .text"); i.value = ` + jsString(text) + `; return ""; })()`)
		cust.run("send "+text, chromedp.Click(chromedp.CSS(".phone .send")))
		cust.poll("the bubble "+text, `[...document.querySelectorAll(".phone .row.user .bubble")].some(b => b.textContent === `+jsString(text)+`)`)
	}
	chipExpr := func(label string) string {
		return `[...document.querySelectorAll(".phone .chips .chip")].find(b => b.textContent === ` + jsString(label) + `)`
	}
	tap := func(label string) {
		t.Helper()
		cust.poll("the chip "+label, "!!"+chipExpr(label))
		cust.eval(`(` + chipExpr(label) + `.click(), "")`)
	}
	cust.run("the simulator", chromedp.Navigate(srv.URL+"/sim/"))
	// The page adds the first customer by itself; the bot greets them.
	cust.poll("a customer and the bot's greeting", `document.querySelectorAll(".phone").length === 1 && !!document.querySelector(".phone .text") &&
		document.querySelectorAll(".phone .row.bot .bubble").length > 0`)
	say("開示請求したい")
	tap("選択完了")
	tap("ご本人")
	botSays("the question for the name", "お名前を当社にご登録のとおり")
	say("山田 花子")
	botSays("the question for the address", "ご住所を、当社にご登録のとおり")
	say("岡山県岡山市北区今2-6-10")
	botSays("the question for the phone", "お電話番号を、当社にご登録のとおり")
	say("090-1234-5678")
	botSays("the request for a photo", "準備ができましたら")
	cust.run("the sample ID", chromedp.Click(chromedp.CSS(".phone .sample")))
	botSays("the photo's receipt", "1枚目")
	tap("送信完了")
	tap("電子で受け取る")
	botSays("the summary", "以下の内容で申請します")
	tap("この内容で申請")
	refRe := regexp.MustCompile(`受付番号[：:\s]*(R-\d{8}-\d{4})`)
	cust.poll("the reference number", `[...document.querySelectorAll(".phone .row.bot .bubble")].some(b => /受付番号[：:\s]*R-\d{8}-\d{4}/.test(b.textContent))`)
	m := refRe.FindStringSubmatch(cust.eval(`[...document.querySelectorAll(".phone .row.bot .bubble")].map(b => b.textContent).join("\n")`))
	if m == nil {
		t.Fatal("no reference number in the chat")
	}
	ref := m[1]
	botSays("the due date", "回答期限")
	t.Logf("request %s submitted after %s", ref, time.Since(started).Round(time.Millisecond))
	cust.shot("01-customer-reference", false)

	// It appears in the officer's queue without a reload.
	row := `document.querySelector('#requests tr[data-ref="` + ref + `"]')`
	staff.poll("the new request in the queue", `!!`+row)
	if got := staff.eval(`(window.__sameDocument || "reloaded") + "|" + ` + row + `.textContent`); !strings.HasPrefix(got, "yes|") ||
		!strings.Contains(got, "開示") || !strings.Contains(got, "受付済み") || !strings.Contains(got, "本人") {
		t.Fatalf("the queue's row (the document mark, then the row's text): %q", got)
	}
	staff.shot("02-queue-live", false)

	// The request's page lists the sample ID card once it is fetched and sealed.
	staff.run("the request's page", chromedp.Click(chromedp.CSS(`#requests tr[data-ref="`+ref+`"] a.button`)), chromedp.WaitVisible(chromedp.CSS(`#details`)))
	if loc := staff.eval(`location.pathname`); loc != "/console/requests/"+ref {
		t.Fatalf("the queue's link opened %s", loc)
	}
	for i := 0; ; i++ {
		// The document is fetched from the simulator in the background; the page is read again until
		// it lists the document as viewable.
		_, err := chromedp.Run(staff.ctx, chromedp.Poll[chromedp.Void](`!!document.querySelector('#documents a.button[href*="/documents/"]')`,
			chromedp.WithPollingTimeout(time.Second)))
		if err == nil {
			break
		}
		if i == 20 {
			t.Fatalf("the document is not viewable on the request's page: %v", err)
		}
		staff.run("the request's page again", chromedp.Navigate(srv.URL+"/console/requests/"+ref), chromedp.WaitVisible(chromedp.CSS(`#details`)))
	}
	card := linesim.SampleIDCard()
	sum := sha256.Sum256(card)
	wantSHA := hex.EncodeToString(sum[:])
	docRow := staff.eval(`document.querySelector("#documents tbody tr").textContent`)
	if n := staff.eval(`String(document.querySelectorAll("#documents tbody tr").length)`); n != "1" ||
		!strings.Contains(docRow, "1枚目") || !strings.Contains(docRow, "image/png") || !strings.Contains(docRow, wantSHA[:12]) {
		t.Fatalf("documents: %s row(s); the first: %q (want the sample card, SHA-256 %s…)", n, docRow, wantSHA[:12])
	}
	if got := staff.eval(`document.getElementById("details").textContent`); !strings.Contains(got, "山田 花子") ||
		!strings.Contains(got, "岡山県岡山市北区今2-6-10") || !strings.Contains(got, "受付済み") {
		t.Fatalf("the request's details: %q", got)
	}
	staff.shot("03-request", true)

	// The document view answers the image, not to be stored.
	href := staff.eval(`document.querySelector('#documents a.button[href*="/documents/"]').getAttribute("href")`)
	if !strings.HasPrefix(href, "/console/requests/"+ref+"/documents/") {
		t.Fatalf("the document's link is %q", href)
	}
	var doc struct {
		Status      int
		Type, Cache string
		SHA         string
		W, H        int
	}
	got := staff.eval(`(async () => {
		const r = await fetch(` + jsString(href) + `, {credentials: "same-origin"});
		const b = await r.arrayBuffer();
		const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b));
		const bm = await createImageBitmap(new Blob([b]));
		return JSON.stringify({status: r.status, type: r.headers.get("content-type"), cache: r.headers.get("cache-control"),
			sha: [...d].map(x => x.toString(16).padStart(2, "0")).join(""), w: bm.width, h: bm.height});
	})()`)
	if err := json.Unmarshal([]byte(got), &doc); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(card))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Status != 200 || doc.Type != "image/png" || !strings.Contains(doc.Cache, "no-store") || doc.SHA != wantSHA ||
		doc.W != cfg.Width || doc.H != cfg.Height {
		t.Fatalf("the document view answered %+v; want 200, image/png, no-store, the sample card (%dx%d, %s)", doc, cfg.Width, cfg.Height, wantSHA)
	}

	// Verify, start, complete: each form sends the page back with a flash and the new status.
	move := func(to, label string) {
		t.Helper()
		staff.eval(`(document.querySelectorAll(".flash").forEach(e => e.remove()),
			document.getElementById("to-` + to + `").closest("details").open = true, "")`)
		staff.run("the form "+to, chromedp.Click(chromedp.CSS(`#to-`+to+` button`)), chromedp.WaitVisible(chromedp.CSS(`.flash[role=status]`)))
		staff.poll("the status "+label, `document.getElementById("status").textContent === `+jsString(label))
	}
	move("verified", "本人確認済み")
	botSays("the customer's notice of the identity check", "ご本人確認ができました")
	move("in_progress", "対応中")
	botSays("the customer's notice of the work", "ご請求への対応を進めています")
	move("completed", "完了")
	staff.poll("the package link's state", `!!document.getElementById("link-state") && document.getElementById("link-state").textContent === "有効"`)
	if got := staff.eval(`document.getElementById("history").textContent`); !strings.Contains(got, officer) {
		t.Errorf("the history does not name the officer: %q", got)
	}
	staff.shot("04-request-completed", true)

	// The customer gets the link in the chat and opens it.
	botSays("the package link", "/package/")
	linkRe := regexp.MustCompile(`https?://[^\s]+/package/[^\s]+`)
	link := linkRe.FindString(cust.eval(`[...document.querySelectorAll(".phone .row.bot .bubble")].map(b => b.textContent).filter(t => t.includes("/package/")).pop()`))
	if link == "" {
		t.Fatal("no package link in the customer's chat")
	}
	if u, err := url.Parse(link); err != nil || u.Host == "" {
		t.Fatalf("package link %q: %v", link, err)
	}
	botSays("the completion notice", "ご請求への対応が完了しました")
	cust.shot("05-customer-link", false)
	cust.run("the package", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`main`)))
	title := cust.eval(`document.title`)
	page := cust.eval(`document.body.innerText`)
	if !strings.HasPrefix(title, "保有個人データの開示 "+ref) || !strings.Contains(page, "保有個人データの開示") ||
		!strings.Contains(page, ref) || !strings.Contains(page, "開示請求したい") {
		t.Fatalf("the package page (title %q) does not show the title, the reference %s and the customer's own chat:\n%s", title, ref, page)
	}
	cust.shot("06-package", true)

	// The officer's page counts the customer's use of the link.
	staff.run("the request's page after the download", chromedp.Navigate(srv.URL+"/console/requests/"+ref), chromedp.WaitVisible(chromedp.CSS(`#package`)))
	if got := staff.eval(`document.getElementById("package").innerText`); !strings.Contains(got, "1回") {
		t.Errorf("the link's uses after the customer opened it once: %q", got)
	}
	t.Logf("done after %s", time.Since(started).Round(time.Millisecond))
}
