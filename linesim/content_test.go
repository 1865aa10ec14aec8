package linesim

import (
	"context"
	"testing"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

func TestContentFaults(t *testing.T) {
	a, srv, clk := newTestAPI(t, APIOptions{})
	a.PutContent("11", "image/png", []byte("\x89PNGeleven"))
	a.PutContent("12", "image/jpeg", []byte("\xff\xd8twelve"))
	get := func(id string) (int, string) {
		t.Helper()
		resp, body := call(t, "GET", srv.URL+"/v2/bot/message/"+id+"/content", testToken, nil, nil)
		return resp.StatusCode, resp.Header.Get("Retry-After") + "|" + str(body["message"])
	}
	ok := func(id string) {
		t.Helper()
		resp, err := sdkBlob(t, srv.URL).GetMessageContent(id)
		if err != nil {
			t.Fatalf("content %s: %v", id, err)
		}
		resp.Body.Close()
	}

	// The next two requests fail; the third is served.
	a.SetContentFault(ContentFault{Status: 500, Count: 2})
	for i := range 2 {
		if st, msg := get("11"); st != 500 || msg != "|Internal server error" {
			t.Fatalf("request %d: %d %s", i, st, msg)
		}
	}
	ok("11")

	// Only one message's content, with Retry-After, and other endpoints untouched.
	a.SetContentFault(ContentFault{Status: 429, RetryAfter: 1500 * time.Millisecond, MessageID: "12"})
	ok("11")
	if st, msg := get("12"); st != 429 || msg != "2|The API rate limit has been exceeded. Try again later." {
		t.Fatalf("rate limited: %d %s", st, msg)
	}
	if resp, _ := call(t, "POST", srv.URL+"/v2/bot/message/push", testToken, nil,
		map[string]any{"to": "U1", "messages": []any{textMsg("still works")}}); resp.StatusCode != 200 {
		t.Fatalf("push during a content fault: %d", resp.StatusCode)
	}
	if st, _ := get("12"); st != 429 {
		t.Fatal("a fault without count or duration ended by itself")
	}
	a.ClearContentFault()
	ok("12")

	// For a while, by the API's clock.
	a.SetContentFault(ContentFault{Status: 503, For: time.Minute})
	if st, _ := get("11"); st != 503 {
		t.Fatalf("during: %d", st)
	}
	clk.Advance(59 * time.Second)
	if st, _ := get("12"); st != 503 {
		t.Fatalf("still during: %d", st)
	}
	clk.Advance(time.Second)
	ok("11")
	ok("12")

	// Latency only: the content comes, late; the wait ends with the client.
	a.SetContentFault(ContentFault{Latency: time.Hour, Count: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		resp, err := sdkBlob(t, srv.URL).WithContext(ctx).GetMessageContent("11")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	// The request is held once it has used up the fault's count.
	waitFor(t, func() bool { a.mu.Lock(); defer a.mu.Unlock(); return a.contentFault == nil })
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a request held for an hour came back")
	}
	a.SetContentFault(ContentFault{Latency: time.Millisecond, Count: 1})
	ok("11")

	// A 404 fault: as if LINE no longer had the content.
	a.SetContentFault(ContentFault{Status: 404, Count: 1})
	if st, msg := get("11"); st != 404 || msg != "|Not found" {
		t.Fatalf("gone: %d %s", st, msg)
	}

	// Errors: two 500s, two 429s, two 503s, one 404. Served: 11 after the 500s, 11 beside the 429s,
	// 12 after clearing, 11 and 12 after the 503s, 11 after a short latency (not the abandoned one).
	if s := a.Stats(); s.FaultsServed != 7 || s.ContentsServed != 6 {
		t.Errorf("stats %+v", s)
	}
	a.SetContentFault(ContentFault{Status: 500})
	a.Reset()
	ok("11")
}

func sdkBlob(t *testing.T, endpoint string) *messaging_api.MessagingApiBlobAPI {
	t.Helper()
	c, err := messaging_api.NewMessagingApiBlobAPI(testToken, messaging_api.WithBlobEndpoint(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// waitFor waits until cond holds, checking it every millisecond, for at most 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("condition not reached in 10 s")
		}
	}
}
