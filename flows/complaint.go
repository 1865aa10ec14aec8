package flows

import (
	"strings"
	"unicode/utf8"
)

// maxDescriptionRunes bounds the complaint description kept in the conversation state (it is stored
// after every step); longer text stays whole in the transcript, which staff see.
const maxDescriptionRunes = 1000

var categories = []string{CategoryData, CategoryConduct, CategoryService, CategoryOther}

// complaintStep is the complaint flow in progress. ok is false for inputs it leaves to the main
// dispatch (follow, unfollow, postbacks of other features).
func complaintStep(st State, in Input, p Postback) (Result, bool) {
	switch in.Kind {
	case InputText:
		if _, ok := languageRequest(in.Text); ok {
			return Result{}, false
		}
		text := strings.TrimSpace(in.Text)
		switch st.Handoff.Stage {
		case StageCategory:
			// The customer wrote instead of choosing: keep the words, still ask for the category.
			st.Handoff.Description = clip(text)
			return Result{State: st, Replies: []Reply{askCategory(msgComplaintCategoryAgain)}}, true
		case StageConfirm:
			st.Handoff.Description = clip(st.Handoff.Description + "\n" + text)
		default:
			st.Handoff.Description = clip(text)
		}
		st.Handoff.Stage = StageConfirm
		return Result{State: st, Replies: []Reply{confirmComplaint(st)}}, true
	case InputMedia:
		return Result{State: st, Replies: []Reply{{ID: msgComplaintTextOnly}}}, true
	case InputPostback:
		switch p.Do {
		case ActCategory:
			if !validCategory(p.Category) {
				return Result{State: st, Replies: []Reply{askCategory(msgComplaintCategory)}}, true
			}
			st.Handoff.Category = p.Category
			if st.Handoff.Description != "" {
				st.Handoff.Stage = StageConfirm
				return Result{State: st, Replies: []Reply{confirmComplaint(st)}}, true
			}
			st.Handoff.Stage = StageDescribe
			return Result{State: st, Replies: []Reply{describeReply()}}, true
		case ActRewrite:
			st.Handoff.Stage, st.Handoff.Description = StageDescribe, ""
			return Result{State: st, Replies: []Reply{describeReply()}}, true
		case ActSend:
			if st.Handoff.Stage != StageConfirm || st.Handoff.Category == "" || st.Handoff.Description == "" {
				return Result{State: st, Replies: []Reply{askCategory(msgComplaintCategory)}}, true
			}
			prio := PriorityNormal
			if st.Handoff.Category == CategoryData {
				prio = PriorityHigh
			}
			return escalate(st, in, EscalationRequest{Reason: ReasonComplaint, Category: st.Handoff.Category,
				Description: st.Handoff.Description, Priority: prio}), true
		case ActQuit:
			st.Flow, st.Handoff = FlowIdle, HandoffState{}
			return Result{State: st, Replies: []Reply{{ID: msgComplaintQuit}, mainMenu(st)}}, true
		case ActComplain:
			return startComplaint(st, ""), true
		}
	}
	return Result{}, false
}

func startComplaint(st State, desc string) Result {
	st.Flow, st.Misses = FlowComplaint, 0
	st.Handoff = HandoffState{Stage: StageCategory, Description: clip(desc)}
	return Result{State: st, Replies: []Reply{askCategory(msgComplaintCategory)}}
}

func describeReply() Reply {
	return Reply{ID: msgComplaintDescribe, Choices: []Choice{{LabelID: lblQuit, Postback: act(ActQuit)}}}
}

func askCategory(id string) Reply {
	return Reply{ID: id, Choices: []Choice{
		{LabelID: lblCatData, Postback: Postback{Do: ActCategory, Category: CategoryData}.Encode()},
		{LabelID: lblCatConduct, Postback: Postback{Do: ActCategory, Category: CategoryConduct}.Encode()},
		{LabelID: lblCatService, Postback: Postback{Do: ActCategory, Category: CategoryService}.Encode()},
		{LabelID: lblCatOther, Postback: Postback{Do: ActCategory, Category: CategoryOther}.Encode()},
		{LabelID: lblQuit, Postback: act(ActQuit)},
	}}
}

func confirmComplaint(st State) Reply {
	return Reply{ID: msgComplaintConfirm,
		Data: map[string]string{"Category": st.Handoff.Category, "Description": st.Handoff.Description},
		Choices: []Choice{
			{LabelID: lblSend, Postback: act(ActSend)},
			{LabelID: lblRewrite, Postback: act(ActRewrite)},
			{LabelID: lblQuit, Postback: act(ActQuit)},
		}}
}

func validCategory(c string) bool {
	for _, x := range categories {
		if x == c {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxDescriptionRunes {
		return s
	}
	return string([]rune(s)[:maxDescriptionRunes-1]) + "…"
}
