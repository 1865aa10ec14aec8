package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/enemane/privacybot/store"
)

// runBackup writes a backup of the store of the environment (MONGODB_URI, or the embedded engine
// under DATA_DIR, which may be running: its file is copied in one read transaction) to FILE:
//
//	privacybot backup FILE
//
// The archive is written to a temporary file beside FILE (mode 0600: it holds personal data) and
// renamed at the end; the temporary files of the backup itself go there too. See docs/backup.md.
func runBackup(args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		return errors.New("usage: privacybot backup FILE")
	}
	file := args[0]
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	dir := filepath.Dir(file)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(file)+".tmp-")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	m, err := store.BackupStore(ctx, storeConfig(cfg), dir, tmp)
	if err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	info, err := tmp.Stat()
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	done = true
	if d, err := os.Open(dir); err == nil { // the rename itself, on disk
		_ = d.Sync()
		_ = d.Close()
	}
	fmt.Fprintf(stdout, "Backed up to %s in %.1f s: %s (%s of data before compression).\n", file, time.Since(started).Seconds(),
		byteSize(info.Size()), byteSize(m.Bytes()))
	summary(stdout, m)
	return nil
}

// runRestore writes a backup into the store of the environment, which must be empty:
//
//	privacybot restore FILE
//
// With the embedded engine the server must be stopped (the engine's files take one process).
func runRestore(args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		return errors.New("usage: privacybot restore FILE")
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	f, err := os.Open(args[0])
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	st, err := store.Open(ctx, storeConfig(cfg))
	if err != nil {
		return fmt.Errorf("restore: %w", err) // ErrDataDirInUse: the server runs there, and says so
	}
	defer st.Close(context.Background())
	m, err := st.Restore(ctx, f)
	switch {
	case errors.Is(err, store.ErrNotEmpty):
		where := "DATA_DIR " + cfg.DataDir
		if cfg.MongoURI != "" {
			where = "MongoDB database " + cfg.MongoDatabase
		}
		return fmt.Errorf("restore: nothing was written: %s: %w. A backup restores into an empty store only: "+
			"point DATA_DIR (or MONGODB_DATABASE) at a new one", where, err)
	case errors.Is(err, store.ErrPartlyRestored):
		return fmt.Errorf("restore: %w", err)
	case errors.Is(err, store.ErrBadArchive):
		return fmt.Errorf("restore: %s: %w; nothing was written", args[0], err)
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "Restored %s into %s in %.1f s.\n", args[0], storeName(cfg), time.Since(started).Seconds())
	summary(stdout, m)
	fmt.Fprintln(stdout, "Identity documents and package files open only with the DOCUMENT_KEY they were sealed with.")
	return nil
}

func storeName(cfg config) string {
	if cfg.MongoURI != "" {
		return "MongoDB database " + cfg.MongoDatabase
	}
	return "the embedded store in " + cfg.DataDir
}

// summary prints what an archive holds: collections and counts, never a document.
func summary(w io.Writer, m store.Manifest) {
	empty := 0
	for _, c := range m.Collections {
		if c.Documents == 0 {
			empty++
		}
	}
	fmt.Fprintf(w, "%d documents in %d collections (and %d empty ones), taken %s from the %s store (database %s).\n",
		m.Documents(), len(m.Collections)-empty, empty, m.Created.Local().Format(time.RFC3339), m.Store, m.Database)
	fmt.Fprintf(w, "Consistency: %s", m.Consistency)
	if m.ConsistencyNote != "" {
		fmt.Fprintf(w, ": %s", m.ConsistencyNote)
	}
	fmt.Fprintln(w, ".")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, c := range m.Collections {
		if c.Documents > 0 {
			fmt.Fprintf(tw, "  %s\t%d\t%s\t\n", c.Name, c.Documents, byteSize(c.Bytes))
		}
	}
	_ = tw.Flush()
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
