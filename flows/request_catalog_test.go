package flows

import (
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enemane/privacybot/locales"
)

// The request flow's replies rendered through the real catalogs, as the bot's renderer does
// (locales.NewBundle, one localizer per language, the reply's data as template data).

var (
	rqBundleOnce sync.Once
	rqLocs       map[Lang]*i18n.Localizer
	rqBundleErr  error
)

func rqLocalizers(t *testing.T) map[Lang]*i18n.Localizer {
	t.Helper()
	rqBundleOnce.Do(func() {
		b, err := locales.NewBundle()
		if err != nil {
			rqBundleErr = err
			return
		}
		rqLocs = map[Lang]*i18n.Localizer{Ja: i18n.NewLocalizer(b, "ja"), En: i18n.NewLocalizer(b, "en")}
	})
	if rqBundleErr != nil {
		t.Fatal(rqBundleErr)
	}
	return rqLocs
}

// renderText renders one message in one language and checks it: present in that language, no
// template error, no missing value, not empty.
func renderText(t *testing.T, lang Lang, id string, data map[string]string) string {
	t.Helper()
	if lang == "" {
		lang = Ja
	}
	td := map[string]string{"PolicyURL": "https://example.jp/privacy"}
	for k, v := range data {
		td[k] = v
	}
	s, tag, err := rqLocalizers(t)[lang].LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id, TemplateData: td})
	if err != nil {
		t.Fatalf("%s %s: %v", lang, id, err)
	}
	if tag.String() != string(lang) {
		t.Fatalf("%s %s: missing (fell back to %s)", lang, id, tag)
	}
	if strings.TrimSpace(s) == "" || strings.Contains(s, "<no value>") || strings.Contains(s, "{{") {
		t.Fatalf("%s %s rendered %q with %v", lang, id, s, data)
	}
	return s
}

// renderAll renders replies and their chips' labels.
func renderAll(t *testing.T, lang Lang, rs []Reply) {
	t.Helper()
	for _, r := range rs {
		text := renderText(t, lang, r.ID, r.Data)
		if utf8.RuneCountInString(text) > 5000 {
			t.Fatalf("%s is %d characters; LINE takes 5000", r.ID, utf8.RuneCountInString(text))
		}
		for _, c := range r.Choices {
			if n := utf8.RuneCountInString(renderText(t, lang, c.LabelID, nil)); n > 20 {
				t.Fatalf("label %s: %d characters", c.LabelID, n)
			}
		}
	}
}

func japanese(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han)
	})
}

// rqFullData is template data with every key the request catalogs read.
func rqFullData() map[string]string {
	m := map[string]string{"Any": "1", "Hint": "1", "Open": "1", "One": "", "Ref": "R-20261204-0007", "St": "received",
		"DueJa": "2026年12月18日", "DueEn": "18 December 2026", "Max": "10", "N": "3", "Who": "agent", "Rep": "1",
		"RepKind": "parent", "Correction": "住所の番地の誤り", "Target": "電話番号", "G": "other", "GroundText": "不要です",
		"RepName": "岡山 太郎", "Name": "岡山 花子", "Address": "岡山県岡山市北区今2-6-10", "Phone": "09012345678",
		"DocsBy": "chat", "Docs": "2", "Delivery": "post", "Fee": "1,100円", "Days": "14", "Later": "1", "Post": "1",
		"Answered": "1", "Reason": "住民票の写し", "Link": "https://example.jp/r/x", "Outcome": "住所を訂正しました",
		"Posted": "1", "Erased": "1", "Seq": "2", "P": "too_large", "Waiting": "1", "More": "1", "Intro": "1", "Tap": "1",
		"Refused": "1", "Reissued": "1"}
	kindData(m, "", KindsAll)
	listData(m, "S", KindsStop)
	dueData(m, "Link", "2026-12-31")
	for i := range maxStatusRows {
		p := "R" + itoa(i) + "_"
		m[p+"Num"], m[p+"Ref"], m[p+"St"] = itoa(i+1), "R-20261204-000"+itoa(i), string(StatusList()[i%len(StatusList())])
		kindData(m, p, RequestKind(1<<i)|KindDeletion)
		dueData(m, p, "2026-12-18")
	}
	return m
}

// rqDataVariants are the full data with each value a template compares against.
func rqDataVariants() []map[string]string {
	vary := map[string][]string{"St": {"", "received", "documents_needed", "verified", "rejected", "in_progress", "completed", "refused", "withdrawn"},
		"Who": {"", "self", "agent", "legal_representative"}, "RepKind": {"", "parent", "guardian"},
		"G":      {"", "beyond_purpose", "improper", "unneeded", "leaked", "rights_at_risk", "other"},
		"DocsBy": {"", "chat", "later", "post"}, "Delivery": {"", "electronic", "post"},
		"P": {"", "not_image", "too_large", "too_many", "fetch_failed"}, "N": {"0", "1"}, "Docs": {"0", "4"},
		"One": append([]string{""}, KindsAll.Names()...)}
	out := []map[string]string{rqFullData()}
	for k, vs := range vary {
		for _, v := range vs {
			m := rqFullData()
			m[k] = v
			out = append(out, m)
		}
	}
	// Each way of asking the kinds, and a list of one stop kind and of two.
	for _, mode := range []string{"Intro", "Hint", "Tap"} {
		m := rqFullData()
		m["Intro"], m["Hint"], m["Tap"] = "", "", ""
		m[mode] = "1"
		out = append(out, m)
	}
	for _, k := range []RequestKind{KindSuspension, KindDeletion | KindStopThirdParty} {
		m := rqFullData()
		for _, x := range KindsStop.List() {
			delete(m, "SK_"+x.Name())
		}
		out = append(out, listData(m, "S", k))
	}
	// Flags off: every optional part left out.
	off := rqFullData()
	for _, k := range []string{"Any", "Hint", "Open", "Rep", "Later", "Post", "Answered", "Reason", "Link", "Outcome", "Posted",
		"Erased", "Waiting", "More", "Fee", "Days", "Correction", "Target", "GroundText", "DueJa", "DueEn", "Intro", "Tap",
		"Refused", "Reissued", "SAny", "LinkDueJa", "LinkDueEn"} {
		off[k] = ""
	}
	return append(out, off)
}

func TestRequestCatalogsRenderEveryMessage(t *testing.T) {
	variants := rqDataVariants()
	allowedJa := map[string]bool{msgReqDocsList: true, msgReqDocsAsk: true} // name Japanese documents in English
	for _, lang := range []Lang{Ja, En} {
		for _, id := range RequestMessageIDs() {
			for _, data := range variants {
				s := renderText(t, lang, id, data)
				if strings.HasPrefix(id, "request.label.") {
					if n := utf8.RuneCountInString(s); n > 20 {
						t.Errorf("%s label %s = %q: %d characters, LINE shows 20", lang, id, s, n)
					}
				}
				// Japanese in the English catalog only where a document is named as it is printed,
				// or where the data (a name, an address, the staff's words) carries it.
				plain := s
				for _, v := range data {
					if v != "" && japanese(v) {
						plain = strings.ReplaceAll(plain, v, "")
					}
				}
				if lang == En && japanese(plain) && !allowedJa[id] {
					t.Errorf("en %s has Japanese: %q", id, plain)
				}
				if lang == Ja && !japanese(s) {
					t.Errorf("ja %s has no Japanese: %q", id, s)
				}
				if utf8.RuneCountInString(s) > 5000 {
					t.Errorf("%s %s is over LINE's 5000 characters", lang, id)
				}
			}
		}
	}
}

// TestRequestCatalogsHaveNoStrays finds request.* entries the flow does not use (typos in IDs).
func TestRequestCatalogsHaveNoStrays(t *testing.T) {
	used := map[string]bool{}
	for _, id := range RequestMessageIDs() {
		if used[id] {
			t.Errorf("%s listed twice", id)
		}
		used[id] = true
	}
	all, err := locales.MessageIDs()
	if err != nil {
		t.Fatal(err)
	}
	for lang, list := range all {
		n := 0
		for _, id := range list {
			if strings.HasPrefix(id, "request.") {
				n++
				if !used[id] {
					t.Errorf("%s: %s is not used by the request flow", lang, id)
				}
			}
		}
		if n != len(used) {
			t.Errorf("%s: %d request messages, the flow uses %d", lang, n, len(used))
		}
	}
}

// requestChoices collects the chips the request feature offers, across many states.
func requestChoices() []Choice {
	desk := RequestDesk{Fee: "1,000円", Requests: []RequestSummary{{Ref: "R-1", Kinds: KindDisclosure, Status: StatusReceived}}}
	var rows []RequestSummary
	for i := range maxStatusRows + 2 {
		rows = append(rows, RequestSummary{Ref: "R-20261204-00" + itoa(10+i), Kinds: KindDeletion, Status: StatusInProgress})
	}
	in := Input{Now: rqT0, Desk: desk}
	var rs []Reply
	for _, d := range []RequestData{
		{Step: rqSummary, Draft: "DABC", Kinds: KindsAll, Requester: RequesterLegal, RepKind: RepGuardian, Ground: GroundOther},
		{Step: rqKinds, Draft: "DXYZ", Kinds: KindCorrection},
	} {
		st := State{Flow: FlowRequest, Request: d}
		for _, s := range formOrder {
			st.Request.Step = s
			rs = append(rs, reqPrompt(st, in)...)
			rs = append(rs, reqPrompt(st, Input{Now: rqT0})...)
		}
		rs = append(rs, docsListReply(st), resumeReply(st), leaveReply(st), statusReply(st, Input{Desk: RequestDesk{Requests: rows}}))
		rs = append(rs, withdrawAction(st, Input{Desk: RequestDesk{Requests: rows}}, Postback{Do: ActReqWithdraw, Ref: rows[0].Ref}).Replies...)
	}
	idle := State{}
	rs = append(rs, statusReply(idle, Input{}), statusReply(idle, Input{Desk: RequestDesk{Requests: rows}}),
		duplicateReply(RequestDesk{Requests: []RequestSummary{{Ref: "R", Kinds: KindsAll, Status: StatusVerified}}}, KindsAll, true),
		alreadySent(in, "D"))
	rs = append(rs, withdrawAction(idle, Input{Desk: RequestDesk{Requests: rows}}, Postback{Do: ActReqWithdraw, Ref: rows[0].Ref}).Replies...)
	rs = append(rs, withdrawAction(idle, Input{Desk: RequestDesk{Requests: rows}}, Postback{Do: ActReqWithdraw, Ref: rows[0].Ref, Step: "no"}).Replies...)
	rs = append(rs, requestNotice(idle, in, RequestNotice{What: NoticeReceived, Ref: "R", Status: StatusReceived}).Replies...)
	rs = append(rs, mainMenu(idle))
	var out []Choice
	for _, r := range rs {
		out = append(out, r.Choices...)
	}
	return out
}

// TestRequestChipsRoundTripAndNameTheirLabel: every chip's data decodes, encodes back to itself, fits
// LINE's limit, and PostbackLabel finds the label the customer saw; every label is in the catalogs.
func TestRequestChipsRoundTripAndNameTheirLabel(t *testing.T) {
	listed := map[string]bool{}
	for _, id := range AllMessageIDs() {
		listed[id] = true
	}
	seen := map[string]bool{}
	for _, c := range requestChoices() {
		if c.Postback == "" {
			continue
		}
		p, ok := DecodePostback(c.Postback)
		if !ok || p.Encode() != c.Postback || len(c.Postback) > MaxPostbackBytes {
			t.Errorf("%q: decoded %+v %v, encodes to %q", c.Postback, p, ok, p.Encode())
			continue
		}
		label, ok := PostbackLabel(c.Postback)
		if !ok || label != c.LabelID || !listed[label] {
			t.Errorf("%q: label %q %v, want %q (listed %v)", c.Postback, label, ok, c.LabelID, listed[label])
		}
		seen[c.LabelID] = true
	}
	// Every label of the feature is offered somewhere.
	for _, id := range RequestMessageIDs() {
		if strings.HasPrefix(id, "request.label.") && !seen[id] {
			t.Errorf("label %s is never offered", id)
		}
	}
	for _, data := range []string{"do=rq&a=kind&d=D1&k=nonsense", "do=rq&a=who&d=D1&v=boss", "do=rwd&n=99&ref=R",
		"do=rq&a=edit&d=D1&v=nowhere", "do=rq&a=zzz"} {
		if l, ok := PostbackLabel(data); ok {
			t.Errorf("%q has label %q", data, l)
		}
	}
}
