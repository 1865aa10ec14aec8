package store

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// seedAll fills a store with documents in every kind of collection: customers on two days (journal
// partitions of two days, checkpoints in several shards, escalations, consent, requests, identity
// documents with sealed bytes), an inbox with a pending event and a handled one (and its marker),
// staff, a session, a canned reply, an API token, audit entries, the outbox (pending and delivered),
// a request counter and a package file.
func seedAll(t *testing.T, s *Store, sl *request.Sealer) {
	t.Helper()
	ctx := context.Background()
	day1 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i := range 6 {
		c := customer{user: fmt.Sprintf("Ubackup%04d", i), mark: fmt.Sprintf("MARK-%d", i), t0: day1.Add(time.Duration(i%2) * 25 * time.Hour)}
		c.seed(t, s, sl, int64(i+1))
	}
	now := time.Now()
	pending, handled := ev("ev-pending", "Ubackup0000"), ev("ev-handled", "Ubackup0001")
	if _, err := s.AddToInbox(ctx, []bot.Event{pending, handled}); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveFromInbox(ctx, []string{handled.ID}); err != nil { // the bucket is open: a marker
		t.Fatal(err)
	}
	if err := s.AddStaff(ctx, account.Staff{Email: "admin@example.jp", Name: "admin", Role: account.RoleAdmin, Hash: []byte("hash"), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, account.Session{ID: "sess1", Email: "admin@example.jp", CSRF: "c", Expires: now.Add(time.Hour), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCanned(ctx, account.CannedReply{ID: "c1", Lang: "ja", Title: "挨拶", Text: "こんにちは"}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTokens(s).Add(ctx, "backoffice", account.ScopeOptouts); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Audit(ctx, account.AuditEntry{ID: fmt.Sprintf("a%d", i), At: now, Actor: "admin@example.jp", Action: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	ob := NewOutboxStore(s)
	for _, key := range []string{"k1", "k2"} {
		if _, err := ob.Add(ctx, testDelivery("marketing", key, now)); err != nil {
			t.Fatal(err)
		}
	}
	done := testDelivery("marketing", "k2", now)
	done.State = outbox.Delivered
	if err := ob.Finish(ctx, done); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NextRequestNumber(ctx, "20261101"); err != nil {
		t.Fatal(err)
	}
	sealed, err := sl.Seal([]byte("package file"), "pkg:f1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddFile(ctx, request.StoredFile{ID: "f1", Request: "R-Ubackup0000", Sealed: sealed, KeyID: sl.KeyID(),
		FileInfo: request.FileInfo{ID: "f1", Name: "回答.pdf", ContentType: "application/pdf", Size: 12, AddedAt: now}}); err != nil {
		t.Fatal(err)
	}
}

// physicalNames lists a store's collections that hold documents.
func physicalNames(t *testing.T, s *Store) []string {
	t.Helper()
	names, err := s.collectionNames(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(names, func(n string) bool {
		return s.db.Collection(n).FindOne(context.Background(), bson.D{}).Err() != nil
	})
}

// logicalDocs reads every document of a store, by logical collection, sorted by _id (then bytes).
func logicalDocs(t *testing.T, s *Store) map[string][]bson.Raw {
	t.Helper()
	ctx := context.Background()
	names, err := s.collectionNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]bson.Raw{}
	for _, n := range names {
		cur, err := s.db.Collection(n).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next(ctx) {
			out[s.logicalName(n)] = append(out[s.logicalName(n)], bytes.Clone(cur.Current))
		}
		if err := cur.Err(); err != nil {
			t.Fatal(err)
		}
		_ = cur.Close(ctx)
	}
	for _, docs := range out {
		slices.SortFunc(docs, func(a, b bson.Raw) int {
			if c := strings.Compare(a.Lookup("_id").String(), b.Lookup("_id").String()); c != 0 {
				return c
			}
			return bytes.Compare(a, b)
		})
	}
	return out
}

// sameDocs fails unless two stores hold the same documents in every logical collection.
func sameDocs(t *testing.T, what string, want, got map[string][]bson.Raw) {
	t.Helper()
	for name, docs := range want {
		if len(got[name]) != len(docs) {
			t.Fatalf("%s: %s holds %d documents, want %d", what, name, len(got[name]), len(docs))
		}
		for i := range docs {
			if !bytes.Equal(docs[i], got[name][i]) {
				t.Fatalf("%s: %s document %d differs:\n got %s\nwant %s", what, name, i, got[name][i], docs[i])
			}
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Fatalf("%s: %s is not in the source", what, name)
		}
	}
}

func countsOf(docs map[string][]bson.Raw) map[string]int64 {
	out := map[string]int64{}
	for n, d := range docs {
		out[n] = int64(len(d))
	}
	return out
}

func manifestCounts(m Manifest) map[string]int64 {
	out := map[string]int64{}
	for _, c := range m.Collections {
		if c.Documents > 0 {
			out[c.Name] = c.Documents
		}
	}
	return out
}

// onlyReader hides a reader's Seek, so that Restore takes the path of a stream.
type onlyReader struct{ io.Reader }

// TestBackupRestoreRoundTrip: a seeded embedded store, backed up, restores document for document into
// a fresh embedded store (partitioned, sharded) and into a store with MongoDB's layout (single
// collections), and a backup of the latter restores into an embedded store again.
func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	src, _ := openEmbedded(t)
	sl := testSealer(t)
	seedAll(t, src, sl)
	want := logicalDocs(t, src)
	for _, name := range []string{colSteps, colDeliveries, colTranscript, colConversations, colInbox, colRequests, colDocuments,
		colConsentHistory, colAudit, colOutbox, colOutboxDelivered, colEscalations, colStaff, colSessions, colCanned,
		colAPITokens, colCounters, colPackageFiles} {
		if len(want[name]) == 0 {
			t.Fatalf("the seed left %s empty", name)
		}
	}
	srcPhysical := physicalNames(t, src)
	days := slices.DeleteFunc(slices.Clone(srcPhysical), func(n string) bool { return !strings.HasPrefix(n, colSteps+"_") })
	shards := slices.DeleteFunc(slices.Clone(srcPhysical), func(n string) bool { return !strings.HasPrefix(n, colConversations+"_") })
	if len(days) < 2 || len(shards) < 3 {
		t.Fatalf("seed: steps in %v, checkpoints in %v; want two days and several shards", days, shards)
	}

	var archive bytes.Buffer
	m, err := src.Backup(ctx, &archive)
	if err != nil {
		t.Fatal(err)
	}
	if m.Store != "embedded" || m.Consistency != ConsistencyPerCollection || m.Database != src.Database() {
		t.Fatalf("manifest %+v", m)
	}
	if fmt.Sprint(manifestCounts(m)) != fmt.Sprint(countsOf(want)) {
		t.Fatalf("manifest counts %v, store %v", manifestCounts(m), countsOf(want))
	}
	for _, c := range m.Collections {
		if c.Name == colSteps && c.Sources != len(days) {
			t.Fatalf("steps read from %d collections, want %d", c.Sources, len(days))
		}
	}
	if bytes.Contains(archive.Bytes(), []byte("photo MARK-0")) {
		t.Fatal("an identity document's plaintext in the archive")
	}

	// Into a fresh embedded store: the same documents, in the same physical homes.
	dst, _ := openEmbedded(t)
	got, err := dst.Restore(ctx, bytes.NewReader(archive.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Documents() != m.Documents() {
		t.Fatalf("restore reports %d documents, backup %d", got.Documents(), m.Documents())
	}
	sameDocs(t, "embedded → embedded", want, logicalDocs(t, dst))
	if p := physicalNames(t, dst); fmt.Sprint(p) != fmt.Sprint(srcPhysical) {
		t.Fatalf("physical collections\n got %v\nwant %v", p, srcPhysical)
	}
	// The restored store works: checkpoints are found, documents open, the inbox resumes only the
	// event not handled (its marker went into its bucket).
	if c, ok, err := dst.Conversation(ctx, "Ubackup0003"); err != nil || !ok || c.Seq != 1 {
		t.Fatalf("conversation: %+v %v %v", c, ok, err)
	}
	d, err := dst.Document(ctx, "Ubackup0002-doc0")
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := sl.Open(d.Sealed, d.KeyID, "doc:"+d.ID); err != nil || string(plain) != "photo MARK-2" {
		t.Fatalf("document opens to %q, %v", plain, err)
	}
	if lines, err := dst.Transcript(ctx, "Ubackup0001", 0); err != nil || len(lines) != 3 {
		t.Fatalf("transcript: %d lines, %v", len(lines), err)
	}
	if inbox, err := dst.Inbox(ctx); err != nil || len(inbox) != 1 || inbox[0].ID != "ev-pending" {
		t.Fatalf("inbox after restore: %+v %v", inbox, err)
	}

	// Into a store with MongoDB's layout (one collection each), through a stream, and back.
	mongoLike := openTest(t)
	if _, err := mongoLike.Restore(ctx, onlyReader{bytes.NewReader(archive.Bytes())}); err != nil {
		t.Fatal(err)
	}
	// MongoDB's inbox is the shared collection: it takes the unhandled event only (no markers).
	wantShared := maps.Clone(want)
	wantShared[colInbox] = slices.DeleteFunc(slices.Clone(want[colInbox]), func(d bson.Raw) bool {
		id, _ := d.Lookup("_id").StringValueOK()
		return id != "ev-pending"
	})
	sameDocs(t, "embedded → MongoDB layout", wantShared, logicalDocs(t, mongoLike))
	if inbox, err := mongoLike.Inbox(ctx); err != nil || len(inbox) != 1 || inbox[0].ID != "ev-pending" {
		t.Fatalf("MongoDB inbox after restore: %+v %v", inbox, err)
	}
	if p := physicalNames(t, mongoLike); !slices.Contains(p, colSteps) || !slices.Contains(p, colConversations) {
		t.Fatalf("MongoDB layout: %v", p)
	}
	var again bytes.Buffer
	m2, err := mongoLike.Backup(ctx, &again)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Store != "mongodb" || m2.Consistency != ConsistencyPerCollection || !strings.Contains(m2.ConsistencyNote, "FerretDB") {
		t.Fatalf("manifest of the MongoDB-layout store: %+v", m2)
	}
	back, _ := openEmbedded(t)
	if _, err := back.Restore(ctx, bytes.NewReader(again.Bytes())); err != nil {
		t.Fatal(err)
	}
	sameDocs(t, "MongoDB layout → embedded", wantShared, logicalDocs(t, back))
}

// TestRestoreRefusesANonEmptyStore: one document anywhere is enough; nothing is written.
func TestRestoreRefusesANonEmptyStore(t *testing.T) {
	ctx := context.Background()
	src, _ := openEmbedded(t)
	seedAll(t, src, testSealer(t))
	var archive bytes.Buffer
	if _, err := src.Backup(ctx, &archive); err != nil {
		t.Fatal(err)
	}
	dst, _ := openEmbedded(t)
	if err := dst.Audit(ctx, account.AuditEntry{ID: "x", At: time.Now(), Actor: "cli", Action: "test"}); err != nil {
		t.Fatal(err)
	}
	before := logicalDocs(t, dst)
	_, err := dst.Restore(ctx, bytes.NewReader(archive.Bytes()))
	if !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), colAudit) {
		t.Fatalf("restore into a store with an audit entry: %v", err)
	}
	sameDocs(t, "refused restore", before, logicalDocs(t, dst))
}

// rewriteArchive rebuilds an archive with change applied to each entry's content.
func rewriteArchive(t *testing.T, archive []byte, change func(name string, data []byte) []byte) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		data = change(h.Name, data)
		h.Size = int64(len(data))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestRestoreRefusesADamagedArchive: flipped bytes, truncations, and archives whose gzip and tar are
// whole but whose content disagrees with the manifest are refused before anything is written.
func TestRestoreRefusesADamagedArchive(t *testing.T) {
	ctx := context.Background()
	src, _ := openEmbedded(t)
	seedAll(t, src, testSealer(t))
	var buf bytes.Buffer
	if _, err := src.Backup(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	archive := buf.Bytes()
	n := len(archive)
	cases := map[string][]byte{}
	// A flipped byte, at eight places over the file. Deflate has bits that carry nothing (some bits of
	// its code tables, the padding of its last byte; gzip's header has a time and an OS byte): a flip
	// there changes nothing in the content, so nothing is to be refused. From each place on, the first
	// byte whose flip does change the content (or breaks the stream) is taken.
	content := func(b []byte) []byte {
		z, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil
		}
		out, err := io.ReadAll(z)
		if err != nil {
			return nil
		}
		return out
	}
	plain := content(archive)
	for k := range 8 {
		for at := k * n / 8; at < n; at++ {
			bad := bytes.Clone(archive)
			bad[at] ^= 0x20
			if c := content(bad); c == nil || !bytes.Equal(c, plain) {
				cases[fmt.Sprintf("byte %d of %d flipped", at, n)] = bad
				break
			}
		}
	}
	if len(cases) < 8 {
		t.Fatalf("%d places to flip", len(cases))
	}
	for _, l := range []int{0, 10, n / 2, n - 9, n - 1} {
		cases[fmt.Sprintf("truncated to %d of %d", l, n)] = archive[:l]
	}
	cases["trailing bytes"] = append(bytes.Clone(archive), 0)
	cases["a document changed"] = rewriteArchive(t, archive, func(name string, data []byte) []byte {
		if name == entryPrefix+colConsentHistory+entrySuffix {
			data = bytes.Replace(data, []byte("電話と郵便"), []byte("電話とメール"), 1) // same length, valid BSON
		}
		return data
	})
	cases["a document dropped"] = rewriteArchive(t, archive, func(name string, data []byte) []byte {
		if name == entryPrefix+colSteps+entrySuffix {
			first := int(uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24)
			data = data[first:]
		}
		return data
	})
	cases["a count changed in the manifest"] = rewriteArchive(t, archive, func(name string, data []byte) []byte {
		if name != manifestEntry {
			return data
		}
		var m Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		m.Collections[0].Documents++
		out, _ := json.Marshal(m)
		return out
	})
	cases["a physical collection"] = rewriteArchive(t, archive, func(name string, data []byte) []byte {
		if name == manifestEntry {
			return bytes.Replace(data, []byte(`"name": "steps"`), []byte(`"name": "steps_20261101"`), 1)
		}
		return data
	})

	dst, _ := openEmbedded(t)
	for name, bad := range cases {
		_, err := dst.Restore(ctx, bytes.NewReader(bad))
		if !errors.Is(err, ErrBadArchive) {
			t.Errorf("%s: %v, want a bad archive", name, err)
		}
		_, err = dst.Restore(ctx, onlyReader{bytes.NewReader(bad)})
		if !errors.Is(err, ErrBadArchive) {
			t.Errorf("%s (stream): %v, want a bad archive", name, err)
		}
		if err := dst.checkEmpty(ctx); err != nil {
			t.Fatalf("%s: written: %v", name, err)
		}
	}
	// And the intact archive restores into the same store.
	if _, err := dst.Restore(ctx, bytes.NewReader(archive)); err != nil {
		t.Fatal(err)
	}
}

// archiveContents reads an archive without readArchive: the manifest and the documents of each entry.
func archiveContents(t *testing.T, archive []byte) (Manifest, map[string][]bson.Raw) {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var m Manifest
	docs := map[string][]bson.Raw{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == manifestEntry {
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(h.Name, entryPrefix), entrySuffix)
		for len(data) > 0 {
			l := int(uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24)
			docs[name] = append(docs[name], bson.Raw(data[:l]))
			data = data[l:]
		}
	}
	return m, docs
}

// TestBackupOfARunningEmbeddedStore: BackupStore copies the engine's file while another Store holds
// the data directory and keeps writing; the archive's manifest matches its contents, and the copy is
// one moment: every transcript line's step (each written before its line) is in it.
func TestBackupOfARunningEmbeddedStore(t *testing.T) {
	ctx := context.Background()
	s, dir := openEmbedded(t)
	seedAll(t, s, testSealer(t))
	var (
		mu      sync.Mutex
		written int
		cond    = sync.NewCond(&mu)
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		werr    error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			at := time.Now()
			id := fmt.Sprintf("live-%d", i)
			err := s.CommitStep(ctx, bot.Step{EventID: id, UserID: "Ulive", Seq: int64(i + 1), Lang: flows.Ja, EventAt: at, At: at})
			if err == nil {
				err = s.AppendTranscript(ctx, bot.TranscriptEntry{ID: id + "-l", UserID: "Ulive", Role: bot.RoleCustomer,
					Kind: "text", Text: "ライブ", EventID: id, At: at})
			}
			mu.Lock()
			if err != nil {
				werr = err
			}
			written++
			cond.Broadcast()
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	waitWritten := func(n int) int {
		mu.Lock()
		defer mu.Unlock()
		for written < n && werr == nil {
			cond.Wait()
		}
		return written
	}
	start := waitWritten(20)

	var archive bytes.Buffer
	m, err := BackupStore(ctx, Config{DataDir: dir, Log: quiet()}, t.TempDir(), &archive)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	during := written - start
	mu.Unlock()
	close(stop)
	wg.Wait()
	if werr != nil {
		t.Fatal(werr)
	}
	if m.Consistency != ConsistencySnapshot || m.Store != "embedded" || !strings.Contains(m.ConsistencyNote, "VACUUM INTO") {
		t.Fatalf("manifest %+v", m)
	}
	got, docs := archiveContents(t, archive.Bytes())
	if fmt.Sprint(got) != fmt.Sprint(m) {
		t.Fatalf("manifest in the archive %+v, returned %+v", got, m)
	}
	if fmt.Sprint(manifestCounts(m)) != fmt.Sprint(countsOf(docs)) {
		t.Fatalf("manifest counts %v, archive holds %v", manifestCounts(m), countsOf(docs))
	}
	steps := map[string]bool{}
	live := 0
	for _, d := range docs[colSteps] {
		steps[d.Lookup("_id").StringValue()] = true
	}
	for _, d := range docs[colTranscript] {
		if ev, _ := d.Lookup("eventId").StringValueOK(); strings.HasPrefix(ev, "live-") {
			live++
			if !steps[ev] {
				t.Fatalf("transcript line of %s without its step: not one moment", ev)
			}
		}
	}
	if during == 0 {
		t.Fatal("nothing was written while the backup ran")
	}
	t.Logf("%d steps and lines written while the backup ran", during)
	if live < start {
		t.Fatalf("%d live lines in the archive; %d were written before it started", live, start)
	}
	// It restores.
	dst, _ := openEmbedded(t)
	if _, err := dst.Restore(ctx, bytes.NewReader(archive.Bytes())); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(countsOf(logicalDocs(t, dst))) != fmt.Sprint(countsOf(docs)) {
		t.Fatalf("restored %v, archive %v", countsOf(logicalDocs(t, dst)), countsOf(docs))
	}
}
