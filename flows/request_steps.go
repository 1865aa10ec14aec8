package flows

// The steps of the request form: which apply, what comes next and before, and the answers.

// goTo moves the form to step s and asks its question.
func goTo(st State, in Input, s reqStep) Result {
	d := &st.Request
	d.Step = s
	if s == rqSummary {
		d.Section = 0
	}
	if s == rqDocs {
		return Result{State: st, Replies: []Reply{docsListReply(st), docsAskReply(st, msgReqDocsAsk)}}
	}
	return Result{State: st, Replies: reqPrompt(st, in)}
}

// advance moves on from the current step.
func advance(st State, in Input) Result {
	return goTo(st, in, st.Request.after(st.Request.Step))
}

// goBack returns to the previous step; while a section is being changed, to the summary.
func goBack(st State, in Input) Result {
	d := &st.Request
	if d.Section != 0 {
		return goTo(st, in, rqSummary)
	}
	return goTo(st, in, d.before(d.Step))
}

// answerButton handles a chip of the form in progress.
func answerButton(st State, in Input, p Postback) Result {
	d := &st.Request
	switch {
	case p.Step == "kind" && d.Step == rqKinds && p.Kind != 0:
		return toggleKind(st, in, p.Kind)
	case p.Step == "done" && d.Step == rqKinds:
		return kindsDone(st, in)
	case p.Step == "ground" && d.Step == rqGround:
		if g := Ground(p.Value); validGround(g) {
			return setGround(st, in, g, "")
		}
	case p.Step == "who" && d.Step == rqWho:
		if r := Requester(p.Value); ValidRequester(r) {
			return setRequester(st, in, r, "")
		}
	case p.Step == "rep" && d.Step == rqRepKind:
		if p.Value == RepParent || p.Value == RepGuardian {
			d.RepKind = p.Value
			return advance(st, in)
		}
	case d.Step == rqDocs && (p.Step == "docsdone" || p.Step == "later" || p.Step == "post"):
		return docsChoice(st, in, p.Step)
	case p.Step == "deliv" && d.Step == rqDelivery:
		if m := DeliveryMethod(p.Value); m == DeliveryElectronic || m == DeliveryPost {
			d.Delivery = m
			return advance(st, in)
		}
	case p.Step == "edit" && d.Step == rqSummary:
		if r, ok := editSection(st, in, sectionNamed(p.Value)); ok {
			return r
		}
	case p.Step == "ok" && d.Step == rqSummary:
		return submit(st, in)
	}
	// A chip of an earlier question of this form: ask the current one again.
	return Result{State: st, Replies: reqPrompt(st, in)}
}

// editSection opens a section of the summary to change it.
func editSection(st State, in Input, sec reqSection) (Result, bool) {
	s := st.Request.firstOf(sec)
	if sec == 0 || s == 0 {
		return Result{}, false
	}
	st.Request.Section = sec
	return goTo(st, in, s), true
}

// answerText reads the answer typed at the current step. Every chip of a step can also be typed: its
// label, or the same in other words, does what the chip does.
func answerText(st State, in Input) Result {
	d := &st.Request
	switch d.Step {
	case rqKinds:
		if named := kindsIn(in.Text); named != 0 {
			if dup := named & openKinds(in.Desk); dup != 0 {
				d.Kinds |= named &^ dup
				return Result{State: st, Replies: []Reply{duplicateReply(in.Desk, dup, false), kindsReply(st, in, kindsTap)}}
			}
			d.Kinds |= named
			return Result{State: st, Replies: []Reply{kindsReply(st, in, kindsTap)}}
		}
		if isYesWord(in.Text) && d.Kinds != 0 {
			return kindsDone(st, in)
		}
		return Result{State: st, Replies: []Reply{kindsReply(st, in, kindsHint)}}
	case rqCorrection, rqTarget, rqGroundText:
		text, bad := freeText(in.Text, textLimits[d.Step])
		if bad != "" {
			return Result{State: st, Replies: []Reply{textProblem(st, bad)}}
		}
		switch d.Step {
		case rqCorrection:
			d.Correction = text
		case rqTarget:
			d.Target = text
		default:
			d.GroundText = text
		}
		return advance(st, in)
	case rqGround:
		if g := groundIn(in.Text); g != "" {
			return setGround(st, in, g, "")
		}
		if text, bad := freeText(in.Text, textLimits[rqGroundText]); bad == "" {
			return setGround(st, in, GroundOther, text) // the ground in the customer's own words
		}
	case rqWho:
		if r, rep := requesterIn(in.Text); r != "" {
			return setRequester(st, in, r, rep)
		}
	case rqRepKind:
		if _, rep := requesterIn(in.Text); rep != "" {
			d.RepKind = rep
			return advance(st, in)
		}
	case rqRepName, rqName:
		name, ok := normalizeName(in.Text)
		if !ok {
			return Result{State: st, Replies: []Reply{askReq(st, msgReqBadName)}}
		}
		if d.Step == rqRepName {
			d.RepName = name
		} else {
			d.Name = name
		}
		return advance(st, in)
	case rqAddress:
		addr, ok := normalizeAddress(in.Text)
		if !ok {
			return Result{State: st, Replies: []Reply{askReq(st, msgReqBadAddress)}}
		}
		d.Address = addr
		return advance(st, in)
	case rqPhone:
		phone, ok := NormalizePhone(in.Text)
		if !ok {
			return Result{State: st, Replies: []Reply{askReq(st, msgReqBadPhone)}}
		}
		d.Phone = phone
		return advance(st, in)
	case rqDocs:
		switch {
		case isDocsLaterWord(in.Text):
			return docsChoice(st, in, "later")
		case isDocsPostWord(in.Text):
			return docsChoice(st, in, "post")
		case isYesWord(in.Text) || isDocsDoneWord(in.Text):
			return docsChoice(st, in, "docsdone")
		}
		return Result{State: st, Replies: []Reply{docsAskReply(st, msgReqDocsAgain)}}
	case rqDelivery:
		if m := deliveryIn(in.Text); m != "" {
			d.Delivery = m
			return advance(st, in)
		}
	case rqSummary:
		if isYesWord(in.Text) || isSubmitWord(in.Text) {
			return submit(st, in)
		}
		if r, ok := editSection(st, in, sectionIn(in.Text)); ok {
			return r
		}
	}
	return Result{State: st, Replies: append([]Reply{{ID: msgReqHint}}, reqPrompt(st, in)...)}
}

func toggleKind(st State, in Input, k RequestKind) Result {
	if k&openKinds(in.Desk) != 0 {
		return Result{State: st, Replies: []Reply{duplicateReply(in.Desk, k, false), kindsReply(st, in, kindsTap)}}
	}
	st.Request.Kinds ^= k & KindsAll
	return Result{State: st, Replies: []Reply{kindsReply(st, in, kindsTap)}}
}

// kindsDone leaves the kinds step, clearing the answers the chosen kinds no longer need.
func kindsDone(st State, in Input) Result {
	d := &st.Request
	if d.Kinds == 0 {
		return Result{State: st, Replies: []Reply{kindsReply(st, in, kindsHint)}}
	}
	if d.Kinds&KindsChange == 0 {
		d.Correction = ""
	}
	if d.Kinds&KindsStop == 0 {
		d.Target, d.Ground, d.GroundText = "", "", ""
	}
	if d.Kinds&KindsAnswered == 0 {
		d.Delivery = ""
	}
	return advance(st, in)
}

func setGround(st State, in Input, g Ground, text string) Result {
	d := &st.Request
	d.Ground = g
	if g != GroundOther {
		d.GroundText = ""
		return advance(st, in)
	}
	if text != "" {
		d.GroundText = text
		d.Step = rqGroundText // answered with the ground: go on from there
	}
	return advance(st, in)
}

// setRequester answers who asks. A legal representative who typed their position with it (「成年後見人
// です」) has answered the position too: the form goes on from that step, not to it.
func setRequester(st State, in Input, r Requester, rep string) Result {
	d := &st.Request
	if r != d.Requester {
		d.RepKind, d.RepName = "", ""
	}
	d.Requester = r
	if r == RequesterLegal && rep != "" {
		d.RepKind = rep
		d.Step = rqRepKind
	}
	return advance(st, in)
}

// onPhoto takes a photo at the documents step: an image is attached to the draft (up to the limit of
// photos not refused), anything else is asked again as a photo. Photos are numbered on from the last
// one, refused ones included, so that a number always names one photo.
func onPhoto(st State, in Input) Result {
	d := &st.Request
	if in.Media.Type != "image" {
		return Result{State: st, Replies: []Reply{docsAskReply(st, msgReqDocNotImage)}}
	}
	if d.Docs >= maxRequestPhotos {
		return Result{State: st, Replies: []Reply{docsAskReply(st, msgReqDocTooMany)}}
	}
	d.DocSeq = d.lastSeq() + 1
	d.Docs++
	up := &DocumentUpload{Draft: d.Draft, MessageID: in.Media.MessageID, URL: in.Media.URL, Seq: d.DocSeq}
	r := docsAskReply(st, msgReqDocReceived)
	r.Data["Seq"] = itoa(d.DocSeq)
	return Result{State: st, Replies: []Reply{r}, Effects: []Effect{{Kind: EffectRequestDocument, Document: up}}}
}

// lastSeq is the number of the form's last photo (forms stored before photos were numbered apart
// from their count have only the count).
func (d RequestData) lastSeq() int { return max(d.DocSeq, d.Docs) }

// photoRefused takes a photo the request service could not use off the form's count. When no photo
// is left of those the form was to send in the chat, the photo step is asked again.
func (d *RequestData) photoRefused(seq int) {
	if seq < 1 || seq > d.lastSeq() {
		return // not one of this form's photos
	}
	d.DocSeq = d.lastSeq()
	d.Docs = max(d.Docs-1, 0)
	if d.Docs == 0 && d.DocsBy == DocsChat {
		d.DocsBy = ""
		if d.Step > rqDocs {
			d.Step = rqDocs
			if d.Section == 0 {
				d.Section = secPhotos // then on to what is still missing, and back to the summary
			}
		}
	}
}

// docsChoice is "sent them all", "later" or "by post" at the documents step.
func docsChoice(st State, in Input, choice string) Result {
	d := &st.Request
	switch choice {
	case "docsdone":
		if d.Docs == 0 {
			return Result{State: st, Replies: []Reply{docsAskReply(st, msgReqDocsNone)}}
		}
		d.DocsBy = DocsChat
	case "later":
		d.DocsBy = DocsLater
	case "post":
		d.DocsBy = DocsPost
	}
	return advance(st, in)
}
