package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// A backup archive is one gzip-compressed tar file (see docs/backup.md):
//
//	manifest.json                 the Manifest, first, so that it can be read without the rest
//	collections/<name>.bson       one entry per logical collection, in the manifest's order: its
//	                              documents as concatenated BSON, exactly as stored
//
// It holds logical collections ("steps", "conversations", "inbox"), never the physical ones a store
// keeps them in (daily partitions, checkpoint shards, inbox buckets on the embedded engine), so that
// a backup of either store restores into either.
const (
	BackupFormat        = "privacybot-backup"
	BackupFormatVersion = 1

	manifestEntry = "manifest.json"
	entryPrefix   = "collections/"
	entrySuffix   = ".bson"
)

// Consistency of a backup: how far its collections show one moment of the store.
const (
	// ConsistencySnapshot: every collection as of one moment (a MongoDB snapshot session, or a copy of
	// the embedded engine's file taken in one SQLite read transaction).
	ConsistencySnapshot = "snapshot"
	// ConsistencyPerCollection: collection after collection; a store written to meanwhile can show a
	// later moment in a later collection (a step without the transcript line written before it, say).
	ConsistencyPerCollection = "per-collection"
)

// Manifest describes a backup archive.
type Manifest struct {
	Format      string    `json:"format"`  // BackupFormat
	Version     int       `json:"version"` // BackupFormatVersion
	Created     time.Time `json:"created"`
	Store       string    `json:"store"`    // "embedded" or "mongodb": where it was taken
	Database    string    `json:"database"` // the database it was taken from
	Consistency string    `json:"consistency"`
	// ConsistencyNote says how the consistency was reached, or why no snapshot was possible.
	ConsistencyNote string           `json:"consistencyNote,omitempty"`
	Collections     []CollectionInfo `json:"collections"`
}

// CollectionInfo is one logical collection of an archive.
type CollectionInfo struct {
	Name      string `json:"name"`      // logical name
	Entry     string `json:"entry"`     // its tar entry: collections/<name>.bson
	Sources   int    `json:"sources"`   // physical collections it was read from
	Documents int64  `json:"documents"` // documents in the entry
	Bytes     int64  `json:"bytes"`     // size of the entry (concatenated BSON)
	SHA256    string `json:"sha256"`    // hex SHA-256 of the entry
}

// Documents is the archive's number of documents.
func (m Manifest) Documents() int64 {
	var n int64
	for _, c := range m.Collections {
		n += c.Documents
	}
	return n
}

// Bytes is the size of the archive's data, uncompressed.
func (m Manifest) Bytes() int64 {
	var n int64
	for _, c := range m.Collections {
		n += c.Bytes
	}
	return n
}

// ErrNotEmpty is returned by Restore when the target store holds documents.
var ErrNotEmpty = errors.New("the store is not empty")

// ErrBadArchive is returned by Restore for an archive that is not whole or not a backup.
var ErrBadArchive = errors.New("not a valid privacybot backup")

// ErrPartlyRestored is returned by Restore when writing failed after it had begun.
var ErrPartlyRestored = errors.New("restore failed part way: the store is partly written")

// readMode says how a backup reads: consistency as it will be recorded, and, for a MongoDB snapshot,
// the session every read goes through.
type readMode struct {
	consistency, note string
	session           *mongo.Session
}

// Backup writes every collection of the store to w as an archive (see docs/backup.md) and returns
// its manifest. Documents are streamed, never held a collection at a time: they are first spooled to
// a temporary directory (os.TempDir), which keeps the reads short (a MongoDB snapshot has a time
// limit) and lets the manifest, with every count and checksum, come first. On MongoDB the reads go
// through one snapshot session where the server allows it (a replica set or sharded cluster of 5.0 or
// later); otherwise, and on the embedded engine, collection by collection, as the manifest records.
// For one consistent moment of the embedded store, use BackupStore, which copies the engine's file.
func (s *Store) Backup(ctx context.Context, w io.Writer) (Manifest, error) {
	return s.backup(ctx, w, "", nil)
}

// BackupStore backs up the store cfg names, as the server would open it: MongoDB through Backup; the
// embedded engine from a copy of its file under cfg.DataDir taken with SQLite's VACUUM INTO (one
// read transaction, so one consistent moment, taken beside a running server without stopping it),
// opened by an engine of its own. Temporary files (the copy, the spooled documents) go into a
// directory made under scratch (os.TempDir when empty) and removed at the end.
func BackupStore(ctx context.Context, cfg Config, scratch string, w io.Writer) (Manifest, error) {
	if cfg.Database == "" {
		cfg.Database = "privacybot"
	}
	if cfg.URI != "" {
		s, err := Open(ctx, cfg)
		if err != nil {
			return Manifest{}, err
		}
		defer s.Close(context.Background())
		return s.backup(ctx, w, scratch, nil)
	}
	return backupEmbedded(ctx, cfg, scratch, w)
}

// backup writes the archive, reading as mode says (nil: decide here).
func (s *Store) backup(ctx context.Context, w io.Writer, scratch string, mode *readMode) (Manifest, error) {
	created := time.Now().UTC().Truncate(time.Second)
	dir, err := os.MkdirTemp(scratch, ".privacybot-backup-")
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(dir)
	var sp *spools
	if mode != nil {
		sp, err = s.spoolAll(ctx, dir, mode)
	} else {
		sp, mode, err = s.spoolConsistent(ctx, dir)
	}
	if err != nil {
		return Manifest{}, err
	}
	defer sp.close()
	m := Manifest{Format: BackupFormat, Version: BackupFormatVersion, Created: created, Store: "mongodb",
		Database: s.db.Name(), Consistency: mode.consistency, ConsistencyNote: mode.note, Collections: sp.infos()}
	if s.embedded != nil {
		m.Store = "embedded"
	}
	if err := writeArchive(w, m, sp); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

// spoolConsistent reads the store into spools in one snapshot where the server allows it, else
// collection by collection.
func (s *Store) spoolConsistent(ctx context.Context, dir string) (*spools, *readMode, error) {
	if s.embedded != nil {
		mode := &readMode{consistency: ConsistencyPerCollection,
			note: "read collection by collection from the running embedded engine, which has no snapshot reads"}
		sp, err := s.spoolAll(ctx, dir, mode)
		return sp, mode, err
	}
	refusal := s.snapshotRefusal(ctx)
	if refusal == "" {
		sess, err := s.client.StartSession(options.Session().SetSnapshot(true))
		if err != nil {
			refusal = "no snapshot session: " + err.Error()
		} else {
			mode := &readMode{consistency: ConsistencySnapshot, note: "one MongoDB snapshot session", session: sess}
			sp, err := s.spoolAll(ctx, dir, mode)
			sess.EndSession(context.Background())
			if err == nil {
				return sp, mode, nil
			}
			var se mongo.ServerError
			if !errors.As(err, &se) || ctx.Err() != nil {
				return nil, nil, err
			}
			// The server refused the snapshot, or it grew older than the server keeps history for
			// (minSnapshotHistoryWindowInSeconds, 5 minutes by default): read again without one.
			refusal = "the snapshot read failed (" + err.Error() + ")"
		}
	}
	s.log.Warn("backup reads collection by collection", "why", refusal)
	mode := &readMode{consistency: ConsistencyPerCollection, note: refusal}
	sp, err := s.spoolAll(ctx, dir, mode)
	return sp, mode, err
}

// snapshotRefusal says why the server will not give snapshot reads, or "" when it should: they need
// a replica set or a sharded cluster of MongoDB 5.0 or later. FerretDB accepts the read concern and
// ignores it, so it is recognised by its buildInfo.
func (s *Store) snapshotRefusal(ctx context.Context) string {
	var hello struct {
		SetName string `bson:"setName"`
		Msg     string `bson:"msg"`
		MaxWire int32  `bson:"maxWireVersion"`
	}
	if err := s.db.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		return "the server did not say what it is (hello: " + err.Error() + ")"
	}
	var info bson.Raw
	if err := s.db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err == nil {
		if _, err := info.LookupErr("ferretdbVersion"); err == nil {
			return "the server is FerretDB, which has no snapshot reads"
		}
	}
	switch {
	case hello.SetName == "" && hello.Msg != "isdbgrid":
		return "a standalone server has no snapshot reads (they need a replica set or a sharded cluster)"
	case hello.MaxWire < 13:
		return "snapshot reads need MongoDB 5.0 or later"
	}
	return ""
}

func (s *Store) collectionNames(ctx context.Context) ([]string, error) {
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	names = slices.DeleteFunc(names, func(n string) bool { return strings.HasPrefix(n, "system.") })
	slices.Sort(names)
	return names, nil
}

// spoolAll reads every collection into the spools, physical collections grouped by logical name. The
// collections are listed again at the end: one created meanwhile (an inbox bucket) is read too; in a
// snapshot, one that did not exist at its moment is then skipped.
func (s *Store) spoolAll(ctx context.Context, dir string, mode *readMode) (*spools, error) {
	sp := &spools{dir: filepath.Join(dir, "spool"), byName: map[string]*spool{}}
	if err := os.Mkdir(sp.dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			sp.close()
			_ = os.RemoveAll(sp.dir)
		}
	}()
	// Without a session, logical collections are read side by side: the embedded engine spends a core
	// on turning its stored JSON into BSON. A session takes one operation at a time.
	workers := 1
	if mode.session == nil {
		workers = min(runtime.GOMAXPROCS(0), 4)
	}
	names, err := s.collectionNames(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup: list collections: %w", err)
	}
	done := map[string]bool{}
	if err := s.spoolNames(ctx, sp, names, done, mode.session, false, workers); err != nil {
		return nil, err
	}
	again, err := s.collectionNames(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup: list collections: %w", err)
	}
	if err := s.spoolNames(ctx, sp, again, done, mode.session, true, 1); err != nil {
		return nil, err
	}
	if err := sp.finish(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	ok = true
	return sp, nil
}

// spoolNames reads the physical collections names lists (except those done) into their logical
// collections' spools, workers logical collections at a time. late: the collections were listed
// after the reads began (in a snapshot, one that did not exist at its moment is skipped).
func (s *Store) spoolNames(ctx context.Context, sp *spools, names []string, done map[string]bool, session *mongo.Session,
	late bool, workers int) error {
	groups := map[string][]string{}
	var order []string
	for _, n := range names {
		if done[n] {
			continue
		}
		done[n] = true
		l := s.logicalName(n)
		if groups[l] == nil {
			order = append(order, l)
			if _, err := sp.get(l); err != nil {
				return fmt.Errorf("backup: %w", err)
			}
		}
		groups[l] = append(groups[l], n)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rctx := ctx
	if session != nil {
		rctx = mongo.NewSessionContext(ctx, session)
	}
	jobs := make(chan string)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range jobs {
				c := sp.byName[l]
				for _, n := range groups[l] {
					err := s.spoolCollection(rctx, n, c)
					if late && session != nil && isAbsentAtSnapshot(err) {
						continue
					}
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = fmt.Errorf("backup: read %s: %w", n, err)
						}
						mu.Unlock()
						cancel()
						break
					}
					c.info.Sources++
				}
			}
		}()
	}
feed:
	for _, l := range order {
		select {
		case jobs <- l:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// isAbsentAtSnapshot reports a read of a collection the snapshot does not have: created after its
// moment (SnapshotUnavailable) or gone (NamespaceNotFound).
func isAbsentAtSnapshot(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && (se.HasErrorCode(246) || se.HasErrorCode(26))
}

// spoolCollection appends a physical collection's documents to its logical collection's spool.
func (s *Store) spoolCollection(ctx context.Context, name string, c *spool) error {
	cur, err := s.db.Collection(name).Find(ctx, bson.D{})
	if err != nil {
		return err
	}
	defer cur.Close(context.Background())
	for cur.Next(ctx) {
		if err := c.add(cur.Current); err != nil {
			return err
		}
	}
	return cur.Err()
}
