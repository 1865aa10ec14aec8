package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
)

// withoutBytes is the projection of documents listed for staff and the chat: everything but the
// sealed content, which only Document reads (one at a time, to open it).
var withoutBytes = bson.D{{Key: "sealed", Value: 0}}

// AddDocument implements request.Store: false (and no error) when a document with the ID exists, so
// that applying the same effect again adds nothing.
func (s *Store) AddDocument(ctx context.Context, d request.Document) (bool, error) {
	defer s.lockWrites()()
	_, err := s.db.Collection(colDocuments).InsertOne(ctx, d)
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	return err == nil, err
}

// SaveDocument implements request.Store: it replaces the document d.ID. A document whose bytes were
// deleted (request.DocDeleted: by an erasure or on schedule) stays deleted: a fetch that was still
// running when its bytes were deleted must not bring them back, so saving it with another status
// changes nothing (and is no error: the outcome is final). bot.ErrNotFound when there is no document.
func (s *Store) SaveDocument(ctx context.Context, d request.Document) error {
	filter := byID(d.ID)
	if d.Status != request.DocDeleted {
		filter = append(filter, bson.E{Key: "status", Value: bson.D{{Key: "$ne", Value: request.DocDeleted}}})
	}
	unlock := s.lockWrites()
	res, err := s.db.Collection(colDocuments).ReplaceOne(ctx, filter, d)
	unlock()
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		found, err := has(ctx, s.db.Collection(colDocuments), d.ID)
		if err != nil {
			return err
		}
		if !found {
			return bot.ErrNotFound
		}
	}
	return nil
}

// Document implements request.Store: one document with its sealed bytes; bot.ErrNotFound when there
// is none.
func (s *Store) Document(ctx context.Context, id string) (request.Document, error) {
	var d request.Document
	err := s.db.Collection(colDocuments).FindOne(ctx, byID(id)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, bot.ErrNotFound
	}
	return d, err
}

// Documents implements request.Store: the customer's documents of one draft, oldest first (by
// arrival, then by the customer's numbering), without their bytes.
func (s *Store) Documents(ctx context.Context, userID, draft string) ([]request.Document, error) {
	return s.findDocuments(ctx, bson.D{{Key: "user", Value: userID}, {Key: "draft", Value: draft}})
}

// FetchingDocuments implements request.Store: the documents still waiting for their content, without
// bytes (they have none yet).
func (s *Store) FetchingDocuments(ctx context.Context) ([]request.Document, error) {
	return s.findDocuments(ctx, bson.D{{Key: "status", Value: request.DocFetching}})
}

func (s *Store) findDocuments(ctx context.Context, filter bson.D) ([]request.Document, error) {
	opts := options.Find().SetProjection(withoutBytes).
		SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "seq", Value: 1}, {Key: "_id", Value: 1}})
	cur, err := s.db.Collection(colDocuments).Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	out := []request.Document{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// DocumentsBefore implements request.Store: the documents created before t, without their bytes.
func (s *Store) DocumentsBefore(ctx context.Context, t time.Time) ([]request.Document, error) {
	return s.findDocuments(ctx, bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: t}}}})
}

// DeleteDocuments implements request.Store.
func (s *Store) DeleteDocuments(ctx context.Context, userID, draft string) (int64, error) {
	return s.deleteWhere(ctx, colDocuments, bson.D{{Key: "user", Value: userID}, {Key: "draft", Value: draft}})
}
