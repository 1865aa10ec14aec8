package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	_ "modernc.org/sqlite" // the SQLite driver the embedded engine itself runs on

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The embedded engine (FerretDB 1.24, SQLite backend) finds a document by _id with the SQL expression
// `_ferretdb_sjson->'$._id'` but indexes _id as `_ferretdb_sjson->"_id"`. SQLite uses an index on an
// expression only for the same text, so every find, replace and delete by _id scanned the whole
// table, parsing each document's JSON (measured with EXPLAIN QUERY PLAN on a 100,000-customer store:
// "SCAN", 1.8 s to find one step; with the index below "SEARCH … USING INDEX", 26 µs). The store adds
// that index itself, on the engine's own file, for every collection it looks documents up in. The
// engine does not know of it and needs not: SQLite maintains it on every insert and update and drops
// it with its table.
//
// Nothing else touches the engine's file: the other indexes the store declares (createIndexes through
// the engine) can serve no query on this engine, which pushes down only _id equality, so on it the
// store declares only the unique ones, which enforce something.

// lookupIndexer adds the _id lookup index to the engine's tables.
type lookupIndexer struct {
	db *sql.DB
}

// openLookupIndexer opens the engine's database file (dir/<database>.sqlite) beside the engine.
func openLookupIndexer(dir, database string) (*lookupIndexer, error) {
	abs, err := filepath.Abs(filepath.Join(dir, database+".sqlite"))
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+abs+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)")
	if err != nil {
		return nil, fmt.Errorf("embedded store index: %w", err)
	}
	db.SetMaxOpenConns(1)
	return &lookupIndexer{db: db}, nil
}

func (x *lookupIndexer) close() {
	if x != nil {
		_ = x.db.Close()
	}
}

// ensure creates the lookup index of a collection that exists (a no-op when it has one).
func (x *lookupIndexer) ensure(ctx context.Context, collection string) error {
	var table string
	err := x.db.QueryRowContext(ctx, `SELECT table_name FROM _ferretdb_collections WHERE name = ?`, collection).Scan(&table)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("embedded store index: no collection %s", collection)
	}
	if err != nil {
		return fmt.Errorf("embedded store index: %w", err)
	}
	q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, table+"_pb_lookup", table)
	if _, err := x.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("embedded store index on %s: %w", collection, err)
	}
	return nil
}

// noLookups are the collections nothing is looked up in by _id: insert-only and read by other fields
// or whole (an index would only cost every insert its upkeep).
func noLookups(name string) bool {
	return strings.HasPrefix(name, inboxPrefix) || strings.HasPrefix(name, colTranscript) || strings.HasPrefix(name, colQuestions) ||
		name == colAudit || name == colOutboxDelivered
}

// createCollection creates a collection that does not exist yet (a concurrent creation is fine) and,
// on the embedded engine, gives it the lookup index when lookups is set.
func (s *Store) createCollection(ctx context.Context, name string, lookups bool) error {
	unlock := s.lockWrites()
	defer unlock()
	names, err := s.db.ListCollectionNames(ctx, bson.D{{Key: "name", Value: name}})
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	if !slices.Contains(names, name) {
		if err := s.db.CreateCollection(ctx, name); err != nil && !isNamespaceExists(err) {
			return fmt.Errorf("create %s: %w", name, err)
		}
	}
	if s.indexer != nil && lookups {
		return s.indexer.ensure(ctx, name)
	}
	return nil
}

// isNamespaceExists reports the server's "collection already exists" (code 48).
func isNamespaceExists(err error) bool {
	var ce interface{ HasErrorCode(int) bool }
	return errors.As(err, &ce) && ce.HasErrorCode(48)
}

// IndexEngine gives every collection of database on the engine under dir the _id lookup index it
// lacks. The engine run on its own for several instances (`privacybot engine`) calls it as collections
// appear; the instances, connected over the wire, cannot reach the engine's file themselves.
func IndexEngine(ctx context.Context, dir, database string) error {
	x, err := openLookupIndexer(dir, database)
	if err != nil {
		return err
	}
	defer x.close()
	rows, err := x.db.QueryContext(ctx, `SELECT name FROM _ferretdb_collections`)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil // no collection yet
		}
		return fmt.Errorf("embedded store index: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if noLookups(n) {
			continue
		}
		if err := x.ensure(ctx, n); err != nil {
			return err
		}
	}
	return nil
}
