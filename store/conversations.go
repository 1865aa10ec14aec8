package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot"
)

// Conversation checkpoints are the one collection the pipeline overwrites. On the embedded engine an
// overwrite scans its collection, so there the checkpoints are spread over embeddedConvShards
// collections by a hash of the user ID: with 100,000 customers one overwrite scans about 1,600
// documents instead of 100,000. MongoDB finds by _id through its index, so there one collection
// ("conversations") serves; the code is the same.
const (
	colConversations   = "conversations"
	embeddedConvShards = 64
)

// knownConversations is the set of customers with a checkpoint, kept only on the embedded engine,
// whose files belong to this one process. A customer's first message then costs no lookup: on this
// engine a find by _id is cheap in time but not in CPU (about 0.7 ms), and 1,500 new customers a
// second spent a core on finding nothing. The set is loaded in the background at start (until then
// every lookup goes to the store); it holds only IDs, about 4 MB per 100,000 customers.
type knownConversations struct {
	mu     sync.Mutex
	loaded bool
	ids    map[string]struct{}
}

// absent reports whether userID certainly has no checkpoint.
func (k *knownConversations) absent(userID string) bool {
	if k == nil {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.ids[userID]
	return k.loaded && !ok
}

func (k *knownConversations) add(userIDs ...string) {
	if k == nil {
		return
	}
	k.mu.Lock()
	for _, id := range userIDs {
		k.ids[id] = struct{}{}
	}
	k.mu.Unlock()
}

// loadKnownConversations reads the IDs of every checkpoint (all shards) into the set.
func (s *Store) loadKnownConversations(ctx context.Context) error {
	ids := map[string]struct{}{}
	for shard := range s.convShards {
		cur, err := s.db.Collection(fmt.Sprintf("%s_%02d", colConversations, shard)).Find(ctx, bson.D{},
			options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return err
		}
		for cur.Next(ctx) {
			if id, ok := cur.Current.Lookup("_id").StringValueOK(); ok {
				ids[id] = struct{}{}
			}
		}
		if err := cur.Err(); err != nil {
			return err
		}
		_ = cur.Close(ctx)
	}
	k := s.known
	k.mu.Lock()
	for id := range k.ids { // added while loading
		ids[id] = struct{}{}
	}
	k.ids, k.loaded = ids, true
	n := len(ids) // the set is the index's from here on, written under its lock
	k.mu.Unlock()
	s.log.Info("conversation index loaded", "conversations", n)
	return nil
}

func (s *Store) convColl(userID string) *mongo.Collection {
	if s.convShards <= 1 {
		return s.db.Collection(colConversations)
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(userID))
	return s.db.Collection(fmt.Sprintf("%s_%02d", colConversations, h.Sum32()%uint32(s.convShards)))
}

// Conversation implements bot.Journal.
func (s *Store) Conversation(ctx context.Context, userID string) (bot.Conversation, bool, error) {
	var c bot.Conversation
	if s.known.absent(userID) {
		return c, false, nil
	}
	err := s.convColl(userID).FindOne(ctx, bson.D{{Key: "_id", Value: userID}}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return c, false, nil
	}
	return c, err == nil, err
}

// InsertConversations implements bot.Journal: first checkpoints, one insertMany per collection. A
// conversation that turns out to be stored already is overwritten instead.
func (s *Store) InsertConversations(ctx context.Context, convs []bot.Conversation) error {
	byColl := map[string][]bot.Conversation{}
	for _, c := range convs {
		s.known.add(c.UserID)
		name := s.convColl(c.UserID).Name()
		byColl[name] = append(byColl[name], c)
	}
	var existing []bot.Conversation
	for name, group := range byColl {
		docs := make([]any, len(group))
		for i := range group {
			docs[i] = group[i]
		}
		unlock := s.lockWrites()
		_, err := s.db.Collection(name).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		unlock()
		if err == nil {
			continue
		}
		var bwe mongo.BulkWriteException
		if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
			return err
		}
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 {
				return err
			}
			if we.Index >= 0 && we.Index < len(group) {
				existing = append(existing, group[we.Index])
			}
		}
	}
	return s.SaveConversations(ctx, existing)
}

// SaveConversations implements bot.Journal: one upserting replace per conversation, each taking the
// write turn on its own so that the hot path's inserts slip in between.
func (s *Store) SaveConversations(ctx context.Context, convs []bot.Conversation) error {
	for _, c := range convs {
		s.known.add(c.UserID)
		filter := bson.D{{Key: "_id", Value: c.UserID}}
		if s.embedded == nil && !s.ferret {
			// Several instances: a former holder of the customer's lease must not write back an older
			// state over the new holder's. The stored one stands when its Seq is higher (the upsert then
			// meets the existing _id: a duplicate key, which means exactly that). Not on FerretDB: its
			// update is a query and a write, so the condition would not be atomic, and any filter but
			// _id alone scans the collection.
			filter = append(filter, bson.E{Key: "seq", Value: bson.D{{Key: "$lte", Value: c.Seq}}})
		}
		unlock := s.lockWrites()
		_, err := s.convColl(c.UserID).ReplaceOne(ctx, filter, c, options.Replace().SetUpsert(true))
		unlock()
		if mongo.IsDuplicateKeyError(err) && s.embedded == nil && !s.ferret {
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}
