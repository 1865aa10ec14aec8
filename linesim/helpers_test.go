package linesim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

const testToken = "test-channel-token"

// fakeClock is a settable clock for APIOptions.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newTestAPI starts the API on a loopback server with a fake clock.
func newTestAPI(t *testing.T, opts APIOptions) (*API, *httptest.Server, *fakeClock) {
	t.Helper()
	clk := newClock()
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	if opts.AccessToken == "" {
		opts.AccessToken = testToken
	}
	a := NewAPI(opts)
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return a, srv, clk
}

func sdkClient(t *testing.T, endpoint string) *messaging_api.MessagingApiAPI {
	t.Helper()
	c, err := messaging_api.NewMessagingApiAPI(testToken, messaging_api.WithEndpoint(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func text(s string) messaging_api.MessageInterface { return messaging_api.TextMessage{Text: s} }

// call performs a raw request against the API and decodes the JSON answer.
func call(t *testing.T, method, url, token string, hdr map[string]string, body any) (*http.Response, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: non-JSON answer %q", method, url, raw)
		}
	}
	return resp, m
}

func textMsg(s string) map[string]any { return map[string]any{"type": "text", "text": s} }
