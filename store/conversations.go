package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"

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
		unlock := s.lockWrites()
		_, err := s.convColl(c.UserID).ReplaceOne(ctx, bson.D{{Key: "_id", Value: c.UserID}}, c, options.Replace().SetUpsert(true))
		unlock()
		if err != nil {
			return err
		}
	}
	return nil
}
