package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/insight"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/flows/nlu"
	"github.com/enemane/privacybot/store"
)

// desk insight: the classifier in service (retrained when staff teach), the recorder of questions and
// feedback (an effect sink), and the review inbox behind the console.
type deskInsight struct {
	classifier *insight.Classifier
	recorder   *insight.Recorder
	inbox      *insight.Inbox
}

// wireInsight trains the model with the phrases staff taught so far and builds the review inbox.
// A store that cannot give the taught phrases leaves the base model in service (logged); the next
// sync tries again.
func wireInsight(st *store.Store, base *nlu.Model, line *bot.LINE, requests *request.Service, consents *consent.Consents, log *slog.Logger) *deskInsight {
	c := insight.NewClassifier(base, st, log)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Sync(ctx); err != nil {
		log.Warn("taught phrases not read at start; serving the model without them", "err", err)
	}
	names := &customerNames{profile: line.ProfileName, requests: requests, consents: consents}
	return &deskInsight{
		classifier: c,
		recorder:   &insight.Recorder{Questions: st, Review: st},
		inbox:      &insight.Inbox{Store: st, Classifier: c, Names: names.of, Now: time.Now},
	}
}

// classify adapts the classifier in service to the pipeline.
func (d *deskInsight) classify(text string) flows.Intent {
	r := d.classifier.Classify(text)
	return flows.Intent{Name: r.Intent, Confidence: r.Confidence, Topic: r.Topic, Also: r.Also,
		Guess: r.Guess, GuessConf: r.GuessConf}
}

// customerNames are the names a customer is known by, which a taught phrase must not hold: their LINE
// display name (read from LINE, kept 10 minutes: the review page proposes a phrase for every group),
// the names on their requests and the names they gave when they opted out in the chat.
type customerNames struct {
	profile  func(ctx context.Context, userID string) (string, error)
	requests *request.Service
	consents *consent.Consents

	mu    sync.Mutex
	cache map[string]cachedName
}

type cachedName struct {
	name string
	at   time.Time
}

// nameTTL is how long a display name read from LINE is used.
const nameTTL = 10 * time.Minute

// of implements insight.Inbox.Names: an error when LINE cannot tell the display name now.
func (n *customerNames) of(ctx context.Context, user string) ([]string, error) {
	var out []string
	if n.requests != nil {
		for _, r := range n.requests.ForUser(user) {
			out = append(out, r.Name, r.RepName)
		}
	}
	if n.consents != nil {
		for _, r := range n.consents.History(consent.LINESubject(user)) {
			out = append(out, r.Name)
		}
	}
	n.mu.Lock()
	c, ok := n.cache[user]
	n.mu.Unlock()
	if !ok || time.Since(c.at) > nameTTL {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		name, err := n.profile(pctx, user)
		cancel()
		if err != nil {
			return out, err
		}
		c = cachedName{name: name, at: time.Now()}
		n.mu.Lock()
		if n.cache == nil || len(n.cache) > 10000 {
			n.cache = map[string]cachedName{}
		}
		n.cache[user] = c
		n.mu.Unlock()
	}
	return append(out, c.name), nil
}
