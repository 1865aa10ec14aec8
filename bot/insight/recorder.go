package insight

import (
	"context"
	"fmt"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

// DefaultUnsure is the confidence below which an answered question also goes to the review inbox.
const DefaultUnsure = 0.6

// Recorder carries out the effects of the chat that feed the desk's insight: it records every typed
// question (EffectQuestion) and the customer's verdict on an answer (EffectFeedback), and puts the
// misses, the unsure answers and the unhelpful ones in the review inbox (a miss is in it from the
// question's one write). It is a bot.EffectSink: idempotent, because a question's key is its event's
// and the inbox adds a reason at most once.
type Recorder struct {
	Questions QuestionStore
	Review    ReviewStore
	// Unsure is the confidence below which an answered question is reviewed (0: DefaultUnsure).
	Unsure float64
}

var _ bot.EffectSink = (*Recorder)(nil)

// Apply implements bot.EffectSink.
func (r *Recorder) Apply(ctx context.Context, st bot.Step) error {
	for _, e := range st.Effects {
		switch {
		case e.Kind == flows.EffectQuestion && e.Question != nil:
			if err := r.question(ctx, st, *e.Question); err != nil {
				return err
			}
		case e.Kind == flows.EffectFeedback && e.Feedback != nil:
			if err := r.feedback(ctx, st, *e.Feedback); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *Recorder) question(ctx context.Context, st bot.Step, a flows.AskedQuestion) error {
	q := Question{Key: a.Ref, EventID: st.EventID, UserID: st.UserID, At: st.EventAt, Lang: string(a.Lang),
		Text: a.Text, Intent: a.Intent, Topic: a.Topic, Confidence: a.Confidence, Guess: a.Guess,
		GuessConf: a.GuessConf, Answer: a.Answer}
	unsure := r.Unsure
	if unsure == 0 {
		unsure = DefaultUnsure
	}
	switch {
	case !q.Answered():
		q.Review, q.Reasons = StatusOpen, []string{ReasonUnanswered}
	case q.Confidence < unsure:
		q.Review, q.Reasons = StatusOpen, []string{ReasonUnsure}
	}
	if err := r.Questions.RecordQuestion(ctx, q); err != nil {
		return fmt.Errorf("recording a question: %w", err)
	}
	return nil
}

func (r *Recorder) feedback(ctx context.Context, st bot.Step, f flows.AnswerFeedback) error {
	q, found, err := r.Questions.Question(ctx, f.Ref)
	if err != nil {
		return err
	}
	if !found || q.UserID != st.UserID {
		return nil // swept, or a chip of someone else's chat: nothing to record
	}
	verdict := FeedbackNotHelped
	if f.Helped {
		verdict = FeedbackHelped
	}
	if err := r.Questions.SetFeedback(ctx, q.Key, verdict, st.EventAt); err != nil {
		return fmt.Errorf("recording feedback: %w", err)
	}
	if f.Helped || (q.Feedback != "" && q.Feedback != verdict) {
		return nil // helped, or the first verdict (which stands) said so
	}
	return r.Review.MarkForReview(ctx, q.Key, ReasonNotHelped)
}
