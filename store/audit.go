package store

import (
	"context"
	"time"

	"github.com/enemane/privacybot/bot/account"
	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// colAudit is the audit log of staff actions: insert-only.
const colAudit = "audit"

// Audit appends an entry (insert-only; nothing in the program updates or deletes the log).
func (s *Store) Audit(ctx context.Context, e account.AuditEntry) error {
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	defer s.lockWrites()()
	_, err := s.db.Collection(colAudit).InsertOne(ctx, e)
	return err
}

// AuditLog returns the newest entries, at most limit.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]account.AuditEntry, error) {
	cur, err := s.db.Collection(colAudit).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "at", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	out := []account.AuditEntry{}
	return out, cur.All(ctx, &out)
}
