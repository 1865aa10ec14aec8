package bot

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/enemane/privacybot/flows"
)

func TestRenderInBothLanguages(t *testing.T) {
	r, err := NewRenderer(map[string]string{"PolicyURL": "https://example.invalid/p"})
	if err != nil {
		t.Fatal(err)
	}
	res := flows.Step(flows.State{}, flows.Input{Kind: flows.InputFollow})
	for _, lang := range []flows.Lang{flows.Ja, flows.En} {
		msgs, err := r.Render(lang, res.Replies)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != len(res.Replies) || msgs[0].Text == "" || len(msgs[len(msgs)-1].QuickReplies) == 0 {
			t.Fatalf("%s: %+v", lang, msgs)
		}
		for _, m := range msgs {
			for _, q := range m.QuickReplies {
				if n := utf8.RuneCountInString(q.Label); n == 0 || n > maxLabelRunes {
					t.Errorf("%s: label %q has %d runes", lang, q.Label, n)
				}
			}
		}
	}
}

func TestRenderRefusesUnknownIDsAndTooManyMessages(t *testing.T) {
	r, err := NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Render(flows.Ja, []flows.Reply{{ID: "no.such.message"}}); err == nil {
		t.Fatal("unknown message ID rendered")
	}
	six := make([]flows.Reply, 6)
	for i := range six {
		six[i] = flows.Reply{ID: "error.generic"}
	}
	if _, err := r.Render(flows.Ja, six); err == nil {
		t.Fatal("six messages rendered; LINE takes five")
	}
}

func TestTruncate(t *testing.T) {
	s := strings.Repeat("あ", 30)
	got := truncate(s, 20)
	if utf8.RuneCountInString(got) != 20 || !strings.HasSuffix(got, "…") {
		t.Fatalf("truncate = %q", got)
	}
	if truncate("short", 20) != "short" {
		t.Fatal("short string changed")
	}
}
