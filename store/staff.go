package store

import (
	"context"
	"errors"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Collections of the staff console.
const (
	colStaff    = "staff"
	colSessions = "sessions"
	colCanned   = "canned"
)

// AddStaff inserts an account; account.ErrExists when the e-mail is taken.
func (s *Store) AddStaff(ctx context.Context, st account.Staff) error {
	defer s.lockWrites()()
	_, err := s.db.Collection(colStaff).InsertOne(ctx, st)
	if mongo.IsDuplicateKeyError(err) {
		return account.ErrExists
	}
	return err
}

// SaveStaff replaces an account (role, name, password, disabled).
func (s *Store) SaveStaff(ctx context.Context, st account.Staff) error {
	defer s.lockWrites()()
	res, err := s.db.Collection(colStaff).ReplaceOne(ctx, bson.D{{Key: "_id", Value: st.Email}}, st)
	if err == nil && res.MatchedCount == 0 {
		return bot.ErrNotFound
	}
	return err
}

// StaffByEmail loads an account.
func (s *Store) StaffByEmail(ctx context.Context, email string) (account.Staff, error) {
	var st account.Staff
	err := s.db.Collection(colStaff).FindOne(ctx, bson.D{{Key: "_id", Value: email}}).Decode(&st)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return st, bot.ErrNotFound
	}
	return st, err
}

// ListStaff returns every account, by e-mail.
func (s *Store) ListStaff(ctx context.Context) ([]account.Staff, error) {
	cur, err := s.db.Collection(colStaff).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var out []account.Staff
	return out, cur.All(ctx, &out)
}

// CountStaff counts accounts.
func (s *Store) CountStaff(ctx context.Context) (int64, error) {
	return s.db.Collection(colStaff).CountDocuments(ctx, bson.D{})
}

// CreateSession stores a session.
func (s *Store) CreateSession(ctx context.Context, se account.Session) error {
	defer s.lockWrites()()
	_, err := s.db.Collection(colSessions).InsertOne(ctx, se)
	return err
}

// SessionByID loads a session (expired ones too: the caller checks Expires).
func (s *Store) SessionByID(ctx context.Context, id string) (account.Session, error) {
	var se account.Session
	err := s.db.Collection(colSessions).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&se)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return se, bot.ErrNotFound
	}
	return se, err
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	defer s.lockWrites()()
	_, err := s.db.Collection(colSessions).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return err
}

// DeleteSessionsOf ends every session of an account (disabled, password changed) and the expired ones.
func (s *Store) DeleteSessionsOf(ctx context.Context, email string) error {
	defer s.lockWrites()()
	_, err := s.db.Collection(colSessions).DeleteMany(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "email", Value: email}}, bson.D{{Key: "expires", Value: bson.D{{Key: "$lt", Value: time.Now()}}}}}}})
	return err
}

// SaveCanned inserts or replaces a canned reply.
func (s *Store) SaveCanned(ctx context.Context, c account.CannedReply) error {
	defer s.lockWrites()()
	_, err := s.db.Collection(colCanned).ReplaceOne(ctx, bson.D{{Key: "_id", Value: c.ID}}, c, options.Replace().SetUpsert(true))
	return err
}

// DeleteCanned removes a canned reply.
func (s *Store) DeleteCanned(ctx context.Context, id string) error {
	defer s.lockWrites()()
	_, err := s.db.Collection(colCanned).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return err
}

// CannedReplies returns the canned replies, by language and title.
func (s *Store) CannedReplies(ctx context.Context) ([]account.CannedReply, error) {
	cur, err := s.db.Collection(colCanned).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "lang", Value: 1}, {Key: "title", Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := []account.CannedReply{}
	return out, cur.All(ctx, &out)
}
