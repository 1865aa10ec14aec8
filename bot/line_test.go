package bot

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseWebhook(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	body := `{"destination":"Ubot","events":[
	{"type":"message","mode":"active","timestamp":1764151200000,"webhookEventId":"01A","replyToken":"rt1",
	 "deliveryContext":{"isRedelivery":true},"source":{"type":"user","userId":"U1"},
	 "message":{"id":"m1","type":"text","text":"個人情報‮を😊","quoteToken":"q","markAsReadToken":"mr1"}},
	{"type":"postback","mode":"active","timestamp":1764151200001,"webhookEventId":"01B","replyToken":"rt2",
	 "deliveryContext":{"isRedelivery":false},"source":{"type":"user","userId":"U1"},"postback":{"data":"do=faq&topic=5.id"}},
	{"type":"follow","mode":"active","timestamp":1764151200002,"webhookEventId":"01C","replyToken":"rt3",
	 "deliveryContext":{"isRedelivery":false},"source":{"type":"user","userId":"U2"},"follow":{"isUnblocked":true}},
	{"type":"unfollow","mode":"active","timestamp":1764151200003,"webhookEventId":"01D",
	 "deliveryContext":{"isRedelivery":false},"source":{"type":"user","userId":"U2"}},
	{"type":"message","mode":"standby","timestamp":1764151200004,"webhookEventId":"01E",
	 "deliveryContext":{"isRedelivery":false},"source":{"type":"user","userId":"U3"},
	 "message":{"id":"m2","type":"sticker","packageId":"1","stickerId":"2","stickerResourceType":"STATIC","quoteToken":"q"}},
	{"type":"somethingNew","mode":"active","timestamp":1764151200005,"webhookEventId":"01F",
	 "deliveryContext":{"isRedelivery":false},"source":{"type":"user","userId":"U3"},"payload":{"x":1}},
	{"type":"message","mode":"active","timestamp":1764151200006,"webhookEventId":"01G","replyToken":"rt4",
	 "deliveryContext":{"isRedelivery":false},"source":{"type":"group","groupId":"C1","userId":"U4"},
	 "message":{"id":"m3","type":"text","text":"hi","quoteToken":"q"}}
	]}`
	evs, err := ParseWebhook([]byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 7 {
		t.Fatalf("%d events", len(evs))
	}
	want := []struct {
		id, user   string
		kind       EventKind
		answerable bool
	}{
		{"01A", "U1", EventMessage, true},
		{"01B", "U1", EventPostback, true},
		{"01C", "U2", EventFollow, true},
		{"01D", "U2", EventUnfollow, true},
		{"01E", "U3", EventMessage, false}, // standby
		{"01F", "U3", EventOther, false},   // unknown type
		{"01G", "", EventMessage, false},   // group chat
	}
	for i, w := range want {
		e := evs[i]
		if id, _, _ := strings.Cut(e.ID, "."); id != w.id || e.UserID != w.user || e.Kind != w.kind || e.Answerable() != w.answerable {
			t.Errorf("event %d = %+v, want %+v", i, e, w)
		}
	}
	a := evs[0]
	if a.Text != "個人情報‮を😊" || a.ReplyToken != "rt1" || a.MarkAsReadToken != "mr1" || !a.Redelivery ||
		a.Timestamp != time.UnixMilli(1764151200000).UTC() || a.ReceivedAt != now {
		t.Errorf("text event = %+v", a)
	}
	if evs[1].Postback != "do=faq&topic=5.id" || !evs[2].Unblocked || evs[4].MessageType != "sticker" || !evs[4].Standby {
		t.Errorf("details lost: %+v %+v %+v", evs[1], evs[2], evs[4])
	}
}

func TestParseWebhookRejectsMalformed(t *testing.T) {
	for _, body := range []string{``, `{`, `[]`, `{"destination":"U"}`, `{"events":[{"type":""}]}`, `{"events":[1]}`, `{"events":{}}`} {
		if _, err := ParseWebhook([]byte(body), time.Now()); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err = %v, want ErrMalformed", body, err)
		}
	}
	evs, err := ParseWebhook([]byte(`{"destination":"U","events":[]}`), time.Now())
	if err != nil || len(evs) != 0 {
		t.Fatalf("verification body: %v %v", evs, err)
	}
}

func TestEventIDIsTiedToItsCustomer(t *testing.T) {
	body := func(user string) []byte {
		return []byte(`{"events":[{"type":"message","mode":"active","timestamp":1,"webhookEventId":"01SAME","source":{"type":"user","userId":"` +
			user + `"},"message":{"id":"1","type":"text","text":"x","quoteToken":"q"}}]}`)
	}
	a, _ := ParseWebhook(body("U1"), time.Now())
	again, _ := ParseWebhook(body("U1"), time.Now())
	b, _ := ParseWebhook(body("U2"), time.Now())
	if a[0].ID != again[0].ID || a[0].ID == b[0].ID || !strings.HasPrefix(a[0].ID, "01SAME.") || strings.Contains(a[0].ID, "U1") {
		t.Fatalf("ids %q %q %q: want stable per customer, different across customers, no user ID inside", a[0].ID, again[0].ID, b[0].ID)
	}
}

func TestEventWithoutIDGetsStableID(t *testing.T) {
	body := []byte(`{"events":[{"type":"message","mode":"active","timestamp":1,"source":{"type":"user","userId":"U1"},"message":{"id":"1","type":"text","text":"x","quoteToken":"q"}}]}`)
	a, _ := ParseWebhook(body, time.Now())
	b, _ := ParseWebhook(body, time.Now())
	if a[0].ID == "" || a[0].ID != b[0].ID {
		t.Fatalf("ids %q %q", a[0].ID, b[0].ID)
	}
}
