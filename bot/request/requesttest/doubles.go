package requesttest

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// Holdings is an in-memory request.Holdings: what the desk holds, per customer. A customer with no
// Data holds nothing but their user ID.
type Holdings struct {
	mu     sync.Mutex
	Data   map[string]request.CustomerData
	Erased []string
}

var _ request.Holdings = (*Holdings)(nil)

// Set makes d what the desk holds about userID (its UserID is set to userID).
func (h *Holdings) Set(userID string, d request.CustomerData) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.Data == nil {
		h.Data = map[string]request.CustomerData{}
	}
	d.UserID = userID
	h.Data[userID] = d
}

// CustomerData implements request.Holdings.
func (h *Holdings) CustomerData(_ context.Context, userID string) (request.CustomerData, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.Data[userID]
	d.UserID = userID
	return d, nil
}

// EraseCustomer implements request.Holdings: the customer's data goes, counted as their transcript's
// lines.
func (h *Holdings) EraseCustomer(_ context.Context, userID string) (map[string]int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := int64(len(h.Data[userID].Transcript))
	delete(h.Data, userID)
	h.Erased = append(h.Erased, userID)
	return map[string]int64{"transcript": n}, nil
}

// Raised is one internal event a Raiser took.
type Raised struct {
	UserID, ID string
	Notice     flows.RequestNotice
	Data       string
}

// Raiser records the internal events raised: each ID once, like the inbox. It refuses data that is
// not a request notice (all the service ever raises).
type Raiser struct {
	sig    *signal // fired by every notice raised (set by NewDesk)
	mu     sync.Mutex
	events []Raised
	seen   map[string]bool
	calls  int
}

var _ request.Raiser = (*Raiser)(nil)

// Raise implements request.Raiser.
func (r *Raiser) Raise(_ context.Context, userID, id, data string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	p, ok := flows.DecodeInternalPostback(data)
	if !ok || p.Do != flows.ActRequestNotice {
		return fmt.Errorf("requesttest: not a request notice: %q", data)
	}
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if r.seen[id] {
		return nil
	}
	r.seen[id] = true
	r.events = append(r.events, Raised{UserID: userID, ID: id, Notice: p.Notice, Data: data})
	defer r.sig.fire()
	return nil
}

// Events returns the events raised so far (a repeated ID once).
func (r *Raiser) Events() []Raised {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Calls returns how many times Raise was called, repeats and refusals included.
func (r *Raiser) Calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// Last returns the last event raised (zero when none).
func (r *Raiser) Last() Raised {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		return Raised{}
	}
	return r.events[len(r.events)-1]
}

// LastLink returns the package link of the last notice raised to userID that carried one ("" when
// none did).
func (r *Raiser) LastLink(userID string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.events) - 1; i >= 0; i-- {
		if e := r.events[i]; e.UserID == userID && e.Notice.Link != "" {
			return e.Notice.Link
		}
	}
	return ""
}

// LinkToken returns the package token of a link in a notice ("" when none).
func LinkToken(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	return u.Path[strings.LastIndexByte(u.Path, '/')+1:]
}

// Outbox records the messages queued (a repeated destination and key once).
type Outbox struct {
	sig  *signal // fired by every message queued (set by NewDesk)
	mu   sync.Mutex
	Msgs []outbox.Message
}

var _ request.Queue = (*Outbox)(nil)

// Enqueue implements request.Queue.
func (o *Outbox) Enqueue(_ context.Context, m outbox.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, x := range o.Msgs {
		if x.Destination == m.Destination && x.Key == m.Key {
			return nil
		}
	}
	o.Msgs = append(o.Msgs, m)
	defer o.sig.fire()
	return nil
}

// Messages returns the messages queued so far.
func (o *Outbox) Messages() []outbox.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.Msgs)
}

// Auditor records audit calls.
type Auditor struct {
	sig     *signal // fired by every entry (set by NewDesk)
	mu      sync.Mutex
	Entries []string // "action target detail"
}

var _ request.Auditor = (*Auditor)(nil)

// Audit implements request.Auditor.
func (a *Auditor) Audit(_ context.Context, action, target, detail string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.Entries = append(a.Entries, fmt.Sprintf("%s %s %s", action, target, detail))
	defer a.sig.fire()
	return nil
}

// Count returns how many entries have the action.
func (a *Auditor) Count(action string) int { return len(a.Of(action)) }

// Of returns the entries of an action, oldest first, each as "target detail".
func (a *Auditor) Of(action string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.Entries {
		if rest, ok := strings.CutPrefix(e, action+" "); ok {
			out = append(out, rest)
		}
	}
	return out
}

// Clock is a clock the test moves.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
