package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot"
)

// On MongoDB the inbox is one collection that every instance shares ("inbox"): an event is a document
// until it is handled, and then it is deleted by _id, which MongoDB does through the index (the
// embedded engine's buckets exist only because its deletes scan). Which instance processes an event
// is not the inbox's business: the customer's lease decides (bot.Leases), and the holder reads the
// customer's events from here in timestamp order (PendingFor). An event stays until the state it
// produced is checkpointed, so whoever takes a customer over after a crash replays it (the step
// journal answers "done") before going further.

var _ bot.SharedInbox = (*Store)(nil)

// SharedInbox reports whether the inbox is the shared collection (MongoDB) rather than the embedded
// engine's buckets, i.e. whether several instances may run on this store.
func (s *Store) SharedInbox() bool { return s.embedded == nil }

func (s *Store) inbox() *mongo.Collection { return s.db.Collection(colInbox) }

// addShared stores events in the shared inbox. A duplicate (a redelivery, or an insert that outlived
// its caller) is stored already; every event is returned for dispatch, because no instance can tell
// whether another one has it: the lease holder takes each once, and the step journal stops a second
// processing of one that was handled and left the inbox.
// The webhooks' inserts are group-committed (one insertMany for those that arrive together), as on
// the embedded engine: MongoDB takes many small inserts in its stride, but a MongoDB-compatible
// server on SQLite takes one write at a time, and hundreds of concurrent ones starve each other.
func (s *Store) addShared(ctx context.Context, events []bot.Event) ([]bot.Event, error) {
	docs := make([]any, len(events))
	for i := range events {
		docs[i] = events[i]
	}
	errs, err := s.collAppender(colInbox).insert(ctx, docs...)
	if err != nil {
		return nil, err
	}
	for _, e := range errs {
		if e != nil && !errors.Is(e, bot.ErrDuplicate) {
			return nil, e
		}
	}
	return events, nil
}

// sharedEvents reads inbox events matching filter, oldest timestamp first.
func (s *Store) sharedEvents(ctx context.Context, filter bson.D) ([]bot.Event, error) {
	cur, err := s.inbox().Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "ts", Value: 1}, {Key: "recv", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var evs []bot.Event
	if err := cur.All(ctx, &evs); err != nil {
		return nil, err
	}
	return evs, nil
}

// PendingFor implements bot.SharedInbox.
func (s *Store) PendingFor(ctx context.Context, userID string) ([]bot.Event, error) {
	return s.sharedEvents(ctx, bson.D{{Key: "user", Value: userID}})
}

// Waiting implements bot.SharedInbox: the customers among users (nil: any) with events in the inbox
// received before before.
func (s *Store) Waiting(ctx context.Context, users []string, before time.Time) ([]string, error) {
	filter := bson.D{{Key: "recv", Value: bson.D{{Key: "$lt", Value: before}}}}
	if users != nil {
		if len(users) == 0 {
			return nil, nil
		}
		filter = append(filter, bson.E{Key: "user", Value: bson.D{{Key: "$in", Value: users}}})
	}
	cur, err := s.inbox().Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "user", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		User string `bson:"user"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range docs {
		if !seen[d.User] {
			seen[d.User] = true
			out = append(out, d.User)
		}
	}
	return out, nil
}

// removeShared deletes handled events.
func (s *Store) removeShared(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.inbox().DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	return err
}

// moveBucketsToShared moves the unhandled events of an older version's inbox buckets into the shared
// inbox, once, at the first start on MongoDB after the upgrade; the buckets are dropped.
func (s *Store) moveBucketsToShared(ctx context.Context) error {
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return err
	}
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, inboxPrefix)
		if !ok || rest == "" {
			continue
		}
		cur, err := s.db.Collection(n).Find(ctx, bson.D{})
		if err != nil {
			return err
		}
		var docs []inboxDoc
		if err := cur.All(ctx, &docs); err != nil {
			return err
		}
		handled := map[string]bool{}
		for _, d := range docs {
			for _, id := range d.Handled {
				handled[id] = true
			}
		}
		var evs []bot.Event
		for _, d := range docs {
			if d.Kind != handledMarkerKind && !handled[d.ID] {
				evs = append(evs, d.Event)
			}
		}
		if len(evs) > 0 {
			if _, err := s.addShared(ctx, evs); err != nil {
				return fmt.Errorf("move inbox bucket %s: %w", n, err)
			}
		}
		if err := s.db.Collection(n).Drop(ctx); err != nil {
			return fmt.Errorf("drop inbox bucket %s: %w", n, err)
		}
		s.log.Info("inbox bucket moved to the shared inbox", "bucket", n, "events", len(evs))
	}
	return nil
}

// collAppender returns the group-commit queue of a whole collection, creating it on first use
// (closed with the inbox's, closeInbox).
func (s *Store) collAppender(name string) *appender {
	s.buckets.mu.Lock()
	defer s.buckets.mu.Unlock()
	if s.groupCommits == nil {
		s.groupCommits = map[string]*appender{}
	}
	a := s.groupCommits[name]
	if a == nil {
		a = newAppender(s.db.Collection(name), 1000, s.lockWritesUrgent)
		s.groupCommits[name] = a
	}
	return a
}
