package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
)

// inboxIDs lists the IDs Inbox returns.
func inboxIDs(t *testing.T, s *Store) []string {
	t.Helper()
	evs, err := s.Inbox(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

// TestInboxInsertWaitingPastItsDeadlineIsNotCommitted: the webhook gave up (503) while the insert
// waited for the write turn; the insert must not commit behind its back, and the redelivery is fresh.
func TestInboxInsertWaitingPastItsDeadlineIsNotCommitted(t *testing.T) {
	s, _ := openEmbedded(t) // the embedded engine's write gate
	s.gate.acquire(false)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := s.AddToInbox(ctx, []bot.Event{ev("STALL1", "U1")}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("insert behind a held gate: %v, want the deadline", err)
	}
	s.gate.release()
	got, err := s.AddToInbox(context.Background(), []bot.Event{ev("STALL1", "U1")})
	if err != nil || len(got) != 1 {
		t.Fatalf("redelivery after the stall: %v %v, want it to dispatch", got, err)
	}
	if ids := inboxIDs(t, s); len(ids) != 1 || ids[0] != "STALL1" {
		t.Fatalf("inbox %v, want [STALL1]", ids)
	}
}

// TestInboxRedeliveryOfAnInsertCommittedAfterItsCallerGaveUp: an insert that ran past its caller's
// deadline commits although the webhook answered 503. The redelivery meets a duplicate key; it must
// still be dispatched and tracked (so the bucket is not dropped under it), and a restart must resume it.
func TestInboxRedeliveryOfAnInsertCommittedAfterItsCallerGaveUp(t *testing.T) {
	// The buckets are the embedded engine's inbox (MongoDB's is the shared collection: inbox_shared_test.go).
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Config{DataDir: dir, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	late := ev("LATE1", "U1")
	// The late commit: the document is in its bucket, and nothing in the process knows of it.
	if _, err := s.db.Collection(bucketName(bucketOf(late.ReceivedAt))).InsertOne(ctx, late); err != nil {
		t.Fatal(err)
	}
	redelivered := late
	redelivered.Redelivery = true
	got, err := s.AddToInbox(ctx, []bot.Event{redelivered, ev("OTHER1", "U2")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "LATE1" {
		t.Fatalf("dispatch %v, want LATE1 and OTHER1", got)
	}
	// Handled OTHER1 only; a seal (as at shutdown) must keep the bucket: LATE1 is still unhandled.
	if err := s.RemoveFromInbox(ctx, []string{"OTHER1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SealInbox(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close(ctx)
	s2, err := Open(ctx, Config{DataDir: dir, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close(ctx)
	if ids := inboxIDs(t, s2); len(ids) != 1 || ids[0] != "LATE1" {
		t.Fatalf("after a restart the inbox resumes %v, want [LATE1]", ids)
	}
	// Once handled, a further redelivery in the same bucket is recognised and not dispatched again.
	if err := s2.RemoveFromInbox(ctx, []string{"LATE1"}); err != nil {
		t.Fatal(err)
	}
	again, err := s2.AddToInbox(ctx, []bot.Event{redelivered})
	if err != nil || len(again) != 0 {
		t.Fatalf("redelivery of a handled event: %v %v, want nothing to dispatch", again, err)
	}
}
