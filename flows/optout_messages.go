package flows

// Catalog IDs of the opt-out and opt-in flows (locales/optout.*.toml).
const (
	msgOptPick       = "optout.pick"        // which contacts to stop (shows the current selection)
	msgOptPickEmpty  = "optout.pick_empty"  // "done" with nothing chosen, or text not understood
	msgOptAskName    = "optout.ask_name"    // name, or skip for a LINE-only opt-out
	msgOptBadName    = "optout.bad_name"    //
	msgOptAskPhone   = "optout.ask_phone"   //
	msgOptBadPhone   = "optout.bad_phone"   //
	msgOptAskEmail   = "optout.ask_email"   //
	msgOptBadEmail   = "optout.bad_email"   //
	msgOptAskExtra   = "optout.ask_extra"   // postal code or customer number, optional
	msgOptBadExtra   = "optout.bad_extra"   //
	msgOptConfirm    = "optout.confirm"     // the wording the customer agrees to (recorded as proof)
	msgOptDone       = "optout.done"        // the receipt with the reference
	msgOptCancelled  = "optout.cancelled"   //
	msgOptStatus     = "optout.status"      // what is stopped now
	msgOptStatusNone = "optout.status_none" //
	msgOptExpired    = "optout.expired"     // a button of a finished flow was tapped
	msgOptConfirmAsk = "optout.confirm_ask" // text at the confirmation step that is neither yes nor cancel

	msgInPick      = "optin.pick"
	msgInPickEmpty = "optin.pick_empty"
	msgInNothing   = "optin.nothing" // nothing was stopped from this chat
	msgInConfirm   = "optin.confirm"
	msgInDone      = "optin.done"

	lblOptOut     = "optout.label.menu" // main menu chip
	lblOptIn      = "optout.label.optin"
	lblOptStatus  = "optout.label.status"
	lblOptAll     = "optout.label.all"
	lblInAll      = "optout.label.all_in"
	lblOptDone    = "optout.label.done"
	lblOptSkip    = "optout.label.skip"
	lblOptSkipAll = "optout.label.skip_all"
	lblOptConfirm = "optout.label.confirm"
	lblOptCancel  = "optout.label.cancel"
)

// channelLabel is the catalog ID of a channel's quick-reply label ("optout.label.phone", …).
func channelLabel(c Channels) string { return "optout.label." + c.Name() }

// OptOutMessageIDs lists the catalog IDs the opt-out and opt-in flows use.
func OptOutMessageIDs() []string {
	ids := []string{msgOptPick, msgOptPickEmpty, msgOptAskName, msgOptBadName, msgOptAskPhone, msgOptBadPhone,
		msgOptAskEmail, msgOptBadEmail, msgOptAskExtra, msgOptBadExtra, msgOptConfirm, msgOptDone,
		msgOptCancelled, msgOptStatus, msgOptStatusNone, msgOptExpired, msgOptConfirmAsk,
		msgInPick, msgInPickEmpty, msgInNothing, msgInConfirm, msgInDone,
		lblOptOut, lblOptIn, lblOptStatus, lblOptAll, lblInAll, lblOptDone, lblOptSkip, lblOptSkipAll,
		lblOptConfirm, lblOptCancel}
	for _, c := range ChannelList() {
		ids = append(ids, channelLabel(c))
	}
	return ids
}
