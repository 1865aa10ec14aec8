package bot

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enemane/privacybot/linesim"
)

func TestMessageContentFetchesBytes(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\nnot really a picture")
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Method + " " + r.URL.Path + " " + r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "image/jpeg") // what LINE declares, whatever the bytes are
		w.Header().Set("X-Line-Request-Id", "req-7")
		_, _ = w.Write(png)
	}))
	defer srv.Close()

	c, r := NewContentClient("tok", srv.URL+"/data/", nil).MessageContent(context.Background(), "5123", 1<<20)
	if r.Outcome != Accepted || r.Err != nil || r.Status != 200 || r.RequestID != "req-7" {
		t.Fatalf("result %+v", r)
	}
	if !bytes.Equal(c.Data, png) || c.ContentType != "image/jpeg" || c.TooLarge {
		t.Fatalf("content %q %q %v", c.Data, c.ContentType, c.TooLarge)
	}
	if s := got.Load(); s != "GET /data/v2/bot/message/5123/content Bearer tok" {
		t.Fatalf("request %v", s)
	}
}

func TestMessageContentLimit(t *testing.T) {
	body := bytes.Repeat([]byte{0xAB}, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/chunked") {
			w.(http.Flusher).Flush() // headers out without a Content-Length
		} else {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	for _, base := range []string{srv.URL, srv.URL + "/chunked"} {
		cc := NewContentClient("tok", base, nil)
		for _, limit := range []int64{1000, 5000} {
			if c, r := cc.MessageContent(context.Background(), "1", limit); r.Outcome != Accepted || c.TooLarge || !bytes.Equal(c.Data, body) {
				t.Errorf("%s, limit %d: %+v, %d bytes, too large %v", base, limit, r, len(c.Data), c.TooLarge)
			}
		}
		// Declared too large by Content-Length, or found too large while reading.
		c, r := cc.MessageContent(context.Background(), "1", 999)
		if r.Outcome != Accepted || r.Err != nil || r.Status != 200 || !c.TooLarge || c.Data != nil {
			t.Errorf("%s, over the limit: %+v, %d bytes, too large %v", base, r, len(c.Data), c.TooLarge)
		}
	}
}

// TestMessageContentStopsReading: an endless body is abandoned at the limit, which the server sees as
// its writes failing long before it has sent much.
func TestMessageContentStopsReading(t *testing.T) {
	const chunk, most = 32 << 10, 1 << 30
	sent := make(chan int64, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		buf := make([]byte, chunk)
		var n int64
		for n < most {
			if _, err := w.Write(buf); err != nil {
				break
			}
			n += chunk
		}
		sent <- n
	}))
	defer srv.Close()
	c, r := NewContentClient("tok", srv.URL, nil).MessageContent(context.Background(), "9", 1<<20)
	if r.Outcome != Accepted || !c.TooLarge || c.Data != nil || c.ContentType != "image/png" {
		t.Fatalf("%+v, too large %v, %d bytes", r, c.TooLarge, len(c.Data))
	}
	if n := <-sent; n >= 128<<20 {
		t.Fatalf("the server got %d bytes out: the client kept reading", n)
	}
}

func TestMessageContentStatuses(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		name, retryAfter string
		status           int
		want             Outcome
		wait             time.Duration // least RetryAfter
		most             time.Duration
	}{
		{"gone", "", 404, Permanent, 0, 0},
		{"bad token", "", 401, Permanent, 0, 0},
		{"bad request", "", 400, Permanent, 0, 0},
		{"server error", "", 500, Retryable, 0, 0},
		{"unavailable with date", date, 503, Retryable, 80 * time.Second, 91 * time.Second},
		{"rate limited", "7", 429, Retryable, 7 * time.Second, 7 * time.Second},
		{"rate limited, bad header", "soon", 429, Retryable, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.retryAfter != "" {
					w.Header().Set("Retry-After", c.retryAfter)
				}
				w.Header().Set("X-Line-Request-Id", "req-err")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(`{"message":"Not found"}`))
			}))
			defer srv.Close()
			got, r := NewContentClient("tok", srv.URL, nil).MessageContent(context.Background(), "77", 1<<20)
			if r.Outcome != c.want || r.Status != c.status || r.Err == nil || r.RequestID != "req-err" {
				t.Fatalf("%+v, want %v", r, c.want)
			}
			if r.RetryAfter < c.wait || r.RetryAfter > c.most {
				t.Fatalf("retry after %v, want %v..%v", r.RetryAfter, c.wait, c.most)
			}
			if got.Data != nil || got.TooLarge {
				t.Fatalf("content on an error: %+v", got)
			}
		})
	}
}

func TestMessageContentErrorBodyIsCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(502)
		_, _ = w.Write(bytes.Repeat([]byte("x"), 8<<20))
	}))
	defer srv.Close()
	_, r := NewContentClient("tok", srv.URL, nil).MessageContent(context.Background(), "1", 1<<20)
	if r.Outcome != Retryable || r.Err == nil || len(r.Err.Error()) > errorBodyCap+200 {
		t.Fatalf("%v, error of %d bytes", r.Outcome, len(r.Err.Error()))
	}
}

func TestMessageContentCancelledAndUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("first bytes"))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the rest never comes
	}))
	defer srv.Close()

	// Ended while the body streams: the answer's headers are in when ctx ends.
	got := &onResponse{base: http.DefaultTransport, got: make(chan struct{})}
	cc := NewContentClient("tok", srv.URL, &http.Client{Transport: got})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-got.got; cancel() }()
	c, r := cc.MessageContent(ctx, "1", 1<<20)
	if r.Outcome != Retryable || r.Status != 200 || !errors.Is(r.Err, context.Canceled) || c.Data != nil {
		t.Fatalf("cancelled mid-body: %+v %q", r, c.Data)
	}

	// Ended before the call.
	_, r = cc.MessageContent(ctx, "1", 1<<20)
	if r.Outcome != Retryable || !errors.Is(r.Err, context.Canceled) {
		t.Fatalf("cancelled before: %+v", r)
	}

	// A client timeout (headers in, the body never ends).
	slow := NewContentClient("tok", srv.URL, &http.Client{Timeout: 50 * time.Millisecond})
	if _, r := slow.MessageContent(context.Background(), "1", 1<<20); r.Outcome != Retryable || r.Err == nil {
		t.Fatalf("timeout: %+v", r)
	}

	// Nobody listening.
	gone := httptest.NewServer(http.NotFoundHandler())
	url := gone.URL
	gone.Close()
	if _, r := NewContentClient("tok", url, nil).MessageContent(context.Background(), "1", 1<<20); r.Outcome != Retryable || r.Err == nil {
		t.Fatalf("unreachable: %+v", r)
	}
}

func TestMessageContentRefusesBadArguments(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	cc := NewContentClient("tok", srv.URL, nil)
	for _, id := range []string{"", "../../v2/bot/profile/U1", "1?x=2", "1/content", strings.Repeat("9", 65)} {
		if _, r := cc.MessageContent(context.Background(), id, 10); r.Outcome != Permanent || r.Err == nil {
			t.Errorf("id %q: %+v", id, r)
		}
	}
	if _, r := cc.MessageContent(context.Background(), "1", 0); r.Outcome != Permanent {
		t.Errorf("limit 0: %+v", r)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

// TestMessageContentFromSimulator fetches through the simulator the bot uses in local mode, including
// its injected content faults.
func TestMessageContentFromSimulator(t *testing.T) {
	api := linesim.NewAPI(linesim.APIOptions{Prefix: "/linesim", AccessToken: "tok"})
	srv := httptest.NewServer(api)
	defer srv.Close()
	api.PutContent("100200300", "image/png", []byte("\x89PNG\r\n\x1a\nsample"))
	cc := NewContentClient("tok", srv.URL+"/linesim", nil)

	api.SetContentFault(linesim.ContentFault{Status: 500, Count: 1})
	if _, r := cc.MessageContent(context.Background(), "100200300", 1<<20); r.Outcome != Retryable {
		t.Fatalf("faulted: %+v", r)
	}
	c, r := cc.MessageContent(context.Background(), "100200300", 1<<20)
	if r.Outcome != Accepted || string(c.Data) != "\x89PNG\r\n\x1a\nsample" || c.ContentType != "image/png" {
		t.Fatalf("after the fault: %+v %q", r, c.Data)
	}
	if _, r := cc.MessageContent(context.Background(), "404404", 1<<20); r.Outcome != Permanent || r.Status != 404 {
		t.Fatalf("missing: %+v", r)
	}
	if _, r := NewContentClient("wrong", srv.URL+"/linesim", nil).MessageContent(context.Background(), "100200300", 1<<20); r.Outcome != Permanent || r.Status != 401 {
		t.Fatalf("bad token: %+v", r)
	}
}

// onResponse closes got once a response's headers have arrived.
type onResponse struct {
	base http.RoundTripper
	got  chan struct{}
	once sync.Once
}

func (o *onResponse) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := o.base.RoundTrip(r)
	if err == nil {
		o.once.Do(func() { close(o.got) })
	}
	return res, err
}
