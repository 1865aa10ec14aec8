package flows

import (
	"testing"
)

// asked returns the EffectQuestion of a result, if any.
func asked(r Result) *AskedQuestion {
	for _, e := range r.Effects {
		if e.Kind == EffectQuestion {
			return e.Question
		}
	}
	return nil
}

// TestQuestionsAreRecorded: a typed question outside any form is recorded with what was answered;
// a policy answer carries the feedback chips first; a message typed into a form, a language switch
// and a pipeline without references record nothing.
func TestQuestionsAreRecorded(t *testing.T) {
	withRef := func(in Input) Input { in.Ref = "20261205T010203.000/hev"; in.Lang = Ja; return in }

	policy := withRef(text("開示の方法を教えて", "faq.5"))
	policy.Intent.Topic, policy.Intent.Guess, policy.Intent.GuessConf = "5.how", "faq.5", 0.9
	r := Step(State{}, policy)
	q := asked(r)
	if q == nil || q.Intent != "faq.5" || q.Topic != "5.how" || q.Answer != "faq.t5_how.answer" || q.Text != "開示の方法を教えて" || q.Ref != policy.Ref {
		t.Fatalf("policy answer recorded as %+v", q)
	}
	chips := r.Replies[len(r.Replies)-1].Choices
	if len(chips) < 3 || chips[0].LabelID != lblHelped || chips[1].LabelID != lblNotHelped || len(chips) > 13 {
		t.Fatalf("chips under a policy answer: %+v", chips)
	}
	for i, helped := range []bool{true, false} {
		p, ok := DecodePostback(chips[i].Postback)
		if !ok || p.Do != ActFeedback || p.Ref != policy.Ref || p.Helped != helped {
			t.Fatalf("chip %d decodes to %+v", i, p)
		}
		if lbl, ok := PostbackLabel(chips[i].Postback); !ok || lbl != chips[i].LabelID {
			t.Fatalf("chip %d's label: %q", i, lbl)
		}
	}

	miss := withRef(text("今日の天気は？", "none"))
	miss.Intent.Guess, miss.Intent.GuessConf = "faq.10", 0.2
	r = Step(State{}, miss)
	if q := asked(r); q == nil || q.Intent != "none" || q.Guess != "faq.10" || q.Answer != msgCannotAnswer {
		t.Fatalf("miss recorded as %+v", q)
	}
	for _, rep := range r.Replies {
		for _, c := range rep.Choices {
			if c.LabelID == lblHelped {
				t.Fatal("feedback chips under a miss")
			}
		}
	}
	// An intent no feature answers ends as a miss, and is recorded as "none".
	if q := asked(Step(State{}, withRef(text("x", "nonsense")))); q == nil || q.Intent != "none" {
		t.Fatalf("unanswered intent recorded as %+v", q)
	}
	if q := asked(Step(State{}, withRef(text("こんにちは", "menu")))); q == nil || q.Intent != "menu" || q.Answer != msgMenu {
		t.Fatalf("greeting recorded as %+v", q)
	}

	// Not questions: a language switch, a pipeline that gives no reference, a form's field.
	if q := asked(Step(State{}, withRef(text("English", "none")))); q != nil {
		t.Fatalf("language switch recorded: %+v", q)
	}
	if q := asked(Step(State{}, text("開示の方法を教えて", "faq.5"))); q != nil {
		t.Fatalf("recorded without a reference: %+v", q)
	}
	inForm := Step(State{}, withRef(text("開示請求をしたい", "disclosure")))
	if inForm.State.Flow != FlowRequest {
		t.Fatalf("request form not started: %+v", inForm.State)
	}
	if q := asked(Step(inForm.State, withRef(text("山田太郎", "none")))); q != nil {
		t.Fatalf("a form field was recorded as a question: %+v", q)
	}
}

// TestFeedbackTap: a tap records the verdict; "not helpful" apologises and offers staff.
func TestFeedbackTap(t *testing.T) {
	ref := "20261205T010203.000/hev"
	for _, helped := range []bool{true, false} {
		in := Input{Kind: InputPostback, Postback: Postback{Do: ActFeedback, Ref: ref, Helped: helped}.Encode(), Lang: Ja}
		r := Step(State{}, in)
		if len(r.Effects) != 1 || r.Effects[0].Kind != EffectFeedback || *r.Effects[0].Feedback != (AnswerFeedback{Ref: ref, Helped: helped}) {
			t.Fatalf("helped=%v: effects %+v", helped, r.Effects)
		}
		want := msgThanksHelped
		if !helped {
			want = msgSorryUnhelp
			if r.Replies[0].Choices[0].LabelID != lblTalkToStaff {
				t.Fatalf("no staff offer after 'not helpful': %+v", r.Replies[0].Choices)
			}
		}
		if r.Replies[0].ID != want {
			t.Fatalf("helped=%v: replies %v", helped, ids(r.Replies))
		}
	}
	// A chip without its question is only the menu.
	r := Step(State{}, Input{Kind: InputPostback, Postback: "do=fb&ok=1", Lang: Ja})
	if len(r.Effects) != 0 || r.Replies[0].ID != msgMenu {
		t.Fatalf("feedback without a reference: %+v", r)
	}
}
