package flows

import (
	"reflect"
	"strings"
	"testing"
)

// State stays comparable with the request data in it (the pipeline compares states with !=).
var _ = State{Request: RequestData{Kinds: KindsAll}} == State{}

func TestRequestSelfDisclosureEndToEnd(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			r := newRqRun(t, lang)
			r.desk.Fee = "1,000円（税込）"
			r.sayIntent("開示請求したい", "disclosure")
			r.want(msgReqKinds)
			r.wantStep(rqKinds)
			draft := r.st.Request.Draft
			if draft != DraftKey(r.now) || r.st.Request.Kinds != KindDisclosure {
				t.Fatalf("draft %q kinds %v", draft, r.st.Request.Kinds)
			}
			r.tap(lblReqDone)
			r.want(msgReqAskWho)
			r.tap(lblReqWhoSelf)
			r.want(msgReqAskName)
			r.fillIdentity()
			if r.last.Replies[1].Data["N"] != "0" {
				t.Fatalf("photos so far %q", r.last.Replies[1].Data["N"])
			}
			r.media("image", "m1")
			r.want(msgReqDocReceived)
			r.media("image", "m2")
			if r.last.Replies[0].Data["N"] != "2" {
				t.Fatalf("second photo numbered %q", r.last.Replies[0].Data["N"])
			}
			r.tap(lblReqDocsDone)
			r.want(msgReqAskDelivery)
			if r.last.Replies[0].Data["Fee"] != r.desk.Fee {
				t.Fatalf("fee not shown: %v", r.last.Replies[0].Data)
			}
			r.tap(lblReqElectronic)
			r.want(msgReqSummary)
			shown := r.last.Replies[0]
			if shown.Data["Fee"] != r.desk.Fee || shown.Data["Delivery"] != "electronic" || shown.Data["Name"] != "岡山 花子" ||
				shown.Data["Phone"] != "09012345678" || shown.Data["Address"] != "岡山県岡山市北区今2-6-10" || shown.Data["Docs"] != "2" {
				t.Fatalf("summary data %v", shown.Data)
			}
			r.tap(lblReqConfirm)
			r.want(msgReqSubmitted)
			if len(r.effects) != 3 {
				t.Fatalf("effects %+v", r.effects)
			}
			for i, e := range r.effects[:2] {
				if e.Kind != EffectRequestDocument || e.Document.Draft != draft || e.Document.Seq != i+1 ||
					e.Document.MessageID != []string{"m1", "m2"}[i] {
					t.Fatalf("document effect %d %+v", i, e.Document)
				}
			}
			sub := r.effects[2].Request
			want := RequestSubmission{Draft: draft, Kinds: KindDisclosure, Requester: RequesterSelf, Name: "岡山 花子",
				Address: "岡山県岡山市北区今2-6-10", Phone: "+819012345678", Documents: 2, DocsBy: DocsChat,
				Delivery: DeliveryElectronic, WordingID: msgReqSummary, Lang: lang, At: r.now}
			got := *sub
			got.WordingData = nil
			if r.effects[2].Kind != EffectRequest || !reflect.DeepEqual(got, want) || !sameData(sub.WordingData, shown.Data) {
				t.Fatalf("submission %+v\nwant %+v", *sub, want)
			}
			if r.st.Flow != FlowIdle || r.st.Request != (RequestData{Sent: draft, SentDocs: 2, SentBy: DocsChat}) {
				t.Fatalf("state after confirm %+v %+v", r.st.Flow, r.st.Request)
			}
		})
	}
}

func sameData(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Every kind alone, through the steps it needs, ends in one submission with the right delivery.
func TestRequestEveryKind(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		for _, k := range RequestKindList() {
			t.Run(string(lang)+"/"+k.Name(), func(t *testing.T) {
				r := newRqRun(t, lang)
				r.data(RequestStartPostback)
				r.tap(kindLabel(k))
				r.tap(lblReqDone)
				if k&KindsChange != 0 {
					r.want(msgReqAskCorr)
					r.say("登録の住所の番地が違います。正しくは2-6-10です。")
				}
				if k&KindsStop != 0 {
					r.want(msgReqAskTarget)
					r.say("電話番号")
					r.want(msgReqAskGround)
					r.tap(groundLabel(GroundUnneeded))
				}
				r.want(msgReqAskWho)
				r.tap(lblReqWhoSelf)
				r.fillIdentity()
				r.tap(lblReqDocsLater)
				if k&KindsAnswered != 0 {
					r.want(msgReqAskDelivery)
					r.tap(lblReqPost)
				}
				r.want(msgReqSummary)
				r.tap(lblReqConfirm)
				sub := r.effects[len(r.effects)-1].Request
				wantDelivery := DeliveryNone
				if k&KindsAnswered != 0 {
					wantDelivery = DeliveryPost
				}
				if sub == nil || sub.Kinds != k || sub.Delivery != wantDelivery || sub.DocsBy != DocsLater ||
					(k&KindsStop != 0) != (sub.Target == "电话番号" || sub.Target == "電話番号") ||
					(k&KindsStop != 0) != (sub.Ground == GroundUnneeded) || (k&KindsChange != 0) != (sub.Correction != "") {
					t.Fatalf("submission %+v", sub)
				}
				if r.st.Request.WaitDraft != sub.Draft || r.st.Request.WaitSeq != 0 {
					t.Fatalf("documents to follow, but the state waits for %+v", r.st.Request)
				}
			})
		}
	}
}

func TestRequestAgentsAndRepresentatives(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			// An agent: the agent's own name, then the customer's; documents by post.
			r := newRqRun(t, lang)
			r.sayIntent("母の代わりに個人情報を消してほしい", "disclosure")
			if r.st.Request.Kinds != KindErasure {
				t.Fatalf("kinds named %v", r.st.Request.Kinds)
			}
			r.tap(lblReqDone)
			r.say("すべての個人情報")
			r.say("もう必要ないので")
			r.want(msgReqAskWho)
			if r.st.Request.Ground != GroundUnneeded {
				t.Fatalf("ground typed: %q", r.st.Request.Ground)
			}
			r.tap(lblReqWhoAgent)
			r.want(msgReqAskRepName)
			r.say("岡山 太郎")
			r.want(msgReqAskName)
			if r.last.Replies[0].Data["Rep"] != "1" {
				t.Fatal("the customer's name is asked of the agent as the agent's")
			}
			r.fillIdentity()
			if d := r.last.Replies[0].Data; d["Who"] != "agent" {
				t.Fatalf("documents list for %v", d)
			}
			r.tap(lblReqDocsPost)
			r.want(msgReqSummary)
			r.tap(lblReqConfirm)
			sub := r.effects[len(r.effects)-1].Request
			if sub.Requester != RequesterAgent || sub.RepName != "岡山 太郎" || sub.RepKind != "" || sub.DocsBy != DocsPost ||
				sub.Delivery != DeliveryNone || sub.Documents != 0 {
				t.Fatalf("agent submission %+v", sub)
			}

			// A guardian, chosen by the chips; a parent typed.
			for _, c := range []struct {
				tap, typed string
				rep        string
			}{{lblReqRepGuardian, "", RepGuardian}, {"", "親権者です", RepParent}} {
				r := newRqRun(t, lang)
				r.data(RequestStartPostback)
				r.tap(kindLabel(KindPurposeNotice))
				r.tap(lblReqDone)
				r.tap(lblReqWhoLegal)
				r.want(msgReqAskRepKind)
				if c.tap != "" {
					r.tap(c.tap)
				} else {
					r.say(c.typed)
				}
				r.want(msgReqAskRepName)
				r.say("Taro Okayama")
				r.fillIdentity()
				if d := r.last.Replies[0].Data; d["Who"] != "legal_representative" || d["RepKind"] != c.rep {
					t.Fatalf("documents list for %v", d)
				}
				r.media("image", "a")
				r.tap(lblReqDocsDone)
				r.tap(lblReqElectronic)
				r.tap(lblReqConfirm)
				sub := r.effects[len(r.effects)-1].Request
				if sub.Requester != RequesterLegal || sub.RepKind != c.rep || sub.RepName != "Taro Okayama" || sub.Documents != 1 {
					t.Fatalf("representative submission %+v", sub)
				}
			}
		})
	}
}

func TestRequestDetailsAndGrounds(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			r := newRqRun(t, lang)
			r.sayIntent("電話番号を訂正して、DMの利用を停止してほしい", "disclosure")
			if r.st.Request.Kinds != KindCorrection|KindSuspension {
				t.Fatalf("kinds named %v", r.st.Request.Kinds)
			}
			r.say("はい")
			r.want(msgReqAskCorr)
			r.say("短")
			r.want(msgReqTextShort)
			r.wantStep(rqCorrection)
			r.say(strings.Repeat("長", 501))
			r.want(msgReqTextLong)
			if r.last.Replies[0].Data["Max"] != "500" {
				t.Fatalf("limit told %v", r.last.Replies[0].Data)
			}
			r.say("電話番号が古いままです。新しい番号は090-1111-2222です。")
			r.want(msgReqAskTarget)
			r.say("ダイレクトメールの送付先")
			r.want(msgReqAskGround)
			r.tap(groundLabel(GroundOther))
			r.want(msgReqAskGroundTxt)
			r.say("引っ越したので")
			r.want(msgReqAskWho)
			if d := r.st.Request; d.Ground != GroundOther || d.GroundText != "引っ越したので" || d.Target != "ダイレクトメールの送付先" {
				t.Fatalf("details %+v", d)
			}
			// Back walks the same way; a ground typed in words is "other" with the words.
			r.tap(lblReqBack)
			r.want(msgReqAskGroundTxt)
			r.tap(lblReqBack)
			r.want(msgReqAskGround)
			r.say("とにかく嫌なので止めてください")
			r.want(msgReqAskWho)
			if d := r.st.Request; d.Ground != GroundOther || d.GroundText != "とにかく嫌なので止めてください" {
				t.Fatalf("typed ground %+v", d)
			}
			r.say("戻る")
			r.want(msgReqAskGroundTxt)
			r.say("back")
			r.want(msgReqAskGround)
			r.tap(groundLabel(GroundLeaked))
			r.want(msgReqAskWho)
			if d := r.st.Request; d.Ground != GroundLeaked || d.GroundText != "" {
				t.Fatalf("ground chip %+v", d)
			}
		})
	}
}

func TestRequestValidationAndNonsense(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			r := newRqRun(t, lang)
			r.data(RequestStartPostback)
			r.want(msgReqKinds)
			if r.offers(lblReqDone) || r.offers(lblReqStatus) {
				t.Fatal("done offered with nothing chosen, or status with no requests")
			}
			draft := r.st.Request.Draft
			r.data(rq(r.st.Request, "done").Encode())
			r.want(msgReqKinds)
			if r.last.Replies[0].Data["Hint"] != "1" {
				t.Fatal("done with nothing chosen does not ask to choose")
			}
			r.say("ほげほげ")
			r.want(msgReqKinds)
			if r.last.Replies[0].Data["Hint"] != "1" {
				t.Fatal("nonsense at the kinds is not hinted")
			}
			r.tap(kindLabel(KindDisclosure))
			r.tap(kindLabel(KindDisclosure))
			if r.st.Request.Kinds != 0 {
				t.Fatalf("a second tap does not take the kind off: %v", r.st.Request.Kinds)
			}
			r.say("削除と消去")
			r.say("OK")
			r.want(msgReqAskTarget)
			r.say("住所")
			r.say("?")
			r.want(msgReqHint, msgReqAskGround)
			r.tap(groundLabel(GroundImproper))
			r.say("よくわからない")
			r.want(msgReqHint, msgReqAskWho)
			r.say("本人です")
			r.want(msgReqAskName)
			r.media("image", "early")
			r.want(msgReqMediaNotNow, msgReqAskName)
			for _, c := range []struct {
				text, want string
				step       reqStep
			}{
				{"12345", msgReqBadName, rqName},
				{"岡山 花子", msgReqAskAddress, rqAddress},
				{"岡山市", msgReqBadAddress, rqAddress},
				{"東京都どこかのあたり", msgReqBadAddress, rqAddress},
				{"see http://x.example/1", msgReqBadAddress, rqAddress},
				{"岡山県岡山市北区今二丁目", msgReqAskPhone, rqPhone},
				{"12345", msgReqBadPhone, rqPhone},
				{"086-239-7675", msgReqDocsList, rqDocs},
				{"こんにちは", msgReqDocsAgain, rqDocs},
			} {
				r.say(c.text)
				if r.last.Replies[0].ID != c.want || r.st.Request.Step != c.step {
					t.Fatalf("%q: %v at step %d, want %s at %d", c.text, ids(r.last.Replies), r.st.Request.Step, c.want, c.step)
				}
			}
			r.tap(lblReqDocsDone)
			r.want(msgReqDocsNone)
			for _, typ := range []string{"sticker", "video", "file", "audio", "location"} {
				r.media(typ, "x")
				r.want(msgReqDocNotImage)
			}
			n := len(r.effects)
			for i := 1; i <= maxRequestPhotos; i++ {
				r.media("image", "p"+itoa(i))
			}
			r.media("image", "p11")
			r.want(msgReqDocTooMany)
			if len(r.effects)-n != maxRequestPhotos {
				t.Fatalf("%d photos attached, want %d", len(r.effects)-n, maxRequestPhotos)
			}
			if last := r.effects[len(r.effects)-1].Document; last.Seq != 10 || last.MessageID != "p10" || last.Draft != draft {
				t.Fatalf("last photo %+v", last)
			}
			r.say("送信完了")
			r.want(msgReqSummary)
			r.say("うーん")
			r.want(msgReqHint, msgReqSummary)
			r.say("確定")
			r.want(msgReqSubmitted)
			if sub := r.effects[len(r.effects)-1].Request; sub.Address != "岡山県岡山市北区今二丁目" || sub.Documents != 10 ||
				sub.Requester != RequesterSelf || sub.Kinds != KindDeletion|KindErasure || sub.Ground != GroundImproper {
				t.Fatalf("submission %+v", sub)
			}
		})
	}
}
