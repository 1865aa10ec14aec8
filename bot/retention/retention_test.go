package retention_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot/retention"
	"github.com/enemane/privacybot/flows"
)

func TestParse(t *testing.T) {
	p, err := retention.Parse("", 14)
	if err != nil {
		t.Fatal(err)
	}
	want := "transcript=1y,conversations=180d,steps=30d,escalations=3y,requests=5y,documents=30d,consent=3y,outbox=90d,audit=3y"
	if p.String() != want {
		t.Errorf("defaults %s", p)
	}
	if len(p) != len(flows.DataKinds()) {
		t.Errorf("%d periods, want one per kind", len(p))
	}
	if pk, _ := p.Of(flows.DataPackages); pk != (flows.Period{Kind: flows.DataPackages, N: 14, Unit: flows.Days}) {
		t.Errorf("packages follow the link's life: %+v", pk)
	}

	p, err = retention.Parse(" transcript=2y , documents=7d,steps=7d", 10)
	if err != nil {
		t.Fatal(err)
	}
	if tr, _ := p.Of(flows.DataTranscript); tr.N != 2 || tr.Unit != flows.Years {
		t.Errorf("transcript %+v", tr)
	}
	if doc, _ := p.Of(flows.DataDocuments); doc.N != 7 || doc.Unit != flows.Days {
		t.Errorf("documents %+v", doc)
	}
	if au, _ := p.Of(flows.DataAudit); au.N != 3 || au.Unit != flows.Years {
		t.Errorf("an unset kind keeps its default: %+v", au)
	}

	for in, msg := range map[string]string{
		"transcript":             "not kind=period",
		"chats=30d":              "unknown kind",
		"transcript=30":          "not a period",
		"transcript=30m":         "not a period",
		"transcript=0d":          "not a period",
		"steps=3d":               "between 7d",
		"transcript=51y":         "between",
		"packages=30d":           "PACKAGE_LINK_DAYS",
		"steps=30d,steps=40d":    "set twice",
		"documents=-1d":          "not a period",
		"transcript=1y,audit=1d": "between 30d",
	} {
		if _, err := retention.Parse(in, 14); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("Parse(%q) = %v, want an error saying %q", in, err, msg)
		}
	}
}

func TestPeriodCutoff(t *testing.T) {
	now := time.Date(2028, 2, 29, 10, 0, 0, 0, time.UTC)
	if got := (flows.Period{N: 1, Unit: flows.Years}).Before(now); !got.Equal(time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("a year before 29 Feb: %v", got)
	}
	if got := (flows.Period{N: 30, Unit: flows.Days}).Before(now); !got.Equal(time.Date(2028, 1, 30, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("30 days before: %v", got)
	}
}

// fakes of the store's parts

type lease struct {
	mu     sync.Mutex
	holder string
	until  time.Time
}

func (l *lease) TryLease(_ context.Context, _, holder string, now, until time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder != "" && l.holder != holder && !l.until.Before(now) {
		return false, nil
	}
	l.holder, l.until = holder, until
	return true, nil
}

func (l *lease) ReleaseLease(_ context.Context, _, holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder == holder {
		l.holder = ""
	}
	return nil
}

type records struct {
	mu   sync.Mutex
	list []retention.Report
}

func (r *records) SaveSweep(_ context.Context, rep retention.Report) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append([]retention.Report{rep}, r.list...)
	return nil
}

func (r *records) Sweeps(_ context.Context, limit int) ([]retention.Report, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.list[:min(limit, len(r.list))], nil
}

// Every kind is swept with its cutoff; a failing kind is reported and the others still run; the report
// is saved and the log line holds counts only.
func TestSweeperRunsEveryKind(t *testing.T) {
	policy, err := retention.Parse("", 14)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	cutoffs := map[flows.DataKind]time.Time{}
	targets := map[flows.DataKind]retention.Target{}
	for _, k := range flows.DataKinds() {
		targets[k] = retention.TargetFunc(func(_ context.Context, kind flows.DataKind, cutoff time.Time) (int64, error) {
			cutoffs[kind] = cutoff
			if kind == flows.DataOutbox {
				return 0, errors.New("store down")
			}
			return 2, nil
		})
	}
	var logs bytes.Buffer
	recs := &records{}
	s := retention.New(retention.Config{Policy: policy, Targets: targets, Lease: &lease{}, Records: recs, Instance: "i1",
		Now: func() time.Time { return now }, Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	r, err := s.Once(context.Background(), retention.TriggerStaff)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Kinds) != len(policy) || r.Deleted() != int64(2*(len(policy)-1)) || !r.Failed() || r.Instance != "i1" {
		t.Errorf("report %+v", r)
	}
	for _, p := range policy {
		if !cutoffs[p.Kind].Equal(p.Before(now)) {
			t.Errorf("%s swept with cutoff %v, want %v", p.Kind, cutoffs[p.Kind], p.Before(now))
		}
	}
	if got, _ := s.Last(context.Background(), 5); len(got) != 1 || got[0].ID != r.ID {
		t.Errorf("saved reports %+v", got)
	}
	if !strings.Contains(logs.String(), `"outbox_error":"store down"`) || !strings.Contains(logs.String(), `"transcript":2`) {
		t.Errorf("log %s", logs.String())
	}
	// The totals the metrics read add every report up.
	now = now.Add(time.Hour)
	if _, err := s.Once(context.Background(), retention.TriggerSchedule); err != nil {
		t.Fatal(err)
	}
	tot := s.Totals()
	if tot.Sweeps != 2 || tot.Deleted[flows.DataTranscript] != 4 || tot.Deleted[flows.DataOutbox] != 0 ||
		tot.Failed[flows.DataOutbox] != 2 || tot.Failed[flows.DataTranscript] != 0 || !tot.LastFinished.Equal(now) {
		t.Errorf("totals %+v", tot)
	}
}

// While another instance holds the lease, a sweep does nothing and says so; a sweep already running in
// this process likewise.
func TestSweeperWaitsForTheLease(t *testing.T) {
	policy, _ := retention.Parse("", 14)
	l := &lease{holder: "other", until: time.Now().Add(time.Hour)}
	swept := 0
	block := make(chan struct{})
	entered := make(chan struct{}, 1)
	targets := map[flows.DataKind]retention.Target{}
	for _, k := range flows.DataKinds() {
		targets[k] = retention.TargetFunc(func(context.Context, flows.DataKind, time.Time) (int64, error) {
			select {
			case entered <- struct{}{}:
				<-block
			default:
			}
			swept++
			return 0, nil
		})
	}
	s := retention.New(retention.Config{Policy: policy, Targets: targets, Lease: l, Records: &records{}, Instance: "me"})
	if _, err := s.Once(context.Background(), retention.TriggerSchedule); !errors.Is(err, retention.ErrBusy) || swept != 0 {
		t.Fatalf("with the lease held elsewhere: %v, swept %d", err, swept)
	}
	l.until = time.Now().Add(-time.Second) // the other instance died
	done := make(chan error)
	go func() { _, err := s.Once(context.Background(), retention.TriggerSchedule); done <- err }()
	<-entered
	if _, err := s.Once(context.Background(), retention.TriggerStaff); !errors.Is(err, retention.ErrBusy) {
		t.Errorf("a second sweep while one runs: %v", err)
	}
	close(block)
	if err := <-done; err != nil || swept != len(policy) {
		t.Errorf("the sweep after the lease expired: %v, swept %d", err, swept)
	}
	if l.holder != "" {
		t.Errorf("lease not released: %q", l.holder)
	}
}
