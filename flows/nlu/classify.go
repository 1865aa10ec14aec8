package nlu

import (
	"regexp"
	"strings"
)

// Decision thresholds. A policy answer (or any action) needs both a confident model and a training
// phrase of the same intent that looks reasonably like the message; otherwise the answer is "none".
const (
	minProb = 0.45 // lowest probability of the chosen intent
	minSim  = 0.20 // lowest cosine similarity to the nearest training phrase of the chosen intent
	// vetoMargin: when a training phrase of another intent is more similar to the message than the
	// best phrase of the chosen intent by more than this, the regression and the neighbours disagree.
	vetoMargin = 0.30
	// noneMargin: the same veto, tighter, when the closer phrase is an off-topic ("none") example.
	noneMargin = 0.05
	// agreeProb and agreeSim: a lower probability is enough when the regression's top intent is also
	// the intent of the single most similar training phrase, and that phrase is clearly similar. The
	// two independent readings agreeing is the evidence that a bare probability lacks when the
	// regression spreads its mass over neighbouring faq items. It does not apply when the regression
	// gives "none" more than agreeNone: doubt between an answer and no answer keeps the full threshold.
	agreeProb = 0.30
	agreeSim  = 0.45
	agreeNone = 0.10
)

var (
	// keepContact matches a customer asking NOT to stop marketing contact ("メールは止めないで").
	keepContact = regexp.MustCompile(`(止め|とめ|停止し|やめ|辞め|解除し|切ら|送るのをやめ)(ないで|なくていい|なくて大丈夫|なくてよい|ません?で)|` +
		`(don't|do not|dont|never) (stop|unsubscribe|opt me out|opt out|remove me)|keep (sending|send|mailing|calling|contacting|me (on|in))|` +
		`(still|continue to) (want|like|receive|get)|(don't|do not|dont) want to (unsubscribe|opt out|stop (getting|receiving))|continue (sending|to send)|` +
		`(このまま|そのまま|引き続き|今まで通り|いままで通り|これまで通り).*(続け|送って|受け取|お願い)|続けて(ください|ほしい|下さい)`)
	// stopRequest matches a demand to stop sharing or using data, which starts a request (利用停止,
	// 第三者提供の停止) even when it reads like a question about items 2 or 3.
	stopRequest = regexp.MustCompile(`(渡さ|提供し|共有し|売ら|流さ|使わ|利用し)ないで|(don't|do not|dont|never) (share|give|sell|pass|hand|use)|stop (sharing|giving|selling|passing|using)`)
	// howQuestion matches a question about how a request works rather than the request itself.
	howQuestion = regexp.MustCompile(`方法|どうやって|どうすれば|どうしたら|どのように|どうやったら|どういう手続|手続き|手順|やり方|必要な(書類|もの)|何が必要|なにが必要|流れ|` +
		`how (do|can|should|would|to)|what (do i need|documents|is the process|are the steps)|which (documents|id)|process for|procedure|steps (to|for)`)
)

// Classify reads one customer message. It never fails: anything it cannot read confidently is "none".
func (m *Model) Classify(text string) Result {
	s := normalize(text)
	res := Result{Intent: None, Confidence: 1, Lang: detectLang(s)}
	if !hasLetters(s) {
		return res
	}
	x := m.vectorize(m.fz.extract(s))
	if len(x) == 0 {
		return res
	}
	p := make([]float32, len(m.classes))
	m.scores(x, p)
	softmax(p)
	top := argmax(p)
	intent := m.classes[top]
	res.Guess, res.GuessConf = intent, float64(p[top])

	switch {
	case intent == "optout" && keepContact.MatchString(s):
		intent = "optin"
	case (intent == "faq.2" || intent == "faq.3") && stopRequest.MatchString(s) && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "？"):
		intent = "disclosure"
	case intent == "disclosure" && howQuestion.MatchString(s) && p[m.classOf["faq.5"]] > 0.02:
		intent = "faq.5"
	}
	conf := p[m.classOf[intent]]
	if intent != m.classes[top] {
		// A rule moved the answer: the rule is the evidence, so keep the model's confidence level.
		conf = p[top]
	}
	if intent != None {
		sim := m.neighbours(x)
		own := sim[m.classOf[intent]]
		agree := intent == m.classes[top] && argmax(sim) == top && own >= agreeSim && conf >= agreeProb &&
			p[m.classOf[None]] <= agreeNone
		if (conf < minProb && !agree) || own < minSim || sim[argmax(sim)]-own > vetoMargin || sim[m.classOf[None]]-own > noneMargin {
			res.Confidence = float64(1 - conf)
			return res
		}
	}
	res.Intent = intent
	res.Confidence = float64(conf)
	if strings.HasPrefix(intent, "faq.") {
		res.Topic = topicFor(intent, s)
		if t, ok := m.taughtTopic(x, intent); ok {
			res.Topic = t
		}
	}
	return res
}

// taughtSim is how similar a message must be to a phrase staff taught with a topic for that topic to
// answer it.
const taughtSim = 0.6

// taughtTopic returns the topic of the taught phrase of intent most similar to x, when one is at
// least taughtSim alike: staff's choice of topic is then worth more than the topic rules.
func (m *Model) taughtTopic(x sparse, intent string) (string, bool) {
	if len(m.docTopic) == 0 {
		return "", false
	}
	nx := vecNorm(x)
	best, topic := float32(taughtSim), ""
	for d, t := range m.docTopic {
		if m.classes[m.docCls[d]] != intent {
			continue
		}
		if s := dot(x, m.docs[d]) / (nx * m.docNorm[d]); s >= best {
			best, topic = s, t
		}
	}
	return topic, topic != ""
}

// dot is the dot product of two sparse vectors (short ones: a message's features).
func dot(a, b sparse) float32 {
	idx := make(map[int32]float32, len(b))
	for _, e := range b {
		idx[e.i] = e.v
	}
	var s float32
	for _, e := range a {
		s += e.v * idx[e.i]
	}
	return s
}

// Similarity is the cosine similarity (0..1) of two messages as the model represents them: what the
// review inbox groups alike misses by.
func (m *Model) Similarity(a, b string) float64 {
	xa, xb := m.vectorize(m.fz.extract(normalize(a))), m.vectorize(m.fz.extract(normalize(b)))
	if len(xa) == 0 || len(xb) == 0 {
		return 0
	}
	return float64(dot(xa, xb) / (vecNorm(xa) * vecNorm(xb)))
}

func argmax(p []float32) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}
