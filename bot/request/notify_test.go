package request_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/bot/request/requesttest"
	"github.com/enemane/privacybot/flows"
)

// groupLINE records the staff group's pushes.
type groupLINE struct{ texts []string }

func (g *groupLINE) Push(_ context.Context, _, _ string, msgs []bot.Message) bot.CallResult {
	for _, m := range msgs {
		g.texts = append(g.texts, m.Text)
	}
	return bot.CallResult{Outcome: bot.Accepted, Status: 200}
}

func (g *groupLINE) MarkAsRead(context.Context, string) error { return nil }

// A new request and the daily digest reach the staff LINE group in Japanese, without personal data.
func TestStaffGroupGetsRequestAlertsAndTheDigest(t *testing.T) {
	d := requesttest.NewDesk(t, request.Config{AlertTo: []string{bot.StaffLINEDestination}})
	r := d.Submit(t, "U1", flows.RequestSubmission{Kinds: flows.KindDisclosure | flows.KindErasure})
	d.Clock.Add(13 * 24 * time.Hour) // due tomorrow
	dg, ok := d.DigestFor(d.Clock.Now())
	if !ok || len(dg.Due) != 1 {
		t.Fatalf("digest = %+v", dg)
	}
	digest, _ := json.Marshal(dg)
	rend, err := bot.NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	line := &groupLINE{}
	g := &bot.GroupAlerter{LINE: line, GroupID: "Cstaff", Renderer: rend, Formats: request.GroupFormats()}
	var alert outbox.Message
	for _, m := range d.Outbox.Messages() {
		if m.Type == request.AlertType {
			alert = m
		}
	}
	for _, m := range []outbox.Message{alert, {Type: request.DigestType, Key: "digest", Payload: digest}} {
		if res := g.Deliver(context.Background(), outbox.Delivery{Message: m}); res.Err != nil {
			t.Fatalf("%s: %v", m.Type, res.Err)
		}
	}
	if len(line.texts) != 2 {
		t.Fatalf("pushes = %q", line.texts)
	}
	for _, want := range []string{r.ID, "開示等の請求", "開示、消去", "ご本人", "/console/requests/" + r.ID} {
		if !strings.Contains(line.texts[0], want) {
			t.Errorf("alert %q lacks %q", line.texts[0], want)
		}
	}
	if strings.Contains(line.texts[0], "山田") {
		t.Errorf("the alert names the customer: %q", line.texts[0])
	}
	for _, want := range []string{"2日以内に期限：1件", r.ID, "受付"} {
		if !strings.Contains(line.texts[1], want) {
			t.Errorf("digest %q lacks %q", line.texts[1], want)
		}
	}
}
