package account

import "time"

// AuditEntry is one staff action: who did what to which object, and when. Detail never holds message
// text or passwords.
type AuditEntry struct {
	ID     string    `bson:"_id"`
	At     time.Time `bson:"at"`
	Actor  string    `bson:"actor"` // staff e-mail ("" for failed logins)
	Action string    `bson:"action"`
	Target string    `bson:"target,omitempty"`
	Detail string    `bson:"detail,omitempty"`
	IP     string    `bson:"ip,omitempty"`
}
