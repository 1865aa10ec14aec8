package store

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot"
)

// colCustomerLeases holds the customers' leases (bot.Leases): one document per generation, keyed
// "<user>/<gen>", and per customer a head, keyed "<user>", naming the newest generation known. A
// generation is taken by inserting it, so the unique _id alone decides between two instances that
// want the same customer; no conditional update is trusted (FerretDB's update is a query followed by
// a write, not atomic).
//
// Every read and write here is by _id: MongoDB serves any filter from its indexes, but FerretDB
// serves only _id equality, and scanned every customer's lease on each event when the newest
// generation was found by sorting. The head is where a lookup starts (it moves at every eighth
// generation, never down): the newest generation is the last one stored counting up from it, since
// generations above the head are never deleted (deleteIdleLeases moves the head first).
const colCustomerLeases = "customer_leases"

type leaseDoc struct {
	ID                string `bson:"_id"`
	bot.CustomerLease `bson:",inline"`
}

type leaseHead struct {
	ID    string    `bson:"_id"`
	Gen   int64     `bson:"gen"`
	Until time.Time `bson:"until"` // of the generation when it was taken: the sweep's clock
}

var _ bot.LeaseStore = (*Store)(nil)

func (s *Store) leases() *mongo.Collection { return s.db.Collection(colCustomerLeases) }

// LatestLease implements bot.LeaseStore.
func (s *Store) LatestLease(ctx context.Context, user string) (bot.CustomerLease, bool, error) {
	return newestLease(ctx, s.leases(), user)
}

// newestLease finds the newest generation of a lease (customers' here, named ones in leases): from
// the head, the generations stored one after another.
func newestLease(ctx context.Context, coll *mongo.Collection, key string) (bot.CustomerLease, bool, error) {
	var h leaseHead
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&h); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return bot.CustomerLease{}, false, err
	}
	var cur bot.CustomerLease
	found := false
	if h.Gen > 0 {
		l, ok, err := leaseByID(ctx, coll, bot.CustomerLease{User: key, Gen: h.Gen}.ID())
		if err != nil {
			return cur, false, err
		}
		if !ok {
			// Deleted under the head (a sweep racing this lookup): counted as released, so that the
			// next generation taken is above it, never one taken before.
			l = bot.CustomerLease{User: key, Gen: h.Gen, Released: true}
		}
		cur, found = l, true
	}
	for g := h.Gen + 1; ; g++ {
		l, ok, err := leaseByID(ctx, coll, bot.CustomerLease{User: key, Gen: g}.ID())
		if err != nil {
			return cur, false, err
		}
		if !ok {
			return cur, found, nil
		}
		cur, found = l, true
	}
}

func leaseByID(ctx context.Context, coll *mongo.Collection, id string) (bot.CustomerLease, bool, error) {
	var d leaseDoc
	err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return bot.CustomerLease{}, false, nil
	}
	return d.CustomerLease, err == nil, err
}

// InsertLease implements bot.LeaseStore. The customers' generations taken at the same moment are
// group-committed (one insertMany, each document's own outcome returned to its caller): a server on
// SQLite writes one transaction at a time, and a burst of new customers would queue a write each.
func (s *Store) InsertLease(ctx context.Context, l bot.CustomerLease) error {
	errs, err := s.collAppender(colCustomerLeases).insert(ctx, leaseDoc{ID: l.ID(), CustomerLease: l})
	if err == nil {
		err = errs[0]
	}
	if err != nil {
		return err // bot.ErrDuplicate when another instance took the generation
	}
	moveHead(ctx, s.leases(), l)
	return nil
}

// insertLease takes a generation of a named lease (one at a time: no group commit).
func insertLease(ctx context.Context, coll *mongo.Collection, l bot.CustomerLease) error {
	if _, err := coll.InsertOne(ctx, leaseDoc{ID: l.ID(), CustomerLease: l}); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return bot.ErrDuplicate
		}
		return err
	}
	moveHead(ctx, coll, l)
	return nil
}

// headEvery: the head moves at every eighth generation, so a lookup counts up at most eight
// generations past it, and a customer's first lease costs one write, not two.
const headEvery = 8

// moveHead moves the head to a generation just taken, at every headEvery-th (a failed move only
// makes the next lookups count up further).
func moveHead(ctx context.Context, coll *mongo.Collection, l bot.CustomerLease) {
	if l.Gen%headEvery == 0 {
		setHead(ctx, coll, l.User, l.Gen)
	}
}

func setHead(ctx context.Context, coll *mongo.Collection, key string, gen int64) error {
	_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}}, bson.D{{Key: "$max", Value: bson.D{{Key: "gen", Value: gen}}}},
		options.UpdateOne().SetUpsert(true))
	return err
}

// deleteIdleLeases deletes the lease generations of the customers whose newest generation expired
// before cutoff. The head is first moved to that newest generation and stays: a lookup then starts
// there, counts it released when it is gone, and can never take a generation number again (a gap
// under a live generation would let it stop short).
func (s *Store) deleteIdleLeases(ctx context.Context, cutoff time.Time) error {
	cur, err := s.leases().Find(ctx, bson.D{{Key: "user", Value: bson.D{{Key: "$exists", Value: true}}},
		{Key: "until", Value: bson.D{{Key: "$lt", Value: cutoff}}}}, options.Find().SetProjection(bson.D{{Key: "user", Value: 1}}))
	if err != nil {
		return err
	}
	var docs []struct {
		User string `bson:"user"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, d := range docs {
		user := d.User
		if seen[user] {
			continue
		}
		seen[user] = true
		newest, found, err := s.LatestLease(ctx, user)
		if err != nil {
			return err
		}
		if !found || !newest.Until.Before(cutoff) {
			continue // written to since: kept whole
		}
		if err := setHead(ctx, s.leases(), user, newest.Gen); err != nil {
			return err
		}
		if _, err := s.leases().DeleteMany(ctx, bson.D{{Key: "user", Value: user},
			{Key: "until", Value: bson.D{{Key: "$lt", Value: cutoff}}}}); err != nil {
			return err
		}
	}
	return nil
}

// RenewLeases implements bot.LeaseStore: one update for them all (only each generation's holder
// writes it, so no condition is needed). Generations not stored (deleted by the retention sweep) are
// lost; a takeover is prevented by the holder's own reckoning (bot.Leases: a lease that may have
// expired is not renewed but taken again).
func (s *Store) RenewLeases(ctx context.Context, ids []string, until time.Time) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	res, err := s.leases().UpdateMany(ctx, in, bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: until}}}})
	if err != nil || res.MatchedCount == int64(len(ids)) {
		return nil, err
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

// ReleaseLeases implements bot.LeaseStore: one update for them all.
func (s *Store) ReleaseLeases(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.leases().UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "released", Value: true}}}})
	return err
}

// LiveLeases implements bot.LeaseStore: the newest generation of each, by key.
func (s *Store) LiveLeases(ctx context.Context, users []string, since time.Time) ([]string, error) {
	var live []string
	for _, u := range users {
		l, ok, err := s.LatestLease(ctx, u)
		if err != nil {
			return nil, err
		}
		if ok && !l.Released && l.Until.After(since) {
			live = append(live, u)
		}
	}
	return live, nil
}

// colLeaseNudges holds the nudges of holders (bot.LeaseStore.Nudge): one document per nudge, keyed
// "<generation>/<random>", with the generation in "lease". None is merged into one already there: the
// holder's nudge loop reads its nudges, marks their customers and then deletes what it read, and a
// nudge written in between must survive that delete (when it was taken as one already there, its
// event could be stored after the holder's worker had read the inbox for the mark, and wait behind
// the customer's later events). The collection holds only nudges not yet taken: a few.
const colLeaseNudges = "lease_nudges"

type nudgeDoc struct {
	ID     string    `bson:"_id"`
	Lease  string    `bson:"lease"` // the generation nudged
	Holder string    `bson:"holder"`
	User   string    `bson:"user"`
	At     time.Time `bson:"at"`
}

// Nudge implements bot.LeaseStore.
func (s *Store) Nudge(ctx context.Context, l bot.CustomerLease, at time.Time) error {
	_, err := s.db.Collection(colLeaseNudges).InsertOne(ctx, nudgeDoc{ID: l.ID() + "/" + rand.Text(), Lease: l.ID(),
		Holder: l.Holder, User: l.User, At: at})
	return err
}

// Nudges implements bot.LeaseStore.
func (s *Store) Nudges(ctx context.Context, holder string, staleBefore time.Time) ([]string, []string, error) {
	cur, err := s.db.Collection(colLeaseNudges).Find(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "holder", Value: holder}},
		bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: staleBefore}}}},
	}}})
	if err != nil {
		return nil, nil, err
	}
	var docs []nudgeDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, nil, err
	}
	var ids, users []string
	for _, d := range docs {
		ids = append(ids, d.ID)
		if d.Holder == holder {
			users = append(users, d.User)
		}
	}
	return ids, users, nil
}

// DropNudges implements bot.LeaseStore.
func (s *Store) DropNudges(ctx context.Context, ids []string) error {
	_, err := s.db.Collection(colLeaseNudges).DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	return err
}

// TakeNudge implements bot.LeaseStore: every nudge of the generation, in one delete.
func (s *Store) TakeNudge(ctx context.Context, id string) (bool, error) {
	res, err := s.db.Collection(colLeaseNudges).DeleteMany(ctx, bson.D{{Key: "lease", Value: id}})
	if err != nil {
		return false, err
	}
	return res.DeletedCount > 0, nil
}
