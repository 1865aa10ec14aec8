package linesim

import (
	"context"
	"encoding/json"
	"time"
)

// Delivered is one accepted reply or push, as the API received it.
type Delivered struct {
	// UserID is the recipient.
	UserID string
	// Via is "reply" or "push".
	Via string
	// Messages are the message objects exactly as received.
	Messages []json.RawMessage
	// ReplyToken is the token used, for replies.
	ReplyToken string
	// RetryKey is the X-Line-Retry-Key of a push, if any.
	RetryKey string
	// RequestID is the X-Line-Request-Id the API answered with.
	RequestID string
	// At is the API clock's time of acceptance.
	At time.Time
	// Seq orders every delivery and every customer entry of the chat page within the process: millisecond
	// times tie when the bot answers fast, and a tie must not put an answer after the next message.
	Seq uint64
}

// Stats counts what the API has seen since it was created.
type Stats struct {
	Requests           int // every request, including faulted and refused ones
	Replies            int // accepted replies
	Pushes             int // accepted pushes
	MessagesDelivered  int // messages in accepted replies and pushes
	DuplicateRetryKeys int // pushes refused with 409 (retry key already accepted)
	InvalidReplyTokens int // replies refused: unknown, used or expired token
	BadRequests        int // other 400 answers (invalid body, retry key, ...)
	BlockedPushes      int // pushes refused because the user blocked the account
	Unauthorized       int // 401 answers
	NotFound           int // 404 answers
	FaultsServed       int // error answers produced by an injected Fault
	Profiles           int // profiles served
	LoadingStarts      int // accepted loading animations
	MarkAsReads        int // accepted mark-as-read calls
	ContentsServed     int // message contents served (200)
	SubscriberDrops    int // deliveries or activities a full subscriber channel lost
	RateLimited        int // 429 answers from APIOptions.RateLimits
}

// ReadMark records that the bot marked a user's message as read.
type ReadMark struct {
	MessageID string
	At        time.Time
}

// Loading records a loading animation the bot started in a user's chat.
type Loading struct {
	Seconds int
	At      time.Time
}

// Activity is something the bot did in a user's chat other than sending
// messages: marking a message read or starting the loading animation.
type Activity struct {
	UserID    string
	Kind      string // "read" or "loading"
	MessageID string // the message marked read ("read")
	Seconds   int    // the animation's duration ("loading")
	At        time.Time
}

// notifyActivityLocked sends act to activity subscribers without blocking.
// a.mu must be held.
func (a *API) notifyActivityLocked(act Activity) {
	for _, ch := range a.actSubs {
		select {
		case ch <- act:
		default:
			a.stats.SubscriberDrops++
		}
	}
}

// SubscribeActivity is Subscribe for activities (read marks and loading
// animations), with the same buffering and non-blocking rules.
func (a *API) SubscribeActivity() (<-chan Activity, func()) {
	return subscribe(a, a.actSubs)
}

// deliverLocked records d and notifies subscribers and waiters. a.mu must be held.
func (a *API) deliverLocked(d Delivered) {
	d.Seq = order.Add(1)
	a.deliveries = append(a.deliveries, d)
	a.byUser[d.UserID] = append(a.byUser[d.UserID], len(a.deliveries)-1)
	a.stats.MessagesDelivered += len(d.Messages)
	if d.Via == "reply" {
		a.stats.Replies++
	} else {
		a.stats.Pushes++
	}
	for _, ch := range a.subs {
		select {
		case ch <- d:
		default:
			a.stats.SubscriberDrops++
		}
	}
	close(a.changed)
	a.changed = make(chan struct{})
}

// Deliveries returns the accepted deliveries to userID in order of
// acceptance, or all deliveries when userID is "".
func (a *API) Deliveries(userID string) []Delivered {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.deliveriesLocked(userID)
}

func (a *API) deliveriesLocked(userID string) []Delivered {
	if userID == "" {
		return append([]Delivered(nil), a.deliveries...)
	}
	idx := a.byUser[userID]
	out := make([]Delivered, len(idx))
	for i, j := range idx {
		out[i] = a.deliveries[j]
	}
	return out
}

// WaitDeliveries waits until at least n deliveries exist for userID (all
// users when "") and returns them all, or returns ctx's error with those
// seen so far.
func (a *API) WaitDeliveries(ctx context.Context, userID string, n int) ([]Delivered, error) {
	for {
		a.mu.Lock()
		got := a.deliveriesLocked(userID)
		ch := a.changed
		a.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return got, ctx.Err()
		}
	}
}

// Subscribe returns a channel receiving every delivery accepted from now on
// and a function that ends the subscription (and closes the channel). The
// channel is buffered; when it is full, deliveries are dropped for this
// subscriber rather than blocking the API.
func (a *API) Subscribe() (<-chan Delivered, func()) {
	return subscribe(a, a.subs)
}

// subscribe adds a buffered channel to subs (a map guarded by a.mu) and returns it with the function
// that removes and closes it, once.
func subscribe[T any](a *API, subs map[int]chan T) (<-chan T, func()) {
	ch := make(chan T, a.opts.SubscriberBuffer)
	a.mu.Lock()
	id := a.nextSub
	a.nextSub++
	subs[id] = ch
	a.mu.Unlock()
	var done bool
	return ch, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if !done {
			done = true
			delete(subs, id)
			close(ch)
		}
	}
}

// Stats returns a snapshot of the counters.
func (a *API) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// ReadMarks returns the messages of userID the bot marked as read, in order.
func (a *API) ReadMarks(userID string) []ReadMark {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]ReadMark(nil), a.reads[userID]...)
}

// Loadings returns the loading animations the bot started in userID's chat.
func (a *API) Loadings(userID string) []Loading {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Loading(nil), a.loadings[userID]...)
}

// Reset forgets all deliveries, tokens, retry keys, reads, loadings and
// counters (users, contents and rich menus stay) and clears the faults.
func (a *API) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.deliveries = nil
	a.byUser = map[string][]int{}
	a.replyTokens = map[string]replyToken{}
	a.readTokens = map[string]readToken{}
	a.retryKeys = map[string]retryKey{}
	a.reads = map[string][]ReadMark{}
	a.loadings = map[string][]Loading{}
	a.stats = Stats{}
	a.fault = nil
	a.contentFault = nil
}
