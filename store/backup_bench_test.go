package store

import (
	"context"
	"io"
	"os"
	"testing"
	"time"
)

// TestBackupFigures measures a backup of a copy of a real data directory, phase by phase, and its
// restore: PRIVACYBOT_BACKUP_FIGURES=DATA_DIR (the directory is only read; its store is copied with
// VACUUM INTO). Skipped otherwise.
func TestBackupFigures(t *testing.T) {
	dir := os.Getenv("PRIVACYBOT_BACKUP_FIGURES")
	if dir == "" {
		t.Skip("set PRIVACYBOT_BACKUP_FIGURES to a data directory")
	}
	ctx := context.Background()
	tmp := t.TempDir()
	t0 := time.Now()
	if err := copyEngineFile(ctx, dir, "privacybot", tmp); err != nil {
		t.Fatal(err)
	}
	t.Logf("VACUUM INTO: %v", time.Since(t0))
	t0 = time.Now()
	s, err := Open(ctx, Config{DataDir: tmp, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	t.Logf("open the copy: %v", time.Since(t0))
	t0 = time.Now()
	sp, err := s.spoolAll(ctx, t.TempDir(), &readMode{consistency: ConsistencySnapshot})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("read and spool: %v", time.Since(t0))
	t0 = time.Now()
	m := Manifest{Format: BackupFormat, Version: BackupFormatVersion, Collections: sp.infos()}
	f, err := os.CreateTemp(t.TempDir(), "archive-")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := writeArchive(f, m, sp); err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	t.Logf("compress: %v; %d documents, %d MB of BSON, archive %d MB", time.Since(t0), m.Documents(), m.Bytes()>>20, fi.Size()>>20)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	dst, _ := openEmbedded(t)
	t0 = time.Now()
	if _, err := dst.Restore(ctx, f); err != nil {
		t.Fatal(err)
	}
	t.Logf("restore: %v", time.Since(t0))
}
