package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/linesim"
)

// storeAll is an inbox that takes every event; placeNothing, a processor of several instances that can
// neither take the customer's lease nor tell its holder.
type storeAll struct{ stored int }

func (s *storeAll) AddToInbox(_ context.Context, evs []bot.Event) ([]bot.Event, error) {
	s.stored += len(evs)
	return evs, nil
}

type placeNothing struct{}

func (placeNothing) Enqueue([]bot.Event) error { return bot.ErrNotPlaced }

// Stored but not placed: not acknowledged (503, Retry-After), so LINE redelivers rather than let the
// customer's next event overtake this one.
func TestEventsStoredButNotPlacedAre503(t *testing.T) {
	inbox := &storeAll{}
	srv := httptest.NewServer(handlers.NewRouter(quietLog(), handlers.Routes{
		Callback: &handlers.Callback{Secret: testSecret, Inbox: inbox, Dispatch: placeNothing{}, Log: quietLog(), Now: time.Now},
	}))
	defer srv.Close()
	sender := &linesim.Sender{ChannelSecret: testSecret, Destination: "Ubot"}
	body, err := linesim.MarshalBody("Ubot", sender.TextEvent("Uplace", "こんにちは"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/callback", bytes.NewReader(body))
	req.Header.Set("X-Line-Signature", linesim.Sign(testSecret, body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got struct {
		Code string `json:"error"`
	}
	_ = json.NewDecoder(res.Body).Decode(&got)
	if res.StatusCode != http.StatusServiceUnavailable || got.Code != "not_placed" || res.Header.Get("Retry-After") == "" || inbox.stored != 1 {
		t.Fatalf("status %d, code %q, Retry-After %q, stored %d: want 503 not_placed with Retry-After, the event stored",
			res.StatusCode, got.Code, res.Header.Get("Retry-After"), inbox.stored)
	}
}
