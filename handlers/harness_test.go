package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/flows/nlu"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/linesim"
	"github.com/enemane/privacybot/store"
)

// classify is the production intent model, baseModel the model itself (loaded once).
var (
	classify  func(string) flows.Intent
	baseModel *nlu.Model
)

// engineURI is the embedded engine shared by the tests of this package; each test gets its own
// database. engineDir holds its files.
var engineURI, engineDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "privacybot-handlers-")
	if err != nil {
		panic(err)
	}
	e, err := store.StartEmbedded(dir, "", quietLog())
	if err != nil {
		panic(err)
	}
	engineURI, engineDir = e.URI(), dir
	model, err := nlu.Load()
	if err != nil {
		panic(err)
	}
	baseModel = model
	classify = func(text string) flows.Intent {
		r := model.Classify(text)
		return flows.Intent{Name: r.Intent, Confidence: r.Confidence, Topic: r.Topic, Also: r.Also, Guess: r.Guess, GuessConf: r.GuessConf}
	}
	code := m.Run()
	e.Stop()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

const (
	testSecret = "0123456789abcdef0123456789abcdef"
	testToken  = "test-channel-access-token"
)

var dbSeq atomic.Int64

// harness is the bot under test: real router, real processor, the real embedded engine, and the
// simulator as the LINE Platform.
type harness struct {
	t      *testing.T
	st     *store.Store
	api    *linesim.API
	proc   *bot.Processor
	bot    *httptest.Server
	sender *linesim.Sender
	// stopped is set once stop ran.
	stopped bool
}

type harnessOpts struct {
	storeURI string // default: the package's engine
	database string // default: a new database (a second harness on the same one is a restart)
	// inbox wraps the store as the webhook's inbox (default: the store itself).
	inbox     func(*store.Store) handlers.Inbox
	api       *linesim.API // the LINE platform (default: a new simulator)
	procTweak func(*bot.Config)
	// marketing wires the marketing API (and its effect sink into cfg) on the harness's store.
	marketing func(h *harness, cfg *bot.Config) *handlers.Marketing
	// metrics, when set, gets the pipeline's and the webhook's instruments, served at /metrics with
	// metricsToken as the bearer token (as on the main port with METRICS_TOKEN).
	metrics      *prometheus.Registry
	metricsToken string
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	h := &harness{t: t}
	h.api = o.api
	if h.api == nil {
		h.api = linesim.NewAPI(linesim.APIOptions{AccessToken: testToken})
	}
	apiSrv := httptest.NewServer(h.api)
	t.Cleanup(apiSrv.Close)
	uri := o.storeURI
	if uri == "" {
		uri = engineURI
	}
	db := o.database
	if db == "" {
		db = fmt.Sprintf("t%d_%d", time.Now().UnixNano()%1e6, dbSeq.Add(1))
	}
	var err error
	h.st, err = store.Open(context.Background(), store.Config{URI: uri, Database: db, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	rend, err := bot.NewRenderer(map[string]string{"PolicyURL": "https://example.invalid/policy"})
	if err != nil {
		t.Fatal(err)
	}
	var metrics *bot.Metrics
	if o.metrics != nil {
		metrics = bot.NewMetrics(o.metrics)
	}
	cfg := bot.Config{
		Journal: h.st, Messenger: bot.NewLINE(testToken, apiSrv.URL, nil).Instrument(metrics), Renderer: rend, Metrics: metrics,
		Step: flows.Step, Log: quietLog(), Classify: classify, RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		CheckpointEvery: 50 * time.Millisecond,
	}
	if o.procTweak != nil {
		o.procTweak(&cfg)
	}
	var mkt *handlers.Marketing
	if o.marketing != nil {
		mkt = o.marketing(h, &cfg)
	}
	h.proc = bot.NewProcessor(cfg)
	if err := h.proc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var inbox handlers.Inbox = h.st
	if o.inbox != nil {
		inbox = o.inbox(h.st)
	}
	routes := handlers.Routes{
		Marketing: mkt,
		Callback:  &handlers.Callback{Secret: testSecret, Inbox: inbox, Dispatch: h.proc, Log: quietLog(), Now: time.Now},
		Health:    &handlers.Health{Store: h.st},
	}
	if o.metrics != nil {
		routes.Callback.Metrics = handlers.NewWebhookMetrics(o.metrics)
		routes.Extra = map[string]http.Handler{"/metrics": &handlers.MetricsEndpoint{Registry: o.metrics, Token: o.metricsToken}}
	}
	router := handlers.NewRouter(quietLog(), routes)
	h.bot = httptest.NewServer(router)
	t.Cleanup(h.stop)
	h.sender = &linesim.Sender{BotURL: h.bot.URL + "/callback", ChannelSecret: testSecret, Destination: "Ubot", API: h.api}
	return h
}

// stop shuts the bot down as SIGTERM would (server, processor, store); the harness's cleanup calls it too.
func (h *harness) stop() {
	if h.stopped {
		return
	}
	h.stopped = true
	h.bot.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.proc.Stop(ctx)
	h.st.Close(ctx)
}

// send posts events in one signed webhook and returns the status.
func (h *harness) send(evs ...linesim.Event) int {
	h.t.Helper()
	code, err := h.sender.Send(context.Background(), evs...)
	if err != nil {
		h.t.Fatal(err)
	}
	return code
}

// waitDeliveries waits until user has n deliveries, then a little longer to catch any extra one.
func (h *harness) waitDeliveries(user string, n int) []linesim.Delivered {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ds, err := h.api.WaitDeliveries(ctx, user, n)
	if err != nil {
		h.t.Fatalf("waiting for %d deliveries to %s: %v (got %d)", n, user, err, len(h.api.Deliveries(user)))
	}
	return ds
}

// settle waits until every event handed to the processor is answered and out of the inbox, so that
// "no more deliveries" can be asserted.
func (h *harness) settle() {
	h.t.Helper()
	waitFor(h.t, "the processor to finish every event", func() bool {
		s := h.proc.Stats()
		return s.QueuedUsers == 0 && s.Unfinished == 0
	})
}

// texts returns the text of every message in the deliveries.
func texts(ds []linesim.Delivered) []string {
	var out []string
	for _, d := range ds {
		for _, m := range d.Messages {
			var v struct {
				Text string `json:"text"`
			}
			_ = json.Unmarshal(m, &v)
			out = append(out, v.Text)
		}
	}
	return out
}

func postRaw(t *testing.T, url string, body []byte, sig string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytesReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("X-Line-Signature", sig)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}
