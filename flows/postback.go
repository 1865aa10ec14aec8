package flows

import (
	"net/url"
	"strconv"
	"strings"
)

// Action names what a postback asks for: the data of every chip, button and rich-menu tile the bot
// offers, and of the internal events it raises itself, starts with one.
type Action string

// The actions. The wire names are stable: rich menus created at LINE carry them.
const (
	ActFAQ       Action = "faq"       // open a policy topic (Topic)
	ActLang      Action = "lang"      // switch the language (Lang)
	ActMenu      Action = "menu"      // show the main menu
	ActOptOut    Action = "optout"    // start the opt-out flow
	ActOptIn     Action = "optin"     // start the opt-in flow
	ActOptStatus Action = "optstatus" // what have I opted out of?
	ActOptStep   Action = "oo"        // a button inside the opt-out/opt-in flows (Step, Channel)
	ActComplain  Action = "complain"  // start the complaint flow
	ActCategory  Action = "hcat"      // the complaint's category (Category)
	ActSend      Action = "hsend"     // send the complaint to staff
	ActRewrite   Action = "hedit"     // write the description again
	ActQuit      Action = "hquit"     // abandon the complaint
	ActHuman     Action = "human"     // ask for a person (Reason: misses when offered after two misses)
	ActDrop      Action = "hdrop"     // withdraw a queued request for staff
	ActRate      Action = "hrate"     // rate a closed escalation (Ticket, Rating)

	// ActResume is internal (InputInternal only): staff handed the chat back or closed it (Why,
	// Ticket, Ask).
	ActResume Action = "hresume"
	// ActJoined is internal: a staff member took the chat (Name).
	ActJoined Action = "hjoined"
	// ActRequestNotice is internal: the request service tells the customer about a request (Notice).
	ActRequestNotice Action = "rnotice"

	ActRequest     Action = "request" // start a personal-data request (menu chip, rich-menu tile)
	ActReqStatus   Action = "rstatus" // list my requests (申請状況)
	ActReqStep     Action = "rq"      // a button inside the request flow (Step, Draft, Kind, Value)
	ActReqWithdraw Action = "rwd"     // withdraw a request: ask (Num), confirm (Step ok) or keep (Step no) (Ref)

	ActFeedback Action = "fb" // say whether an answer helped (Ref: the question; Helped)
)

// MaxPostbackBytes is the longest postback data LINE accepts.
const MaxPostbackBytes = 300

// Postback is decoded postback data: the action and its typed parameters. Encode and DecodePostback
// are the only places that know the wire format ("do=<action>&<key>=<value>…", a URL query).
type Postback struct {
	Do       Action
	Topic    string   // ActFAQ: knowledge-base topic ID ("topic")
	Lang     Lang     // ActLang ("l")
	Step     string   // ActOptStep: all, pick, done, status, cancel, skip, skipall, ok; ActReqStep, ActReqWithdraw: see request_messages.go ("a")
	Channel  Channels // ActOptStep with Step pick: one channel ("c")
	Category string   // ActCategory ("c")
	Reason   string   // ActHuman ("r")
	Ticket   string   // ActRate, ActResume: escalation ID ("e")
	Rating   string   // ActRate ("s")
	Why      string   // ActResume: handback or closed ("why")
	Ask      bool     // ActResume: offer the satisfaction question ("ask=1")
	Name     string   // ActJoined: the staff member's display name ("n")
	// Draft is the draft key of the request form a button belongs to (ActReqStep: "d").
	Draft string
	// Kind is one request kind (ActReqStep with Step kind: "k", its machine name).
	Kind RequestKind
	// Value is the choice of a request-flow button: a ground, requester, representative kind,
	// delivery method or summary section (ActReqStep: "v").
	Value string
	// Ref is a request's reference (ActReqWithdraw: "ref"); Num its row in the status list ("n").
	// Ref is also the question an ActFeedback is about ("q").
	Ref string
	Num int
	// Helped is the verdict of an ActFeedback ("ok=1").
	Helped bool
	// Notice is the data of ActRequestNotice (internal only: "w", "ref", "d", "k", "st", "due", "why",
	// "link", "out", "seq", "p").
	Notice RequestNotice
}

// Encode returns the wire form, parameters in a fixed order.
func (p Postback) Encode() string {
	var b strings.Builder
	b.WriteString("do=")
	b.WriteString(url.QueryEscape(string(p.Do)))
	add := func(k, v string) {
		if v != "" {
			b.WriteString("&" + k + "=" + url.QueryEscape(v))
		}
	}
	switch p.Do {
	case ActFAQ:
		add("topic", p.Topic)
	case ActLang:
		add("l", string(p.Lang))
	case ActOptStep:
		add("a", p.Step)
		add("c", p.Channel.Name())
	case ActCategory:
		add("c", p.Category)
	case ActHuman:
		add("r", p.Reason)
	case ActRate:
		add("e", p.Ticket)
		add("s", p.Rating)
	case ActResume:
		add("why", p.Why)
		add("e", p.Ticket)
		if p.Ask {
			add("ask", "1")
		}
	case ActJoined:
		add("n", p.Name)
	case ActReqStep:
		add("a", p.Step)
		add("d", p.Draft)
		add("k", p.Kind.Name())
		add("v", p.Value)
	case ActFeedback:
		add("q", p.Ref)
		if p.Helped {
			add("ok", "1")
		}
	case ActReqWithdraw:
		add("a", p.Step)
		add("ref", p.Ref)
		if p.Num != 0 {
			add("n", strconv.Itoa(p.Num))
		}
	case ActRequestNotice:
		n := p.Notice
		add("w", n.What)
		add("ref", n.Ref)
		add("d", n.Draft)
		if n.Kinds != 0 {
			add("k", strconv.Itoa(int(n.Kinds)))
		}
		add("st", string(n.Status))
		add("due", n.Due)
		add("why", n.Reason)
		add("link", n.Link)
		add("exp", n.Expires)
		if n.Reissued {
			add("re", "1")
		}
		add("out", n.Outcome)
		if n.Seq != 0 {
			add("seq", strconv.Itoa(n.Seq))
		}
		add("p", n.Problem)
		if n.Erase {
			add("er", "1")
		}
	}
	return b.String()
}

// DecodePostback reads postback data from LINE; ok is false for data that is not a bot action (longer
// than LINE allows, not a query, no action).
func DecodePostback(data string) (Postback, bool) {
	if len(data) > MaxPostbackBytes {
		return Postback{}, false
	}
	return decodePostback(data)
}

// decodePostback reads the data of a postback or of an internal event (which never travels through
// LINE, so LINE's size limit does not apply: a staff name of 4-byte characters escapes long).
func decodePostback(data string) (Postback, bool) {
	q, err := url.ParseQuery(data)
	if err != nil || q.Get("do") == "" {
		return Postback{}, false
	}
	p := Postback{Do: Action(q.Get("do"))}
	switch p.Do {
	case ActFAQ:
		p.Topic = q.Get("topic")
	case ActLang:
		p.Lang = ParseLang(q.Get("l"))
	case ActOptStep:
		p.Step = q.Get("a")
		p.Channel, _ = ParseChannel(q.Get("c"))
		if p.Channel == ChanAll {
			p.Channel = 0 // "all" is a step of its own, never a channel parameter
		}
	case ActCategory:
		p.Category = q.Get("c")
	case ActHuman:
		p.Reason = q.Get("r")
	case ActRate:
		p.Ticket, p.Rating = q.Get("e"), q.Get("s")
	case ActResume:
		p.Why, p.Ticket, p.Ask = q.Get("why"), q.Get("e"), q.Get("ask") == "1"
	case ActJoined:
		p.Name = q.Get("n")
	case ActReqStep:
		p.Step, p.Draft, p.Value = q.Get("a"), q.Get("d"), q.Get("v")
		p.Kind, _ = ParseRequestKind(q.Get("k"))
	case ActFeedback:
		p.Ref, p.Helped = q.Get("q"), q.Get("ok") == "1"
	case ActReqWithdraw:
		p.Step, p.Ref = q.Get("a"), q.Get("ref")
		p.Num, _ = strconv.Atoi(q.Get("n"))
	case ActRequestNotice:
		k, _ := strconv.Atoi(q.Get("k"))
		seq, _ := strconv.Atoi(q.Get("seq"))
		p.Notice = RequestNotice{What: q.Get("w"), Ref: q.Get("ref"), Draft: q.Get("d"),
			Kinds: RequestKind(k) & KindsAll, Status: RequestStatus(q.Get("st")), Due: q.Get("due"),
			Reason: q.Get("why"), Link: q.Get("link"), Expires: q.Get("exp"), Reissued: q.Get("re") == "1", Outcome: q.Get("out"), Seq: seq, Problem: q.Get("p"), Erase: q.Get("er") == "1"}
	}
	return p, true
}

// PostbackLabel returns the catalog ID of the label of the chip or button whose data this is, that is
// what the customer saw and tapped (the console shows it in the staff member's language). The core's
// actions are named here, every feature names its own (Feature.Label). ok is false for data the bot
// does not offer.
func PostbackLabel(data string) (labelID string, ok bool) {
	p, ok := DecodePostback(data)
	if !ok {
		return "", false
	}
	switch p.Do {
	case ActLang:
		if p.Lang == En {
			return lblEnglish, true
		}
		return lblJapanese, true
	case ActMenu:
		return lblMenu, true
	}
	if ft := featureOfLabel(p.Do); ft != nil && ft.Label != nil {
		return ft.Label(p)
	}
	return "", false
}

// RequestNoticePostback is the data of the internal event with which the request service tells the
// customer about a request.
func RequestNoticePostback(n RequestNotice) string {
	return Postback{Do: ActRequestNotice, Notice: n}.Encode()
}

// DecodeInternalPostback reads the data of an internal event (the console and tests show what the
// service said; the pipeline decodes it in Step).
func DecodeInternalPostback(data string) (Postback, bool) { return decodePostback(data) }
