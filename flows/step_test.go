package flows

import (
	"slices"
	"testing"
)

func ids(rs []Reply) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func text(s string, intent string) Input {
	return Input{Kind: InputText, Text: s, Intent: Intent{Name: intent, Confidence: 0.9}}
}

func TestStepTable(t *testing.T) {
	cases := []struct {
		name      string
		state     State
		in        Input
		wantFirst string // ID of the first reply
		wantLang  Lang
		wantMiss  int
	}{
		{"follow greets", State{}, Input{Kind: InputFollow}, msgGreeting, "", 0},
		{"unblock welcomes back", State{Misses: 1}, Input{Kind: InputFollow, Unblocked: true}, msgWelcomeBack, "", 0},
		{"menu intent", State{Misses: 1}, text("何ができますか", "menu"), msgMenu, "", 0},
		{"faq intent cites the item", State{}, text("保存期間は？", "faq.13"), "", "", 0},
		{"english switch by text", State{}, text("English", "none"), msgLangSwitched, En, 0},
		{"japanese switch by full-width text", State{Lang: En}, text("ＪＡＰＡＮＥＳＥ", "none"), msgLangSwitched, Ja, 0},
		{"language switch by postback", State{}, Input{Kind: InputPostback, Postback: "do=lang&l=en"}, msgLangSwitched, En, 0},
		{"first miss is honest", State{}, text("今日の天気は", "none"), msgCannotAnswer, "", 1},
		{"sticker", State{}, Input{Kind: InputMedia}, msgMediaUnanswered, "", 0},
		{"unknown postback shows the menu", State{}, Input{Kind: InputPostback, Postback: "do=nothing"}, msgMenu, "", 0},
		{"garbage postback shows the menu", State{}, Input{Kind: InputPostback, Postback: "%zz;;"}, msgMenu, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := Step(c.state, c.in)
			if len(res.Replies) == 0 {
				t.Fatal("no reply")
			}
			if c.wantFirst != "" && res.Replies[0].ID != c.wantFirst {
				t.Fatalf("first reply %q, want %q (all %v)", res.Replies[0].ID, c.wantFirst, ids(res.Replies))
			}
			if res.State.Lang != c.wantLang {
				t.Fatalf("lang %q, want %q", res.State.Lang, c.wantLang)
			}
			if res.State.Misses != c.wantMiss {
				t.Fatalf("misses %d, want %d", res.State.Misses, c.wantMiss)
			}
			if len(res.Replies) > 5 {
				t.Fatalf("%d replies; LINE takes five", len(res.Replies))
			}
		})
	}
}

func TestFAQAnswerAndRelatedTap(t *testing.T) {
	res := Step(State{}, text("保存期間は？", "faq.13"))
	if len(res.Replies) != 1 || len(res.Replies[0].Choices) == 0 {
		t.Fatalf("faq answer = %+v", res.Replies)
	}
	tap := res.Replies[0].Choices[0]
	next := Step(res.State, Input{Kind: InputPostback, Postback: tap.Postback})
	if len(next.Replies) != 1 || next.Replies[0].ID == msgMenu {
		t.Fatalf("related topic tap answered %v", ids(next.Replies))
	}
}

func TestSecondMissOffersAWayOut(t *testing.T) {
	first := Step(State{}, text("映画のおすすめは", "none"))
	second := Step(first.State, text("株価は", "none"))
	if second.State.Misses != 2 {
		t.Fatalf("misses = %d", second.State.Misses)
	}
	if second.Replies[0].ID == first.Replies[0].ID {
		t.Fatal("second miss answered like the first; it must offer more help")
	}
	// Any answered question resets the count.
	if r := Step(second.State, text("保存期間は？", "faq.13")); r.State.Misses != 0 {
		t.Fatal("an answered question did not reset the misses")
	}
}

func TestMenuOffersTopicsAndTheOtherLanguage(t *testing.T) {
	for _, c := range []struct {
		lang  Lang
		label string
	}{{Ja, lblEnglish}, {En, lblJapanese}} {
		m := mainMenu(State{Lang: c.lang})
		labels := []string{}
		for _, ch := range m.Choices {
			labels = append(labels, ch.LabelID)
		}
		if !slices.Contains(labels, lblTopics) || !slices.Contains(labels, c.label) {
			t.Fatalf("%s menu choices %v", c.lang, labels)
		}
	}
}

func TestParseLang(t *testing.T) {
	for tag, want := range map[string]Lang{"ja": Ja, "en": En, "en-US": En, "EN": En, "": Ja, "zh-TW": Ja, "e": Ja} {
		if got := ParseLang(tag); got != want {
			t.Errorf("ParseLang(%q) = %q, want %q", tag, got, want)
		}
	}
}

// A customer whose LINE profile is English and who never chose a language in the chat is offered
// Japanese, not English; the state still records no choice.
func TestMenuOffersTheOtherLanguageOfTheProfile(t *testing.T) {
	res := Step(State{}, Input{Kind: InputPostback, Postback: act(ActMenu), Lang: En})
	chips := res.Replies[len(res.Replies)-1].Choices
	if last := chips[len(chips)-1]; last.LabelID != lblJapanese {
		t.Errorf("last chip = %s, want %s", last.LabelID, lblJapanese)
	}
	if res.State.Lang != "" {
		t.Errorf("state language = %q, want none chosen", res.State.Lang)
	}
	res = Step(State{}, Input{Kind: InputPostback, Postback: act(ActMenu), Lang: Ja})
	chips = res.Replies[len(res.Replies)-1].Choices
	if last := chips[len(chips)-1]; last.LabelID != lblEnglish {
		t.Errorf("Japanese profile: last chip = %s", last.LabelID)
	}
}
