package locales_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/locales"
)

// TestMissingTranslations fails when a message exists in one language and not in the other.
func TestMissingTranslations(t *testing.T) {
	ids, err := locales.MessageIDs()
	if err != nil {
		t.Fatal(err)
	}
	ja, en := ids["ja"], ids["en"]
	if len(ja) == 0 || len(en) == 0 {
		t.Fatalf("catalogs not loaded: ja=%d en=%d", len(ja), len(en))
	}
	for _, id := range ja {
		if !slices.Contains(en, id) {
			t.Errorf("%q is in Japanese but missing in English", id)
		}
	}
	for _, id := range en {
		if !slices.Contains(ja, id) {
			t.Errorf("%q is in English but missing in Japanese", id)
		}
	}
}

// TestFlowsUseOnlyExistingMessages fails when a flow names a message ID no catalog defines.
func TestFlowsUseOnlyExistingMessages(t *testing.T) {
	ids, err := locales.MessageIDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range flows.AllMessageIDs() { // the core's and every registered feature's
		for _, lang := range []string{"ja", "en"} {
			if !slices.Contains(ids[lang], id) {
				t.Errorf("flows use %q, missing in %s", id, lang)
			}
		}
	}
}

func TestBundleLoads(t *testing.T) {
	if _, err := locales.NewBundle(); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleCatalogsSpeakTheirLanguage fails when a console message of the Japanese catalog has no
// Japanese in it (an English text copied over and left untranslated), or when one of the English
// catalog has Japanese in it. The language names are written in their own language on purpose.
func TestConsoleCatalogsSpeakTheirLanguage(t *testing.T) {
	b, err := locales.NewBundle()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := locales.MessageIDs()
	if err != nil {
		t.Fatal(err)
	}
	japanese := func(s string) bool {
		return strings.ContainsFunc(s, func(r rune) bool {
			return unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) || (r >= 0x3000 && r <= 0x30FF) || (r >= 0xFF00 && r <= 0xFFEF)
		})
	}
	exceptions := map[string]map[string]bool{
		"ja": {"console.settings.lang_en": true, "console.optouts.kind_line": true},
		"en": {"console.settings.lang_ja": true},
	}
	n := 0
	for _, lang := range []string{"ja", "en"} {
		loc := i18n.NewLocalizer(b, lang)
		for _, id := range ids[lang] {
			if !strings.HasPrefix(id, "console.") || exceptions[lang][id] {
				continue
			}
			s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: 2, TemplateData: map[string]any{}})
			if err != nil {
				t.Errorf("%s %s: %v", lang, id, err)
				continue
			}
			n++
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s %s is empty", lang, id)
			}
			if (lang == "ja") != japanese(s) {
				t.Errorf("%s %s is not in its language: %q", lang, id, s)
			}
		}
	}
	if n < 400 {
		t.Fatalf("only %d console messages checked", n)
	}
}
