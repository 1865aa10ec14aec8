// Package store persists the pipeline in MongoDB through the official driver (v2). With no MongoDB URI it
// starts an embedded FerretDB engine (see Embedded) and talks to it through the same driver.
//
// The embedded engine scans the whole collection on every update and delete (finds by _id are fast), so
// the hot path here is insert-only and group-committed, and the collections that are updated or
// deleted from stay small: the inbox holds only unhandled events and conversations are checkpointed in
// the background.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

// opTimeout bounds every single store operation.
const opTimeout = 10 * time.Second

// Collection names.
const (
	colSteps      = "steps"
	colDeliveries = "deliveries"
	colTranscript = "transcript"
)

// Config says which store to use.
type Config struct {
	URI      string // mongodb://… ; empty: start the embedded engine
	Database string
	DataDir  string // embedded engine files
	// EmbeddedAddr is the loopback address of the embedded engine ("" picks a free port).
	EmbeddedAddr string
	// Retention is the periods in force: on MongoDB the journal's TTL indexes follow them (see
	// ensureIndexes); nil leaves the TTL indexes as they are.
	Retention []flows.Period
	Log       *slog.Logger
}

// Store is the MongoDB-backed Journal of the pipeline.
type Store struct {
	client   *mongo.Client
	db       *mongo.Database
	embedded *Embedded
	log      *slog.Logger

	steps, deliveries, transcript *partitioned
	// questions (bot/insight) are partitioned like the journal: they grow with every typed question
	// and go with the transcript's period.
	questions *partitioned
	// questionQueue holds questions not written yet (embedded engine: insight_queue.go), and
	// queueCancel stops its writer.
	questionQueue *questionQueue
	queueCancel   context.CancelFunc
	buckets       inboxBuckets
	// groupCommits are the group-commit queues of whole collections on MongoDB (the shared inbox,
	// the customers' leases: collAppender), by collection; guarded by buckets.mu.
	groupCommits map[string]*appender
	// ferret: the MongoDB URI leads to FerretDB (a standalone engine), whose updates are not atomic and
	// which serves only _id equality from an index (see SaveConversations).
	ferret bool

	// indexer adds the _id lookup index on the embedded engine (see embedded_index.go); nil on MongoDB.
	indexer *lookupIndexer

	// gate serialises writes on the embedded engine (see lockWrites); serial is false on MongoDB.
	gate   writeGate
	serial bool

	convShards int                 // conversation checkpoints are spread over this many collections (see conversations.go)
	known      *knownConversations // embedded engine only (see conversations.go)

	// bg is the store's own background work (loading the known-conversation set); Close cancels and
	// waits for it.
	bg       sync.WaitGroup
	bgCancel context.CancelFunc
}

// lockWrites takes the store's write turn and returns the function that gives it back. SQLite admits
// one writer at a time, and FerretDB leaves the waiting ones to SQLite's sleep-and-retry busy handler,
// which under a few dozen concurrent writers starves some of them for seconds (measured: 10 s client
// timeouts at 300 events/s). Queuing the writers here instead keeps each write short and fair; reads
// never wait. Against MongoDB there is no gate.
func (s *Store) lockWrites() func() {
	if !s.serial {
		return func() {}
	}
	s.gate.acquire(false)
	return s.gate.release
}

// lockWritesUrgent is lockWrites ahead of the queue: for the inbox inserts that webhook
// acknowledgements wait for.
func (s *Store) lockWritesUrgent() func() {
	if !s.serial {
		return func() {}
	}
	s.gate.acquire(true)
	return s.gate.release
}

var _ bot.Journal = (*Store)(nil)

// Open connects (starting the embedded engine when cfg.URI is empty), creates the indexes and returns
// the store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Database == "" {
		cfg.Database = "privacybot"
	}
	s := &Store{log: cfg.Log, convShards: 1, buckets: newInboxBuckets()}
	uri := cfg.URI
	if uri == "" {
		e, err := StartEmbedded(cfg.DataDir, cfg.EmbeddedAddr, cfg.Log)
		if err != nil {
			return nil, err
		}
		s.embedded = e
		s.serial = true
		s.convShards = embeddedConvShards
		uri = e.URI()
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second).
		SetTimeout(opTimeout))
	if err != nil {
		s.stopEmbedded()
		return nil, fmt.Errorf("connect: %w", err)
	}
	s.client = client
	s.db = client.Database(cfg.Database)
	s.steps = newPartitioned(s, colSteps, "eventAt", 1000, true)
	s.deliveries = newPartitioned(s, colDeliveries, "at", 1000, true)
	s.transcript = newPartitioned(s, colTranscript, "at", 2000, false)
	s.questions = newPartitioned(s, colQuestions, "at", 1000, false)
	if err := s.Ping(ctx); err != nil {
		s.Close(context.Background())
		return nil, fmt.Errorf("store unreachable: %w", err)
	}
	if s.embedded == nil {
		s.ferret = s.isFerretDB(ctx)
	}
	if err := s.prepare(ctx, cfg); err != nil {
		s.Close(context.Background())
		return nil, err
	}
	if s.embedded != nil {
		s.questionQueue = &questionQueue{}
		qctx, cancelQueue := context.WithCancel(context.Background())
		s.queueCancel = cancelQueue
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			s.runQuestionQueue(qctx)
		}()
		s.known = &knownConversations{ids: map[string]struct{}{}}
		lctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		s.bgCancel = cancel
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			if err := s.loadKnownConversations(lctx); err != nil {
				s.log.Warn("conversation index not loaded; every first message is looked up", "err", err)
			}
		}()
	}
	return s, nil
}

// Database is the name of the database the store uses.
func (s *Store) Database() string { return s.db.Name() }

// Embedded reports whether the store runs the embedded engine.
func (s *Store) Embedded() bool { return s.embedded != nil }

// Ping checks that the store answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return s.client.Ping(ctx, readpref.Primary())
}

// Close flushes the group-commit queues, disconnects and stops the embedded engine.
func (s *Store) Close(ctx context.Context) {
	if s.bgCancel != nil {
		s.bgCancel()
	}
	if s.queueCancel != nil {
		s.queueCancel() // its writer writes the queue once more before it ends
	}
	s.bg.Wait()
	s.closeInbox()
	for _, p := range s.partitions() {
		if p != nil {
			p.close()
		}
	}
	s.indexer.close()
	if s.client != nil {
		_ = s.client.Disconnect(ctx)
	}
	s.stopEmbedded()
}

func (s *Store) stopEmbedded() {
	if s.embedded != nil {
		s.embedded.Stop()
	}
}

// CommitStep implements bot.Journal.
func (s *Store) CommitStep(ctx context.Context, st bot.Step) error {
	return one(s.steps.insert(ctx, []time.Time{stepDay(st)}, st))
}

// stepDay is the time that places a step: its event's, which every processing of the event shares.
func stepDay(st bot.Step) time.Time {
	if st.EventAt.IsZero() {
		return st.At
	}
	return st.EventAt
}

// Step implements bot.Journal.
func (s *Store) Step(ctx context.Context, eventID string) (bot.Step, error) {
	var st bot.Step
	err := s.steps.findOne(ctx, eventID, &st)
	return st, err
}

// RecordDelivery implements bot.Journal.
func (s *Store) RecordDelivery(ctx context.Context, d bot.Delivery) error {
	err := one(s.deliveries.insert(ctx, []time.Time{d.At}, d))
	if errors.Is(err, bot.ErrDuplicate) {
		return nil
	}
	return err
}

// Delivery implements bot.Journal.
func (s *Store) Delivery(ctx context.Context, eventID string) (bot.Delivery, bool, error) {
	var d bot.Delivery
	err := s.deliveries.findOne(ctx, eventID, &d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, false, nil
	}
	return d, err == nil, err
}

// AppendTranscript implements bot.Journal.
func (s *Store) AppendTranscript(ctx context.Context, entries ...bot.TranscriptEntry) error {
	docs := make([]any, len(entries))
	at := make([]time.Time, len(entries))
	for i := range entries {
		docs[i], at[i] = entries[i], entries[i].At
	}
	errs, err := s.transcript.insert(ctx, at, docs...)
	if err != nil {
		return err
	}
	for _, e := range errs {
		if e != nil && !errors.Is(e, bot.ErrDuplicate) {
			return e
		}
	}
	return nil
}

// Transcript returns a customer's conversation, oldest first, at most limit lines (the newest).
func (s *Store) Transcript(ctx context.Context, userID string, limit int) ([]bot.TranscriptEntry, error) {
	// Lines of one answer share a millisecond (BSON times hold no finer): their IDs keep them in order.
	// Days are read newest first, so the newest limit lines are the first ones found.
	var out []bot.TranscriptEntry
	for _, c := range s.transcript.colls() {
		opts := options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}})
		if limit > 0 {
			opts.SetLimit(int64(limit - len(out)))
		}
		cur, err := c.Find(ctx, bson.D{{Key: "user", Value: userID}}, opts)
		if err != nil {
			return nil, err
		}
		var day []bot.TranscriptEntry
		if err := cur.All(ctx, &day); err != nil {
			return nil, err
		}
		out = append(out, day...)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	slices.Reverse(out)
	return out, nil
}

func one(errs []error, err error) error {
	if err != nil {
		return err
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return nil
}

// isFerretDB reports whether the server is FerretDB (its buildInfo says so).
func (s *Store) isFerretDB(ctx context.Context) bool {
	var info bson.Raw
	if err := s.db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return false
	}
	_, err := info.LookupErr("ferretdbVersion")
	return err == nil
}
