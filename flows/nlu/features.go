package nlu

import (
	"strings"
	"unicode"
)

// Feature groups. Each group is weighted by TF-IDF and normalised on its own before the groups are
// joined, so that the many character n-grams do not drown the few words.
const (
	groupWord = iota
	groupBigram
	groupChar
	numGroups
)

// groupWeight is the share of each group in the joined vector.
var groupWeight = [numGroups]float32{groupWord: 1.0, groupBigram: 0.4, groupChar: 0.5}

// featurizer turns a normalised message into feature strings. It is safe for concurrent use: the
// kagome tokenizer builds a fresh lattice per call.
type featurizer struct {
	lex *lexicon
}

// features holds the raw feature strings of one message, by group.
type features [numGroups][]string

// extract returns the features of an already normalised message.
func (f *featurizer) extract(s string) features {
	var out features
	hasJa := false
	for _, r := range s {
		if isJapanese(r) {
			hasJa = true
			break
		}
	}
	if hasJa {
		f.japaneseWords(s, &out)
	} else {
		englishWords(s, &out)
	}
	charGrams(s, hasJa, &out)
	return out
}

// japaneseWords adds kagome base forms (katakana folded to hiragana) and bigrams of them; Latin words
// inside Japanese text are handled like English words.
func (f *featurizer) japaneseWords(s string, out *features) {
	prev := "^"
	for _, tok := range f.lex.tk.Tokenize(s) {
		surface := strings.TrimSpace(tok.Surface)
		if surface == "" {
			continue
		}
		if isASCIIWord(surface) {
			for _, w := range splitEnglish(surface) {
				w = stem(w)
				out[groupWord] = append(out[groupWord], "w:"+w)
				out[groupBigram] = append(out[groupBigram], "b:"+prev+"|"+w)
				prev = w
			}
			continue
		}
		pos := tok.POS()
		if len(pos) > 0 && pos[0] == "記号" {
			continue
		}
		base := f.lex.baseForm(tok)
		if base == "*" || base == "" {
			base = surface
		}
		base = canonicalJa(foldKana(base))
		out[groupWord] = append(out[groupWord], "w:"+base)
		out[groupBigram] = append(out[groupBigram], "b:"+prev+"|"+base)
		prev = base
	}
}

// canonicalJa merges spelling variants of the same word that the dictionary keeps apart.
func canonicalJa(w string) string {
	switch w {
	case "下さる":
		return "くださる"
	case "漏えい", "ろうえい":
		return "漏洩"
	case "止める", "とめる", "停める":
		return "止める"
	case "辞める", "やめる":
		return "止める"
	case "くっきい":
		return "くっきー"
	case "頂く":
		return "いただく"
	case "出来る":
		return "できる"
	case "貰う":
		return "もらう"
	case "欲しい":
		return "ほしい"
	case "無い":
		return "ない"
	case "良い", "よい":
		return "いい"
	case "分かる", "解る", "判る":
		return "わかる"
	case "話":
		return "話す"
	case "有る":
		return "ある"
	case "於く":
		return "おく"
	}
	return w
}

// contractions are expanded before English words are split, so that "don't stop" and "do not stop"
// look the same.
var contractions = strings.NewReplacer(
	"can't", "can not", "cannot", "can not", "won't", "will not", "n't", " not",
	"'m", " am", "'re", " are", "'ve", " have", "'ll", " will", "'d", " would", "'s", "",
)

// englishWords adds stemmed words (a few articles dropped) and word bigrams.
func englishWords(s string, out *features) {
	prev := "^"
	for _, w := range splitEnglish(contractions.Replace(s)) {
		w = stem(w)
		if w != "the" && w != "a" && w != "an" {
			out[groupWord] = append(out[groupWord], "w:"+w)
		}
		out[groupBigram] = append(out[groupBigram], "b:"+prev+"|"+w)
		prev = w
	}
}

// splitEnglish splits at anything that is not a letter or digit.
func splitEnglish(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r)) || isJapanese(r)
	})
}

// isASCIIWord reports whether s is made of ASCII letters and digits only.
func isASCIIWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '\'' || c == '-') {
			return false
		}
	}
	return true
}

// stem strips common English inflections; it is deliberately crude (both training and query go
// through it, so it only has to be consistent).
func stem(w string) string {
	if len(w) <= 3 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "ing") && len(w) > 5:
		w = w[:len(w)-3]
	case strings.HasSuffix(w, "ed") && len(w) > 4:
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "es") && len(w) > 4 && strings.ContainsRune("sxz", rune(w[len(w)-3])):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us"):
		w = w[:len(w)-1]
	}
	return strings.TrimSuffix(w, "e")
}

// charGrams adds character n-grams: 2- and 3-grams of the kana-folded text without spaces and
// punctuation for Japanese, 3- and 4-grams inside each padded word for English (typo tolerance).
func charGrams(s string, ja bool, out *features) {
	if ja {
		rs := make([]rune, 0, len(s))
		for _, r := range foldKana(s) {
			if unicode.IsLetter(r) || unicode.IsDigit(r) || r == 'ー' {
				rs = append(rs, r)
			}
		}
		for n := 2; n <= 3; n++ {
			for i := 0; i+n <= len(rs); i++ {
				out[groupChar] = append(out[groupChar], "c:"+string(rs[i:i+n]))
			}
		}
		return
	}
	for _, w := range splitEnglish(s) {
		rs := []rune("<" + w + ">")
		for n := 3; n <= 4; n++ {
			for i := 0; i+n <= len(rs); i++ {
				out[groupChar] = append(out[groupChar], "c:"+string(rs[i:i+n]))
			}
		}
	}
}
