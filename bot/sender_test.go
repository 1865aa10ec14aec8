package bot

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"
)

func TestRetryKeyIsDeterministicUUID(t *testing.T) {
	k := RetryKey("01EVENT", 0)
	if k != RetryKey("01EVENT", 0) {
		t.Fatal("retry key changes between calls")
	}
	if k == RetryKey("01EVENT", 1) || k == RetryKey("01EVENT2", 0) {
		t.Fatal("retry keys collide")
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(k) {
		t.Fatalf("not a UUID: %s", k)
	}
}

func TestCallOutcomes(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		body    string
		header  map[string]string
		push    bool
		want    Outcome
		retryIn time.Duration
	}{
		{"reply ok", 200, `{"sentMessages":[]}`, nil, false, Accepted, 0},
		{"push ok", 200, `{"sentMessages":[]}`, nil, true, Accepted, 0},
		{"push retry key seen", 409, `{"message":"The retry key is already accepted"}`, map[string]string{"X-Line-Accepted-Request-Id": "abc"}, true, AlreadyDone, 0},
		{"invalid reply token", 400, `{"message":"Invalid reply token"}`, nil, false, InvalidToken, 0},
		{"bad request", 400, `{"message":"The request body has 1 error(s)"}`, nil, false, Permanent, 0},
		{"blocked push", 400, `{"message":"Failed to send messages"}`, nil, true, Permanent, 0},
		{"unauthorized", 401, `{"message":"Authentication failed"}`, nil, true, Permanent, 0},
		{"server error", 500, `{"message":"oops"}`, nil, false, Retryable, 0},
		{"rate limited", 429, `{"message":"The API rate limit has been exceeded"}`, map[string]string{"Retry-After": "3"}, true, Retryable, 3 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range c.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("X-Line-Request-Id", "req-1")
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.body))
			}))
			defer srv.Close()
			l := NewLINE("tok", srv.URL, nil)
			msgs := []Message{{Text: "hi"}}
			var r CallResult
			if c.push {
				r = l.Push(context.Background(), "U1", RetryKey("e", 0), msgs)
			} else {
				r = l.Reply(context.Background(), "rt", msgs)
			}
			if r.Outcome != c.want || r.RetryAfter != c.retryIn {
				t.Fatalf("outcome %v retry %v, want %v %v (err %v)", r.Outcome, r.RetryAfter, c.want, c.retryIn, r.Err)
			}
		})
	}
}

func TestUnreachableAPIIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	r := NewLINE("tok", url, &http.Client{Timeout: time.Second}).Push(context.Background(), "U1", RetryKey("e", 0), []Message{{Text: "x"}})
	if r.Outcome != Retryable {
		t.Fatalf("outcome %v", r.Outcome)
	}
}
