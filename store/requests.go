package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
)

// Collections of personal-data requests. All stay small: a desk receives a handful of requests a week,
// each with a few documents. Documents and package files carry their content sealed (encrypted by
// request.Sealer before it reaches the store); the store never sees a plaintext.
const (
	colRequests     = "requests"      // one document per request; unique on (user, draft)
	colDocuments    = "documents"     // identity documents: metadata and sealed bytes
	colPackageFiles = "package_files" // files attached to data packages: sealed bytes
	colCounters     = "counters"      // sequence counters {_id: name, n: last value}, and claims {_id: name/number}
)

var _ request.Store = (*Store)(nil)

// counterDoc is one sequence counter.
type counterDoc struct {
	ID string `bson:"_id"`
	N  int64  `bson:"n"`
}

// NextRequestNumber implements request.Store: the day's counter proposes a number (an upserting $inc
// that returns the new value), and a claim decides: an insert of {_id: "request:<day>/<n>"}, which
// the unique _id lets one caller make. On MongoDB the $inc is atomic and the claim always succeeds.
// A MongoDB-compatible server that updates by reading and then writing (FerretDB: findAndModify is a
// query, then a replace by _id) can hand two instances the same value: the loser's claim is a
// duplicate key, and it asks the counter again. (On the embedded engine the write turn makes the
// $inc atomic within its one process.) Two first increments of a day racing can both try to insert
// the counter: the loser gets a duplicate key and tries again, and then finds it.
func (s *Store) NextRequestNumber(ctx context.Context, day string) (int, error) {
	if day == "" {
		return 0, errors.New("store: request counter needs a day")
	}
	id := "request:" + day
	counters := s.db.Collection(colCounters)
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	update := bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: int64(1)}}}}
	for attempt := 0; attempt < maxCounterAttempts; attempt++ {
		var c counterDoc
		unlock := s.lockWrites()
		err := counters.FindOneAndUpdate(ctx, byID(id), update, opts).Decode(&c)
		unlock()
		if mongo.IsDuplicateKeyError(err) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("request counter %s: %w", day, err)
		}
		if c.N < 1 {
			return 0, fmt.Errorf("request counter %s: got %d", day, c.N)
		}
		unlock = s.lockWrites()
		_, err = counters.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("%s/%04d", id, c.N)}})
		unlock()
		if mongo.IsDuplicateKeyError(err) {
			continue // another instance was handed the same number and claimed it first
		}
		if err != nil {
			return 0, fmt.Errorf("request counter %s: claim %d: %w", day, c.N, err)
		}
		return int(c.N), nil
	}
	return 0, fmt.Errorf("request counter %s: no number after %d attempts", day, maxCounterAttempts)
}

// maxCounterAttempts bounds NextRequestNumber's proposals: each failed claim means another caller
// got a number, so only as many callers at once as this could exhaust it.
const maxCounterAttempts = 100

// InsertRequest implements request.Store: bot.ErrDuplicate when the reference or the customer's
// draft is stored already (the unique index on user and draft; see ensureIndexes).
func (s *Store) InsertRequest(ctx context.Context, r request.Request) error {
	defer s.lockWrites()()
	_, err := s.db.Collection(colRequests).InsertOne(ctx, r)
	if mongo.IsDuplicateKeyError(err) {
		return bot.ErrDuplicate
	}
	return err
}

// UpdateRequest implements request.Store: a replace conditional on the previous version, like
// UpdateEscalation. request.ErrConflict when the stored version is another; bot.ErrNotFound when
// there is no such request.
func (s *Store) UpdateRequest(ctx context.Context, r request.Request) error {
	unlock := s.lockWrites()
	res, err := s.db.Collection(colRequests).ReplaceOne(ctx,
		bson.D{{Key: "_id", Value: r.ID}, {Key: "version", Value: r.Version - 1}}, r)
	unlock()
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		found, err := has(ctx, s.db.Collection(colRequests), r.ID)
		if err != nil {
			return err
		}
		if !found {
			return bot.ErrNotFound
		}
		return request.ErrConflict
	}
	return nil
}

// AllRequests implements request.Store: every request, by reference.
func (s *Store) AllRequests(ctx context.Context) ([]request.Request, error) {
	return s.findRequests(ctx, bson.D{})
}

// RequestsUpdatedSince implements request.Store: the requests changed at or after t (every write of
// a request sets updatedAt; on MongoDB the index {updatedAt: 1} serves this read, which every
// instance makes every few seconds).
func (s *Store) RequestsUpdatedSince(ctx context.Context, t time.Time) ([]request.Request, error) {
	return s.findRequests(ctx, bson.D{{Key: "updatedAt", Value: bson.D{{Key: "$gte", Value: t}}}})
}

// UserRequests implements request.Store: a customer's requests (the unique index on user and draft
// serves it).
func (s *Store) UserRequests(ctx context.Context, userID string) ([]request.Request, error) {
	return s.findRequests(ctx, bson.D{{Key: "user", Value: userID}})
}

func (s *Store) findRequests(ctx context.Context, filter bson.D) ([]request.Request, error) {
	cur, err := s.db.Collection(colRequests).Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := []request.Request{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// AddFile implements request.Store: bot.ErrDuplicate when a file with the ID is stored.
func (s *Store) AddFile(ctx context.Context, f request.StoredFile) error {
	if f.ID == "" || f.Request == "" {
		return errors.New("store: a package file needs an ID and a request")
	}
	defer s.lockWrites()()
	_, err := s.db.Collection(colPackageFiles).InsertOne(ctx, f)
	if mongo.IsDuplicateKeyError(err) {
		return bot.ErrDuplicate
	}
	return err
}

// PackageFile implements request.Store: the file id of the request's package, with its sealed bytes;
// bot.ErrNotFound when there is none (or it belongs to another request).
func (s *Store) PackageFile(ctx context.Context, requestID, id string) (request.StoredFile, error) {
	var f request.StoredFile
	err := s.db.Collection(colPackageFiles).FindOne(ctx, byID(id)).Decode(&f)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && f.Request != requestID) {
		return request.StoredFile{}, bot.ErrNotFound
	}
	return f, err
}

// DeletePackageFiles implements request.Store.
func (s *Store) DeletePackageFiles(ctx context.Context, requestID string) (int64, error) {
	return s.deleteWhere(ctx, colPackageFiles, bson.D{{Key: "request", Value: requestID}})
}

// DeleteRequest implements request.Store.
func (s *Store) DeleteRequest(ctx context.Context, id string) error {
	unlock := s.lockWrites()
	defer unlock()
	_, err := s.db.Collection(colRequests).DeleteOne(ctx, byID(id))
	return err
}
