package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot"
)

// colCustomerLeases holds the customers' leases (bot.Leases): one document per generation, keyed
// "<user>/<gen>". A generation is taken by inserting it, so the unique _id alone decides between two
// instances that want the same customer; no conditional update is trusted (FerretDB's update is a
// query followed by a write, not atomic).
const colCustomerLeases = "customer_leases"

type leaseDoc struct {
	ID                string `bson:"_id"`
	bot.CustomerLease `bson:",inline"`
}

var _ bot.LeaseStore = (*Store)(nil)

func (s *Store) leases() *mongo.Collection { return s.db.Collection(colCustomerLeases) }

// LatestLease implements bot.LeaseStore.
func (s *Store) LatestLease(ctx context.Context, user string) (bot.CustomerLease, bool, error) {
	return latestLease(ctx, s.leases(), user)
}

// latestLease finds the newest generation of a lease (customers' here, named ones in leases).
func latestLease(ctx context.Context, coll *mongo.Collection, key string) (bot.CustomerLease, bool, error) {
	var d leaseDoc
	err := coll.FindOne(ctx, bson.D{{Key: "user", Value: key}},
		options.FindOne().SetSort(bson.D{{Key: "gen", Value: -1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return bot.CustomerLease{}, false, nil
	}
	return d.CustomerLease, err == nil, err
}

// InsertLease implements bot.LeaseStore.
func (s *Store) InsertLease(ctx context.Context, l bot.CustomerLease) error {
	_, err := s.leases().InsertOne(ctx, leaseDoc{ID: l.ID(), CustomerLease: l})
	if mongo.IsDuplicateKeyError(err) {
		return bot.ErrDuplicate
	}
	return err
}

// DropLeasesBelow implements bot.LeaseStore: the generation below gen, by _id (a point delete on
// every server; the ones before it went when it was taken). Generations left by a failed delete are
// the retention sweep's (DeleteIdleLeases).
func (s *Store) DropLeasesBelow(ctx context.Context, user string, gen int64) error {
	_, err := s.leases().DeleteOne(ctx, bson.D{{Key: "_id", Value: bot.CustomerLease{User: user, Gen: gen - 1}.ID()}})
	return err
}

// RenewLeases implements bot.LeaseStore: only the holder writes its generations, so the update needs
// no condition; a generation deleted meanwhile (a successor took the customer) is reported lost.
func (s *Store) RenewLeases(ctx context.Context, ids []string, until time.Time) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	res, err := s.leases().UpdateMany(ctx, in, bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: until}}}})
	if err != nil {
		return nil, err
	}
	if res.MatchedCount == int64(len(ids)) {
		return nil, nil
	}
	cur, err := s.leases().Find(ctx, in, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	stored := make(map[string]bool, len(docs))
	for _, d := range docs {
		stored[d.ID] = true
	}
	var lost []string
	for _, id := range ids {
		if !stored[id] {
			lost = append(lost, id)
		}
	}
	return lost, nil
}

// ReleaseLeases implements bot.LeaseStore.
func (s *Store) ReleaseLeases(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.leases().UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "released", Value: true}}}})
	return err
}
