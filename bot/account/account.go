// Package account is staff identity: console accounts and their roles, passwords, sessions, the marketing
// API's tokens, canned replies and the audit log's entries. It knows no database: package store keeps
// them (and answers bot.ErrNotFound for what does not exist).
package account

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Staff roles.
const (
	RoleAdmin     = "admin"     // manages staff and canned replies, and works chats
	RoleAgent     = "agent"     // works chats
	RoleMarketing = "marketing" // the opt-out list only; never transcripts
	// RolePrivacy is the 個人情報保護管理者 of policy item 4: handles personal-data requests (with
	// admins, the only role that sees identity documents) and works chats.
	RolePrivacy = "privacy"
)

// ValidRole reports whether r is a staff role.
func ValidRole(r string) bool {
	return r == RoleAdmin || r == RoleAgent || r == RoleMarketing || r == RolePrivacy
}

// SeesDocuments reports whether a role may see personal-data requests in full, identity documents
// included.
func SeesDocuments(role string) bool { return role == RoleAdmin || role == RolePrivacy }

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
