package linesim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/enemane/privacybot/linesim"
	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

// A bot answering every text by reply, tested end to end against the simulator.
func Example() {
	api := linesim.NewAPI(linesim.APIOptions{AccessToken: "token"})
	apiSrv := httptest.NewServer(api)
	defer apiSrv.Close()
	client, _ := messaging_api.NewMessagingApiAPI("token", messaging_api.WithEndpoint(apiSrv.URL))

	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb, err := webhook.ParseRequest("secret", r)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		for _, ev := range cb.Events {
			if me, ok := ev.(webhook.MessageEvent); ok {
				_, _ = client.ReplyMessage(&messaging_api.ReplyMessageRequest{ReplyToken: me.ReplyToken,
					Messages: []messaging_api.MessageInterface{messaging_api.TextMessage{Text: "メニュー"}}})
			}
		}
	}))
	defer bot.Close()

	s := &linesim.Sender{BotURL: bot.URL, ChannelSecret: "secret", Destination: linesim.NewBotUserID(), API: api}
	user := linesim.NewUserID()
	status, _ := s.Send(context.Background(), s.TextEvent(user, "こんにちは"))
	got, _ := api.WaitDeliveries(context.Background(), user, 1)
	fmt.Println(status, got[0].Via, string(got[0].Messages[0]))
	// Output: 200 reply {"type":"text","text":"メニュー"}
}
