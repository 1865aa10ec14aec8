package linesim

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault makes the API misbehave, as the LINE Platform sometimes does. While a
// fault applies to a request, the request is not processed: nothing is
// delivered and no token is consumed.
type Fault struct {
	// Status is the HTTP status answered (500, 503, 429, ...). Zero means
	// no error: the request is only delayed by Latency, then processed.
	Status int
	// Count is how many requests the fault applies to; 0 means until
	// ClearFault.
	Count int
	// Latency delays each affected request (before the error, or before
	// normal processing when Status is 0). It ends early if the client goes.
	Latency time.Duration
	// PathPrefix limits the fault to paths starting with it (after the API
	// prefix), e.g. "/v2/bot/message/push". Empty means all paths.
	PathPrefix string
	// RetryAfter, when positive, is sent as a Retry-After header (whole
	// seconds, at least 1), typically with Status 429.
	RetryAfter time.Duration
}

// SetFault installs f, replacing any active fault.
func (a *API) SetFault(f Fault) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fault = &f
}

// ClearFault removes the active fault, if any.
func (a *API) ClearFault() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fault = nil
}

// LINERateLimits returns the Messaging API's documented per-channel rate
// limits (requests per second) for the endpoints the simulator serves, for
// APIOptions.RateLimits.
func LINERateLimits() map[string]int {
	return map[string]int{
		"/v2/bot/message/reply":      2000,
		"/v2/bot/message/push":       2000,
		"/v2/bot/profile/":           2000,
		"/v2/bot/chat/markAsRead":    2000,
		"/v2/bot/chat/loading/start": 100,
	}
}

// rateWindow counts requests in one clock second.
type rateWindow struct {
	sec int64
	n   int
}

// rateLimited answers 429 when the request at path p exceeds its rate
// limit (the longest matching prefix of RateLimits) in the current second.
func (a *API) rateLimited(w http.ResponseWriter, p string) bool {
	best, limit := "", 0
	for prefix, n := range a.opts.RateLimits {
		if strings.HasPrefix(p, prefix) && len(prefix) > len(best) {
			best, limit = prefix, n
		}
	}
	if best == "" {
		return false
	}
	a.mu.Lock()
	sec := a.now().Unix()
	win := a.windows[best]
	if win == nil || win.sec != sec {
		win = &rateWindow{sec: sec}
		a.windows[best] = win
	}
	win.n++
	over := win.n > limit
	if over {
		a.stats.RateLimited++
	}
	a.mu.Unlock()
	if over {
		writeError(w, http.StatusTooManyRequests, "The API rate limit has been exceeded. Try again later.")
	}
	return over
}

// serveFault applies the active fault to the request at path p. It reports
// whether the response has been written (the request must not be processed).
func (a *API) serveFault(w http.ResponseWriter, r *http.Request, p string) bool {
	a.mu.Lock()
	f := a.fault
	if f == nil || !strings.HasPrefix(p, f.PathPrefix) {
		a.mu.Unlock()
		return false
	}
	cur := *f
	if f.Count > 0 {
		f.Count--
		if f.Count == 0 {
			a.fault = nil
		}
	}
	if cur.Status != 0 {
		a.stats.FaultsServed++
	}
	a.mu.Unlock()

	sleepCtx(r.Context(), cur.Latency)
	if cur.Status == 0 {
		return false
	}
	writeFault(w, cur.Status, cur.RetryAfter)
	return true
}

// writeFault answers an injected error: status with LINE's error body for it and, when retryAfter is
// positive, a Retry-After header in whole seconds (at least 1).
func writeFault(w http.ResponseWriter, status int, retryAfter time.Duration) {
	if retryAfter > 0 {
		secs := int((retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	msg := http.StatusText(status)
	switch status {
	case http.StatusTooManyRequests:
		msg = "The API rate limit has been exceeded. Try again later."
	case http.StatusInternalServerError:
		msg = "Internal server error"
	case http.StatusNotFound:
		msg = "Not found"
	}
	writeError(w, status, msg)
}
