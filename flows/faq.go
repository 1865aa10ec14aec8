package flows

import (
	"slices"
	"strconv"
	"strings"
)

// FAQ catalog IDs that do not belong to one topic.
const (
	FAQMenuPromptID = "faq.menu.prompt" // "which part of the policy?" above the list of the 13 items
	FAQMoreLabelID  = "faq.more.label"  // quick reply back to that list
)

// FAQMenuTopic is the topic value of the postback that opens the list of policy items.
const FAQMenuTopic = "menu"

// faqItems is the number of items of the privacy policy.
const faqItems = 13

// FAQTopic is one entry of the knowledge base: a question customers ask about one policy item.
type FAQTopic struct {
	ID      string   // "5.id": item number, dot, short name
	Item    int      // the policy item (1–13) the answer cites
	Default bool     // the topic answered when the classifier names only the item (intent faq.N)
	Related []string // topic IDs offered as quick replies after the answer
}

// key is the catalog table name of the topic: "5.id" -> "t5_id". Topic names are never one of
// go-i18n's reserved keys, because the table name always starts with "t" and a digit.
func (t FAQTopic) key() string { return "faq.t" + strings.ReplaceAll(t.ID, ".", "_") }

// TitleID is the catalog ID of the topic's short title, also used as its quick-reply label (≤ 20
// characters in every language).
func (t FAQTopic) TitleID() string { return t.key() + ".title" }

// AnswerID is the catalog ID of the topic's answer, which ends with the policy citation.
func (t FAQTopic) AnswerID() string { return t.key() + ".answer" }

// Intent is the classifier intent the topic answers ("faq.5").
func (t FAQTopic) Intent() string { return faqIntent(t.Item) }

// faqIntent is the classifier intent of a policy item.
func faqIntent(item int) string { return "faq." + strconv.Itoa(item) }

// FAQTopics returns the knowledge base in menu order (a copy).
func FAQTopics() []FAQTopic {
	out := make([]FAQTopic, len(faqTopics))
	copy(out, faqTopics)
	return out
}

// FAQTopicByID finds a topic of the knowledge base by ID.
func FAQTopicByID(id string) (FAQTopic, bool) {
	for _, t := range faqTopics {
		if t.ID == id {
			return t, true
		}
	}
	return FAQTopic{}, false
}

// FAQDefaultTopic finds the default topic of a policy item (the one that answers the item as a
// whole).
func FAQDefaultTopic(item int) (FAQTopic, bool) {
	for _, t := range faqTopics {
		if t.Item == item && t.Default {
			return t, true
		}
	}
	return FAQTopic{}, false
}

// FAQItem parses a faq intent name ("faq.5") into its policy item number; ok is false for any other
// intent.
func FAQItem(intent string) (item int, ok bool) {
	n, found := strings.CutPrefix(intent, "faq.")
	if !found {
		return 0, false
	}
	item, err := strconv.Atoi(n)
	if err != nil || item < 1 || item > faqItems {
		return 0, false
	}
	return item, true
}

// faqFeature answers questions about the privacy policy: a classified question (intents faq.1 …
// faq.13) gets the cited answer with related topics; the topic chips open one topic or the list of
// policy items.
var faqFeature = &Feature{
	Name:       "faq",
	Intents:    faqIntents(),
	Actions:    []Action{ActFAQ},
	Menu:       []Choice{{LabelID: lblTopics, Postback: FAQPostback(FAQMenuTopic)}},
	MessageIDs: FAQMessageIDs,
	OnText: func(st State, in Input) (Result, bool) {
		replies, ok := FAQReplies(in)
		if !ok {
			return Result{}, false
		}
		st.Misses = 0
		return Result{State: st, Replies: replies}, true
	},
	OnAction: func(st State, in Input, p Postback) Result {
		if replies, ok := FAQTopicReplies(p.Topic, in); ok {
			st.Misses = 0
			return Result{State: st, Replies: replies}
		}
		return Result{State: st, Replies: []Reply{mainMenu(st)}}
	},
	Label: func(p Postback) (string, bool) {
		if p.Topic == FAQMenuTopic {
			return lblTopics, true
		}
		if t, ok := FAQTopicByID(p.Topic); ok {
			return t.TitleID(), true
		}
		return "", false
	},
}

func faqIntents() []string {
	out := make([]string, faqItems)
	for i := range out {
		out[i] = faqIntent(i + 1)
	}
	return out
}

// FAQPostback is the postback data of a quick reply that opens a topic ("do=faq&topic=5.id").
func FAQPostback(topicID string) string { return Postback{Do: ActFAQ, Topic: topicID}.Encode() }

// ParseFAQPostback reads postback data made by FAQPostback; ok is false for any other postback.
func ParseFAQPostback(data string) (topicID string, ok bool) {
	p, ok := DecodePostback(data)
	if !ok || p.Do != ActFAQ || p.Topic == "" {
		return "", false
	}
	return p.Topic, true
}

// maxFAQAnswers is how many topics one message is answered with (LINE takes five messages a reply;
// three answers leave room for what a step may add and are as much as a phone screen shows).
const maxFAQAnswers = 3

// FAQReplies answers a classified question, or ok=false when the intent is not a faq intent. The
// classifier's topic is used when it belongs to the same policy item, otherwise the item's default
// topic answers; the further topics the message asked about in the same breath (Intent.Also) follow,
// each its own message, up to maxFAQAnswers in all. Only the last answer carries quick replies: LINE
// shows those of the last message only, and a chip for a topic just answered would only repeat it.
func FAQReplies(in Input) (replies []Reply, ok bool) {
	item, ok := FAQItem(in.Intent.Name)
	if !ok {
		return nil, false
	}
	t, found := FAQTopicByID(in.Intent.Topic)
	if !found || t.Item != item {
		if t, found = FAQDefaultTopic(item); !found {
			return nil, false
		}
	}
	topics := []FAQTopic{t}
	for _, id := range in.Intent.Also {
		a, found := FAQTopicByID(id)
		if !found || a.Item != item || slices.ContainsFunc(topics, func(o FAQTopic) bool { return o.ID == a.ID }) {
			continue
		}
		if topics = append(topics, a); len(topics) == maxFAQAnswers {
			break
		}
	}
	for i, tp := range topics {
		r := topicAnswer(tp, in)
		if i < len(topics)-1 {
			r[0].Choices = nil
		} else if len(topics) > 1 {
			r[0].Choices = slices.DeleteFunc(r[0].Choices, func(c Choice) bool {
				id, _ := ParseFAQPostback(c.Postback)
				return slices.ContainsFunc(topics, func(o FAQTopic) bool { return o.ID == id })
			})
		}
		replies = append(replies, r...)
	}
	return replies, true
}

// FAQTopicReplies answers one topic by ID (used when the customer taps a related-topic quick reply;
// postback data "do=faq&topic=<ID>"), with what the input tells (the retention periods, the desk's
// fee and answer days), so that a tapped topic is answered as the typed question is. The ID
// FAQMenuTopic gives the list of policy items.
func FAQTopicReplies(topicID string, in Input) ([]Reply, bool) {
	if topicID == FAQMenuTopic {
		return FAQMenuReplies(), true
	}
	t, ok := FAQTopicByID(topicID)
	if !ok {
		return nil, false
	}
	return topicAnswer(t, in), true
}

// FAQMenuReplies lists the 13 policy items as quick replies (LINE's maximum), each opening the item's
// default topic.
func FAQMenuReplies() []Reply {
	choices := make([]Choice, 0, faqItems)
	for item := 1; item <= faqItems; item++ {
		if t, ok := FAQDefaultTopic(item); ok {
			choices = append(choices, Choice{LabelID: t.TitleID(), Postback: FAQPostback(t.ID)})
		}
	}
	return []Reply{{ID: FAQMenuPromptID, Choices: choices}}
}

// retentionTopic is the topic that tells how long data is kept (policy item 13). Its answer lists
// the periods in force when the input carries them (Input.Retention), and otherwise refers the
// customer to the window of item 12.
const retentionTopic = "13.retention"

// The topics whose answers use the desk's terms (Input.Desk): the fee (REQUEST_FEE_TEXT) and the
// days within which a request is answered (REQUEST_DUE_DAYS). Without them (a tapped topic in a test,
// a pipeline without the request desk) the answers keep to what the policy says: it sets neither.
const (
	feeTopic    = "5.fee"
	resultTopic = "5.result"
)

// topicAnswer is the answer to one topic for this input: topicReplies, with what the input tells as
// its data: the retention periods in force, the desk's fee, the days a request is answered in.
func topicAnswer(t FAQTopic, in Input) []Reply {
	replies := topicReplies(t)
	switch t.ID {
	case retentionTopic:
		replies[0].Data = retentionData(in.Retention)
	case feeTopic:
		if in.Desk.Fee != "" {
			replies[0].Data = map[string]string{"Fee": in.Desk.Fee}
		}
	case resultTopic:
		if in.Desk.DueDays > 0 {
			replies[0].Data = map[string]string{"Days": itoa(in.Desk.DueDays)}
		}
	}
	return replies
}

// retentionData is the template data of the retention answer: for each period of a known kind with a
// positive length, P_<kind> is its number and Y_<kind> is "1" when it is counted in years (days
// otherwise, as Period.Before counts it); Any is "1" when there is at least one. The wording of every
// kind, its unit and the moment its clock starts is in the catalogs (faq.t13_retention.answer). Nil
// when no period is known: the answer then keeps to the policy's general rule.
func retentionData(ps []Period) map[string]string {
	var m map[string]string
	for _, p := range ps {
		if p.N <= 0 || !slices.Contains(DataKinds(), p.Kind) {
			continue
		}
		if m == nil {
			m = map[string]string{"Any": "1"}
		}
		m["P_"+string(p.Kind)] = strconv.Itoa(p.N)
		if p.Unit == Years {
			m["Y_"+string(p.Kind)] = "1"
		} else {
			delete(m, "Y_"+string(p.Kind))
		}
	}
	return m
}

// topicReplies is the answer to one topic with its related topics and the way back to the item list.
func topicReplies(t FAQTopic) []Reply {
	choices := make([]Choice, 0, len(t.Related)+1)
	for _, id := range t.Related {
		if r, ok := FAQTopicByID(id); ok {
			choices = append(choices, Choice{LabelID: r.TitleID(), Postback: FAQPostback(r.ID)})
		}
	}
	choices = append(choices, Choice{LabelID: FAQMoreLabelID, Postback: FAQPostback(FAQMenuTopic)})
	return []Reply{{ID: t.AnswerID(), Choices: choices}}
}

// FAQMessageIDs lists every catalog ID the knowledge base uses (for the missing-translation test).
func FAQMessageIDs() []string {
	ids := []string{FAQMenuPromptID, FAQMoreLabelID}
	for _, t := range faqTopics {
		ids = append(ids, t.TitleID(), t.AnswerID())
	}
	return ids
}
