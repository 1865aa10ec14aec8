package linesim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

func TestBearerToken(t *testing.T) {
	_, srv, _ := newTestAPI(t, APIOptions{})
	url := srv.URL + "/v2/bot/profile/U1"
	for _, tok := range []string{"", "wrong"} {
		resp, body := call(t, "GET", url, tok, nil, nil)
		if resp.StatusCode != 401 || !strings.HasPrefix(body["message"].(string), "Authentication failed") {
			t.Errorf("token %q: got %d %v", tok, resp.StatusCode, body)
		}
	}
	if resp, _ := call(t, "GET", url, testToken, nil, nil); resp.StatusCode != 200 {
		t.Errorf("good token: got %d", resp.StatusCode)
	}
}

func TestReplyTokenSingleUseAndExpiry(t *testing.T) {
	a, srv, clk := newTestAPI(t, APIOptions{})
	c := sdkClient(t, srv.URL)

	tok := a.IssueReplyToken("U1")
	res, err := c.ReplyMessage(&messaging_api.ReplyMessageRequest{ReplyToken: tok, Messages: []messaging_api.MessageInterface{text("hi")}})
	if err != nil || len(res.SentMessages) != 1 {
		t.Fatalf("first reply: %v %v", res, err)
	}
	for name, tk := range map[string]string{"used": tok, "unknown": "nope"} {
		resp, body := call(t, "POST", srv.URL+"/v2/bot/message/reply", testToken, nil,
			map[string]any{"replyToken": tk, "messages": []any{textMsg("again")}})
		if resp.StatusCode != 400 || body["message"] != "Invalid reply token" {
			t.Errorf("%s token: got %d %v", name, resp.StatusCode, body)
		}
	}

	tok2 := a.IssueReplyToken("U1")
	clk.Advance(59 * time.Second)
	tok3 := a.IssueReplyToken("U1")
	clk.Advance(2 * time.Second)
	resp, body := call(t, "POST", srv.URL+"/v2/bot/message/reply", testToken, nil,
		map[string]any{"replyToken": tok2, "messages": []any{textMsg("late")}})
	if resp.StatusCode != 400 || body["message"] != "Invalid reply token" {
		t.Errorf("expired token: got %d %v", resp.StatusCode, body)
	}
	if _, err := c.ReplyMessage(&messaging_api.ReplyMessageRequest{ReplyToken: tok3, Messages: []messaging_api.MessageInterface{text("ok")}}); err != nil {
		t.Errorf("fresh token: %v", err)
	}

	d := a.Deliveries("U1")
	if len(d) != 2 || d[0].Via != "reply" || d[0].ReplyToken != tok || d[0].RequestID == "" {
		t.Fatalf("deliveries: %+v", d)
	}
	if !strings.Contains(string(d[0].Messages[0]), `"hi"`) {
		t.Errorf("message not recorded as received: %s", d[0].Messages[0])
	}
	if s := a.Stats(); s.Replies != 2 || s.InvalidReplyTokens != 3 {
		t.Errorf("stats: %+v", s)
	}
}

func TestMessageValidation(t *testing.T) {
	a, srv, _ := newTestAPI(t, APIOptions{})
	tok := a.IssueReplyToken("U1")
	six := []any{textMsg("1"), textMsg("2"), textMsg("3"), textMsg("4"), textMsg("5"), textMsg("6")}
	items := make([]any, 14)
	for i := range items {
		items[i] = map[string]any{"type": "action", "action": map[string]any{"type": "message", "label": "x", "text": "x"}}
	}
	cases := map[string]any{
		"six":        six,
		"none":       []any{},
		"empty text": []any{textMsg("")},
		"long text":  []any{textMsg(strings.Repeat("あ", 5001))},
		"14 chips":   []any{map[string]any{"type": "text", "text": "q", "quickReply": map[string]any{"items": items}}},
		"flex alt":   []any{map[string]any{"type": "flex", "contents": map[string]any{"type": "bubble"}}},
		"flex body":  []any{map[string]any{"type": "flex", "altText": "a"}},
		"no type":    []any{map[string]any{"text": "a"}},
	}
	for name, msgs := range cases {
		resp, body := call(t, "POST", srv.URL+"/v2/bot/message/reply", testToken, nil,
			map[string]any{"replyToken": tok, "messages": msgs})
		det, _ := body["details"].([]any)
		if resp.StatusCode != 400 || len(det) == 0 {
			t.Errorf("%s: got %d %v", name, resp.StatusCode, body)
		}
	}
	ok := []any{textMsg(strings.Repeat("あ", 5000)), map[string]any{"type": "flex", "altText": "a", "contents": map[string]any{"type": "bubble"}}}
	if resp, body := call(t, "POST", srv.URL+"/v2/bot/message/reply", testToken, nil,
		map[string]any{"replyToken": tok, "messages": ok}); resp.StatusCode != 200 {
		t.Errorf("valid reply after invalid ones (token must survive): %d %v", resp.StatusCode, body)
	}
}

func TestPushRetryKey(t *testing.T) {
	a, srv, _ := newTestAPI(t, APIOptions{})
	c := sdkClient(t, srv.URL)
	key := uuid.NewString()
	req := &messaging_api.PushMessageRequest{To: "U1", Messages: []messaging_api.MessageInterface{text("push")}}
	resp, _, err := c.PushMessageWithHttpInfo(req, key)
	if err != nil {
		t.Fatal(err)
	}
	first := resp.Header.Get("X-Line-Request-Id")
	if first == "" {
		t.Fatal("no X-Line-Request-Id")
	}
	resp, _, err = c.PushMessageWithHttpInfo(req, key)
	if err == nil || resp.StatusCode != 409 {
		t.Fatalf("second push: %v %v", resp.StatusCode, err)
	}
	if got := resp.Header.Get("X-Line-Accepted-Request-Id"); got != first {
		t.Errorf("accepted request id %q, want %q", got, first)
	}
	if !strings.Contains(err.Error(), "The retry key is already accepted") {
		t.Errorf("409 body: %v", err)
	}
	if d := a.Deliveries(""); len(d) != 1 || d[0].RetryKey != key || d[0].Via != "push" || d[0].RequestID != first {
		t.Errorf("deliveries: %+v", d)
	}
	r, body := call(t, "POST", srv.URL+"/v2/bot/message/push", testToken, map[string]string{"X-Line-Retry-Key": "not-a-uuid"},
		map[string]any{"to": "U1", "messages": []any{textMsg("x")}})
	if r.StatusCode != 400 {
		t.Errorf("invalid retry key: %d %v", r.StatusCode, body)
	}
	// Without a key, pushes are not deduplicated.
	for range 2 {
		if _, err := c.PushMessage(req, uuid.NewString()); err != nil {
			t.Fatal(err)
		}
	}
	if s := a.Stats(); s.Pushes != 3 || s.DuplicateRetryKeys != 1 {
		t.Errorf("stats: %+v", s)
	}
}

func TestBlockedUser(t *testing.T) {
	a, srv, _ := newTestAPI(t, APIOptions{})
	a.SetBlocked("U1", true)
	resp, body := call(t, "POST", srv.URL+"/v2/bot/message/push", testToken, nil,
		map[string]any{"to": "U1", "messages": []any{textMsg("x")}})
	if resp.StatusCode != 400 || body["message"] != "Failed to send messages" {
		t.Errorf("push to blocked: %d %v", resp.StatusCode, body)
	}
	if resp, _ := call(t, "GET", srv.URL+"/v2/bot/profile/U1", testToken, nil, nil); resp.StatusCode != 404 {
		t.Errorf("profile of blocked: %d", resp.StatusCode)
	}
	a.SetBlocked("U1", false)
	if resp, _ := call(t, "POST", srv.URL+"/v2/bot/message/push", testToken, nil,
		map[string]any{"to": "U1", "messages": []any{textMsg("x")}}); resp.StatusCode != 200 {
		t.Errorf("push after unblock: %d", resp.StatusCode)
	}
}

func TestFaults(t *testing.T) {
	a, srv, _ := newTestAPI(t, APIOptions{})
	c := sdkClient(t, srv.URL)
	tok := a.IssueReplyToken("U1")
	req := &messaging_api.ReplyMessageRequest{ReplyToken: tok, Messages: []messaging_api.MessageInterface{text("x")}}

	a.SetFault(Fault{Status: 500, Count: 2, PathPrefix: "/v2/bot/message/"})
	if resp, _ := call(t, "GET", srv.URL+"/v2/bot/profile/U1", testToken, nil, nil); resp.StatusCode != 200 {
		t.Errorf("fault leaked outside its path: %d", resp.StatusCode)
	}
	for i := range 2 {
		resp, _, err := c.ReplyMessageWithHttpInfo(req)
		if err == nil || resp.StatusCode != 500 {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := c.ReplyMessage(req); err != nil {
		t.Fatalf("after the fault, the token must still work: %v", err)
	}
	if n := len(a.Deliveries("U1")); n != 1 {
		t.Errorf("%d deliveries", n)
	}

	a.SetFault(Fault{Status: 429, RetryAfter: 1500 * time.Millisecond})
	for range 3 {
		resp, _ := call(t, "GET", srv.URL+"/v2/bot/profile/U1", testToken, nil, nil)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
			t.Errorf("429: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	a.ClearFault()

	a.SetFault(Fault{Latency: 80 * time.Millisecond, Count: 1})
	start := time.Now()
	if resp, _ := call(t, "GET", srv.URL+"/v2/bot/profile/U1", testToken, nil, nil); resp.StatusCode != 200 {
		t.Errorf("latency-only fault must process: %d", resp.StatusCode)
	}
	if el := time.Since(start); el < 80*time.Millisecond {
		t.Errorf("latency not applied: %v", el)
	}
	if s := a.Stats(); s.FaultsServed != 5 {
		t.Errorf("faults served: %+v", s)
	}
}

func TestProfile(t *testing.T) {
	a, srv, _ := newTestAPI(t, APIOptions{})
	c := sdkClient(t, srv.URL)
	a.SetProfile("U1", "山田 花子", "en")
	a.SetPictureURL("U1", "https://example.com/p.png")
	p, err := c.GetProfile("U1")
	if err != nil || p.DisplayName != "山田 花子" || p.Language != "en" || p.UserId != "U1" || p.PictureUrl == "" {
		t.Fatalf("%+v %v", p, err)
	}
	p, err = c.GetProfile("Uauto")
	if err != nil || p.Language != "ja" || p.DisplayName == "" {
		t.Fatalf("auto-created: %+v %v", p, err)
	}

	_, strict, _ := newTestAPI(t, APIOptions{StrictUsers: true})
	resp, body := call(t, "GET", strict.URL+"/v2/bot/profile/Unone", testToken, nil, nil)
	if resp.StatusCode != 404 || body["message"] != "Not found" {
		t.Errorf("strict unknown: %d %v", resp.StatusCode, body)
	}
}

func TestLoadingAndMarkAsRead(t *testing.T) {
	a, srv, _ := newTestAPI(t, APIOptions{})
	c := sdkClient(t, srv.URL)
	resp, _, err := c.ShowLoadingAnimationWithHttpInfo(&messaging_api.ShowLoadingAnimationRequest{ChatId: "U1", LoadingSeconds: 10})
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("loading: %v", err)
	}
	for _, secs := range []int{3, 7, 65} {
		r, _ := call(t, "POST", srv.URL+"/v2/bot/chat/loading/start", testToken, nil, map[string]any{"chatId": "U1", "loadingSeconds": secs})
		if r.StatusCode != 400 {
			t.Errorf("loadingSeconds %d: %d", secs, r.StatusCode)
		}
	}
	if l := a.Loadings("U1"); len(l) != 1 || l[0].Seconds != 10 {
		t.Errorf("loadings %+v", l)
	}

	tok := a.IssueMarkAsReadToken("U1", "m1")
	if _, err := c.MarkMessagesAsReadByToken(&messaging_api.MarkMessagesAsReadByTokenRequest{MarkAsReadToken: tok}); err != nil {
		t.Fatal(err)
	}
	if r, _ := call(t, "POST", srv.URL+"/v2/bot/chat/markAsRead", testToken, nil, map[string]any{"markAsReadToken": "bogus"}); r.StatusCode != 400 {
		t.Errorf("bogus token: %d", r.StatusCode)
	}
	if m := a.ReadMarks("U1"); len(m) != 1 || m[0].MessageID != "m1" {
		t.Errorf("read marks %+v", m)
	}
}

func TestPrefixContentAndUnknownPath(t *testing.T) {
	a, srv, _ := newTestAPI(t, APIOptions{Prefix: "/linesim/"})
	a.PutContent("42", "image/png", []byte("\x89PNGdata"))
	blob, err := messaging_api.NewMessagingApiBlobAPI(testToken, messaging_api.WithBlobEndpoint(srv.URL+"/linesim"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := blob.GetMessageContent("42")
	if err != nil || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("content: %v", err)
	}
	resp.Body.Close()
	if r, body := call(t, "GET", srv.URL+"/linesim/v2/bot/message/43/content", testToken, nil, nil); r.StatusCode != 404 || body["message"] == nil {
		t.Errorf("missing content: %d %v", r.StatusCode, body)
	}
	for _, p := range []string{"/v2/bot/profile/U1", "/linesimx/v2/bot/profile/U1", "/linesim/v2/bot/nothing"} {
		if r, body := call(t, "GET", srv.URL+p, testToken, nil, nil); r.StatusCode != 404 || body["message"] == nil {
			t.Errorf("%s: %d %v", p, r.StatusCode, body)
		}
	}
	if r, _ := call(t, "GET", srv.URL+"/linesim/v2/bot/nothing", "", nil, nil); r.StatusCode != 404 {
		t.Errorf("unknown path without token: %d", r.StatusCode)
	}
	c := sdkClient(t, srv.URL+"/linesim")
	if _, err := c.GetProfile("U1"); err != nil {
		t.Errorf("profile under prefix: %v", err)
	}
}

func TestRichMenus(t *testing.T) {
	a, srv, _ := newTestAPI(t, APIOptions{})
	c := sdkClient(t, srv.URL)
	blob, _ := messaging_api.NewMessagingApiBlobAPI(testToken, messaging_api.WithBlobEndpoint(srv.URL))
	res, err := c.CreateRichMenu(&messaging_api.RichMenuRequest{
		Size: &messaging_api.RichMenuSize{Width: 2500, Height: 843}, Name: "main", ChatBarText: "メニュー",
		Areas: []messaging_api.RichMenuArea{{Bounds: &messaging_api.RichMenuBounds{Width: 2500, Height: 843},
			Action: messaging_api.PostbackAction{Data: "menu"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetDefaultRichMenu(res.RichMenuId); err == nil {
		t.Error("default without image must fail")
	}
	if _, err := blob.SetRichMenuImage(res.RichMenuId, "image/png", strings.NewReader("\x89PNG")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetDefaultRichMenu(res.RichMenuId); err != nil {
		t.Fatal(err)
	}
	list, err := c.GetRichMenuList()
	if err != nil || len(list.Richmenus) != 1 || list.Richmenus[0].Name != "main" || list.Richmenus[0].RichMenuId != res.RichMenuId {
		t.Fatalf("list: %+v %v", list, err)
	}
	if a.DefaultRichMenu() != res.RichMenuId || len(a.RichMenus()[0].Image) != 4 {
		t.Error("inspection")
	}
	if _, err := c.DeleteRichMenu(res.RichMenuId); err != nil {
		t.Fatal(err)
	}
	if len(a.RichMenus()) != 0 || a.DefaultRichMenu() != "" {
		t.Error("not deleted")
	}
}

func TestSubscribeAndWait(t *testing.T) {
	a, srv, _ := newTestAPI(t, APIOptions{SubscriberBuffer: 1})
	ch, cancel := a.Subscribe()
	defer cancel()
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	done := make(chan []Delivered)
	go func() {
		d, err := a.WaitDeliveries(ctx, "U2", 2)
		if err != nil {
			t.Error(err)
		}
		done <- d
	}()
	for _, u := range []string{"U1", "U2", "U2"} {
		if r, _ := call(t, "POST", srv.URL+"/v2/bot/message/push", testToken, nil,
			map[string]any{"to": u, "messages": []any{textMsg("x")}}); r.StatusCode != 200 {
			t.Fatal(r.StatusCode)
		}
	}
	if d := <-done; len(d) != 2 || d[0].UserID != "U2" {
		t.Errorf("wait: %+v", d)
	}
	if d := <-ch; d.UserID != "U1" {
		t.Errorf("subscriber got %+v", d)
	}
	if s := a.Stats(); s.SubscriberDrops != 2 {
		t.Errorf("slow subscriber must lose, not block: %+v", s)
	}
	cancel()
	cancel()
	if _, ok := <-ch; ok {
		t.Error("channel not closed")
	}
}

func TestRateLimitsAndActivity(t *testing.T) {
	a, srv, clk := newTestAPI(t, APIOptions{RateLimits: map[string]int{"/v2/bot/chat/loading/start": 2}})
	acts, cancel := a.SubscribeActivity()
	defer cancel()
	load := func() int {
		r, _ := call(t, "POST", srv.URL+"/v2/bot/chat/loading/start", testToken, nil, map[string]any{"chatId": "U1", "loadingSeconds": 5})
		return r.StatusCode
	}
	got := []int{load(), load(), load()}
	clk.Advance(time.Second)
	got = append(got, load())
	if got[0] != 202 || got[1] != 202 || got[2] != 429 || got[3] != 202 {
		t.Errorf("statuses %v", got)
	}
	if s := a.Stats(); s.RateLimited != 1 || s.LoadingStarts != 3 {
		t.Errorf("stats %+v", s)
	}
	if r, _ := call(t, "GET", srv.URL+"/v2/bot/profile/U1", testToken, nil, nil); r.StatusCode != 200 {
		t.Errorf("unlimited path: %d", r.StatusCode)
	}
	tok := a.IssueMarkAsReadToken("U1", "m7")
	call(t, "POST", srv.URL+"/v2/bot/chat/markAsRead", testToken, nil, map[string]any{"markAsReadToken": tok})
	call(t, "POST", srv.URL+"/v2/bot/chat/markAsRead", testToken, nil, map[string]any{"markAsReadToken": tok})
	var kinds []string
	for len(kinds) < 4 {
		act := <-acts
		kinds = append(kinds, act.Kind+":"+act.MessageID)
	}
	if strings.Join(kinds, ",") != "loading:,loading:,loading:,read:m7" {
		t.Errorf("activities %v", kinds)
	}
	if len(a.ReadMarks("U1")) != 1 {
		t.Error("a repeated read must be recorded once")
	}
	if LINERateLimits()["/v2/bot/chat/loading/start"] != 100 {
		t.Error("LINE's loading limit is 100/s")
	}
}
