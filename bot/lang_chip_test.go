package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enemane/privacybot/flows"
)

// profileMessenger is memMessenger with a LINE profile language per customer, and lookups that fail
// for the customers in fail.
type profileMessenger struct {
	*memMessenger
	pmu   sync.Mutex
	langs map[string]string
	fail  map[string]bool
}

func (m *profileMessenger) ProfileLanguage(_ context.Context, user string) (string, error) {
	m.pmu.Lock()
	defer m.pmu.Unlock()
	if m.fail[user] {
		return "", errors.New("profile lookup: 503")
	}
	return m.langs[user], nil
}

func (m *profileMessenger) set(user, lang string, fail bool) {
	m.pmu.Lock()
	defer m.pmu.Unlock()
	m.langs[user], m.fail[user] = lang, fail
}

// langChat is a pipeline whose customers have profile languages; each event is answered before the
// next is sent.
type langChat struct {
	t   *testing.T
	f   *procFixture
	m   *profileMessenger
	seq int
	// skew is added to the real time for the processor's clock (advance moves it).
	skew atomic.Int64
}

// advance moves the processor's clock forward by d.
func (c *langChat) advance(d time.Duration) { c.skew.Add(int64(d)) }

func newLangChat(t *testing.T) *langChat {
	c := &langChat{t: t}
	c.f = newProcFixture(t, func(cfg *Config) {
		c.m = &profileMessenger{memMessenger: cfg.Messenger.(*memMessenger), langs: map[string]string{}, fail: map[string]bool{}}
		cfg.Messenger = c.m
		cfg.Now = func() time.Time { return time.Now().Add(time.Duration(c.skew.Load())) }
		cfg.Classify = func(text string) flows.Intent {
			switch text {
			case "メニュー", "menu":
				return flows.Intent{Name: "menu", Confidence: 0.9}
			case "苦情です":
				return flows.Intent{Name: "complaint", Confidence: 0.9}
			}
			return flows.Intent{Name: "none"}
		}
	})
	return c
}

// send has ev answered and returns its stored step (the rendered messages and their language).
func (c *langChat) send(ev Event) Step {
	c.t.Helper()
	c.seq++
	ev.ID = fmt.Sprintf("E%03d", c.seq)
	ev.Timestamp = c.f.now.Add(time.Duration(c.seq) * time.Second)
	ev.ReceivedAt, ev.ReplyToken = ev.Timestamp, "rt-"+ev.ID
	if ev.Kind == EventInternal {
		ev.ReplyToken = ""
	}
	c.f.p.Enqueue([]Event{ev})
	c.f.idle(c.t)
	st, err := c.f.j.Step(context.Background(), ev.ID)
	if err != nil {
		c.t.Fatalf("%s %s: no step: %v", ev.Kind, ev.Postback+ev.Text, err)
	}
	return st
}

func (c *langChat) follow(user string, unblocked bool) Step {
	return c.send(Event{Kind: EventFollow, Type: "follow", UserID: user, Unblocked: unblocked})
}

func (c *langChat) text(user, text string) Step {
	return c.send(Event{Kind: EventMessage, Type: "message", UserID: user, MessageType: "text", Text: text})
}

func (c *langChat) tap(user, data string) Step {
	return c.send(Event{Kind: EventPostback, Type: "postback", UserID: user, Postback: data})
}

func (c *langChat) internal(user, data string) Step {
	return c.send(Event{Kind: EventInternal, Type: "internal", UserID: user, Postback: data})
}

// langChips lists the languages the quick replies of msgs switch to, failing on a chip whose label is
// not the language's own name.
func langChips(t *testing.T, msgs []Message) []flows.Lang {
	t.Helper()
	var out []flows.Lang
	for _, m := range msgs {
		for _, q := range m.QuickReplies {
			p, ok := flows.DecodePostback(q.Data)
			if !ok || p.Do != flows.ActLang {
				continue
			}
			if want := map[flows.Lang]string{flows.Ja: "日本語", flows.En: "English"}[p.Lang]; q.Label != want {
				t.Errorf("the chip to %s is labelled %q", p.Lang, q.Label)
			}
			out = append(out, p.Lang)
		}
	}
	return out
}

// chipOf returns the data of the first quick reply whose postback passes ok.
func chipOf(t *testing.T, st Step, ok func(flows.Postback) bool) string {
	t.Helper()
	for _, m := range st.Out {
		for _, q := range m.QuickReplies {
			if p, valid := flows.DecodePostback(q.Data); valid && ok(p) {
				return q.Data
			}
		}
	}
	t.Fatalf("no such chip in %+v", st.Out)
	return ""
}

func otherLang(l flows.Lang) flows.Lang {
	if l == flows.En {
		return flows.Ja
	}
	return flows.En
}

// wantMenu checks that st was answered in lang and offers the other language, once.
func wantMenu(t *testing.T, what string, st Step, lang flows.Lang) {
	t.Helper()
	chips := langChips(t, st.Out)
	if st.Lang != lang || len(chips) != 1 || chips[0] != otherLang(lang) {
		t.Errorf("%s: answered in %s, offers %v; want %s offering [%s]", what, st.Lang, chips, lang, otherLang(lang))
	}
}

// wantNoOwnChip checks that st offers no chip to the language it is written in.
func wantNoOwnChip(t *testing.T, what string, st Step) {
	t.Helper()
	for _, l := range langChips(t, st.Out) {
		if l == st.Lang {
			t.Errorf("%s: answered in %s and offers %s", what, st.Lang, l)
		}
	}
}

// TestMenusOfferTheOtherLanguageThroughThePipeline: a customer whose LINE profile is English is
// answered in English and offered 日本語 (never English) on every path that ends in the menu: first
// contact, messages, rich-menu taps, the complaint and request flows, staff handing the chat back; after
// choosing 日本語 in the chat, English. A customer whose profile is Japanese is offered English.
func TestMenusOfferTheOtherLanguageThroughThePipeline(t *testing.T) {
	c := newLangChat(t)
	for _, p := range []struct {
		user, tag string
		lang      flows.Lang
		says      [3]string // in the profile's language: the menu, two messages not understood
	}{{"Uen", "en-US", flows.En, [3]string{"menu", "what is the weather today", "how are stocks doing"}},
		{"Uja", "ja", flows.Ja, [3]string{"メニュー", "今日の天気は", "株価は"}}} {
		user, lang := p.user, p.lang
		c.m.set(user, p.tag, false)
		wantMenu(t, user+" first contact", c.follow(user, false), lang)
		wantMenu(t, user+" menu typed", c.text(user, p.says[0]), lang)
		wantMenu(t, user+" a message not understood", c.text(user, p.says[1]), lang)
		wantMenu(t, user+" a second one (staff offered)", c.text(user, p.says[2]), lang)
		wantMenu(t, user+" a sticker", c.send(Event{Kind: EventMessage, Type: "message", UserID: user, MessageType: "sticker"}), lang)
		wantMenu(t, user+" the menu chip", c.tap(user, "do=menu"), lang)

		// The rich menu's tiles, each followed to where the menu comes back.
		st := c.tap(user, "do=optout")
		wantNoOwnChip(t, user+" rich menu: opt-out", st)
		wantMenu(t, user+" opt-out left for the menu", c.tap(user, "do=menu"), lang)
		st = c.tap(user, flows.RequestStartPostback)
		wantNoOwnChip(t, user+" rich menu: request", st)
		cancel := chipOf(t, st, func(p flows.Postback) bool { return p.Do == flows.ActReqStep && p.Step == "cancel" })
		wantMenu(t, user+" request cancelled", c.tap(user, cancel), lang)
		wantNoOwnChip(t, user+" rich menu: staff", c.tap(user, "do=human"))
		wantMenu(t, user+" staff request withdrawn", c.tap(user, flows.CancelPostback), lang)
		wantNoOwnChip(t, user+" rich menu: staff again", c.tap(user, "do=human"))
		wantNoOwnChip(t, user+" staff joined", c.internal(user, flows.JoinedPostback("高橋")))
		wantMenu(t, user+" staff handed the chat back", c.internal(user, flows.ResumePostback("handback", "0123456789abcdef0123", false)), lang)

		// The complaint flow.
		wantNoOwnChip(t, user+" complaint", c.text(user, "苦情です"))
		wantMenu(t, user+" complaint quit", c.tap(user, "do=hquit"), lang)

		// A switch in the chat, by the rich menu's header or the chip, and back.
		wantMenu(t, user+" switched", c.tap(user, "do=lang&l="+string(otherLang(lang))), otherLang(lang))
		wantMenu(t, user+" menu after the switch", c.text(user, "メニュー"), otherLang(lang))
		wantMenu(t, user+" unblocked after the switch", c.follow(user, true), otherLang(lang))
		wantMenu(t, user+" switched back", c.tap(user, "do=lang&l="+string(lang)), lang)
		wantMenu(t, user+" menu after switching back", c.tap(user, "do=menu"), lang)
	}
}

// TestLanguageChipWhenTheProfileIsUnknownOrChanges: a profile that cannot be read answers in Japanese
// and offers English, and is tried again a minute later; a profile changed after the first contact is
// read again at the next follow, or at the first message an hour after the last lookup (LINE tells
// nobody of a change), and the menu follows it. Whatever the bot believes, the chip never offers the
// language of the answer.
func TestLanguageChipWhenTheProfileIsUnknownOrChanges(t *testing.T) {
	c := newLangChat(t)
	c.m.set("Ufail", "en", true)
	wantMenu(t, "profile lookup failed at first contact", c.follow("Ufail", false), flows.Ja)
	wantMenu(t, "profile still unreadable", c.text("Ufail", "menu"), flows.Ja)
	c.m.set("Ufail", "en", false)
	wantNoOwnChip(t, "profile readable again, within a minute of the failure", c.text("Ufail", "menu"))
	c.advance(profileRetry)
	wantMenu(t, "a minute after the failure", c.text("Ufail", "menu"), flows.En)

	c.m.set("Uchg", "ja", false)
	wantMenu(t, "Japanese profile", c.follow("Uchg", false), flows.Ja)
	c.m.set("Uchg", "en", false) // changed on the phone: LINE tells the bot nothing
	wantMenu(t, "profile changed, no follow yet", c.text("Uchg", "menu"), flows.Ja)
	wantMenu(t, "follow after the change", c.follow("Uchg", true), flows.En)
	wantMenu(t, "and after it", c.text("Uchg", "menu"), flows.En)
	c.m.set("Uchg", "ja", false)
	wantMenu(t, "changed back, within the hour", c.text("Uchg", "menu"), flows.En)
	c.advance(profileMaxAge)
	wantMenu(t, "an hour after the last lookup", c.text("Uchg", "menu"), flows.Ja)
}

// TestAnswerInTheLanguageWritten: a customer who has not chosen a language in the chat is answered in
// the language of what they write when it is plainly the other one (Japanese script; an English
// sentence of three words or more), and offered the profile's; a short Latin word keeps the
// profile's language, and a choice made in the chat wins over both.
func TestAnswerInTheLanguageWritten(t *testing.T) {
	c := newLangChat(t)
	c.m.set("Uen", "en", false)
	c.m.set("Uja", "ja", false)
	wantMenu(t, "English profile", c.follow("Uen", false), flows.En)
	wantMenu(t, "English profile writing Japanese", c.text("Uen", "メニュー"), flows.Ja)
	wantMenu(t, "and a short word again", c.text("Uen", "menu"), flows.En)
	wantMenu(t, "Japanese profile", c.follow("Uja", false), flows.Ja)
	wantMenu(t, "a short Latin word", c.text("Uja", "menu"), flows.Ja)
	wantMenu(t, "an English sentence", c.text("Uja", "show me the menu"), flows.En)
	wantMenu(t, "chose Japanese in the chat", c.tap("Uen", "do=lang&l=ja"), flows.Ja)
	wantMenu(t, "then writes English", c.text("Uen", "show me the menu"), flows.Ja)
}
