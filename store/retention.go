package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/retention"
	"github.com/enemane/privacybot/flows"
)

const (
	colLeases = "leases" // {_id: name, holder, until}: work one instance does at a time
	colSweeps = "sweeps" // the retention sweeper's reports (counts, never content)
)

var (
	_ retention.Lease   = (*Store)(nil)
	_ retention.Records = (*Store)(nil)
	_ retention.Target  = (*Store)(nil)
)

// TryLease implements retention.Lease (the sweeper, the outbox's sender, the document requeue: one
// instance at a time). Like a customer's lease (leases_customer.go) it is a series of generations in
// leases, "<name>/<gen>", each taken by inserting it: the holder renews its own generation (nobody else
// writes it), and a lease that expired or was released is taken by inserting the next one, which only
// one instance can. A conditional update would do on MongoDB, but FerretDB's update is a query and a
// write: two instances could both take an expired lease.
func (s *Store) TryLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	unlock := s.lockWrites()
	defer unlock()
	leases := s.db.Collection(colLeases)
	cur, found, err := newestLease(ctx, leases, name)
	if err != nil {
		return false, err
	}
	live := found && !cur.Released && now.Before(cur.Until)
	switch {
	case live && cur.Holder == holder:
		_, err := leases.UpdateOne(ctx, bson.D{{Key: "_id", Value: cur.ID()}}, bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: until}}}})
		return err == nil, err
	case live:
		return false, nil
	}
	next := bot.CustomerLease{User: name, Gen: cur.Gen + 1, Holder: holder, Until: until}
	if err := insertLease(ctx, leases, next); err != nil {
		if errors.Is(err, bot.ErrDuplicate) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// ReleaseLease implements retention.Lease: the holder marks its generation released.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	unlock := s.lockWrites()
	defer unlock()
	leases := s.db.Collection(colLeases)
	cur, found, err := newestLease(ctx, leases, name)
	if err != nil || !found || cur.Holder != holder {
		return err
	}
	_, err = leases.UpdateOne(ctx, bson.D{{Key: "_id", Value: cur.ID()}}, bson.D{{Key: "$set", Value: bson.D{{Key: "released", Value: true}}}})
	return err
}

// SaveSweep implements retention.Records.
func (s *Store) SaveSweep(ctx context.Context, r retention.Report) error {
	unlock := s.lockWrites()
	defer unlock()
	_, err := s.db.Collection(colSweeps).InsertOne(ctx, r)
	return err
}

// Sweeps implements retention.Records: the newest reports first.
func (s *Store) Sweeps(ctx context.Context, limit int) ([]retention.Report, error) {
	cur, err := s.db.Collection(colSweeps).Find(ctx, bson.D{},
		options.Find().SetSort(bson.D{{Key: "started", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	out := []retention.Report{}
	return out, cur.All(ctx, &out)
}

// Sweep implements retention.Target for the kinds the store keeps on its own:
//
//	transcript     lines whose time is past (daily partitions dropped whole on the embedded engine),
//	               and the questions and review items that copy them
//	steps          steps by their event's time, deliveries by theirs (likewise)
//	conversations  checkpoints not written since the cutoff (the processor forgets them first)
//	escalations    closed or cancelled escalations, by when they closed (or were made, if cancelled)
//	outbox         delivered and given-up outbound messages, by when that happened
//	audit          staff actions, and the sweeper's own reports
//
// Every delete is by a time, so a second run with the same cutoff finds nothing more.
func (s *Store) Sweep(ctx context.Context, kind flows.DataKind, cutoff time.Time) (int64, error) {
	before := bson.D{{Key: "$lt", Value: cutoff}}
	switch kind {
	case flows.DataTranscript:
		n, err := s.transcript.sweep(ctx, cutoff)
		if err != nil {
			return n, err
		}
		m, err := s.sweepInsight(ctx, cutoff)
		return n + m, err
	case flows.DataSteps:
		n, err := s.steps.sweep(ctx, cutoff)
		if err != nil {
			return n, err
		}
		m, err := s.deliveries.sweep(ctx, cutoff)
		return n + m, err
	case flows.DataConversations:
		return s.sweepConversations(ctx, cutoff)
	case flows.DataEscalations:
		return s.deleteWhere(ctx, colEscalations, bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "status", Value: bot.StatusClosed}, {Key: "closedAt", Value: before}},
			bson.D{{Key: "status", Value: bot.StatusCancelled}, {Key: "createdAt", Value: before}},
		}}})
	case flows.DataOutbox:
		done := bson.D{{Key: "doneAt", Value: before}}
		n, err := s.deleteWhere(ctx, colOutboxDelivered, done)
		if err != nil {
			return n, err
		}
		m, err := s.deleteWhere(ctx, colOutboxFailed, done)
		return n + m, err
	case flows.DataAudit:
		n, err := s.deleteWhere(ctx, colAudit, bson.D{{Key: "at", Value: before}})
		if err != nil {
			return n, err
		}
		// The sweeper's reports are counts, and go with the audit log they complete.
		_, err = s.deleteWhere(ctx, colSweeps, bson.D{{Key: "started", Value: before}})
		return n, err
	}
	return 0, fmt.Errorf("store: no retention rule for %q", kind)
}

// deleteWhere deletes what matches filter. On the embedded engine a delete scans its collection with
// the write turn held, so it is counted first (a scan that only reads, and takes no turn) and run only
// when something is due: the usual hourly sweep of a collection with nothing past its period costs
// the hot path nothing.
func (s *Store) deleteWhere(ctx context.Context, coll string, filter bson.D) (int64, error) {
	c := s.db.Collection(coll)
	if s.embedded != nil {
		n, err := c.CountDocuments(ctx, filter)
		if err != nil || n == 0 {
			return 0, err
		}
	}
	unlock := s.lockWrites()
	res, err := c.DeleteMany(ctx, filter)
	unlock()
	if err != nil {
		return 0, fmt.Errorf("sweep %s: %w", coll, err)
	}
	return res.DeletedCount, nil
}

// sweepConversations deletes the checkpoints not written since cutoff, shard by shard.
func (s *Store) sweepConversations(ctx context.Context, cutoff time.Time) (int64, error) {
	filter := bson.D{{Key: "updatedAt", Value: bson.D{{Key: "$lt", Value: cutoff}}}}
	if s.convShards <= 1 {
		// With the checkpoints go the customers' lease generations last renewed before the cutoff
		// (several instances on MongoDB; not counted: they hold nothing of the customer's).
		if err := s.deleteIdleLeases(ctx, cutoff); err != nil {
			return 0, err
		}
		return s.deleteWhere(ctx, colConversations, filter)
	}
	var total int64
	for shard := range s.convShards {
		n, err := s.deleteWhere(ctx, fmt.Sprintf("%s_%02d", colConversations, shard), filter)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
