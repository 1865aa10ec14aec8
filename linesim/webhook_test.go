package linesim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

const testSecret = "test-channel-secret"

// parsingBot is a bot stub that parses webhooks with the SDK.
type parsingBot struct {
	got chan *webhook.CallbackRequest
}

func (b *parsingBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cb, err := webhook.ParseRequest(testSecret, r)
	if errors.Is(err, webhook.ErrInvalidSignature) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	b.got <- cb
}

func TestEventsParseWithSDK(t *testing.T) {
	a, _, _ := newTestAPI(t, APIOptions{})
	bot := &parsingBot{got: make(chan *webhook.CallbackRequest, 4)}
	bsrv := httptest.NewServer(bot)
	defer bsrv.Close()
	s := &Sender{BotURL: bsrv.URL, ChannelSecret: testSecret, Destination: "Ubot", API: a}
	ctx := context.Background()

	text := s.TextEvent("U1", "こんにちは")
	img := s.ImageEvent("U1", []byte("\x89PNG\r\n\x1a\nrest"))
	events := []Event{
		text,
		s.PostbackEvent("U1", "action=optout"),
		s.FollowEvent("U1", true),
		s.UnfollowEvent("U1"),
		img,
		s.UnknownEvent("U1", "futureThing"),
		s.TextEvent("U1", "standby").Standby(),
		text.Redelivered(),
		RawEvent(json.RawMessage(`{"type":"weird","mode":"active","timestamp":1,"webhookEventId":"X","deliveryContext":{"isRedelivery":false}}`)),
	}
	st, err := s.Send(ctx, events...)
	if err != nil || st != 200 {
		t.Fatalf("send: %d %v", st, err)
	}
	cb := <-bot.got
	if cb.Destination != "Ubot" || len(cb.Events) != len(events) {
		t.Fatalf("callback: %+v", cb)
	}
	me, ok := cb.Events[0].(webhook.MessageEvent)
	if !ok {
		t.Fatalf("event 0 is %T", cb.Events[0])
	}
	tm, ok := me.Message.(webhook.TextMessageContent)
	if !ok || tm.Text != "こんにちは" || tm.MarkAsReadToken == "" || tm.QuoteToken == "" || tm.Id == "" {
		t.Fatalf("text content %T %+v", me.Message, me.Message)
	}
	if src, ok := me.Source.(webhook.UserSource); !ok || src.UserId != "U1" {
		t.Errorf("source %T %+v", me.Source, me.Source)
	}
	if me.Mode != webhook.EventMode_ACTIVE || me.ReplyToken != text.ReplyToken || me.DeliveryContext.IsRedelivery {
		t.Errorf("message event %+v", me)
	}
	if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`).MatchString(me.WebhookEventId) {
		t.Errorf("webhookEventId %q", me.WebhookEventId)
	}
	if pe, ok := cb.Events[1].(webhook.PostbackEvent); !ok || pe.Postback.Data != "action=optout" || pe.ReplyToken == "" {
		t.Errorf("postback %T %+v", cb.Events[1], cb.Events[1])
	}
	if fe, ok := cb.Events[2].(webhook.FollowEvent); !ok || !fe.Follow.IsUnblocked {
		t.Errorf("follow %T", cb.Events[2])
	}
	if ue, ok := cb.Events[3].(webhook.UnfollowEvent); !ok || ue.Source == nil {
		t.Errorf("unfollow %T", cb.Events[3])
	}
	if !a.Blocked("U1") {
		t.Error("UnfollowEvent must block the user in the API")
	}
	ie, _ := cb.Events[4].(webhook.MessageEvent)
	if ic, ok := ie.Message.(webhook.ImageMessageContent); !ok || ic.ContentProvider.Type != webhook.ContentProviderTYPE_LINE {
		t.Errorf("image %T", ie.Message)
	}
	if u, ok := cb.Events[5].(webhook.UnknownEvent); !ok || u.Type != "futureThing" {
		t.Errorf("unknown %T", cb.Events[5])
	}
	if sb, ok := cb.Events[6].(webhook.MessageEvent); !ok || sb.Mode != webhook.EventMode_STANDBY || sb.ReplyToken != "" {
		t.Errorf("standby %+v", cb.Events[6])
	}
	if rd, ok := cb.Events[7].(webhook.MessageEvent); !ok || !rd.DeliveryContext.IsRedelivery || rd.WebhookEventId != me.WebhookEventId {
		t.Errorf("redelivery %+v", cb.Events[7])
	}
	if u, ok := cb.Events[8].(webhook.UnknownEvent); !ok || u.Type != "weird" {
		t.Errorf("raw %T", cb.Events[8])
	}

	// Verification ping, bad and missing signature.
	if st, _ := s.Send(ctx); st != 200 {
		t.Errorf("verification: %d", st)
	}
	if cb := <-bot.got; cb.Events == nil || len(cb.Events) != 0 {
		t.Errorf("verification events %+v", cb.Events)
	}
	body, _ := MarshalBody("Ubot", s.TextEvent("U1", "x"))
	for _, sig := range []string{"", Sign("other", body), "!!"} {
		if st, _ := s.SendRaw(ctx, body, sig); st != 400 {
			t.Errorf("signature %q: %d", sig, st)
		}
	}
}

func TestSignMatchesSDK(t *testing.T) {
	body := []byte(`{"destination":"U","events":[]}`)
	if !webhook.ValidateSignature(testSecret, Sign(testSecret, body), body) {
		t.Fatal("signature rejected by SDK")
	}
}

func TestIDsUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		for _, id := range []string{NewWebhookEventID(newClock().Now()), NewMessageID(), NewUserID()} {
			if seen[id] {
				t.Fatalf("duplicate %s", id)
			}
			seen[id] = true
		}
	}
}

// TestReplyFromParsedEvent closes the loop: event in, SDK calls out.
func TestReplyFromParsedEvent(t *testing.T) {
	a, srv, _ := newTestAPI(t, APIOptions{})
	c := sdkClient(t, srv.URL)
	s := &Sender{API: a}
	raw, _ := MarshalBody("Ubot", s.TextEvent("U9", "hello"))
	var cb webhook.CallbackRequest
	if err := json.Unmarshal(raw, &cb); err != nil {
		t.Fatal(err)
	}
	me := cb.Events[0].(webhook.MessageEvent)
	tm := me.Message.(webhook.TextMessageContent)
	if _, err := c.ReplyMessage(&messaging_api.ReplyMessageRequest{ReplyToken: me.ReplyToken}); err == nil {
		t.Fatal("empty messages must be refused")
	}
	if _, err := c.ReplyMessage(&messaging_api.ReplyMessageRequest{ReplyToken: me.ReplyToken,
		Messages: []messaging_api.MessageInterface{messaging_api.TextMessage{Text: "echo: " + tm.Text}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.MarkMessagesAsReadByToken(&messaging_api.MarkMessagesAsReadByTokenRequest{MarkAsReadToken: tm.MarkAsReadToken}); err != nil {
		t.Fatal(err)
	}
	if m := a.ReadMarks("U9"); len(m) != 1 || m[0].MessageID != tm.Id {
		t.Errorf("read marks %+v", m)
	}
	if d := a.Deliveries("U9"); len(d) != 1 {
		t.Errorf("deliveries %+v", d)
	}
}
