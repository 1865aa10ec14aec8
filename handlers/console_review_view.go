package handlers

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/enemane/privacybot/bot/insight"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/flows/nlu"
)

// reviewTarget is one choice of what a question should have been: an intent, or a topic of a policy
// item ("faq.5|5.fee"; the value carries both, the intent first).
type reviewTarget struct {
	Value, Label string
	Topic        bool // a topic under its item (indented in the list)
}

// reviewTargetGroup is an <optgroup>.
type reviewTargetGroup struct {
	Label   string
	Targets []reviewTarget
}

// reviewOtherIntents are the intents that are not a policy item, in the order offered.
var reviewOtherIntents = []string{"optout", "optin", "disclosure", "complaint", "human", "menu", nlu.None}

// reviewIntentIDs name the intents that are not a policy item.
var reviewIntentIDs = map[string]string{
	"optout": "console.review.intent_optout", "optin": "console.review.intent_optin",
	"disclosure": "console.review.intent_disclosure", "complaint": "console.review.intent_complaint",
	"human": "console.review.intent_human", "menu": "console.review.intent_menu", nlu.None: "console.review.intent_none",
}

// reviewTargets lists every intent and topic staff can teach, policy items first.
func (w *words) reviewTargets() []reviewTargetGroup {
	items := reviewTargetGroup{Label: w.T("console.review.targets_policy")}
	topics := flows.FAQTopics()
	for item := 1; item <= 13; item++ {
		intent := "faq." + strconv.Itoa(item)
		items.Targets = append(items.Targets, reviewTarget{Value: intent + "|", Label: w.intentName(intent)})
		for _, t := range topics {
			if t.Item == item {
				items.Targets = append(items.Targets, reviewTarget{Value: intent + "|" + t.ID, Label: w.T(t.TitleID()), Topic: true})
			}
		}
	}
	other := reviewTargetGroup{Label: w.T("console.review.targets_other")}
	for _, in := range reviewOtherIntents {
		other.Targets = append(other.Targets, reviewTarget{Value: in + "|", Label: w.intentName(in)})
	}
	return []reviewTargetGroup{items, other}
}

// intentName names an intent for staff: "第5項 開示等の請求" for a policy item (the item's default
// topic's title), the catalog's words for the others.
func (w *words) intentName(intent string) string {
	if item, ok := flows.FAQItem(intent); ok {
		if t, ok := flows.FAQDefaultTopic(item); ok {
			return w.T("console.review.item", "N", item, "Title", w.T(t.TitleID()))
		}
	}
	if id, ok := reviewIntentIDs[intent]; ok {
		return w.T(id)
	}
	return intent
}

// topicName names a topic the bot answered (a knowledge-base topic's title, or the opt-out status),
// or "" for none or an unknown one.
func (w *words) topicName(id string) string {
	if id == nlu.TopicOptStatus {
		return w.T("console.review.topic_optout_status")
	}
	s, _ := w.topicTitle(id)
	return s
}

// topicTitle is a knowledge-base topic's title in the customers' catalog; ok is false for an
// unknown topic.
func (w *words) topicTitle(id string) (string, bool) {
	if t, ok := flows.FAQTopicByID(id); ok {
		return w.lookup(t.TitleID())
	}
	return "", false
}

// reviewRow is one question as the inbox shows it.
type reviewRow struct {
	Key, At, Text, Lang string
	Reasons             []reviewReason
	Answer, Guess       string
	Feedback            string
	Decision, By        string
	DecidedAt, TaughtID string
	Ignored             bool
}

type reviewReason struct{ Code, Label string }

// reviewGroupView is a group of alike questions and its teach form.
type reviewGroupView struct {
	Keys  []string
	Count int
	Guess string
	Rows  []reviewRow
	// Target is the choice preselected: none, unless staff sent the form and it came back (a guess
	// preselected would make a wrong teach one click away).
	Target  string
	Text    string // the phrase to teach, personal data masked
	Masked  string // which kinds of personal data were masked, in words ("" none)
	Refused bool   // the form came back: the page scrolls to it
}

func (w *words) reviewRow(it insight.Item) reviewRow {
	q := it.Question
	r := reviewRow{Key: it.Key, At: clock(q.At), Text: q.Text, Lang: q.Lang, Feedback: q.Feedback,
		Decision: it.Status, By: it.By, DecidedAt: clock(it.DecidedAt), TaughtID: it.TaughtID,
		Ignored: it.Status == insight.StatusIgnored}
	for _, code := range it.Reasons {
		r.Reasons = append(r.Reasons, reviewReason{Code: code, Label: w.Label("review_reason", code)})
	}
	switch {
	case !q.Answered():
		r.Answer = w.T("console.review.answer_none")
	case q.Topic != "":
		r.Answer = w.intentName(q.Intent) + " › " + w.topicName(q.Topic)
	default:
		r.Answer = w.intentName(q.Intent)
	}
	if q.Guess != "" {
		r.Guess = fmt.Sprintf("%s (%d%%)", w.intentName(q.Guess), int(q.GuessConf*100+0.5))
	}
	return r
}

func (w *words) reviewRows(items []insight.Item) []reviewRow {
	out := make([]reviewRow, len(items))
	for i, it := range items {
		out[i] = w.reviewRow(it)
	}
	return out
}

// reviewGroups prepares the open groups; the group refused carries what staff sent back.
func (w *words) reviewGroups(ctx context.Context, desk ReviewDesk, groups []insight.Group, refused *reviewRefusal) []reviewGroupView {
	out := make([]reviewGroupView, 0, len(groups))
	for _, g := range groups {
		v := reviewGroupView{Count: len(g.Items), Guess: w.intentName(g.Guess)}
		for _, it := range g.Items {
			v.Keys = append(v.Keys, it.Key)
			v.Rows = append(v.Rows, w.reviewRow(it))
		}
		out = append(out, v)
	}
	// The proposals, at once: each may ask LINE for a customer's name.
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			text, kinds := desk.Proposal(ctx, groups[i].Items[0])
			out[i].Text, out[i].Masked = text, w.piiKinds(kinds)
		})
	}
	wg.Wait()
	for i := range out {
		if refused != nil && slices.Equal(refused.Keys, out[i].Keys) {
			out[i].Target, out[i].Text, out[i].Refused = refused.Target, refused.Text, true
		}
	}
	return out
}

// piiKinds names kinds of personal data ("電話番号・お名前").
func (w *words) piiKinds(kinds []string) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = w.Label("pii", k)
	}
	return strings.Join(names, w.T("console.review.list_sep"))
}

// taughtRow is a taught phrase as the page lists it.
type taughtRow struct {
	ID, Text, Target, Lang, By, At string
	Items                          int
	Reverted                       bool
	RevertedBy, RevertedAt         string
}

func (w *words) taughtRows(ts []insight.Taught) []taughtRow {
	out := make([]taughtRow, len(ts))
	for i, t := range ts {
		target := w.intentName(t.Intent)
		if t.Topic != "" {
			target += " › " + w.topicName(t.Topic)
		}
		out[i] = taughtRow{ID: t.ID, Text: t.Text, Target: target, Lang: t.Lang, By: t.By, At: clock(t.At),
			Items: len(t.Items), Reverted: t.Reverted, RevertedBy: t.RevertedBy, RevertedAt: clock(t.RevertedAt)}
	}
	return out
}
