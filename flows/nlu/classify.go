package nlu

import (
	"regexp"
	"slices"
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
	// contractorWord names the company's contractors (業者, 委託先, 外注, vendors). Data they receive is
	// policy item 6 (and 2 (2)), not item 3: item 3 says data goes to no third party, which read alone
	// about a contractor is wrong. The model hears 「情報を渡す」 as item 3, so the rule moves the answer.
	contractorWord = regexp.MustCompile(`委託|外注|下請|業者|協力会社|施工(会社|店)|工事(会社|店)|配送会社|運送会社|` +
		`contractor|vendor|subcontract|outsourc|service (provider|compan)|supplier|installer`)
	// thirdPartyOnly keeps item 3 for what is never a contractor's work: selling data, list brokers,
	// "other businesses" in general, the police and warrants.
	thirdPartyOnly = regexp.MustCompile(`名簿業者|他の業者|ほかの業者|他業者|売|警察|令状|裁判|捜査|税務署|` +
		`\bsell|\bsold\b|broker|other (compan|business)|police|warrant|court|law enforcement`)
	// cookieWord: cookies are only ever policy item 10. "How do I refuse cookies?" reads like a question
	// about refused requests (item 5) to a model that learnt "refuse" and "how do I" there.
	cookieWord = regexp.MustCompile(`cookie|クッキー|くっきー`)
	// forumWord names the site's services where customers publish things themselves (フォーラム, 掲示板,
	// greeting cards): policy item 10 (3), which a model that reads "site" as item 7 (linked sites)
	// or "who can see" as item 4 would miss. Bare 投稿 and 書き込み are left to the topic rules: data
	// posted by someone else (「ネットに書き込まれた」) is not this.
	forumWord = regexp.MustCompile(`フォーラム|掲示板|会議室|グリーティングカード|口コミ|クチコミ|` +
		`forums?\b|message board|bulletin board|greeting card|\be-?cards?\b|my (posts?|reviews?)\b`)
	// optStatus matches a question about what one has stopped, or about one's marketing settings, as
	// opposed to a request to stop something: 「今って何を停止してるんだっけ？」, "what have I opted out
	// of?". It needs both marketing words and a question about the present state, so a request that
	// mentions a setting (「配信設定でメールを止めて」) is not one. See Classify for what it does.
	optStatus = regexp.MustCompile(
		// 何を止めた / どれを停止している / どの連絡が止まっている
		`(何|なに|どれ|どの(連絡|案内|配信|お知らせ|メール|dm)?)(を|が)(停止|止め|止ま|解除|オプトアウト|オフに|配信停止)|` +
			// 停止したもの・止めている連絡を確認したい / 教えて / 一覧
			`(停止|止め|止ま|解除|断っ|オプトアウト)(し|て|され)?(た|てる|ている|ています|ました|てある|てます|中)` +
			`(もの|の|連絡|案内|内容|配信|項目)?(は|を|って|が)?[^。]{0,8}(何|なに|どれ|どの|確認|教え|一覧|見せ|知りたい|っけ)|` +
			// 配信停止の設定・状況を確認したい / どうなってる（利用停止は開示等の請求: 除く）
			`(配信|([^用]|^)停止|営業|宣伝|広告|販促|マーケティング|メルマガ|dm|オプトアウト|お知らせ|案内)[^。]{0,6}(設定|状況|状態)` +
			`[^。]{0,10}(確認|教え|知りたい|見せ|見たい|どう|どっち|どちら|なって|\?|？)|` +
			// 今 … 止まっている？ / 止まってますか
			`(今|いま|現在|現状)[^。]{0,12}(止まって|停止されて|停止中|停止して(い)?る|止めて(い)?る|オフになって)|` +
			`(止まって|停止されて|停止中|停止になって)(い)?(る|ます)(か|の|\?|？)|` +
			// English
			`what (have|did) i (opt(ed)? out|unsubscrib|stop|block|turn(ed)? off|say no|decline|refuse)|` +
			`what (am i|are you) (opted|unsubscribed|blocking|not (sending|contacting))|` +
			`what (marketing|e-?mails?|messages|newsletters?|contacts?) (am i|do i|have i) (signed up|subscribed|opted|get|getting|receiv)|` +
			`which (ones?|channels?|messages?|e-?mails?|contacts?|kinds?|types?)? ?(have|did|am) i (opt|unsub|stop|block|turn|declin|refus|say no|cancel)|` +
			`(check|see|view|show|review|look at|confirm|what are|what's|what is|tell me)( me)? (my|the|current|my current) ?` +
			`(marketing|e-?mail|contact|communication|unsubscribe|opt-?out|subscription|notification|mailing|newsletter) (settings|preferences|status|choices|options)|` +
			`(am i|are my|is my) (still )?(opted out|unsubscribed|subscribed|on (the|your) (list|mailing list)|(e-?mails?|calls?|mail) (stopped|blocked|turned off))|` +
			`(is|are) my (e-?mails?|calls?|mail|newsletters?|messages?) (still )?(unsubscribed|stopped|blocked|turned off|opted out)|` +
			`(have|did) i (already )?(unsubscribed|opted out|stopped|blocked)|` +
			`(opt-?out|unsubscribe|marketing|subscription) (status|settings|preferences)|status of my (opt|unsub|marketing)`)
)

// bossDemand matches a demand to have a person in charge come to the chat (「責任者出して」, "get me your
// manager"): a complaint or a request for a person, not a question about policy item 4's manager,
// though it shares the words.
var bossDemand = regexp.MustCompile(`(責任者|上司|上の人|管理者|担当者|偉い人)(を|と|に)?(出し|出せ|呼ん|呼べ|呼び|代わ|替わ|かわっ|つな|繋|話させ)|` +
	`(get|fetch|put|bring) me (through to )?(your|a|the) (manager|supervisor|boss)|(speak|talk) to (your|a|the) (manager|supervisor|boss)`)

// TopicOptStatus is the topic of an opt-out or opt-in message that asks what is stopped now (see
// optStatus); the opt-out feature answers it with the status view.
const TopicOptStatus = "optout.status"

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
	switch {
	case intent == "faq.4" && bossDemand.MatchString(s):
		intent = "human"
		if p[m.classOf["complaint"]] > p[m.classOf["human"]] {
			intent = "complaint"
		}
	case strings.HasPrefix(intent, "faq.") && intent != "faq.10" && (cookieWord.MatchString(s) || forumWord.MatchString(s)):
		intent = "faq.10"
	case intent == "faq.3" && contractorWord.MatchString(s) && !thirdPartyOnly.MatchString(s):
		intent = "faq.6"
	}
	// A question about what is stopped now is answered with the opt-out status view: on the opt-out
	// intents, and also when the checks below would leave the message unanswered. The view only
	// shows what this chat has stopped (no record is made, no flow starts), so the rule's precision
	// is evidence enough; a message the model reads as anything else (a complaint) keeps its intent.
	statusAsked := optStatus.MatchString(s)
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
			if statusAsked {
				return optStatusResult(res, conf)
			}
			res.Confidence = float64(1 - conf)
			return res
		}
	}
	if statusAsked && (intent == None || intent == "optout" || intent == "optin") {
		return optStatusResult(res, conf)
	}
	res.Intent = intent
	res.Confidence = float64(conf)
	if strings.HasPrefix(intent, "faq.") {
		topics := topicFor(intent, s)
		if t, ok := m.taughtTopic(x, intent); ok {
			// Staff's topic answers first. When the rules found it too, their other topics are further
			// questions of the message; when they did not, their first choice is what staff replaced,
			// and only the topics after it are kept.
			if i := slices.Index(topics, t); i >= 0 {
				topics = slices.Delete(topics, i, i+1)
			} else if len(topics) > 0 {
				topics = topics[1:]
			}
			topics = append([]string{t}, topics...)
		}
		if len(topics) > 0 {
			res.Topic = topics[0]
		}
		if len(topics) > 1 {
			res.Also = topics[1:]
		}
	}
	return res
}

// optStatusResult is the reading of a question about what is stopped now: the opt-out intent with
// TopicOptStatus, whatever the model made of it (opt-in, or nothing sure; Guess still tells).
func optStatusResult(res Result, conf float32) Result {
	// The rule is the evidence (see optStatus): the answer is as sure as a confident model's, and
	// does not go to the review inbox as unsure.
	res.Intent, res.Topic, res.Confidence = "optout", TopicOptStatus, max(float64(conf), statusConfidence)
	return res
}

// statusConfidence is the confidence of an answer the status rule decided.
const statusConfidence = 0.9

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
	for _, dt := range m.docTopic { // in document order: of two as similar, the first (in Train's order) wins
		d := dt.doc
		if m.classes[m.docCls[d]] != intent {
			continue
		}
		if s := dot(x, m.docs[d]) / (nx * m.docNorm[d]); s > best || (s == best && topic == "") {
			best, topic = s, dt.topic
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
