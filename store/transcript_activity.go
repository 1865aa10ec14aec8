package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot"
)

var _ bot.SharedEscalationStore = (*Store)(nil)

// activityLimit bounds what one TranscriptActivity returns: the lines of the escalated customers over
// a couple of minutes, a few per customer; past it a chat's notice waits for the next call.
const activityLimit = 5000

// TranscriptActivity implements bot.SharedEscalationStore: the transcript lines of these customers
// whose time is after since, as IDs, customers and times (each instance asks every second, for the
// customers with an open escalation). On MongoDB one query on the {user, at} index; on the embedded
// engine the days from since's on (today's, and yesterday's just after midnight).
func (s *Store) TranscriptActivity(ctx context.Context, users []string, since time.Time) ([]bot.TranscriptMark, error) {
	if len(users) == 0 {
		return nil, nil
	}
	filter := bson.D{{Key: "user", Value: bson.D{{Key: "$in", Value: users}}}, {Key: "at", Value: bson.D{{Key: "$gt", Value: since}}}}
	out := []bot.TranscriptMark{}
	first := dayOf(since)
	for _, c := range s.transcript.colls() { // newest day first
		if day, ok := s.transcript.dayOfName(c.Name()); ok && day < first {
			break
		}
		opts := options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "user", Value: 1}, {Key: "at", Value: 1}}).
			SetLimit(int64(activityLimit - len(out)))
		cur, err := c.Find(ctx, filter, opts)
		if err != nil {
			return nil, err
		}
		var marks []bot.TranscriptMark
		if err := cur.All(ctx, &marks); err != nil {
			return nil, err
		}
		if out = append(out, marks...); len(out) >= activityLimit {
			break
		}
	}
	return out, nil
}
