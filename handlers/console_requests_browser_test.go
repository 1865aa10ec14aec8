package handlers_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// TestRequestPagesInBrowser: in chromium, under the console's content security policy, a privacy
// officer's queue follows a change made elsewhere without a reload, a request's page says when
// someone else changed it, and its forms work.
func TestRequestPagesInBrowser(t *testing.T) {
	f := newRQFixture(t, rqSeeds)
	ctx, closeBrowser := newBrowser(t, 1366, 1000, 60*time.Second)
	defer closeBrowser()
	run := func(what string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, acts...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	poll := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	run("log in", consoleLogin(f.bot.URL, "privacy@x.example")...)
	run("the queue", chromedp.Click(chromedp.CSS(`nav a[href="/console/requests"]`)), chromedp.WaitVisible(chromedp.CSS(`#requests`)))
	poll("the live connection", `document.body.classList.contains("connected") && document.querySelector(".live-dot").textContent === "自動更新中"`)

	docs := f.refs["docs"]
	if _, err := f.svc.Transition(context.Background(), docs, request.Transition{To: flows.StatusVerified, Actor: rqStaff}); err != nil {
		t.Fatal(err)
	}
	poll("the queue to follow the change", `(() => { const r = document.querySelector('tr[data-ref="`+docs+`"]');
		return r !== null && r.querySelector(".pill").textContent === "本人確認済み" && r.querySelector(".kind").textContent === "訂正"; })()`)

	fresh := f.refs["fresh"]
	run("a request", chromedp.Navigate(f.bot.URL+"/console/requests/"+fresh), chromedp.WaitVisible(chromedp.CSS(`#details`)))
	poll("the page's live connection", `document.body.classList.contains("connected")`)
	if _, err := f.svc.Note(context.Background(), fresh, "別の担当者のメモ", rqStaff); err != nil {
		t.Fatal(err)
	}
	poll("the notice of a change", `!document.getElementById("request-changed").hidden`)

	run("verify through the form", chromedp.Click(chromedp.CSS(`details.action summary`)),
		chromedp.Click(chromedp.CSS(`#to-verified button`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash[role=status]`)))
	poll("the new status", `document.getElementById("status").textContent === "本人確認済み"`)
	if r, _ := f.svc.Get(fresh); r.Status != flows.StatusVerified {
		t.Fatalf("status %s after the form", r.Status)
	}
}
