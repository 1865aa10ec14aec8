package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/enemane/privacybot/bot/account"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

const colAPITokens = "api_tokens"

// Tokens stores the API tokens. A token's document holds its hash (_id), name, scopes, creation and
// revocation times; documents written before tokens had scopes have only "scope" ("marketing:read")
// and are read as scope optouts.
type Tokens struct {
	coll *mongo.Collection
	lock func() func() // the store's write turn
	now  func() time.Time
}

// NewTokens returns the token store of s.
func NewTokens(s *Store) *Tokens {
	return &Tokens{coll: s.db.Collection(colAPITokens), lock: s.lockWrites, now: time.Now}
}

// Add creates a token with a name (unique among live tokens) and one or more scopes
// (account.ParseScopes: comma-separated entries are split, account.ScopeMarketing is
// account.ScopeOptouts), and returns it: the only time the token itself is available.
func (t *Tokens) Add(ctx context.Context, name string, scopes ...string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", errors.New("token: a name is required")
	}
	granted, err := account.ParseScopes(scopes...)
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	live, err := t.List(ctx)
	if err != nil {
		return "", err
	}
	for _, tk := range live {
		if tk.Name == name && tk.RevokedAt == nil {
			return "", account.ErrTokenName
		}
	}
	token, hash, err := account.NewToken()
	if err != nil {
		return "", err
	}
	doc := account.APIToken{Hash: hash, Name: name, Scopes: granted, CreatedAt: t.now().UTC()}
	if slices.Contains(granted, account.ScopeOptouts) {
		doc.Scope = account.ScopeMarketing // what an earlier version checks (a rollback keeps it working)
	}
	unlock := t.lock()
	_, err = t.coll.InsertOne(ctx, doc)
	unlock()
	if err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	return token, nil
}

// Verify returns the live token with this value, or account.ErrTokenInvalid. Its Scopes are the
// granted ones (account.ScopeOptouts for a token stored without a list of scopes).
func (t *Tokens) Verify(ctx context.Context, token string) (account.APIToken, error) {
	var tk account.APIToken
	if !account.LooksLikeToken(token) {
		return tk, account.ErrTokenInvalid
	}
	err := t.coll.FindOne(ctx, bson.D{{Key: "_id", Value: account.HashToken(token)}}).Decode(&tk)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return tk, account.ErrTokenInvalid
	case err != nil:
		return tk, err
	case tk.RevokedAt != nil:
		return tk, account.ErrTokenInvalid
	}
	tk.Scopes = tk.Granted()
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
		return account.ErrTokenMissing
	}
	return nil
}

// List returns every token, live and revoked, each with its granted scopes.
func (t *Tokens) List(ctx context.Context) ([]account.APIToken, error) {
	cur, err := t.coll.Find(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	var out []account.APIToken
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Scopes = out[i].Granted()
	}
	return out, nil
}
