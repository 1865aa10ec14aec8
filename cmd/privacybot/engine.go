package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/enemane/privacybot/linesim"
	"github.com/enemane/privacybot/store"
)

// runEngine serves the embedded engine (FerretDB on SQLite) on its own, so that several instances
// can share it through MONGODB_URI: the way to try several instances on one machine, and the server
// of the multi-instance benchmark (docs/bench/instances.sh). It is not a production database: one
// SQLite file takes one write at a time, for every instance (docs/operations.md).
func runEngine(args []string, out io.Writer) error {
	if len(args) != 2 {
		return errors.New("usage: privacybot engine DIR ADDR   (e.g. privacybot engine ./engine 127.0.0.1:27018)")
	}
	dir, addr := args[0], args[1]
	host, _, err := net.SplitHostPort(addr)
	if err != nil || !linesim.IsLoopbackHost(host) {
		return fmt.Errorf("engine: %s is not a loopback address (the engine has no authentication)", addr)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	e, err := store.StartEmbedded(dir, addr, log)
	if err != nil {
		return err
	}
	if paddr := os.Getenv("PPROF_ADDR"); paddr != "" {
		defer startPprof(paddr, log)()
	}
	fmt.Fprintf(out, "engine serving %s on %s; instances connect with MONGODB_URI=%s\n", dir, addr, e.URI())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	indexEngine(ctx, dir, log)
	e.Stop()
	return nil
}

// indexEngine adds the _id lookup index (store.IndexEngine) to the collections the instances create,
// every two seconds until ctx ends: without it every find by _id scans its table.
func indexEngine(ctx context.Context, dir string, log *slog.Logger) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		if err := store.IndexEngine(ctx, dir, "privacybot"); err != nil && ctx.Err() == nil {
			log.Warn("engine lookup indexes", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
