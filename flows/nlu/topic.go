package nlu

import "regexp"

// topicRule narrows a faq intent to one knowledge-base topic when the message names it.
type topicRule struct {
	topic string
	re    *regexp.Regexp
}

// topicRules are tried in order per intent; the first match wins and an intent without a match gets
// its default topic (the last entry, whose pattern is nil). A topic may appear twice (a specific
// pattern early, the catch-all last). Topic IDs are those of the knowledge base
// in package flows (a test there checks that every one exists).
var topicRules = map[string][]topicRule{
	"faq.1": {
		{"1.combo", re(`組み?合わ|照合|他の情報|ほかの情報|特定でき|combin|together with|other (data|information)|indirect|on its own`)},
		{"1.def", nil},
	},
	"faq.2": {
		{"2.purpose", re(`図面|口座|工事|点検|メンテナンス|請求|floor plan|drawing|bank|billing|installation|maintenance`)},
		{"2.marketing", re(`ダイレクトメール|dm|広告|宣伝|営業|キャンペーン|勧誘|アンケート|販促|セール|marketing|advert|promot|campaign|survey|direct mail|mailing|offers?\b|sales`)},
		{"2.stats", re(`統計|集計|分析|匿名|statistic|analy|aggregat|anonym`)},
		{"2.newuse", re(`目的外|他の目的|別の目的|ほかの目的|目的以外|同意なく|勝手に|other purpose|new purpose|different purpose|without (my )?consent|without asking`)},
		{"2.collect", re(`取得|収集|集め|どんな情報|どの情報|何の情報|なんの情報|何を(持|保有|集)|collect|gather|what (data|information|info|personal)|which (data|information)`)},
		{"2.purpose", nil},
	},
	"faq.3": {
		{"3.police", re(`警察|令状|裁判|捜査|捜索|押収|税務署|弁護士|照会|police|warrant|court|law enforcement|subpoena|tax office|investigat|lawyer`)},
		{"3.third", nil},
	},
	"faq.4": {
		{"4.manager", re(`管理者|責任者|教育|研修|社員|従業員|スタッフ|manager|officer|in charge|responsible|employee|staff|training|train`)},
		{"4.safety", nil},
	},
	"faq.5": {
		{"5.agent", re(`代理|委任|家族|親|子ども|子供|息子|娘|夫|妻|主人|成年後見|後見|本人以外|agent|representative|behalf|guardian|parent|proxy|attorney|family|relative|husband|wife|mother|father|child|son|daughter`)},
		{"5.id", re(`本人確認|免許|保険証|パスポート|身分証|マイナンバー|書類|証明|コピー|写し|\bids?\b|passport|licen[cs]e|identi|document|proof|insurance card|copy`)},
		{"5.refuse", re(`断|拒否|拒ま|応じ|できない|もらえない|されない|しない場合|しないこと|ケース|場合は|refus|reject|decline|den(y|ied)|turn (me )?down|say no|won't|will not|not (be )?(disclos|given|done)`)},
		{"5.result", re(`結果|返事|回答|返答|連絡|いつ|どのくらい|どれくらい|何日|日数|期間|how long|when will|answer|reply|respon|hear back|result|notif|let me know|outcome`)},
		{"5.kinds", re(`訂正|修正|削除|追加|利用停止|消去|提供の?停止|使わない|何を請求|どんな請求|種類|correct|fix|delet|eras|remov|stop using|stop shar|kinds|types|what can i (ask|request)|update`)},
		{"5.how", nil},
	},
	"faq.6": {
		{"6.improve", re(`改善|改め|是正|指導|苦情|やめさせ|止めさせ|直し|improve|change how|complain|fix how|stop the (vendor|contractor)|object`)},
		{"6.contractors", nil},
	},
	"faq.7": {{"7.links", nil}},
	"faq.8": {{"8.laws", nil}},
	"faq.9": {{"9.changes", nil}},
	"faq.10": {
		{"10.disable", re(`無効|拒否|オフ|ブロック|設定|受け入れ|受入れ|許可しない|拒絶|切る|削除|消し|disabl|block|turn (them |it )?off|refus|reject|decline|delet|clear|without cookies|switch off|settings?`)},
		{"10.use", re(`何に(使|利用)|利用目的|目的|使い道|広告|分析|何のため|なんのため|(what|why).*(use|for)|purpose|advert|analy|marketing`)},
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

// topicFor picks the topic of a faq intent for a normalised message.
func topicFor(intent, s string) string {
	for _, r := range topicRules[intent] {
		if r.re == nil || r.re.MatchString(s) {
			return r.topic
		}
	}
	return ""
}

// TopicIDs lists every topic ID Classify can return, so that the knowledge base can check it knows them.
func TopicIDs() []string {
	var out []string
	for _, rules := range topicRules {
		for _, r := range rules {
			out = append(out, r.topic)
		}
	}
	return out
}
