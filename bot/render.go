package bot

import (
	"fmt"
	"unicode/utf8"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/locales"
)

// LINE's limits on what the renderer produces.
const (
	maxTextRunes       = 5000
	maxQuickReplies    = 13
	maxLabelRunes      = 20
	maxMessagesPerCall = 5
)

// Renderer turns flow replies (catalog IDs plus data) into messages in the customer's language.
type Renderer struct {
	loc map[flows.Lang]*i18n.Localizer
	// Defaults is template data added to every message (e.g. PolicyURL).
	defaults map[string]string
}

// NewRenderer loads the embedded catalogs. defaults is template data every message may use.
func NewRenderer(defaults map[string]string) (*Renderer, error) {
	b, err := locales.NewBundle()
	if err != nil {
		return nil, err
	}
	return &Renderer{
		loc: map[flows.Lang]*i18n.Localizer{
			flows.Ja: i18n.NewLocalizer(b, string(flows.Ja)),
			flows.En: i18n.NewLocalizer(b, string(flows.En)),
		},
		defaults: defaults,
	}, nil
}

// Text renders one catalog message.
func (r *Renderer) Text(lang flows.Lang, id string, data map[string]string) (string, error) {
	loc, ok := r.loc[lang]
	if !ok {
		loc = r.loc[flows.Ja]
	}
	td := make(map[string]string, len(data)+len(r.defaults))
	for k, v := range r.defaults {
		td[k] = v
	}
	for k, v := range data {
		td[k] = v
	}
	s, tag, err := loc.LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id, TemplateData: td})
	if err != nil {
		return "", fmt.Errorf("render %q: %w", id, err)
	}
	if tag.String() != string(lang) && lang != "" {
		// A message missing in the customer's language is a bug the catalog test catches; say so loudly
		// rather than answer in the wrong language silently.
		return s, fmt.Errorf("render %q: missing in %s", id, lang)
	}
	return s, nil
}

// Render renders replies in lang. LINE takes at most five messages per reply; flows never produce more,
// and Render refuses rather than silently drop.
func (r *Renderer) Render(lang flows.Lang, replies []flows.Reply) ([]Message, error) {
	if len(replies) > maxMessagesPerCall {
		return nil, fmt.Errorf("render: %d messages, LINE takes at most %d", len(replies), maxMessagesPerCall)
	}
	out := make([]Message, 0, len(replies))
	for _, rep := range replies {
		text, err := r.Text(lang, rep.ID, rep.Data)
		if err != nil {
			return nil, err
		}
		m := Message{Text: truncate(text, maxTextRunes)}
		for i, c := range rep.Choices {
			if i == maxQuickReplies {
				break
			}
			label, err := r.Text(lang, c.LabelID, nil)
			if err != nil {
				return nil, err
			}
			m.QuickReplies = append(m.QuickReplies, QuickReply{Label: truncate(label, maxLabelRunes), Data: c.Postback, Text: c.Text})
		}
		out = append(out, m)
	}
	return out, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
