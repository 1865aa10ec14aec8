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
)

// Mask is what stands where personal data was: no letters or digits, so it adds no word to the model.
const Mask = "＊＊＊"

var (
	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	// phoneRe matches Japanese numbers (0X-XXXX-XXXX, 090…, 0120…), +81 and other international
	// numbers, with hyphens, spaces, dots or parentheses between the groups, and any other run of ten
	// or more digits (an account or a customer number is no better in training data).
	phoneRe = regexp.MustCompile(`(?:\+\d{1,3}[\s\-.]?)?\(?0?\d{1,4}\)?[\s\-.]?\d{1,4}[\s\-.]\d{3,4}|\d{10,}|\+\d{9,}`)
)

// FindPII returns the kinds of personal data in text: phone numbers, e-mail addresses and the given
// names (the customer's name as LINE or the customer's own requests give it; each part of a name of
// two characters or more counts on its own). Sorted, each kind once.
func FindPII(text string, names []string) []string {
	_, kinds := maskPII(text, names)
	return kinds
}

// MaskPII replaces every piece of personal data FindPII finds with Mask, and says which kinds it
// replaced.
func MaskPII(text string, names []string) (string, []string) { return maskPII(text, names) }

func maskPII(text string, names []string) (string, []string) {
	s := norm.NFKC.String(text)
	var kinds []string
	found := func(k string) {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	s = emailRe.ReplaceAllStringFunc(s, func(string) string { found(PIIEmail); return Mask })
	s = phoneRe.ReplaceAllStringFunc(s, func(m string) string {
		if countDigits(m) < 8 {
			return m // a date, an amount or a policy item ("5-1-2"), not a number anyone answers
		}
		found(PIIPhone)
		return Mask
	})
	for _, part := range nameParts(names) {
		if m := replaceFold(s, part); m != s {
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
			if utf8.RuneCountInString(p) >= 2 && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return utf8.RuneCountInString(b) - utf8.RuneCountInString(a) })
	return out
}

// replaceFold replaces every occurrence of part in s, ignoring case.
func replaceFold(s, part string) string {
	re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(part))
	return re.ReplaceAllLiteralString(s, Mask)
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
