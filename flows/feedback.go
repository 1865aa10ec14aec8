package flows

// What the desk learns from the chat: every question the customer types outside a form is recorded
// with how it was answered (EffectQuestion), and a policy answer to a typed question carries two
// chips, 「役に立った」 and 「役に立たなかった」, whose tap is recorded too (EffectFeedback). Staff see
// the misses and the unhelpful answers in the console's review inbox (package bot/insight).

// Catalog IDs of the feedback chips and of the answers to a tap.
const (
	lblHelped       = "label.helped"
	lblNotHelped    = "label.not_helped"
	msgThanksHelped = "feedback.helped"
	msgSorryUnhelp  = "feedback.not_helped"
)

// AskedQuestion is the payload of EffectQuestion: a typed question and the bot's reading and answer.
// The customer's words are in it: the record is kept as long as the transcript (see bot/insight).
type AskedQuestion struct {
	Ref        string  `bson:"ref"`
	Text       string  `bson:"text"`
	Lang       Lang    `bson:"lang"`
	Intent     string  `bson:"intent"` // what was answered ("none": not understood)
	Topic      string  `bson:"topic,omitempty"`
	Confidence float64 `bson:"conf"`
	Guess      string  `bson:"guess,omitempty"`
	GuessConf  float64 `bson:"guessConf,omitempty"`
	Answer     string  `bson:"answer"` // catalog ID of the first reply
}

// AnswerFeedback is the payload of EffectFeedback.
type AnswerFeedback struct {
	Ref    string `bson:"ref"`
	Helped bool   `bson:"helped"`
}

// feedbackFeature answers the feedback chips.
var feedbackFeature = &Feature{
	Name:    "feedback",
	Actions: []Action{ActFeedback},
	MessageIDs: func() []string {
		return []string{lblHelped, lblNotHelped, msgThanksHelped, msgSorryUnhelp}
	},
	OnAction: func(st State, in Input, p Postback) Result {
		if p.Ref == "" {
			return Result{State: st, Replies: []Reply{mainMenu(st)}}
		}
		eff := Effect{Kind: EffectFeedback, Feedback: &AnswerFeedback{Ref: p.Ref, Helped: p.Helped}}
		if p.Helped {
			return Result{State: st, Replies: []Reply{{ID: msgThanksHelped, Choices: mainMenu(st).Choices}}, Effects: []Effect{eff}}
		}
		return Result{State: st, Replies: []Reply{{ID: msgSorryUnhelp, Choices: staffOffer(st).Choices}}, Effects: []Effect{eff}}
	},
	Label: func(p Postback) (string, bool) {
		if p.Helped {
			return lblHelped, true
		}
		return lblNotHelped, true
	},
}

// recordQuestion is how onText ends: the answer r to the typed question in, with the question's
// record as an effect and, under a policy answer, the feedback chips (first, where they are seen).
// Without a reference (a pipeline that keeps no record) r is returned as it is.
func recordQuestion(r Result, in Input) Result {
	if in.Ref == "" || len(r.Replies) == 0 {
		return r
	}
	intent, topic := in.Intent.Name, policyTopic(r.Replies)
	if topic != "" {
		last := &r.Replies[len(r.Replies)-1]
		chips := []Choice{
			{LabelID: lblHelped, Postback: Postback{Do: ActFeedback, Ref: in.Ref, Helped: true}.Encode()},
			{LabelID: lblNotHelped, Postback: Postback{Do: ActFeedback, Ref: in.Ref}.Encode()},
		}
		last.Choices = append(chips, last.Choices...)
	} else if r.Replies[0].ID == msgCannotAnswer || r.Replies[0].ID == msgCannotAnswerAgain {
		intent = "none"
	}
	q := &AskedQuestion{Ref: in.Ref, Text: in.Text, Lang: in.Lang, Intent: intent, Topic: topic,
		Confidence: in.Intent.Confidence, Guess: in.Intent.Guess, GuessConf: in.Intent.GuessConf, Answer: r.Replies[0].ID}
	r.Effects = append(r.Effects, Effect{Kind: EffectQuestion, Question: q})
	return r
}

// policyTopic is the topic of the first policy answer among replies, "" when there is none.
func policyTopic(replies []Reply) string {
	for _, r := range replies {
		for _, t := range faqTopics {
			if t.AnswerID() == r.ID {
				return t.ID
			}
		}
	}
	return ""
}
