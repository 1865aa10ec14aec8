package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// The journal's three insert-only collections (steps, deliveries, transcript) grow with every event
// and are the bulk of the store. Their retention (package bot/retention) is a cutoff on one time field.
//
// On the embedded engine a delete scans its collection, so there each is kept as one collection per
// UTC day of that field ("transcript_20261204"), and the sweeper drops whole days once the day is past
// the period (a drop costs the same at any size): data goes at most a day after its period ends. On
// MongoDB each is one collection whose deletes use an index, with a TTL index as the backstop.
//
// A document's day must not change when it is written again (a crash, a redelivery), or a second copy
// would land in another day where the unique _id does not catch it: steps go by the event's time,
// deliveries and transcript lines by times the pipeline fixes once (see bot.Processor.writeTranscript).

// partitionDay is the width of a partition.
const partitionDay = 24 * time.Hour

// partitioned is one logical collection of the journal.
type partitioned struct {
	name     string // logical name: "steps"
	field    string // the time field that places a document and starts its retention clock
	maxBatch int    // group-commit size of each day's appender
	lookups  bool   // finds by _id happen: give each day the lookup index (embedded engine)

	s *Store

	mu        sync.Mutex
	days      map[int64]bool // days that exist (embedded engine), by Unix day start
	appenders map[int64]*appender
	single    *appender // MongoDB: the one collection's appender
}

func newPartitioned(s *Store, name, field string, maxBatch int, lookups bool) *partitioned {
	return &partitioned{name: name, field: field, maxBatch: maxBatch, lookups: lookups, s: s,
		days: map[int64]bool{}, appenders: map[int64]*appender{}}
}

// split reports whether the collection is kept in daily partitions (the embedded engine).
func (p *partitioned) split() bool { return p.s.embedded != nil }

func dayOf(t time.Time) int64 { return t.UTC().Truncate(partitionDay).Unix() }

func (p *partitioned) dayName(day int64) string {
	return p.name + "_" + time.Unix(day, 0).UTC().Format("20060102")
}

// dayOfName parses a partition's name ("steps_20261204"); ok is false for any other collection.
func (p *partitioned) dayOfName(coll string) (int64, bool) {
	rest, ok := strings.CutPrefix(coll, p.name+"_")
	if !ok || len(rest) != 8 {
		return 0, false
	}
	t, err := time.Parse("20060102", rest)
	if err != nil {
		return 0, false
	}
	return t.Unix(), true
}

// load learns which days exist (at Open, embedded engine).
func (p *partitioned) load(names []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range names {
		if d, ok := p.dayOfName(n); ok {
			p.days[d] = true
		}
	}
}

// insert stores docs, each placed by its time (at[i]); one error per document as appender.insert.
func (p *partitioned) insert(ctx context.Context, at []time.Time, docs ...any) ([]error, error) {
	if !p.split() {
		return p.single.insert(ctx, docs...)
	}
	byDay := map[int64][]int{}
	for i := range docs {
		d := dayOf(at[i])
		byDay[d] = append(byDay[d], i)
	}
	errs := make([]error, len(docs))
	for d, idx := range byDay {
		a, err := p.appender(ctx, d)
		if err != nil {
			return nil, err
		}
		part := make([]any, len(idx))
		for j, i := range idx {
			part[j] = docs[i]
		}
		es, err := a.insert(ctx, part...)
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			if j < len(es) {
				errs[i] = es[j]
			}
		}
	}
	return errs, nil
}

// appender returns the group-commit queue of a day, creating the day's collection (and its lookup
// index) on first use.
func (p *partitioned) appender(ctx context.Context, day int64) (*appender, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a := p.appenders[day]; a != nil {
		return a, nil
	}
	coll, err := p.dayCollLocked(ctx, day)
	if err != nil {
		return nil, err
	}
	a := newAppender(coll, p.maxBatch, p.s.lockWrites)
	p.appenders[day] = a
	return a, nil
}

// dayColl returns a day's collection, creating it (and its lookup index) on first use.
func (p *partitioned) dayColl(ctx context.Context, day int64) (*mongo.Collection, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dayCollLocked(ctx, day)
}

func (p *partitioned) dayCollLocked(ctx context.Context, day int64) (*mongo.Collection, error) {
	coll := p.s.db.Collection(p.dayName(day))
	if !p.days[day] {
		if err := p.s.createCollection(ctx, coll.Name(), p.lookups); err != nil {
			return nil, err
		}
		p.days[day] = true
	}
	return coll, nil
}

// colls returns the collections that hold the logical collection, newest day first.
func (p *partitioned) colls() []*mongo.Collection {
	if !p.split() {
		return []*mongo.Collection{p.s.db.Collection(p.name)}
	}
	p.mu.Lock()
	days := make([]int64, 0, len(p.days))
	for d := range p.days {
		days = append(days, d)
	}
	p.mu.Unlock()
	slices.Sort(days)
	slices.Reverse(days)
	out := make([]*mongo.Collection, len(days))
	for i, d := range days {
		out[i] = p.s.db.Collection(p.dayName(d))
	}
	return out
}

// findOne finds a document by _id in whichever day holds it, newest first.
func (p *partitioned) findOne(ctx context.Context, id string, into any) error {
	for _, c := range p.colls() {
		err := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(into)
		if err != mongo.ErrNoDocuments {
			return err
		}
	}
	return mongo.ErrNoDocuments
}

// deleteMany deletes what matches filter in every day (a scan of each on the embedded engine, the
// write turn held per day: for erasures, which are rare).
func (p *partitioned) deleteMany(ctx context.Context, filter bson.D) (int64, error) {
	var n int64
	for _, c := range p.colls() {
		unlock := p.s.lockWrites()
		res, err := c.DeleteMany(ctx, filter)
		unlock()
		if err != nil {
			return n, fmt.Errorf("delete from %s: %w", c.Name(), err)
		}
		n += res.DeletedCount
	}
	return n, nil
}

// sweep deletes what is past cutoff: on the embedded engine every day that ended at or before cutoff
// is dropped whole (counted first); on MongoDB a ranged delete on the indexed time field.
func (p *partitioned) sweep(ctx context.Context, cutoff time.Time) (int64, error) {
	if !p.split() {
		unlock := p.s.lockWrites()
		defer unlock()
		res, err := p.s.db.Collection(p.name).DeleteMany(ctx, bson.D{{Key: p.field, Value: bson.D{{Key: "$lt", Value: cutoff}}}})
		if err != nil {
			return 0, fmt.Errorf("sweep %s: %w", p.name, err)
		}
		return res.DeletedCount, nil
	}
	last := dayOf(cutoff) - int64(partitionDay/time.Second) // the newest day wholly before cutoff
	p.mu.Lock()
	var due []int64
	for d := range p.days {
		if d <= last {
			due = append(due, d)
		}
	}
	p.mu.Unlock()
	slices.Sort(due)
	var n int64
	for _, d := range due {
		coll := p.s.db.Collection(p.dayName(d))
		count, err := coll.EstimatedDocumentCount(ctx)
		if err != nil {
			return n, fmt.Errorf("sweep %s: %w", coll.Name(), err)
		}
		if err := p.dropDay(ctx, d); err != nil {
			return n, err
		}
		n += count
	}
	return n, nil
}

// dropDay drops one day's collection (after closing its appender). Dropping a collection that is
// gone already is not an error, so two sweeps at once drop each day once.
func (p *partitioned) dropDay(ctx context.Context, d int64) error {
	p.mu.Lock()
	a := p.appenders[d]
	delete(p.appenders, d)
	delete(p.days, d)
	p.mu.Unlock()
	if a != nil {
		a.close()
		<-a.done
	}
	unlock := p.s.lockWrites()
	err := p.s.db.Collection(p.dayName(d)).Drop(ctx)
	unlock()
	if err != nil {
		return fmt.Errorf("drop %s: %w", p.dayName(d), err)
	}
	return nil
}

// close flushes every appender.
func (p *partitioned) close() {
	p.mu.Lock()
	as := p.appenders
	p.appenders = map[int64]*appender{}
	single := p.single
	p.mu.Unlock()
	if single != nil {
		as[-1] = single
	}
	for _, a := range as {
		a.close()
		<-a.done
	}
}

// partitions are the collections kept in daily partitions on the embedded engine: the journal's
// three and the questions.
func (s *Store) partitions() []*partitioned {
	return []*partitioned{s.steps, s.deliveries, s.transcript, s.questions}
}

// colInbox is the inbox's logical name (its physical collections are the buckets, inbox_<unix>).
const colInbox = "inbox"

// logicalName is the collection a physical one belongs to: a journal day ("steps_20261204") is
// "steps", a checkpoint shard ("conversations_07") "conversations", an inbox bucket "inbox"; any
// other name is its own.
func (s *Store) logicalName(name string) string {
	for _, p := range s.partitions() {
		if _, ok := p.dayOfName(name); ok {
			return p.name
		}
	}
	if rest, ok := strings.CutPrefix(name, colConversations+"_"); ok && len(rest) == 2 {
		return colConversations
	}
	if rest, ok := strings.CutPrefix(name, inboxPrefix); ok && rest != "" {
		return colInbox
	}
	return name
}
