package account

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Scopes of API tokens: what a token may use. A token has one or more.
const (
	// ScopeOptouts lets a token use the marketing API: the opt-out feed, the CSV export, the check
	// endpoint and the webhook deliveries.
	ScopeOptouts = "optouts"
	// ScopeRequests lets a token use the back office's requests API: list and read the personal-data
	// requests and move them along their lifecycle.
	ScopeRequests = "requests"
)

// ScopeMarketing is the single scope of the tokens made before tokens had a list of scopes
// ("marketing:read", stored in the token's Scope field). It means ScopeOptouts: ParseScopes accepts
// it as that, and a token stored without a list of scopes has ScopeOptouts.
const ScopeMarketing = "marketing:read"

// KnownScopes lists the scopes, in the order they are shown.
func KnownScopes() []string { return []string{ScopeOptouts, ScopeRequests} }

// ParseScopes reads scopes as given on a command line: each entry may hold several, separated by
// commas. Entries are trimmed, ScopeMarketing is read as ScopeOptouts, repeats are dropped, and the
// result is in the order of KnownScopes. An unknown scope, or none at all, is an error.
func ParseScopes(entries ...string) ([]string, error) {
	seen := map[string]bool{}
	for _, e := range entries {
		for s := range strings.SplitSeq(e, ",") {
			s = strings.TrimSpace(s)
			switch {
			case s == "":
				continue
			case s == ScopeMarketing:
				s = ScopeOptouts
			case !slices.Contains(KnownScopes(), s):
				return nil, fmt.Errorf("unknown scope %q (known: %s)", s, strings.Join(KnownScopes(), ", "))
			}
			seen[s] = true
		}
	}
	var out []string
	for _, s := range KnownScopes() {
		if seen[s] {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("a scope is required (known: %s)", strings.Join(KnownScopes(), ", "))
	}
	return out, nil
}

// tokenPrefix marks privacybot API tokens (so that leaked ones are recognisable by secret scanners).
const tokenPrefix = "pbm_"

// APIToken is a bearer token of the API as stored: only the SHA-256 of the token is kept (tokens are
// 32 random bytes, so a plain hash is enough).
type APIToken struct {
	Hash string `bson:"_id" json:"-"`
	Name string `bson:"name" json:"name"`
	// Scopes are what the token may use (ScopeOptouts, ScopeRequests). Tokens stored before tokens had
	// a list of scopes have none stored: they have ScopeOptouts (Granted).
	Scopes []string `bson:"scopes,omitempty" json:"scopes"`
	// Scope is the single scope that earlier versions stored and checked (ScopeMarketing). It is still
	// written for tokens with ScopeOptouts, so that an earlier version accepts them too; it grants
	// nothing by itself.
	Scope     string     `bson:"scope,omitempty" json:"-"`
	CreatedAt time.Time  `bson:"createdAt" json:"created_at"`
	RevokedAt *time.Time `bson:"revokedAt,omitempty" json:"revoked_at,omitempty"`
}

// Granted returns the token's scopes: the stored list, or ScopeOptouts for a token stored without
// one (made by an earlier version).
func (t APIToken) Granted() []string {
	if len(t.Scopes) == 0 {
		return []string{ScopeOptouts}
	}
	return t.Scopes
}

// Has reports whether the token has the scope.
func (t APIToken) Has(scope string) bool { return slices.Contains(t.Granted(), scope) }

// Errors of the token store.
var (
	ErrTokenInvalid = errors.New("token unknown or revoked")
	ErrTokenName    = errors.New("a live token with this name exists")
	ErrTokenMissing = errors.New("no live token with this name")
)

// NewToken returns a fresh API token and the hash under which it is kept.
func NewToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is the key under which a token is kept (tokens are 32 random bytes: a plain hash is enough).
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// LooksLikeToken reports whether s has the shape of a privacybot API token.
func LooksLikeToken(s string) bool { return strings.HasPrefix(s, tokenPrefix) }
