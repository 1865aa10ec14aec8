package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

const colConsentHistory = "consent_history"

// ConsentRecord is one entry of the append-only consent history: the proof of one opt-out or opt-in.
type ConsentRecord struct {
	// ID is "<event id>/<effect index>" for changes from the chat (so applying a step twice records it
	// once) and "staff/<…>" for staff entries.
	ID string `bson:"_id"`
	// Seq orders the history; the marketing API's cursor is the Seq of the last record read.
	Seq int64 `bson:"seq"`
	// Subject is who the change is about: "line:<LINE user ID>" for changes from LINE, "staff:<phone or
	// e-mail>" for staff entries.
	Subject  string              `bson:"subject"`
	Action   flows.ConsentAction `bson:"action"`
	Channels flows.Channels      `bson:"channels"`
	Name     string              `bson:"name,omitempty"`
	Phone    string              `bson:"phone,omitempty"` // E.164
	Email    string              `bson:"email,omitempty"`
	Postal   string              `bson:"postal,omitempty"`
	Customer string              `bson:"customer,omitempty"`
	Source   flows.ConsentSource `bson:"source"`
	// The wording the customer agreed to: catalog ID, language and the text as rendered when recorded.
	WordingID   string     `bson:"wordingId,omitempty"`
	WordingLang flows.Lang `bson:"wordingLang,omitempty"`
	WordingText string     `bson:"wordingText,omitempty"`
	Reference   string     `bson:"ref"`
	At          time.Time  `bson:"at"`         // when the customer gave it
	RecordedAt  time.Time  `bson:"recordedAt"` // when it was stored
	EventID     string     `bson:"eventId,omitempty"`
	Staff       string     `bson:"staff,omitempty"` // the staff member who entered it
}

// ConsentView is a consent record as marketing systems see it, in the API feed and in the webhook.
type ConsentView struct {
	ID          string            `json:"id"`
	Subject     string            `json:"subject"`
	Channels    []string          `json:"channels"`
	Identifiers map[string]string `json:"identifiers,omitempty"`
	Source      string            `json:"source"`
	Reference   string            `json:"reference"`
	OccurredAt  time.Time         `json:"occurred_at"`
	RecordedAt  time.Time         `json:"recorded_at"`
	// OptedOutNow is every channel the subject is opted out of after this record.
	OptedOutNow []string `json:"opted_out_now"`
}

// View returns the record as marketing systems see it; optedOutNow is the subject's state after it.
func (r ConsentRecord) View(optedOutNow flows.Channels) ConsentView {
	return ConsentView{ID: r.ID, Subject: r.Subject, Channels: names(r.Channels), Identifiers: r.Identifiers(),
		Source: string(r.Source), Reference: r.Reference, OccurredAt: r.At.UTC(), RecordedAt: r.RecordedAt.UTC(),
		OptedOutNow: names(optedOutNow)}
}

// names lists channels for JSON: an empty list, never null.
func names(c flows.Channels) []string {
	if n := c.Names(); n != nil {
		return n
	}
	return []string{}
}

// Identifiers returns the identifiers the customer gave, by their API names (nil when none).
func (r ConsentRecord) Identifiers() map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{"name": r.Name, "phone": r.Phone, "email": r.Email, "postal_code": r.Postal, "customer_number": r.Customer} {
		if v != "" {
			m[k] = v
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// ChannelState is the current state of one channel for one subject, and the record that set it.
type ChannelState struct {
	OptedOut  bool
	At        time.Time
	Reference string
	Seq       int64
}

// ConsentState is the current consent of one subject, derived from its history.
type ConsentState struct {
	Subject                              string
	Name, Phone, Email, Postal, Customer string // the latest given
	Channels                             [7]ChannelState
	UpdatedAt                            time.Time
	LastSeq                              int64
}

// OptedOut is the set of channels the subject has opted out of.
func (s *ConsentState) OptedOut() flows.Channels {
	var c flows.Channels
	for i, ch := range s.Channels {
		if ch.OptedOut {
			c |= 1 << i
		}
	}
	return c
}

// apply folds one record into the state. Per channel the later statement wins; two statements made
// at the same moment resolve to opt-out.
func (s *ConsentState) apply(r *ConsentRecord) {
	for _, v := range []struct {
		dst *string
		src string
	}{{&s.Name, r.Name}, {&s.Phone, r.Phone}, {&s.Email, r.Email},
		{&s.Postal, r.Postal}, {&s.Customer, r.Customer}} {
		if v.src != "" {
			*v.dst = v.src
		}
	}
	out := r.Action == flows.ConsentOptOut
	for c := r.Channels & flows.ChanAll; c != 0; c &= c - 1 {
		i := bits.TrailingZeros16(uint16(c))
		cur := &s.Channels[i]
		if cur.Seq == 0 || r.At.After(cur.At) || (r.At.Equal(cur.At) && out) {
			*cur = ChannelState{OptedOut: out, At: r.At, Reference: r.Reference, Seq: r.Seq}
		}
	}
	s.UpdatedAt, s.LastSeq = r.RecordedAt, r.Seq
}

// Consents is the consent history (append-only, in MongoDB) and the current state derived from it (in
// memory, rebuilt from the history at start). It is the bot.EffectSink of consent effects. Writes are
// serialised in this process, which makes Seq gap-free and the API's cursor stable; one process writes.
type Consents struct {
	hist     *mongo.Collection
	lock     func() func() // the store's write turn
	webhooks WebhookQueue  // nil: no outgoing webhook configured
	render   func(lang flows.Lang, id string, data map[string]string) (string, error)
	log      *slog.Logger
	now      func() time.Time

	writeMu sync.Mutex // serialises record

	mu       sync.RWMutex
	records  []ConsentRecord // by Seq
	ids      map[string]int64
	subjects map[string]*ConsentState
	order    []string // subjects in order of first appearance (the CSV's order)
	byPhone  map[string][]string
	byEmail  map[string][]string
	changed  chan struct{} // closed and replaced on every new record (long polling, tests)
}

var _ bot.EffectSink = (*Consents)(nil)

// ConsentOptions configures Consents.
type ConsentOptions struct {
	// Render renders the wording a customer agreed to, so that the record holds the exact text.
	Render func(lang flows.Lang, id string, data map[string]string) (string, error)
	// Webhooks queues every change for the marketing webhook (the outbox, destination
	// MarketingDestination); nil when no webhook is configured.
	Webhooks WebhookQueue
	Log      *slog.Logger
	Now      func() time.Time
}

// OpenConsents loads the consent history of the store and derives the current state.
func OpenConsents(ctx context.Context, s *Store, o ConsentOptions) (*Consents, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Consents{hist: s.db.Collection(colConsentHistory), lock: s.lockWrites, webhooks: o.Webhooks, render: o.Render, log: o.Log, now: o.Now,
		ids: map[string]int64{}, subjects: map[string]*ConsentState{}, byPhone: map[string][]string{},
		byEmail: map[string][]string{}, changed: make(chan struct{})}
	cur, err := c.hist.Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("load consent history: %w", err)
	}
	var recs []ConsentRecord
	if err := cur.All(ctx, &recs); err != nil {
		return nil, fmt.Errorf("load consent history: %w", err)
	}
	sortRecords(recs)
	for i := range recs {
		c.fold(recs[i])
	}
	return c, nil
}

// Apply implements bot.EffectSink: it records the consent effects of a step, once per (event, effect
// index), and queues them for the marketing webhook.
func (c *Consents) Apply(ctx context.Context, st bot.Step) error {
	for i, e := range st.Effects {
		if e.Kind != flows.EffectConsent || e.Consent == nil {
			continue
		}
		ch := e.Consent
		rec := ConsentRecord{ID: st.EventID + "/" + strconv.Itoa(i), Subject: "line:" + st.UserID, Action: ch.Action,
			Channels: ch.Channels & flows.ChanAll, Name: ch.Name, Phone: ch.Phone, Email: ch.Email, Postal: ch.Postal,
			Customer: ch.Customer, Source: ch.Source, WordingID: ch.WordingID, WordingLang: ch.Lang,
			Reference: ch.Reference, At: ch.At, EventID: st.EventID}
		if rec.WordingLang == "" {
			rec.WordingLang = st.Lang
		}
		if rec.At.IsZero() {
			rec.At = st.EventAt
		}
		if rec.WordingID != "" && c.render != nil {
			text, err := c.render(rec.WordingLang, rec.WordingID, ch.WordingData)
			if err != nil {
				c.log.Error("rendering consent wording failed", "event", st.EventID, "err", err)
			}
			rec.WordingText = text
		}
		if err := c.Record(ctx, rec); err != nil {
			return err
		}
	}
	return nil
}

// ErrInvalidConsent is returned for a record that lacks a subject, an action or channels.
var ErrInvalidConsent = errors.New("consent: subject, action and channels are required")

// Record appends a record to the history (a record whose ID is stored already is ignored), updates the
// current state and queues the webhook delivery. It is visible to readers when it returns.
func (c *Consents) Record(ctx context.Context, rec ConsentRecord) error {
	if rec.ID == "" || rec.Subject == "" || rec.Channels == 0 ||
		(rec.Action != flows.ConsentOptOut && rec.Action != flows.ConsentOptIn) {
		return ErrInvalidConsent
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.mu.RLock()
	_, done := c.ids[rec.ID]
	next := int64(len(c.records)) + 1
	c.mu.RUnlock()
	if done {
		return nil // recorded (and queued for the webhook) by an earlier call
	}
	rec.Seq, rec.RecordedAt = next, c.now().UTC()
	// The webhook delivery goes to the outbox first: if the history insert then fails, the caller
	// retries and the outbox ignores the repeat (same key, the record ID); once the history has the
	// record, nothing is redone.
	if c.webhooks != nil {
		c.mu.RLock()
		st := ConsentState{}
		if cur := c.subjects[rec.Subject]; cur != nil {
			st = *cur
		}
		c.mu.RUnlock()
		st.apply(&rec)
		if err := c.queueWebhook(ctx, rec, st.OptedOut()); err != nil {
			return err
		}
	}
	unlock := c.lock()
	_, err := c.hist.InsertOne(ctx, rec)
	unlock()
	if err != nil {
		if !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("record consent: %w", err)
		}
		// Stored by an attempt whose answer was lost: adopt the stored record.
		if err := c.hist.FindOne(ctx, bson.D{{Key: "_id", Value: rec.ID}}).Decode(&rec); err != nil {
			return fmt.Errorf("record consent: %w", err)
		}
	}
	c.fold(rec)
	c.log.Info("consent recorded", "id", rec.ID, "seq", rec.Seq, "action", rec.Action, "channels", rec.Channels.Names(),
		"source", rec.Source)
	return nil
}

// fold adds a stored record to the in-memory state.
func (c *Consents) fold(rec ConsentRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.ids[rec.ID]; ok {
		return
	}
	c.records = append(c.records, rec)
	c.ids[rec.ID] = rec.Seq
	st := c.subjects[rec.Subject]
	if st == nil {
		st = &ConsentState{Subject: rec.Subject}
		c.subjects[rec.Subject] = st
		c.order = append(c.order, rec.Subject)
	}
	st.apply(&rec)
	if rec.Phone != "" {
		addSubject(c.byPhone, rec.Phone, rec.Subject)
	}
	if rec.Email != "" {
		addSubject(c.byEmail, rec.Email, rec.Subject)
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

func addSubject(m map[string][]string, key, subject string) {
	for _, s := range m[key] {
		if s == subject {
			return
		}
	}
	m[key] = append(m[key], subject)
}

// Since returns up to limit records with Seq greater than after, oldest first, each with the current
// state of its subject, and whether more follow.
func (c *Consents) Since(after int64, limit int) ([]ConsentRecord, []ConsentState, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	after = max(after, 0)
	if after >= int64(len(c.records)) {
		return nil, nil, false
	}
	end := min(int64(len(c.records)), after+int64(limit))
	recs := append([]ConsentRecord(nil), c.records[after:end]...)
	states := make([]ConsentState, len(recs))
	for i := range recs {
		states[i] = *c.subjects[recs[i].Subject]
	}
	return recs, states, end < int64(len(c.records))
}

// Changed returns a channel closed at the next new record.
func (c *Consents) Changed() <-chan struct{} {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.changed
}

// Subjects calls fn with the current state of every subject, in order of first appearance, copying
// at most chunk states at a time under the lock (so an export of any size holds constant memory and
// never blocks writers for long). fn's error stops the walk.
func (c *Consents) Subjects(chunk int, fn func(ConsentState) error) error {
	buf := make([]ConsentState, 0, chunk)
	for i := 0; ; {
		buf = buf[:0]
		c.mu.RLock()
		for ; i < len(c.order) && len(buf) < chunk; i++ {
			buf = append(buf, *c.subjects[c.order[i]])
		}
		c.mu.RUnlock()
		if len(buf) == 0 {
			return nil
		}
		for _, st := range buf {
			if err := fn(st); err != nil {
				return err
			}
		}
	}
}

// Match returns the current states of the subjects known by a phone number (E.164) or an e-mail
// address (lower case).
func (c *Consents) Match(phone, email string) []ConsentState {
	c.mu.RLock()
	defer c.mu.RUnlock()
	seen := map[string]bool{}
	var out []ConsentState
	for _, subs := range [][]string{c.byPhone[phone], c.byEmail[email]} {
		for _, s := range subs {
			if !seen[s] {
				seen[s] = true
				out = append(out, *c.subjects[s])
			}
		}
	}
	return out
}

// History returns every record of one subject, oldest first.
func (c *Consents) History(subject string) []ConsentRecord {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []ConsentRecord
	for _, r := range c.records {
		if r.Subject == subject {
			out = append(out, r)
		}
	}
	return out
}

// LastSeq is the Seq of the newest record (0 when there is none).
func (c *Consents) LastSeq() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return int64(len(c.records))
}

func sortRecords(recs []ConsentRecord) {
	slices.SortFunc(recs, func(a, b ConsentRecord) int { return cmp.Compare(a.Seq, b.Seq) })
}
