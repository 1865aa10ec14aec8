package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/linesim"
	"github.com/enemane/privacybot/store"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func TestWebhookRejectsBadInput(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	url := h.bot.URL + "/callback"
	good, err := linesim.MarshalBody("Ubot", h.sender.TextEvent("Ubad", "こんにちは"))
	if err != nil {
		t.Fatal(err)
	}
	huge := append([]byte(`{"destination":"U","events":[],"pad":"`), bytes.Repeat([]byte("x"), 1<<20)...)
	huge = append(huge, []byte(`"}`)...)
	cases := []struct {
		name string
		body []byte
		sig  string
		want int
	}{
		{"missing signature", good, "", http.StatusBadRequest},
		{"wrong signature", good, linesim.Sign("another-secret", good), http.StatusBadRequest},
		{"signature not base64", good, "%%%", http.StatusBadRequest},
		{"signature of another body", good, linesim.Sign(testSecret, []byte(`{}`)), http.StatusBadRequest},
		{"malformed JSON", []byte(`{"events":[`), linesim.Sign(testSecret, []byte(`{"events":[`)), http.StatusBadRequest},
		{"not a webhook", []byte(`[1,2,3]`), linesim.Sign(testSecret, []byte(`[1,2,3]`)), http.StatusBadRequest},
		{"event without type", []byte(`{"events":[{"timestamp":1}]}`), linesim.Sign(testSecret, []byte(`{"events":[{"timestamp":1}]}`)), http.StatusBadRequest},
		{"oversized body", huge, linesim.Sign(testSecret, huge), http.StatusRequestEntityTooLarge},
		{"empty events (verification)", []byte(`{"destination":"Ubot","events":[]}`), linesim.Sign(testSecret, []byte(`{"destination":"Ubot","events":[]}`)), http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := postRaw(t, url, c.body, c.sig); got != c.want {
				t.Fatalf("status %d, want %d", got, c.want)
			}
		})
	}
	h.settle()
	if n := len(h.api.Deliveries("")); n != 0 {
		t.Fatalf("rejected requests produced %d deliveries", n)
	}
}

func TestFollowAndTextAreAnswered(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.api.SetProfile("Ufollow", "山田 花子", "ja")
	if code := h.send(h.sender.FollowEvent("Ufollow", false)); code != http.StatusOK {
		t.Fatalf("follow: status %d", code)
	}
	ds := h.waitDeliveries("Ufollow", 1)
	if ds[0].Via != "reply" {
		t.Fatalf("follow answered via %s, want reply", ds[0].Via)
	}
	got := texts(ds)
	if len(got) != 2 || !strings.Contains(got[0], "友だち追加ありがとうございます") {
		t.Fatalf("follow answer = %q", got)
	}
	h.send(h.sender.TextEvent("Ufollow", "個人情報の保存期間はどのくらい？"))
	ds = h.waitDeliveries("Ufollow", 2)
	if answer := texts(ds[1:])[0]; !strings.Contains(answer, "第13項") {
		t.Fatalf("retention question answered with %q, want a citation of item 13", answer)
	}
	// The quick replies arrive as LINE postback actions.
	var msg struct {
		QuickReply struct {
			Items []struct {
				Action struct{ Type, Label, Data string } `json:"action"`
			} `json:"items"`
		} `json:"quickReply"`
	}
	if err := json.Unmarshal(ds[1].Messages[0], &msg); err != nil || len(msg.QuickReply.Items) == 0 {
		t.Fatalf("menu without quick replies: %s", ds[1].Messages[0])
	}
}

func TestEnglishProfileGetsEnglish(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.api.SetProfile("Uen", "Alex", "en")
	h.send(h.sender.FollowEvent("Uen", false))
	got := texts(h.waitDeliveries("Uen", 1))
	if !strings.Contains(got[0], "Thanks for adding us") {
		t.Fatalf("english follow answer = %q", got)
	}
}

func TestIgnoredEventsAreAcknowledgedNotAnswered(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	unknown := h.sender.UnknownEvent("Uign", "someFutureEvent")
	standby := h.sender.TextEvent("Uign", "誰かいますか").Standby()
	raw := linesim.RawEvent(json.RawMessage(`{"type":"brandNewThing","mode":"active","timestamp":1700000000000,"webhookEventId":"01JBRANDNEWTHING0000000000","deliveryContext":{"isRedelivery":false},"source":{"type":"user","userId":"Uign"},"whatever":{"nested":[1,2]}}`))
	group := linesim.RawEvent(json.RawMessage(`{"type":"message","mode":"active","timestamp":1700000000000,"webhookEventId":"01JGROUPMESSAGE00000000000","replyToken":"x","deliveryContext":{"isRedelivery":false},"source":{"type":"group","groupId":"Cabc","userId":"Uign"},"message":{"id":"1","type":"text","text":"hi","quoteToken":"q"}}`))
	for _, ev := range []linesim.Event{unknown, standby, raw, group} {
		if code := h.send(ev); code != http.StatusOK {
			t.Fatalf("status %d for an event the bot must acknowledge", code)
		}
	}
	h.settle()
	if ds := h.api.Deliveries("Uign"); len(ds) != 0 {
		t.Fatalf("ignored events were answered: %q", texts(ds))
	}
	if s := h.proc.Stats(); s.Ignored != 4 {
		t.Fatalf("ignored = %d, want 4 (%+v)", s.Ignored, s)
	}
}

func TestRedeliveryIsAnsweredOnce(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ev := h.sender.TextEvent("Uredeliver", "メニュー")
	h.send(ev)
	h.waitDeliveries("Uredeliver", 1)
	h.settle() // answered, and out of the inbox
	// The same event again, later, marked as a redelivery.
	if code := h.send(ev.Redelivered()); code != http.StatusOK {
		t.Fatalf("redelivery status %d", code)
	}
	h.settle()
	if n := len(h.api.Deliveries("Uredeliver")); n != 1 {
		t.Fatalf("%d answers to one event", n)
	}
}

func TestConcurrentRedeliveryIsAnsweredOnce(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ev := h.sender.TextEvent("Uconc", "こんにちは")
	body, _ := linesim.MarshalBody("Ubot", ev)
	sig := linesim.Sign(testSecret, body)
	var wg sync.WaitGroup
	codes := make([]int, 12)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = postRaw(t, h.bot.URL+"/callback", body, sig)
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("delivery %d: status %d", i, c)
		}
	}
	h.waitDeliveries("Uconc", 1)
	h.settle()
	if n := len(h.api.Deliveries("Uconc")); n != 1 {
		t.Fatalf("%d answers to one event delivered 12 times at once", n)
	}
}

func TestBurstFromOneUserIsAnsweredInOrder(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	const n = 20
	base := time.Now()
	evs := make([]linesim.Event, n)
	for i := range evs {
		evs[i] = h.sender.TextEvent("Uburst", fmt.Sprintf("質問 %d", i)).WithTimestamp(base.Add(time.Duration(i) * time.Millisecond))
	}
	// One webhook with the 20 events shuffled, as a batch, plus the same 20 posted one by one at
	// once: the processor must answer each event once, in timestamp order.
	shuffled := append([]linesim.Event(nil), evs...)
	for i := range shuffled {
		j := (i * 7) % n
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); h.send(shuffled...) }()
	for _, ev := range evs {
		wg.Add(1)
		go func() { defer wg.Done(); h.send(ev) }()
	}
	wg.Wait()
	ds := h.waitDeliveries("Uburst", n)
	h.settle()
	ds = h.api.Deliveries("Uburst")
	if len(ds) != n {
		t.Fatalf("%d answers to %d events", len(ds), n)
	}
	order := map[string]int{}
	for i, ev := range evs {
		order[ev.ReplyToken] = i
	}
	seen := map[int]bool{}
	for _, d := range ds {
		seen[order[d.ReplyToken]] = true
	}
	if len(seen) != n {
		t.Fatalf("answers went to %d distinct events, want %d", len(seen), n)
	}
}

func TestBurstInOneWebhookKeepsTimestampOrder(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	const n = 20
	base := time.Now()
	evs := make([]linesim.Event, n)
	for i := range evs {
		evs[i] = h.sender.TextEvent("Uorder", fmt.Sprintf("%d", i)).WithTimestamp(base.Add(time.Duration(i) * time.Millisecond))
	}
	reversed := make([]linesim.Event, n)
	for i := range evs {
		reversed[n-1-i] = evs[i]
	}
	h.send(reversed...)
	ds := h.waitDeliveries("Uorder", n)
	for i, d := range ds {
		if d.ReplyToken != evs[i].ReplyToken {
			t.Fatalf("answer %d went to event %q; events must be answered in timestamp order", i, d.ReplyToken)
		}
	}
}

func TestAnswersArriveAfterLINEOutage(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.api.SetFault(linesim.Fault{Status: http.StatusInternalServerError, PathPrefix: "/v2/bot/message"})
	h.send(h.sender.TextEvent("Uoutage", "こんにちは"))
	waitFor(t, "several failed attempts", func() bool { return h.api.Stats().FaultsServed >= 3 })
	if n := len(h.api.Deliveries("Uoutage")); n != 0 {
		t.Fatalf("delivered during the outage: %d", n)
	}
	h.api.ClearFault()
	ds := h.waitDeliveries("Uoutage", 1)
	h.settle()
	if n := len(h.api.Deliveries("Uoutage")); n != 1 {
		t.Fatalf("%d answers after the outage, want 1", n)
	}
	if s := h.api.Stats(); s.FaultsServed == 0 {
		t.Fatal("the outage served no faults")
	}
	_ = ds
}

func TestOldEventIsPushedWithRetryKey(t *testing.T) {
	// An event older than the reply window (a long outage, or a redelivery much later) is answered by
	// push, with the retry key that makes a second push harmless.
	h := newHarness(t, harnessOpts{})
	ev := h.sender.TextEvent("Uold", "こんにちは").WithTimestamp(time.Now().Add(-2 * time.Minute))
	h.send(ev)
	ds := h.waitDeliveries("Uold", 1)
	if ds[0].Via != "push" || ds[0].RetryKey == "" {
		t.Fatalf("old event answered via %s with retry key %q", ds[0].Via, ds[0].RetryKey)
	}
}

func TestReadiness(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for _, path := range []string{"/healthz", "/readyz"} {
		res, err := http.Get(h.bot.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
	}
	_ = context.Background()
}

func TestStoreDownAnswers503AndLosesNothing(t *testing.T) {
	// A store of its own on a fixed port, so it can be stopped and started again in place.
	dir := t.TempDir()
	addr := freeAddr(t)
	eng, err := store.StartEmbedded(dir, addr, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOpts{storeURI: eng.URI()})
	h.send(h.sender.TextEvent("Udown", "はじめまして"))
	h.waitDeliveries("Udown", 1)
	h.settle()

	eng.Stop()
	ev := h.sender.TextEvent("Udown", "聞こえますか")
	if code := h.send(ev); code != http.StatusServiceUnavailable {
		t.Fatalf("store down: status %d, want 503", code)
	}
	res, err := http.Get(h.bot.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the store down: %d", res.StatusCode)
	}

	// The store comes back; LINE redelivers the refused event.
	eng, err = store.StartEmbedded(dir, addr, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	deadline := time.Now().Add(20 * time.Second)
	for {
		code := h.send(ev.Redelivered())
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redelivery after recovery: status %d", code)
		}
		time.Sleep(200 * time.Millisecond)
	}
	h.waitDeliveries("Udown", 2)
	h.settle()
	if n := len(h.api.Deliveries("Udown")); n != 2 {
		t.Fatalf("%d answers to 2 events", n)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestPolicyPage(t *testing.T) {
	srv := httptest.NewServer(handlers.NewRouter(quietLog(), handlers.Routes{PolicyText: "見出し\n\n<script>alert(1)</script>\n\n第2段落"}))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/policy")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "<p>第2段落</p>") || strings.Contains(string(body), "<script>alert") {
		t.Fatalf("policy page: %d %s", res.StatusCode, body)
	}
}

func TestFollowRereadsTheProfileLanguage(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.api.SetProfile("Ulang", "Kim", "ja")
	h.send(h.sender.FollowEvent("Ulang", false))
	if got := texts(h.waitDeliveries("Ulang", 1)); !strings.Contains(got[0], "友だち追加") {
		t.Fatalf("first greeting %q", got[0])
	}
	// The customer switches the phone to English, blocks and unblocks the account.
	h.api.SetProfile("Ulang", "Kim", "en")
	h.send(h.sender.UnfollowEvent("Ulang"))
	h.send(h.sender.FollowEvent("Ulang", true))
	ds := h.waitDeliveries("Ulang", 2)
	if got := texts(ds[1:]); !strings.Contains(got[0], "Welcome back") {
		t.Fatalf("greeting after unblocking with an English profile: %q", got)
	}
}

// TestReusedEventIDFromAnotherCustomerIsAnotherEvent: a second customer's event that carries the
// webhookEventId of the first customer's is answered on its own, and the first customer's stored step
// (here, the opt-out form half filled in) is untouched.
func TestReusedEventIDFromAnotherCustomerIsAnotherEvent(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	first := h.sender.TextEvent("Ureuse1", "メニュー")
	h.send(first)
	h.waitDeliveries("Ureuse1", 1)
	second := h.sender.TextEvent("Ureuse2", "What is the purpose of use of my data?")
	second.WebhookEventID = first.WebhookEventID
	if code := h.send(second); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	ds := h.waitDeliveries("Ureuse2", 1)
	h.settle()
	if got := texts(ds); len(got) == 0 || !strings.Contains(got[0], "Privacy Policy, item 2") { // asked in English, answered so
		t.Fatalf("second customer's answer %q: want their own question answered", got)
	}
	if n := len(h.api.Deliveries("Ureuse1")); n != 1 {
		t.Fatalf("first customer got %d answers, want 1", n)
	}
}
