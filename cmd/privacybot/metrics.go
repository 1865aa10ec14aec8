package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/handlers"
)

// defaultMetricsAddr is where /metrics is served by default: loopback only. Not 9090 (linesim
// serve), 9091 or 9092 (the load tool's fake API in docs/bench) nor 6060 (the profiler's example).
const defaultMetricsAddr = "127.0.0.1:9464"

// loadMetricsConfig reads METRICS_ADDR and METRICS_TOKEN (README: configuration). A METRICS_ADDR
// that is not loopback is refused without a token: the metrics would be open to whoever reaches it.
func loadMetricsConfig() (addr, token string, err error) {
	addr, token = env("METRICS_ADDR", defaultMetricsAddr), os.Getenv("METRICS_TOKEN")
	if token != "" && len(token) < 16 {
		return "", "", errors.New("METRICS_TOKEN must be 16 characters or more (e.g. openssl rand -hex 24)")
	}
	if addr == "off" {
		return "", token, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("METRICS_ADDR must be host:port (e.g. %s) or off, got %q", defaultMetricsAddr, addr)
	}
	if !loopbackHost(host) && token == "" {
		return "", "", fmt.Errorf("METRICS_ADDR %s is not a loopback address: set METRICS_TOKEN too (scrapers then send "+
			"Authorization: Bearer <token>), or keep /metrics on loopback (e.g. %s)", addr, defaultMetricsAddr)
	}
	return addr, token, nil
}

// loopbackHost reports whether a listen address's host is loopback only ("" and 0.0.0.0 are every
// interface).
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newRegistry is the program's own registry (never the global default): the Go runtime's and the
// process's collectors; wire adds the pipeline's instruments and the state collector.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// startMetrics serves /metrics on its own listener (METRICS_ADDR), without a token on a loopback
// address and with METRICS_TOKEN on any other. The returned function stops it and waits for it. A
// listener that cannot be opened (the port is taken) is logged as an error and the server runs on
// without it: the desk answering customers matters more than its metrics.
func startMetrics(addr, token string, reg *prometheus.Registry, log *slog.Logger) (stop func()) {
	host, _, _ := net.SplitHostPort(addr)
	ep := &handlers.MetricsEndpoint{Registry: reg, Token: token, Open: loopbackHost(host)}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("metrics listener not started; /metrics is not served on METRICS_ADDR", "addr", addr, "err", err)
		return func() {}
	}
	srv := &http.Server{Handler: ep, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("metrics listener stopped", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String(), "token", !ep.Open)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}
}

// stateCollector reports, at each scrape, the state the domain objects hold (backlogs, open work,
// consent, the sweeper's totals), read through their accessors: nothing is kept in step by hand.
type stateCollector struct {
	a *app
	// lastSweep is the newest sweep in the store when the server started (any instance's), so that
	// the gauge is right before this process's first sweep.
	lastSweep time.Time
}

var (
	descBacklog = prometheus.NewDesc("privacybot_inbox_backlog_events",
		"Events acknowledged (in the inbox) and not yet handled: queued or being processed.", nil, nil)
	descCached = prometheus.NewDesc("privacybot_conversations_cached",
		"Conversations held in memory.", nil, nil)
	descEscalations = prometheus.NewDesc("privacybot_escalations_open",
		"Open escalations, by status: queued (waiting for staff) or assigned (a staff member has the chat).", []string{"status"}, nil)
	descRequestsOpen = prometheus.NewDesc("privacybot_requests_open",
		"Personal-data requests still being worked on.", nil, nil)
	descRequestsOverdue = prometheus.NewDesc("privacybot_requests_overdue",
		"Open personal-data requests past their due date.", nil, nil)
	descOptOuts = prometheus.NewDesc("privacybot_optout_subjects",
		"People (LINE customers and staff entries) opted out of marketing now, by channel.", []string{"channel"}, nil)
	descOutboxPending = prometheus.NewDesc("privacybot_outbox_pending_messages",
		"Messages in the outbox not yet delivered, by destination.", []string{"destination"}, nil)
	descOutboxOldest = prometheus.NewDesc("privacybot_outbox_oldest_pending_age_seconds",
		"Age of the oldest pending message of a destination (0 when none is pending).", []string{"destination"}, nil)
	descOutboxDone = prometheus.NewDesc("privacybot_outbox_deliveries_total",
		"Outbox deliveries finished since the server started, by destination and result (delivered, failed: refused for good or given up after 24 h).",
		[]string{"destination", "result"}, nil)
	descOutboxRetries = prometheus.NewDesc("privacybot_outbox_retries_total",
		"Outbox attempts that failed transiently and will be made again, by destination.", []string{"destination"}, nil)
	descSweepDeleted = prometheus.NewDesc("privacybot_retention_deleted_total",
		"Items deleted by this process's retention sweeps since it started, by kind of data.", []string{"kind"}, nil)
	descSweepFailed = prometheus.NewDesc("privacybot_retention_failures_total",
		"Retention sweeps in which a kind of data failed, by kind.", []string{"kind"}, nil)
	descSweeps = prometheus.NewDesc("privacybot_retention_sweeps_total",
		"Retention sweeps run by this process since it started.", nil, nil)
	descLastSweep = prometheus.NewDesc("privacybot_retention_last_sweep_timestamp_seconds",
		"When the newest retention sweep known to this process finished (its own, or the store's newest at start), Unix time; 0 when none.", nil, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBacklog, descCached, descEscalations, descRequestsOpen, descRequestsOverdue,
		descOptOuts, descOutboxPending, descOutboxOldest, descOutboxDone, descOutboxRetries, descSweepDeleted,
		descSweepFailed, descSweeps, descLastSweep} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	a := c.a
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(descBacklog, float64(max(a.proc.Backlog(), 0)))
	gauge(descCached, float64(a.proc.CachedConversations()))
	queued, assigned := a.handoffs.Counts()
	gauge(descEscalations, float64(queued), "queued")
	gauge(descEscalations, float64(assigned), "assigned")
	open, overdue := a.requests.Counts()
	gauge(descRequestsOpen, float64(open))
	gauge(descRequestsOverdue, float64(overdue))
	for channel, n := range a.marketing.consents.OptOutCounts() {
		gauge(descOptOuts, float64(n), channel)
	}
	now := time.Now()
	for dest, n := range a.outbox.Counts() {
		gauge(descOutboxPending, float64(n.Pending), dest)
		age := 0.0
		if !n.OldestPending.IsZero() {
			age = max(now.Sub(n.OldestPending).Seconds(), 0)
		}
		gauge(descOutboxOldest, age, dest)
		counter(descOutboxDone, float64(n.Delivered), dest, "delivered")
		counter(descOutboxDone, float64(n.Failed), dest, "failed")
		counter(descOutboxRetries, float64(n.Retried), dest)
	}
	t := a.sweeper.Totals()
	for _, k := range flows.DataKinds() {
		counter(descSweepDeleted, float64(t.Deleted[k]), string(k))
		counter(descSweepFailed, float64(t.Failed[k]), string(k))
	}
	counter(descSweeps, float64(t.Sweeps))
	last := c.lastSweep
	if t.LastFinished.After(last) {
		last = t.LastFinished
	}
	if last.IsZero() {
		gauge(descLastSweep, 0)
	} else {
		gauge(descLastSweep, float64(last.UnixNano())/1e9)
	}
}
