package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/enemane/privacybot/bot"
)

// The inbox is split into time buckets, one collection each (inbox_<unix seconds of the bucket start>).
// Handled events are never deleted one by one: a bucket is dropped whole once it is closed (older than
// inboxBucket plus inboxGrace) and every event in it is handled. On the embedded engine a delete is a
// scan of the collection that compares every document with every listed ID; measured at 1,500 events/s
// that cleanup alone took a third of the CPU. Dropping a table costs the same at any size.
//
// A redelivery that lands in another bucket than the original is not caught by the bucket's unique key;
// the step journal's unique key catches it (the processor then finds the step and its delivery).
//
// Handled events are also recorded, cheaply: each checkpoint round adds to every bucket it touched one
// marker document listing the events handled since. A restart after a crash thus resumes only what
// was really unfinished, not the last minute of traffic; the markers leave with their bucket.
const (
	inboxPrefix = "inbox_"
	inboxBucket = 30 * time.Second
	inboxGrace  = 30 * time.Second
)

// inboxDoc is what a bucket holds: events, and markers listing handled event IDs.
type inboxDoc struct {
	bot.Event `bson:",inline"`
	Handled   []string `bson:"handled,omitempty"`
}

// handledMarkerKind marks marker documents (events always have a kind).
const handledMarkerKind = "handled"

// inboxBuckets tracks, per bucket, the events not yet handled and those handled since the bucket was
// opened (so that a redelivery of a handled event is recognised until its bucket is dropped).
type inboxBuckets struct {
	mu      sync.Mutex
	open    map[int64]map[string]bool // bucket start -> unhandled event IDs
	handled map[int64]map[string]bool // bucket start -> handled event IDs
	// ofEvent maps an unhandled event to the buckets that hold it: usually one, but a redelivery that
	// lands in a later bucket while the first copy is still unhandled is stored (and tracked) twice.
	ofEvent   map[string][]int64
	appenders map[int64]*appender
}

func newInboxBuckets() inboxBuckets {
	return inboxBuckets{open: map[int64]map[string]bool{}, handled: map[int64]map[string]bool{},
		ofEvent: map[string][]int64{}, appenders: map[int64]*appender{}}
}

// trackLocked records an event of bucket b as unhandled.
func (ib *inboxBuckets) trackLocked(b int64, id string) {
	if ib.open[b] == nil {
		ib.open[b] = map[string]bool{}
	}
	ib.open[b][id] = true
	if !slices.Contains(ib.ofEvent[id], b) {
		ib.ofEvent[id] = append(ib.ofEvent[id], b)
	}
}

func bucketOf(t time.Time) int64 { return t.Truncate(inboxBucket).Unix() }

func bucketName(b int64) string { return fmt.Sprintf("%s%d", inboxPrefix, b) }

// inboxAppender returns the group-commit queue of a bucket, creating it on first use.
func (s *Store) inboxAppender(b int64) *appender {
	s.buckets.mu.Lock()
	defer s.buckets.mu.Unlock()
	a := s.buckets.appenders[b]
	if a == nil {
		a = newAppender(s.db.Collection(bucketName(b)), 1000, s.lockWritesUrgent)
		s.buckets.appenders[b] = a
		if s.buckets.open[b] == nil {
			s.buckets.open[b] = map[string]bool{} // the bucket exists from now on: dropped once handled
		}
	}
	return a
}

// AddToInbox implements bot.Journal. A duplicate key is not proof that an event was dispatched: the
// insert of an earlier delivery can commit after its caller gave up (the webhook answered 503 at its
// deadline), leaving the event stored but neither tracked nor processed. So every stored event that is
// not known to be handled is returned for dispatch, redeliveries of pending events included (the
// processor ignores events it already has); only redeliveries of handled events are dropped.
func (s *Store) AddToInbox(ctx context.Context, events []bot.Event) ([]bot.Event, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if s.SharedInbox() {
		return s.addShared(ctx, events)
	}
	b := bucketOf(events[0].ReceivedAt)
	docs := make([]any, len(events))
	for i := range events {
		docs[i] = events[i]
	}
	errs, err := s.inboxAppender(b).insert(ctx, docs...)
	if err != nil {
		return nil, err
	}
	for _, e := range errs {
		if e != nil && !errors.Is(e, bot.ErrDuplicate) {
			return nil, e // not acknowledged: whatever was stored comes again with the redelivery
		}
	}
	dispatch := make([]bot.Event, 0, len(events))
	s.buckets.mu.Lock()
	defer s.buckets.mu.Unlock()
	for i, ev := range events {
		if errs[i] != nil && s.buckets.handled[b][ev.ID] {
			continue // a redelivery of an event already answered
		}
		s.buckets.trackLocked(b, ev.ID)
		dispatch = append(dispatch, ev)
	}
	return dispatch, nil
}

// Inbox implements bot.Journal: every event not yet handled, oldest bucket first. Buckets left by an
// earlier run count as wholly unhandled.
func (s *Store) Inbox(ctx context.Context) ([]bot.Event, error) {
	if s.SharedInbox() {
		return s.sharedEvents(ctx, bson.D{})
	}
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	var buckets []int64
	for _, n := range names {
		var b int64
		if rest, ok := strings.CutPrefix(n, inboxPrefix); ok {
			if _, err := fmt.Sscan(rest, &b); err == nil {
				buckets = append(buckets, b)
			}
		}
	}
	sort.Slice(buckets, func(i, j int) bool { return buckets[i] < buckets[j] })
	var all []bot.Event
	for _, b := range buckets {
		cur, err := s.db.Collection(bucketName(b)).Find(ctx, bson.D{})
		if err != nil {
			return nil, err
		}
		var docs []inboxDoc
		if err := cur.All(ctx, &docs); err != nil {
			return nil, err
		}
		handled := map[string]bool{}
		evs := make([]bot.Event, 0, len(docs))
		for _, d := range docs {
			if d.Kind == handledMarkerKind {
				for _, id := range d.Handled {
					handled[id] = true
				}
				continue
			}
			evs = append(evs, d.Event)
		}
		s.buckets.mu.Lock()
		open, known := s.buckets.open[b]
		if !known {
			// A bucket left by an earlier run: what its markers do not list is unhandled.
			open = map[string]bool{}
			s.buckets.open[b] = open
			s.buckets.handled[b] = handled
			for _, ev := range evs {
				if !handled[ev.ID] {
					s.buckets.trackLocked(b, ev.ID)
				}
			}
		}
		for _, ev := range evs {
			if open[ev.ID] {
				all = append(all, ev)
			}
		}
		s.buckets.mu.Unlock()
	}
	return all, nil
}

// RemoveFromInbox implements bot.Journal: the events are marked handled (one marker document per
// bucket that stays), and closed buckets with nothing left unhandled are dropped.
func (s *Store) RemoveFromInbox(ctx context.Context, ids []string) error {
	if s.SharedInbox() {
		return s.removeShared(ctx, ids)
	}
	return s.releaseInbox(ctx, ids, bucketOf(time.Now().Add(-inboxBucket-inboxGrace)))
}

// SealInbox implements bot.Journal: no event arrives any more (the server has stopped accepting), so
// every bucket whose events are all handled is dropped, open or not.
func (s *Store) SealInbox(ctx context.Context) error {
	if s.SharedInbox() {
		return nil // other instances go on taking events; nothing is kept for this one
	}
	if err := s.releaseInbox(ctx, nil, 1<<62); err != nil {
		return err
	}
	s.buckets.mu.Lock()
	buckets, unhandled := 0, 0
	for _, left := range s.buckets.open {
		buckets++
		unhandled += len(left)
	}
	s.buckets.mu.Unlock()
	if unhandled > 0 {
		s.log.Warn("inbox sealed with unhandled events; the next start resumes them", "buckets", buckets, "events", unhandled)
	} else {
		s.log.Info("inbox sealed", "buckets_left", buckets)
	}
	return nil
}

func (s *Store) releaseInbox(ctx context.Context, ids []string, closed int64) error {
	s.buckets.mu.Lock()
	byBucket := map[int64][]string{}
	for _, id := range ids {
		for _, b := range s.buckets.ofEvent[id] {
			delete(s.buckets.open[b], id)
			if s.buckets.handled[b] == nil {
				s.buckets.handled[b] = map[string]bool{}
			}
			s.buckets.handled[b][id] = true
			byBucket[b] = append(byBucket[b], id)
		}
		delete(s.buckets.ofEvent, id)
	}
	var drop []int64
	for b, left := range s.buckets.open {
		if b <= closed && len(left) == 0 {
			drop = append(drop, b)
		}
	}
	s.buckets.mu.Unlock()
	for _, b := range drop {
		delete(byBucket, b)
		if err := s.dropBucket(ctx, b); err != nil {
			return err
		}
	}
	for b, handled := range byBucket {
		marker := inboxDoc{Event: bot.Event{ID: fmt.Sprintf("handled:%d", time.Now().UnixNano()), Kind: handledMarkerKind}, Handled: handled}
		if _, err := s.inboxAppender(b).insert(ctx, marker); err != nil {
			// Only an optimisation is lost: after a crash these events would be resumed and found done.
			s.log.Warn("inbox marker write failed", "events", len(handled), "err", err)
		}
	}
	return nil
}

func (s *Store) dropBucket(ctx context.Context, b int64) error {
	s.buckets.mu.Lock()
	a := s.buckets.appenders[b]
	delete(s.buckets.appenders, b)
	s.buckets.mu.Unlock()
	if a != nil {
		a.close()
		<-a.done
	}
	unlock := s.lockWrites()
	err := s.db.Collection(bucketName(b)).Drop(ctx)
	unlock()
	if err != nil {
		return fmt.Errorf("drop inbox bucket: %w", err)
	}
	s.buckets.mu.Lock()
	if len(s.buckets.open[b]) == 0 {
		delete(s.buckets.open, b)
		delete(s.buckets.handled, b)
	}
	s.buckets.mu.Unlock()
	return nil
}

func (s *Store) closeInbox() {
	s.buckets.mu.Lock()
	as := s.buckets.appenders
	s.buckets.appenders = map[int64]*appender{}
	named := s.groupCommits
	s.groupCommits = nil
	s.buckets.mu.Unlock()
	for _, a := range named {
		a.close()
		<-a.done
	}
	for _, a := range as {
		a.close()
		<-a.done
	}
}
