package nlu

import (
	"runtime/debug"
	"sync"

	"github.com/ikawaha/kagome-dict/dict"
	"github.com/ikawaha/kagome-dict/ipa"
	"github.com/ikawaha/kagome/v2/tokenizer"
)

// The IPA dictionary keeps, for each of its ~390,000 morphemes, a row of feature strings (readings,
// conjugation, …) that takes about 60 MB of heap. The classifier needs one of them, the base form; part
// of speech lives in a separate small table. So the dictionary is loaded once, the base forms are
// copied into an interned table (a uint32 per morpheme), and the rows are dropped.
type lexicon struct {
	tk    *tokenizer.Tokenizer
	base  []uint32 // morpheme ID -> index into forms
	forms []string
}

var (
	lexOnce sync.Once
	lex     *lexicon
	lexErr  error
)

func loadLexicon() (*lexicon, error) {
	lexOnce.Do(func() {
		d := ipa.Dict()
		l := &lexicon{base: make([]uint32, len(d.Contents))}
		idx, hasBase := d.ContentsMeta[dict.BaseFormIndex]
		intern := map[string]uint32{}
		for id, row := range d.Contents {
			// As kagome's Token.FeatureAt: the feature index counts the morpheme's part-of-speech
			// levels first, and those are not in the row.
			form, col := "", int(idx)
			if id < len(d.POSTable.POSs) {
				col -= len(d.POSTable.POSs[id])
			}
			if hasBase && col >= 0 && col < len(row) {
				form = row[col]
			}
			i, ok := intern[form]
			if !ok {
				i = uint32(len(l.forms))
				// A copy, so that the row's backing string can be freed.
				l.forms = append(l.forms, string([]byte(form)))
				intern[form] = i
			}
			l.base[id] = i
		}
		d.Contents = nil
		l.tk, lexErr = tokenizer.New(d, tokenizer.OmitBosEos())
		lex = l
		debug.FreeOSMemory() // give the dropped rows back at once, not over minutes
	})
	return lex, lexErr
}

// baseForm returns the dictionary base form of a token ("" when it has none).
func (l *lexicon) baseForm(tok tokenizer.Token) string {
	switch tok.Class {
	case tokenizer.KNOWN:
		if tok.ID >= 0 && tok.ID < len(l.base) {
			return l.forms[l.base[tok.ID]]
		}
		return ""
	default:
		b, _ := tok.BaseForm()
		return b
	}
}
