package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

// prepare readies the collections at Open: on the embedded engine the journal's daily partitions (an
// older store's single collections moved into them once), every known collection created with its
// lookup index, and the unique indexes; on MongoDB the indexes, TTL indexes included.
func (s *Store) prepare(ctx context.Context, cfg Config) error {
	if s.embedded == nil {
		for _, p := range s.partitions() {
			p.single = newAppender(s.db.Collection(p.name), p.maxBatch, s.lockWrites)
		}
		if err := s.moveBucketsToShared(ctx); err != nil {
			return err
		}
		return s.ensureIndexes(ctx, cfg.Retention)
	}
	ix, err := openLookupIndexer(cfg.DataDir, s.db.Name())
	if err != nil {
		return err
	}
	s.indexer = ix
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return err
	}
	for _, p := range s.partitions() {
		p.load(names)
		if slices.Contains(names, p.name) {
			if err := s.partitionLegacy(ctx, p); err != nil {
				return err
			}
		}
	}
	known := []string{colConsentHistory, colEscalations, colOutbox, colOutboxFailed, colAPITokens, colStaff,
		colSessions, colCanned, colRequests, colDocuments, colPackageFiles, colCounters, colLeases, colSweeps,
		colTaught}
	for shard := range s.convShards {
		known = append(known, fmt.Sprintf("%s_%02d", colConversations, shard))
	}
	for _, n := range names {
		if !noLookups(n) && !slices.Contains(known, n) && !strings.HasPrefix(n, colSteps) && !strings.HasPrefix(n, colDeliveries) &&
			!strings.HasPrefix(n, colQuestions) {
			known = append(known, n) // a collection of an older version, or one this list forgot
		}
	}
	for _, p := range []*partitioned{s.steps, s.deliveries} {
		for _, c := range p.colls() {
			known = append(known, c.Name())
		}
	}
	for _, n := range known {
		var err error
		if slices.Contains(names, n) {
			err = s.indexer.ensure(ctx, n) // exists: only its lookup index may be missing (an older version)
		} else {
			err = s.createCollection(ctx, n, true)
		}
		if err != nil {
			return err
		}
	}
	return s.ensureIndexes(ctx, nil)
}

// ensureIndexes creates the indexes. On the embedded engine only the unique ones, which enforce
// something (it serves no query from any other); on MongoDB all of them, and the journal's TTL indexes
// when a retention policy is given.
func (s *Store) ensureIndexes(ctx context.Context, policy []flows.Period) error {
	idx := map[string][]mongo.IndexModel{
		// A customer's draft becomes one request (a repeated submission is a duplicate key).
		colRequests: {{Keys: bson.D{{Key: "user", Value: 1}, {Key: "draft", Value: 1}},
			Options: options.Index().SetUnique(true).SetName("user_draft_unique")}},
		// A Seq is given once across instances: a second instance that picked the same Seq gets a
		// duplicate key, catches up and takes the next (bot/consent).
		colConsentHistory: {{Keys: bson.D{{Key: "seq", Value: 1}},
			Options: options.Index().SetUnique(true).SetName("seq_unique")}},
	}
	if s.embedded == nil {
		idx[colTranscript] = []mongo.IndexModel{{Keys: bson.D{{Key: "user", Value: 1}, {Key: "at", Value: 1}}}}
		idx[colSteps] = []mongo.IndexModel{{Keys: bson.D{{Key: "user", Value: 1}}}}
		idx[colDeliveries] = []mongo.IndexModel{{Keys: bson.D{{Key: "user", Value: 1}}}}
		idx[colDocuments] = []mongo.IndexModel{{Keys: bson.D{{Key: "user", Value: 1}, {Key: "draft", Value: 1}}}}
		idx[colEscalations] = []mongo.IndexModel{{Keys: bson.D{{Key: "user", Value: 1}}}, {Keys: bson.D{{Key: "closedAt", Value: 1}}}}
		idx[colConsentHistory] = append(idx[colConsentHistory], mongo.IndexModel{Keys: bson.D{{Key: "subject", Value: 1}}})
		// What other instances read when they catch up (several instances on one MongoDB).
		idx[colRequests] = append(idx[colRequests], mongo.IndexModel{Keys: bson.D{{Key: "updatedAt", Value: 1}}})
		idx[colEscalations] = append(idx[colEscalations], mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}}})
		// The retention sweeper's ranged deletes (the journal's and the audit log's are the TTL indexes).
		idx[colConversations] = []mongo.IndexModel{{Keys: bson.D{{Key: "updatedAt", Value: 1}}}}
		idx[colOutboxDelivered] = []mongo.IndexModel{{Keys: bson.D{{Key: "doneAt", Value: 1}}}}
		idx[colOutboxFailed] = []mongo.IndexModel{{Keys: bson.D{{Key: "doneAt", Value: 1}}}}
		idx[colSweeps] = []mongo.IndexModel{{Keys: bson.D{{Key: "started", Value: 1}}}}
		// Several instances: the holder of a customer reads their events in order; the scan looks
		// for events waiting; the retention sweep deletes idle customers' lease generations.
		idx[colInbox] = []mongo.IndexModel{{Keys: bson.D{{Key: "user", Value: 1}, {Key: "ts", Value: 1}}},
			{Keys: bson.D{{Key: "recv", Value: 1}}}}
		idx[colCustomerLeases] = []mongo.IndexModel{{Keys: bson.D{{Key: "until", Value: 1}}}}
		idx[colLeaseNudges] = []mongo.IndexModel{{Keys: bson.D{{Key: "lease", Value: 1}}}, {Keys: bson.D{{Key: "holder", Value: 1}}}}
		idx[colDocuments] = append(idx[colDocuments], mongo.IndexModel{Keys: bson.D{{Key: "createdAt", Value: 1}}})
		// The questions: a customer's erasure, the review inbox by status.
		idx[colQuestions] = []mongo.IndexModel{{Keys: bson.D{{Key: "user", Value: 1}}},
			{Keys: bson.D{{Key: "review", Value: 1}, {Key: "_id", Value: -1}}}}
	}
	// One index per call: the embedded engine (FerretDB 1.24) panics on a createIndexes listing two or
	// more indexes that already exist, i.e. on the second start.
	for coll, models := range idx {
		for _, m := range models {
			if _, err := s.db.Collection(coll).Indexes().CreateOne(ctx, m); err != nil {
				return fmt.Errorf("create indexes on %s: %w", coll, err)
			}
		}
	}
	if s.embedded != nil || policy == nil {
		return nil
	}
	for _, t := range ttlIndexes(policy) {
		if err := s.ensureTTL(ctx, t); err != nil {
			// A MongoDB-compatible server without TTL indexes (FerretDB): the sweeper deletes alone.
			s.log.Warn("TTL index not set; the retention sweeper deletes on its own", "collection", t.coll, "err", err)
		}
	}
	return nil
}

// ttlIndex is a TTL index of the MongoDB store: documents go once field is older than after.
type ttlIndex struct {
	coll, field string
	after       time.Duration
}

// ttlBackstop is added to the period: the sweeper deletes at the period and counts what it deleted;
// the server's TTL monitor deletes a day later whatever a stopped sweeper left.
const ttlBackstop = 24 * time.Hour

// ttlIndexes are the TTL indexes a policy asks for, on the collections whose retention is one time
// field: the journal and the audit log.
func ttlIndexes(policy []flows.Period) []ttlIndex {
	var out []ttlIndex
	for _, p := range policy {
		after := p.Approx() + ttlBackstop
		switch p.Kind {
		case flows.DataTranscript:
			// The questions copy the transcript's words and go with it.
			out = append(out, ttlIndex{colTranscript, "at", after}, ttlIndex{colQuestions, "at", after})
		case flows.DataSteps:
			out = append(out, ttlIndex{colSteps, "eventAt", after}, ttlIndex{colDeliveries, "at", after})
		case flows.DataAudit:
			out = append(out, ttlIndex{colAudit, "at", after})
		}
	}
	return out
}

// ensureTTL creates a TTL index, or changes its expiry when the period changed (collMod), or replaces
// a plain index on the same field.
func (s *Store) ensureTTL(ctx context.Context, t ttlIndex) error {
	secs := int32(t.after / time.Second)
	cur, err := s.db.Collection(t.coll).Indexes().List(ctx)
	if err != nil {
		return err
	}
	var specs []struct {
		Name   string `bson:"name"`
		Key    bson.D `bson:"key"`
		Expire *int32 `bson:"expireAfterSeconds"`
	}
	if err := cur.All(ctx, &specs); err != nil {
		return err
	}
	for _, sp := range specs {
		if len(sp.Key) != 1 || sp.Key[0].Key != t.field {
			continue
		}
		switch {
		case sp.Expire != nil && *sp.Expire == secs:
			return nil
		case sp.Expire != nil:
			return s.db.RunCommand(ctx, bson.D{{Key: "collMod", Value: t.coll},
				{Key: "index", Value: bson.D{{Key: "name", Value: sp.Name}, {Key: "expireAfterSeconds", Value: secs}}}}).Err()
		default:
			if err := s.db.Collection(t.coll).Indexes().DropOne(ctx, sp.Name); err != nil {
				return err
			}
		}
	}
	_, err = s.db.Collection(t.coll).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: t.field, Value: 1}},
		Options: options.Index().SetName(t.field + "_ttl").SetExpireAfterSeconds(secs)})
	return err
}

// partitionLegacy moves a single collection of an older version of the embedded store (all of
// "transcript") into daily partitions, then drops it. Run again after an interruption, it moves
// what is left (the copies already moved are duplicates, and skipped).
func (s *Store) partitionLegacy(ctx context.Context, p *partitioned) error {
	started := time.Now()
	cur, err := s.db.Collection(p.name).Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("partition %s: %w", p.name, err)
	}
	defer cur.Close(ctx)
	moved := 0
	var docs []any
	var at []time.Time
	flush := func() error {
		if len(docs) == 0 {
			return nil
		}
		errs, err := p.insert(ctx, at, docs...)
		if err != nil {
			return fmt.Errorf("partition %s: %w", p.name, err)
		}
		for _, e := range errs {
			if e != nil && !isDuplicate(e) {
				return fmt.Errorf("partition %s: %w", p.name, e)
			}
		}
		moved += len(docs)
		docs, at = docs[:0], at[:0]
		return nil
	}
	for cur.Next(ctx) {
		raw := bson.Raw(slices.Clone(cur.Current))
		t, ok := raw.Lookup(p.field).TimeOK()
		if !ok {
			t, _ = raw.Lookup("at").TimeOK()
		}
		docs, at = append(docs, raw), append(at, t)
		if len(docs) == 1000 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("partition %s: %w", p.name, err)
	}
	if err := flush(); err != nil {
		return err
	}
	unlock := s.lockWrites()
	err = s.db.Collection(p.name).Drop(ctx)
	unlock()
	if err != nil {
		return fmt.Errorf("partition %s: %w", p.name, err)
	}
	s.log.Info("journal collection moved into daily partitions", "collection", p.name, "documents", moved,
		"ms", time.Since(started).Milliseconds())
	return nil
}

func isDuplicate(err error) bool {
	return errors.Is(err, bot.ErrDuplicate)
}
