package bot

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Metrics are the pipeline's Prometheus instruments: what the processor did with each event, its
// answers and their latency, and every call to the Messaging API. They are registered on the
// registry given to NewMetrics (the program's own, never the global default; each test makes its
// own). Each number has one instrument, and Processor.Stats reads the instruments rather than
// counting again. A nil *Metrics counts nothing.
type Metrics struct {
	handled     *prometheus.CounterVec // result
	errors      prometheus.Counter
	deferred    prometheus.Counter
	answers     *prometheus.CounterVec   // result
	answerTime  *prometheus.HistogramVec // via
	lineCalls   *prometheus.CounterVec   // endpoint, outcome
	lineRetries *prometheus.CounterVec   // endpoint
	leases      *prometheus.CounterVec   // event
}

// The lease events of several instances (privacybot_customer_lease_events_total).
const (
	leaseTaken    = "taken"    // taken afresh (from nobody, a released lease or an expired one)
	leaseRefused  = "refused"  // held by another instance: its events left to that one
	leaseLost     = "lost"     // lapsed while work was queued (renewals failed)
	leaseReleased = "released" // given back, idle or at shutdown
)

// The results of handling an event (privacybot_events_handled_total).
const (
	handledProcessed   = "processed"   // stepped and delivered
	handledReprocessed = "reprocessed" // its step was stored before (a redelivery, a restart): delivery made sure of
	handledIgnored     = "ignored"     // not answerable (another chat, standby, an unknown type)
	handledSilenced    = "silenced"    // staff own the chat: transcript only
)

// The endpoint kinds of the Messaging API (privacybot_line_api_calls_total).
const (
	EndpointReply    = "reply"
	EndpointPush     = "push"
	EndpointProfile  = "profile"
	EndpointContent  = "content"
	EndpointMarkRead = "mark_read"
	EndpointLoading  = "loading"
)

// The results of answering an event (privacybot_answers_total).
const (
	answerReply        = "reply"         // accepted with the reply token
	answerReplyAssumed = "reply_assumed" // after a crash the token was found used: the first attempt went out
	answerPush         = "push"          // accepted by push (or already accepted under its retry key)
	answerFailed       = "failed"        // refused for good, or not accepted within GiveUpAfter
)

// AckBuckets are the buckets of the webhook's acknowledgement latency, in seconds: the README's
// figures run from a few milliseconds (ack p50 on a quiet machine) to about 200 ms (p99 under
// 1,500 events/s); the store's deadline is 3 s, after which the webhook answers 503.
var AckBuckets = []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 5}

// AnswerBuckets are the buckets of the answer latency, in seconds: from tens of milliseconds (answer
// p50 on a quiet machine) to the 10–20 s measured when the embedded store falls behind, the 50 s
// reply window and retries beyond it.
var AnswerBuckets = []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30, 50, 120, 600}

// NewMetrics makes the pipeline's instruments and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "privacybot_events_handled_total",
			Help: "Events the processor finished with, by result: processed, reprocessed (step stored before), ignored (not answerable), silenced (staff own the chat).",
		}, []string{"result"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "privacybot_event_processing_errors_total",
			Help: "Attempts to process an event that failed on the store and were retried.",
		}),
		deferred: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "privacybot_checkpoint_deferred_conversations_total",
			Help: "Changed conversations whose checkpoint was left to a later round (the round's time budget ran out).",
		}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "privacybot_answers_total",
			Help: "Answers to events (one per step with messages), by result: reply, reply_assumed, push, failed.",
		}, []string{"result"}),
		answerTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "privacybot_answer_latency_seconds",
			Help:    "Time from an event's receipt by the webhook (or, for internal events, its raising) to LINE accepting its answer, by way (reply or push).",
			Buckets: AnswerBuckets,
		}, []string{"via"}),
		lineCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "privacybot_line_api_calls_total",
			Help: "Calls to the LINE Messaging API, by endpoint kind and outcome (accepted, already-accepted, invalid-reply-token, retryable, permanent).",
		}, []string{"endpoint", "outcome"}),
		lineRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "privacybot_line_api_retries_total",
			Help: "Messaging API calls retried after a retryable outcome (answers to customers and staff messages), by endpoint kind.",
		}, []string{"endpoint"}),
	}
	m.leases = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "privacybot_customer_lease_events_total",
		Help: "Several instances on one store: customers' leases taken afresh, refused (another instance holds the customer), lost (lapsed with work queued) and released.",
	}, []string{"event"})
	reg.MustRegister(m.handled, m.errors, m.deferred, m.answers, m.answerTime, m.lineCalls, m.lineRetries, m.leases)
	for _, e := range []string{leaseTaken, leaseRefused, leaseLost, leaseReleased} {
		m.leases.WithLabelValues(e)
	}
	// Every label value the code uses, at zero, so that rates and alerts see the series from the start.
	for _, r := range []string{handledProcessed, handledReprocessed, handledIgnored, handledSilenced} {
		m.handled.WithLabelValues(r)
	}
	for _, r := range []string{answerReply, answerReplyAssumed, answerPush, answerFailed} {
		m.answers.WithLabelValues(r)
	}
	for _, e := range []string{EndpointReply, EndpointPush, EndpointProfile, EndpointContent} {
		for o := Accepted; o <= Permanent; o++ {
			m.lineCalls.WithLabelValues(e, o.String())
		}
	}
	for _, e := range []string{EndpointReply, EndpointPush} {
		m.lineRetries.WithLabelValues(e)
	}
	return m
}

func (m *Metrics) eventHandled(result string) {
	if m != nil {
		m.handled.WithLabelValues(result).Inc()
	}
}

// lease counts a lease event; taking a lease this instance held already is not one.
func (m *Metrics) lease(event string, fresh bool) {
	if m != nil && (event != leaseTaken || fresh) {
		m.leases.WithLabelValues(event).Inc()
	}
}

func (m *Metrics) leasesReleased(n int) {
	if m != nil && n > 0 {
		m.leases.WithLabelValues(leaseReleased).Add(float64(n))
	}
}

func (m *Metrics) processingError() {
	if m != nil {
		m.errors.Inc()
	}
}

func (m *Metrics) checkpointsDeferred(n int) {
	if m != nil && n > 0 {
		m.deferred.Add(float64(n))
	}
}

// answered counts an answer; via is "reply" or "push" when LINE accepted it (then the latency since
// receivedAt is observed), otherwise the latency is unknown (assumed) or there is none (failed).
func (m *Metrics) answered(result string, receivedAt, now time.Time) {
	if m == nil {
		return
	}
	m.answers.WithLabelValues(result).Inc()
	if (result == answerReply || result == answerPush) && !receivedAt.IsZero() {
		m.answerTime.WithLabelValues(result).Observe(max(now.Sub(receivedAt), 0).Seconds())
	}
}

// LINECall counts one call to the Messaging API (the clients in this package call it; a client of
// another kind may too).
func (m *Metrics) LINECall(endpoint string, o Outcome) {
	if m != nil {
		m.lineCalls.WithLabelValues(endpoint, o.String()).Inc()
	}
}

// LINERetry counts a call about to be made again after a retryable outcome.
func (m *Metrics) LINERetry(endpoint string) {
	if m != nil {
		m.lineRetries.WithLabelValues(endpoint).Inc()
	}
}

// Stats is a snapshot of the processor's numbers, for the shutdown log line and tests. The counters
// are read from the Prometheus instruments; the rest from the processor's state.
type Stats struct {
	Processed   int64 `json:"processed"` // processed + reprocessed
	Duplicates  int64 `json:"duplicates"`
	Ignored     int64 `json:"ignored"`
	Silenced    int64 `json:"silenced"`
	Replies     int64 `json:"replies"` // answers by reply (also assumed after a crash)
	Pushes      int64 `json:"pushes"`  // answers by push
	Retries     int64 `json:"retries"` // Messaging API calls retried
	Failures    int64 `json:"failures"`
	StoreErrors int64 `json:"storeErrors"`
	QueuedUsers int   `json:"queuedUsers"`
	// Unfinished counts events taken and not yet out of the inbox (queued, running, or handled and
	// waiting for their checkpoint); zero means every event handed over is answered and checkpointed.
	Unfinished  int     `json:"unfinished"`
	CachedUsers int     `json:"cachedUsers"`
	AvgAnswerMs float64 `json:"avgAnswerMs"` // mean answer latency (receipt to acceptance by LINE)
}

// Stats returns the processor's numbers.
func (p *Processor) Stats() Stats {
	m := p.metrics
	handled := counts(m.handled, "result")
	answers := counts(m.answers, "result")
	var retries int64
	for _, n := range counts(m.lineRetries, "endpoint") {
		retries += n
	}
	s := Stats{
		Processed: handled[handledProcessed] + handled[handledReprocessed], Duplicates: handled[handledReprocessed],
		Ignored: handled[handledIgnored], Silenced: handled[handledSilenced],
		Replies: answers[answerReply] + answers[answerReplyAssumed], Pushes: answers[answerPush],
		Failures: answers[answerFailed], Retries: retries, StoreErrors: int64(value(m.errors).GetCounter().GetValue()),
	}
	var sum float64
	var n uint64
	for _, mt := range collect(m.answerTime) {
		sum += mt.GetHistogram().GetSampleSum()
		n += mt.GetHistogram().GetSampleCount()
	}
	if n > 0 {
		s.AvgAnswerMs = sum / float64(n) * 1000
	}
	p.mu.Lock()
	s.QueuedUsers, s.CachedUsers, s.Unfinished = len(p.queues), len(p.convs), len(p.known)-len(p.released)
	p.mu.Unlock()
	return s
}

// Backlog is the number of events acknowledged and not yet handled: queued or being processed (the
// inbox backlog; events handled and waiting for their checkpoint are not counted).
func (p *Processor) Backlog() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.known) - len(p.released) - len(p.handled)
}

// CachedConversations is the number of conversations held in memory.
func (p *Processor) CachedConversations() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.convs)
}

// collect reads a collector's current metrics.
func collect(c prometheus.Collector) []*dto.Metric {
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	var out []*dto.Metric
	for pm := range ch {
		var d dto.Metric
		if pm.Write(&d) == nil {
			out = append(out, &d)
		}
	}
	return out
}

func value(m prometheus.Metric) *dto.Metric {
	var d dto.Metric
	_ = m.Write(&d)
	return &d
}

// counts reads a counter vector as totals by the value of one label.
func counts(c *prometheus.CounterVec, label string) map[string]int64 {
	out := map[string]int64{}
	for _, d := range collect(c) {
		for _, lp := range d.GetLabel() {
			if lp.GetName() == label {
				out[lp.GetValue()] += int64(d.GetCounter().GetValue())
			}
		}
	}
	return out
}
