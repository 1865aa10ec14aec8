package nlu

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// normalize folds the surface differences that carry no meaning for intent detection: NFKC (full-width
// ASCII and half-width katakana become their ordinary forms), lower case, typographic quotes and
// dashes, and runs of white space. Katakana is kept as it is here; foldKana is applied only where the
// features ask for it, so that the tokenizer still sees ordinary Japanese.
func normalize(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch r {
		case '’', '‘', '`', '´':
			r = '\''
		case '“', '”':
			r = '"'
		case '〜', '～':
			r = '~'
		case '‐', '‑', '‒', '–', '—', '―':
			r = '-'
		}
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// foldKana maps katakana to hiragana (ア→あ, ヴ→ゔ), leaving the prolonged sound mark and everything else
// alone, so that "めーる" and "メール" share features.
func foldKana(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= 'ァ' && r <= 'ヶ' {
			r -= 'ァ' - 'ぁ'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isJapanese reports whether r is kana or a CJK ideograph (or the prolonged sound mark).
func isJapanese(r rune) bool {
	return unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) || r == 'ー' || r == '々'
}

// detectLang says which language a message is written in: "ja" as soon as it holds any kana or kanji,
// "en" when it holds Latin letters only, and "ja" (the desk's default) when it holds neither.
func detectLang(s string) string {
	latin := false
	for _, r := range s {
		if isJapanese(r) {
			return "ja"
		}
		if r < unicode.MaxASCII && unicode.IsLetter(r) {
			latin = true
		}
	}
	if latin {
		return "en"
	}
	return "ja"
}

// hasLetters reports whether s holds anything a classifier could read (letters or digits).
func hasLetters(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}
