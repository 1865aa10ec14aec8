package handlers_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// rqStaff is a staff member acting on requests directly through the service.
var rqStaff = request.Actor{Kind: request.ActorStaff, ID: "x@x.example", Name: "X"}

// TestRequestTransitions: the request page's forms move a request along its lifecycle; reasons the
// customer reads are required where the lifecycle wants one (the form says the customer reads it),
// a refusal is worded from the grounds of policy item 5(1) in the customer's language, completing a
// correction says what was changed; a move the lifecycle does not allow is 409 and changes nothing.
func TestRequestTransitions(t *testing.T) {
	f := newRQFixture(t, rqSeeds)
	s := f.login("privacy@x.example")
	page := func(key string) string {
		t.Helper()
		_, body := s.get("/console/requests/" + f.refs[key])
		return body
	}
	act := func(key, what string, form url.Values) (int, string) {
		t.Helper()
		return s.act("/console/requests/"+f.refs[key]+"/"+what, form)
	}

	// The forms offered are the lifecycle's next statuses, with the warning where a reason is needed.
	body := page("docs")
	mustContain(t, "the documents_needed page", body, []string{`name="to" value="received"`, `name="to" value="verified"`,
		`name="to" value="rejected"`, `name="to" value="withdrawn"`, "この理由はお客さまに送られます。", "住所が古いままです", "代理 太郎",
		"09012340001", "request.confirm", "書類の提出待ち"}, `name="to" value="completed"`, `name="to" value="in_progress"`)

	// Without a reason: refused, shown again with what was typed.
	raised := f.svc.Raiser.Calls()
	code, body := act("docs", "transition", url.Values{"to": {"rejected"}, "note": {"社内向けの経緯"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "理由を入力してください。") || !strings.Contains(body, "社内向けの経緯") {
		t.Fatalf("rejection without a reason: %d", code)
	}
	if f.svc.Store.Request(f.refs["docs"]).Status != flows.StatusDocumentsNeeded || f.svc.Raiser.Calls() != raised {
		t.Fatal("a refused form changed the request")
	}
	code, loc := act("docs", "transition", url.Values{"to": {"rejected"}, "reason": {"ご提出の書類では、ご本人であることを確認できませんでした。"}})
	if code != http.StatusSeeOther || loc != "/console/requests/"+f.refs["docs"]+"?m=transition" {
		t.Fatalf("rejection: %d %s", code, loc)
	}
	if r := f.svc.Store.Request(f.refs["docs"]); r.Status != flows.StatusRejected || r.History[len(r.History)-1].Actor.ID != "privacy@x.example" ||
		r.History[len(r.History)-1].Actor.Name != "保護管理者" || f.svc.Raiser.Calls() != raised+1 {
		t.Fatalf("after the rejection: %+v", r.History)
	}
	mustContain(t, "the rejected page", page("docs"), []string{"却下（本人確認不可）", "ご提出の書類では", "保護管理者 (privacy@x.example)"})

	// Without a reason where none is needed.
	if code, _ := act("fresh", "transition", url.Values{"to": {"verified"}}); code != http.StatusSeeOther {
		t.Fatalf("verification: %d", code)
	}
	if got := f.audits("request.transition"); len(got) != 2 || !slices.Contains(got, "privacy@x.example "+f.refs["fresh"]+" received→verified") {
		t.Fatalf("transitions audited: %q", got)
	}

	// Not allowed by the lifecycle: 409, nothing changes, the refusal is audited.
	code, body = act("fresh", "transition", url.Values{"to": {"completed"}})
	if code != http.StatusConflict || !strings.Contains(body, "この操作は現在の状態では行えません") {
		t.Fatalf("verified → completed: %d", code)
	}
	if f.svc.Store.Request(f.refs["fresh"]).Status != flows.StatusVerified || len(f.audits("request.transition.refused")) != 1 {
		t.Fatal("a disallowed transition changed the request or was not audited")
	}
	if code, _ := act("refused", "transition", url.Values{"to": {"in_progress"}}); code != http.StatusConflict {
		t.Fatalf("a closed request moved: %d", code)
	}
	if code, _ := act("fresh", "transition", url.Values{"to": {"nonsense"}}); code != http.StatusConflict {
		t.Fatalf("an unknown status: %d", code)
	}

	// Refused on a ground of item 5(1): the policy's words in the customer's language (English here).
	mustContain(t, "the refusal form", page("late"), []string{`name="ground"`, "[1] 本人又は第三者の生命、身体、財産その他の権利利益を害する恐れがある",
		"お客さまに送られる文面（英語）", "Under item 5(1)[1] of our Privacy Policy", "完了にすると、お知らせを送った後に"})
	if code, body := act("late", "transition", url.Values{"to": {"refused"}}); code != http.StatusBadRequest || !strings.Contains(body, "不実施の根拠を選んでください。") {
		t.Fatalf("refusal without a ground: %d", code)
	}
	if code, _ := act("late", "transition", url.Values{"to": {"refused"}, "ground": {"other"}}); code != http.StatusBadRequest {
		t.Fatalf("refusal on another ground without a reason: %d", code)
	}
	if code, _ := act("late", "transition", url.Values{"to": {"refused"}, "ground": {"harm"}}); code != http.StatusSeeOther {
		t.Fatalf("refusal: %d", code)
	}
	last := func(key string) request.Change {
		h := f.svc.Store.Request(f.refs[key]).History
		return h[len(h)-1]
	}
	if c := last("late"); c.To != flows.StatusRefused || !strings.HasPrefix(c.Reason, "Under item 5(1)[1] of our Privacy Policy") {
		t.Fatalf("refusal reason %q", c.Reason)
	}
	// In Japanese, with staff's own words after the ground.
	if code, _ := act("fix", "transition", url.Values{"to": {"refused"}, "ground": {"crime"}, "reason": {"警察からの照会に関わるためです。"}}); code != http.StatusSeeOther {
		t.Fatalf("refusal in Japanese: %d", code)
	}
	if c := last("fix"); c.Reason != "当社プライバシーポリシー第5項(1)[5]「犯罪の予防、鎮圧又は捜査その他の公共の安全と秩序の維持に支障が及ぶ恐れがある場合」に該当するため、ご請求の全部又は一部にお応えすることができません。\n警察からの照会に関わるためです。" {
		t.Fatalf("Japanese refusal reason %q", c.Reason)
	}
	if got := f.audits("request.transition"); !slices.Contains(got, "privacy@x.example "+f.refs["fix"]+" in_progress→refused ground=crime") {
		t.Fatalf("the ground is not in the audit: %q", got)
	}

	// Completing a correction says what was changed.
	f2 := newRQFixture(t, rqSeeds)
	s2 := f2.login("admin@x.example")
	fix := "/console/requests/" + f2.refs["fix"]
	if code, body := s2.act(fix+"/transition", url.Values{"to": {"completed"}}); code != http.StatusBadRequest || !strings.Contains(body, "変更した内容を入力してください。") {
		t.Fatalf("completion without an outcome: %d", code)
	}
	if code, _ := s2.act(fix+"/transition", url.Values{"to": {"completed"}, "outcome": {"ご住所を新しいものに訂正しました。"}}); code != http.StatusSeeOther {
		t.Fatalf("completion: %d", code)
	}
	if r := f2.svc.Store.Request(f2.refs["fix"]); r.Status != flows.StatusCompleted || r.Outcome != "ご住所を新しいものに訂正しました。" {
		t.Fatalf("completed %s %q", r.Status, r.Outcome)
	}
	_, body = s2.get(fix)
	mustContain(t, "the completed page", body, []string{"ご住所を新しいものに訂正しました。", "この請求は終了しているため"}, `action="`+fix+`/transition"`, `action="`+fix+`/extend"`)
}

// TestRequestExtendAndNote: the due date moves to a later day with a reason the customer reads; notes
// stay internal; both are audited.
func TestRequestExtendAndNote(t *testing.T) {
	f := newRQFixture(t, rqSeeds)
	s := f.login("privacy@x.example")
	base := "/console/requests/" + f.refs["docs"]
	cur := f.now.AddDate(0, 0, 2).Format("2006-01-02")
	later := f.now.AddDate(0, 0, 30).Format("2006-01-02")
	for _, c := range []struct {
		form   url.Values
		code   int
		saying string
	}{
		{url.Values{"due": {"2026/13/40"}, "reason": {"調査に時間を要するため"}}, 400, "正しい日付で入力してください"},
		{url.Values{"due": {cur}, "reason": {"調査に時間を要するため"}}, 400, "現在の期限より後の日付"},
		{url.Values{"due": {later}}, 400, "理由を入力してください"},
	} {
		code, body := s.act(base+"/extend", c.form)
		if code != c.code || !strings.Contains(body, c.saying) || !strings.Contains(body, `<details class="action" open>`) {
			t.Errorf("extend %v: %d", c.form, code)
		}
	}
	if code, _ := s.act(base+"/extend", url.Values{"due": {later}, "reason": {"調査に時間を要するため"}}); code != http.StatusSeeOther {
		t.Fatalf("extend: %d", code)
	}
	if r := f.svc.Store.Request(f.refs["docs"]); r.DueAt.In(rqTokyo).Format("2006-01-02") != later {
		t.Fatalf("due %s, want %s", r.DueAt, later)
	}
	if got := f.audits("request.extend"); len(got) != 1 || !strings.HasSuffix(got[0], "due="+later) {
		t.Fatalf("extension audited: %q", got)
	}
	_, body := s.get(base + "?m=extend")
	mustContain(t, "the page after the extension", body, []string{"回答期限を延長しました。", "新しい期限：" + later, "調査に時間を要するため", "残り30日"})

	if code, body := s.act(base+"/note", url.Values{"text": {"  "}}); code != http.StatusBadRequest || !strings.Contains(body, "メモが空欄です。") {
		t.Fatalf("empty note: %d", code)
	}
	raised := f.svc.Raiser.Calls()
	if code, _ := s.act(base+"/note", url.Values{"text": {"郵送の書類は明日届く予定"}}); code != http.StatusSeeOther {
		t.Fatalf("note: %d", code)
	}
	if f.svc.Raiser.Calls() != raised {
		t.Fatal("a note reached the customer")
	}
	_, body = s.get(base)
	notes := body[strings.Index(body, `id="notes"`):]
	mustContain(t, "the notes", notes, []string{"郵送の書類は明日届く予定", "保護管理者 (privacy@x.example)"})
	if len(f.audits("request.note")) != 1 {
		t.Fatal("the note is not audited")
	}
	if code, _ := s.act(base+"/note", url.Values{"text": {strings.Repeat("長", 2001)}}); code != http.StatusBadRequest {
		t.Fatalf("a note too long: %d", code)
	}
}

// TestRequestDocumentView: the page lists the documents' metadata; a stored one is served decrypted
// with headers that keep it out of every cache, and every view is audited; a rejected one, or one of
// another request, is not served.
func TestRequestDocumentView(t *testing.T) {
	f := newRQFixture(t, rqSeeds)
	s := f.login("admin@x.example")
	base := "/console/requests/" + f.refs["fresh"]
	_, body := s.get(base)
	docs := body[strings.Index(body, `id="documents"`):]
	mustContain(t, "the documents", docs, []string{"1枚目", "2枚目", "保管中（暗号化済み）", "使用不可", "画像ではありませんでした",
		"<code>image/png</code>", `href="` + base + `/documents/` + f.docID + `"`})
	if strings.Count(docs[:strings.Index(docs, "</table>")], "/documents/") != 1 {
		t.Error("a document that is not stored has a view link")
	}
	req, _ := http.NewRequest(http.MethodGet, s.base+base+"/documents/"+f.docID, nil)
	res, err := s.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(got, f.png) {
		t.Fatalf("document: %d, %d bytes", res.StatusCode, len(got))
	}
	for k, v := range map[string]string{"Cache-Control": "no-store", "Pragma": "no-cache", "X-Content-Type-Options": "nosniff",
		"Content-Type": "image/png", "Content-Disposition": "inline"} {
		if res.Header.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, res.Header.Get(k), v)
		}
	}
	if got := f.audits("request.document.view"); len(got) != 1 || got[0] != "admin@x.example "+f.refs["fresh"]+" "+f.docID {
		t.Fatalf("view audited: %q", got)
	}
	for _, p := range []string{base + "/documents/ev2.abc123.0", "/console/requests/" + f.refs["post"] + "/documents/" + f.docID,
		base + "/documents/nothing", "/console/requests/R-19990101-0001/documents/" + f.docID} {
		if code, body := s.get(p); code != http.StatusNotFound || !strings.Contains(body, "見つかりません") {
			t.Errorf("%s: %d", p, code)
		}
	}
	if len(f.audits("request.document.view")) != 1 {
		t.Fatal("a document not served was audited")
	}
}

// rqUpload posts the page's upload form (multipart) with a file.
func rqUpload(t *testing.T, s *staffClient, path, name string, data []byte, csrf string) (int, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.base+path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return s.do(req)
}

// TestRequestPackage: files attached through the page are listed and downloaded as they were sent
// (both audited); the preview shows the package; the link can be revoked and reissued; a postal
// answer is marked posted.
func TestRequestPackage(t *testing.T) {
	f := newRQFixture(t, rqSeeds)
	s := f.login("privacy@x.example")
	base := "/console/requests/" + f.refs["fresh"]
	_, body := s.get(base)
	mustContain(t, "the package section", body, []string{`id="package"`, `enctype="multipart/form-data"`, "添付ファイルはありません。",
		"「完了にする」を押すと、お客さまのLINEにダウンロード用リンクが送られます。", "1ファイル20.0 MBまで"})

	data := []byte("請求番号,金額\nA-1,12000\n")
	if code, _ := rqUpload(t, s, base+"/files", "請求書.csv", data, "forged"); code != http.StatusForbidden {
		t.Fatalf("upload with a forged token: %d", code)
	}
	code, loc := rqUpload(t, s, base+"/files", "請求書.csv", data, s.csrf)
	if code != http.StatusSeeOther || loc != base+"?m=attach" {
		t.Fatalf("upload: %d %s", code, loc)
	}
	r := f.svc.Store.Request(f.refs["fresh"])
	if r.Package == nil || len(r.Package.Files) != 1 {
		t.Fatalf("package after the upload: %+v", r.Package)
	}
	file := r.Package.Files[0]
	_, body = s.get(loc)
	mustContain(t, "the page after the upload", body, []string{"ファイルを添付しました。", "請求書.csv", file.SHA256[:12], `href="` + base + `/files/` + file.ID + `"`})
	if got := f.audits("request.attach"); len(got) != 1 || !strings.Contains(got[0], "請求書.csv sha256="+file.SHA256[:12]) {
		t.Fatalf("upload audited: %q", got)
	}
	req, _ := http.NewRequest(http.MethodGet, s.base+base+"/files/"+file.ID, nil)
	res, err := s.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(got, data) || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") ||
		!strings.Contains(strings.ToLower(res.Header.Get("Content-Disposition")), "utf-8''%e8%ab%8b%e6%b1%82%e6%9b%b8.csv") {
		t.Fatalf("download: %d %q %q", res.StatusCode, got, res.Header.Get("Content-Disposition"))
	}
	if got := f.audits("request.file.download"); len(got) != 1 || !strings.Contains(got[0], file.ID) {
		t.Fatalf("download audited: %q", got)
	}
	if code, _ := s.get(base + "/files/0000000000000000"); code != http.StatusNotFound {
		t.Fatalf("an unknown file: %d", code)
	}
	if code, body := rqUpload(t, s, base+"/files", "empty.txt", nil, s.csrf); code != http.StatusBadRequest || !strings.Contains(body, "このファイルは添付できません") {
		t.Fatalf("an empty file: %d", code)
	}
	if code, body := rqUpload(t, s, base+"/files", "huge.bin", make([]byte, request.MaxFileSize+1), s.csrf); code != http.StatusRequestEntityTooLarge ||
		!strings.Contains(body, "ファイルが大きすぎます") {
		t.Fatalf("a file over the limit: %d", code)
	}
	// A body over the limit is refused before it is read (served directly: nothing sends it).
	big, _ := http.NewRequest(http.MethodPost, s.base+base+"/files", strings.NewReader("--x--"))
	big.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	big.ContentLength = request.MaxFileSize + 2<<20
	for _, c := range s.c.Jar.Cookies(big.URL) {
		big.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	f.bot.Config.Handler.ServeHTTP(rec, big)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "ファイルが大きすぎます") {
		t.Fatalf("a body over the limit: %d", rec.Code)
	}
	if len(f.svc.Store.Request(f.refs["fresh"]).Package.Files) != 1 {
		t.Fatal("a refused upload was attached")
	}
	if code, _ := rqUpload(t, s, "/console/requests/"+f.refs["docs"]+"/files", "x.txt", data, s.csrf); code != http.StatusConflict {
		t.Fatalf("upload to a request without a package: %d", code)
	}

	// The preview: what the customer's link opens.
	code, body = s.get(base + "/package")
	if code != 200 {
		t.Fatalf("preview: %d", code)
	}
	mustContain(t, "the preview", body, []string{"データパッケージ（" + f.refs["fresh"] + "）", "自分の情報を開示してください", "承知しました。",
		"お客さま", "自動応答", "停止", "電話", "LINEトーク", "苦情", "請求書.csv", "開示", "利用目的の通知"})
	if len(f.audits("request.package.view")) != 1 {
		t.Fatal("the preview is not audited")
	}
	if code, body := s.get("/console/requests/" + f.refs["docs"] + "/package"); code != http.StatusNotFound || !strings.Contains(body, "データパッケージがありません") {
		t.Fatalf("preview of a correction: %d", code)
	}

	// The link of a completed electronic request: revoked, then a new one sent to the customer.
	done := "/console/requests/" + f.refs["done"]
	_, body = s.get(done)
	mustContain(t, "the completed package", body, []string{`id="link-state">有効`, `id="revoke"`, `id="reissue"`, "0回"})
	if code, _ := s.act(done+"/link/revoke", nil); code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", code)
	}
	_, body = s.get(done)
	mustContain(t, "the revoked package", body, []string{`id="link-state">無効化済み`}, `id="revoke"`)
	if code, body := s.act(done+"/link/revoke", nil); code != http.StatusConflict || !strings.Contains(body, "すでに無効になっているか") {
		t.Fatalf("revoke again: %d", code)
	}
	raised := f.svc.Raiser.Calls()
	if code, _ := s.act(done+"/link/reissue", nil); code != http.StatusSeeOther || f.svc.Raiser.Calls() != raised+1 {
		t.Fatalf("reissue: %d", code)
	}
	if p := f.svc.Store.Request(f.refs["done"]).Package; p.Revoked || p.LinkHash == strings.Repeat("ab", 32) {
		t.Fatalf("reissued link: %+v", p)
	}
	for _, a := range []string{"request.link.revoke", "request.link.reissue", "request.link.revoke.refused"} {
		if len(f.audits(a)) != 1 {
			t.Errorf("%s audited %d times", a, len(f.audits(a)))
		}
	}

	// Postal delivery: marked posted once work has started.
	post := "/console/requests/" + f.refs["post"]
	_, body = s.get(post)
	mustContain(t, "the postal package", body, []string{"対応中になると、発送済みとして記録できます。"}, `id="mark-posted"`, `id="revoke"`)
	if code, _ := s.act(post+"/posted", nil); code != http.StatusConflict {
		t.Fatalf("posted while verified: %d", code)
	}
	if code, _ := s.act(post+"/transition", url.Values{"to": {"in_progress"}}); code != http.StatusSeeOther {
		t.Fatalf("start: %d", code)
	}
	if code, _ := s.act(post+"/posted", nil); code != http.StatusSeeOther {
		t.Fatalf("posted: %d", code)
	}
	_, body = s.get(post)
	mustContain(t, "the posted package", body, []string{"発送済みとして記録しました。"}, `id="mark-posted"`)
}

// TestChatShowsOpenRequest: the chat page of a customer with an open request says so to every role
// that works chats; only admins and privacy officers get a link to the requests.
func TestChatShowsOpenRequest(t *testing.T) {
	f := newRQFixture(t, rqSeeds)
	for who, link := range map[string]bool{"agent@x.example": false, "privacy@x.example": true, "admin@x.example": true} {
		s := f.login(who)
		code, body := s.get("/console/chats/E1")
		if code != 200 || !strings.Contains(body, `id="open-request">開示等の請求あり（対応中）`) {
			t.Errorf("%s: no badge (%d)", who, code)
		}
		if strings.Contains(body, "/console/requests") != link || strings.Contains(body, "/documents/") {
			t.Errorf("%s: link to the requests %v, want %v", who, !link, link)
		}
		if _, body := s.get("/console/chats/E2"); strings.Contains(body, `id="open-request"`) {
			t.Errorf("%s: badge for a customer without a request", who)
		}
	}
	// The request page links to the customer's chats.
	_, body := f.login("privacy@x.example").get("/console/requests/" + f.refs["fresh"])
	mustContain(t, "the chat links", body, []string{`href="/console/chats/E1"`, `href="/console/search?q=` + rqUser("fresh") + `"`})
}
