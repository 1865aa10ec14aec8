package insight

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/enemane/privacybot/flows/nlu"
)

// TaughtSource is where the taught phrases are read from (the store; ReviewStore has it).
type TaughtSource interface {
	TaughtPhrases(ctx context.Context) ([]Taught, error)
}

// Classifier is the intent model in service, retrained in the process when the taught phrases
// change: at once on the instance where staff taught or reverted, and on every other instance at its
// next Sync (Run calls it every few seconds). Classify never waits for a retraining: it reads the
// model in service, which a retraining replaces whole.
type Classifier struct {
	src TaughtSource
	log *slog.Logger
	cur atomic.Pointer[trained]
	mu  sync.Mutex // one retraining at a time
}

// trained is a model and the fingerprint of the taught phrases it was trained with.
type trained struct {
	m     *nlu.Model
	print string
	n     int // phrases in force
}

// NewClassifier serves base (trained without taught phrases) until the first Sync.
func NewClassifier(base *nlu.Model, src TaughtSource, log *slog.Logger) *Classifier {
	if log == nil {
		log = slog.Default()
	}
	c := &Classifier{src: src, log: log}
	c.cur.Store(&trained{m: base, print: fingerprint(nil)})
	return c
}

// Classify reads a message with the model in service.
func (c *Classifier) Classify(text string) nlu.Result { return c.cur.Load().m.Classify(text) }

// Model is the model in service.
func (c *Classifier) Model() *nlu.Model { return c.cur.Load().m }

// Taught is the number of taught phrases the model in service was trained with.
func (c *Classifier) Taught() int { return c.cur.Load().n }

// Sync reads the taught phrases and, when they differ from those of the model in service, trains a
// new model with them and puts it in service. It reports whether it did.
func (c *Classifier) Sync(ctx context.Context) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	all, err := c.src.TaughtPhrases(ctx)
	if err != nil {
		return false, err
	}
	var ex []nlu.Example
	var live []Taught
	for _, t := range all {
		switch {
		case t.Reverted:
		case !slices.Contains(nlu.Intents, t.Intent) || strings.TrimSpace(t.Text) == "":
			// Taught for an intent this version no longer has: left out, so that one phrase cannot
			// keep all the others out of service. Named by ID only (the text is a customer's words).
			c.log.Warn("taught phrase left out: its intent is unknown to this version", "taught", t.ID, "intent", t.Intent)
		default:
			ex = append(ex, nlu.Example{Intent: t.Intent, Topic: t.Topic, Text: t.Text})
			live = append(live, t)
		}
	}
	fp := fingerprint(live)
	if fp == c.cur.Load().print {
		return false, nil
	}
	start := time.Now()
	m, err := nlu.Train(ex)
	if err != nil {
		return false, fmt.Errorf("retraining the intent model: %w", err)
	}
	c.cur.Store(&trained{m: m, print: fp, n: len(live)})
	c.log.Info("intent model retrained", "taught", len(live), "ms", time.Since(start).Milliseconds())
	return true, nil
}

// Run syncs every period until ctx ends (other instances' teaching reaches this one so).
func (c *Classifier) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := c.Sync(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("taught phrases not read; the model in service stays", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// fingerprint identifies a set of taught phrases in force (their IDs; a phrase never changes, it is
// only reverted, which takes it out of the set).
func fingerprint(live []Taught) string {
	h := sha256.New()
	for _, t := range live {
		h.Write([]byte(t.ID))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
