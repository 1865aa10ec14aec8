// Package locales embeds the message catalogs (go-i18n TOML, one file per language and area:
// ja.toml, en.toml, faq.ja.toml, …) and the intent classifier's training phrases (nlu/).
package locales

import "embed"

// FS holds every catalog (*.toml) and the training phrases under nlu/.
//
//go:embed *.toml nlu
var FS embed.FS

// Policy is the company's privacy policy as published (Japanese), served at /policy. Answers correct its
// known slips; this text is shown as the company wrote it (see flows/FAQ-NOTES.md).
//
//go:embed policy/privacy-policy.ja.txt
var Policy string
