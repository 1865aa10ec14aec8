package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/insight"
)

// The desk's insight (bot/insight):
//
//	questions     every typed question and how it was answered; _id time-ordered, so the dashboard's
//	              range of time is a range of _id; on the embedded engine in daily partitions like the
//	              transcript's (a range there reads only the days it covers)
//	review        the review inbox: copies of the questions staff are to look at (small)
//	nlu_taught    the phrases staff taught (checked for personal data; small)
//
// Questions and review items copy the customer's words: they go with the transcript's period and
// with the customer's erasure.
const (
	colQuestions = "questions"
	colReview    = "review"
	colTaught    = "nlu_taught"
)

var (
	_ insight.QuestionStore = (*Store)(nil)
	_ insight.ReviewStore   = (*Store)(nil)
)

// RecordQuestion implements insight.QuestionStore (group-committed: one per typed question), in the
// day of the question's time.
func (s *Store) RecordQuestion(ctx context.Context, q insight.Question) error {
	errs, err := s.questions.insert(ctx, []time.Time{q.At}, q)
	if err != nil {
		return err
	}
	if errs[0] != nil && !errors.Is(errs[0], bot.ErrDuplicate) {
		return errs[0]
	}
	return nil
}

// questionColl is the collection that holds the question of key: on the embedded engine the day its
// key starts with (keys begin with the question's UTC time), else the one collection.
func (s *Store) questionColl(key string) *mongo.Collection {
	if s.questions.split() {
		if t, err := time.Parse("20060102", key[:min(len(key), 8)]); err == nil {
			return s.db.Collection(s.questions.dayName(dayOf(t)))
		}
	}
	return s.db.Collection(colQuestions)
}

// Question implements insight.QuestionStore.
func (s *Store) Question(ctx context.Context, key string) (insight.Question, bool, error) {
	var q insight.Question
	err := s.questionColl(key).FindOne(ctx, byID(key)).Decode(&q)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return q, false, nil
	}
	return q, err == nil, err
}

// SetFeedback implements insight.QuestionStore: the first verdict stands.
func (s *Store) SetFeedback(ctx context.Context, key, feedback string, at time.Time) error {
	defer s.lockWrites()()
	_, err := s.questionColl(key).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: key}, {Key: "fb", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "fb", Value: feedback}, {Key: "fbAt", Value: at}}}})
	return err
}

// Questions implements insight.QuestionStore: a range of _id, read on the embedded engine only in
// the days it covers (the engine scans a collection for a range, so a day's is all it reads),
// without the customers' words (the figures need none).
func (s *Store) Questions(ctx context.Context, from, to time.Time) ([]insight.Question, error) {
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: insight.KeyAt(from)}, {Key: "$lt", Value: insight.KeyAt(to)}}}}
	sorted := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetProjection(bson.D{{Key: "text", Value: 0}})
	colls := s.questionColls(from, to)
	days := make([][]insight.Question, len(colls))
	errs := make([]error, len(colls))
	var wg sync.WaitGroup
	sem := make(chan struct{}, questionReaders)
	for i, c := range colls {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			cur, err := c.Find(ctx, filter, sorted)
			if err == nil {
				err = cur.All(ctx, &days[i])
			}
			errs[i] = err
		})
	}
	wg.Wait()
	out := []insight.Question{}
	for i := range colls {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, days[i]...)
	}
	return out, nil
}

// questionReaders is how many days of questions are read at once: a year is 365 collections on the
// embedded engine, and each read waits mostly on its round trip.
const questionReaders = 8

// questionColls are the collections that may hold questions of [from, to), oldest first.
func (s *Store) questionColls(from, to time.Time) []*mongo.Collection {
	if !s.questions.split() {
		return []*mongo.Collection{s.db.Collection(colQuestions)}
	}
	var out []*mongo.Collection
	first, last := dayOf(from), dayOf(to.Add(-time.Millisecond))
	colls := s.questions.colls()
	for i := len(colls) - 1; i >= 0; i-- { // colls is newest first
		if d, ok := s.questions.dayOfName(colls[i].Name()); ok && d >= first && d <= last {
			out = append(out, colls[i])
		}
	}
	return out
}

// AddToReview implements insight.ReviewStore: an insert (group-committed: every miss is one, so on
// a busy day this is on the hot path), or the reason added to the item there. A customer's "not
// helpful" after staff ignored the item brings it back to the inbox: it is new evidence.
func (s *Store) AddToReview(ctx context.Context, it insight.Item) error {
	errs, err := s.collAppender(colReview).insert(ctx, it)
	if err != nil {
		return err
	}
	if !errors.Is(errs[0], bot.ErrDuplicate) {
		return errs[0]
	}
	update := bson.D{{Key: "$addToSet", Value: bson.D{{Key: "reasons", Value: bson.D{{Key: "$each", Value: it.Reasons}}}}}}
	if it.Question.Feedback != "" {
		update = append(update, bson.E{Key: "$set", Value: bson.D{{Key: "q.fb", Value: it.Question.Feedback}, {Key: "q.fbAt", Value: it.Question.FeedbackAt}}})
	}
	defer s.lockWrites()()
	c := s.db.Collection(colReview)
	res, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: it.Key}, {Key: "reasons", Value: bson.D{{Key: "$nin", Value: it.Reasons}}}}, update)
	if err != nil || res.ModifiedCount == 0 || !slices.Contains(it.Reasons, insight.ReasonNotHelped) {
		return err // a reason it had already (a step applied again) changes nothing
	}
	_, err = c.UpdateOne(ctx, bson.D{{Key: "_id", Value: it.Key}, {Key: "status", Value: insight.StatusIgnored}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: insight.StatusOpen}}},
			{Key: "$unset", Value: bson.D{{Key: "by", Value: ""}, {Key: "decidedAt", Value: ""}}}})
	return err
}

// ReviewItems implements insight.ReviewStore (a scan of a small collection): open items by their
// questions' time, decided ones by the time of the decision, newest first.
func (s *Store) ReviewItems(ctx context.Context, status string, limit int) ([]insight.Item, error) {
	order := bson.D{{Key: "_id", Value: -1}} // open: the newest questions first
	if status != insight.StatusOpen {
		order = bson.D{{Key: "decidedAt", Value: -1}, {Key: "_id", Value: -1}} // decided: the latest decisions first
	}
	cur, err := s.db.Collection(colReview).Find(ctx, bson.D{{Key: "status", Value: status}},
		options.Find().SetSort(order).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	out := []insight.Item{}
	return out, cur.All(ctx, &out)
}

// ReviewItem implements insight.ReviewStore.
func (s *Store) ReviewItem(ctx context.Context, key string) (insight.Item, bool, error) {
	var it insight.Item
	err := s.db.Collection(colReview).FindOne(ctx, byID(key)).Decode(&it)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return it, false, nil
	}
	return it, err == nil, err
}

// DecideReview implements insight.ReviewStore: one conditional update (on MongoDB atomic per item,
// so of two staff deciding one item one wins; on FerretDB one process is safe, the console's
// decisions being rare and the items then checked again by status).
func (s *Store) DecideReview(ctx context.Context, keys []string, cur insight.Current, d insight.Decision) (int, error) {
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: keys}}}, {Key: "status", Value: cur.Status}}
	if cur.TaughtID != "" {
		filter = append(filter, bson.E{Key: "taught", Value: cur.TaughtID})
	}
	set := bson.D{{Key: "status", Value: d.Status}, {Key: "by", Value: d.By}, {Key: "decidedAt", Value: d.At}}
	update := bson.D{{Key: "$set", Value: set}}
	if d.TaughtID != "" {
		update = bson.D{{Key: "$set", Value: append(set, bson.E{Key: "taught", Value: d.TaughtID})}}
	} else {
		update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: "taught", Value: ""}}})
	}
	defer s.lockWrites()()
	res, err := s.db.Collection(colReview).UpdateMany(ctx, filter, update)
	if err != nil {
		return 0, err
	}
	return int(res.ModifiedCount), nil
}

// AddTaught implements insight.ReviewStore.
func (s *Store) AddTaught(ctx context.Context, t insight.Taught) error {
	defer s.lockWrites()()
	_, err := s.db.Collection(colTaught).InsertOne(ctx, t)
	return err
}

// TaughtPhrases implements insight.ReviewStore (every instance reads it every few seconds: a small
// collection).
func (s *Store) TaughtPhrases(ctx context.Context) ([]insight.Taught, error) {
	cur, err := s.db.Collection(colTaught).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := []insight.Taught{}
	return out, cur.All(ctx, &out)
}

// RevertTaught implements insight.ReviewStore.
func (s *Store) RevertTaught(ctx context.Context, id, by string, at time.Time) error {
	unlock := s.lockWrites()
	res, err := s.db.Collection(colTaught).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "reverted", Value: bson.D{{Key: "$ne", Value: true}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "reverted", Value: true}, {Key: "revertedBy", Value: by}, {Key: "revertedAt", Value: at}}},
			{Key: "$unset", Value: bson.D{{Key: "text", Value: ""}}}})
	unlock()
	if err != nil {
		return err
	}
	if res.MatchedCount == 1 {
		return nil
	}
	n, err := s.db.Collection(colTaught).CountDocuments(ctx, byID(id))
	switch {
	case err != nil:
		return err
	case n == 0:
		return insight.ErrNotFound
	}
	return insight.ErrReverted
}

// sweepInsight deletes the questions asked and the review items that came in before cutoff (the
// transcript's period: they copy it). On the embedded engine a day of questions goes whole once it
// is wholly past, as the transcript's days do.
func (s *Store) sweepInsight(ctx context.Context, cutoff time.Time) (int64, error) {
	n, err := s.questions.sweep(ctx, cutoff)
	if err != nil {
		return n, err
	}
	m, err := s.deleteWhere(ctx, colReview, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: cutoff}}}})
	return n + m, err
}

// eraseReview deletes a customer's review items (their questions go with the journal's erasure).
func (s *Store) eraseReview(ctx context.Context, userID string, counts map[string]int64) error {
	unlock := s.lockWrites()
	res, err := s.db.Collection(colReview).DeleteMany(ctx, bson.D{{Key: "q.user", Value: userID}})
	unlock()
	if err != nil {
		return fmt.Errorf("erase %s: %w", colReview, err)
	}
	counts[colReview] = res.DeletedCount
	return nil
}
