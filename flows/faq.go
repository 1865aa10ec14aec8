package flows

import (
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

// faqTopic finds a topic by ID.
func faqTopic(id string) (FAQTopic, bool) {
	for _, t := range faqTopics {
		if t.ID == id {
			return t, true
		}
	}
	return FAQTopic{}, false
}

// faqDefault finds the default topic of a policy item.
func faqDefault(item int) (FAQTopic, bool) {
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
	OnAction: func(st State, _ Input, p Postback) Result {
		if replies, ok := FAQTopicReplies(p.Topic); ok {
			st.Misses = 0
			return Result{State: st, Replies: replies}
		}
		return Result{State: st, Replies: []Reply{mainMenu(st)}}
	},
	Label: func(p Postback) (string, bool) {
		if p.Topic == FAQMenuTopic {
			return lblTopics, true
		}
		if t, ok := faqTopic(p.Topic); ok {
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

// FAQReplies answers a classified question: the cited answer plus related topics as quick replies, or
// ok=false when the intent is not a faq intent. The classifier's topic is used when it belongs to the
// same policy item; otherwise the item's default topic answers.
func FAQReplies(in Input) (replies []Reply, ok bool) {
	item, ok := FAQItem(in.Intent.Name)
	if !ok {
		return nil, false
	}
	t, found := faqTopic(in.Intent.Topic)
	if !found || t.Item != item {
		if t, found = faqDefault(item); !found {
			return nil, false
		}
	}
	return topicReplies(t), true
}

// FAQTopicReplies answers one topic by ID (used when the customer taps a related-topic quick reply;
// postback data "do=faq&topic=<ID>"). The ID FAQMenuTopic gives the list of policy items.
func FAQTopicReplies(topicID string) ([]Reply, bool) {
	if topicID == FAQMenuTopic {
		return FAQMenuReplies(), true
	}
	t, ok := faqTopic(topicID)
	if !ok {
		return nil, false
	}
	return topicReplies(t), true
}

// FAQMenuReplies lists the 13 policy items as quick replies (LINE's maximum), each opening the item's
// default topic.
func FAQMenuReplies() []Reply {
	choices := make([]Choice, 0, faqItems)
	for item := 1; item <= faqItems; item++ {
		if t, ok := faqDefault(item); ok {
			choices = append(choices, Choice{LabelID: t.TitleID(), Postback: FAQPostback(t.ID)})
		}
	}
	return []Reply{{ID: FAQMenuPromptID, Choices: choices}}
}

// topicReplies is the answer to one topic with its related topics and the way back to the item list.
func topicReplies(t FAQTopic) []Reply {
	choices := make([]Choice, 0, len(t.Related)+1)
	for _, id := range t.Related {
		if r, ok := faqTopic(id); ok {
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
