package flows

import "time"

// The vocabulary of retention (policy item 13: the company sets how long each kind of personal data is
// kept and deletes it without delay once past). The chat tells the periods in force, the console shows
// them with the sweeper's counts, and package bot/retention parses and enforces them. The machine names
// are stable: the RETENTION setting and the sweep records carry them.

// DataKind is a kind of data with a retention period of its own.
type DataKind string

// The kinds, in the order they are told.
const (
	DataTranscript    DataKind = "transcript"    // the conversation: what the customer and the desk said
	DataConversations DataKind = "conversations" // where a conversation stands: language, unfinished forms
	DataSteps         DataKind = "steps"         // the bot's processing records of each message
	DataEscalations   DataKind = "escalations"   // complaints and hand-overs to staff, once closed
	DataRequests      DataKind = "requests"      // personal-data requests, once closed
	DataDocuments     DataKind = "documents"     // identity documents, after the identity decision
	DataPackages      DataKind = "packages"      // data packages, when their download link expires
	DataConsent       DataKind = "consent"       // consent records, once superseded
	DataOutbox        DataKind = "outbox"        // notices sent to other systems, once sent
	DataAudit         DataKind = "audit"         // staff actions
)

// DataKinds lists every kind in the order they are told.
func DataKinds() []DataKind {
	return []DataKind{DataTranscript, DataConversations, DataSteps, DataEscalations, DataRequests,
		DataDocuments, DataPackages, DataConsent, DataOutbox, DataAudit}
}

// Unit is the unit a period is written in.
type Unit string

// Units.
const (
	Days  Unit = "d"
	Years Unit = "y"
)

// Period is how long one kind of data is kept: N days or N (calendar) years, counted from the moment
// the kind's rule names (the last message, the closing of a request, …).
type Period struct {
	Kind DataKind
	N    int
	Unit Unit
}

// Before is the cutoff at now: data whose clock started before it is past its period.
func (p Period) Before(now time.Time) time.Time {
	if p.Unit == Years {
		return now.AddDate(-p.N, 0, 0)
	}
	return now.AddDate(0, 0, -p.N)
}

// Approx is the period as a duration (a year counted as 365 days), for sizing and for TTL indexes.
func (p Period) Approx() time.Duration {
	d := time.Duration(p.N) * 24 * time.Hour
	if p.Unit == Years {
		d *= 365
	}
	return d
}
