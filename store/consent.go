package store

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/consent"
)

const colConsentHistory = "consent_history"

var _ consent.Store = (*Store)(nil)

// ConsentHistory implements consent.Store: every record of the history (append-only but for the
// retention sweep, which deletes superseded records: DeleteConsents).
func (s *Store) ConsentHistory(ctx context.Context) ([]consent.Record, error) {
	cur, err := s.db.Collection(colConsentHistory).Find(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	var recs []consent.Record
	if err := cur.All(ctx, &recs); err != nil {
		return nil, err
	}
	return recs, nil
}

// InsertConsent implements consent.Store.
func (s *Store) InsertConsent(ctx context.Context, r consent.Record) error {
	defer s.lockWrites()()
	_, err := s.db.Collection(colConsentHistory).InsertOne(ctx, r)
	if mongo.IsDuplicateKeyError(err) {
		return bot.ErrDuplicate
	}
	return err
}

// ConsentByID implements consent.Store.
func (s *Store) ConsentByID(ctx context.Context, id string) (consent.Record, error) {
	var r consent.Record
	err := s.db.Collection(colConsentHistory).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return r, bot.ErrNotFound
	}
	return r, err
}

// ConsentsAfter implements consent.Store: the records above a Seq, by Seq. Other instances call it
// every second and before every record (bot/consent: Refresh, Record), so it is a range on the unique
// seq index that finds nothing most of the time.
func (s *Store) ConsentsAfter(ctx context.Context, after int64) ([]consent.Record, error) {
	cur, err := s.db.Collection(colConsentHistory).Find(ctx, bson.D{{Key: "seq", Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}))
	if err != nil {
		return nil, err
	}
	recs := []consent.Record{}
	if err := cur.All(ctx, &recs); err != nil {
		return nil, err
	}
	return recs, nil
}

// ConsentCount implements consent.Store: how many records have a Seq up to upTo (counted on the seq
// index; once a minute per instance, to notice another instance's sweep).
func (s *Store) ConsentCount(ctx context.Context, upTo int64) (int64, error) {
	return s.db.Collection(colConsentHistory).CountDocuments(ctx, bson.D{{Key: "seq", Value: bson.D{{Key: "$lte", Value: upTo}}}})
}

// DeleteConsents implements consent.Store: the retention sweep's deletion of superseded records, one
// DeleteMany by _id. IDs not stored are ignored; it returns how many records went.
func (s *Store) DeleteConsents(ctx context.Context, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	defer s.lockWrites()()
	res, err := s.db.Collection(colConsentHistory).DeleteMany(ctx,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}
