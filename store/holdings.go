package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// What the desk holds about a LINE customer, and where:
//
//	transcript       lines, by "user"                       read; erased
//	steps            state and rendered replies, by "user"  erased
//	deliveries       how replies left, by "user"            erased
//	conversations    the checkpoint, _id = user (sharded)   read (language, fields); erased
//	escalations      by "user": name and description        read; texts blanked
//	documents        by "user": metadata and sealed bytes   bytes erased, metadata kept
//	consent_history  subject "line:<user>"                  read; kept (proof, and never contact again)
//	requests         by "user"                              kept (how the company answered)
//	package_files    by request: sealed bytes               kept with the request
//	questions        typed questions, by "user" (copies)     erased (the review inbox with them)
//	nlu_taught       phrases staff taught (no personal data) kept
//	inbox_*          events still to be processed           left alone
//	audit            staff actions                          kept

var _ request.Holdings = (*Store)(nil)

// personalKeys are the names (BSON keys) under which the conversation state keeps personal data: the
// opt-out flow's identifiers, the complaint's description, the request flow's identity and
// representative fields and the free texts of a request. Besides these, every string field the state
// hides from JSON (`json:"-"`, the flows' mark of personal data kept out of logs) counts as one, so a
// new flow's data struct is covered when it follows either convention.
var personalKeys = map[string]bool{
	"name": true, "phone": true, "email": true, "postal": true, "customer": true, "address": true,
	"description": true, "repName": true, "correction": true, "target": true, "groundText": true,
}

// CustomerData implements request.Holdings.
func (s *Store) CustomerData(ctx context.Context, userID string) (request.CustomerData, error) {
	out := request.CustomerData{UserID: userID, Transcript: []request.TranscriptLine{},
		Consents: []request.ConsentRecord{}, Escalations: []request.EscalationRecord{}}
	if userID == "" {
		return out, errors.New("store: customer data needs a user ID")
	}

	conv, found, err := s.Conversation(ctx, userID)
	if err != nil {
		return out, fmt.Errorf("conversation: %w", err)
	}
	if found {
		out.Profile.Language = string(conv.ProfileLang)
		if conv.State.Lang != "" {
			out.Profile.Language = string(conv.State.Lang)
		}
		out.Profile.Fields = stateFields(conv.State)
	}

	lines, err := s.Transcript(ctx, userID, 0)
	if err != nil {
		return out, fmt.Errorf("transcript: %w", err)
	}
	for _, l := range lines {
		out.Transcript = append(out.Transcript, request.TranscriptLine{At: l.At.UTC(), Role: l.Role, Kind: l.Kind, Text: lineText(l)})
	}
	if n := len(lines); n > 0 {
		out.Profile.FirstSeen, out.Profile.LastSeen = lines[0].At.UTC(), lines[n-1].At.UTC()
	}

	cur, err := s.db.Collection(colConsentHistory).Find(ctx, bson.D{{Key: "subject", Value: consent.LINESubject(userID)}},
		options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}))
	if err != nil {
		return out, fmt.Errorf("consent history: %w", err)
	}
	var recs []consent.Record
	if err := cur.All(ctx, &recs); err != nil {
		return out, fmt.Errorf("consent history: %w", err)
	}
	for _, r := range recs {
		channels := r.Channels.Names()
		if channels == nil {
			channels = []string{}
		}
		wording := r.WordingText
		if wording == "" {
			wording = r.WordingID
		}
		out.Consents = append(out.Consents, request.ConsentRecord{At: r.At.UTC(), Action: string(r.Action),
			Channels: channels, Source: string(r.Source), Reference: r.Reference, Wording: wording,
			Name: r.Name, Phone: r.Phone, Email: r.Email, Postal: r.Postal, Customer: r.Customer})
	}

	cur, err = s.db.Collection(colEscalations).Find(ctx, bson.D{{Key: "user", Value: userID}},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return out, fmt.Errorf("escalations: %w", err)
	}
	var escs []bot.Escalation
	if err := cur.All(ctx, &escs); err != nil {
		return out, fmt.Errorf("escalations: %w", err)
	}
	for _, e := range escs {
		out.Escalations = append(out.Escalations, request.EscalationRecord{ID: e.ID, Reason: e.Reason,
			Category: e.Category, Description: e.Description, Status: string(e.Status), Resolution: e.Resolution,
			CreatedAt: e.CreatedAt.UTC(), ClosedAt: e.ClosedAt.UTC()})
	}
	return out, nil
}

// lineText is a transcript line's text; a system line that carries only its note is worded plainly.
func lineText(l bot.TranscriptEntry) string {
	if l.Text != "" || l.System == nil {
		return l.Text
	}
	t := l.System.What
	for _, kv := range [][2]string{{"who", l.System.Who}, {"reason", l.System.Reason}, {"resolution", l.System.Resolution}} {
		if kv[1] != "" {
			t += " " + kv[0] + "=" + kv[1]
		}
	}
	return t
}

// stateFields returns the personal data in a conversation state: every non-empty string field that
// personalKeys names or that is hidden from JSON, by the dotted path of its stored (BSON) names
// ("optout.phone"); nil when there is none.
func stateFields(st flows.State) map[string]string {
	out := map[string]string{}
	collectFields(reflect.ValueOf(st), "", out)
	if len(out) == 0 {
		return nil
	}
	return out
}

func collectFields(v reflect.Value, prefix string, out map[string]string) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("bson"), ",")
		if name == "-" {
			continue
		}
		fv := v.Field(i)
		if f.Anonymous || strings.Contains(opts, "inline") {
			collectFields(fv, prefix, out)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		switch fv.Kind() {
		case reflect.Struct, reflect.Pointer, reflect.Interface:
			collectFields(fv, path, out)
		case reflect.String:
			if s := fv.String(); s != "" && (personalKeys[name] || f.Tag.Get("json") == "-") {
				out[path] = s
			}
		}
	}
}

// EraseCustomer implements request.Holdings. It deletes the customer's transcript, steps,
// deliveries, conversation checkpoint and questions, deletes the sealed bytes of their identity documents
// (status request.DocDeleted; the metadata stays) and blanks the texts of their escalations (the
// customer's name and description; IDs, codes, times and status stay, and the version moves on so
// that no writer holding the old texts can put them back). The consent history, the request records,
// the inbox (events still to be processed) and the audit log are left as they are.
//
// The counts are per collection (conversations: all shards together), zero included. A second call
// finds nothing and counts zeros. On the embedded engine every delete and update scans its
// collection, the write turn held: erasures are rare, and each collection is scanned once.
func (s *Store) EraseCustomer(ctx context.Context, userID string) (map[string]int64, error) {
	if userID == "" {
		return nil, errors.New("store: erasure needs a user ID")
	}
	counts := map[string]int64{}
	if err := s.flushQuestions(ctx); err != nil { // queued questions are erased too
		return counts, err
	}
	byUser := bson.D{{Key: "user", Value: userID}}
	for _, p := range []*partitioned{s.transcript, s.steps, s.deliveries, s.questions} {
		n, err := p.deleteMany(ctx, byUser)
		if err != nil {
			return counts, fmt.Errorf("erase %s: %w", p.name, err)
		}
		counts[p.name] = n
	}
	unlock := s.lockWrites()
	res, err := s.convColl(userID).DeleteMany(ctx, byID(userID))
	unlock()
	if err != nil {
		return counts, fmt.Errorf("erase %s: %w", colConversations, err)
	}
	counts[colConversations] = res.DeletedCount

	now := time.Now().UTC()
	docs := bson.D{{Key: "user", Value: userID}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "sealed", Value: bson.D{{Key: "$exists", Value: true}}}},
		bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{request.DocFetching, request.DocStored}}}}},
	}}}
	n, err := s.updateMany(ctx, colDocuments, docs, bson.D{
		{Key: "$set", Value: bson.D{{Key: "status", Value: request.DocDeleted}, {Key: "deletedAt", Value: now}}},
		{Key: "$unset", Value: bson.D{{Key: "sealed", Value: ""}}},
	})
	if err != nil {
		return counts, err
	}
	counts[colDocuments] = n

	// The texts an escalation carries about the customer; the conversation itself is the transcript.
	texts := []string{"name", "description"}
	or, unset := bson.A{}, bson.D{}
	for _, f := range texts {
		or = append(or, bson.D{{Key: f, Value: bson.D{{Key: "$exists", Value: true}}}})
		unset = append(unset, bson.E{Key: f, Value: ""})
	}
	n, err = s.updateMany(ctx, colEscalations, bson.D{{Key: "user", Value: userID}, {Key: "$or", Value: or}}, bson.D{
		{Key: "$unset", Value: unset},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}},
	})
	if err != nil {
		return counts, err
	}
	counts[colEscalations] = n
	return counts, nil
}

func (s *Store) updateMany(ctx context.Context, coll string, filter, update bson.D) (int64, error) {
	unlock := s.lockWrites()
	res, err := s.db.Collection(coll).UpdateMany(ctx, filter, update)
	unlock()
	if err != nil {
		return 0, fmt.Errorf("erase %s: %w", coll, err)
	}
	return res.ModifiedCount, nil
}
