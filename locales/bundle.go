package locales

import (
	"fmt"
	"io/fs"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// NewBundle loads every embedded catalog (*.toml; the language is the part of the file name before
// ".toml", e.g. ja.toml, faq.en.toml) into a go-i18n bundle with Japanese as the default language.
func NewBundle() (*i18n.Bundle, error) {
	b := i18n.NewBundle(language.Japanese)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	files, err := fs.Glob(FS, "*.toml")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if _, err := b.LoadMessageFileFS(FS, f); err != nil {
			return nil, fmt.Errorf("catalog %s: %w", f, err)
		}
	}
	return b, nil
}

// MessageIDs returns the message IDs each catalog language defines, across all catalog files.
func MessageIDs() (map[string][]string, error) {
	files, err := fs.Glob(FS, "*.toml")
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, f := range files {
		buf, err := fs.ReadFile(FS, f)
		if err != nil {
			return nil, err
		}
		mf, err := i18n.ParseMessageFileBytes(buf, f, map[string]i18n.UnmarshalFunc{"toml": toml.Unmarshal})
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", f, err)
		}
		lang := mf.Tag.String()
		for _, m := range mf.Messages {
			out[lang] = append(out[lang], m.ID)
		}
	}
	return out, nil
}
