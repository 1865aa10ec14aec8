package flows

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Step is the conversation logic: one input in, the new state, the replies and the effects out. It
// decodes a postback once, lets the feature whose flow the conversation is in see the input first,
// and otherwise dispatches through the registry (features.go) by intent or action.
func Step(st State, in Input) (res Result) {
	defer func() { res = recordBlockChange(res, in) }() // blocks and unblocks are consent records
	if st.Lang == "" && in.Lang != "" {
		// No language chosen in the chat: the step speaks the profile's (and its menu offers the
		// other one), and the state stays without a choice, so the profile keeps deciding.
		st.Lang = in.Lang
		defer func() {
			if res.State.Lang == in.Lang {
				res.State.Lang = ""
			}
		}()
	}
	var p Postback // zero (an unknown action) unless the data decodes
	switch in.Kind {
	case InputPostback:
		p, _ = DecodePostback(in.Postback)
	case InputInternal:
		p, _ = decodePostback(in.Postback)
	}
	if in.Kind == InputInternal {
		if ft := featureOfAction(p.Do, true); ft != nil {
			return ft.OnAction(st, in, p)
		}
		return Result{State: st} // an internal event nobody raises any more: nothing to say
	}
	if st.Flow == FlowStaff && in.NoStaffRequest {
		st.Flow, st.Handoff = FlowIdle, HandoffState{} // the request ended unheard (see Input)
	}
	if ft := featureOfFlow(st.Flow); ft != nil && ft.Continue != nil {
		if r, ok := ft.Continue(st, in, p); ok {
			return r
		}
	}
	if r, ok := requestAside(st, in); ok { // 「申請状況」 in any message, photos for a submitted request
		return r
	}
	switch in.Kind {
	case InputFollow:
		return greet(st, in)
	case InputUnfollow:
		return Result{State: st}
	case InputPostback:
		return onPostback(st, in, p)
	case InputMedia:
		return Result{State: st, Replies: []Reply{{ID: msgMediaUnanswered}, mainMenu(st)}}
	case InputText:
		return onText(st, in)
	}
	return Result{State: st}
}

func greet(st State, in Input) Result {
	st.Flow, st.Misses = FlowIdle, 0
	id := msgGreeting
	if in.Unblocked {
		id = msgWelcomeBack
	}
	return Result{State: st, Replies: []Reply{{ID: id}, mainMenu(st)}}
}

func onText(st State, in Input) Result {
	if lang, ok := languageRequest(in.Text); ok {
		return switchLang(st, lang)
	}
	return recordQuestion(answerTyped(st, in), in)
}

// answerTyped answers a typed message outside any flow: by its intent, through the feature that
// answers it, else the menu or an honest miss.
func answerTyped(st State, in Input) Result {
	if (in.Intent.Name == "optout" || in.Intent.Name == "disclosure") && asksForRequestKind(in.Text) {
		// A request kind named (利用停止, 削除, 開示, …) and no marketing channel: a personal-data
		// request, not an opt-out of marketing, whichever of the two the classifier chose.
		in.Intent.Name = "disclosure"
	}
	if ft := featureOfIntent(in.Intent.Name); ft != nil {
		if r, ok := ft.OnText(st, in); ok {
			return r
		}
	}
	if in.Intent.Name == "menu" {
		st.Misses = 0
		return Result{State: st, Replies: []Reply{mainMenu(st)}}
	}
	return miss(st) // "none", and an intent no feature answered
}

// miss answers a message the desk cannot answer: honestly, with the menu; the second miss in a row
// also gives the contact window, so the customer is never stuck with the bot.
func miss(st State) Result {
	// The count stops at two: that is when staff are offered, and a number that kept climbing would
	// only make every further miss a state change to store.
	st.Misses = min(st.Misses+1, 2)
	if st.Misses >= 2 {
		return Result{State: st, Replies: []Reply{{ID: msgCannotAnswerAgain}, staffOffer(st)}}
	}
	return Result{State: st, Replies: []Reply{{ID: msgCannotAnswer}, mainMenu(st)}}
}

func onPostback(st State, in Input, p Postback) Result {
	if ft := featureOfAction(p.Do, false); ft != nil {
		return ft.OnAction(st, in, p)
	}
	switch p.Do {
	case ActLang:
		return switchLang(st, p.Lang)
	}
	return Result{State: st, Replies: []Reply{mainMenu(st)}} // ActMenu, and anything unknown
}

func switchLang(st State, lang Lang) Result {
	st.Lang = lang
	return Result{State: st, Replies: []Reply{{ID: msgLangSwitched}, mainMenu(st)}}
}

// mainMenu is the menu reply with its quick replies: every feature's chips, in registry order, and a
// switch to the other language.
func mainMenu(st State) Reply {
	r := Reply{ID: msgMenu}
	for _, ft := range features {
		r.Choices = append(r.Choices, ft.Menu...)
	}
	if st.Lang == En {
		r.Choices = append(r.Choices, Choice{LabelID: lblJapanese, Postback: postbackJapanese})
	} else {
		r.Choices = append(r.Choices, Choice{LabelID: lblEnglish, Postback: postbackEnglish})
	}
	return r
}

// The language chips' data, encoded once (the menu goes out with most answers).
var (
	postbackJapanese = Postback{Do: ActLang, Lang: Ja}.Encode()
	postbackEnglish  = Postback{Do: ActLang, Lang: En}.Encode()
)

// languageRequest recognises a message that only asks for a language: "English", "英語", "日本語", ….
func languageRequest(text string) (Lang, bool) {
	t := strings.ToLower(strings.TrimSpace(norm.NFKC.String(text)))
	t = strings.Trim(t, "!.。！ 　")
	switch t {
	case "english", "英語", "in english", "英語で", "english please":
		return En, true
	case "日本語", "japanese", "nihongo", "日本語で", "日本語でお願いします":
		return Ja, true
	}
	return "", false
}
