package insight

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
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
	// requests), which a taught phrase must not hold; an error when they cannot be read now. Nil:
	// names are not checked.
	Names func(ctx context.Context, userID string) ([]string, error)
	Now   func() time.Time
}

// Group is alike open items, newest first; Guess is the bot's guess most of them share.
type Group struct {
	Items []Item
	Guess string
}

// Open returns the open items grouped by similarity: the groups with the most items first, then the
// newest. It reads the newest inboxLimit open items; more is set when there may be older ones.
func (b *Inbox) Open(ctx context.Context) (groups []Group, more bool, err error) {
	items, err := b.Store.ReviewItems(ctx, StatusOpen, inboxLimit)
	if err != nil {
		return nil, false, err
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
	return out, len(items) == inboxLimit, nil
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

// Proposal is the phrase the inbox proposes to teach for an item: its text with personal data masked
// (the names known; a name that cannot be read now is checked again when the phrase is taught).
func (b *Inbox) Proposal(ctx context.Context, it Item) (string, []string) {
	names, _ := b.names(ctx, it.Question.UserID)
	return MaskPII(it.Question.Text, names)
}

// Teach stores text as a phrase of intent (and topic, for a policy item) taught from the items of
// keys, marks them taught and retrains the model in service. The phrase is refused (a *PIIError)
// when it holds personal data of the items' customers, a phone number or an e-mail address, and
// while their names cannot be read (ErrNamesUnknown). The items are claimed first: of two staff
// deciding one item, the second gets ErrDecided and nothing of theirs is stored. A retraining that
// failed is ErrRetrain (the phrase is taught; the next sync retrains).
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
		more, err := b.names(ctx, it.Question.UserID)
		if err != nil {
			return Taught{}, fmt.Errorf("%w: %v", ErrNamesUnknown, err)
		}
		names = append(names, more...)
	}
	if masked, kinds := MaskPII(text, names); len(kinds) > 0 {
		return Taught{}, &PIIError{Kinds: kinds, Masked: masked}
	}
	t := Taught{ID: newID(), Text: text, Intent: intent, Topic: topic, Lang: items[0].Question.Lang,
		Items: keys, By: by, At: b.now()}
	claimed := Current{Status: StatusTaught, TaughtID: t.ID}
	n, err := b.Store.DecideReview(ctx, keys, Current{Status: StatusOpen}, Decision{Status: StatusTaught, TaughtID: t.ID, By: by, At: t.At})
	if err == nil && n < len(keys) {
		err = ErrDecided
	}
	if err == nil {
		err = b.Store.AddTaught(ctx, t)
	}
	if err != nil {
		// Give back what was claimed: the items are open again, as if nothing had been taught.
		if _, uerr := b.Store.DecideReview(ctx, keys, claimed, Decision{Status: StatusOpen, By: by, At: t.At}); uerr != nil {
			return Taught{}, errors.Join(err, uerr)
		}
		return Taught{}, err
	}
	if _, err := b.Classifier.Sync(ctx); err != nil {
		return t, fmt.Errorf("%w: %v", ErrRetrain, err)
	}
	return t, nil
}

// Ignore marks the items of keys ignored: nothing to teach. ErrDecided when some were decided by
// someone else meanwhile (the others are ignored).
func (b *Inbox) Ignore(ctx context.Context, keys []string, by string) error {
	return b.decide(ctx, keys, Current{Status: StatusOpen}, Decision{Status: StatusIgnored, By: by, At: b.now()})
}

// Reopen puts ignored items back in the inbox (ErrDecided for items that are not ignored).
func (b *Inbox) Reopen(ctx context.Context, keys []string, by string) error {
	return b.decide(ctx, keys, Current{Status: StatusIgnored}, Decision{Status: StatusOpen, By: by, At: b.now()})
}

func (b *Inbox) decide(ctx context.Context, keys []string, cur Current, d Decision) error {
	if len(keys) == 0 {
		return ErrBadTeach
	}
	n, err := b.Store.DecideReview(ctx, keys, cur, d)
	if err == nil && n < len(keys) {
		return ErrDecided
	}
	return err
}

// Revert takes a taught phrase back: it is no longer trained on (the model in service is retrained
// now), its text is deleted, and the items still taught with it are open again. Reverting a phrase
// already reverted finishes what an interrupted revert left (the items) and says ErrReverted. The
// returned phrase has an ID whenever this call reverted it, even if what follows failed.
func (b *Inbox) Revert(ctx context.Context, id, by string) (Taught, error) {
	reverted := b.Store.RevertTaught(ctx, id, by, b.now())
	if reverted != nil && !errors.Is(reverted, ErrReverted) {
		return Taught{}, reverted // nothing changed
	}
	// From here the phrase is reverted: the Taught returned names it whatever else fails.
	t := Taught{ID: id, Reverted: true}
	all, err := b.Store.TaughtPhrases(ctx)
	if err != nil {
		return t, err
	}
	if i := slices.IndexFunc(all, func(x Taught) bool { return x.ID == id }); i >= 0 {
		t = all[i]
	}
	if _, err := b.Store.DecideReview(ctx, t.Items, Current{Status: StatusTaught, TaughtID: id}, Decision{Status: StatusOpen, By: by, At: b.now()}); err != nil {
		return t, err
	}
	if reverted != nil {
		return t, reverted
	}
	if _, err := b.Classifier.Sync(ctx); err != nil {
		return t, fmt.Errorf("%w: %v", ErrRetrain, err)
	}
	return t, nil
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

func (b *Inbox) names(ctx context.Context, user string) ([]string, error) {
	if b.Names == nil {
		return nil, nil
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
	t, ok := flows.FAQTopicByID(topic)
	return ok && t.Item == item
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "t" + hex.EncodeToString(b[:])
}
