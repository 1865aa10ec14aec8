package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

var engineURI string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "privacybot-store-")
	if err != nil {
		panic(err)
	}
	e, err := StartEmbedded(dir, "", quiet())
	if err != nil {
		panic(err)
	}
	engineURI = e.URI()
	code := m.Run()
	e.Stop()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{URI: engineURI, Database: fmt.Sprintf("s%d", time.Now().UnixNano()), Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func ev(id, user string) bot.Event {
	now := time.Now()
	return bot.Event{ID: id, Kind: bot.EventMessage, Type: "message", UserID: user, Timestamp: now, ReceivedAt: now, MessageType: "text", Text: "テスト 😊"}
}

func TestInboxDeduplicatesConcurrently(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	freshCount := make([]int, 20)
	for i := range freshCount {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fresh, err := s.AddToInbox(ctx, []bot.Event{ev("E1", "U1"), ev(fmt.Sprintf("E-%d", i), "U1")})
			if err != nil {
				t.Error(err)
			}
			freshCount[i] = len(fresh)
		}()
	}
	wg.Wait()
	total := 0
	for _, n := range freshCount {
		total += n
	}
	// E1 is not handled yet, so every caller hands it on (the processor takes it once), plus 20 distinct.
	if total != 40 {
		t.Fatalf("events to dispatch = %d, want 40", total)
	}
	all, err := s.Inbox(ctx)
	if err != nil || len(all) != 21 {
		t.Fatalf("inbox holds %d (%v), want 21", len(all), err)
	}
	if all[0].Text != "テスト 😊" && all[1].Text != "テスト 😊" {
		t.Fatalf("event text did not round-trip: %q", all[0].Text)
	}
}

func TestInboxBucketLeavesOnlyWhenClosedAndHandled(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	old := time.Now().Add(-5 * time.Minute)
	mk := func(id string, at time.Time) bot.Event {
		e := ev(id, "U1")
		e.ReceivedAt = at
		return e
	}
	if _, err := s.AddToInbox(ctx, []bot.Event{mk("OLD1", old), mk("OLD2", old)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddToInbox(ctx, []bot.Event{mk("NEW1", time.Now())}); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		all, err := s.Inbox(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	if err := s.RemoveFromInbox(ctx, []string{"OLD1", "NEW1"}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("inbox lists %d unhandled events, want 1", n)
	}
	names, _ := s.db.ListCollectionNames(ctx, bson.D{})
	if len(names) < 2 {
		t.Fatalf("a bucket was dropped while it still had an unhandled event or was open: %v", names)
	}
	if err := s.RemoveFromInbox(ctx, []string{"OLD2"}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("inbox lists %d unhandled events, want none", n)
	}
	// A restart (a new Store on the same database) finds what is left.
	s2, err := Open(ctx, Config{URI: engineURI, Database: s.db.Name(), Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close(ctx)
	left, err := s2.Inbox(ctx)
	// The closed bucket is gone; the open one is still there, and its marker says NEW1 was handled.
	if err != nil || len(left) != 0 {
		t.Fatalf("after restart: %v %v, want nothing to resume", left, err)
	}
}

func TestStepIsWrittenOnce(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	st := bot.Step{EventID: "E1", UserID: "U1", Seq: 1, State: flows.State{Lang: flows.En, Misses: 1},
		Out: []bot.Message{{Text: "hi", QuickReplies: []bot.QuickReply{{Label: "Menu", Data: "do=menu"}}}}, At: time.Now()}
	if err := s.CommitStep(ctx, st); err != nil {
		t.Fatal(err)
	}
	st2 := st
	st2.Out = nil
	if err := s.CommitStep(ctx, st2); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("second commit: %v, want ErrDuplicate", err)
	}
	got, err := s.Step(ctx, "E1")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != st.State || len(got.Out) != 1 || got.Out[0].QuickReplies[0].Data != "do=menu" {
		t.Fatalf("stored step = %+v", got)
	}
}

func TestDeliveryRecord(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, ok, _ := s.Delivery(ctx, "E1"); ok {
		t.Fatal("delivery found before it was recorded")
	}
	d := bot.Delivery{EventID: "E1", UserID: "U1", Status: bot.DeliverySent, Via: "reply", At: time.Now()}
	if err := s.RecordDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDelivery(ctx, d); err != nil {
		t.Fatalf("recording twice must be harmless: %v", err)
	}
	got, ok, err := s.Delivery(ctx, "E1")
	if err != nil || !ok || got.Via != "reply" {
		t.Fatalf("delivery = %+v %v %v", got, ok, err)
	}
}

func TestConversationsCheckpoint(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, ok, err := s.Conversation(ctx, "U1"); ok || err != nil {
		t.Fatalf("unknown conversation: %v %v", ok, err)
	}
	c := bot.Conversation{UserID: "U1", Seq: 5, State: flows.State{Lang: flows.En}, ProfileLang: flows.Ja, UpdatedAt: time.Now()}
	if err := s.SaveConversations(ctx, []bot.Conversation{c}); err != nil {
		t.Fatal(err)
	}
	c.Seq, c.State.Misses = 6, 2
	if err := s.SaveConversations(ctx, []bot.Conversation{c, {UserID: "U2", Seq: 1}}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Conversation(ctx, "U1")
	if err != nil || !ok || got.Seq != 6 || got.State.Misses != 2 || got.Lang() != flows.En {
		t.Fatalf("conversation = %+v %v %v", got, ok, err)
	}
}

func TestTranscriptOrderAndLimit(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	base := time.Now()
	for i := range 5 {
		if err := s.AppendTranscript(ctx, bot.TranscriptEntry{ID: fmt.Sprintf("E%d/in", i), UserID: "U1", Role: bot.RoleCustomer,
			Text: fmt.Sprintf("m%d", i), At: base.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.AppendTranscript(ctx, bot.TranscriptEntry{ID: "other", UserID: "U2", Text: "x", At: base})
	got, err := s.Transcript(ctx, "U1", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Text != "m2" || got[2].Text != "m4" {
		t.Fatalf("transcript = %+v", got)
	}
}

func TestStoreDownFailsLoudly(t *testing.T) {
	dir := t.TempDir()
	e, err := StartEmbedded(dir, "", quiet())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), Config{URI: e.URI(), Database: "down", Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	e.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := s.AddToInbox(ctx, []bot.Event{ev("E1", "U1")}); err == nil {
		t.Fatal("insert into a stopped store reported success")
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("ping of a stopped store succeeded")
	}
}

func TestRestartResumesOnlyUnhandledEvents(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, err := s.AddToInbox(ctx, []bot.Event{ev("A", "U1"), ev("B", "U1"), ev("C", "U2")}); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveFromInbox(ctx, []string{"A", "C"}); err != nil {
		t.Fatal(err)
	}
	// A crash: no seal. The next run finds B alone.
	s2, err := Open(ctx, Config{URI: engineURI, Database: s.db.Name(), Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close(ctx)
	left, err := s2.Inbox(ctx)
	if err != nil || len(left) != 1 || left[0].ID != "B" {
		t.Fatalf("resumed %v (%v), want only B", left, err)
	}
}

func TestSealDropsHandledOpenBuckets(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, err := s.AddToInbox(ctx, []bot.Event{ev("A", "U1")}); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveFromInbox(ctx, []string{"A"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SealInbox(ctx); err != nil {
		t.Fatal(err)
	}
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, inboxPrefix) {
			t.Fatalf("bucket %s survived the seal with every event handled", n)
		}
	}
}

func TestKnownConversationsSkipLookupsOnlyWhenCertain(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	// A test store talks to a shared engine by URI, like MongoDB: no index, every lookup asked.
	if s.known.absent("Unew") {
		t.Fatal("a store without the index claimed to know")
	}
	k := &knownConversations{ids: map[string]struct{}{}}
	k.add("Uearly") // stored while the index was loading
	if k.absent("Uother") {
		t.Fatal("absent before the index is loaded")
	}
	s.known = k
	s.convShards = embeddedConvShards
	if err := s.InsertConversations(ctx, []bot.Conversation{{UserID: "Ustored", State: flows.State{Misses: 1}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.loadKnownConversations(ctx); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"Uearly", "Ustored"} {
		if k.absent(u) {
			t.Fatalf("%s reported absent", u)
		}
	}
	if !k.absent("Unever") {
		t.Fatal("an unknown customer is not reported absent once loaded")
	}
	c, found, err := s.Conversation(ctx, "Ustored")
	if err != nil || !found || c.State.Misses != 1 {
		t.Fatalf("stored conversation: %+v %v %v", c, found, err)
	}
	if _, found, _ := s.Conversation(ctx, "Unever"); found {
		t.Fatal("found a conversation never stored")
	}
}

// One process per data directory: a second engine on it is refused until the first stops.
func TestEmbeddedDataDirTakesOneProcess(t *testing.T) {
	dir := t.TempDir()
	a, err := StartEmbedded(dir, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := StartEmbedded(dir, "", nil); !errors.Is(err, ErrDataDirInUse) {
		if b != nil {
			b.Stop()
		}
		t.Fatalf("a second engine on the directory: %v", err)
	}
	a.Stop()
	b, err := StartEmbedded(dir, "", nil)
	if err != nil {
		t.Fatalf("after the first stopped: %v", err)
	}
	b.Stop()
}
