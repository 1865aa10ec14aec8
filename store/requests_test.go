package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// openEmbedded opens a store on an embedded engine of its own in a fresh data directory, as the
// server does without MONGODB_URI: writes go through the write turn and checkpoints are sharded.
func openEmbedded(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(context.Background(), Config{DataDir: dir, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	if !s.serial || s.convShards != embeddedConvShards {
		t.Fatalf("store on its own engine: serial=%v shards=%d", s.serial, s.convShards)
	}
	return s, dir
}

func testSealer(t *testing.T) *request.Sealer {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	sl, err := request.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return sl
}

func testRequest(id, user, draft string) request.Request {
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	return request.Request{ID: id, UserID: user, Draft: draft, Kinds: flows.KindDisclosure,
		Requester: flows.RequesterSelf, Name: "岡山 太郎", Address: "岡山市北区1-1", Phone: "+81862000000",
		Lang: flows.Ja, WordingID: "request.confirm", WordingData: map[string]string{"Kinds": "開示"},
		Status: flows.StatusReceived, ReceivedAt: now, DueAt: now.AddDate(0, 0, 14), UpdatedAt: now, Version: 1,
		History: []request.Change{{What: request.ChangeCreated, To: flows.StatusReceived,
			Actor: request.Actor{Kind: request.ActorCustomer}, At: now}}}
}

func TestRequestNumbersAreAtomicPerDay(t *testing.T) {
	s, _ := openEmbedded(t)
	ctx := context.Background()
	const n = 20
	got := make([]int, 0, 2*n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 2 * n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			day := "20261102"
			if i%2 == 1 {
				day = "20261103"
			}
			v, err := s.NextRequestNumber(ctx, day)
			if err != nil {
				t.Error(err)
				return
			}
			if day == "20261102" {
				mu.Lock()
				got = append(got, v)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Ints(got)
	if len(got) != n {
		t.Fatalf("got %d numbers, want %d", len(got), n)
	}
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("numbers of the day %v, want 1..%d each once", got, n)
		}
	}
	// The other day counted on its own; the counter survives a reopen of the collection.
	if v, err := s.NextRequestNumber(ctx, "20261103"); err != nil || v != n+1 {
		t.Fatalf("next of the other day = %d, %v; want %d", v, err, n+1)
	}
	if v, err := s.NextRequestNumber(ctx, "20261104"); err != nil || v != 1 {
		t.Fatalf("first of a new day = %d, %v; want 1", v, err)
	}
}

func TestRequestNumbersOnSharedEngine(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for want := 1; want <= 3; want++ {
		if v, err := s.NextRequestNumber(ctx, "20261102"); err != nil || v != want {
			t.Fatalf("number = %d, %v; want %d", v, err, want)
		}
	}
}

// TestRequestsSurviveRestart reopens the embedded engine's files: the indexes are created again (the
// engine must accept that), the counter carries on and the unique key still holds.
func TestRequestsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	open := func() *Store {
		s, err := Open(ctx, Config{DataDir: dir, Log: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	if v, err := s.NextRequestNumber(ctx, "20261102"); err != nil || v != 1 {
		t.Fatalf("first number %d, %v", v, err)
	}
	if err := s.InsertRequest(ctx, testRequest("R-20261102-0001", "U1", "d1")); err != nil {
		t.Fatal(err)
	}
	s.Close(ctx)
	for range 2 {
		s = open()
		all, err := s.AllRequests(ctx)
		if err != nil || len(all) != 1 {
			t.Fatalf("after restart: %d requests, %v", len(all), err)
		}
		if err := s.InsertRequest(ctx, testRequest("R-20261102-0002", "U1", "d1")); !errors.Is(err, bot.ErrDuplicate) {
			t.Fatalf("same draft after restart: %v, want ErrDuplicate", err)
		}
		s.Close(ctx)
	}
	s = open()
	defer s.Close(ctx)
	if v, err := s.NextRequestNumber(ctx, "20261102"); err != nil || v != 2 {
		t.Fatalf("number after restart %d, %v; want 2", v, err)
	}
}

func TestInsertRequestDuplicates(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	r := testRequest("R-20261102-0001", "U1", "d1")
	if err := s.InsertRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	// The same draft of the same customer under another reference (a crash between counter and
	// insert, a second process): a duplicate.
	if err := s.InsertRequest(ctx, testRequest("R-20261102-0002", "U1", "d1")); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("same (user, draft): %v, want ErrDuplicate", err)
	}
	// The same reference: a duplicate.
	if err := s.InsertRequest(ctx, testRequest("R-20261102-0001", "U2", "d9")); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("same reference: %v, want ErrDuplicate", err)
	}
	// The same draft key of another customer, and another draft of the same customer: new requests.
	if err := s.InsertRequest(ctx, testRequest("R-20261102-0003", "U2", "d1")); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertRequest(ctx, testRequest("R-20261102-0004", "U1", "d2")); err != nil {
		t.Fatal(err)
	}
	all, err := s.AllRequests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].ID != "R-20261102-0001" || all[2].ID != "R-20261102-0004" {
		t.Fatalf("requests %+v", all)
	}
	got := all[0]
	if got.Name != r.Name || got.WordingData["Kinds"] != "開示" || len(got.History) != 1 ||
		!got.ReceivedAt.Equal(r.ReceivedAt) || got.Kinds != flows.KindDisclosure || got.Version != 1 {
		t.Fatalf("request did not round-trip: %+v", got)
	}
}

func TestUpdateRequestIsConditional(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	r := testRequest("R-20261102-0001", "U1", "d1")
	if err := s.InsertRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	next := r
	next.Status, next.Version = flows.StatusVerified, 2
	if err := s.UpdateRequest(ctx, next); err != nil {
		t.Fatal(err)
	}
	// A writer that read version 1 too.
	stale := r
	stale.Status, stale.Version = flows.StatusRejected, 2
	if err := s.UpdateRequest(ctx, stale); !errors.Is(err, request.ErrConflict) {
		t.Fatalf("stale update: %v, want ErrConflict", err)
	}
	missing := testRequest("R-20261102-0009", "U9", "d9")
	missing.Version = 2
	if err := s.UpdateRequest(ctx, missing); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("update of no request: %v, want ErrNotFound", err)
	}
	all, err := s.AllRequests(ctx)
	if err != nil || len(all) != 1 || all[0].Status != flows.StatusVerified || all[0].Version != 2 {
		t.Fatalf("stored %+v, %v", all, err)
	}
}

func TestUpdateRequestConcurrentWritersOneWins(t *testing.T) {
	s, _ := openEmbedded(t)
	ctx := context.Background()
	r := testRequest("R-20261102-0001", "U1", "d1")
	if err := s.InsertRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := r
			next.Version, next.Outcome = 2, fmt.Sprint("writer ", i)
			err := s.UpdateRequest(ctx, next)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, request.ErrConflict):
				conflicts++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || conflicts != 9 {
		t.Fatalf("wins=%d conflicts=%d, want 1 and 9", wins, conflicts)
	}
}

func TestDocumentsStoreListAndProjection(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	sl := testSealer(t)
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	doc := func(id, user, draft string, seq int, at time.Time) request.Document {
		return request.Document{ID: id, UserID: user, Draft: draft, MessageID: "m-" + id, Seq: seq,
			Status: request.DocFetching, CreatedAt: at}
	}
	// Added out of order; two arrive at the same moment.
	for _, d := range []request.Document{
		doc("ev3/0", "U1", "d1", 3, t0.Add(2*time.Minute)),
		doc("ev2/0", "U1", "d1", 2, t0),
		doc("ev1/0", "U1", "d1", 1, t0),
		doc("ev4/0", "U1", "d2", 1, t0),
		doc("ev5/0", "U2", "d1", 1, t0),
	} {
		added, err := s.AddDocument(ctx, d)
		if err != nil || !added {
			t.Fatalf("add %s: %v %v", d.ID, added, err)
		}
	}
	if added, err := s.AddDocument(ctx, doc("ev1/0", "U1", "d1", 1, t0)); err != nil || added {
		t.Fatalf("second add: added=%v err=%v, want false, nil", added, err)
	}

	plain := []byte("\xff\xd8\xff a photo of a driving licence")
	sealed, err := sl.Seal(plain, "doc:ev1/0")
	if err != nil {
		t.Fatal(err)
	}
	d := doc("ev1/0", "U1", "d1", 1, t0)
	d.Status, d.ContentType, d.Size, d.SHA256, d.Sealed, d.KeyID, d.StoredAt =
		request.DocStored, "image/jpeg", len(plain), "abc", sealed, sl.KeyID(), t0.Add(time.Second)
	if err := s.SaveDocument(ctx, d); err != nil {
		t.Fatal(err)
	}
	rej := doc("ev2/0", "U1", "d1", 2, t0)
	rej.Status, rej.Problem = request.DocRejected, "not_image"
	if err := s.SaveDocument(ctx, rej); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveDocument(ctx, doc("nope", "U1", "d1", 9, t0)); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("save of no document: %v, want ErrNotFound", err)
	}

	got, err := s.Document(ctx, "ev1/0")
	if err != nil {
		t.Fatal(err)
	}
	opened, err := sl.Open(got.Sealed, got.KeyID, "doc:"+got.ID)
	if err != nil || string(opened) != string(plain) || got.Status != request.DocStored || got.Size != len(plain) {
		t.Fatalf("document %+v: %q %v", got, opened, err)
	}
	if _, err := s.Document(ctx, "nope"); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("missing document: %v, want ErrNotFound", err)
	}

	list, err := s.Documents(ctx, "U1", "d1")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range list {
		ids = append(ids, x.ID)
		if x.Sealed != nil {
			t.Fatalf("listed document %s carries its bytes", x.ID)
		}
	}
	if fmt.Sprint(ids) != "[ev1/0 ev2/0 ev3/0]" {
		t.Fatalf("documents of U1/d1 = %v, want oldest first by createdAt then seq", ids)
	}
	if list[0].KeyID != sl.KeyID() || list[0].ContentType != "image/jpeg" || list[1].Problem != "not_image" {
		t.Fatalf("metadata lost in the list: %+v", list[:2])
	}

	fetching, err := s.FetchingDocuments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids = ids[:0]
	for _, x := range fetching {
		ids = append(ids, x.ID)
	}
	sort.Strings(ids)
	if fmt.Sprint(ids) != "[ev3/0 ev4/0 ev5/0]" {
		t.Fatalf("fetching = %v", ids)
	}

	// Bytes deleted (on schedule or by an erasure) stay deleted: a fetch finishing late saves nothing.
	gone := got
	gone.Status, gone.Sealed, gone.DeletedAt = request.DocDeleted, nil, t0.Add(time.Hour)
	if err := s.SaveDocument(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveDocument(ctx, d); err != nil {
		t.Fatalf("late save of a deleted document: %v", err)
	}
	if got, err := s.Document(ctx, "ev1/0"); err != nil || got.Status != request.DocDeleted || got.Sealed != nil {
		t.Fatalf("deleted document came back: %+v, %v", got, err)
	}
}

func TestPackageFiles(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	sl := testSealer(t)
	sealed, err := sl.Seal([]byte("name,points\n岡山,120\n"), "file:R-20261102-0001/f1")
	if err != nil {
		t.Fatal(err)
	}
	f := request.StoredFile{ID: "R-20261102-0001/f1", Request: "R-20261102-0001", Sealed: sealed, KeyID: sl.KeyID(),
		FileInfo: request.FileInfo{ID: "f1", Name: "points.csv", ContentType: "text/csv", Size: 21, SHA256: "x",
			AddedBy: "staff@example.com", AddedAt: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)}}
	if err := s.AddFile(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := s.AddFile(ctx, f); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("second add: %v, want ErrDuplicate", err)
	}
	got, err := s.PackageFile(ctx, f.Request, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "points.csv" || got.AddedBy != f.AddedBy || string(got.Sealed) != string(sealed) || !got.AddedAt.Equal(f.AddedAt) {
		t.Fatalf("file did not round-trip: %+v", got)
	}
	if _, err := s.PackageFile(ctx, "R-20261102-0002", f.ID); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("file of another request: %v, want ErrNotFound", err)
	}
	if _, err := s.PackageFile(ctx, f.Request, f.Request+"/nope"); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("missing file: %v, want ErrNotFound", err)
	}
}
