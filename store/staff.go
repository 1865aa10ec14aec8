package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"

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

// Staff roles.
const (
	RoleAdmin     = "admin"     // manages staff and canned replies, and works chats
	RoleAgent     = "agent"     // works chats
	RoleMarketing = "marketing" // the opt-out list only; never transcripts
)

// ValidRole reports whether r is a staff role.
func ValidRole(r string) bool { return r == RoleAdmin || r == RoleAgent || r == RoleMarketing }

// ErrNotFound is returned when a staff account, session or canned reply does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned when a staff account with the e-mail exists.
var ErrExists = errors.New("already exists")

// Staff is a console account. Hash is a bcrypt hash; the password itself is never stored.
type Staff struct {
	Email    string `bson:"_id"`
	Name     string `bson:"name"`
	Role     string `bson:"role"`
	Hash     []byte `bson:"hash"`
	Disabled bool   `bson:"disabled,omitempty"`
	// OneTime marks a password good for one login (local mode's printed admin password): the console
	// clears it once used.
	OneTime bool `bson:"oneTime,omitempty"`
	// Lang is the console's language for this account: "ja" (also when empty) or "en".
	Lang      string    `bson:"lang,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
}

// Session is a logged-in console session. ID is the SHA-256 of the cookie's token (a stolen database
// does not yield usable cookies); CSRF is the session's form token.
type Session struct {
	ID        string    `bson:"_id"`
	Email     string    `bson:"email"`
	CSRF      string    `bson:"csrf"`
	Expires   time.Time `bson:"expires"`
	CreatedAt time.Time `bson:"createdAt"`
}

// CannedReply is a prepared answer staff can insert into the reply box.
type CannedReply struct {
	ID    string `bson:"_id"`
	Lang  string `bson:"lang"`
	Title string `bson:"title"`
	Text  string `bson:"text"`
}

// AddStaff inserts an account; ErrExists when the e-mail is taken.
func (s *Store) AddStaff(ctx context.Context, st Staff) error {
	defer s.lockWrites()()
	_, err := s.db.Collection(colStaff).InsertOne(ctx, st)
	if mongo.IsDuplicateKeyError(err) {
		return ErrExists
	}
	return err
}

// SaveStaff replaces an account (role, name, password, disabled).
func (s *Store) SaveStaff(ctx context.Context, st Staff) error {
	defer s.lockWrites()()
	res, err := s.db.Collection(colStaff).ReplaceOne(ctx, bson.D{{Key: "_id", Value: st.Email}}, st)
	if err == nil && res.MatchedCount == 0 {
		return ErrNotFound
	}
	return err
}

// StaffByEmail loads an account.
func (s *Store) StaffByEmail(ctx context.Context, email string) (Staff, error) {
	var st Staff
	err := s.db.Collection(colStaff).FindOne(ctx, bson.D{{Key: "_id", Value: email}}).Decode(&st)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return st, ErrNotFound
	}
	return st, err
}

// ListStaff returns every account, by e-mail.
func (s *Store) ListStaff(ctx context.Context) ([]Staff, error) {
	cur, err := s.db.Collection(colStaff).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var out []Staff
	return out, cur.All(ctx, &out)
}

// CountStaff counts accounts.
func (s *Store) CountStaff(ctx context.Context) (int64, error) {
	return s.db.Collection(colStaff).CountDocuments(ctx, bson.D{})
}

// CreateSession stores a session.
func (s *Store) CreateSession(ctx context.Context, se Session) error {
	defer s.lockWrites()()
	_, err := s.db.Collection(colSessions).InsertOne(ctx, se)
	return err
}

// SessionByID loads a session (expired ones too: the caller checks Expires).
func (s *Store) SessionByID(ctx context.Context, id string) (Session, error) {
	var se Session
	err := s.db.Collection(colSessions).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&se)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return se, ErrNotFound
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
func (s *Store) SaveCanned(ctx context.Context, c CannedReply) error {
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
func (s *Store) CannedReplies(ctx context.Context) ([]CannedReply, error) {
	cur, err := s.db.Collection(colCanned).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "lang", Value: 1}, {Key: "title", Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := []CannedReply{}
	return out, cur.All(ctx, &out)
}

// MinPasswordLen is the shortest password accepted for a staff account.
const MinPasswordLen = 12

// HashPassword returns the bcrypt hash of a password (cost 0: bcrypt's default).
func HashPassword(password string, cost int) ([]byte, error) {
	if len([]rune(password)) < MinPasswordLen {
		return nil, fmt.Errorf("a password needs at least %d characters", MinPasswordLen)
	}
	if len(password) > 72 {
		return nil, errors.New("a password may have at most 72 bytes")
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	return bcrypt.GenerateFromPassword([]byte(password), cost)
}

// PasswordMatches reports whether password is the account's password, in constant time.
func (st Staff) PasswordMatches(password string) bool {
	return len(st.Hash) > 0 && bcrypt.CompareHashAndPassword(st.Hash, []byte(password)) == nil
}

// dummyHash is compared against when an e-mail is unknown, so a login takes as long either way.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not-a-password-of-anyone"), bcrypt.DefaultCost)

// CheckNobody spends the time of one password check (for unknown e-mails).
func CheckNobody(password string) { _ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password)) }
