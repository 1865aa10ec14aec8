package outbox_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/outbox/outboxtest"
)

// TestCountsPerDestination: what the metrics read — pending now (and since when), and the outcomes
// since the outbox opened — per destination, without listing the deliveries.
func TestCountsPerDestination(t *testing.T) {
	ok, refuse, down := newReceiver(t, status(http.StatusOK)), newReceiver(t, status(http.StatusBadRequest)),
		newReceiver(t, status(http.StatusServiceUnavailable))
	clk := outboxtest.NewClock(t0)
	ob := start(t, outbox.Config{Store: outboxtest.NewStore(), Clock: clk, Destinations: map[string]outbox.Destination{
		"ok": ok.webhook(), "refuse": refuse.webhook(), "down": down.webhook()}})
	for _, m := range []outbox.Message{msg("ok", "a"), msg("ok", "b"), msg("refuse", "a"), msg("down", "a")} {
		if err := ob.Enqueue(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]outbox.Counts{
		"ok":     {Delivered: 2},
		"refuse": {Failed: 1},
		"down":   {Pending: 1, OldestPending: t0, Retried: 1},
	}
	waitFor(t, "the outcomes counted", func() bool {
		got := ob.Counts()
		for name, w := range want {
			g := got[name]
			if g.Pending != w.Pending || !g.OldestPending.Equal(w.OldestPending) || g.Delivered != w.Delivered ||
				g.Failed != w.Failed || g.Retried != w.Retried {
				return false
			}
		}
		return len(got) == len(want)
	})
}
