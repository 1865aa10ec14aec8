package locales_test

import (
	"slices"
	"testing"

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
	var used []string
	for _, f := range []func() []string{flows.MessageIDs, flows.FAQMessageIDs, flows.OptOutMessageIDs, flows.HandoffMessageIDs} {
		used = append(used, f()...)
	}
	for _, id := range used {
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
