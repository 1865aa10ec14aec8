package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/store"
)

// The names a taught phrase is checked against: the LINE display name (read once, then from the
// cache), the name given when opting out in the chat; an error while LINE cannot say the name.
func TestCustomerNames(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	cs, err := consent.Open(ctx, st, consent.Options{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Record(ctx, consent.Record{ID: "ev1/0", Subject: consent.LINESubject("U1"), Action: flows.ConsentOptOut,
		Channels: flows.ChanPhone, Name: "山田 太郎", Source: flows.SourceChat, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	calls, fail := 0, false
	n := &customerNames{consents: cs, profile: func(context.Context, string) (string, error) {
		calls++
		if fail {
			return "", errors.New("LINE: 503")
		}
		return "たろう", nil
	}}
	for range 2 {
		names, err := n.of(ctx, "U1")
		if err != nil || !slices.Contains(names, "山田 太郎") || !slices.Contains(names, "たろう") {
			t.Fatalf("names: %v %v", names, err)
		}
	}
	if calls != 1 {
		t.Fatalf("LINE asked %d times for one customer", calls)
	}
	fail = true
	if _, err := n.of(ctx, "U2"); err == nil {
		t.Fatal("no error while LINE cannot say the name")
	}
}
