package store

import (
	"context"
	"errors"
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
//	              and, on each, its place in the review inbox (one write per question)
//	nlu_taught    the phrases staff taught (checked for personal data; small)
//
// Questions copy the customer's words: they go with the transcript's period and with the customer's
// erasure.
const (
	colQuestions = "questions"
	colTaught    = "nlu_taught"
)

var (
	_ insight.QuestionStore = (*Store)(nil)
	_ insight.ReviewStore   = (*Store)(nil)
)

// RecordQuestion implements insight.QuestionStore, in the day of the question's time: on MongoDB
// group-committed, on the embedded engine queued and written once a second (insight_queue.go).
func (s *Store) RecordQuestion(ctx context.Context, q insight.Question) error {
	if s.questionQueue != nil { // the embedded engine: queued (insight_queue.go)
		if full := s.questionQueue.add(q); full {
			return s.flushQuestions(ctx)
		}
		return nil
	}
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
	if err := s.flushQuestions(ctx); err != nil { // this process sees its own questions
		return insight.Question{}, false, err
	}
	var q insight.Question
	err := s.questionColl(key).FindOne(ctx, byID(key)).Decode(&q)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return q, false, nil
	}
	return q, err == nil, err
}

// SetFeedback implements insight.QuestionStore: the first verdict stands.
func (s *Store) SetFeedback(ctx context.Context, key, feedback string, at time.Time) error {
	if err := s.flushQuestions(ctx); err != nil { // this process sees its own questions
		return err
	}
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
	if err := s.flushQuestions(ctx); err != nil { // this process sees its own questions
		return nil, err
	}
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

// MarkForReview implements insight.ReviewStore: two conditional updates of the question (rare: a
// customer's tap on 「役に立たなかった」).
func (s *Store) MarkForReview(ctx context.Context, key, reason string) error {
	if err := s.flushQuestions(ctx); err != nil { // this process sees its own questions
		return err
	}
	defer s.lockWrites()()
	c := s.questionColl(key)
	res, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "reasons", Value: bson.D{{Key: "$ne", Value: reason}}}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "reasons", Value: reason}}}})
	if err != nil || res.ModifiedCount == 0 {
		return err // gone, or the reason is there already (a step applied again)
	}
	_, err = c.UpdateOne(ctx, bson.D{{Key: "_id", Value: key},
		{Key: "review", Value: bson.D{{Key: "$nin", Value: bson.A{insight.StatusOpen, insight.StatusTaught}}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "review", Value: insight.StatusOpen}}},
			{Key: "$unset", Value: bson.D{{Key: "by", Value: ""}, {Key: "decidedAt", Value: ""}}}})
	return err
}

// ReviewItems implements insight.ReviewStore. On the embedded engine it reads the days of the window
// newest first (a scan of each), open items stopping at limit; on MongoDB one query on the review
// index.
func (s *Store) ReviewItems(ctx context.Context, status string, limit int) ([]insight.Item, error) {
	if err := s.flushQuestions(ctx); err != nil { // this process sees its own questions
		return nil, err
	}
	open := status == insight.StatusOpen
	order := bson.D{{Key: "_id", Value: -1}} // open: the newest questions first
	if !open {
		order = bson.D{{Key: "decidedAt", Value: -1}, {Key: "_id", Value: -1}} // decided: the latest decisions first
	}
	from := time.Now().Add(-insight.ReviewWindow)
	filter := bson.D{{Key: "review", Value: status}, {Key: "_id", Value: bson.D{{Key: "$gte", Value: insight.KeyAt(from)}}}}
	colls := s.questionColls(from, time.Now().Add(48*time.Hour))
	slices.Reverse(colls) // newest day first
	var qs []insight.Question
	for _, c := range colls {
		cur, err := c.Find(ctx, filter, options.Find().SetSort(order).SetLimit(int64(limit)))
		if err != nil {
			return nil, err
		}
		var day []insight.Question
		if err := cur.All(ctx, &day); err != nil {
			return nil, err
		}
		qs = append(qs, day...)
		if open && len(qs) >= limit {
			break
		}
	}
	if !open {
		slices.SortStableFunc(qs, func(a, b insight.Question) int { return b.DecidedAt.Compare(a.DecidedAt) })
	}
	out := make([]insight.Item, 0, min(len(qs), limit))
	for _, q := range qs[:min(len(qs), limit)] {
		out = append(out, insight.ItemOf(q))
	}
	return out, nil
}

// ReviewItem implements insight.ReviewStore.
func (s *Store) ReviewItem(ctx context.Context, key string) (insight.Item, bool, error) {
	q, found, err := s.Question(ctx, key)
	if err != nil || !found || q.Review == "" {
		return insight.Item{}, false, err
	}
	return insight.ItemOf(q), true, nil
}

// DecideReview implements insight.ReviewStore: one conditional update per day the keys fall in (on
// MongoDB one, atomic per question, so of two staff deciding one question one wins; on the embedded
// engine the write turn makes it so).
func (s *Store) DecideReview(ctx context.Context, keys []string, cur insight.Current, d insight.Decision) (int, error) {
	if err := s.flushQuestions(ctx); err != nil { // this process sees its own questions
		return 0, err
	}
	set := bson.D{{Key: "review", Value: d.Status}, {Key: "by", Value: d.By}, {Key: "decidedAt", Value: d.At}}
	update := bson.D{{Key: "$set", Value: set}}
	if d.TaughtID != "" {
		update = bson.D{{Key: "$set", Value: append(set, bson.E{Key: "taught", Value: d.TaughtID})}}
	} else {
		update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: "taught", Value: ""}}})
	}
	byColl := map[string][]string{}
	for _, k := range keys {
		name := s.questionColl(k).Name()
		byColl[name] = append(byColl[name], k)
	}
	defer s.lockWrites()()
	n := 0
	for name, ks := range byColl {
		filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ks}}}, {Key: "review", Value: cur.Status}}
		if cur.TaughtID != "" {
			filter = append(filter, bson.E{Key: "taught", Value: cur.TaughtID})
		}
		res, err := s.db.Collection(name).UpdateMany(ctx, filter, update)
		if err != nil {
			return n, err
		}
		n += int(res.ModifiedCount)
	}
	return n, nil
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

// sweepInsight deletes the questions asked before cutoff (the transcript's period: they copy it),
// the review inbox with them. On the embedded engine a day of questions goes whole once it is wholly
// past, as the transcript's days do.
func (s *Store) sweepInsight(ctx context.Context, cutoff time.Time) (int64, error) {
	if err := s.flushQuestions(ctx); err != nil { // this process sees its own questions
		return 0, err
	}
	return s.questions.sweep(ctx, cutoff)
}
