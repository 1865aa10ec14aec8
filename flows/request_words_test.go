package flows

import "testing"

func TestRequestIntentTextAndMenu(t *testing.T) {
	for text, want := range map[string]RequestKind{
		"開示請求したい": KindDisclosure, "削除してほしい": KindDeletion, "個人情報を消して": KindErasure,
		"利用停止をお願いします": KindSuspension, "第三者への提供を停止して": KindStopThirdParty,
		"第三者提供記録の開示を請求します": KindThirdPartyRecords, "利用目的を通知してください": KindPurposeNotice,
		"住所が間違っているので直して": KindCorrection, "メールアドレスを追加してほしい": KindAddition,
		"Delete my personal data please": KindDeletion, "Disclose my data": KindDisclosure,
		"Don't share my data with anyone": KindStopThirdParty, "I want to make a request": 0,
	} {
		r := Step(State{}, Input{Kind: InputText, Text: text, Intent: Intent{Name: "disclosure"}, Now: rqT0})
		if r.State.Flow != FlowRequest || r.State.Request.Kinds != want || r.Replies[0].ID != msgReqKinds {
			t.Errorf("%q: flow %q kinds %v replies %v, want kinds %v", text, r.State.Flow, r.State.Request.Kinds, ids(r.Replies), want)
		}
	}
	for _, lang := range []Lang{Ja, En} {
		m := mainMenu(State{Lang: lang})
		found := false
		for _, c := range m.Choices {
			found = found || (c.LabelID == lblReqMenu && c.Postback == RequestStartPostback)
		}
		if !found || len(m.Choices) > 13 {
			t.Fatalf("main menu %+v", m.Choices)
		}
	}
	if RequestStartPostback != "do=request" {
		t.Fatalf("the rich menu's data changed: %q", RequestStartPostback)
	}
}

// The item-5 answer tells customers what to send; what it promises works.
func TestRequestFAQAnswerTellsTheTruth(t *testing.T) {
	for lang, want := range map[Lang][]string{Ja: {"開示等の請求", "開示請求したい", "写真", "申請状況", "郵送"},
		En: {"Data request", "I want to make a disclosure request", "photos", "status of my request", "post"}} {
		text := renderText(t, lang, "faq.t5_how.answer", nil)
		for _, w := range want {
			if !containsAny(text, w) {
				t.Errorf("%s item-5 answer lacks %q: %q", lang, w, text)
			}
		}
		if label := renderText(t, lang, lblReqMenu, nil); !containsAny(text, label) {
			t.Errorf("%s item-5 answer names a menu chip %q does not match", lang, label)
		}
	}
	start := Step(State{}, Input{Kind: InputText, Text: "I want to make a disclosure request", Intent: Intent{Name: "disclosure"}, Now: rqT0})
	if start.State.Flow != FlowRequest || start.State.Request.Kinds != KindDisclosure {
		t.Fatalf("the phrase the answer gives: %+v", start.State)
	}
	for _, s := range []string{"status of my request", "申請状況"} {
		r := Step(State{}, Input{Kind: InputText, Text: s, Intent: Intent{Name: "none"}, Now: rqT0})
		if len(r.Replies) != 1 || r.Replies[0].ID != msgReqStatusNone {
			t.Fatalf("%q answered %v", s, ids(r.Replies))
		}
	}
}

func TestRequestStatusWordsAreNarrow(t *testing.T) {
	for _, s := range []string{"How do I request disclosure of my data?", "What ID do I need for a disclosure request?",
		"開示請求のときの本人確認書類は何が必要？", "請求書の支払い状況を知りたい", "自分のデータの開示を求めるにはどうすればいいですか",
		"配信停止の状況を教えて", "訂正をお願いしたい時の手続きはどうなっていますか", "How can I check the status of a request?"} {
		if asksRequestStatus(s) {
			t.Errorf("%q read as a status question", s)
		}
	}
	for _, s := range []string{"申請状況", "申請状況を教えて", "私の請求はどうなっていますか", "受付番号R-20261204-0007の状況",
		"What's the status of my request?", "where is my data request", "track my request"} {
		if !asksRequestStatus(s) {
			t.Errorf("%q not read as a status question", s)
		}
	}
}
