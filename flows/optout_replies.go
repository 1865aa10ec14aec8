package flows

// channelData sets the template flags of a channel set: Ch_phone, Ch_mail, … = "1" for each channel in
// it, ChAll when it is every channel, and Any when it is not empty. The catalogs list the channels with
// {{if .Ch_phone}}…{{end}}, so the wording stays in the catalogs.
func channelData(c Channels, m map[string]string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	for _, ch := range ChannelList() {
		if c&ch != 0 {
			m["Ch_"+ch.Name()] = "1"
		}
	}
	if c == ChanAll {
		m["ChAll"] = "1"
	}
	if c != 0 {
		m["Any"] = "1"
	}
	return m
}

// pickReply asks which channels to stop (or resume), showing the current choice; hint adds "choose at
// least one" when the customer tried to go on with nothing chosen.
func pickReply(st State, hint bool) Reply {
	d := st.OptOut
	id, allLabel, allowed := msgOptPick, lblOptAll, ChanAll
	if st.Flow == FlowOptIn {
		id, allLabel, allowed = msgInPick, lblInAll, d.Out
	}
	if hint {
		id = msgOptPickEmpty
		if st.Flow == FlowOptIn {
			id = msgInPickEmpty
		}
	}
	r := Reply{ID: id, Data: channelData(d.Pick, nil)}
	r.Choices = append(r.Choices, Choice{LabelID: allLabel, Postback: optPostback("all", 0)})
	for _, ch := range ChannelList() {
		if allowed&ch != 0 {
			r.Choices = append(r.Choices, Choice{LabelID: channelLabel(ch), Postback: optPostback("pick", ch)})
		}
	}
	if d.Pick != 0 {
		r.Choices = append(r.Choices, Choice{LabelID: lblOptDone, Postback: optPostback("done", 0)})
	}
	if st.Flow == FlowOptOut && d.Out != 0 {
		r.Choices = append(r.Choices, Choice{LabelID: lblOptStatus, Postback: optPostback("status", 0)})
	}
	r.Choices = append(r.Choices, Choice{LabelID: lblOptCancel, Postback: optPostback("cancel", 0)})
	return r
}

// askReply asks for an identifier (or says the last answer was not valid, and asks again).
func askReply(st State, id string) Reply {
	r := Reply{ID: id, Data: channelData(st.OptOut.Pick, nil)}
	if st.OptOut.Step == optName {
		r.Choices = append(r.Choices, Choice{LabelID: lblOptSkipAll, Postback: optPostback("skipall", 0)})
	} else {
		r.Choices = append(r.Choices, Choice{LabelID: lblOptSkip, Postback: optPostback("skip", 0)},
			Choice{LabelID: lblOptSkipAll, Postback: optPostback("skipall", 0)})
	}
	r.Choices = append(r.Choices, Choice{LabelID: lblOptCancel, Postback: optPostback("cancel", 0)})
	return r
}

// confirmReply is the confirmation the customer agrees to; its ID and data are recorded as the wording
// shown. NoIDs warns that without a phone number or e-mail address marketing may not be able to match
// non-LINE channels.
func confirmReply(st State) Reply {
	d := st.OptOut
	id := msgOptConfirm
	if st.Flow == FlowOptIn {
		id = msgInConfirm
	}
	data := channelData(d.Pick, nil)
	for k, v := range map[string]string{"Name": d.Name, "Phone": displayPhone(d.Phone), "Email": d.Email,
		"Postal": d.Postal, "Customer": d.Customer} {
		if v != "" {
			data[k] = v
		}
	}
	if st.Flow == FlowOptOut && d.Phone == "" && d.Email == "" && d.Pick&^ChanLINE != 0 {
		data["NoIDs"] = "1"
	}
	return Reply{ID: id, Data: data, Choices: []Choice{
		{LabelID: lblOptConfirm, Postback: optPostback("ok", 0)},
		{LabelID: lblOptCancel, Postback: optPostback("cancel", 0)}}}
}

// reprompt repeats the question of the current step.
func reprompt(st State) Reply {
	switch st.OptOut.Step {
	case optName:
		return askReply(st, msgOptAskName)
	case optPhone:
		return askReply(st, msgOptAskPhone)
	case optEmail:
		return askReply(st, msgOptAskEmail)
	case optExtra:
		return askReply(st, msgOptAskExtra)
	case optConfirm:
		return confirmReply(st)
	}
	return pickReply(st, false)
}

// displayPhone shows an E.164 Japanese number the domestic way: +819012345678 -> 09012345678.
func displayPhone(e164 string) string {
	if len(e164) > 3 && e164[:3] == "+81" {
		return "0" + e164[3:]
	}
	return e164
}

// optLabel names the label of an opt-out chip (Feature.Label).
func optLabel(p Postback) (string, bool) {
	switch p.Do {
	case ActOptOut:
		return lblOptOut, true
	case ActOptIn:
		return lblOptIn, true
	case ActOptStatus:
		return lblOptStatus, true
	}
	switch p.Step {
	case "all":
		return lblOptAll, true
	case "pick":
		if p.Channel.Name() != "" {
			return channelLabel(p.Channel), true
		}
	case "done":
		return lblOptDone, true
	case "status":
		return lblOptStatus, true
	case "cancel":
		return lblOptCancel, true
	case "skip":
		return lblOptSkip, true
	case "skipall":
		return lblOptSkipAll, true
	case "ok":
		return lblOptConfirm, true
	}
	return "", false
}
