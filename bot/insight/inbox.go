package insight

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/flows/nlu"
)

// GroupSimilarity is how alike two questions must be (see nlu.Model.Group) to be reviewed together.
const GroupSimilarity = 0.5

// inboxLimit is the most open items the inbox reads at once (the newest).
const inboxLimit = 500

// Inbox is the review inbox: staff see the questions the bot missed, was unsure of, or whose answer
// did not help, grouped by similarity, and teach the bot (amend), ignore them, or revert what was
// taught.
type Inbox struct {
	Store      ReviewStore
	Classifier *Classifier
	// Names returns the names the customer is known by (their LINE display name, the names on their
	// requests), which a taught phrase must not hold. Nil: names are not checked.
	Names func(ctx context.Context, userID string) []string
	Now   func() time.Time
}

// Group is alike open items, newest first; Guess is the bot's guess most of them share.
type Group struct {
	Items []Item
	Guess string
}

// Open returns the open items grouped by similarity: the groups with the most items first, then the
// newest.
func (b *Inbox) Open(ctx context.Context) ([]Group, error) {
	items, err := b.Store.ReviewItems(ctx, StatusOpen, inboxLimit)
	if err != nil {
		return nil, err
	}
	texts := make([]string, len(items))
	for i, it := range items {
		texts[i] = it.Question.Text
	}
	var out []Group
	for _, idx := range b.Classifier.Model().Group(texts, GroupSimilarity) {
		g := Group{}
		votes := map[string]int{}
		for _, i := range idx {
			g.Items = append(g.Items, items[i])
			votes[items[i].Question.Guess]++
		}
		for guess, n := range votes {
			if n > votes[g.Guess] || (n == votes[g.Guess] && guess < g.Guess) {
				g.Guess = guess
			}
		}
		out = append(out, g)
	}
	slices.SortStableFunc(out, func(a, b Group) int { return len(b.Items) - len(a.Items) })
	return out, nil
}

// Decided returns the items decided most recently (taught or ignored), newest first.
func (b *Inbox) Decided(ctx context.Context, limit int) ([]Item, error) {
	var out []Item
	for _, st := range []string{StatusTaught, StatusIgnored} {
		items, err := b.Store.ReviewItems(ctx, st, limit)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
	slices.SortFunc(out, func(a, b Item) int { return b.DecidedAt.Compare(a.DecidedAt) })
	return out[:min(len(out), limit)], nil
}

// Proposal is the phrase the inbox proposes to teach for an item: its text with personal data masked.
func (b *Inbox) Proposal(ctx context.Context, it Item) (string, []string) {
	return MaskPII(it.Question.Text, b.names(ctx, it.Question.UserID))
}

// Teach stores text as a phrase of intent (and topic, for a policy item) taught from the items of
// keys, marks them taught and retrains the model in service. The phrase is refused (a *PIIError)
// when it holds personal data of the items' customers, a phone number or an e-mail address.
func (b *Inbox) Teach(ctx context.Context, keys []string, intent, topic, text, by string) (Taught, error) {
	text = strings.TrimSpace(text)
	if len(keys) == 0 || text == "" || !slices.Contains(nlu.Intents, intent) || !topicFits(intent, topic) {
		return Taught{}, ErrBadTeach
	}
	items, err := b.openItems(ctx, keys)
	if err != nil {
		return Taught{}, err
	}
	var names []string
	for _, it := range items {
		names = append(names, b.names(ctx, it.Question.UserID)...)
	}
	if masked, kinds := MaskPII(text, names); len(kinds) > 0 {
		return Taught{}, &PIIError{Kinds: kinds, Masked: masked}
	}
	t := Taught{ID: newID(), Text: text, Intent: intent, Topic: topic, Lang: items[0].Question.Lang,
		Items: keys, By: by, At: b.now()}
	if err := b.Store.AddTaught(ctx, t); err != nil {
		return Taught{}, err
	}
	if err := b.Store.DecideReview(ctx, keys, Decision{Status: StatusTaught, TaughtID: t.ID, By: by, At: t.At}); err != nil {
		return t, err
	}
	_, err = b.Classifier.Sync(ctx)
	return t, err
}

// Ignore marks the items of keys ignored: nothing to teach.
func (b *Inbox) Ignore(ctx context.Context, keys []string, by string) error {
	if _, err := b.openItems(ctx, keys); err != nil {
		return err
	}
	return b.Store.DecideReview(ctx, keys, Decision{Status: StatusIgnored, By: by, At: b.now()})
}

// Reopen puts ignored items back in the inbox.
func (b *Inbox) Reopen(ctx context.Context, keys []string, by string) error {
	return b.Store.DecideReview(ctx, keys, Decision{Status: StatusOpen, By: by, At: b.now()})
}

// Revert takes a taught phrase back: it is no longer trained on (the model in service is retrained
// now), and the items it was taught from are open again.
func (b *Inbox) Revert(ctx context.Context, id, by string) (Taught, error) {
	if err := b.Store.RevertTaught(ctx, id, by, b.now()); err != nil {
		return Taught{}, err
	}
	all, err := b.Store.TaughtPhrases(ctx)
	if err != nil {
		return Taught{}, err
	}
	i := slices.IndexFunc(all, func(t Taught) bool { return t.ID == id })
	if i < 0 {
		return Taught{}, ErrNotFound
	}
	if err := b.Store.DecideReview(ctx, all[i].Items, Decision{Status: StatusOpen, By: by, At: b.now()}); err != nil {
		return all[i], err
	}
	_, err = b.Classifier.Sync(ctx)
	return all[i], err
}

// Taught returns the taught phrases, newest first.
func (b *Inbox) Taught(ctx context.Context) ([]Taught, error) {
	all, err := b.Store.TaughtPhrases(ctx)
	slices.Reverse(all)
	return all, err
}

// openItems loads the items of keys, each of which must be open.
func (b *Inbox) openItems(ctx context.Context, keys []string) ([]Item, error) {
	var out []Item
	for _, k := range keys {
		it, found, err := b.Store.ReviewItem(ctx, k)
		switch {
		case err != nil:
			return nil, err
		case !found:
			return nil, fmt.Errorf("review item %q: %w", k, ErrNotFound)
		case it.Status != StatusOpen:
			return nil, ErrDecided
		}
		out = append(out, it)
	}
	return out, nil
}

func (b *Inbox) names(ctx context.Context, user string) []string {
	if b.Names == nil {
		return nil
	}
	return b.Names(ctx, user)
}

func (b *Inbox) now() time.Time {
	if b.Now == nil {
		return time.Now()
	}
	return b.Now()
}

// topicFits reports whether topic ("" for none) is a knowledge-base topic of the policy item of
// intent.
func topicFits(intent, topic string) bool {
	if topic == "" {
		return true
	}
	item, ok := flows.FAQItem(intent)
	if !ok {
		return false
	}
	for _, t := range flows.FAQTopics() {
		if t.ID == topic {
			return t.Item == item
		}
	}
	return false
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "t" + hex.EncodeToString(b[:])
}
