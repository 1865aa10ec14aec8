package outbox

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy is when to retry and when to give up.
type Policy struct {
	// RetryBase and RetryMax shape the exponential backoff: RetryBase after the first failure,
	// doubling up to RetryMax (defaults 1 s and 5 min), with jitter.
	RetryBase, RetryMax time.Duration
	// MaxAge is how long a delivery is attempted before it is given up and marked failed, counted
	// from when it was queued or retried (default 24 h).
	MaxAge time.Duration
	// Timeout bounds one attempt (default 30 s; the webhook's HTTP client has its own 10 s).
	Timeout time.Duration
	// Jitter spreads a backoff (default: uniformly in [d/2, d]) so that retries do not march in step.
	Jitter func(d time.Duration) time.Duration
}

func (p Policy) withDefaults() Policy {
	if p.RetryBase <= 0 {
		p.RetryBase = time.Second
	}
	if p.RetryMax <= 0 {
		p.RetryMax = 5 * time.Minute
	}
	p.RetryMax = max(p.RetryMax, p.RetryBase)
	if p.MaxAge <= 0 {
		p.MaxAge = 24 * time.Hour
	}
	if p.Timeout <= 0 {
		p.Timeout = 30 * time.Second
	}
	if p.Jitter == nil {
		p.Jitter = halfJitter
	}
	return p
}

// backoff is the wait after the n-th failure in a row (n ≥ 1).
func (p Policy) backoff(n int) time.Duration {
	d := p.RetryBase << min(max(n-1, 0), 30)
	if d <= 0 || d > p.RetryMax {
		d = p.RetryMax
	}
	return p.Jitter(d)
}

func halfJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// HTTPResult classifies an HTTP answer: 2xx is delivered; 408, 429 and 5xx (and anything else that
// is not a 4xx, such as a redirect that was not followed) are retried, honouring Retry-After;
// another 4xx is permanent: the receiver refuses this message, and will again.
func HTTPResult(res *http.Response, now time.Time) Result {
	s := res.StatusCode
	switch {
	case s >= 200 && s <= 299:
		return Result{Status: s}
	case s >= 400 && s <= 499 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests:
		return Result{Status: s, Err: fmt.Errorf("receiver answered %d", s), Permanent: true}
	}
	err := fmt.Errorf("receiver answered %d", s)
	if s >= 300 && s <= 399 {
		err = fmt.Errorf("receiver answered %d (redirect to %q not followed)", s, res.Header.Get("Location"))
	}
	return Result{Status: s, Err: err, RetryAfter: RetryAfter(res.Header.Get("Retry-After"), now)}
}

// RetryAfter parses a Retry-After header (seconds, or an HTTP date) into a wait from now; 0 when
// absent, malformed or past.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int64(365*24*3600))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
