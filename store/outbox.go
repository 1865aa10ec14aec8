package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/outbox"
)

// Collections of the outbox, one set for every destination. Only the pending collection is updated
// and deleted from (each a scan on the embedded engine), so it holds nothing but pending deliveries:
// a delivery leaves it for the delivered collection (insert-only, read by _id only) or the failed
// one (small: what an admin has to look at).
const (
	colOutbox          = "outbox"
	colOutboxDelivered = "outbox_delivered"
	colOutboxFailed    = "outbox_failed"
	// colLegacyMarketingOutbox is the marketing webhook's outbox before the shared one; its pending
	// deliveries move to the outbox when it opens.
	colLegacyMarketingOutbox = "marketing_outbox"
)

// OutboxStore keeps the outbox in MongoDB: it implements outbox.Store.
type OutboxStore struct {
	pending, delivered, failed *mongo.Collection
	legacy                     *mongo.Collection
	lock                       func() func() // the store's write turn
}

var _ outbox.Store = (*OutboxStore)(nil)

// NewOutboxStore returns the outbox's persistence on s.
func NewOutboxStore(s *Store) *OutboxStore {
	return &OutboxStore{pending: s.db.Collection(colOutbox), delivered: s.db.Collection(colOutboxDelivered),
		failed: s.db.Collection(colOutboxFailed), legacy: s.db.Collection(colLegacyMarketingOutbox), lock: s.lockWrites}
}

// OpenOutbox opens the outbox on s with cfg (cfg.Store is set here): it moves what the former
// marketing outbox still holds into it, then loads the pending deliveries. Its sender is Run.
func OpenOutbox(ctx context.Context, s *Store, cfg outbox.Config) (*outbox.Outbox, error) {
	st := NewOutboxStore(s)
	if err := st.migrateMarketing(ctx); err != nil {
		return nil, err
	}
	cfg.Store = st
	return outbox.Open(ctx, cfg)
}

// outboxDoc is a delivery as stored. The payload is kept as the exact bytes that are signed and sent.
type outboxDoc struct {
	ID          string     `bson:"_id"`
	Destination string     `bson:"dest"`
	Type        string     `bson:"type"`
	Key         string     `bson:"key"`
	Payload     string     `bson:"payload"`
	CreatedAt   time.Time  `bson:"createdAt"`
	State       string     `bson:"state"`
	Attempts    int        `bson:"attempts"`
	QueuedAt    time.Time  `bson:"queuedAt"`
	NextAttempt *time.Time `bson:"nextAttempt,omitempty"`
	LastAttempt *time.Time `bson:"lastAttempt,omitempty"`
	LastStatus  int        `bson:"lastStatus,omitempty"`
	LastError   string     `bson:"lastError,omitempty"`
	DoneAt      *time.Time `bson:"doneAt,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func timeVal(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func docOf(d outbox.Delivery) outboxDoc {
	return outboxDoc{ID: d.ID, Destination: d.Destination, Type: d.Type, Key: d.Key, Payload: string(d.Payload),
		CreatedAt: d.CreatedAt.UTC(), State: string(d.State), Attempts: d.Attempts, QueuedAt: d.QueuedAt.UTC(),
		NextAttempt: timePtr(d.NextAttempt), LastAttempt: timePtr(d.LastAttempt), LastStatus: d.LastStatus,
		LastError: d.LastError, DoneAt: timePtr(d.DoneAt)}
}

func (x outboxDoc) delivery() outbox.Delivery {
	return outbox.Delivery{Message: outbox.Message{Destination: x.Destination, Type: x.Type, Key: x.Key,
		Payload: json.RawMessage(x.Payload), CreatedAt: x.CreatedAt.UTC()}, ID: x.ID, State: outbox.State(x.State),
		Attempts: x.Attempts, QueuedAt: x.QueuedAt.UTC(), NextAttempt: timeVal(x.NextAttempt),
		LastAttempt: timeVal(x.LastAttempt), LastStatus: x.LastStatus, LastError: x.LastError, DoneAt: timeVal(x.DoneAt)}
}

func byID(id string) bson.D { return bson.D{{Key: "_id", Value: id}} }

// has says whether c holds a document with the ID (a find by _id: fast on either engine).
func has(ctx context.Context, c *mongo.Collection, id string) (bool, error) {
	err := c.FindOne(ctx, byID(id)).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	return err == nil, err
}

// Add implements outbox.Store: two finds by _id (delivered, failed), an insert, and the finds again.
//
// Several instances add the same delivery (the daily digest, an alert queued twice): the pending
// collection's _id is unique, so of concurrent inserts one succeeds and the others get a duplicate
// key. What the unique _id cannot see is a delivery finished between the first finds and the insert
// (Finish inserts into delivered or failed, then deletes from pending): the insert then succeeds,
// and the finds after it, which Finish's insert precedes, see the finished one, so the insert is
// taken back. (A sender reading the pending set in that instant may still send it again, under the
// same Idempotency-Key.)
func (o *OutboxStore) Add(ctx context.Context, d outbox.Delivery) (bool, error) {
	if done, err := o.finished(ctx, d.ID); err != nil || done {
		return false, err
	}
	unlock := o.lock()
	_, err := o.pending.InsertOne(ctx, docOf(d))
	unlock()
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	done, err := o.finished(ctx, d.ID)
	if err != nil || !done {
		return err == nil, err // an error: it stays pending, and the sender's Sync finds it
	}
	defer o.lock()()
	_, err = o.pending.DeleteOne(ctx, byID(d.ID))
	return false, err
}

// finished says whether the delivery id is delivered or failed.
func (o *OutboxStore) finished(ctx context.Context, id string) (bool, error) {
	for _, c := range []*mongo.Collection{o.delivered, o.failed} {
		if found, err := has(ctx, c, id); err != nil || found {
			return found, err
		}
	}
	return false, nil
}

// Pending implements outbox.Store.
func (o *OutboxStore) Pending(ctx context.Context) ([]outbox.Delivery, error) {
	return o.all(ctx, o.pending)
}

// Failed implements outbox.Store.
func (o *OutboxStore) Failed(ctx context.Context) ([]outbox.Delivery, error) {
	return o.all(ctx, o.failed)
}

func (o *OutboxStore) all(ctx context.Context, c *mongo.Collection) ([]outbox.Delivery, error) {
	cur, err := c.Find(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	var docs []outboxDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]outbox.Delivery, len(docs))
	for i, x := range docs {
		out[i] = x.delivery()
	}
	return out, nil
}

// Save implements outbox.Store: a replace in the (small) pending collection.
func (o *OutboxStore) Save(ctx context.Context, d outbox.Delivery) error {
	defer o.lock()()
	_, err := o.pending.ReplaceOne(ctx, byID(d.ID), docOf(d))
	return err
}

// Finish implements outbox.Store: an insert into the delivered or failed collection, then the delete
// from the pending one. A crash in between leaves it in both: it is then sent (or given up) again,
// and the insert's duplicate is ignored.
func (o *OutboxStore) Finish(ctx context.Context, d outbox.Delivery) error {
	to := o.delivered
	switch d.State {
	case outbox.Delivered:
	case outbox.Failed:
		to = o.failed
	default:
		return fmt.Errorf("outbox: finish %s as %q", d.ID, d.State)
	}
	unlock := o.lock()
	_, err := to.InsertOne(ctx, docOf(d))
	unlock()
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return err
	}
	defer o.lock()()
	_, err = o.pending.DeleteOne(ctx, byID(d.ID))
	return err
}

// Reopen implements outbox.Store: an insert into the pending collection, then the delete from the
// failed one (a crash in between leaves it in both; the outbox lists it as pending).
func (o *OutboxStore) Reopen(ctx context.Context, d outbox.Delivery) error {
	found, err := has(ctx, o.failed, d.ID)
	if err != nil {
		return err
	}
	if !found {
		return outbox.ErrNotFailed
	}
	if done, err := has(ctx, o.delivered, d.ID); err != nil {
		return err
	} else if done {
		// Left in the failed collection by a crash after it was put back and then delivered.
		defer o.lock()()
		_, err := o.failed.DeleteOne(ctx, byID(d.ID))
		if err != nil {
			return err
		}
		return outbox.ErrNotFailed
	}
	unlock := o.lock()
	_, err = o.pending.InsertOne(ctx, docOf(d))
	unlock()
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return err
	}
	defer o.lock()()
	_, err = o.failed.DeleteOne(ctx, byID(d.ID))
	return err
}

// legacyMarketingDoc is a delivery of the former marketing outbox.
type legacyMarketingDoc struct {
	ID        string    `bson:"_id"`
	Body      string    `bson:"body"`
	CreatedAt time.Time `bson:"createdAt"`
}

// migrateMarketing moves the deliveries left in the former marketing outbox into the outbox (same
// key, same body: receivers see the same delivery), then drops that collection. Nothing happens
// when it is empty or gone.
func (o *OutboxStore) migrateMarketing(ctx context.Context) error {
	cur, err := o.legacy.Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("read the former marketing outbox: %w", err)
	}
	var docs []legacyMarketingDoc
	if err := cur.All(ctx, &docs); err != nil {
		return fmt.Errorf("read the former marketing outbox: %w", err)
	}
	if len(docs) == 0 {
		return nil
	}
	now := time.Now()
	for _, x := range docs {
		var head struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal([]byte(x.Body), &head)
		if head.Type == "" || !json.Valid([]byte(x.Body)) {
			continue // not a delivery this program wrote
		}
		d := outbox.Delivery{Message: outbox.Message{Destination: consent.MarketingDestination, Type: head.Type, Key: x.ID,
			Payload: json.RawMessage(x.Body), CreatedAt: x.CreatedAt}, ID: outbox.ID(consent.MarketingDestination, x.ID),
			State: outbox.Pending, QueuedAt: now, NextAttempt: now}
		if _, err := o.Add(ctx, d); err != nil {
			return fmt.Errorf("move %s from the former marketing outbox: %w", x.ID, err)
		}
	}
	defer o.lock()()
	if err := o.legacy.Drop(ctx); err != nil {
		return fmt.Errorf("drop the former marketing outbox: %w", err)
	}
	return nil
}
