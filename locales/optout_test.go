package locales_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/locales"
)

// TestOptOutMessagesExist fails when the opt-out flows name a message a catalog lacks.
func TestOptOutMessagesExist(t *testing.T) {
	ids, err := locales.MessageIDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range flows.OptOutMessageIDs() {
		for _, lang := range []string{"ja", "en"} {
			if !slices.Contains(ids[lang], id) {
				t.Errorf("opt-out flows use %q, missing in %s", id, lang)
			}
		}
	}
}

// TestOptOutLabelsFit checks LINE's 20-character limit on quick-reply labels and that every message
// renders with every channel flag set and none.
func TestOptOutLabelsFit(t *testing.T) {
	b, err := locales.NewBundle()
	if err != nil {
		t.Fatal(err)
	}
	full := map[string]string{"ChAll": "1", "Any": "1", "Ref": "OPT-X", "Name": "n", "Phone": "p", "Email": "e", "NoIDs": "1"}
	for _, c := range flows.ChannelList() {
		full["Ch_"+c.Name()] = "1"
	}
	for _, lang := range []string{"ja", "en"} {
		loc := i18n.NewLocalizer(b, lang)
		for _, id := range flows.OptOutMessageIDs() {
			for _, data := range []map[string]string{nil, full} {
				s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
				if err != nil {
					t.Fatalf("%s %s: %v", lang, id, err)
				}
				if strings.HasPrefix(id, "optout.label.") && utf8.RuneCountInString(s) > 20 {
					t.Errorf("%s label %s = %q: over 20 characters", lang, id, s)
				}
			}
		}
	}
}
