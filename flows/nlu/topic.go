package nlu

import (
	"regexp"
	"slices"
	"strings"
)

// topicRule narrows a faq intent to one knowledge-base topic when the message names it.
type topicRule struct {
	topic string
	re    *regexp.Regexp
}

// maxTopics is how many topics one message is answered with: the topic and at most two more (Also),
// so that a reply stays within LINE's five messages with room to spare.
const maxTopics = 3

// topicRules are tried in order per intent. The order is one of specificity: a rule whose words only
// ever mean its topic (手数料, フォーラム) comes before one with everyday words (いつ, どれくらい), so that
// it answers first and claims its words (see topicFor). An intent without a match gets its default
// topic (the last entry, whose pattern is nil). A topic may appear twice (a specific pattern early,
// the catch-all last). Topic IDs are those of the knowledge base in package flows (a test there checks
// that every one exists).
//
// English words are matched as whole words (\b) wherever a shorter word hides in longer ones: "son" in
// "personal", "fee" in "feedback". Japanese has no word boundaries, so words that hide inside others
// exclude them explicitly: 夫 but not 大丈夫, 断 but not 判断.
var topicRules = map[string][]topicRule{
	"faq.1": {
		{"1.combo", re(`組み?合わ|照合|他の情報|ほかの情報|特定でき|combin|together with|other (data|information)|indirect|on its own`)},
		{"1.def", nil},
	},
	"faq.2": {
		{"2.purpose", re(`図面|口座|工事|点検|メンテナンス|請求|floor plan|drawing|bank|billing|installation|maintenance`)},
		{"2.marketing", re(`ダイレクトメール|\bdm\b|広告|宣伝|営業|キャンペーン|勧誘|アンケート|販促|セール|marketing|advert|promot|campaign|survey|direct mail|mailing|offers?\b|sales`)},
		{"2.stats", re(`統計|集計|分析|匿名|statistic|analy|aggregat|anonym`)},
		{"2.newuse", re(`目的外|他の目的|別の目的|ほかの目的|目的以外|同意なく|勝手に|other purpose|new purpose|different purpose|without (my )?consent|without asking`)},
		{"2.collect", re(`取得|収集|集めて(い|る|ま)|集めますか|どんな情報|どの情報|何の情報|なんの情報|何を(持|保有|集)|collect|gather|what (data|information|info|personal)|which (data|information)`)},
		{"2.purpose", nil},
	},
	"faq.3": {
		{"3.police", re(`警察|令状|裁判|捜査|捜索|押収|税務署|弁護士|照会|police|warrant|court|law enforcement|subpoena|tax office|investigat|lawyer`)},
		{"3.third", re(`第三者|他社|ほかの会社|他の会社|よその会社|外部|売|third[- ]part|other (compan|business|firm|organi)|outside|\bsell|\bsold\b|partner`)},
		{"3.third", nil},
	},
	"faq.4": {
		// The manager's title holds 保護 ("protection"): claimed here, it does not also ask for 4.safety.
		{"4.manager", re(`(個人情報)?保護管理者|管理者|責任者|担当者|誰|だれ|教育|研修|社員|従業員|スタッフ|` +
			`(data |privacy |information )?(protection )?(manager|officer)\b|\bwho\b|in charge|responsible|employee|\bstaff|training|\btrain`)},
		// Measures only: 守る and "protect" are also how one asks who is in charge of protecting data.
		{"4.safety", re(`セキュリティ|不正アクセス|漏|紛失|滅失|毀損|暗号|ハッキング|ハッカー|対策|安全|` +
			`security|secure|hack|encrypt|breach|unauthori[sz]ed|\bsafe|measures|safeguard`)},
		{"4.safety", nil},
	},
	"faq.5": {
		{"5.agent", re(`代理|委任|代わり|代行|家族|身内|親族|([^切身会]|^)親([^切身会]|$)|両親|子ども|子供|息子|娘|([^丈]|^)夫|妻|主人|` +
			`母|父|おじいちゃん|おばあちゃん|兄|姉|弟|妹|成年後見|後見|本人以外|本人じゃな|本人でな|本人ではな|` +
			`他の人|ほかの人|他人|弁護士|司法書士|行政書士|` +
			`\b(agents?|representatives?|behalf|guardians?|parents?|proxy|attorney|lawyers?|solicitors?|family|relatives?|` +
			`husband|wife|spouse|partner|mother|father|mum|mom|dad|grand\w+|child|children|kids?|sons?|daughters?|` +
			`brother|sister|carer|caregiver|friend)\b|` +
			`(some ?one|some ?body|any ?one|any ?body) else|another person|other person|in my place|instead of me|for (him|her|them)\b`)},
		{"5.id", re(`本人確認|免許|保険証|パスポート|身分証|マイナンバー|書類|証明|(証|カード)の?(コピー|写し)|コピーで|写しで|` +
			`\bids?\b|passport|licen[cs]e|identity|identification|documents?\b|proof|insurance card|` +
			`cop(y|ies) of (my|your|an?|the) (id|licen|passport|card|document)`)},
		// Refusal only: 断 not in 判断, 応じ only as "not comply". Everyday negatives (できない, 場合は) are
		// left out, since they are in every other kind of question too.
		{"5.refuse", re(`お断り|断ら|断る|断わ|断って|拒否|拒ま|拒絶|却下|不開示|応じ(て(もら|くれ)え?ない|られない|ない)|` +
			`(開示|対応|請求|削除)(され|し|して(もらえ|くれ))ない(場合|こと|とき|ケース|の)|` +
			`refus|reject|declin|\bden(y|ies|ied)\b|turn(ed)? (me |it |my request |us )?down|say no|` +
			`(won't|will not|wouldn't|would not|can't|cannot|can not) (disclose|give|show|grant|accept|answer|do|share|comply)|` +
			`not (be )?(disclos|given|grant|accept|approv)`)},
		// The fee claims a quantity word right after it (手数料はどれくらい), which would otherwise ask
		// for 5.result as well.
		{"5.fee", re(`(手数料|料金|費用|お金|金額|代金|実費)(は|って|が|を|の)?(どれくらい|どのくらい|どれぐらい|どのぐらい|いくら)?|` +
			`有料|無料|いくら|お?支払(い)?(方法)?|払い方|払う|払わ|タダ|` +
			`\bfees?\b|\bcost(s|ly)?\b|\bcharg(e|es|ed)\b|\bpay\b|\bpaid\b|\bfree\b|\bprice|how much (is|does|will|would|do|are|to|for)\b`)},
		{"5.result", re(`結果|返事|回答|返答|いつ|どのくらい|どれくらい|どのぐらい|どれぐらい|何日|日数|何週間|何か月|何ヶ月|` +
			`期限|期間|時間(が|は)?かか|待(つ|た|ち)|` +
			`how long|how many days|how soon|when (will|would) (i|you) (get|hear|receive|know|reply|answer|respond|tell)|` +
			`when (do|can|should) i (get|hear|receive|expect)|when (do|will) you (reply|answer|respond|get back|tell)|` +
			`\banswer|\brepl(y|ies)|\brespon(d|se)|hear back|\bresults?\b|let me know|outcome|deadline|time ?frame|take long|turnaround`)},
		// What can be requested: a kind named as what one may ask for (削除も請求できますか), not a kind
		// that is only the object of another question (削除の書類は, refuse to delete).
		{"5.kinds", re(`何を請求|どんな請求|何が請求|請求できること|種類|` +
			`(訂正|修正|削除|追加|利用停止|消去|提供の?停止)(も|は|を|って|の)?` +
			`(請求|お願い|依頼|申請|要求|求め|頼|して(もら|ほし|くれ))[^。？?]{0,5}(でき|可能|ますか)|` +
			`can i (ask|request|get|have)( you)?( to)? (correct|fix|delet|eras|remov|stop|updat|add)|` +
			`can you (correct|fix|delet|eras|remov|stop using|updat)|\bkinds\b|\btypes\b|what can i (ask|request)|what (requests|rights)|` +
			`can i (ask|request) (for )?(the )?(notice|notif|purpose|disclosure)`)},
		// How to make a request, asked in so many words. 5.how is also the default; the rule is here so
		// that "how do I ask? is there a fee?" is answered both ways. Bare どうすれば is left out: it asks
		// what to do about something else (断られたらどうすれば).
		{"5.how", re(`方法|やり方|手続き|手続|手順|流れ|どこに(出|送|申|言|請求|連絡)|どこへ|申し込み方|申込方法|` +
			`どうやって(請求|申請|申し込|頼|お願い|出)|` +
			`how (do|can|should) i (ask|request|make|get|apply|submit|send|file)|how to (ask|request|make|apply|submit|file)|` +
			`procedure|process|\bsteps\b|where (do|can|should) i (send|submit|apply|ask|file)|\bforms?\b`)},
		{"5.how", nil},
	},
	"faq.6": {
		{"6.improve", re(`改善|改め|是正|指導|苦情|やめさせ|止めさせ|直し|improve|change how|complain|fix how|stop the (vendor|contractor)|object`)},
		{"6.contractors", re(`渡|提供|共有|預け|見せ|見られ|見る|範囲|使|利用|` +
			`\b(get|gets|getting|receive|receives|see|sees|access|share|shared|sharing|give|given|gives|pass|passed|hand|handed|send|sent|process|processes|use|used|uses)\b`)},
		{"6.contractors", nil},
	},
	"faq.7": {{"7.links", nil}},
	"faq.8": {{"8.laws", nil}},
	"faq.9": {{"9.changes", nil}},
	"faq.10": {
		// What a customer posts on the site is item 10 (3), whatever else the message says about cookies.
		{"10.forum", re(`フォーラム|掲示板|会議室|書き込|書込|投稿|口コミ|クチコミ|レビュー|コメント|グリーティング|電子カード|` +
			`forums?\b|message board|bulletin|\bpost(s|ed|ing)?\b|comments?\b|greeting|e-?cards?\b|reviews?\b`)},
		{"10.disable", re(`無効|拒否|拒絶|拒む|拒め|断|オフ|ブロック|設定|受け入れ|受入れ|受け付けな|許可しない|同意しない|` +
			`切る|削除|消し|消す|` +
			`止め|やめ|使わせ|使わない|使われたくない|使われるのが|嫌|いやです|保存させない|なしで|無しで|` +
			`disabl|block|turn (them |it |cookies )?off|refus|reject|declin|delet|clear|without cookies|switch off|settings?|` +
			`\bstop|prevent|avoid|opt(ing)? out|not (to )?(use|accept|allow|agree)|(don't|do not|dont) (want|accept|allow|agree)|say no|\bdeny`)},
		{"10.use", re(`(何|なに)に(使|つか|利用)|利用目的|目的|使い道|広告|分析|何のため|なんのため|` +
			`(使う|使って(い)?る|利用する)理由|(なぜ|どうして)(クッキー|cookie)を?(使|利用)|` +
			`(what|why) (do|does|are|is)( you| your (site|website|company))? (use|using|need|want)|` +
			`what (are|is) (they|it|cookies?|the cookies?|cookie data|the data) (used )?for|what for|used for|` +
			`use (them|it|cookies|cookie data) for|purpose|advert|analy|marketing|\bads\b`)},
		{"10.cookies", re(`(cookie|クッキー|くっきー)(とは|って(何|なに|なん)|は(何|なん)ですか)|仕組み|特定|識別|わかる|分かる|` +
			`what (is|are) (a )?cookies?\b|what's a cookie|how do cookies work|identif|recogni[sz]e|know who i am`)},
		{"10.cookies", nil},
	},
	"faq.11": {
		{"11.report", re(`報告|国|官庁|当局|委員会|総務省|役所|届け|届出|report|authorit|government|regulator|commission|ministry`)},
		{"11.leak", nil},
	},
	"faq.12": {{"12.contact", nil}},
	"faq.13": {{"13.retention", nil}},
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// topicFor picks the topics of a faq intent for a normalised message: first the topic that answers
// it, then up to maxTopics-1 further topics of the same intent the message asks about too ("開示って
// どれくらいで…手数料は？"). Only rules that match count for those further topics, never the
// intent's default; the default answers only a message no rule matches. Each match claims the words
// it matched, so that one phrase never asks for two topics: in 「手数料はどれくらい」 the fee rule claims
// 「手数料はどれくらい」 and 5.result does not see 「どれくらい」. The result is never empty for a faq
// intent.
func topicFor(intent, s string) []string {
	var out []string
	def := ""
	for _, r := range topicRules[intent] {
		if r.re == nil {
			def = r.topic
			break
		}
		loc := r.re.FindAllStringIndex(s, -1)
		if loc == nil {
			continue
		}
		s = claim(s, loc)
		if len(out) < maxTopics && !slices.Contains(out, r.topic) && !coveredBy(out, r.topic) {
			out = append(out, r.topic)
		}
	}
	if len(out) == 0 && def != "" {
		out = []string{def}
	}
	return out
}

// covers lists, for a topic, the topics its answer already gives in full: asked after it, they would
// only repeat it (「代理人が請求するときの必要書類は？」 is answered by 5.agent, ID documents included).
var covers = map[string][]string{
	"5.agent":     {"5.id", "5.how"}, // a representative's documents are how a representative asks
	"2.marketing": {"2.collect"},     // the marketing answer names the data it uses
}

// coveredBy reports whether a topic already answered covers topic.
func coveredBy(answered []string, topic string) bool {
	for _, a := range answered {
		if slices.Contains(covers[a], topic) {
			return true
		}
	}
	return false
}

// claim blanks out the matched spans of s, keeping byte offsets (and so later matches) intact.
func claim(s string, loc [][]int) string {
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, l := range loc {
		b.WriteString(s[last:l[0]])
		b.WriteString(strings.Repeat(" ", l[1]-l[0]))
		last = l[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// TopicIDs lists every topic ID Classify can return for a faq intent, so that the knowledge base can
// check it knows them. (TopicOptStatus, on the opt-out intents, is no knowledge-base topic.)
func TopicIDs() []string {
	var out []string
	for _, rules := range topicRules {
		for _, r := range rules {
			out = append(out, r.topic)
		}
	}
	return out
}
