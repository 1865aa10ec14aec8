// Package retention keeps personal data only as long as the company says (policy item 13): the
// periods in force (Policy, from the RETENTION setting), and the sweeper that deletes what is past
// them, on one instance at a time, recording what it deleted (counts, never content).
package retention

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/enemane/privacybot/flows"
)

// Policy is the period of every kind of data, in the order they are told (flows.DataKinds).
type Policy []flows.Period

// rule is what the configuration may say about one kind.
type rule struct {
	def flows.Period
	min int // days
	// fixed names the setting that decides the kind's period instead of RETENTION.
	fixed string
}

const maxDays = 50 * 365

var rules = map[flows.DataKind]rule{
	flows.DataTranscript:    {def: flows.Period{N: 1, Unit: flows.Years}, min: 1},
	flows.DataConversations: {def: flows.Period{N: 180, Unit: flows.Days}, min: 1},
	// Steps are the journal that makes "answered exactly once" hold: a redelivered event must still
	// find its step, and LINE redelivers for at most a day.
	flows.DataSteps:       {def: flows.Period{N: 30, Unit: flows.Days}, min: 7},
	flows.DataEscalations: {def: flows.Period{N: 3, Unit: flows.Years}, min: 1},
	flows.DataRequests:    {def: flows.Period{N: 5, Unit: flows.Years}, min: 1},
	flows.DataDocuments:   {def: flows.Period{N: 30, Unit: flows.Days}, min: 1},
	flows.DataPackages:    {fixed: "PACKAGE_LINK_DAYS"},
	flows.DataConsent:     {def: flows.Period{N: 3, Unit: flows.Years}, min: 1},
	flows.DataOutbox:      {def: flows.Period{N: 90, Unit: flows.Days}, min: 1},
	flows.DataAudit:       {def: flows.Period{N: 3, Unit: flows.Years}, min: 30},
}

// Parse reads a RETENTION setting ("transcript=365d,steps=30d,escalations=3y"; "" keeps every
// default) over the defaults. linkDays is the data package link's life (PACKAGE_LINK_DAYS), which is
// the packages' period.
func Parse(s string, linkDays int) (Policy, error) {
	set := map[flows.DataKind]flows.Period{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		kind := flows.DataKind(strings.TrimSpace(name))
		r, known := rules[kind]
		switch {
		case !ok:
			return nil, fmt.Errorf("RETENTION: %q is not kind=period (e.g. transcript=365d)", part)
		case !known:
			return nil, fmt.Errorf("RETENTION: unknown kind %q (kinds: %s)", kind, kindList())
		case r.fixed != "":
			return nil, fmt.Errorf("RETENTION: the period of %s is set by %s", kind, r.fixed)
		}
		if _, dup := set[kind]; dup {
			return nil, fmt.Errorf("RETENTION: %s is set twice", kind)
		}
		p, err := parsePeriod(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("RETENTION: %s: %w", kind, err)
		}
		p.Kind = kind
		if days := p.Approx().Hours() / 24; days < float64(r.min) || days > maxDays {
			return nil, fmt.Errorf("RETENTION: %s must be between %dd and 50y", kind, r.min)
		}
		set[kind] = p
	}
	if linkDays < 1 {
		return nil, errors.New("retention: the package link's life must be at least a day")
	}
	out := make(Policy, 0, len(rules))
	for _, k := range flows.DataKinds() {
		p, ok := set[k]
		if !ok {
			p = rules[k].def
			if k == flows.DataPackages {
				p = flows.Period{N: linkDays, Unit: flows.Days}
			}
			p.Kind = k
		}
		out = append(out, p)
	}
	return out, nil
}

// parsePeriod reads "30d" or "5y".
func parsePeriod(v string) (flows.Period, error) {
	if len(v) < 2 {
		return flows.Period{}, fmt.Errorf("%q is not a period (write 30d or 5y)", v)
	}
	unit := flows.Unit(v[len(v)-1:])
	n, err := strconv.Atoi(v[:len(v)-1])
	if err != nil || n < 1 || (unit != flows.Days && unit != flows.Years) {
		return flows.Period{}, fmt.Errorf("%q is not a period (write 30d or 5y)", v)
	}
	return flows.Period{N: n, Unit: unit}, nil
}

func kindList() string {
	var names []string
	for _, k := range flows.DataKinds() {
		if rules[k].fixed == "" {
			names = append(names, string(k))
		}
	}
	return strings.Join(names, ", ")
}

// Of returns the period of a kind.
func (p Policy) Of(k flows.DataKind) (flows.Period, bool) {
	for _, x := range p {
		if x.Kind == k {
			return x, true
		}
	}
	return flows.Period{}, false
}

// String is the policy as a RETENTION setting would write it (the packages' period left out).
func (p Policy) String() string {
	var parts []string
	for _, x := range p {
		if rules[x.Kind].fixed == "" {
			parts = append(parts, fmt.Sprintf("%s=%d%s", x.Kind, x.N, x.Unit))
		}
	}
	return strings.Join(parts, ",")
}
