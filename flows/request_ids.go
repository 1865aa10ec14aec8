package flows

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// What the request flow reads from free text: kinds, grounds, requesters and delivery named in a
// message, the words that steer the form, and the validation of typed answers.

func itoa(n int) string { return strconv.Itoa(n) }

// fold is the form in which words are looked for: NFKC, lower case.
func fold(s string) string { return strings.ToLower(norm.NFKC.String(s)) }

// kindWords recognises request kinds named in free text. Longer, more specific words come first and
// claim their part of the text: 「第三者提供記録の開示」 is not also 開示, 「利用停止」 not also 停止.
var kindWords = []struct {
	word string
	k    RequestKind
}{
	{"第三者提供記録の開示", KindThirdPartyRecords}, {"提供記録の開示", KindThirdPartyRecords},
	{"第三者提供記録", KindThirdPartyRecords}, {"提供記録", KindThirdPartyRecords}, {"誰に渡した", KindThirdPartyRecords},
	{"だれに渡した", KindThirdPartyRecords}, {"third-party record", KindThirdPartyRecords},
	{"third party record", KindThirdPartyRecords}, {"sharing record", KindThirdPartyRecords},
	{"who you shared", KindThirdPartyRecords}, {"who you gave", KindThirdPartyRecords},
	{"第三者への提供停止", KindStopThirdParty}, {"第三者への提供を停止", KindStopThirdParty},
	{"第三者提供の停止", KindStopThirdParty}, {"第三者提供停止", KindStopThirdParty}, {"提供停止", KindStopThirdParty},
	{"第三者への提供", KindStopThirdParty}, {"他社に渡さ", KindStopThirdParty}, {"他の会社に渡さ", KindStopThirdParty},
	{"渡さないで", KindStopThirdParty}, {"stop sharing", KindStopThirdParty}, {"stop providing", KindStopThirdParty},
	{"don't share", KindStopThirdParty}, {"do not share", KindStopThirdParty},
	{"利用目的の通知", KindPurposeNotice}, {"利用目的", KindPurposeNotice}, {"purpose", KindPurposeNotice},
	{"利用停止", KindSuspension}, {"利用を停止", KindSuspension}, {"利用の停止", KindSuspension},
	{"使用を停止", KindSuspension}, {"使わないで", KindSuspension}, {"使用をやめ", KindSuspension},
	{"利用をやめ", KindSuspension}, {"suspension", KindSuspension}, {"suspend", KindSuspension},
	{"stop using", KindSuspension},
	{"訂正", KindCorrection}, {"修正", KindCorrection}, {"直して", KindCorrection}, {"間違", KindCorrection},
	{"correction", KindCorrection}, {"correct", KindCorrection}, {"rectif", KindCorrection},
	{"追加", KindAddition}, {"addition", KindAddition}, {"add my", KindAddition},
	{"削除", KindDeletion}, {"deletion", KindDeletion}, {"delete", KindDeletion},
	{"消去", KindErasure}, {"消して", KindErasure}, {"消してほしい", KindErasure}, {"erasure", KindErasure},
	{"erase", KindErasure},
	{"開示", KindDisclosure}, {"かいじ", KindDisclosure}, {"見せて", KindDisclosure},
	{"disclosure", KindDisclosure}, {"disclose", KindDisclosure}, {"copy of my data", KindDisclosure},
	{"access to my data", KindDisclosure},
}

// kindsIn returns the kinds a message names (0 when none).
func kindsIn(text string) RequestKind {
	t := fold(text)
	var k RequestKind
	for _, w := range kindWords {
		if i := strings.Index(t, w.word); i >= 0 {
			k |= w.k
			t = t[:i] + strings.Repeat(" ", len(w.word)) + t[i+len(w.word):] // claimed
		}
	}
	return k
}

// asksForRequestKind reports whether a message asks for one of the request kinds (利用停止, 削除, 開示, …)
// and is not about marketing contact (no channel, no 「配信」): 「利用停止をお願いしたい」 is a
// request about personal data, whatever the classifier made of it; 「メールの配信を利用停止にして」
// and 「DMを止めて」 are opt-outs.
func asksForRequestKind(text string) bool {
	return kindsIn(text) != 0 && !marketingNamed(text)
}

// explainAsked recognises "what does 利用停止 mean?": a short question naming kinds. k is the kind
// asked about, 0 for several (explain them all).
func explainAsked(text string) (RequestKind, bool) {
	if utf8.RuneCountInString(text) > 40 {
		return 0, false
	}
	t := fold(text)
	asks := false
	for _, w := range []string{"とは", "って何", "ってなに", "ってなん", "意味", "どういう", "何ですか", "なんですか",
		"違い", "説明", "what is", "what's", "what does", "meaning", "mean", "explain", "?"} {
		if strings.Contains(t, w) {
			asks = true
			break
		}
	}
	k := kindsIn(text)
	if !asks || k == 0 {
		return 0, false
	}
	if len(k.List()) > 1 {
		return 0, true
	}
	return k, true
}

// asksRequestStatus recognises 「申請状況」 / "status of my request" in any message: the status
// chip's labels in both catalogs (申請状況, My requests) and the usual ways of asking the same.
func asksRequestStatus(text string) bool {
	t := fold(text)
	if strings.Contains(t, "請求書") || strings.Contains(t, "invoice") || strings.Contains(t, "bill") {
		return false // the bill, not a request
	}
	for _, w := range []string{"申請状況", "請求状況", "受付状況", "申請の状況", "請求の状況", "申請の状態", "請求の状態",
		"申請一覧", "請求一覧", "申請の一覧", "請求の一覧", "request status", "requests status", "status of my request",
		"my requests", "my data requests", "my personal data requests"} {
		if strings.Contains(t, w) {
			return true
		}
	}
	if wordIs(text, "my request", "my data request") {
		return true
	}
	if containsAny(t, "手続き", "手続", "方法", "やり方", "どうやって", "how do", "how to", "how can") {
		return false // how a request works: the policy answer
	}
	topic := containsAny(t, "申請", "請求", "受付番号", "開示", "削除", "訂正", "利用停止", "消去", "request", "application")
	status := containsAny(t, "状況", "進捗", "進み具合", "どうなって", "status", "progress", "where is",
		"what happened to", "track")
	return topic && status
}

// asksWithdraw recognises "I want to withdraw my request".
func asksWithdraw(text string) bool {
	return containsAny(fold(text), "取り下げ", "取下げ", "とりさげ", "撤回", "withdraw", "cancel my request")
}

func containsAny(t string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}

// groundIn recognises a ground named in free text.
func groundIn(text string) Ground {
	t := fold(text)
	switch {
	case containsAny(t, "目的外", "目的以外", "beyond", "other purpose", "purposes"):
		return GroundBeyondPurpose
	case containsAny(t, "不正", "不適正", "勝手に", "improper", "unlawful", "illegal"):
		return GroundImproper
	case containsAny(t, "必要ない", "必要なく", "必要がな", "必要が無", "必要では", "不要", "いらない", "no longer",
		"not needed", "unneeded"):
		return GroundUnneeded
	case containsAny(t, "漏え", "漏洩", "漏れ", "流出", "leak"):
		return GroundLeaked
	case containsAny(t, "権利", "利益", "害さ", "rights", "harm"):
		return GroundRightsAtRisk
	case containsAny(t, "その他", "ほか", "other"):
		return GroundOther
	}
	return ""
}

func validGround(g Ground) bool {
	for _, x := range GroundList() {
		if x == g {
			return true
		}
	}
	return false
}

// requesterIn recognises who asks, and a legal representative's kind.
func requesterIn(text string) (Requester, string) {
	t := fold(text)
	switch {
	case containsAny(t, "親権", "親です", "保護者", "parent"):
		return RequesterLegal, RepParent
	case containsAny(t, "後見", "guardian"):
		return RequesterLegal, RepGuardian
	case containsAny(t, "法定代理", "legal"):
		return RequesterLegal, ""
	case containsAny(t, "代理", "委任", "agent", "behalf"):
		return RequesterAgent, ""
	case containsAny(t, "本人", "自分", "わたし", "私") || hasWord(t, "me", "myself", "self", "i", "mine"):
		return RequesterSelf, ""
	}
	return "", ""
}

// hasWord reports whether one of words is a whole word of t (for short English words).
func hasWord(t string, words ...string) bool {
	for _, f := range strings.FieldsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }) {
		for _, w := range words {
			if f == w {
				return true
			}
		}
	}
	return false
}

// deliveryIn recognises how the customer wants the answer.
func deliveryIn(text string) DeliveryMethod {
	t := fold(text)
	switch {
	case containsAny(t, "電子", "リンク", "トーク", "チャット", "ダウンロード", "メール", "e-mail", "email", "line",
		"electronic", "online", "link", "download", "chat"):
		return DeliveryElectronic
	case containsAny(t, "郵送", "郵便", "書面", "post", "mail", "letter", "paper"):
		return DeliveryPost
	}
	return ""
}

// sectionIn recognises a section of the summary named to be changed (「種類を変更」, "Change
// delivery", 「住所を直したい」); 0 when the message does not ask for a change.
func sectionIn(text string) reqSection {
	t := fold(text)
	if !containsAny(t, "変更", "変え", "かえ", "直", "修正", "訂正", "change", "edit", "fix", "correct") {
		return 0
	}
	switch {
	case containsAny(t, "請求者", "請求する人", "代理", "requester", "who", "agent", "representative"):
		return secWho
	case containsAny(t, "受取", "受け取", "受取り", "delivery", "receive", "answer by"):
		return secDelivery
	case containsAny(t, "書類", "写真", "送り方", "document", "photo") || hasWord(t, "id"):
		return secPhotos
	case containsAny(t, "本人情報", "名前", "氏名", "住所", "電話", "name", "address", "phone", "identity"):
		return secIdentity
	case containsAny(t, "内容", "理由", "対象", "details", "reason", "which information"):
		return secDetails
	case containsAny(t, "種類", "請求", "kind", "request"):
		return secWhat
	}
	return 0
}

// The words that steer the form.
func isBackWord(text string) bool {
	return wordIs(text, "戻る", "もどる", "戻って", "前に戻る", "ひとつ前", "一つ前", "前へ", "back", "go back", "previous")
}

func isResumeWord(text string) bool {
	return isYesWord(text) || wordIs(text, "続き", "続きから", "続ける", "つづき", "再開", "continue", "resume", "carry on")
}

func isRestartWord(text string) bool {
	return wordIs(text, "最初から", "はじめから", "やり直す", "やりなおす", "やり直し", "新しく", "restart", "start again",
		"start over", "new")
}

// isMenuWord recognises 「メニュー」 typed in the form.
func isMenuWord(text string) bool {
	return wordIs(text, "メニュー", "メインメニュー", "メニューへ", "メニューに戻る", "メニューを見せて", "menu", "main menu",
		"show the menu", "back to the menu")
}

// isStayWord and isQuitWord answer "keep going or quit?" (the leave question).
func isStayWord(text string) bool {
	return isResumeWord(text) || wordIs(text, "入力を続ける", "続けます", "入力を続けます", "keep going", "go on")
}

func isQuitWord(text string) bool {
	return wordIs(text, "中止する", "中止します", "中止", "中止して", "やめる", "やめます", "キャンセル", "キャンセルする",
		"いいえ", "破棄", "破棄する", "quit", "cancel", "no", "stop", "discard", "discard it")
}

// isExplainWord recognises the explanation chip's label and the like typed without naming a kind.
func isExplainWord(text string) bool {
	return wordIs(strings.TrimRight(strings.TrimSpace(text), "?？"), "各請求の説明", "請求の説明", "説明", "説明して",
		"説明してください", "それぞれの説明", "違いは", "what do these mean", "what does each mean", "explain",
		"explain them", "what are they")
}

// isSubmitWord recognises the summary's confirm chip typed (「この内容で申請」, "Submit").
func isSubmitWord(text string) bool {
	return wordIs(text, "この内容で申請", "この内容で申請します", "申請する", "申請します", "送信", "送信する", "submit",
		"submit it", "send it")
}

func isDocsDoneWord(text string) bool {
	return wordIs(text, "送信完了", "送りました", "以上です", "sent", "all sent", "that's all")
}

func isDocsLaterWord(text string) bool {
	return containsAny(fold(text), "あとで", "後で", "後日", "later")
}

func isDocsPostWord(text string) bool {
	return containsAny(fold(text), "郵送", "郵便", "by post", "by mail")
}

func wordIs(text string, words ...string) bool {
	t := strings.Trim(fold(strings.TrimSpace(text)), "!.。！ 　")
	for _, w := range words {
		if t == w {
			return true
		}
	}
	return false
}

// Length limits of the typed answers, in characters.
type textLimit struct{ min, max int }

var textLimits = map[reqStep]textLimit{
	rqCorrection: {3, 500},
	rqTarget:     {2, 300},
	rqGroundText: {3, 300},
}

// freeText checks a typed answer: trimmed, no control characters but line breaks, within the limit.
// bad names the problem: "short" or "long".
func freeText(s string, lim textLimit) (text, bad string) {
	s = strings.TrimSpace(strings.ToValidUTF8(s, ""))
	s = strings.Map(func(r rune) rune {
		if r == '\n' {
			return r
		}
		if r == '\t' || r == '\r' {
			return ' '
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	n := utf8.RuneCountInString(s)
	switch {
	case n < lim.min:
		return "", "short"
	case n > lim.max:
		return "", "long"
	}
	return s, ""
}

// normalizeAddress validates a postal address: full-width letters and digits folded, spaces
// collapsed, 6–200 characters, no control characters, and something that places a house (a number,
// or 丁目・番・号).
func normalizeAddress(s string) (string, bool) {
	s = norm.NFKC.String(strings.ToValidUTF8(s, ""))
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return "", false
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	n := utf8.RuneCountInString(s)
	if n < 6 || n > 200 || strings.Contains(s, "@") || strings.Contains(strings.ToLower(s), "http") {
		return "", false
	}
	if !strings.ContainsFunc(s, unicode.IsDigit) && !containsAny(s, "丁目", "番", "号") {
		return "", false
	}
	return s, true
}
