package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/enemane/privacybot/flows"
)

// Target deletes what of one kind is past its period: everything whose clock (the kind's rule: the
// last message, the closing of a request, …) started before cutoff. It returns how many items went and
// must be idempotent: a second call with the same cutoff deletes nothing more.
type Target interface {
	Sweep(ctx context.Context, kind flows.DataKind, cutoff time.Time) (int64, error)
}

// TargetFunc adapts a function to Target.
type TargetFunc func(ctx context.Context, kind flows.DataKind, cutoff time.Time) (int64, error)

// Sweep implements Target.
func (f TargetFunc) Sweep(ctx context.Context, kind flows.DataKind, cutoff time.Time) (int64, error) {
	return f(ctx, kind, cutoff)
}

// Lease keeps a piece of work on one instance at a time (implemented by the store).
type Lease interface {
	// TryLease takes the named lease for holder until the given time, or renews it when holder has
	// it; false when another holder has it and it has not expired at now.
	TryLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	// ReleaseLease gives the lease up if holder has it.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Records keeps the sweeps' reports (implemented by the store).
type Records interface {
	SaveSweep(ctx context.Context, r Report) error
	// Sweeps returns the newest reports, at most limit.
	Sweeps(ctx context.Context, limit int) ([]Report, error)
}

// Report is what one sweep did: per kind, the cutoff and how many items it deleted. It holds counts,
// never content.
type Report struct {
	ID       string       `bson:"_id" json:"id"`
	Instance string       `bson:"instance" json:"instance"`
	Trigger  string       `bson:"trigger" json:"trigger"` // TriggerSchedule or TriggerStaff
	Started  time.Time    `bson:"started" json:"started"`
	Finished time.Time    `bson:"finished" json:"finished"`
	Kinds    []KindResult `bson:"kinds" json:"kinds"`
}

// KindResult is one kind's part of a sweep.
type KindResult struct {
	Kind    flows.DataKind `bson:"kind" json:"kind"`
	Cutoff  time.Time      `bson:"cutoff" json:"cutoff"`
	Deleted int64          `bson:"deleted" json:"deleted"`
	Error   string         `bson:"error,omitempty" json:"error,omitempty"`
}

// Deleted is the sweep's total.
func (r Report) Deleted() int64 {
	var n int64
	for _, k := range r.Kinds {
		n += k.Deleted
	}
	return n
}

// Failed reports whether any kind failed.
func (r Report) Failed() bool {
	for _, k := range r.Kinds {
		if k.Error != "" {
			return true
		}
	}
	return false
}

// What started a sweep.
const (
	TriggerSchedule = "schedule"
	TriggerStaff    = "staff"
)

// leaseName is the sweeper's lease in the store.
const leaseName = "retention.sweeper"

// Config wires a Sweeper.
type Config struct {
	Policy Policy
	// Targets carry out the deletions, per kind. A kind without a target is reported as failed.
	Targets map[flows.DataKind]Target
	Lease   Lease
	Records Records
	// Instance names this process in the lease and the reports (INSTANCE_ID, else the host name).
	Instance string
	// Every is the time between scheduled sweeps (default an hour); LeaseFor how long a sweep may
	// hold the lease before another instance may take it over (default 15 minutes).
	Every, LeaseFor time.Duration
	Now             func() time.Time
	Log             *slog.Logger
}

// Sweeper enforces the policy.
type Sweeper struct {
	cfg Config
	mu  sync.Mutex // one sweep at a time in this process (the lease does it across processes)

	totalsMu sync.Mutex
	totals   Totals
}

// Totals is what this process's sweeps did since it started, added up from their reports (metrics).
type Totals struct {
	Deleted map[flows.DataKind]int64 // items deleted, by kind
	Failed  map[flows.DataKind]int64 // sweeps in which the kind failed, by kind
	Sweeps  int64                    // sweeps run
	// LastFinished is when this process's last sweep finished (zero before the first).
	LastFinished time.Time
}

// add adds a report to the totals.
func (t *Totals) add(r Report) {
	if t.Deleted == nil {
		t.Deleted, t.Failed = map[flows.DataKind]int64{}, map[flows.DataKind]int64{}
	}
	for _, k := range r.Kinds {
		t.Deleted[k.Kind] += k.Deleted
		if k.Error != "" {
			t.Failed[k.Kind]++
		}
	}
	t.Sweeps++
	t.LastFinished = r.Finished
}

// Totals returns a copy of the totals.
func (s *Sweeper) Totals() Totals {
	s.totalsMu.Lock()
	defer s.totalsMu.Unlock()
	t := s.totals
	t.Deleted, t.Failed = maps.Clone(t.Deleted), maps.Clone(t.Failed)
	return t
}

// New returns a sweeper.
func New(cfg Config) *Sweeper {
	if cfg.Every <= 0 {
		cfg.Every = time.Hour
	}
	if cfg.LeaseFor <= 0 {
		cfg.LeaseFor = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Instance == "" {
		cfg.Instance = "local"
	}
	return &Sweeper{cfg: cfg}
}

// Policy is the periods in force.
func (s *Sweeper) Policy() Policy { return s.cfg.Policy }

// ErrBusy is returned by Once when another sweep runs (in this process or on another instance).
var ErrBusy = errors.New("retention: a sweep is already running")

// Once sweeps every kind now. It returns ErrBusy, having done nothing, while another sweep holds the
// lease. A kind that fails is reported and the others still run.
func (s *Sweeper) Once(ctx context.Context, trigger string) (Report, error) {
	if !s.mu.TryLock() {
		return Report{}, ErrBusy
	}
	defer s.mu.Unlock()
	now := s.cfg.Now()
	ok, err := s.cfg.Lease.TryLease(ctx, leaseName, s.cfg.Instance, now, now.Add(s.cfg.LeaseFor))
	if err != nil {
		return Report{}, fmt.Errorf("retention lease: %w", err)
	}
	if !ok {
		return Report{}, ErrBusy
	}
	defer func() {
		if err := s.cfg.Lease.ReleaseLease(context.WithoutCancel(ctx), leaseName, s.cfg.Instance); err != nil {
			s.cfg.Log.Warn("retention lease not released; it expires on its own", "err", err)
		}
	}()
	r := Report{ID: uuid.NewString(), Instance: s.cfg.Instance, Trigger: trigger, Started: now}
	for _, p := range s.cfg.Policy {
		res := KindResult{Kind: p.Kind, Cutoff: p.Before(now)}
		t := s.cfg.Targets[p.Kind]
		switch {
		case t == nil:
			res.Error = "no target"
		default:
			n, err := t.Sweep(ctx, p.Kind, res.Cutoff)
			res.Deleted = n
			if err != nil {
				res.Error = err.Error()
			}
		}
		r.Kinds = append(r.Kinds, res)
		if ctx.Err() != nil {
			break
		}
		// Renew between kinds so that a long sweep keeps its turn.
		at := s.cfg.Now()
		if _, err := s.cfg.Lease.TryLease(ctx, leaseName, s.cfg.Instance, at, at.Add(s.cfg.LeaseFor)); err != nil {
			s.cfg.Log.Warn("retention lease not renewed", "err", err)
		}
	}
	r.Finished = s.cfg.Now()
	s.log(r)
	s.totalsMu.Lock()
	s.totals.add(r)
	s.totalsMu.Unlock()
	if err := s.cfg.Records.SaveSweep(context.WithoutCancel(ctx), r); err != nil {
		return r, fmt.Errorf("retention report: %w", err)
	}
	return r, nil
}

// log writes the sweep's counts (never content): one line, at warn when a kind failed.
func (s *Sweeper) log(r Report) {
	attrs := []any{"trigger", r.Trigger, "deleted", r.Deleted(), "ms", r.Finished.Sub(r.Started).Milliseconds()}
	for _, k := range r.Kinds {
		attrs = append(attrs, string(k.Kind), k.Deleted)
		if k.Error != "" {
			attrs = append(attrs, string(k.Kind)+"_error", k.Error)
		}
	}
	if r.Failed() {
		s.cfg.Log.Warn("retention sweep finished with errors", attrs...)
		return
	}
	s.cfg.Log.Info("retention sweep", attrs...)
}

// Last returns the newest reports, at most limit.
func (s *Sweeper) Last(ctx context.Context, limit int) ([]Report, error) {
	return s.cfg.Records.Sweeps(ctx, limit)
}

// Run sweeps once shortly after start (after delay) and then every cfg.Every until ctx ends.
func (s *Sweeper) Run(ctx context.Context, delay time.Duration) {
	wait := delay
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if _, err := s.Once(ctx, TriggerSchedule); err != nil && !errors.Is(err, ErrBusy) && ctx.Err() == nil {
			s.cfg.Log.Error("retention sweep failed; tried again at the next round", "err", err)
		}
		wait = s.cfg.Every
	}
}
