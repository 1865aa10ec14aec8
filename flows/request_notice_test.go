package flows

import (
	"testing"
	"time"
)

// submitLater submits a request whose documents follow, with one photo sent in the form.
func submitLater(t *testing.T, lang Lang) (*rqRun, string) {
	t.Helper()
	r := newRqRun(t, lang)
	r.data(RequestStartPostback)
	r.tap(kindLabel(KindDeletion))
	r.tap(lblReqDone)
	r.say("電話番号")
	r.tap(groundLabel(GroundUnneeded))
	r.tap(lblReqWhoSelf)
	r.fillIdentity()
	r.media("image", "m1")
	r.tap(lblReqDocsLater)
	r.tap(lblReqConfirm)
	r.want(msgReqSubmitted)
	return r, r.st.Request.Sent
}

func TestRequestNoticeReceivedAndPhotosLater(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			r, draft := submitLater(t, lang)
			n := RequestNotice{What: NoticeReceived, Ref: "R-20261204-0007", Draft: draft, Kinds: KindDeletion,
				Status: StatusDocumentsNeeded, Due: "2026-12-18"}
			r.notice(n)
			r.want(msgReqNoticeReceived)
			d := r.last.Replies[0].Data
			if d["Ref"] != n.Ref || d["DueJa"] != "2026年12月18日" || d["DueEn"] != "18 December 2026" || d["Later"] != "1" ||
				d["Post"] != "" || d["K_deletion"] != "1" || !r.offers(lblReqStatus) {
				t.Fatalf("received notice %+v", r.last.Replies[0])
			}
			if w := r.st.Request; w.WaitDraft != draft || w.WaitRef != n.Ref || w.WaitSeq != 1 {
				t.Fatalf("waiting for %+v", w)
			}
			// Photos sent afterwards attach to that request, numbered after the form's.
			before := len(r.effects)
			r.media("image", "later1")
			r.want(msgReqDocAttached)
			r.media("image", "later2")
			if len(r.effects)-before != 2 {
				t.Fatalf("effects %+v", r.effects[before:])
			}
			for i, e := range r.effects[before:] {
				if e.Kind != EffectRequestDocument || e.Document.Draft != draft || e.Document.Seq != i+2 {
					t.Fatalf("later photo %d: %+v", i, e.Document)
				}
			}
			if r.last.Replies[0].Data["N"] != "3" || r.last.Replies[0].Data["Ref"] != n.Ref {
				t.Fatalf("attached %v", r.last.Replies[0].Data)
			}
			r.media("video", "v")
			r.want(msgReqDocNotImage)
			r.media("sticker", "s")
			r.want(msgMediaUnanswered, msgMenu)
			// Documents arrived (back to received): photos still attach; verified: they no longer do.
			r.notice(RequestNotice{What: NoticeStatus, Ref: n.Ref, Draft: draft, Kinds: KindDeletion, Status: StatusReceived, Due: n.Due})
			r.want(msgReqNoticeStatus)
			if r.st.Request.WaitDraft != draft {
				t.Fatal("received again stopped the wait")
			}
			r.notice(RequestNotice{What: NoticeStatus, Ref: n.Ref, Draft: draft, Kinds: KindDeletion, Status: StatusVerified, Due: n.Due})
			if r.st.Request.WaitDraft != "" {
				t.Fatalf("still waiting after verification: %+v", r.st.Request)
			}
			r.media("image", "late")
			r.want(msgMediaUnanswered, msgMenu)
			// Staff ask for more: photos attach again, numbered on.
			r.notice(RequestNotice{What: NoticeStatus, Ref: n.Ref, Draft: draft, Kinds: KindDeletion,
				Status: StatusDocumentsNeeded, Reason: "住民票の写し", Due: n.Due})
			if d := r.last.Replies[0].Data; d["Reason"] != "住民票の写し" || d["St"] != "documents_needed" {
				t.Fatalf("documents needed %v", d)
			}
			r.media("image", "again")
			if e := r.effects[len(r.effects)-1].Document; e == nil || e.Draft != draft || e.Seq != 4 {
				t.Fatalf("photo after documents_needed: %+v", e)
			}
		})
	}
}

func TestRequestNoticeReceivedVariants(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			// Copies by post: where to send them.
			r := toSummary(t, lang)
			r.tap(editLabel(secPhotos))
			r.tap(lblReqDocsPost)
			r.tap(lblReqConfirm)
			draft := r.st.Request.Sent
			r.notice(RequestNotice{What: NoticeReceived, Ref: "R-1", Draft: draft, Kinds: KindDisclosure | KindErasure,
				Status: StatusDocumentsNeeded, Due: "2026-12-18"})
			if d := r.last.Replies[0].Data; d["Post"] != "1" || d["Later"] != "" || d["Answered"] != "1" {
				t.Fatalf("post notice %v", d)
			}
			text := renderText(t, lang, msgReqNoticeReceived, r.last.Replies[0].Data)
			if !containsAny(text, "700-0975") || !containsAny(text, "2-6-10") {
				t.Fatalf("post notice without the address: %q", text)
			}
			// Photos in the form: checked next.
			r = toSummary(t, lang)
			r.tap(lblReqConfirm)
			r.notice(RequestNotice{What: NoticeReceived, Ref: "R-2", Draft: r.st.Request.Sent, Kinds: KindDisclosure,
				Status: StatusReceived, Due: "2026-12-18"})
			if d := r.last.Replies[0].Data; d["Post"] != "" || d["Later"] != "" || r.st.Request.WaitDraft != "" {
				t.Fatalf("received notice %v, state %+v", d, r.st.Request)
			}
		})
	}
}

func TestRequestNoticeStatuses(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		for _, s := range StatusList() {
			t.Run(string(lang)+"/"+string(s), func(t *testing.T) {
				r := newRqRun(t, lang)
				n := RequestNotice{What: NoticeStatus, Ref: "R-20261204-0007", Draft: "D1", Kinds: KindDisclosure | KindCorrection,
					Status: s, Due: "2026-12-18", Reason: "理由です", Outcome: "住所を訂正しました"}
				if s == StatusCompleted {
					n.Link = "https://example.jp/r/abc"
				}
				r.notice(n)
				r.want(msgReqNoticeStatus)
				d := r.last.Replies[0].Data
				if d["St"] != string(s) || d["Ref"] != n.Ref || (d["DueJa"] != "") != s.Open() || !r.offers(lblReqStatus) {
					t.Fatalf("notice %v", d)
				}
				if (r.st.Request.WaitDraft == "D1") != (s == StatusDocumentsNeeded) {
					t.Fatalf("waiting %+v", r.st.Request)
				}
			})
		}
	}
	// Completed: the link, or "posted"; an erasure forgets the conversation after the notice.
	for _, lang := range []Lang{Ja, En} {
		r := newRqRun(t, lang)
		r.notice(RequestNotice{What: NoticeStatus, Ref: "R-3", Kinds: KindDisclosure, Status: StatusCompleted})
		if r.last.Replies[0].Data["Posted"] != "1" {
			t.Fatalf("completed by post: %v", r.last.Replies[0].Data)
		}
		r.st.OptOut.Out = ChanPhone
		r.data(RequestStartPostback)
		r.notice(RequestNotice{What: NoticeStatus, Ref: "R-4", Kinds: KindErasure, Status: StatusCompleted, Outcome: "すべて消去", Erase: true})
		r.want(msgReqNoticeStatus)
		if r.st != (State{Lang: lang}) || r.last.Replies[0].Data["Erased"] != "1" {
			t.Fatalf("after an erasure: %+v %v", r.st, r.last.Replies[0].Data)
		}
		if e := r.effects[len(r.effects)-1]; e.Kind != EffectRequestErase || e.Erasure == nil || e.Erasure.Ref != "R-4" {
			t.Fatalf("erasure effect %+v", e)
		}
	}
}

func TestRequestNoticeExtendedDocumentAndUnknown(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			r := newRqRun(t, lang)
			r.notice(RequestNotice{What: NoticeExtended, Ref: "R-1", Kinds: KindDisclosure, Due: "2027-01-08", Reason: "調査のため"})
			r.want(msgReqNoticeExtended)
			if d := r.last.Replies[0].Data; d["DueJa"] != "2027年1月8日" || d["DueEn"] != "8 January 2027" || d["Reason"] != "調査のため" {
				t.Fatalf("extended %v", d)
			}
			for _, p := range []string{DocNotImage, DocTooLarge, DocTooMany, DocFetchFailed} {
				r.notice(RequestNotice{What: NoticeDocument, Ref: "R-1", Draft: "D9", Seq: 3, Problem: p})
				r.want(msgReqNoticeDocument)
				if d := r.last.Replies[0].Data; d["Seq"] != "3" || d["P"] != p {
					t.Fatalf("document notice %v", d)
				}
			}
			// The photo sent again attaches to that request, numbered after the one refused.
			if w := r.st.Request; w.WaitDraft != "D9" || w.WaitRef != "R-1" || w.WaitSeq != 3 {
				t.Fatalf("waiting %+v", w)
			}
			r.media("image", "again")
			if e := r.effects[len(r.effects)-1].Document; e.Draft != "D9" || e.Seq != 4 {
				t.Fatalf("photo sent again %+v", e)
			}
			before := r.st
			res := r.notice(RequestNotice{What: "something-new", Ref: "R-1"})
			if len(res.Replies) != 0 || res.State != before {
				t.Fatalf("unknown notice answered %+v", res)
			}
			res = r.notice(RequestNotice{What: NoticeStatus, Ref: "R-1", Status: "nonsense"})
			if len(res.Replies) != 0 {
				t.Fatalf("unknown status answered %+v", res)
			}
		})
	}
}

// A notice in the middle of a form (or of another flow) is answered and leaves the form as it was.
func TestRequestNoticeMidFlow(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			r := toPhotos(t, lang)
			r.media("image", "p1")
			form := r.st
			r.notice(RequestNotice{What: NoticeDocument, Ref: "", Draft: form.Request.Draft, Seq: 1, Problem: DocTooLarge})
			r.want(msgReqNoticeDocument, msgReqDocsAsk)
			// The refused photo no longer counts; nothing else changes.
			want := form
			want.Request.Docs = 0
			if r.st != want {
				t.Fatalf("after the notice:\n%+v\nwant\n%+v", r.st, want)
			}
			r.notice(RequestNotice{What: NoticeStatus, Ref: "R-9", Draft: "DOLD", Status: StatusDocumentsNeeded})
			r.want(msgReqNoticeStatus, msgReqDocsAsk)
			if r.st.Flow != FlowRequest || r.st.Request.Step != rqDocs || r.st.Request.WaitDraft != "DOLD" {
				t.Fatalf("after a notice mid-form %+v", r.st)
			}
			// Inside the form, photos go to the form, not to the request waiting.
			r.media("image", "p2")
			if e := r.effects[len(r.effects)-1].Document; e.Draft != form.Request.Draft || e.Seq != 2 {
				t.Fatalf("photo in the form went to %+v", e)
			}
			// In another flow: the notice alone, self-contained, and the flow stays.
			o := newRqRun(t, lang)
			o.data("do=optout")
			o.notice(RequestNotice{What: NoticeReceived, Ref: "R-5", Draft: "D5", Kinds: KindDisclosure, Status: StatusReceived, Due: "2026-12-18"})
			o.want(msgReqNoticeReceived)
			if o.st.Flow != FlowOptOut {
				t.Fatalf("the opt-out flow was left: %+v", o.st)
			}
		})
	}
}

func TestRequestStatusAndWithdraw(t *testing.T) {
	for _, lang := range []Lang{Ja, En} {
		t.Run(string(lang), func(t *testing.T) {
			r := newRqRun(t, lang)
			r.say("申請状況")
			r.want(msgReqStatusNone)
			if !r.offers(lblReqMenu) {
				t.Fatal("no way to start a request from the empty status")
			}
			r.desk.Requests = []RequestSummary{
				{Ref: "R-20261204-0007", Draft: "D7", Kinds: KindDisclosure | KindDeletion, Status: StatusDocumentsNeeded, Due: "2026-12-18"},
				{Ref: "R-20261120-0002", Draft: "D2", Kinds: KindCorrection, Status: StatusCompleted, Due: "2026-12-04"},
				{Ref: "R-20261110-0001", Draft: "D1", Kinds: KindSuspension, Status: StatusInProgress, Due: "2026-11-24"},
			}
			// Recognised whatever the classifier made of it.
			for _, in := range []Input{{Kind: InputText, Text: "申請状況", Intent: Intent{Name: "none"}},
				{Kind: InputText, Text: "status of my request", Intent: Intent{Name: "faq.5", Topic: "5.how"}},
				{Kind: InputText, Text: "開示請求の進み具合は？", Intent: Intent{Name: "faq.5"}},
				{Kind: InputText, Text: "私の請求はどうなっていますか", Intent: Intent{Name: "disclosure"}},
				{Kind: InputPostback, Postback: act(ActReqStatus)}} {
				r.step(in)
				r.want(msgReqStatusList)
			}
			d := r.last.Replies[0].Data
			if d["R0_Ref"] != "R-20261204-0007" || d["R0_St"] != "documents_needed" || d["R0_K_disclosure"] != "1" ||
				d["R0_K_deletion"] != "2" || d["R0_DueJa"] != "2026年12月18日" || d["R1_DueJa"] != "" || d["R2_Num"] != "3" || d["Open"] != "1" {
				t.Fatalf("status data %v", d)
			}
			var withdraws []string
			for _, c := range r.last.Replies[0].Choices {
				if p, _ := DecodePostback(c.Postback); p.Do == ActReqWithdraw {
					withdraws = append(withdraws, p.Ref+"#"+itoa(p.Num))
				}
			}
			if len(withdraws) != 2 || withdraws[0] != "R-20261204-0007#1" || withdraws[1] != "R-20261110-0001#3" {
				t.Fatalf("withdraw chips %v", withdraws)
			}
			// Withdraw: asked, kept; asked, confirmed; a second confirmation changes nothing.
			r.tap(withdrawLabel(3))
			r.want(msgReqWithdrawAsk)
			r.tap(lblReqWithdrawNo)
			r.want(msgReqWithdrawKept)
			r.tap(lblReqStatus)
			r.tap(withdrawLabel(1))
			r.want(msgReqWithdrawAsk)
			yes := r.choice(lblReqWithdrawYes)
			r.data(yes)
			r.want(msgReqWithdrawDone)
			r.data(yes)
			r.want(msgReqWithdrawNot)
			var got []string
			for _, e := range r.effects {
				if e.Kind == EffectRequestWithdraw {
					got = append(got, e.Withdrawal.Ref)
				}
			}
			if len(got) != 1 || got[0] != "R-20261204-0007" {
				t.Fatalf("withdrawals %v", got)
			}
			// Only an open request of the customer's can be withdrawn.
			for _, ref := range []string{"R-20261120-0002", "R-99999999-0001"} {
				r.data(Postback{Do: ActReqWithdraw, Ref: ref, Step: "ok"}.Encode())
				r.want(msgReqWithdrawNot)
			}
			if len(r.effects) != 1 {
				t.Fatalf("effects %+v", r.effects)
			}
			// Asking to withdraw in words shows the list with its buttons.
			r.sayIntent("請求を取り下げたい", "disclosure")
			r.want(msgReqStatusList)
			// Inside a form: the list, and a chip back to the form.
			r.data(RequestStartPostback)
			r.say("申請状況")
			r.want(msgReqStatusList)
			r.tap(lblReqResume)
			r.want(msgReqKinds)
			r.tap(lblReqStatus)
			r.tap(withdrawLabel(3))
			r.tap(lblReqWithdrawNo)
			r.want(msgReqWithdrawKept)
			r.tap(lblReqResume)
			r.want(msgReqKinds)
			if r.st.Flow != FlowRequest {
				t.Fatalf("the form was left: %+v", r.st)
			}
		})
	}
}

func TestRequestStatusListsTen(t *testing.T) {
	var reqs []RequestSummary
	for i := range 12 {
		reqs = append(reqs, RequestSummary{Ref: "R-2026120" + itoa(i%10) + "-00" + itoa(10+i), Kinds: KindsAll,
			Status: StatusList()[i%len(StatusList())], Due: "2026-12-18"})
	}
	for _, lang := range []Lang{Ja, En} {
		r := newRqRun(t, lang)
		r.desk.Requests = reqs
		r.say("申請状況")
		rep := r.last.Replies[0]
		if rep.Data["More"] != "1" || rep.Data["R9_Num"] != "10" || rep.Data["R10_Num"] != "" || len(rep.Choices) > 13 {
			t.Fatalf("12 requests: %v, %d chips", rep.Data, len(rep.Choices))
		}
		text := renderText(t, lang, rep.ID, rep.Data)
		if !containsAny(text, reqs[9].Ref) || containsAny(text, reqs[10].Ref) {
			t.Fatalf("rendered list %q", text)
		}
	}
}

// The notices are internal events: a customer who sends their data as a postback (forged) gets the
// menu, never an erasure, a wait for photos or a notice.
func TestRequestNoticeCannotBeForged(t *testing.T) {
	forged := RequestNoticePostback(RequestNotice{What: NoticeStatus, Ref: "R-1", Draft: "D1", Kinds: KindErasure,
		Status: StatusCompleted, Erase: true})
	for _, st := range []State{{}, {Flow: FlowRequest, Request: RequestData{Step: rqWho, Draft: "D2", Touched: rqT0.Unix()}}} {
		r := Step(st, Input{Kind: InputPostback, Postback: forged, Now: rqT0.Add(time.Minute)})
		if len(r.Effects) != 0 || len(r.Replies) != 1 || r.Replies[0].ID != msgMenu || r.State.Request.WaitDraft != "" {
			t.Fatalf("forged notice from %+v: %+v", st, r)
		}
	}
	wait := RequestNoticePostback(RequestNotice{What: NoticeStatus, Ref: "R-1", Draft: "D1", Status: StatusDocumentsNeeded})
	if r := Step(State{}, Input{Kind: InputPostback, Postback: wait, Now: rqT0}); r.State.Request.WaitDraft != "" {
		t.Fatalf("a forged documents_needed made photos attach: %+v", r.State.Request)
	}
}
