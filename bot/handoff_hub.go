package bot

import "sync"

// NoticeKind says what changed.
type NoticeKind string

// The notices of the console's live view.
const (
	NoticeQueue NoticeKind = "queue" // the queue changed (new, claimed, closed escalation, or new messages)
	NoticeChat  NoticeKind = "chat"  // the conversation of escalation ID changed
)

// Notice is one change the console's live view (server-sent events) is told of. It names what
// changed and carries no customer data: the page fetches what it shows.
type Notice struct {
	Kind NoticeKind
	ID   string
}

// Hub fans notices out to subscribers, in process (the embedded store has no change streams). With
// several instances, what the others changed reaches it through Handoffs.Refresh (polling the store
// every second). A subscriber that does not keep up loses notices, never blocks the publisher; each
// notice only says "refetch", so a later one repairs the loss.
type Hub struct {
	mu   sync.Mutex
	subs map[chan Notice]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[chan Notice]struct{}{}} }

// Subscribe returns a channel of notices from now on and the function that ends the subscription.
func (h *Hub) Subscribe() (<-chan Notice, func()) {
	ch := make(chan Notice, 64)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}

// Publish sends n to every subscriber that has room.
func (h *Hub) Publish(n Notice) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- n:
		default:
		}
	}
}
