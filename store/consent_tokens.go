package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

const colAPITokens = "api_tokens"

// ScopeMarketing lets a token read the opt-out list, the check endpoint and the webhook deliveries.
const ScopeMarketing = "marketing:read"

// tokenPrefix marks privacybot API tokens (so that leaked ones are recognisable by secret scanners).
const tokenPrefix = "pbm_"

// APIToken is a bearer token of the marketing API as stored: only the SHA-256 of the token is kept
// (tokens are 32 random bytes, so a plain hash is enough).
type APIToken struct {
	Hash      string     `bson:"_id" json:"-"`
	Name      string     `bson:"name" json:"name"`
	Scope     string     `bson:"scope" json:"scope"`
	CreatedAt time.Time  `bson:"createdAt" json:"created_at"`
	RevokedAt *time.Time `bson:"revokedAt,omitempty" json:"revoked_at,omitempty"`
}

// Errors of the token store.
var (
	ErrTokenInvalid = errors.New("token unknown or revoked")
	ErrTokenName    = errors.New("a live token with this name exists")
	ErrTokenMissing = errors.New("no live token with this name")
)

// Tokens stores the API tokens.
type Tokens struct {
	coll *mongo.Collection
	lock func() func() // the store's write turn
	now  func() time.Time
}

// NewTokens returns the token store of s.
func NewTokens(s *Store) *Tokens {
	return &Tokens{coll: s.db.Collection(colAPITokens), lock: s.lockWrites, now: time.Now}
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Add creates a token with a name (unique among live tokens) and a scope, and returns it: the only time
// the token itself is available.
func (t *Tokens) Add(ctx context.Context, name, scope string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || scope == "" {
		return "", errors.New("token: name and scope are required")
	}
	live, err := t.List(ctx)
	if err != nil {
		return "", err
	}
	for _, tk := range live {
		if tk.Name == name && tk.RevokedAt == nil {
			return "", ErrTokenName
		}
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	doc := APIToken{Hash: hashToken(token), Name: name, Scope: scope, CreatedAt: t.now().UTC()}
	unlock := t.lock()
	_, err = t.coll.InsertOne(ctx, doc)
	unlock()
	if err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	return token, nil
}

// Verify returns the live token with this value, or ErrTokenInvalid.
func (t *Tokens) Verify(ctx context.Context, token string) (APIToken, error) {
	var tk APIToken
	if !strings.HasPrefix(token, tokenPrefix) {
		return tk, ErrTokenInvalid
	}
	err := t.coll.FindOne(ctx, bson.D{{Key: "_id", Value: hashToken(token)}}).Decode(&tk)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return tk, ErrTokenInvalid
	case err != nil:
		return tk, err
	case tk.RevokedAt != nil:
		return tk, ErrTokenInvalid
	}
	return tk, nil
}

// Revoke revokes the live token with this name.
func (t *Tokens) Revoke(ctx context.Context, name string) error {
	now := t.now().UTC()
	defer t.lock()()
	res, err := t.coll.UpdateMany(ctx, bson.D{{Key: "name", Value: name}, {Key: "revokedAt", Value: nil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revokedAt", Value: now}}}})
	if err != nil {
		return err
	}
	if res.ModifiedCount == 0 {
		return ErrTokenMissing
	}
	return nil
}

// List returns every token, live and revoked.
func (t *Tokens) List(ctx context.Context) ([]APIToken, error) {
	cur, err := t.coll.Find(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	var out []APIToken
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}
