package account

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

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
