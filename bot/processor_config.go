package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/enemane/privacybot/flows"
)

// Config wires a Processor.
type Config struct {
	Journal   Journal
	Messenger Messenger
	Renderer  *Renderer
	// Step is the conversation logic (flows.Step in production).
	Step func(flows.State, flows.Input) flows.Result
	// Classify reads a text message (nil: every text is Intent{Name: "none"}).
	Classify func(text string) flows.Intent
	// QuestionRef names the question a text message asks (flows.Input.Ref), so that steps record
	// questions and offer feedback on answers; Effects must then carry out EffectQuestion and
	// EffectFeedback (insight.Recorder). Nil: no question is recorded.
	QuestionRef func(at time.Time, eventID string) string
	Log         *slog.Logger
	Now         func() time.Time
	// Effects applies step effects (nil: steps must have none).
	Effects EffectSink
	// Handoff silences the bot for chats staff own (nil: never).
	Handoff Handoff
	// OnTranscript is told, after the fact, that a customer's transcript grew (live views).
	OnTranscript func(userID string)
	// Hours are staff's business hours (zero: always open); steps learn from them whether a request
	// for staff is answered now.
	Hours BusinessHours
	// Requests tells steps of the customer's personal-data requests (nil: none); RequestFee is
	// REQUEST_FEE_TEXT.
	Requests   RequestDesk
	RequestFee string
	// Retention is the retention periods in force (policy item 13), told to customers who ask
	// (nil: unknown; the answer then refers them to the window).
	Retention []flows.Period

	// ReplyWindow is how old an event may be for its reply token to be used (default 50 s; tokens
	// live about a minute).
	ReplyWindow time.Duration
	// MaxActiveUsers bounds how many customers are processed at once (default 256).
	MaxActiveUsers int
	// RetryBase and RetryMax shape the backoff of retried calls (defaults 200 ms and 10 s).
	RetryBase, RetryMax time.Duration
	// GiveUpAfter is how long a send is retried before it is recorded as failed (default 24 h, the
	// lifetime of a retry key).
	GiveUpAfter time.Duration
	// CheckpointEvery is how often state checkpoints are written and handled events leave the inbox
	// (default 500 ms).
	CheckpointEvery time.Duration
	// CheckpointBudget bounds the time one checkpoint spends overwriting changed conversations (costly
	// on the embedded engine); the rest wait for the next round (default 2 s).
	CheckpointBudget time.Duration
	// Metrics counts what the processor does (nil: instruments on a registry of the processor's own,
	// read only by Stats).
	Metrics *Metrics

	// Leases and Shared make the processor one of several instances on one store (MongoDB): a
	// customer's events are processed only under the customer's lease, and read from the shared
	// inbox (see cluster.go). Both nil: the only instance (the embedded store).
	Leases *Leases
	Shared SharedInbox
	// ScanEvery is how often the shared inbox is scanned for customers nobody holds (default 1 s).
	ScanEvery time.Duration
	// HoldIdle is how long a customer's lease is kept after their last event (default 10 s): their
	// next events, wherever they arrive, are then taken here without taking the lease again (one
	// that arrives at another instance is stored and nudges this one).
	HoldIdle time.Duration
	// OnTake, in shared mode, is told that this instance took a customer afresh, before their first
	// event here: what other instances changed of the customer moments ago (a request, a claim) is
	// read then rather than at the next periodic catch-up. An error is logged; the step goes on.
	OnTake func(ctx context.Context, userID string) error
}

// NewProcessor returns a processor; call Start to run it.
func NewProcessor(cfg Config) *Processor {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.ReplyWindow == 0 {
		cfg.ReplyWindow = 50 * time.Second
	}
	if cfg.MaxActiveUsers == 0 {
		cfg.MaxActiveUsers = 256
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase = 200 * time.Millisecond
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 10 * time.Second
	}
	if cfg.GiveUpAfter == 0 {
		cfg.GiveUpAfter = 24 * time.Hour
	}
	if cfg.CheckpointEvery == 0 {
		cfg.CheckpointEvery = 500 * time.Millisecond
	}
	if cfg.CheckpointBudget == 0 {
		cfg.CheckpointBudget = 2 * time.Second
	}
	if cfg.Classify == nil {
		cfg.Classify = func(string) flows.Intent { return flows.Intent{Name: "none"} }
	}
	if cfg.ScanEvery == 0 {
		cfg.ScanEvery = time.Second
	}
	if cfg.HoldIdle == 0 {
		cfg.HoldIdle = 10 * time.Second
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Processor{
		cfg: cfg, log: cfg.Log,
		queues: map[string]*userQueue{}, convs: map[string]*convEntry{}, known: map[string]struct{}{}, active: map[string]time.Time{}, nudged: map[string]struct{}{},
		sem:    make(chan struct{}, cfg.MaxActiveUsers),
		runCtx: ctx, cancel: cancel,
		ckDone: make(chan struct{}), ckStop: make(chan struct{}), metrics: cfg.Metrics,
	}
}
