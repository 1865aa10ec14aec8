package handlers_test

import (
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// A customer who opted out of phone calls asks for 消去; staff complete it. Afterwards nothing of
// their chat is in any collection (the transcript, state, steps, deliveries, the escalation's text),
// while the request record and the suppression stay.
func TestErasureLeavesNothingOfTheChatButKeepsTheSuppression(t *testing.T) {
	rb := requestHarness(t)
	h, svc, cons := rb.harness, rb.svc, rb.cons
	user := "U" + strings.Repeat("ea", 16)
	c := &chat{h: h, user: user}
	const marker = "ERASE-ME-MARKER"
	c.say("こんにちは "+marker, 1)
	c.say("電話の営業をやめてほしい", 1)
	c.tap("選択完了", 1)
	c.say("山田 花子", 1)
	c.say("090-1111-2222", 1)
	c.tap("スキップ", 1)
	c.tap("スキップ", 1)
	c.tap("この内容で確定", 1)
	if m := cons.Match("+819011112222", ""); len(m) != 1 || !m[0].OptedOut().Has(flows.ChanPhone) {
		t.Fatalf("opt-out not recorded: %+v", m)
	}

	c.say("個人情報を消去してほしい", 1)
	c.tap("選択完了", 1)
	c.say("お問い合わせの記録すべて "+marker, 1) // which data (kept in the request record)
	c.tap("必要がなくなった", 1)
	c.tap("ご本人", 1)
	c.say("山田 花子", 1)
	c.say("岡山県岡山市北区今2-6-10", 1)
	c.say("090-1111-2222", 1)
	c.tap("郵送で送る", 1) // the summary
	ref := refRe.FindString(c.tap("この内容で申請", 2))
	if ref == "" {
		t.Fatal("no reference")
	}
	staff := request.Actor{Kind: request.ActorStaff, ID: "privacy@example.jp", Name: "佐藤"}
	ctx := context.Background()
	for _, to := range []flows.RequestStatus{flows.StatusVerified, flows.StatusInProgress} {
		if _, err := svc.Transition(ctx, ref, request.Transition{To: to, Actor: staff}); err != nil {
			t.Fatal(err)
		}
	}
	c.wait(2)
	if _, err := svc.Transition(ctx, ref, request.Transition{To: flows.StatusCompleted, Outcome: "お客様の記録をすべて消去しました。",
		Actor: staff}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.wait(1), "\n"); !strings.Contains(got, "消去しました") {
		t.Fatalf("completion notice: %q", got)
	}
	waitFor(t, "the erasure to be recorded", func() bool {
		r, _ := svc.Get(ref)
		return r.Erasure != nil
	})
	h.settle()
	h.stop() // the last checkpoint is written

	client, err := mongo.Connect(options.Client().ApplyURI(engineURI))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	db := client.Database(h.st.Database())
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]int{}
	for _, name := range names {
		cur, err := db.Collection(name).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.Raw
		if err := cur.All(ctx, &docs); err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			s := d.String()
			if strings.Contains(s, marker) && name != "requests" { // the request itself is kept, as the law needs
				t.Errorf("%s still holds the customer's words: %.200s", name, s)
			}
			if strings.Contains(s, user) {
				kept[name]++
			}
		}
	}
	for name := range kept {
		switch {
		case name == "requests", name == "consent_history", name == "counters", strings.HasPrefix(name, "inbox_"),
			name == "deliveries", name == "audit", name == "outbox", strings.HasPrefix(name, "conversations"):
		default:
			t.Errorf("%s still names the customer (%d documents)", name, kept[name])
		}
	}
	// The suppression stays.
	if m := cons.Match("+819011112222", ""); len(m) != 1 || !m[0].OptedOut().Has(flows.ChanPhone) {
		t.Errorf("the opt-out was lost: %+v", m)
	}
	if kept["requests"] == 0 || kept["consent_history"] == 0 {
		t.Errorf("the request record or the consent history went: %v", kept)
	}
}
