package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/enemane/privacybot/bot"
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
func wireInsight(st *store.Store, base *nlu.Model, line *bot.LINE, requests *request.Service, log *slog.Logger) *deskInsight {
	c := insight.NewClassifier(base, st, log)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Sync(ctx); err != nil {
		log.Warn("taught phrases not read at start; serving the model without them", "err", err)
	}
	names := func(ctx context.Context, user string) []string {
		var out []string
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if n, err := line.ProfileName(pctx, user); err == nil && n != "" {
			out = append(out, n)
		}
		for _, r := range requests.ForUser(user) {
			out = append(out, r.Name, r.RepName)
		}
		return out
	}
	return &deskInsight{
		classifier: c,
		recorder:   &insight.Recorder{Questions: st, Review: st},
		inbox:      &insight.Inbox{Store: st, Classifier: c, Names: names, Now: time.Now},
	}
}

// classify adapts the classifier in service to the pipeline.
func (d *deskInsight) classify(text string) flows.Intent {
	r := d.classifier.Classify(text)
	return flows.Intent{Name: r.Intent, Confidence: r.Confidence, Topic: r.Topic, Also: r.Also,
		Guess: r.Guess, GuessConf: r.GuessConf}
}
