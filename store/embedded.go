package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Embedded is a FerretDB v1 engine (SQLite handler) running inside this process on a loopback port.
// It speaks the MongoDB wire protocol, so the rest of the program reaches it through the official
// driver exactly as it would reach MongoDB.
type Embedded struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
	lock   *os.File // held while the engine runs: one process per data directory
}

// StartEmbedded starts the engine with its files under dir, listening on addr ("127.0.0.1:0" picks a
// free port). The engine's own log is filtered to errors: at lower levels it logs whole documents,
// which hold personal data.
func StartEmbedded(dir, addr string, log *slog.Logger) (*Embedded, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// The engine's files take one process at a time: a second one (a CLI command while the server
	// runs, or still shuts down) would work on them behind the first one's caches.
	lock, err := lockDir(abs)
	if err != nil {
		return nil, err
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if log == nil {
		log = slog.Default()
	}
	engineLog := slog.New(levelFloor{h: log.Handler(), min: slog.LevelError}).With("component", "ferretdb")
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
		Logger:    engineLog,
	})
	if err != nil {
		_ = lock.Close()
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Embedded{cancel: cancel, done: make(chan struct{}), lock: lock}
	go func() {
		defer close(e.done)
		_ = f.Run(ctx)
	}()
	uriCh := make(chan string, 1)
	// MongoDBURI blocks until the listener is up. Should it never come up, this goroutine stays
	// blocked inside the engine (which offers no way to wake it); the caller then fails to start and
	// the process ends.
	go func() { uriCh <- f.MongoDBURI() }()
	select {
	case e.uri = <-uriCh:
	case <-time.After(10 * time.Second):
		e.Stop()
		return nil, fmt.Errorf("embedded store did not start listening on %s", addr)
	case <-e.done:
		cancel()
		_ = lock.Close()
		return nil, fmt.Errorf("embedded store stopped at start (is %s in use?)", addr)
	}
	return e, nil
}

// URI is the mongodb:// address of the running engine.
func (e *Embedded) URI() string { return e.uri }

// Stop shuts the engine down and waits for it to close its files.
func (e *Embedded) Stop() {
	e.cancel()
	<-e.done
	if e.lock != nil {
		_ = e.lock.Close() // releases the lock
	}
}

// ErrDataDirInUse is returned when another process runs the embedded engine on the data directory.
var ErrDataDirInUse = errors.New("the data directory is in use by another privacybot process (stop the server first; it may still be shutting down)")

// lockDir takes the data directory's lock file (an flock, which the kernel releases when the process
// ends, however it ends).
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "privacybot.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data directory lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrDataDirInUse, dir)
		}
		return nil, fmt.Errorf("data directory lock: %w", err)
	}
	return f, nil
}

// levelFloor drops records below min, whatever the wrapped handler would accept.
type levelFloor struct {
	h   slog.Handler
	min slog.Level
}

func (l levelFloor) Enabled(ctx context.Context, lv slog.Level) bool {
	return lv >= l.min && l.h.Enabled(ctx, lv)
}
func (l levelFloor) Handle(ctx context.Context, r slog.Record) error { return l.h.Handle(ctx, r) }
func (l levelFloor) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFloor{h: l.h.WithAttrs(a), min: l.min}
}
func (l levelFloor) WithGroup(n string) slog.Handler {
	return levelFloor{h: l.h.WithGroup(n), min: l.min}
}
