package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/retention"
	"github.com/enemane/privacybot/flows"
)

// day is noon of a day of November 2026.
func day(d int) time.Time { return time.Date(2026, 11, d, 12, 0, 0, 0, time.UTC) }

// seedJournal writes, for each day, one step, one delivery and two transcript lines of a customer.
func seedJournal(t *testing.T, s *Store, user string, days ...int) {
	t.Helper()
	ctx := context.Background()
	for _, d := range days {
		at := day(d)
		ev := fmt.Sprintf("%s-e%d", user, d)
		if err := s.CommitStep(ctx, bot.Step{EventID: ev, UserID: user, Seq: int64(d), EventAt: at, At: at}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordDelivery(ctx, bot.Delivery{EventID: ev, UserID: user, Status: bot.DeliverySent, Via: "push", At: at}); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendTranscript(ctx,
			bot.TranscriptEntry{ID: ev + "/in", UserID: user, Role: bot.RoleCustomer, Kind: "text", Text: "day", EventID: ev, At: at},
			bot.TranscriptEntry{ID: ev + "/out/0", UserID: user, Role: bot.RoleBot, Kind: "text", Text: "ok", EventID: ev, At: at.Add(time.Second)},
		); err != nil {
			t.Fatal(err)
		}
	}
}

// collections lists the physical collections whose name starts with prefix.
func collections(t *testing.T, s *Store, prefix string) []string {
	t.Helper()
	names, err := s.db.ListCollectionNames(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func sweep(t *testing.T, s *Store, kind flows.DataKind, cutoff time.Time) int64 {
	t.Helper()
	n, err := s.Sweep(context.Background(), kind, cutoff)
	if err != nil {
		t.Fatalf("sweep %s: %v", kind, err)
	}
	return n
}

// The journal lives in daily partitions on the embedded engine; a sweep drops the days wholly before
// the cutoff, reads never see them again, and a second sweep finds nothing.
func TestJournalDaysDroppedWhole(t *testing.T) {
	s, _ := openEmbedded(t)
	ctx := context.Background()
	seedJournal(t, s, "U1", 1, 2, 3)
	seedJournal(t, s, "U2", 3)
	if got := collections(t, s, colTranscript); fmt.Sprint(got) != "[transcript_20261101 transcript_20261102 transcript_20261103]" {
		t.Fatalf("transcript partitions %v", got)
	}
	lines, err := s.Transcript(ctx, "U1", 0)
	if err != nil || len(lines) != 6 || !lines[0].At.Equal(day(1)) {
		t.Fatalf("transcript before the sweep: %d lines, %v", len(lines), err)
	}
	if lines, _ := s.Transcript(ctx, "U1", 3); len(lines) != 3 || !lines[2].At.Equal(day(3).Add(time.Second)) {
		t.Fatalf("newest 3 lines %+v", lines)
	}

	// The cutoff falls inside day 3: days 1 and 2 ended before it, day 3 has not.
	cutoff := day(3).Add(-time.Hour)
	if n := sweep(t, s, flows.DataTranscript, cutoff); n != 4 {
		t.Errorf("transcript sweep deleted %d lines, want 4", n)
	}
	if n := sweep(t, s, flows.DataSteps, cutoff); n != 4 {
		t.Errorf("steps sweep deleted %d (steps and deliveries), want 4", n)
	}
	for _, prefix := range []string{colTranscript, colSteps, colDeliveries} {
		if got := collections(t, s, prefix); len(got) != 1 || !strings.HasSuffix(got[0], "_20261103") {
			t.Errorf("%s partitions after the sweep: %v", prefix, got)
		}
	}
	lines, _ = s.Transcript(ctx, "U1", 0)
	if len(lines) != 2 || !lines[0].At.Equal(day(3)) {
		t.Errorf("transcript after the sweep %+v", lines)
	}
	if _, err := s.Step(ctx, "U1-e1"); err == nil {
		t.Error("a swept step is still found")
	}
	if st, err := s.Step(ctx, "U1-e3"); err != nil || st.UserID != "U1" {
		t.Errorf("the kept step: %+v, %v", st, err)
	}
	if _, found, err := s.Delivery(ctx, "U2-e3"); err != nil || !found {
		t.Errorf("the kept delivery: %v %v", found, err)
	}
	if n := sweep(t, s, flows.DataTranscript, cutoff) + sweep(t, s, flows.DataSteps, cutoff); n != 0 {
		t.Errorf("a second sweep deleted %d", n)
	}

	// A step written again after its day was dropped (an old event processed late) recreates the day,
	// and the unique key still holds within it.
	if err := s.CommitStep(ctx, bot.Step{EventID: "U1-e1", UserID: "U1", EventAt: day(1), At: day(4)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitStep(ctx, bot.Step{EventID: "U1-e1", UserID: "U1", EventAt: day(1), At: day(4)}); !errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("second commit of a step: %v, want ErrDuplicate", err)
	}
}

// The other kinds the store keeps: each goes by its own clock, and what is still in use stays.
func TestStoreKindsSweptByTheirClocks(t *testing.T) {
	s, _ := openEmbedded(t)
	ctx := context.Background()
	cutoff := day(10)
	// Checkpoints: by when they were last written.
	if err := s.InsertConversations(ctx, []bot.Conversation{
		{UserID: "Uold", UpdatedAt: day(1)}, {UserID: "Unew", UpdatedAt: day(20)},
	}); err != nil {
		t.Fatal(err)
	}
	// Escalations: closed ones by their closing, cancelled ones by their making; open ones stay.
	for _, e := range []bot.Escalation{
		{ID: "closed-old", UserID: "U", Status: bot.StatusClosed, CreatedAt: day(1), ClosedAt: day(2)},
		{ID: "closed-new", UserID: "U", Status: bot.StatusClosed, CreatedAt: day(1), ClosedAt: day(12)},
		{ID: "cancelled-old", UserID: "U", Status: bot.StatusCancelled, CreatedAt: day(1)},
		{ID: "open-old", UserID: "U", Status: bot.StatusQueued, CreatedAt: day(1)},
	} {
		if err := s.CreateEscalation(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// Audit entries and the sweeper's reports: by their time.
	for _, at := range []time.Time{day(1), day(11)} {
		if err := s.Audit(ctx, account.AuditEntry{Actor: "a@example.jp", Action: "x", At: at}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveSweep(ctx, retention.Report{ID: at.String(), Started: at, Finished: at}); err != nil {
			t.Fatal(err)
		}
	}
	// Outbound messages: delivered and given up, by when that happened; pending ones stay.
	for coll, docs := range map[string][]outboxDoc{
		colOutboxDelivered: {{ID: "d-old", DoneAt: timePtr(day(1))}, {ID: "d-new", DoneAt: timePtr(day(11))}},
		colOutboxFailed:    {{ID: "f-old", DoneAt: timePtr(day(1))}},
		colOutbox:          {{ID: "p-old", QueuedAt: day(1)}},
	} {
		for _, d := range docs {
			if _, err := s.db.Collection(coll).InsertOne(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
	}

	for kind, want := range map[flows.DataKind]int64{flows.DataConversations: 1, flows.DataEscalations: 2,
		flows.DataAudit: 1, flows.DataOutbox: 2} {
		if n := sweep(t, s, kind, cutoff); n != want {
			t.Errorf("%s: deleted %d, want %d", kind, n, want)
		}
		if n := sweep(t, s, kind, cutoff); n != 0 {
			t.Errorf("%s: a second sweep deleted %d", kind, n)
		}
	}
	if _, found, _ := s.Conversation(ctx, "Uold"); found {
		t.Error("an idle checkpoint stays")
	}
	if _, found, _ := s.Conversation(ctx, "Unew"); !found {
		t.Error("a recent checkpoint went")
	}
	for id, want := range map[string]bool{"closed-old": false, "closed-new": true, "cancelled-old": false, "open-old": true} {
		if _, err := s.Escalation(ctx, id); (err == nil) != want {
			t.Errorf("escalation %s kept=%v, want %v", id, err == nil, want)
		}
	}
	if log, _ := s.AuditLog(ctx, 10); len(log) != 1 || !log[0].At.Equal(day(11)) {
		t.Errorf("audit after the sweep %+v", log)
	}
	if reps, _ := s.Sweeps(ctx, 10); len(reps) != 1 || !reps[0].Started.Equal(day(11)) {
		t.Errorf("reports after the sweep %+v", reps)
	}
	if n, _ := s.db.Collection(colOutbox).CountDocuments(ctx, bson.D{}); n != 1 {
		t.Errorf("pending outbox messages %d, want 1", n)
	}
}

// A lease is one holder's until it expires or is released.
func TestLease(t *testing.T) {
	s, _ := openEmbedded(t)
	ctx := context.Background()
	now := time.Now()
	try := func(holder string, until time.Time) bool {
		t.Helper()
		ok, err := s.TryLease(ctx, "job", holder, now, until)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !try("a", now.Add(time.Hour)) || try("b", now.Add(time.Hour)) || !try("a", now.Add(2*time.Hour)) {
		t.Fatal("a takes and renews; b is refused")
	}
	if err := s.ReleaseLease(ctx, "job", "b"); err != nil || try("b", now.Add(time.Hour)) {
		t.Fatal("only the holder releases")
	}
	if err := s.ReleaseLease(ctx, "job", "a"); err != nil || !try("b", now.Add(-time.Second)) {
		t.Fatal("a released lease is free")
	}
	if !try("a", now.Add(time.Hour)) {
		t.Fatal("an expired lease is free")
	}
}

// Two instances sweeping at once: the lease lets one sweep; whatever the timing, the days go once and
// nothing fails.
func TestTwoSweepersAtOnce(t *testing.T) {
	s, _ := openEmbedded(t)
	seedJournal(t, s, "U1", 1, 2)
	policy, err := retention.Parse("transcript=1d,steps=7d", 14)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return day(20) }
	sweeper := func(name string) *retention.Sweeper {
		targets := map[flows.DataKind]retention.Target{}
		for _, k := range []flows.DataKind{flows.DataTranscript, flows.DataSteps} {
			targets[k] = s
		}
		only := retention.Policy{}
		for _, p := range policy {
			if targets[p.Kind] != nil {
				only = append(only, p)
			}
		}
		return retention.New(retention.Config{Policy: only, Targets: targets, Lease: s, Records: s, Instance: name,
			Now: now, Log: quiet()})
	}
	a, b := sweeper("a"), sweeper("b")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var deleted int64
	for _, sw := range []*retention.Sweeper{a, b} {
		wg.Go(func() {
			r, err := sw.Once(context.Background(), retention.TriggerSchedule)
			if err != nil && !errors.Is(err, retention.ErrBusy) {
				t.Errorf("sweep: %v", err)
			}
			if r.Failed() {
				t.Errorf("report %+v", r)
			}
			mu.Lock()
			deleted += r.Deleted()
			mu.Unlock()
		})
	}
	wg.Wait()
	if deleted != 8 {
		t.Errorf("two sweepers deleted %d in all, want 8 (4 lines, 2 steps, 2 deliveries)", deleted)
	}
	if r, err := a.Once(context.Background(), retention.TriggerStaff); err != nil || r.Deleted() != 0 {
		t.Errorf("a third sweep: %+v, %v", r, err)
	}
	reps, err := s.Sweeps(context.Background(), 10)
	if err != nil || len(reps) < 2 || !slices.ContainsFunc(reps, func(r retention.Report) bool { return r.Trigger == retention.TriggerStaff }) {
		t.Errorf("reports %+v, %v", reps, err)
	}
}
