package flows

import (
	"net/url"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Postback actions understood by Step ("do=<action>&…").
const (
	actLang = "lang"
)

// Step is the conversation logic: one input in, the new state, the replies and the effects out.
func Step(st State, in Input) (res Result) {
	defer func() { res = recordBlockChange(res, in) }() // blocks and unblocks are consent records
	if in.Kind == InputInternal {
		return onInternal(st, in)
	}
	// Flows in progress see the input first; they leave what they do not handle to the dispatch below.
	switch st.Flow {
	case FlowComplaint:
		if r, ok := complaintStep(st, in); ok {
			return r
		}
	case FlowStaff:
		if r, ok := staffStep(st, in); ok {
			return r
		}
	case FlowOptOut, FlowOptIn:
		if in.Kind == InputText || in.Kind == InputPostback || in.Kind == InputMedia {
			return stepOptOut(st, in)
		}
	}
	switch in.Kind {
	case InputFollow:
		return greet(st, in)
	case InputUnfollow:
		return Result{State: st}
	case InputPostback:
		return onPostback(st, in)
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
	if replies, ok := FAQReplies(in); ok {
		st.Misses = 0
		return Result{State: st, Replies: replies}
	}
	if r, ok := onIntentHandoff(st, in); ok {
		return r
	}
	switch in.Intent.Name {
	case "optout", "optin":
		return onOptText(st, in)
	case "menu":
		st.Misses = 0
		return Result{State: st, Replies: []Reply{mainMenu(st)}}
	case "none", "":
		return miss(st)
	}
	// Recognised needs whose flows are handled elsewhere (opt-out, requests, complaints, staff) reach
	// here only until those flows exist: answer with the contact window, never with silence.
	st.Misses = 0
	return Result{State: st, Replies: []Reply{{ID: msgContactWindow}, mainMenu(st)}}
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

func onPostback(st State, in Input) Result {
	if topic, ok := ParseFAQPostback(in.Postback); ok {
		if replies, ok := FAQTopicReplies(topic); ok {
			st.Misses = 0
			return Result{State: st, Replies: replies}
		}
	}
	q, err := url.ParseQuery(in.Postback)
	if err != nil {
		return Result{State: st, Replies: []Reply{mainMenu(st)}}
	}
	if r, ok := handoffPostback(st, q); ok {
		return r
	}
	switch q.Get("do") {
	case actLang:
		return switchLang(st, ParseLang(q.Get("l")))
	case actOptOut, actOptIn, actOptStatus, actOptStep:
		return onOptPostback(st, q)
	}
	return Result{State: st, Replies: []Reply{mainMenu(st)}}
}

func switchLang(st State, lang Lang) Result {
	st.Lang = lang
	return Result{State: st, Replies: []Reply{{ID: msgLangSwitched}, mainMenu(st)}}
}

// mainMenu is the menu reply with its quick replies: the things the desk can do, and a switch to the
// other language.
func mainMenu(st State) Reply {
	r := Reply{ID: msgMenu, Choices: []Choice{{LabelID: lblTopics, Postback: FAQPostback(FAQMenuTopic)}}}
	r.Choices = append(r.Choices, handoffChoices()...)
	r.Choices = append(r.Choices, Choice{LabelID: lblOptOut, Postback: "do=" + actOptOut})
	if st.Lang == En {
		r.Choices = append(r.Choices, Choice{LabelID: lblJapanese, Postback: "do=lang&l=ja"})
	} else {
		r.Choices = append(r.Choices, Choice{LabelID: lblEnglish, Postback: "do=lang&l=en"})
	}
	return r
}

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
