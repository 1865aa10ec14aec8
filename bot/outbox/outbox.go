// Package outbox delivers messages to systems outside the bot (signed webhooks, a staff LINE group)
// from a durable store: a message is stored before Enqueue returns, attempted at once, retried with
// backoff while it fails, and leaves the pending set only when it is delivered or given up (failed).
// Admins see pending and failed deliveries and can put a failed one back.
//
// The package knows no database and no HTTP framework: persistence is the small Store interface
// (store.OutboxStore implements it on MongoDB), destinations are the Destination interface (Webhook
// here; bot.GroupAlerter pushes to LINE).
//
// Several instances may share one store: each queues (Enqueue and Retry write the store, whose Add
// and Reopen decide by ID), and one at a time sends (RunShared, under a lease in the store; Sync
// brings every instance's pending set in line with the store). A single process runs Run alone.
package outbox

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Message is what a user of the outbox hands over: a JSON payload for one destination.
type Message struct {
	// Destination names a destination of the outbox (Config.Destinations).
	Destination string `json:"destination"`
	// Type says what the payload is, e.g. "consent.optout" or "escalation.created".
	Type string `json:"type"`
	// Key is the idempotency key: unique per destination, stable across repeats of the same message.
	// A message whose key the destination has (pending, delivered or failed) is not queued again.
	// Webhook receivers get it in X-Privacybot-Delivery and Idempotency-Key to deduplicate by.
	Key string `json:"key"`
	// Payload is the JSON body, sent byte for byte.
	Payload json.RawMessage `json:"payload"`
	// CreatedAt is when the message was made (default: when it was queued).
	CreatedAt time.Time `json:"created_at"`
}

// State is where a delivery stands.
type State string

const (
	Pending   State = "pending"   // queued; attempted until delivered or given up
	Delivered State = "delivered" // the destination accepted it
	Failed    State = "failed"    // refused for good, or not accepted within Policy.MaxAge
)

// Delivery is a message and the state of its delivery.
type Delivery struct {
	Message
	// ID is the delivery's ID in the outbox: ID(Destination, Key).
	ID    string `json:"id"`
	State State  `json:"state"`
	// Attempts counts the attempts since QueuedAt.
	Attempts int `json:"attempts"`
	// QueuedAt starts the window of attempts: when it was queued, or put back by Retry.
	QueuedAt    time.Time `json:"queued_at"`
	NextAttempt time.Time `json:"next_attempt,omitzero"` // pending only
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	// LastStatus is the destination's status code of the last attempt (HTTP; 0 when none came back).
	LastStatus int    `json:"last_status,omitempty"`
	LastError  string `json:"last_error,omitempty"`
	// DoneAt is when it was delivered or failed.
	DoneAt time.Time `json:"done_at,omitzero"`
}

// ID is the ID of the delivery of a destination's message with an idempotency key.
func ID(destination, key string) string { return destination + "/" + key }

// Store keeps deliveries durably. Only pending deliveries need to be cheap to change: delivered and
// failed ones are moved out of the pending set (Finish), which keeps that set small.
type Store interface {
	// Add stores a new pending delivery. It returns false, and stores nothing, when a delivery with
	// the same ID is stored already (pending, delivered or failed).
	Add(ctx context.Context, d Delivery) (added bool, err error)
	// Pending returns every pending delivery (read once, when the outbox opens).
	Pending(ctx context.Context) ([]Delivery, error)
	// Save stores the new state of a pending delivery after a failed attempt.
	Save(ctx context.Context, d Delivery) error
	// Finish moves a delivery out of the pending set as d.State (Delivered or Failed). Finishing one
	// that is finished already is not an error.
	Finish(ctx context.Context, d Delivery) error
	// Failed returns the failed deliveries.
	Failed(ctx context.Context) ([]Delivery, error)
	// Reopen moves the failed delivery d.ID back to the pending set, stored as d. ErrNotFailed when no
	// failed delivery has that ID.
	Reopen(ctx context.Context, d Delivery) error
}

// Destination delivers one message (one attempt). It must honour ctx.
type Destination interface {
	Deliver(ctx context.Context, d Delivery) Result
}

// Result is the outcome of one attempt.
type Result struct {
	// Status is the destination's status code (HTTP), 0 when none came back.
	Status int
	// Err is nil when the destination accepted the message.
	Err error
	// Permanent means retrying cannot help (e.g. HTTP 400): the delivery fails at once.
	Permanent bool
	// RetryAfter is the destination's own wait before the next attempt (Retry-After), 0 if none.
	RetryAfter time.Duration
}

var (
	// ErrUnknownDestination is returned for a message to a destination the outbox does not have.
	ErrUnknownDestination = errors.New("outbox: unknown destination")
	// ErrNotFailed is returned by Retry (and Store.Reopen) for an ID that is not a failed delivery
	// (any more: another admin put it back, or it never failed).
	ErrNotFailed = errors.New("outbox: no such failed delivery")
	// ErrInvalid is returned for a message without a type or key, or whose payload is not JSON.
	ErrInvalid = errors.New("outbox: a message needs a type, a key and a JSON payload")
)

// Config configures an Outbox.
type Config struct {
	Store Store
	// Destinations by name. Pending deliveries of a name not listed fail when the outbox opens.
	Destinations map[string]Destination
	Policy       Policy
	Clock        Clock // default: the system clock
	Log          *slog.Logger
	// KeepDelivered is how many delivered deliveries per destination Delivered lists (default 200;
	// kept in memory only, so the list starts empty after a restart).
	KeepDelivered int
}

// Outbox queues messages durably and sends them (Run). Every destination has its own lane: messages
// of one destination are sent one at a time, oldest due first, and a destination that fails (or
// asks to wait, Retry-After) pauses its lane without holding up the others.
type Outbox struct {
	store  Store
	policy Policy
	clock  Clock
	log    *slog.Logger
	keep   int
	lanes  map[string]*lane // fixed at Open
	names  []string

	running atomic.Bool
	// enqMu serialises Enqueue and Retry: their check-then-add must not interleave for one key.
	enqMu sync.Mutex
	// mu guards the lanes' state (pending, recent, pause) and what Sync needs (seq, gen, gone).
	mu  sync.Mutex
	seq int64
	// Sync's bookkeeping (shared.go): gen counts the deliveries this process finished, and gone holds
	// them until a read of the store shows they left its pending set. Kept only once Sync has run.
	syncMu sync.Mutex
	shared bool
	gen    int64
	gone   map[string]tomb
}

type lane struct {
	name    string
	dest    Destination
	wake    chan struct{}
	pending map[string]*item // by delivery ID
	recent  []Delivery       // delivered, newest last
	// A run of transient failures pauses the lane (exponential, or the destination's Retry-After),
	// so a destination that is down is probed, not flooded with every pending message.
	streak int
	paused time.Time
	// Outcomes since the outbox opened (Counts).
	delivered, failed, retried int64
}

type item struct {
	d   Delivery
	seq int64 // order of queueing, for ties
}

// Open loads the pending deliveries of the store. Those of a destination that is no longer
// configured are marked failed (an admin can retry them once it is configured again).
func Open(ctx context.Context, cfg Config) (*Outbox, error) {
	if cfg.Store == nil {
		return nil, errors.New("outbox: no store")
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.KeepDelivered <= 0 {
		cfg.KeepDelivered = 200
	}
	o := &Outbox{store: cfg.Store, policy: cfg.Policy.withDefaults(), clock: cfg.Clock, log: cfg.Log, keep: cfg.KeepDelivered,
		lanes: map[string]*lane{}}
	for name, dest := range cfg.Destinations {
		if name == "" || strings.Contains(name, "/") || dest == nil {
			return nil, fmt.Errorf("outbox: bad destination %q", name)
		}
		o.lanes[name] = &lane{name: name, dest: dest, wake: make(chan struct{}, 1), pending: map[string]*item{}}
		o.names = append(o.names, name)
	}
	slices.Sort(o.names)
	ds, err := cfg.Store.Pending(ctx)
	if err != nil {
		return nil, fmt.Errorf("outbox: load pending: %w", err)
	}
	slices.SortFunc(ds, func(a, b Delivery) int {
		return cmp.Or(a.QueuedAt.Compare(b.QueuedAt), cmp.Compare(a.ID, b.ID))
	})
	now := o.clock.Now()
	for _, d := range ds {
		l := o.lanes[d.Destination]
		if l == nil {
			d.State, d.DoneAt, d.NextAttempt = Failed, now, time.Time{}
			d.LastError = "destination " + d.Destination + " is not configured"
			if err := cfg.Store.Finish(ctx, d); err != nil {
				return nil, fmt.Errorf("outbox: fail orphan %s: %w", d.ID, err)
			}
			o.log.Warn("outbox: pending delivery of an unconfigured destination marked failed", "delivery", d.ID, "destination", d.Destination)
			continue
		}
		o.seq++
		l.pending[d.ID] = &item{d: d, seq: o.seq}
	}
	return o, nil
}

// Destinations returns the names of the configured destinations, sorted.
func (o *Outbox) Destinations() []string { return slices.Clone(o.names) }

// Enqueue stores a message as a pending delivery and wakes its destination's sender. It returns once
// the delivery is stored (an error means nothing can be assumed stored; call again). A message whose
// key its destination has already (pending, delivered or failed) is not queued again: Enqueue is
// idempotent by (Destination, Key).
func (o *Outbox) Enqueue(ctx context.Context, m Message) error {
	l := o.lanes[m.Destination]
	if l == nil {
		return fmt.Errorf("%w %q", ErrUnknownDestination, m.Destination)
	}
	if m.Type == "" || m.Key == "" || !json.Valid(m.Payload) {
		return ErrInvalid
	}
	now := o.clock.Now()
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	m.Payload = slices.Clone(m.Payload)
	d := Delivery{Message: m, ID: ID(m.Destination, m.Key), State: Pending, QueuedAt: now, NextAttempt: now}
	o.enqMu.Lock()
	defer o.enqMu.Unlock()
	o.mu.Lock()
	_, queued := l.pending[d.ID]
	o.mu.Unlock()
	if queued {
		return nil
	}
	added, err := o.store.Add(ctx, d)
	if err != nil {
		return fmt.Errorf("outbox: queue %s: %w", d.ID, err)
	}
	if added {
		o.add(l, d)
	}
	return nil
}

func (o *Outbox) add(l *lane, d Delivery) {
	o.mu.Lock()
	o.seq++
	l.pending[d.ID] = &item{d: d, seq: o.seq}
	delete(o.gone, d.ID) // put back by Retry: a new round of attempts, not the one finished
	o.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}
