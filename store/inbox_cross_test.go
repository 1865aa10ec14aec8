package store

import (
	"context"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
)

// TestRedeliveryIntoALaterBucketReleasesBothCopies: a redelivery of a still-tracked event that lands in
// a later bucket is tracked in both; handling it releases both, and a restart resumes nothing.
func TestRedeliveryIntoALaterBucketReleasesBothCopies(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	old := ev("X1", "U1")
	old.ReceivedAt = time.Now().Add(-5 * time.Minute)
	if got, err := s.AddToInbox(ctx, []bot.Event{old}); err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	re := ev("X1", "U1") // LINE redelivers it now (current bucket)
	if got, err := s.AddToInbox(ctx, []bot.Event{re}); err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	// The processor handled X1 once (the second dispatch was ignored as known) and removes it.
	if err := s.RemoveFromInbox(ctx, []string{"X1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveFromInbox(ctx, nil); err != nil {
		t.Fatal(err)
	}
	b1 := bucketOf(old.ReceivedAt)
	s.buckets.mu.Lock()
	left := len(s.buckets.open[b1])
	s.buckets.mu.Unlock()
	if left != 0 {
		t.Errorf("bucket %d still holds %d 'unhandled' event(s) after X1 was handled: never dropped", b1, left)
	}
	if err := s.SealInbox(ctx); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, Config{URI: engineURI, Database: s.db.Name(), Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close(ctx)
	if ids := inboxIDs(t, s2); len(ids) != 0 {
		t.Errorf("after a clean stop the next start resumes %v (handled already)", ids)
	}
}
