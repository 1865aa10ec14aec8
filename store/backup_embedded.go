package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// backupEmbedded backs up the embedded store under cfg.DataDir without opening it there: the server
// may be running on it and holds its lock. The engine keeps a database in one SQLite file
// (<DataDir>/<database>.sqlite) in WAL mode; VACUUM INTO copies it inside one read transaction, so the
// copy is one consistent moment, and a reader in WAL mode does not block the server's writes (they
// gather in the WAL until the copy ends). A store opened on the copy, by an engine of its own, is then
// backed up; the copy is removed after.
func backupEmbedded(ctx context.Context, cfg Config, scratch string, w io.Writer) (Manifest, error) {
	tmp, err := os.MkdirTemp(scratch, ".privacybot-snapshot-")
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	engine := filepath.Join(tmp, "engine")
	if err := os.Mkdir(engine, 0o700); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	started := time.Now()
	if err := copyEngineFile(ctx, cfg.DataDir, cfg.Database, engine); err != nil {
		return Manifest{}, err
	}
	copied := time.Since(started)
	s, err := Open(ctx, Config{DataDir: engine, Database: cfg.Database, Log: cfg.Log})
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: open the copy: %w", err)
	}
	defer s.Close(context.Background())
	mode := &readMode{consistency: ConsistencySnapshot,
		note: fmt.Sprintf("the embedded engine's file copied in one SQLite read transaction (VACUUM INTO) in %.1f s", copied.Seconds())}
	return s.backup(ctx, w, tmp, mode)
}

// copyEngineFile copies the engine's database file of dataDir into dir with VACUUM INTO, opening the
// original read-only.
func copyEngineFile(ctx context.Context, dataDir, database, dir string) error {
	src, err := filepath.Abs(filepath.Join(dataDir, database+".sqlite"))
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("backup: no embedded store at %s: %w", src, err)
	}
	db, err := sql.Open("sqlite", "file:"+src+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, filepath.Join(dir, database+".sqlite")); err != nil {
		return fmt.Errorf("backup: copy %s: %w", src, err)
	}
	return nil
}
