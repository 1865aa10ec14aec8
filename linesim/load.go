package linesim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"time"
)

// LoadConfig configures RunLoad.
type LoadConfig struct {
	// BotURL is the webhook URL of the bot under test; it must be on a
	// loopback address.
	BotURL string
	// BotURLs, when set, are several instances of the bot (BotURL is then
	// ignored): events go to them in turn, as a load balancer would spread
	// them, so that one customer's events land on different instances. An
	// event whose request fails without a status (the instance is down) is
	// sent to the next one, as a load balancer retries.
	BotURLs []string
	// Secret is the bot's channel secret (to sign webhooks).
	Secret string
	// Token is the channel access token the bot uses against the fake API.
	Token string
	// APIAddr is the loopback address the fake API listens on (e.g.
	// "127.0.0.1:9091"); ignored when Listener is set.
	APIAddr string
	// Listener, when set, is used for the fake API instead of APIAddr.
	// RunLoad closes it.
	Listener net.Listener
	// APIPrefix is an optional path prefix for the fake API.
	APIPrefix string
	// Rate is the offered rate in events per second (default 100).
	Rate float64
	// Users is the number of simulated users the events are spread over
	// (default 100).
	Users int
	// Duration is how long events are offered (default 10 s).
	Duration time.Duration
	// MaxEvents caps the number of events (0: Rate × Duration).
	MaxEvents int
	// Drain is how long to wait for answers after the last event was
	// acknowledged (default 15 s).
	Drain time.Duration
	// MaxInFlight bounds concurrent webhook requests (default 1000); when
	// reached, sending falls behind the schedule (visible as a lower
	// achieved rate).
	MaxInFlight int
	// AnswersPerEvent is how many deliveries (reply or push calls) the bot
	// makes per text event (default 1). More are counted as doubles.
	AnswersPerEvent int
	// Destination is the bot user ID sent in webhooks (default generated).
	Destination string
	// ReplyTokenTTL is passed to the fake API (default one minute).
	ReplyTokenTTL time.Duration
	// Progress, when set, is called by the sending loop after each event is
	// handed to a sender, with the number handed so far (tests stop an
	// instance mid-run from it; it must not block for long).
	Progress func(sent int)
	// RateLimits is passed to the fake API (nil: none; LINERateLimits():
	// LINE's, so a bot exceeding them sees 429s as it would in production).
	RateLimits map[string]int
	// Redeliveries, when above 0, makes the tool act as LINE's webhook
	// redelivery (switched on in the LINE Developers Console): an event no
	// instance answered with 200 is sent again, marked as a redelivery with
	// the same webhookEventId and reply token, up to this many times, the
	// first after RedeliveryDelay (default 1 s), each later one after twice
	// the wait before it. The report then counts an event as acknowledged
	// when any attempt was, and its ack time runs to that attempt's answer.
	Redeliveries    int
	RedeliveryDelay time.Duration
}

// LoadReport is the outcome of RunLoad.
type LoadReport struct {
	Offered   float64       `json:"offeredRate"`  // configured events/s
	Achieved  float64       `json:"achievedRate"` // events sent / time taken to offer them
	Events    int           `json:"events"`       // events sent
	Acked     int           `json:"acked"`        // webhook answered 200
	Non200    int           `json:"non200"`       // webhook answered another status
	Errors    int           `json:"errors"`       // transport errors (no status)
	Statuses  map[int]int   `json:"statuses"`     // count per webhook status
	AckP50    time.Duration `json:"ackP50"`
	AckP99    time.Duration `json:"ackP99"`
	AckMax    time.Duration `json:"ackMax"`
	Answered  int           `json:"answered"` // events with an answer
	AnswerP50 time.Duration `json:"answerP50"`
	AnswerP99 time.Duration `json:"answerP99"`
	AnswerMax time.Duration `json:"answerMax"`
	Lost      int           `json:"lost"`    // acked events without answer
	Doubled   int           `json:"doubled"` // answers beyond AnswersPerEvent
	// OutOfOrder counts answers (by reply token) the API accepted before the
	// answer to an earlier event of the same user.
	OutOfOrder int `json:"outOfOrder"`
	// Disorders describes the first out-of-order answers: which events, when each was sent, to which
	// instance, acknowledged and answered (times from the first event).
	Disorders []string `json:"disorders,omitempty"`
	// Failovers counts events sent again to the next instance after a
	// transport error (BotURLs).
	Failovers int `json:"failovers"`
	// Redelivered counts redeliveries sent (Redeliveries).
	Redelivered   int           `json:"redelivered"`
	Replies       int           `json:"replies"`
	Pushes        int           `json:"pushes"`
	InvalidTokens int           `json:"invalidReplyTokens"`
	RateLimited   int           `json:"rateLimited"` // 429s the fake API answered
	Loadings      int           `json:"loadings"`    // loading animations started
	Faults        int           `json:"apiErrors"`   // other 4xx the fake API answered (400, 401, 404, 409)
	SendTime      time.Duration `json:"sendTime"`    // until the last event was acknowledged
	DrainTime     time.Duration `json:"drainTime"`
}

// loadEvent is one sent event and what became of it.
type loadEvent struct {
	user      int
	token     string
	sentAt    time.Time
	status    int           // of the last attempt (0: a transport error)
	ack       time.Duration // from sentAt to the last attempt's answer
	failovers int
	redeliver int // redeliveries sent
	via       int // the index in BotURLs of the instance that gave the last answer
}

// IsLoopbackHost reports whether host (a name or IP, no port) is loopback.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *LoadConfig) defaults() error {
	if len(c.BotURLs) == 0 {
		c.BotURLs = []string{c.BotURL}
	}
	for _, b := range c.BotURLs {
		u, err := url.Parse(b)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !IsLoopbackHost(u.Hostname()) {
			return fmt.Errorf("linesim: bot URL %q must be http(s) on a loopback address", b)
		}
	}
	if c.Listener == nil {
		host, _, err := net.SplitHostPort(c.APIAddr)
		if err != nil || !IsLoopbackHost(host) {
			return fmt.Errorf("linesim: API address %q must be a loopback host:port", c.APIAddr)
		}
	}
	if c.Rate <= 0 {
		c.Rate = 100
	}
	if c.Users <= 0 {
		c.Users = 100
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Drain <= 0 {
		c.Drain = 15 * time.Second
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 1000
	}
	if c.RedeliveryDelay <= 0 {
		c.RedeliveryDelay = time.Second
	}
	if c.AnswersPerEvent <= 0 {
		c.AnswersPerEvent = 1
	}
	if c.Destination == "" {
		c.Destination = NewBotUserID()
	}
	if c.MaxEvents <= 0 {
		c.MaxEvents = int(c.Rate * c.Duration.Seconds())
	}
	if c.MaxEvents < 1 {
		c.MaxEvents = 1
	}
	return nil
}

// RunLoad runs a fake Messaging API for the bot under test, offers it signed
// text events at cfg.Rate (open loop: paced by the clock, not by answers)
// spread round-robin over cfg.Users users, then waits for the answers and
// reports acknowledgement and answer latencies, lost and doubled answers.
// It stops after MaxEvents events or Duration, whichever comes first, and
// after Drain; ctx cancels it early (the report so far is returned).
func RunLoad(ctx context.Context, cfg LoadConfig) (LoadReport, error) {
	if err := cfg.defaults(); err != nil {
		return LoadReport{}, err
	}
	ln := cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.APIAddr); err != nil {
			return LoadReport{}, err
		}
	}
	api := NewAPI(APIOptions{Prefix: cfg.APIPrefix, AccessToken: cfg.Token, ReplyTokenTTL: cfg.ReplyTokenTTL, RateLimits: cfg.RateLimits})
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	tr := &http.Transport{MaxIdleConns: cfg.MaxInFlight, MaxIdleConnsPerHost: cfg.MaxInFlight, IdleConnTimeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	senders := make([]*Sender, len(cfg.BotURLs))
	for i, b := range cfg.BotURLs {
		senders[i] = &Sender{BotURL: b, ChannelSecret: cfg.Secret, Destination: cfg.Destination,
			HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}, API: api}
	}
	sender := senders[0]
	users := make([]string, cfg.Users)
	for i := range users {
		users[i] = NewUserID()
		api.SetProfile(users[i], "load"+strconv.Itoa(i), "ja")
	}

	events := make([]*loadEvent, 0, min(cfg.MaxEvents, 1<<16))
	sem := make(chan struct{}, cfg.MaxInFlight)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	n := 0
	sendCtx, stopSend := context.WithCancel(ctx)
	defer stopSend()
loop:
	for ; n < cfg.MaxEvents; n++ {
		at := start.Add(time.Duration(n) * interval)
		if at.After(deadline) {
			break
		}
		if d := time.Until(at); d > 0 {
			sleepCtx(ctx, d)
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		if ctx.Err() != nil {
			<-sem
			break
		}
		u := n % cfg.Users
		ev := sender.TextEvent(users[u], "load "+strconv.Itoa(n))
		le := &loadEvent{user: u, token: ev.ReplyToken, sentAt: time.Now()}
		events = append(events, le)
		wg.Add(1)
		if cfg.Progress != nil {
			cfg.Progress(n + 1)
		}
		first := n % len(senders)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cfg.deliver(sendCtx, senders, first, ev, le)
		}()
	}
	offerTime := time.Since(start)
	wg.Wait()
	sendTime := time.Since(start)

	rep := LoadReport{Offered: cfg.Rate, Events: n, Statuses: map[int]int{}, SendTime: sendTime}
	// Achieved: events over the time it took to offer them (the schedule
	// ends one interval after the last event), not waiting for their acks.
	if span := max(offerTime, time.Duration(n)*interval); span > 0 {
		rep.Achieved = float64(n) / span.Seconds()
	}
	acks := make([]time.Duration, 0, n)
	for _, e := range events {
		rep.Failovers += e.failovers
		rep.Redelivered += e.redeliver
		switch {
		case e.status == 0:
			rep.Errors++
		case e.status == http.StatusOK:
			rep.Acked++
		default:
			rep.Non200++
		}
		if e.status != 0 {
			rep.Statuses[e.status]++
			acks = append(acks, e.ack)
		}
	}
	rep.AckP50, rep.AckP99, rep.AckMax = percentiles(acks)

	// Drain: wait for the expected answers, then a short grace for doubles.
	drainStart := time.Now()
	dctx, cancel := context.WithTimeout(ctx, cfg.Drain)
	_, err := api.WaitDeliveries(dctx, "", rep.Acked*cfg.AnswersPerEvent)
	cancel()
	if err == nil {
		sleepCtx(ctx, min(cfg.Drain/10, time.Second))
	}
	rep.DrainTime = time.Since(drainStart)
	matchAnswers(&rep, events, users, api, cfg.AnswersPerEvent)
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}
	return rep, nil
}

// deliver sends ev to the instance first, on a transport error to the next ones in turn (as a load
// balancer retries), and, when no attempt was answered 200 and Redeliveries allow, again later as
// LINE's redelivery would. le records the last attempt.
func (c *LoadConfig) deliver(ctx context.Context, senders []*Sender, first int, ev Event, le *loadEvent) {
	wait := c.RedeliveryDelay
	for attempt := 0; ; attempt++ {
		le.via = first % len(senders)
		st, err := senders[le.via].Send(ctx, ev)
		for k := 1; err != nil && k < len(senders) && ctx.Err() == nil; k++ {
			le.failovers++ // the same event (same webhookEventId) to the next instance
			le.via = (first + k) % len(senders)
			st, err = senders[le.via].Send(ctx, ev)
		}
		le.ack = time.Since(le.sentAt)
		le.status = 0
		if err == nil {
			le.status = st
		}
		if le.status == http.StatusOK || attempt >= c.Redeliveries {
			return
		}
		sleepCtx(ctx, wait)
		if ctx.Err() != nil {
			return
		}
		wait *= 2
		ev = ev.Redelivered()
		le.redeliver++
		first++ // the next attempt may reach another instance
	}
}

// percentiles returns p50, p99 and max of ds (zeros when empty).
func percentiles(ds []time.Duration) (p50, p99, maxD time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) time.Duration { return s[int(q*float64(len(s)-1)+0.5)] }
	return at(0.50), at(0.99), s[len(s)-1]
}

// ErrLoss is returned by LoadReport.Check when answers were lost or doubled.
var ErrLoss = errors.New("linesim: lost or doubled answers")

// Check returns ErrLoss (wrapped with the counts) when any acknowledged
// event was not answered exactly AnswersPerEvent times, nil otherwise.
func (r LoadReport) Check() error {
	if r.Lost > 0 || r.Doubled > 0 || r.OutOfOrder > 0 {
		return fmt.Errorf("%w: %d lost, %d doubled, %d out of order", ErrLoss, r.Lost, r.Doubled, r.OutOfOrder)
	}
	return nil
}
