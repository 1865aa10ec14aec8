package insight

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// What a taught phrase must not carry. A phrase staff teach becomes training data, which is kept
// while it is taught and read by everyone who can see the model: it must say how customers ask, not
// who asked. The check runs on the NFKC form, so full-width digits and ＠ are caught too.

// PII kinds found in a phrase.
const (
	PIIPhone = "phone"
	PIIEmail = "email"
	PIIName  = "name"
	// PIIPostal is a postal code: where an address starts.
	PIIPostal = "postal"
)

// Mask is what stands where personal data was: no letters or digits, so it adds no word to the model.
const Mask = "＊＊＊"

var (
	// digitDash is a dash between two digits, with any spaces around it: besides "-", the long vowel
	// mark a Japanese IME types for "-" in kana mode (ー, ｰ), the minus sign, and the hyphens and
	// dashes NFKC leaves as they are. maskPII makes it a plain "-" so that numbers are seen whole.
	digitDash = regexp.MustCompile(`(\d)\s*[-ーｰ−‐‑‒–—―－]\s*(\d)`)
	emailRe   = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	// phoneRe matches a run of digits with the separators phone numbers are written with (hyphens,
	// spaces, dots, parentheses; see dashes), optionally after a +: Japanese numbers (0X-XXXX-XXXX,
	// 090…, 03(1234)5678, 0120…), +81 and other international numbers, and any other long number (an
	// account or a customer number is no better in training data). maskPII counts its digits.
	phoneRe = regexp.MustCompile(`\+?\(?\d[\d\s\-.()]*\d`)
	// postalRe matches a postal code (〒123-4567, 123-4567): the start of an address.
	postalRe = regexp.MustCompile(`〒\s*\d{3}-?\d{4}|\b\d{3}-\d{4}\b`)
	// latinName matches a name part written in Latin letters only: such a part is looked for as a
	// whole word, and only from three letters on ("Li" must not mask "LINE").
	latinName = regexp.MustCompile(`^[A-Za-z'\-]+$`)
)

// FindPII returns the kinds of personal data in text: phone numbers (and other long numbers), postal
// codes, e-mail addresses and the given names (the customer's name as LINE or the customer's own
// requests give it; each part of a name of two characters or more counts on its own, three letters
// and a whole word for Latin script). Sorted, each kind once.
func FindPII(text string, names []string) []string {
	_, kinds := maskPII(text, names)
	return kinds
}

// MaskPII replaces every piece of personal data FindPII finds with Mask, and says which kinds it
// replaced.
func MaskPII(text string, names []string) (string, []string) { return maskPII(text, names) }

func maskPII(text string, names []string) (string, []string) {
	s := norm.NFKC.String(text)
	for range 2 { // twice: neighbouring matches overlap ("1-2-3")
		s = digitDash.ReplaceAllString(s, "$1-$2")
	}
	var kinds []string
	found := func(k string) {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	s = emailRe.ReplaceAllStringFunc(s, func(string) string { found(PIIEmail); return Mask })
	s = phoneRe.ReplaceAllStringFunc(s, func(m string) string {
		if n := countDigits(m); n < 10 && !(n >= 8 && strings.HasPrefix(m, "0") && strings.ContainsAny(m, "-()")) {
			// A date (2026-12-05, 20261205), an amount or a policy item ("5-1-2"): not a number anyone
			// answers. Eight or nine digits count only as a grouped number starting with 0 (03-123-4567).
			return m
		}
		found(PIIPhone)
		return Mask
	})
	s = postalRe.ReplaceAllStringFunc(s, func(string) string { found(PIIPostal); return Mask })
	for _, part := range nameParts(names) {
		if m := replaceName(s, part); m != s {
			found(PIIName)
			s = m
		}
	}
	if len(kinds) == 0 {
		return text, nil // nothing masked: the words as the customer wrote them
	}
	for strings.Contains(s, Mask+Mask) { // a name masked part by part reads as one
		s = strings.ReplaceAll(s, Mask+Mask, Mask)
	}
	slices.Sort(kinds)
	return s, kinds
}

// nameParts splits names into the parts worth looking for: the whole name and each part of two
// characters or more, longest first (so that the whole name is masked before its parts).
func nameParts(names []string) []string {
	var out []string
	for _, n := range names {
		n = strings.TrimSpace(norm.NFKC.String(n))
		if utf8.RuneCountInString(n) >= 2 {
			out = append(out, n)
			if joined := strings.Join(strings.Fields(n), ""); joined != n {
				out = append(out, joined) // 「山田 花子」 written 「山田花子」
			}
		}
		for _, p := range strings.FieldsFunc(n, func(r rune) bool { return r == ' ' || r == '　' || r == '・' }) {
			min := 2
			if latinName.MatchString(p) {
				min = 3
			}
			if utf8.RuneCountInString(p) >= min && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return utf8.RuneCountInString(b) - utf8.RuneCountInString(a) })
	return out
}

// replaceName replaces every occurrence of a name part in s, ignoring case; a part in Latin letters
// only as a whole word.
func replaceName(s, part string) string {
	pat := `(?i)` + regexp.QuoteMeta(part)
	if latinName.MatchString(part) {
		pat = `(?i)\b` + regexp.QuoteMeta(part) + `\b`
	}
	return regexp.MustCompile(pat).ReplaceAllLiteralString(s, Mask)
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}
