package flows

import (
	"slices"
	"testing"
	"time"
)

var rqT0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// rqRun drives Step like the pipeline: one input after another, a minute apart, collecting effects
// and rendering every reply through the catalogs of the conversation's language.
type rqRun struct {
	t       *testing.T
	st      State
	now     time.Time
	desk    RequestDesk
	last    Result
	effects []Effect
}

func newRqRun(t *testing.T, lang Lang) *rqRun {
	return &rqRun{t: t, st: State{Lang: lang}, now: rqT0}
}

func (r *rqRun) step(in Input) Result {
	r.t.Helper()
	r.now = r.now.Add(time.Minute)
	in.Now, in.Desk = r.now, r.desk
	res := Step(r.st, in)
	checkReplies(r.t, res.Replies)
	renderAll(r.t, r.st.Lang, res.Replies)
	if res.State.Lang != r.st.Lang && in.Kind != InputText && in.Kind != InputPostback {
		r.t.Fatalf("language changed by %v", in.Kind)
	}
	r.st, r.last = res.State, res
	r.effects = append(r.effects, res.Effects...)
	return res
}

func (r *rqRun) say(s string) Result {
	r.t.Helper()
	return r.step(Input{Kind: InputText, Text: s, Intent: Intent{Name: "none"}})
}

func (r *rqRun) sayIntent(s, intent string) Result {
	r.t.Helper()
	return r.step(Input{Kind: InputText, Text: s, Intent: Intent{Name: intent, Confidence: 0.9}})
}

func (r *rqRun) data(data string) Result {
	r.t.Helper()
	return r.step(Input{Kind: InputPostback, Postback: data})
}

// tap taps the chip with the label in the last replies (failing when it is not offered).
func (r *rqRun) tap(label string) Result {
	r.t.Helper()
	for i := len(r.last.Replies) - 1; i >= 0; i-- {
		for _, c := range r.last.Replies[i].Choices {
			if c.LabelID == label {
				return r.data(c.Postback)
			}
		}
	}
	r.t.Fatalf("no chip %q in %v (%+v)", label, ids(r.last.Replies), r.last.Replies)
	return Result{}
}

// choice returns the data of a chip in the last replies.
func (r *rqRun) choice(label string) string {
	r.t.Helper()
	for _, rep := range r.last.Replies {
		for _, c := range rep.Choices {
			if c.LabelID == label {
				return c.Postback
			}
		}
	}
	r.t.Fatalf("no chip %q in %v", label, ids(r.last.Replies))
	return ""
}

func (r *rqRun) offers(label string) bool {
	for _, rep := range r.last.Replies {
		for _, c := range rep.Choices {
			if c.LabelID == label {
				return true
			}
		}
	}
	return false
}

func (r *rqRun) media(typ, id string) Result {
	r.t.Helper()
	return r.step(Input{Kind: InputMedia, Media: MediaRef{Type: typ, MessageID: id}})
}

func (r *rqRun) notice(n RequestNotice) Result {
	r.t.Helper()
	return r.step(Input{Kind: InputInternal, Postback: RequestNoticePostback(n)})
}

func (r *rqRun) later(d time.Duration) { r.now = r.now.Add(d) }

// want checks the reply IDs of the last step.
func (r *rqRun) want(want ...string) {
	r.t.Helper()
	if got := ids(r.last.Replies); !slices.Equal(got, want) {
		r.t.Fatalf("replies %v, want %v", got, want)
	}
}

func (r *rqRun) wantStep(s reqStep) {
	r.t.Helper()
	if r.st.Flow != FlowRequest || r.st.Request.Step != s {
		r.t.Fatalf("flow %q step %d, want the form at step %d (replies %v)", r.st.Flow, r.st.Request.Step, s, ids(r.last.Replies))
	}
}

func (r *rqRun) kinds() map[string]string {
	return kindData(nil, "", r.st.Request.Kinds)
}

// checkReplies holds every result to LINE's limits: five messages, 13 chips, data that decodes.
func checkReplies(t *testing.T, rs []Reply) {
	t.Helper()
	if len(rs) > 5 {
		t.Fatalf("%d replies; LINE takes five", len(rs))
	}
	for _, rep := range rs {
		if len(rep.Choices) > 13 {
			t.Fatalf("%s has %d chips; LINE takes 13", rep.ID, len(rep.Choices))
		}
		for _, c := range rep.Choices {
			if c.Postback == "" {
				continue
			}
			p, ok := DecodePostback(c.Postback)
			if !ok || p.Encode() != c.Postback || len(c.Postback) > MaxPostbackBytes {
				t.Fatalf("%s chip %q: %+v %v", rep.ID, c.Postback, p, ok)
			}
			if label, ok := PostbackLabel(c.Postback); c.LabelID != FAQMoreLabelID && (!ok || label != c.LabelID) {
				t.Fatalf("%s chip %q names label %q %v, shows %q", rep.ID, c.Postback, label, ok, c.LabelID)
			}
		}
	}
}

// fillToDocs walks a fresh form from the kinds to the photo step as the customer.
func (r *rqRun) fillIdentity() {
	r.t.Helper()
	r.say("岡山　花子")
	r.say("岡山県岡山市北区今２－６－１０")
	r.say("090-1234-5678")
	r.wantStep(rqDocs)
	r.want(msgReqDocsList, msgReqDocsAsk)
}

// toPhotos walks a new form to the photo step: 開示, asked by the customer, identity given.
func toPhotos(t *testing.T, lang Lang) *rqRun {
	t.Helper()
	r := newRqRun(t, lang)
	r.data(RequestStartPostback)
	r.tap(kindLabel(KindDisclosure))
	r.tap(lblReqDone)
	r.tap(lblReqWhoSelf)
	r.fillIdentity()
	return r
}
