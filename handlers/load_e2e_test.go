package handlers_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/linesim"
)

// TestLoadToolAgainstRealBot runs the load tool for a few seconds at a small rate against the real
// pipeline (router, inbox on the embedded engine, processor, sender), with the bot's Messaging API
// pointed at the load tool's own fake API. It asserts that nothing is lost, doubled or refused, never
// how fast: the figures are logged for information only.
func TestLoadToolAgainstRealBot(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	apiURL := "http://" + ln.Addr().String()
	h := newHarness(t, harnessOpts{procTweak: func(c *bot.Config) {
		c.Messenger = bot.NewLINE(testToken, apiURL, nil)
	}})

	const (
		rate     = 50
		users    = 20
		duration = 3 * time.Second
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := linesim.RunLoad(ctx, linesim.LoadConfig{
		BotURL: h.bot.URL + "/callback", Secret: testSecret, Token: testToken, Listener: ln,
		Rate: rate, Users: users, Duration: duration,
		Drain: 60 * time.Second, // generous: it ends as soon as every answer is in
	})
	if err != nil {
		t.Fatalf("load run: %v", err)
	}
	t.Logf("load report (figures for information, not asserted):\n%s", rep.Table())

	want := int(rate * duration.Seconds())
	if rep.Events != want {
		t.Errorf("%d events sent, want %d", rep.Events, want)
	}
	if rep.Non200 != 0 || rep.Errors != 0 || rep.Acked != rep.Events {
		t.Errorf("webhook: %d acked of %d, %d non-200 %v, %d transport errors", rep.Acked, rep.Events, rep.Non200, rep.Statuses, rep.Errors)
	}
	if err := rep.Check(); err != nil {
		t.Errorf("%v", err)
	}
	if rep.Answered != rep.Events {
		t.Errorf("%d of %d events answered", rep.Answered, rep.Events)
	}
	if rep.RateLimited != 0 {
		t.Errorf("the fake API (no rate limits configured) answered %d 429s", rep.RateLimited)
	}
	// Nothing was left for the harness's own fake API: every answer went where LINE_API_BASE_URL pointed.
	if n := len(h.api.Deliveries("")); n != 0 {
		t.Errorf("%d answers went to the wrong API", n)
	}
}
