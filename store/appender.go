package store

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/enemane/privacybot/bot"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// appender group-commits inserts into one collection: concurrent callers' documents are gathered into a
// single unordered insertMany, and each caller learns the fate of each of its own documents. The embedded
// engine inserts in bulk some twenty times faster than one by one, so this is what keeps the hot path
// fast; against MongoDB it simply saves round trips.
type appender struct {
	coll     *mongo.Collection
	reqs     chan *appendReq
	maxBatch int
	lock     func() (unlock func())
	done     chan struct{}
}

type appendReq struct {
	ctx  context.Context
	docs []any
	errs []error // per document: nil, bot.ErrDuplicate or the failure
	err  error   // the whole request failed
	done chan struct{}
}

func newAppender(coll *mongo.Collection, maxBatch int, lock func() func()) *appender {
	a := &appender{coll: coll, reqs: make(chan *appendReq, 1024), maxBatch: maxBatch, lock: lock, done: make(chan struct{})}
	go a.loop()
	return a
}

// insert stores docs and returns one error per document (nil when stored, bot.ErrDuplicate when a document
// with its _id exists). A non-nil second result means the store could not be reached: nothing is known
// to be stored.
func (a *appender) insert(ctx context.Context, docs ...any) ([]error, error) {
	r := &appendReq{ctx: ctx, docs: docs, done: make(chan struct{})}
	select {
	case a.reqs <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-a.done:
		return nil, errClosed
	}
	select {
	case <-r.done:
		return r.errs, r.err
	case <-ctx.Done():
		// The batch may still commit; the caller treats the outcome as unknown.
		return nil, ctx.Err()
	}
}

var errClosed = errors.New("store: closed")

func (a *appender) close() { close(a.reqs) }

func (a *appender) loop() {
	defer close(a.done)
	for first := range a.reqs {
		batch := []*appendReq{first}
		n := len(first.docs)
	gather:
		for n < a.maxBatch {
			select {
			case r, ok := <-a.reqs:
				if !ok {
					break gather
				}
				batch = append(batch, r)
				n += len(r.docs)
			default:
				break gather
			}
		}
		a.commit(batch, n)
	}
}

func (a *appender) commit(batch []*appendReq, n int) {
	// The write turn can take long (a large batch or a checkpoint ahead of it). Callers whose deadline
	// passed meanwhile have answered their own callers (the webhook's 503), so their documents are
	// left out here, after the wait, not before it. An insert can still outlast its caller's deadline
	// once it runs; AddToInbox copes with that (a duplicate is not proof of dispatch).
	unlock := a.lock()
	defer unlock()
	docs := make([]any, 0, n)
	live := batch[:0:0]
	for _, r := range batch {
		if r.ctx.Err() != nil {
			r.err = r.ctx.Err()
			close(r.done)
			continue
		}
		live = append(live, r)
		docs = append(docs, r.docs...)
	}
	if len(docs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	_, err := a.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	perDoc := make([]error, len(docs))
	var fatal error
	if err != nil {
		var bwe mongo.BulkWriteException
		if errors.As(err, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) > 0 {
			for _, we := range bwe.WriteErrors {
				if we.Index < 0 || we.Index >= len(perDoc) {
					continue
				}
				if we.Code == 11000 {
					perDoc[we.Index] = bot.ErrDuplicate
				} else {
					perDoc[we.Index] = we
				}
			}
		} else {
			fatal = err
		}
	}
	i := 0
	for _, r := range live {
		if fatal != nil {
			r.err = fatal
		} else {
			r.errs = perDoc[i : i+len(r.docs)]
		}
		i += len(r.docs)
		close(r.done)
	}
}
