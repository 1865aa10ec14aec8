package flows

import (
	"testing"
	"time"
)

// toSummary walks a form for a disclosure and an erasure to the summary, as the customer.
func toSummary(t *testing.T, lang Lang) *rqRun {
	t.Helper()
	r := newRqRun(t, lang)
	r.data(RequestStartPostback)
	r.tap(kindLabel(KindDisclosure))
	r.tap(kindLabel(KindErasure))
	r.tap(lblReqDone)
	r.say("すべての個人情報")
	r.tap(groundLabel(GroundUnneeded))
	r.tap(lblReqWhoSelf)
	r.fillIdentity()
	r.media("image", "m1")
	r.tap(lblReqDocsDone)
	r.tap(lblReqPost)
	r.want(msgReqSummary)
	return r
}

func TestRequestSummaryEdits(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			// Identity: name, address and phone again, then straight back to the summary.
			r := toSummary(t, lang)
			r.tap(editLabel(secIdentity))
			r.want(msgReqAskName)
			r.say("倉敷 花子")
			r.want(msgReqAskAddress)
			r.say("岡山県倉敷市中央1-1-1")
			r.want(msgReqAskPhone)
			r.say("086-000-0000")
			r.want(msgReqSummary)
			if d := r.st.Request; d.Name != "倉敷 花子" || d.Section != 0 || d.Docs != 1 || d.Delivery != DeliveryPost {
				t.Fatalf("after the identity edit %+v", d)
			}
			// What: a correction added asks its details only; the erasure taken off clears its own.
			r.tap(editLabel(secWhat))
			r.want(msgReqKinds)
			r.tap(kindLabel(KindCorrection))
			r.tap(kindLabel(KindErasure))
			r.tap(lblReqDone)
			r.want(msgReqAskCorr)
			r.say("電話番号の誤りを直してください")
			r.want(msgReqSummary)
			if d := r.st.Request; d.Kinds != KindDisclosure|KindCorrection || d.Target != "" || d.Ground != "" || d.Correction == "" {
				t.Fatalf("after the kinds edit %+v", d)
			}
			if r.offers(editLabel(secDetails)) != true || !r.offers(editLabel(secDelivery)) {
				t.Fatal("the summary lacks a section it shows")
			}
			// Who: an agent is asked for their own name, then the summary.
			r.tap(editLabel(secWho))
			r.tap(lblReqWhoAgent)
			r.want(msgReqAskRepName)
			r.say("倉敷 太郎")
			r.want(msgReqSummary)
			// Back while changing a section returns to the summary.
			r.tap(editLabel(secDelivery))
			r.want(msgReqAskDelivery)
			r.tap(lblReqBack)
			r.want(msgReqSummary)
			r.tap(editLabel(secDelivery))
			r.tap(lblReqElectronic)
			r.want(msgReqSummary)
			// Photos: more photos, then the summary.
			r.tap(editLabel(secPhotos))
			r.want(msgReqDocsList, msgReqDocsAsk)
			r.media("image", "m2")
			r.tap(lblReqDocsDone)
			r.want(msgReqSummary)
			// Details: the correction again.
			r.tap(editLabel(secDetails))
			r.want(msgReqAskCorr)
			r.say("住所の誤りを直してください")
			r.want(msgReqSummary)
			r.tap(lblReqConfirm)
			sub := r.effects[len(r.effects)-1].Request
			if sub.Kinds != KindDisclosure|KindCorrection || sub.Requester != RequesterAgent || sub.RepName != "倉敷 太郎" ||
				sub.Name != "倉敷 花子" || sub.Documents != 2 || sub.Delivery != DeliveryElectronic ||
				sub.Correction != "住所の誤りを直してください" || sub.Phone != "+81860000000" {
				t.Fatalf("submission %+v", sub)
			}
			// Without an answered kind the summary offers no delivery section and the request none.
			r = newRqRun(t, lang)
			r.sayIntent("データを削除してほしい", "disclosure")
			r.tap(lblReqDone)
			r.say("メールアドレス")
			r.tap(groundLabel(GroundBeyondPurpose))
			r.tap(lblReqWhoSelf)
			r.fillIdentity()
			r.tap(lblReqDocsPost)
			r.want(msgReqSummary)
			if r.offers(editLabel(secDelivery)) || r.last.Replies[0].Data["Delivery"] != "" {
				t.Fatalf("delivery offered without an answered kind: %+v", r.last.Replies[0])
			}
		})
	}
}

func TestRequestBackCancelLanguageExplain(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		other := En
		if lang == En {
			other = Ja
		}
		t.Run(string(lang), func(t *testing.T) {
			r := newRqRun(t, lang)
			r.data(RequestStartPostback)
			r.say("戻る")
			r.want(msgReqKinds) // nothing before the first question
			r.tap(kindLabel(KindDisclosure))
			r.tap(lblReqDone)
			r.tap(lblReqWhoLegal)
			r.tap(lblReqRepParent)
			r.say("岡山 太郎")
			r.want(msgReqAskName)
			// Back: the representative's name, their kind, who, the kinds.
			for _, want := range []string{msgReqAskRepName, msgReqAskRepKind, msgReqAskWho, msgReqKinds} {
				r.tap(lblReqBack)
				r.want(want)
			}
			r.tap(lblReqDone)
			r.want(msgReqAskWho)
			// "what does 利用停止 mean?" explains that kind and asks again.
			r.say("利用停止って何ですか？")
			r.want(msgReqExplain, msgReqAskWho)
			if r.last.Replies[0].Data["One"] != "suspension" {
				t.Fatalf("explained %v", r.last.Replies[0].Data)
			}
			r.say("What does erasure mean?")
			if r.last.Replies[0].Data["One"] != "erasure" {
				t.Fatalf("explained %v", r.last.Replies[0].Data)
			}
			// A language switch answers in the new language and asks the same question.
			switchTo := "English"
			if other == Ja {
				switchTo = "日本語"
			}
			r.say(switchTo)
			r.want(msgLangSwitched, msgReqAskWho)
			if r.st.Lang != other || r.st.Request.Step != rqWho {
				t.Fatalf("after the switch %+v", r.st)
			}
			r.data(Postback{Do: ActLang, Lang: lang}.Encode())
			r.want(msgLangSwitched, msgReqAskWho)
			if r.st.Lang != lang || r.st.Flow != FlowRequest {
				t.Fatalf("after the switch back %+v", r.st)
			}
			// Cancel by text.
			r.say("キャンセル")
			r.want(msgReqCancelled, msgMenu)
			if r.st.Flow != FlowIdle || r.st.Request != (RequestData{}) || len(r.effects) != 0 {
				t.Fatalf("after cancel %+v %+v", r.st, r.effects)
			}
			// Cancel by button, with photos sent: nothing is submitted.
			r.data(RequestStartPostback)
			r.tap(lblReqCancel)
			r.want(msgReqCancelled, msgMenu)
			if r.st.Flow != FlowIdle || r.st.Request.hasForm() {
				t.Fatalf("after the cancel button %+v", r.st)
			}
		})
	}
}

func TestRequestButtonsOfEndedFormsAndDoubleTap(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			r := toSummary(t, lang)
			confirm := r.choice(lblReqConfirm)
			r.data(confirm)
			r.want(msgReqSubmitted)
			r.data(confirm) // the second tap of a double tap
			r.want(msgReqAlreadySent)
			n := 0
			for _, e := range r.effects {
				if e.Kind == EffectRequest {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%d requests submitted by a double tap", n)
			}
			// Once the request is stored, the tap names its reference.
			r.desk.Requests = []RequestSummary{{Ref: "R-20261204-0007", Draft: r.st.Request.Sent, Kinds: KindDisclosure, Status: StatusReceived}}
			r.data(confirm)
			r.want(msgReqAlreadySent)
			if r.last.Replies[0].Data["Ref"] != "R-20261204-0007" {
				t.Fatalf("already sent without its reference: %v", r.last.Replies[0].Data)
			}
			// A button of a cancelled form: the form has ended.
			r2 := newRqRun(t, lang)
			r2.data(RequestStartPostback)
			kind := r2.choice(kindLabel(KindDisclosure))
			r2.say("やめる")
			r2.data(kind)
			r2.want(msgReqExpired, msgMenu)
			// A button of an earlier form while a new one is in progress.
			r2.data(RequestStartPostback)
			r2.tap(kindLabel(KindAddition))
			r2.data(kind)
			r2.want(msgReqStale, msgReqKinds)
			if r2.st.Request.Kinds != KindAddition {
				t.Fatalf("a stale button changed the form: %v", r2.st.Request.Kinds)
			}
			// A second tap on an earlier form's confirm while a new one is open.
			r.data(RequestStartPostback)
			r.data(confirm)
			r.want(msgReqAlreadySent, msgReqKinds)
			// A chip of an earlier question of the same form asks the current question again.
			r.tap(kindLabel(KindPurposeNotice))
			old := r.choice(kindLabel(KindAddition))
			r.tap(lblReqDone)
			r.want(msgReqAskWho)
			r.data(old)
			r.want(msgReqAskWho)
			if r.st.Request.Kinds != KindPurposeNotice {
				t.Fatalf("an old chip changed the kinds: %v", r.st.Request.Kinds)
			}
		})
	}
}

func TestRequestComingBackLater(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			r := newRqRun(t, lang)
			r.data(RequestStartPostback)
			r.tap(kindLabel(KindDisclosure))
			r.tap(lblReqDone)
			r.tap(lblReqWhoSelf)
			draft := r.st.Request.Draft
			// 23 hours: the answer is taken as it is.
			r.later(23 * time.Hour)
			r.say("岡山 花子")
			r.want(msgReqAskAddress)
			// A week: asked first, whatever the message.
			r.later(7 * 24 * time.Hour)
			r.say("岡山県岡山市北区今2-6-10")
			r.want(msgReqResume)
			if r.st.Request.Address != "" || r.st.Request.Step != rqAddress {
				t.Fatalf("the message after a week was taken as an answer: %+v", r.st.Request)
			}
			r.say("はてな")
			r.want(msgReqResume)
			r.tap(lblReqResume)
			r.want(msgReqAskAddress)
			r.say("岡山県岡山市北区今2-6-10")
			r.want(msgReqAskPhone)
			// Again after two days; this time start again: a new draft, nothing kept.
			r.later(48 * time.Hour)
			r.media("image", "x")
			r.want(msgReqResume)
			r.say("最初から")
			r.want(msgReqKinds)
			if d := r.st.Request; d.Draft == draft || d.Draft == "" || d.Kinds != 0 || d.Name != "" || d.Step != rqKinds {
				t.Fatalf("restart kept %+v", d)
			}
			// Left for 31 days: dropped silently, the message handled as a new one.
			r.tap(kindLabel(KindDisclosure))
			r.later(31 * 24 * time.Hour)
			r.say("今日の天気は")
			r.want(msgCannotAnswer, msgMenu)
			if r.st.Flow != FlowIdle || r.st.Request.hasForm() {
				t.Fatalf("a 31-day-old draft survived: %+v", r.st)
			}
		})
	}
}

func TestRequestFormLeftAsideAndBlocked(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			r := newRqRun(t, lang)
			r.sayIntent("訂正をお願いします", "disclosure")
			r.tap(lblReqDone)
			r.want(msgReqAskCorr)
			draft := r.st.Request.Draft
			// Another of the desk's buttons: the customer moves on; the form waits.
			r.data(FAQPostback("5.id"))
			r.want("faq.t5_id.answer")
			if r.st.Flow != FlowIdle || r.st.Request.Draft != draft || r.st.Request.Step != rqCorrection {
				t.Fatalf("leaving the form %+v", r.st)
			}
			// Starting again offers to continue.
			r.sayIntent("開示請求したい", "disclosure")
			r.want(msgReqResume)
			r.tap(lblReqResume)
			r.want(msgReqAskCorr)
			// The main menu chip leaves it too; a button of the form left aside carries on with it.
			r.tap(lblReqBack)
			r.want(msgReqKinds)
			kind := r.choice(kindLabel(KindAddition))
			r.data(act(ActMenu))
			r.want(msgMenu)
			r.data(kind)
			r.want(msgReqKinds)
			if r.st.Flow != FlowRequest || r.st.Request.Kinds != KindCorrection|KindAddition {
				t.Fatalf("a button of the form left aside: %+v", r.st)
			}
			// Blocking keeps the draft; unblocking greets; the form is offered again.
			res := r.step(Input{Kind: InputUnfollow})
			if res.State.Request.Draft != draft || res.State.Flow != FlowRequest || len(res.Replies) != 0 {
				t.Fatalf("block mid-form: %+v", res)
			}
			r.step(Input{Kind: InputFollow, Unblocked: true})
			r.want(msgWelcomeBack, msgMenu)
			if r.st.Request.Draft != draft {
				t.Fatalf("unblock dropped the draft: %+v", r.st.Request)
			}
			r.data(RequestStartPostback)
			r.want(msgReqResume)
			// The draft of a form left aside is dropped after 30 days, at the next message.
			r.data(act(ActMenu))
			r.later(31 * 24 * time.Hour)
			r.data(RequestStartPostback)
			r.want(msgReqKinds)
			if r.st.Request.Draft == draft || r.st.Request.Kinds != 0 {
				t.Fatalf("an old draft was resumed: %+v", r.st.Request)
			}
			r.data(act(ActMenu))
			r.later(31 * 24 * time.Hour)
			r.sayIntent("保存期間は？", "faq.13")
			if r.st.Request.hasForm() {
				t.Fatalf("a 31-day-old form left aside survived: %+v", r.st.Request)
			}
		})
	}
}

func TestRequestDuplicates(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			r := newRqRun(t, lang)
			r.desk.Requests = []RequestSummary{
				{Ref: "R-20261203-0002", Draft: "DA", Kinds: KindDisclosure | KindPurposeNotice, Status: StatusInProgress, Due: "2026-12-17"},
				{Ref: "R-20261101-0001", Draft: "DB", Kinds: KindDeletion, Status: StatusCompleted, Due: "2026-11-15"},
			}
			r.sayIntent("開示と削除をお願いします", "disclosure")
			r.want(msgReqDuplicate, msgReqKinds)
			if d := r.last.Replies[0].Data; d["Ref"] != "R-20261203-0002" || d["St"] != "in_progress" || d["K_disclosure"] != "1" ||
				d["K_purpose_notice"] != "" || d["DueJa"] != "2026年12月17日" || d["DueEn"] != "17 December 2026" {
				t.Fatalf("duplicate data %v", d)
			}
			if r.st.Request.Kinds != KindDeletion || r.offers(kindLabel(KindDisclosure)) || r.offers(kindLabel(KindPurposeNotice)) ||
				!r.offers(kindLabel(KindDeletion)) || !r.offers(lblReqStatus) {
				t.Fatalf("kinds %v, chips %+v", r.st.Request.Kinds, r.last.Replies[1].Choices)
			}
			r.say("利用目的の通知も")
			r.want(msgReqDuplicate, msgReqKinds)
			if r.st.Request.Kinds != KindDeletion {
				t.Fatalf("an open kind was added by text: %v", r.st.Request.Kinds)
			}
			r.data(Postback{Do: ActReqStep, Step: "kind", Kind: KindPurposeNotice, Draft: r.st.Request.Draft}.Encode())
			r.want(msgReqDuplicate, msgReqKinds)
			// A request opened meanwhile is caught at the confirmation.
			r.tap(lblReqDone)
			r.say("電話番号")
			r.tap(groundLabel(GroundLeaked))
			r.tap(lblReqWhoSelf)
			r.fillIdentity()
			r.tap(lblReqDocsLater)
			r.want(msgReqSummary)
			r.desk.Requests = append(r.desk.Requests, RequestSummary{Ref: "R-20261204-0003", Kinds: KindDeletion, Status: StatusReceived})
			r.tap(lblReqConfirm)
			r.want(msgReqDuplicate, msgReqKinds)
			if len(r.effects) != 0 || r.st.Request.Kinds != 0 {
				t.Fatalf("submitted a duplicate: %+v %+v", r.effects, r.st.Request)
			}
			// Every kind open: no form, the pointer and the way to the status.
			r = newRqRun(t, lang)
			r.desk.Requests = []RequestSummary{{Ref: "R-1", Kinds: KindsAll, Status: StatusVerified}}
			r.data(RequestStartPostback)
			r.want(msgReqDuplicate)
			if r.st.Flow != FlowIdle || r.last.Replies[0].Data["All"] != "1" || !r.offers(lblReqStatus) {
				t.Fatalf("all open: %+v %+v", r.st, r.last.Replies)
			}
		})
	}
}
