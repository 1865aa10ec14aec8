package store

import (
	"context"
	"errors"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot"
)

// Collection of escalations. It stays small: one short document per escalation, the conversation
// itself lives in the transcript.
const colEscalations = "escalations"

var _ bot.EscalationStore = (*Store)(nil)

// CreateEscalation implements bot.EscalationStore.
func (s *Store) CreateEscalation(ctx context.Context, e bot.Escalation) error {
	defer s.lockWrites()()
	_, err := s.db.Collection(colEscalations).InsertOne(ctx, e)
	if mongo.IsDuplicateKeyError(err) {
		return bot.ErrDuplicate
	}
	return err
}

// Escalation implements bot.EscalationStore.
func (s *Store) Escalation(ctx context.Context, id string) (bot.Escalation, error) {
	var e bot.Escalation
	err := s.db.Collection(colEscalations).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&e)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return e, bot.ErrNotFound
	}
	return e, err
}

// OpenEscalations implements bot.EscalationStore: a small set (on MongoDB through the status index),
// read every second by each instance (bot.Handoffs.Refresh).
func (s *Store) OpenEscalations(ctx context.Context) ([]bot.Escalation, error) {
	return s.findEscalations(ctx, bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: openStatuses}}}}, 0)
}

// UpdateEscalation implements bot.EscalationStore: a replace conditional on the previous version, so
// that of two writers (two staff claiming, several instances) exactly one succeeds. That holds on
// MongoDB, where the replace is atomic. FerretDB (the embedded engine, or a standalone one) finds the
// document, then replaces it by _id: two instances on one FerretDB can both succeed (one process is
// safe: bot.Handoffs serialises its updates).
func (s *Store) UpdateEscalation(ctx context.Context, e bot.Escalation) error {
	unlock := s.lockWrites()
	res, err := s.db.Collection(colEscalations).ReplaceOne(ctx,
		bson.D{{Key: "_id", Value: e.ID}, {Key: "version", Value: e.Version - 1}}, e)
	unlock()
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		if _, err := s.Escalation(ctx, e.ID); err != nil {
			return err
		}
		return bot.ErrConflict
	}
	return nil
}

// openStatuses are the statuses of an escalation staff still have to act on.
var openStatuses = bson.A{bot.StatusQueued, bot.StatusAssigned}

// SetReadToken implements bot.SharedEscalationStore: the token goes on the open escalation unless it
// holds one of a later message. It changes no version (it is no change staff make), so a replace by
// UpdateEscalation that read the escalation before may drop it: a read receipt lost at most.
func (s *Store) SetReadToken(ctx context.Context, escalationID, token string, at time.Time) error {
	defer s.lockWrites()()
	_, err := s.db.Collection(colEscalations).UpdateOne(ctx, bson.D{
		{Key: "_id", Value: escalationID},
		{Key: "status", Value: bson.D{{Key: "$in", Value: openStatuses}}},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: "readAt", Value: bson.D{{Key: "$exists", Value: false}}}},
			bson.D{{Key: "readAt", Value: bson.D{{Key: "$lt", Value: at}}}},
		}},
	}, bson.D{{Key: "$set", Value: bson.D{{Key: "readToken", Value: token}, {Key: "readAt", Value: at}}}})
	return err
}

// ClearReadToken implements bot.SharedEscalationStore. readAt stays, so that an older token arriving
// late is not set again.
func (s *Store) ClearReadToken(ctx context.Context, escalationID, token string) error {
	defer s.lockWrites()()
	_, err := s.db.Collection(colEscalations).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: escalationID}, {Key: "readToken", Value: token}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "readToken", Value: ""}}}})
	return err
}

// SearchEscalations returns the newest escalations (at most limit) whose customer ID, name,
// description, category, resolution or assignee contain q (case-insensitive; empty q: all), created
// after since (zero: any time).
func (s *Store) SearchEscalations(ctx context.Context, q string, since time.Time, limit int) ([]bot.Escalation, error) {
	filter := bson.D{}
	if q != "" {
		re := bson.Regex{Pattern: regexp.QuoteMeta(q), Options: "i"}
		or := bson.A{}
		for _, f := range []string{"_id", "user", "name", "description", "category", "resolution", "assigneeName", "assignee", "reason"} {
			or = append(or, bson.D{{Key: f, Value: re}})
		}
		filter = append(filter, bson.E{Key: "$or", Value: or})
	}
	if !since.IsZero() {
		filter = append(filter, bson.E{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: since}}})
	}
	return s.findEscalations(ctx, filter, limit)
}

func (s *Store) findEscalations(ctx context.Context, filter bson.D, limit int) ([]bot.Escalation, error) {
	opts := options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}})
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := s.db.Collection(colEscalations).Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	out := []bot.Escalation{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}
