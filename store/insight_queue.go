package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot/insight"
)

// On the embedded engine every write takes the one write turn, and at the load the desk is sized for
// (1,500 events a second) the turn is nearly always taken: one more insert in every event's path,
// group-committed like the journal's, took the load benchmark's answer p99 from about 0.1 s to
// several seconds in three runs of five. A question's record is not what the customer waits for, so
// there it is queued and written once a second, a hundred to a write turn (between them the turn
// goes to the acknowledgements' inbox inserts), into day collections without the _id lookup index
// (the figures read whole days; a lookup by key, rare, scans its day). Measured with the load tool:
// ack p99 23 → 35–41 ms and answer p99 90 → 155–205 ms against the same build without questions.
//
// What this gives up: a crash loses the records of the last second (the answers were sent and the
// transcript holds the messages; the dashboard and the review inbox miss them). Every read and update
// of questions writes the queue first, so this process always sees its own questions. On MongoDB,
// where several instances may read each other's questions at once and there is no write turn, a
// question is written before the step goes on.
const (
	questionFlushEvery = time.Second
	questionQueueMax   = 5000 // beyond it, RecordQuestion writes the queue itself (back-pressure)
)

// questionQueue holds the questions not written yet.
type questionQueue struct {
	mu      sync.Mutex
	pending []insight.Question
	// flushing serialises writes of the queue, so that a reader that flushed sees every question
	// queued before it asked.
	flushing sync.Mutex
}

// queueQuestion adds q to the queue; false when the queue is full and the caller must flush.
func (q *questionQueue) add(x insight.Question) (full bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, x)
	return len(q.pending) >= questionQueueMax
}

// flushQuestions writes the queued questions (on the embedded engine; nothing to do elsewhere). A
// question stored already (the same step applied again) is not an error. On a failure the questions
// go back to the queue for the next flush.
func (s *Store) flushQuestions(ctx context.Context) error {
	q := s.questionQueue
	if q == nil {
		return nil
	}
	q.flushing.Lock()
	defer q.flushing.Unlock()
	q.mu.Lock()
	batch := q.pending
	q.pending = nil
	q.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	byDay := map[int64][]any{}
	for _, x := range batch {
		d := dayOf(x.At)
		byDay[d] = append(byDay[d], x)
	}
	var failed []insight.Question
	var errs []error
	for d, docs := range byDay {
		if err := s.insertDay(ctx, d, docs); err != nil {
			errs = append(errs, err)
			for _, doc := range docs {
				failed = append(failed, doc.(insight.Question))
			}
		}
	}
	if len(failed) > 0 {
		q.mu.Lock()
		q.pending = append(failed, q.pending...)
		q.mu.Unlock()
	}
	return errors.Join(errs...)
}

// insertDay inserts docs into a day's collection of questions in one write turn; duplicates are
// ignored.
func (s *Store) insertDay(ctx context.Context, day int64, docs []any) error {
	coll, err := s.questions.dayColl(ctx, day)
	if err != nil {
		return err
	}
	for len(docs) > 0 {
		n := min(len(docs), questionChunk)
		if err := s.insertChunk(ctx, coll, docs[:n]); err != nil {
			return err
		}
		docs = docs[n:]
	}
	return nil
}

// questionChunk is how many questions one write turn inserts: between chunks the turn goes to the
// writes that are waiting (the inbox's first: the acknowledgements wait on them).
const questionChunk = 100

func (s *Store) insertChunk(ctx context.Context, coll *mongo.Collection, docs []any) error {
	unlock := s.lockWrites()
	defer unlock()
	ictx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	_, err := coll.InsertMany(ictx, docs, options.InsertMany().SetOrdered(false))
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && bwe.WriteConcernError == nil {
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 {
				return err
			}
		}
		return nil // only questions stored already
	}
	return err
}

// runQuestionQueue writes the queue every questionFlushEvery until ctx ends, then once more.
func (s *Store) runQuestionQueue(ctx context.Context) {
	t := time.NewTicker(questionFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), opTimeout)
			if err := s.flushQuestions(fctx); err != nil {
				s.log.Error("questions not written at close", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := s.flushQuestions(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("questions not written; trying again", "err", err)
			}
		}
	}
}
