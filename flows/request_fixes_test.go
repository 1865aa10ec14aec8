package flows

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/enemane/privacybot/flows/nlu"
)

// A message that names a request kind and no marketing channel is a personal-data request, whichever
// of opt-out and disclosure the classifier chose; one that names a channel (or marketing itself)
// stays with the classifier.
func TestRequestKindNamedIsNotAnOptOut(t *testing.T) {
	requests := []struct {
		text string
		want RequestKind
	}{
		{"利用停止をお願いしたい", KindSuspension},
		{"利用停止してください", KindSuspension},
		{"私の個人情報を削除してほしい", KindDeletion},
		{"個人情報を全部消去してください", KindErasure},
		{"第三者提供の停止をお願いします", KindStopThirdParty},
		{"開示をお願いします", KindDisclosure},
		{"登録内容の訂正をお願いしたい", KindCorrection},
		{"電話番号の利用停止をお願いします", KindSuspension}, // the number is data, not the phone channel
		{"メールアドレスを削除してください", KindDeletion},
		{"Please stop using my personal data", KindSuspension},
		{"Delete all my data", KindDeletion},
	}
	optOuts := []struct {
		text string
		want Channels
	}{
		{"DMを止めて", ChanMail},
		{"電話での営業をやめて", ChanPhone},
		{"配信停止", 0},
		{"メールの配信を利用停止にして", ChanEmail},
		{"メルマガの利用停止をお願いします", ChanEmail},
		{"Stop using my data for marketing", 0},
		{"Please stop calling me", ChanPhone},
	}
	for _, lang := range []Lang{Ja, En} {
		for _, intent := range []string{"optout", "disclosure"} {
			for _, c := range requests {
				r := newRqRun(t, lang)
				r.sayIntent(c.text, intent)
				r.want(msgReqKinds)
				r.wantStep(rqKinds)
				if r.st.Request.Kinds != c.want || r.last.Replies[0].Data["Intro"] != "1" {
					t.Errorf("%s %s %q: kinds %v, want %v preselected (%v)", lang, intent, c.text,
						r.st.Request.Kinds.Names(), c.want.Names(), r.last.Replies[0].Data)
				}
			}
		}
		for _, c := range optOuts {
			r := newRqRun(t, lang)
			r.sayIntent(c.text, "optout")
			if r.st.Flow != FlowOptOut || r.st.OptOut.Pick != c.want || r.st.Request.hasForm() {
				t.Errorf("%s %q: flow %q pick %v, want the opt-out with %v", lang, c.text, r.st.Flow, r.st.OptOut.Pick.Names(), c.want.Names())
			}
		}
	}
	// With the real classifier, as the tester sent them.
	model, err := nlu.Load()
	if err != nil {
		t.Fatal(err)
	}
	for text, wantFlow := range map[string]FlowID{"利用停止をお願いしたい": FlowRequest, "利用停止してください": FlowRequest,
		"DMを止めて": FlowOptOut, "電話での営業をやめて": FlowOptOut, "配信停止": FlowOptOut, "メールの配信を利用停止にして": FlowOptOut} {
		c := model.Classify(text)
		r := newRqRun(t, Ja)
		r.sayIntent(text, c.Intent)
		if r.st.Flow != wantFlow {
			t.Errorf("%q (classified %s): flow %q, want %q", text, c.Intent, r.st.Flow, wantFlow)
		}
	}
}

func TestRequestMarketingNamed(t *testing.T) {
	for s, want := range map[string]bool{
		"DMを止めて": true, "電話での営業をやめて": true, "メールの配信を利用停止にして": true, "LINEでの宣伝を止めて": true,
		"Please stop calling me": true, "no more emails": true, "stop the newsletter": true,
		"利用停止をお願いしたい": false, "電話番号を削除して": false, "メールアドレスの利用停止": false, "全部消去して": false,
		"Delete all my data": false, "delete my data online": false, "my phone number is wrong, please correct it": false,
	} {
		if got := marketingNamed(s); got != want {
			t.Errorf("marketingNamed(%q) = %v, want %v", s, got, want)
		}
	}
}

// At 「どなたからのご請求ですか」 a typed position answers who asks and, for a legal representative,
// the position too: the form goes on, and the typed answers after it are read as answers.
func TestRequestTypedRequesterGoesOn(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		for _, c := range []struct {
			typed   string
			who     Requester
			rep     string
			next    string
			answers []string
		}{
			{"成年後見人です", RequesterLegal, RepGuardian, msgReqAskRepName, []string{"岡山 太郎"}},
			{"I'm her adult guardian", RequesterLegal, RepGuardian, msgReqAskRepName, []string{"Taro Okayama"}},
			{"親権者です", RequesterLegal, RepParent, msgReqAskRepName, []string{"岡山 太郎"}},
			{"法定代理人です", RequesterLegal, "", msgReqAskRepKind, []string{"成年後見人", "岡山 太郎"}},
			{"代理人です", RequesterAgent, "", msgReqAskRepName, []string{"岡山 太郎"}},
			{"本人です", RequesterSelf, "", msgReqAskName, nil},
			{"Myself", RequesterSelf, "", msgReqAskName, nil},
		} {
			t.Run(string(lang)+"/"+c.typed, func(t *testing.T) {
				r := newRqRun(t, lang)
				r.data(RequestStartPostback)
				r.tap(kindLabel(KindDisclosure))
				r.tap(lblReqDone)
				r.want(msgReqAskWho)
				r.say(c.typed)
				r.want(c.next)
				if d := r.st.Request; d.Requester != c.who || d.RepKind != c.rep {
					t.Fatalf("requester %q %q, want %q %q", d.Requester, d.RepKind, c.who, c.rep)
				}
				for _, a := range c.answers {
					r.say(a)
					if slices.Contains(ids(r.last.Replies), msgReqHint) {
						t.Fatalf("%q not read: %v", a, ids(r.last.Replies))
					}
				}
				r.want(msgReqAskName)
				r.fillIdentity() // name, address and phone typed, each read
				if c.who == RequesterLegal && r.st.Request.RepKind == "" {
					t.Fatalf("no position: %+v", r.st.Request)
				}
			})
		}
	}
}

// Every chip of every step (and of the resume and leave questions) can be typed instead: its label,
// as the customer sees it in their language, does what tapping it does.
func TestRequestTypedChipLabelsDoWhatTheChipsDo(t *testing.T) {
	desk := RequestDesk{Fee: "1,000円", Requests: []RequestSummary{{Ref: "R-1", Draft: "DOLD", Kinds: KindDisclosure, Status: StatusCompleted}}}
	full := RequestData{Draft: "DTEST", Touched: rqT0.Unix(), Kinds: KindDisclosure | KindCorrection | KindDeletion,
		Correction: "住所の番地が違います", Target: "電話番号", Ground: GroundUnneeded, Requester: RequesterLegal, RepKind: RepParent,
		RepName: "岡山 太郎", Name: "岡山 花子", Address: "岡山県岡山市北区今2-6-10", Phone: "+819012345678", Docs: 1, DocSeq: 1,
		DocsBy: DocsChat, Delivery: DeliveryPost}
	var states []RequestData
	for _, s := range formOrder {
		d := full
		d.Step = s
		if s == rqKinds {
			d.Kinds = KindDisclosure
		}
		states = append(states, d)
	}
	resume, leave := full, full
	resume.Step, resume.Resume = rqAddress, true
	leave.Step, leave.Leave = rqSummary, true
	states = append(states, resume, leave)
	for _, lang := range []Lang{Ja, En} {
		for _, d := range states {
			st := State{Lang: lang, Flow: FlowRequest, Request: d}
			in := Input{Now: rqT0.Add(60e9), Desk: desk}
			n := 0
			for _, rep := range reqPrompt(st, in) {
				for _, c := range rep.Choices {
					if c.LabelID == kindLabel(KindDisclosure) && d.Kinds&KindDisclosure != 0 {
						continue // typing a kind chosen keeps it; the chip takes it off
					}
					label := renderText(t, lang, c.LabelID, nil)
					tapIn, typeIn := in, in
					tapIn.Kind, tapIn.Postback = InputPostback, c.Postback
					typeIn.Kind, typeIn.Text, typeIn.Intent = InputText, label, Intent{Name: "none"}
					tapped, typed := Step(st, tapIn), Step(st, typeIn)
					if tapped.State != typed.State || !slices.Equal(ids(tapped.Replies), ids(typed.Replies)) ||
						!reflect.DeepEqual(tapped.Effects, typed.Effects) {
						t.Errorf("%s step %d (resume %v, leave %v): typing %q gives %v at step %d, tapping it %v at step %d\n%+v\n%+v",
							lang, d.Step, d.Resume, d.Leave, label, ids(typed.Replies), typed.State.Request.Step,
							ids(tapped.Replies), tapped.State.Request.Step, typed.State.Request, tapped.State.Request)
					}
					n++
				}
			}
			if n == 0 {
				t.Errorf("step %d offers no chip", d.Step)
			}
		}
	}
	// Typed words the chips do not spell, each read at its step.
	for _, c := range []struct {
		step reqStep
		text string
		want reqStep
	}{
		{rqGround, "もう必要がなくなったので", rqWho},
		{rqDelivery, "このトークで受け取りたい", rqSummary},
		{rqDelivery, "by post please", rqSummary},
		{rqSummary, "住所を直したい", rqName},
		{rqSummary, "I want to change the delivery", rqDelivery},
	} {
		d := full
		d.Step = c.step
		res := Step(State{Flow: FlowRequest, Request: d}, Input{Kind: InputText, Text: c.text, Now: rqT0.Add(60e9), Desk: desk})
		if res.State.Request.Step != c.want || slices.Contains(ids(res.Replies), msgReqHint) {
			t.Errorf("%q at step %d: step %d, replies %v; want step %d", c.text, c.step, res.State.Request.Step, ids(res.Replies), c.want)
		}
	}
}

// A photo the request service could not use no longer counts: 「送信完了」 with none left asks again,
// the summary counts only the others, and numbering goes on.
func TestRequestRefusedPhotoIsNotCounted(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			r := toPhotos(t, lang)
			draft := r.st.Request.Draft
			r.media("image", "p1")
			r.want(msgReqDocReceived)
			r.notice(RequestNotice{What: NoticeDocument, Draft: draft, Seq: 1, Problem: DocNotImage})
			r.want(msgReqNoticeDocument, msgReqDocsAsk)
			if d := r.st.Request; d.Docs != 0 || d.DocSeq != 1 || d.WaitDraft != "" {
				t.Fatalf("after the refusal %+v", d)
			}
			if s := renderText(t, lang, msgReqDocsAsk, r.last.Replies[1].Data); strings.Contains(s, "1枚受け取") || strings.Contains(s, "We have 1") {
				t.Fatalf("the refused photo is still counted: %q", s)
			}
			r.tap(lblReqDocsDone)
			r.want(msgReqDocsNone)
			if !r.offers(lblReqDocsLater) || !r.offers(lblReqDocsPost) || r.st.Request.Step != rqDocs {
				t.Fatalf("「送信完了」 with no usable photo: %+v", r.last.Replies)
			}
			none := renderText(t, lang, msgReqDocsNone, r.last.Replies[0].Data)
			if !containsAny(none, "使うことができませんでした", "couldn't use") {
				t.Fatalf("docs_none does not say the photo could not be used: %q", none)
			}
			r.say("送信完了")
			r.want(msgReqDocsNone)
			// The next photo is number 2; it counts.
			r.media("image", "p2")
			if e := r.effects[len(r.effects)-1].Document; e.Seq != 2 || r.last.Replies[0].Data["Seq"] != "2" || r.st.Request.Docs != 1 {
				t.Fatalf("next photo %+v %v", e, r.last.Replies[0].Data)
			}
			if s := renderText(t, lang, msgReqDocReceived, r.last.Replies[0].Data); !containsAny(s, "2枚目", "photo 2") {
				t.Fatalf("doc_received %q", s)
			}
			r.tap(lblReqDocsDone)
			r.want(msgReqAskDelivery)

			// Two photos, one refused: the summary says one.
			r = newRqRun(t, lang)
			r.data(RequestStartPostback)
			r.tap(kindLabel(KindDeletion))
			r.tap(lblReqDone)
			r.say("電話番号")
			r.tap(groundLabel(GroundUnneeded))
			r.tap(lblReqWhoSelf)
			r.fillIdentity()
			r.media("image", "a")
			r.media("image", "b")
			r.notice(RequestNotice{What: NoticeDocument, Draft: r.st.Request.Draft, Seq: 1, Problem: DocTooLarge})
			r.want(msgReqNoticeDocument, msgReqDocsAsk)
			r.tap(lblReqDocsDone)
			r.want(msgReqSummary)
			sum := r.last.Replies[0]
			text := renderText(t, lang, sum.ID, sum.Data)
			if sum.Data["Docs"] != "1" || !containsAny(text, "写真1枚を送信済み", "received: 1") {
				t.Fatalf("summary %v: %q", sum.Data, text)
			}
			r.tap(lblReqConfirm)
			if sub := r.effects[len(r.effects)-1].Request; sub.Documents != 1 || r.st.Request.SentDocs != 2 {
				t.Fatalf("submission %+v, state %+v", sub, r.st.Request)
			}

			// The only photo refused after the summary was reached: back to the photo step.
			r = newRqRun(t, lang)
			r.data(RequestStartPostback)
			r.tap(kindLabel(KindDisclosure))
			r.tap(lblReqDone)
			r.tap(lblReqWhoSelf)
			r.fillIdentity()
			r.media("image", "a")
			r.tap(lblReqDocsDone)
			r.tap(lblReqPost)
			r.want(msgReqSummary)
			r.notice(RequestNotice{What: NoticeDocument, Draft: r.st.Request.Draft, Seq: 1, Problem: DocFetchFailed})
			r.want(msgReqNoticeDocument, msgReqDocsAsk)
			r.wantStep(rqDocs)
			r.media("image", "again")
			r.tap(lblReqDocsDone)
			r.want(msgReqSummary) // the delivery was answered: straight back to the summary
			if d := r.st.Request; d.Docs != 1 || d.DocSeq != 2 || d.Delivery != DeliveryPost || d.Section != 0 {
				t.Fatalf("after sending again %+v", d)
			}

			// A form left aside: its photo is not taken for a submitted request; the notice leads back.
			r.data(act(ActMenu))
			r.notice(RequestNotice{What: NoticeDocument, Draft: r.st.Request.Draft, Seq: 2, Problem: DocNotImage})
			r.want(msgReqNoticeDocument)
			if d := r.st.Request; d.WaitDraft != "" || d.Docs != 0 || d.DocsBy != "" || !r.offers(lblReqResume) {
				t.Fatalf("a form left aside: %+v %+v", d, r.last.Replies)
			}
			r.tap(lblReqResume)
			r.want(msgReqDocsAsk)
		})
	}
}

// 「申請状況」, "My requests" and the like, typed anywhere, list the customer's requests.
func TestRequestStatusTypedEverywhere(t *testing.T) {
	phrases := []string{"my requests", "My requests", "request status", "status of my request", "Show my requests",
		"申請状況", "申請の状況", "請求の状況", "申請状況を見たい"}
	for _, lang := range []Lang{Ja, En} {
		phrases = append(phrases, renderText(t, lang, lblReqStatus, nil)) // the chip's own label
	}
	for _, lang := range []Lang{Ja, En} {
		for _, p := range phrases {
			if !asksRequestStatus(p) {
				t.Errorf("%q not read as a status question", p)
			}
			for _, intent := range []string{"none", "faq.5", "disclosure"} {
				r := newRqRun(t, lang)
				r.sayIntent(p, intent)
				r.want(msgReqStatusNone)
			}
			// Inside the form, at a question and at "continue or start again?".
			r := newRqRun(t, lang)
			r.desk.Requests = []RequestSummary{{Ref: "R-20261204-0007", Kinds: KindDeletion, Status: StatusReceived, Due: "2026-12-18"}}
			r.data(RequestStartPostback)
			r.tap(kindLabel(KindDisclosure))
			r.tap(lblReqDone)
			r.say(p)
			r.want(msgReqStatusList)
			r.wantStep(rqWho)
			r.later(25 * 60 * 60e9)
			r.say("本人です")
			r.want(msgReqResume)
			r.say(p)
			r.want(msgReqStatusList)
			r.tap(lblReqResume)
			r.want(msgReqAskWho)
		}
	}
}

// The wording of item 5: English kinds as the chips spell them, no "photo(s)", the ground chips as the
// question explains them, the opening once, the target question naming only the kinds chosen, the
// size limit, and the link's last day.
func TestRequestWording(t *testing.T) {
	// English lists of kinds: the chips' words, capitalised as the chips are.
	for _, k := range RequestKindList() {
		chip := renderText(t, En, kindLabel(k), nil)
		data := rqFullData()
		for _, x := range KindsAll.List() {
			delete(data, "K_"+x.Name())
		}
		kindData(data, "", k)
		rows := kindData(map[string]string{"R0_Num": "1", "R0_Ref": "R-1", "R0_St": "received", "N": "1"}, "R0_", k)
		for id, d := range map[string]map[string]string{msgReqKinds: data, msgReqSummary: data, msgReqResume: data,
			msgReqDuplicate: data, msgReqWithdrawAsk: data, msgReqNoticeReceived: data, msgReqNoticeStatus: data,
			msgReqNoticeExtended: data, msgReqStatusList: rows} {
			s := renderText(t, En, id, d)
			if !strings.Contains(s, chip) {
				t.Errorf("en %s lists %s without the chip's %q: %q", id, k.Name(), chip, s)
			}
			for _, old := range []string{"stopping use", "notice of the purpose of use", "records of sharing", "- disclosure", "- deletion"} {
				if strings.Contains(s, old) {
					t.Errorf("en %s still says %q", id, old)
				}
			}
		}
	}
	for _, data := range rqDataVariants() {
		for _, id := range RequestMessageIDs() {
			if s := renderText(t, En, id, data); strings.Contains(s, "(s)") {
				t.Errorf("en %s: %q", id, s)
			}
		}
	}
	for _, lang := range []Lang{Ja, En} {
		// Each ground chip is the name the question explains.
		ask := renderText(t, lang, msgReqAskGround, askData(RequestData{Kinds: KindDeletion}))
		for _, g := range GroundList()[:len(GroundList())-1] {
			chip := renderText(t, lang, groundLabel(g), nil)
			sep := ": "
			if lang == Ja {
				sep = "："
			}
			if !strings.Contains(ask, chip+sep) {
				t.Errorf("%s ask_ground does not explain the chip %q: %q", lang, chip, ask)
			}
		}
		// The opening once; a tap shows the choice only.
		r := newRqRun(t, lang)
		r.data(RequestStartPostback)
		intro := renderText(t, lang, msgReqKinds, r.last.Replies[0].Data)
		opening := map[Lang]string{Ja: "このトークで承ります", En: "right here"}[lang]
		if !strings.Contains(intro, opening) {
			t.Fatalf("%s: the form opens without its opening: %q", lang, intro)
		}
		r.tap(kindLabel(KindDeletion))
		tapped := renderText(t, lang, msgReqKinds, r.last.Replies[0].Data)
		r.tap(kindLabel(KindSuspension))
		tapped2 := renderText(t, lang, msgReqKinds, r.last.Replies[0].Data)
		for _, s := range []string{tapped, tapped2} {
			if strings.Contains(s, opening) || strings.Contains(s, renderText(t, lang, lblReqExplain, nil)) ||
				!strings.Contains(s, renderText(t, lang, kindLabel(KindDeletion), nil)) || len(s) > len(intro) {
				t.Errorf("%s: a tap repeats the opening or loses the choice: %q", lang, s)
			}
		}
		if !r.offers(lblReqDone) || !r.offers(kindLabel(KindErasure)) {
			t.Fatalf("%s: the tap reply lost its chips", lang)
		}
		// The target question names the stop kinds chosen, and only them.
		r.tap(kindLabel(KindDisclosure))
		r.tap(lblReqDone)
		r.want(msgReqAskTarget)
		target := renderText(t, lang, msgReqAskTarget, r.last.Replies[0].Data)
		want := map[Lang]string{Ja: "削除・利用停止をご希望の情報", En: "Which information should we delete or stop using?"}[lang]
		if !strings.Contains(target, want) || containsAny(target, "消去", "第三者", "erase", "stop sharing") {
			t.Errorf("%s ask_target %q, want %q and nothing else", lang, target, want)
		}
		three := listData(askData(RequestData{}), "S", KindDeletion|KindErasure|KindStopThirdParty)
		if s := renderText(t, lang, msgReqAskTarget, three); !containsAny(s, "削除・消去・第三者への提供停止をご希望", "delete, erase or stop sharing?") {
			t.Errorf("%s ask_target for three kinds: %q", lang, s)
		}
		// The size limit.
		if s := renderText(t, lang, msgReqNoticeDocument, map[string]string{"Seq": "1", "P": DocTooLarge}); !strings.Contains(s, "10") || !strings.Contains(s, "MB") {
			t.Errorf("%s too-large notice without the limit: %q", lang, s)
		}
		// The completed notice with a link: its last day; a reissued link says it replaces the earlier one.
		n := RequestNotice{What: NoticeStatus, Ref: "R-20261204-0007", Draft: "D1", Kinds: KindDisclosure, Status: StatusCompleted,
			Link: "https://example.jp/package/abc", Expires: "2026-12-31"}
		r = newRqRun(t, lang)
		r.notice(n)
		first := renderText(t, lang, msgReqNoticeStatus, r.last.Replies[0].Data)
		day := map[Lang]string{Ja: "2026年12月31日", En: "31 December 2026"}[lang]
		done := map[Lang]string{Ja: "対応が完了しました", En: "Your request is complete"}[lang]
		if !strings.Contains(first, day) || !strings.Contains(first, done) || !strings.Contains(first, n.Link) {
			t.Errorf("%s completed notice %q", lang, first)
		}
		n.Reissued, n.Link, n.Expires = true, "https://example.jp/package/def", "2027-01-15"
		r.notice(n)
		again := renderText(t, lang, msgReqNoticeStatus, r.last.Replies[0].Data)
		replaces := map[Lang]string{Ja: "新しく発行しました", En: "new link"}[lang]
		day = map[Lang]string{Ja: "2027年1月15日", En: "15 January 2027"}[lang]
		if strings.Contains(again, done) || !strings.Contains(again, replaces) || !strings.Contains(again, day) || !strings.Contains(again, n.Link) {
			t.Errorf("%s reissued link notice %q", lang, again)
		}
	}
}

// 「メニュー」 typed in a form with answers asks before anything is lost; 「キャンセル」 ends it at once
// and says nothing was sent.
func TestRequestMenuTypedInTheForm(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			r := newRqRun(t, lang)
			r.data(RequestStartPostback)
			r.tap(kindLabel(KindDisclosure))
			r.tap(lblReqDone)
			r.tap(lblReqWhoSelf)
			r.say("岡山 花子")
			r.want(msgReqAskAddress)
			form := r.st.Request
			r.say("メニュー")
			r.want(msgReqLeaveAsk)
			if !r.offers(lblReqStay) || !r.offers(lblReqQuit) || !r.st.Request.hasForm() || r.st.Request.Name != form.Name {
				t.Fatalf("menu mid-form: %+v %+v", r.st.Request, r.last.Replies)
			}
			// Something else typed: the question again, nothing taken as an answer.
			r.say("岡山県岡山市北区今2-6-10")
			r.want(msgReqLeaveAsk)
			r.tap(lblReqStay)
			r.want(msgReqAskAddress)
			if d := r.st.Request; d.Leave || d.Draft != form.Draft || d.Name != form.Name || d.Step != rqAddress {
				t.Fatalf("kept on %+v", d)
			}
			// At "continue or start again?" too; 「戻る」 there loses nothing either.
			r.later(25 * 60 * 60e9)
			r.say("岡山県岡山市北区今2-6-10")
			r.want(msgReqResume)
			r.say("戻る")
			r.want(msgReqResume)
			r.say("メニュー")
			r.want(msgReqLeaveAsk)
			r.tap(lblReqStay)
			r.want(msgReqAskAddress)
			if d := r.st.Request; d.Resume || d.Leave || d.Name != form.Name {
				t.Fatalf("after the resume and the menu %+v", d)
			}
			// Typed: keep going, then quit.
			r.say("menu")
			r.want(msgReqLeaveAsk)
			r.say("はい")
			r.want(msgReqAskAddress)
			r.say("メニュー")
			r.say(renderText(t, lang, lblReqQuit, nil))
			r.want(msgReqCancelled, msgMenu)
			if r.st.Flow != FlowIdle || r.st.Request.hasForm() || len(r.effects) != 0 {
				t.Fatalf("after quitting %+v", r.st)
			}
			// A form with nothing in it: the menu at once.
			r.data(RequestStartPostback)
			r.say("メニュー")
			r.want(msgMenu)
			if r.st.Flow != FlowIdle || r.st.Request.hasForm() {
				t.Fatalf("an empty form after 「メニュー」: %+v", r.st)
			}
			// 「キャンセル」 is explicit: ended at once, and nothing was sent.
			r.data(RequestStartPostback)
			r.tap(kindLabel(KindDeletion))
			r.say("キャンセル")
			r.want(msgReqCancelled, msgMenu)
			s := renderText(t, lang, msgReqCancelled, nil)
			if !containsAny(s, "送信していません", "Nothing was sent") || r.st.Request.hasForm() {
				t.Fatalf("cancelled: %q %+v", s, r.st.Request)
			}
		})
	}
}

// A rejection invites a new request: its notice offers the way to start one.
func TestRequestRejectedNoticeOffersANewRequest(t *testing.T) {
	in := Input{Kind: InputInternal, Postback: RequestNoticePostback(RequestNotice{What: NoticeStatus, Ref: "R-20261204-0001",
		Status: StatusRejected, Reason: "書類の氏名が読み取れませんでした", Kinds: KindDisclosure, Due: "2026-12-18"})}
	res := Step(State{}, in)
	if len(res.Replies) != 1 || len(res.Replies[0].Choices) == 0 || res.Replies[0].Choices[0].Postback != RequestStartPostback {
		t.Fatalf("replies = %+v", res.Replies)
	}
}
