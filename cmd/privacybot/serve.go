package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/insight"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/bot/retention"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/flows/nlu"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/linesim"
	"github.com/enemane/privacybot/locales"
	"github.com/enemane/privacybot/store"
)

func serve(_ []string) error {
	started := time.Now()
	tuneGC()
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)
	if cfg.LocalMode {
		log.Info("local mode: no LINE credentials set, the built-in LINE simulator answers for LINE",
			"chat", cfg.BaseURL+"/sim", "fake_api", cfg.APIBaseURL)
	} else {
		log.Info("LINE mode", "api", cfg.APIBaseURL, "webhook", cfg.BaseURL+"/callback")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := store.Open(ctx, store.Config{URI: cfg.MongoURI, Database: cfg.MongoDatabase, DataDir: cfg.DataDir,
		Retention: cfg.Retention, Log: log})
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	log.Info("store ready", "embedded", st.Embedded(), "database", cfg.MongoDatabase)
	if !cfg.LocalMode {
		if err := retireLocalAdmin(ctx, st, log); err != nil {
			return fmt.Errorf("local-mode admin: %w", err)
		}
	}

	app, err := wire(cfg, st, log)
	if err != nil {
		return err
	}
	if err := app.proc.Start(ctx); err != nil {
		return fmt.Errorf("resume inbox: %w", err)
	}
	// The outbox's sender (marketing webhook, staff alerts): stopped and waited for before the store
	// closes (defers run last-in first-out), whichever way serve returns.
	octx, stopOutbox := context.WithCancel(context.Background())
	outboxDone := make(chan struct{})
	go func() { defer close(outboxDone); runOutbox(octx, app, st, cfg.InstanceID) }()
	defer func() { stopOutbox(); <-outboxDone }()
	// The request service's document fetcher and daily digest (and on MongoDB the catch-up with the
	// other instances: instances.go), likewise.
	rctx, stopRequests := context.WithCancel(context.Background())
	requestsDone := make(chan struct{})
	go func() { defer close(requestsDone); runDesk(rctx, app, st, cfg.InstanceID, log) }()
	defer func() { stopRequests(); <-requestsDone }()
	// The retention sweeper (policy item 13), likewise.
	swctx, stopSweeper := context.WithCancel(context.Background())
	sweeperDone := make(chan struct{})
	go func() { defer close(sweeperDone); app.sweeper.Run(swctx, sweepDelay) }()
	defer func() { stopSweeper(); <-sweeperDone }()

	if addr := os.Getenv("PPROF_ADDR"); addr != "" {
		defer startPprof(addr, log)()
	}
	if cfg.MetricsAddr != "" {
		defer startMetrics(cfg.MetricsAddr, cfg.MetricsToken, app.registry, log)()
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		app.proc.Stop(context.Background())
		return err
	}
	srv := &http.Server{Handler: app.router, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 0, IdleTimeout: 120 * time.Second} // no write timeout: the simulator streams events
	errCh := make(chan error, 1)
	go func() { errCh <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "ready_ms", time.Since(started).Milliseconds())
	if cfg.LocalMode {
		fmt.Fprintf(os.Stderr, "\n  privacybot is running in local mode. Chat with it at %s/sim\n", cfg.BaseURL)
		if err := localAdmin(ctx, st, os.Stderr); err != nil {
			log.Error("local admin", "err", err)
		}
		fmt.Fprintf(os.Stderr, "  Staff console: %s/console\n\n", cfg.BaseURL)
	}

	select {
	case <-ctx.Done():
	case err := <-errCh:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("server failed", "err", err)
		}
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx) // stop accepting; let acknowledged requests finish
	app.proc.Stop(sctx)    // finish or leave in-flight events in the inbox
	log.Info("stopped", "stats", app.proc.Stats())
	return nil
}

// tuneGC sets the collector for this server unless GOGC / GOMEMLIMIT say otherwise. Its live heap is
// small (about 35 MB) and the garbage under load is short-lived, so with Go's default GOGC=100 the
// collector ran so often that answers at 1,500 events/s waited seconds (measured: answer p99 3.5 s at
// GOGC=100, 0.33 s at 300, idle RSS 108 MB either way). The soft limit keeps a burst inside a 512 MB
// machine.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(400 << 20)
	}
}

type app struct {
	proc     *bot.Processor
	handoffs *bot.Handoffs
	// marketing is the consent history and the marketing API.
	marketing *marketing
	router    http.Handler
	sim       *linesim.API

	// outbox sends the marketing webhook and the staff alerts (openOutbox).
	outbox *outbox.Outbox
	// requests is the personal-data requests' service (its fetcher and digest run beside the outbox).
	requests *request.Service
	// sweeper enforces the retention periods.
	sweeper *retention.Sweeper
	// insight is the classifier in service, the recorder of questions and the review inbox.
	insight *deskInsight
	// registry holds every metric of /metrics (the program's own, not Prometheus's global default).
	registry *prometheus.Registry
}

// wire builds the pipeline and the HTTP routes on a store.
func wire(cfg config, st *store.Store, log *slog.Logger) (*app, error) {
	rend, err := bot.NewRenderer(map[string]string{"PolicyURL": cfg.PolicyURL})
	if err != nil {
		return nil, err
	}
	a := &app{registry: newRegistry()}
	metrics := bot.NewMetrics(a.registry)
	routes := handlers.Routes{Health: &handlers.Health{Store: st}, PolicyText: locales.Policy, Extra: map[string]http.Handler{}}
	var hc *http.Client
	if cfg.LocalMode {
		a.sim = linesim.NewAPI(linesim.APIOptions{Prefix: "/linesim", AccessToken: cfg.ChannelToken})
		routes.Extra["/linesim"] = a.sim
	}
	model, err := nlu.Load()
	if err != nil {
		return nil, fmt.Errorf("intent model: %w", err)
	}
	line := bot.NewLINE(cfg.ChannelToken, cfg.APIBaseURL, hc).Instrument(metrics)
	if a.outbox, err = openOutbox(cfg, st, line, rend, log); err != nil {
		return nil, err
	}
	handoffs, console, err := wireHandoff(cfg, st, line, rend, a.outbox, log)
	if err != nil {
		return nil, err
	}
	raiser := &bot.Raiser{Inbox: st, Now: time.Now, Log: log}
	if a.requests, err = wireRequests(cfg, cfg.Requests, st, a.outbox, raiser, metrics, log); err != nil {
		return nil, err
	}
	octx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := a.requests.Open(octx); err != nil {
		return nil, err
	}
	a.handoffs = handoffs
	routes.Console = console
	console.Outbox = a.outbox // the admin's page of outgoing deliveries
	mkt, err := wireMarketing(st, rend, a.outbox, log)
	if err != nil {
		return nil, err
	}
	a.marketing, routes.Marketing = mkt, mkt.api
	console.Consents = mkt.consents // the console's opt-out pages
	hours, err := businessHours(cfg)
	if err != nil {
		return nil, err
	}
	a.insight = wireInsight(st, model, line, a.requests, mkt.consents, log)
	console.Review = a.insight.inbox // the review inbox
	pcfg := bot.Config{
		Journal: st, Messenger: line, Renderer: rend, Step: flows.Step, Log: log, Hours: hours,
		Classify: a.insight.classify, QuestionRef: insight.QuestionKey,
		Effects: bot.EffectSinks{handoffs, mkt.consents, a.requests, a.insight.recorder},
		Handoff: handoffs, OnTranscript: handoffs.TranscriptGrew,
		Requests: a.requests, RequestFee: cfg.Requests.FeeText, Retention: cfg.Retention, Metrics: metrics,
	}
	if st.SharedInbox() {
		// MongoDB: other instances may share the store; customers are processed under leases.
		pcfg.Leases = bot.NewLeases(bot.LeaseConfig{Store: st, Holder: cfg.InstanceID, Log: log})
		pcfg.Shared = st
		pcfg.OnTake = a.requests.RefreshUser
	}
	a.proc = bot.NewProcessor(pcfg)
	handoffs.SetDispatcher(a.proc)
	raiser.SetDispatcher(a.proc)
	routes.Callback = &handlers.Callback{Secret: cfg.ChannelSecret, Inbox: st, Dispatch: handoffs.Tap(a.proc), Log: log, Now: time.Now,
		Metrics: handlers.NewWebhookMetrics(a.registry)}
	// /metrics on the main port: with METRICS_TOKEN as a bearer token; 404 without one.
	routes.Extra["/metrics"] = &handlers.MetricsEndpoint{Registry: a.registry, Token: cfg.MetricsToken}
	if cfg.LocalMode {
		sender := &linesim.Sender{BotURL: fmt.Sprintf("http://127.0.0.1:%d/callback", cfg.Port),
			ChannelSecret: cfg.ChannelSecret, Destination: "Uprivacybot0000000000000000000000", API: a.sim}
		routes.Extra["/sim"] = linesim.NewChat(a.sim, sender, linesim.ChatOptions{Prefix: "/sim"})
	}
	console.Requests = a.requests // the console's 申請 pages
	routes.RequestsAPI = requestsAPI(st, a.requests, log)
	routes.Package = &handlers.PackagePages{Desk: a.requests, Log: log, Now: time.Now, Location: a.requests.Location(),
		PolicyURL: cfg.PolicyURL}
	routes.TrustedProxies = cfg.TrustedProxies
	if cfg.OnFly {
		routes.ClientIPHeader = gin.PlatformFlyIO
	}
	a.sweeper = wireRetention(cfg, st, a, log)
	console.Retention = a.sweeper // the admin's page of retention periods and sweeps
	wireDashboard(cfg, console, st, mkt.consents, a.requests, hours)
	state := &stateCollector{a: a}
	sctx, cancelSweeps := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelSweeps()
	if last, err := a.sweeper.Last(sctx, 1); err == nil && len(last) > 0 {
		state.lastSweep = last[0].Finished
	}
	a.registry.MustRegister(state)
	a.router = handlers.NewRouter(log, routes)
	return a, nil
}
