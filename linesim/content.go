package linesim

import (
	"net/http"
	"strconv"
	"time"
)

// ContentFault makes the content endpoint (GET /v2/bot/message/{messageId}/content) misbehave, so
// tests can show that a bot retries a download. It is separate from the Fault of SetFault, whose path
// prefix cannot single out this endpoint ("/v2/bot/message/" also covers reply and push), and the two
// can be active at once. It applies after the bearer token check; while it applies, the content is not
// served.
//
// It ends after Count requests, after For, or at ClearContentFault, whichever comes first; with
// neither Count nor For it lasts until cleared.
type ContentFault struct {
	// Status is the HTTP status answered (500, 503, 429, 404, ...). Zero
	// means no error: the request is only delayed by Latency, then served.
	Status int
	// Count is how many requests the fault applies to; 0 means no limit.
	Count int
	// For is how long the fault lasts from SetContentFault, by the API's
	// clock (APIOptions.Now); 0 means no limit.
	For time.Duration
	// Latency delays each affected request (before the error, or before
	// the content). It ends early if the client goes.
	Latency time.Duration
	// RetryAfter, when positive, is sent as a Retry-After header (whole
	// seconds, at least 1), typically with Status 429 or 503.
	RetryAfter time.Duration
	// MessageID limits the fault to one message's content; empty means
	// every message.
	MessageID string
}

type contentFault struct {
	ContentFault
	until time.Time // zero: no end by time
}

// SetContentFault installs f for the content endpoint, replacing any
// content fault already active.
func (a *API) SetContentFault(f ContentFault) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cf := &contentFault{ContentFault: f}
	if f.For > 0 {
		cf.until = a.now().Add(f.For)
	}
	a.contentFault = cf
}

// ClearContentFault removes the content fault, if any.
func (a *API) ClearContentFault() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.contentFault = nil
}

// Content returns a copy of the content stored for messageID (by
// PutContent, the Sender's image events or the chat page) and its content
// type, and whether there is any.
func (a *API) Content(messageID string) (contentType string, data []byte, ok bool) {
	c, ok := a.contentOf(messageID)
	return c.contentType, append([]byte(nil), c.data...), ok
}

// contentOf returns the stored content itself (never modified once stored).
func (a *API) contentOf(messageID string) (content, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.contents[messageID]
	return c, ok
}

// takeContentFault returns the content fault that applies to a request for
// messageID, counting the request against it.
func (a *API) takeContentFault(messageID string) (ContentFault, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.contentFault
	if f == nil {
		return ContentFault{}, false
	}
	if !f.until.IsZero() && !a.now().Before(f.until) {
		a.contentFault = nil
		return ContentFault{}, false
	}
	if f.MessageID != "" && f.MessageID != messageID {
		return ContentFault{}, false
	}
	cur := f.ContentFault
	if f.Count > 0 {
		f.Count--
		if f.Count == 0 {
			a.contentFault = nil
		}
	}
	if cur.Status != 0 {
		a.stats.FaultsServed++
	}
	return cur, true
}

func (a *API) handleContent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("messageId")
	if f, ok := a.takeContentFault(id); ok {
		sleepCtx(r.Context(), f.Latency)
		if r.Context().Err() != nil {
			return // the client went while it waited
		}
		if f.Status != 0 {
			writeFault(w, f.Status, f.RetryAfter)
			return
		}
	}
	a.mu.Lock()
	c, ok := a.contents[id]
	if ok {
		a.stats.ContentsServed++
	} else {
		a.stats.NotFound++
	}
	a.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	w.Header().Set("Content-Type", c.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(c.data)))
	_, _ = w.Write(c.data)
}
