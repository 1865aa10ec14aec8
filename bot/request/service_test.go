package request_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/bot/request/requesttest"
	"github.com/enemane/privacybot/flows"
)

var (
	ctx   = context.Background()
	staff = request.Actor{Kind: request.ActorStaff, ID: "privacy@enemane.example", Name: "佐藤"}
)

func TestSubmitGivesReferenceDueDateAndTellsEveryone(t *testing.T) {
	d := requesttest.NewDesk(t, request.Config{})
	r := d.Submit(t, "U1", flows.RequestSubmission{Kinds: flows.KindDisclosure | flows.KindDeletion})
	if r.ID != "R-20261204-0001" {
		t.Errorf("reference = %s", r.ID)
	}
	if got := r.DueAt.In(requesttest.Tokyo).Format(time.DateOnly); got != "2026-12-18" {
		t.Errorf("due = %s, want 14 days after the day of receipt", got)
	}
	if r.Status != flows.StatusReceived || len(r.History) != 1 || r.History[0].What != request.ChangeCreated {
		t.Errorf("status %s, history %+v", r.Status, r.History)
	}
	last := d.Raiser.Last()
	if last.UserID != "U1" || last.Notice.What != flows.NoticeReceived || last.Notice.Ref != r.ID || last.Notice.Due != "2026-12-18" {
		t.Errorf("customer notice = %+v", last)
	}
	var types []string
	for _, m := range d.Outbox.Messages() {
		types = append(types, m.Destination+":"+m.Type)
	}
	want := []string{"staff_webhook:" + request.AlertType, "request_webhook:" + request.WebhookType}
	if !slices.Equal(types, want) {
		t.Errorf("outbox = %v, want %v", types, want)
	}
	// The staff alert carries no personal data.
	for _, m := range d.Outbox.Messages() {
		if m.Type == request.AlertType && (strings.Contains(string(m.Payload), "山田") || strings.Contains(string(m.Payload), "U1")) {
			t.Errorf("alert carries personal data: %s", m.Payload)
		}
	}
	// A second submission the same day gets the next number.
	if r2 := d.Submit(t, "U2", flows.RequestSubmission{}); r2.ID != "R-20261204-0002" {
		t.Errorf("second reference = %s", r2.ID)
	}
}

func TestSubmitAgainCreatesNothingNew(t *testing.T) {
	d := requesttest.NewDesk(t, request.Config{})
	sub := flows.RequestSubmission{Draft: "Dx", Kinds: flows.KindCorrection, Correction: "住所が旧住所のまま"}
	a := d.Submit(t, "U1", sub)
	b := d.Submit(t, "U1", sub) // the effect applied again after a crash, or a double tap
	if a.ID != b.ID || len(d.ForUser("U1")) != 1 {
		t.Fatalf("a repeated submission created another request: %s %s", a.ID, b.ID)
	}
	if n := len(d.Raiser.Events()); n != 1 {
		t.Errorf("the customer was told %d times", n)
	}
	if n := len(d.Outbox.Messages()); n != 2 {
		t.Errorf("%d outbox messages, want the alert and the webhook once", n)
	}
	// A service that restarts reads it back.
	again := request.New(request.Config{Store: d.Store, Holdings: d.Holdings, Raiser: d.Raiser, Sealer: d.Sealer,
		Now: d.Clock.Now, Location: requesttest.Tokyo})
	if err := again.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := again.Get(a.ID); err != nil || got.Correction != sub.Correction {
		t.Errorf("after a restart: %+v, %v", got, err)
	}
}

func TestDocumentsLaterWaitsAsDocumentsNeeded(t *testing.T) {
	d := requesttest.NewDesk(t, request.Config{})
	r := d.Submit(t, "U1", flows.RequestSubmission{DocsBy: flows.DocsLater})
	if r.Status != flows.StatusDocumentsNeeded {
		t.Errorf("status = %s", r.Status)
	}
	if n := d.Raiser.Last().Notice; n.Status != flows.StatusDocumentsNeeded || n.Draft != r.Draft {
		t.Errorf("notice = %+v", n)
	}
}

// The lifecycle: every pair of statuses, allowed exactly where the table says.
func TestTransitionTable(t *testing.T) {
	allowed := map[flows.RequestStatus][]flows.RequestStatus{
		flows.StatusReceived:        {flows.StatusVerified, flows.StatusDocumentsNeeded, flows.StatusRejected, flows.StatusWithdrawn},
		flows.StatusDocumentsNeeded: {flows.StatusReceived, flows.StatusVerified, flows.StatusRejected, flows.StatusWithdrawn},
		flows.StatusVerified:        {flows.StatusInProgress, flows.StatusWithdrawn},
		flows.StatusInProgress:      {flows.StatusCompleted, flows.StatusRefused, flows.StatusWithdrawn},
	}
	for _, from := range flows.StatusList() {
		for _, to := range flows.StatusList() {
			want := slices.Contains(allowed[from], to)
			if got := request.Allowed(from, to); got != want {
				t.Errorf("Allowed(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
}

// walk moves a fresh request through statuses, with a reason where one is needed.
func walk(t *testing.T, d *requesttest.Desk, ref string, to ...flows.RequestStatus) request.Request {
	t.Helper()
	var r request.Request
	var err error
	for _, s := range to {
		tr := request.Transition{To: s, Actor: staff}
		if request.NeedsReason(s) {
			tr.Reason = "理由"
		}
		if r, err = d.Transition(ctx, ref, tr); err != nil {
			t.Fatalf("→ %s: %v", s, err)
		}
	}
	return r
}

func TestTransitionsRecordNotifyAndRefuseWhatTheLifecycleDoesNot(t *testing.T) {
	d := requesttest.NewDesk(t, request.Config{})
	r := d.Submit(t, "U1", flows.RequestSubmission{Kinds: flows.KindSuspension, Target: "電話番号", Ground: flows.GroundUnneeded})
	if _, err := d.Transition(ctx, r.ID, request.Transition{To: flows.StatusCompleted, Actor: staff}); !errors.Is(err, request.ErrTransition) {
		t.Errorf("received → completed: %v, want ErrTransition", err)
	}
	if _, err := d.Transition(ctx, r.ID, request.Transition{To: flows.StatusRejected, Reason: "  ", Actor: staff}); !errors.Is(err, request.ErrReasonRequired) {
		t.Errorf("rejection without a reason: %v", err)
	}
	if _, err := d.Transition(ctx, "R-19990101-0001", request.Transition{To: flows.StatusVerified}); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("unknown request: %v", err)
	}
	d.Clock.Add(time.Hour)
	r = walk(t, d, r.ID, flows.StatusVerified, flows.StatusInProgress)
	r, err := d.Transition(ctx, r.ID, request.Transition{To: flows.StatusRefused, Reason: "法令に違反することとなるため", Note: "社内メモ", Actor: staff})
	if err != nil {
		t.Fatal(err)
	}
	h := r.History[len(r.History)-1]
	if h.From != flows.StatusInProgress || h.To != flows.StatusRefused || h.Actor != staff || !h.At.Equal(d.Clock.Now()) || h.Note != "社内メモ" {
		t.Errorf("history entry = %+v", h)
	}
	n := d.Raiser.Last().Notice
	if n.What != flows.NoticeStatus || n.Status != flows.StatusRefused || n.Reason != "法令に違反することとなるため" {
		t.Errorf("notice = %+v", n)
	}
	if strings.Contains(d.Raiser.Last().Data, "社内メモ") {
		t.Error("the internal note reached the customer")
	}
	if _, err := d.Transition(ctx, r.ID, request.Transition{To: flows.StatusInProgress, Actor: staff}); !errors.Is(err, request.ErrTransition) {
		t.Errorf("refused is final: %v", err)
	}
	// Every change queued one webhook message, keyed by its place in the history.
	var keys []string
	for _, m := range d.Outbox.Messages() {
		if m.Type == request.WebhookType {
			keys = append(keys, m.Key)
		}
	}
	if len(keys) != 4 || keys[3] != r.ID+"/4" {
		t.Errorf("webhook keys = %v", keys)
	}
}

func TestExtendNoteAndQueueFilters(t *testing.T) {
	d := requesttest.NewDesk(t, request.Config{})
	a := d.Submit(t, "U1", flows.RequestSubmission{Kinds: flows.KindDisclosure})
	d.Clock.Add(time.Minute)
	b := d.Submit(t, "U2", flows.RequestSubmission{Kinds: flows.KindErasure, Name: "鈴木 一郎", Address: "岡山市", Phone: "+81862397675"})
	if _, err := d.Extend(ctx, a.ID, a.DueAt.AddDate(0, 0, -1), "調査中", staff); !errors.Is(err, request.ErrTransition) {
		t.Errorf("an earlier due date: %v", err)
	}
	if _, err := d.Extend(ctx, a.ID, a.DueAt.AddDate(0, 0, 7), "", staff); !errors.Is(err, request.ErrReasonRequired) {
		t.Errorf("no reason: %v", err)
	}
	a, err := d.Extend(ctx, a.ID, a.DueAt.AddDate(0, 0, 7), "他部署の記録を確認しています", staff)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.DueAt.In(requesttest.Tokyo).Format(time.DateOnly); got != "2026-12-25" {
		t.Errorf("extended to %s", got)
	}
	if n := d.Raiser.Last().Notice; n.What != flows.NoticeExtended || n.Due != "2026-12-25" || n.Reason == "" {
		t.Errorf("notice = %+v", n)
	}
	raised := len(d.Raiser.Events())
	if _, err := d.Note(ctx, b.ID, "電話で本人確認の予定", staff); err != nil {
		t.Fatal(err)
	}
	if len(d.Raiser.Events()) != raised {
		t.Error("a note was sent to the customer")
	}

	refs := func(f request.Filter) []string {
		page, _ := d.List(f)
		var out []string
		for _, r := range page {
			out = append(out, r.ID)
		}
		return out
	}
	if got := refs(request.Filter{}); !slices.Equal(got, []string{b.ID, a.ID}) {
		t.Errorf("all, newest first = %v", got)
	}
	if got := refs(request.Filter{Kind: flows.KindErasure}); !slices.Equal(got, []string{b.ID}) {
		t.Errorf("kind = %v", got)
	}
	if got := refs(request.Filter{Query: "鈴木"}); !slices.Equal(got, []string{b.ID}) {
		t.Errorf("name search = %v", got)
	}
	if got := refs(request.Filter{Query: "086-239-7675"}); !slices.Equal(got, []string{b.ID}) {
		t.Errorf("phone search = %v", got)
	}
	if got := refs(request.Filter{Overdue: true}); len(got) != 0 {
		t.Errorf("overdue now = %v", got)
	}
	d.Clock.Add(15 * 24 * time.Hour) // b is overdue; a was extended
	if got := refs(request.Filter{Overdue: true}); !slices.Equal(got, []string{b.ID}) {
		t.Errorf("overdue later = %v", got)
	}
	if left := b.DaysLeft(d.Clock.Now(), requesttest.Tokyo); left != -1 {
		t.Errorf("days left = %d, want 1 day overdue", left)
	}
	page, next := d.List(request.Filter{Limit: 1})
	if len(page) != 1 || next != b.ID {
		t.Fatalf("first page %v next %q", page, next)
	}
	if page, next = d.List(request.Filter{Limit: 1, After: next}); len(page) != 1 || page[0].ID != a.ID || next != "" {
		t.Errorf("second page %v next %q", page, next)
	}
	if open, overdue := d.Counts(); open != 2 || overdue != 1 {
		t.Errorf("counts %d open %d overdue", open, overdue)
	}
	if dg, ok := d.DigestFor(d.Clock.Now()); !ok || len(dg.Overdue) != 1 || dg.Overdue[0].ID != b.ID {
		t.Errorf("digest = %+v", dg)
	}
}

func TestWithdrawFromTheChat(t *testing.T) {
	d := requesttest.NewDesk(t, request.Config{})
	r := d.Submit(t, "U1", flows.RequestSubmission{})
	raised := len(d.Raiser.Events())
	apply := func(user string) {
		t.Helper()
		st := bot.Step{EventID: "ev-w-" + user, UserID: user, Effects: []flows.Effect{{Kind: flows.EffectRequestWithdraw,
			Withdrawal: &flows.RequestWithdrawal{Ref: r.ID}}}}
		if err := d.Apply(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	apply("U2") // not theirs
	if got, _ := d.Get(r.ID); got.Status != flows.StatusReceived {
		t.Fatalf("another customer withdrew it: %s", got.Status)
	}
	apply("U1")
	apply("U1") // again: nothing new
	got, _ := d.Get(r.ID)
	if got.Status != flows.StatusWithdrawn || got.History[len(got.History)-1].Actor.Kind != request.ActorCustomer || len(got.History) != 2 {
		t.Errorf("after withdrawal: %s %+v", got.Status, got.History)
	}
	if len(d.Raiser.Events()) != raised {
		t.Error("the customer was told of their own withdrawal by push (the flow answers it)")
	}
	if d.HasOpen("U1") {
		t.Error("still open")
	}
}

func TestCompletingAnErasureAsksTheChatToErase(t *testing.T) {
	d := requesttest.NewDesk(t, request.Config{})
	d.Holdings.Data["U1"] = request.CustomerData{Transcript: []request.TranscriptLine{{Text: "消してください"}}}
	r := d.Submit(t, "U1", flows.RequestSubmission{Kinds: flows.KindErasure, Target: "すべて", Ground: flows.GroundUnneeded})
	walk(t, d, r.ID, flows.StatusVerified, flows.StatusInProgress)
	if _, err := d.Transition(ctx, r.ID, request.Transition{To: flows.StatusCompleted, Outcome: "保有データをすべて消去しました", Actor: staff}); err != nil {
		t.Fatal(err)
	}
	n := d.Raiser.Last().Notice
	if !n.Erase || n.Outcome == "" || n.Link != "" {
		t.Fatalf("notice = %+v", n)
	}
	// The flow answers the notice with EffectRequestErase, which the service carries out.
	st := bot.Step{EventID: d.Raiser.Last().ID, UserID: "U1", Effects: []flows.Effect{{Kind: flows.EffectRequestErase,
		Erasure: &flows.RequestErasure{Ref: r.ID}}}}
	if err := d.Apply(ctx, st); err != nil {
		t.Fatal(err)
	}
	got, _ := d.Get(r.ID)
	if !slices.Equal(d.Holdings.Erased, []string{"U1"}) || got.Erasure == nil || got.Erasure.Counts["transcript"] != 1 {
		t.Errorf("erased %v, record %+v", d.Holdings.Erased, got.Erasure)
	}
	if got.Status != flows.StatusCompleted {
		t.Errorf("the request record did not stay: %s", got.Status)
	}
}

// A cursor whose request left the filter between pages still marks the place.
func TestCursorSurvivesAChangeOfItsRequest(t *testing.T) {
	d := requesttest.NewDesk(t, request.Config{})
	var refs []string
	for i := range 3 {
		d.Clock.Add(time.Minute)
		refs = append(refs, d.Submit(t, fmt.Sprintf("U%d", i), flows.RequestSubmission{}).ID)
	}
	f := request.Filter{Status: []flows.RequestStatus{flows.StatusReceived}, Limit: 1}
	page, next := d.List(f)
	if len(page) != 1 || page[0].ID != refs[2] {
		t.Fatalf("first page %v", page)
	}
	walk(t, d, next, flows.StatusVerified) // leaves the filter
	f.After = next
	if page, _ = d.List(f); len(page) != 1 || page[0].ID != refs[1] {
		t.Errorf("second page = %v, want %s", page, refs[1])
	}
}

func TestSearchIgnoresSpacesAndWidthAndAuditsTheCustomersMoves(t *testing.T) {
	d := requesttest.NewDesk(t, request.Config{})
	r := d.Submit(t, "U1", flows.RequestSubmission{Name: "岡山 花子", Address: "岡山市", Phone: "+819012345678"})
	for _, q := range []string{"岡山　花子", "岡山花子", "ＯＫ", "花子"} {
		page, _ := d.List(request.Filter{Query: q})
		if want := q != "ＯＫ"; (len(page) == 1) != want {
			t.Errorf("search %q found %d", q, len(page))
		}
	}
	st := bot.Step{EventID: "ev-w", UserID: "U1", Effects: []flows.Effect{{Kind: flows.EffectRequestWithdraw,
		Withdrawal: &flows.RequestWithdrawal{Ref: r.ID}}}}
	if err := d.Apply(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got := d.Audit.Of(request.AuditWithdrawn); len(got) != 1 || request.AuditActor(request.AuditWithdrawn) != "customer:chat" {
		t.Errorf("withdrawal audit = %v", got)
	}
}
