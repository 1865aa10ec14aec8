package chart

import (
	"bytes"
	"encoding/xml"
	"math"
	"strconv"
	"unicode/utf8"
)

// The numbers and texts of a chart: the axis step, how wide a label is drawn, how a coordinate or a
// value is written, and the escaping every given text goes through.

// niceStep is the round step (1, 2, 2.5 or 5 × 10ⁿ) at or above raw; whole steps of at least 1 when
// integer.
func niceStep(raw float64, integer bool) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if integer && m == 2.5 && mag < 10 {
			continue
		}
		if m*mag >= raw-1e-12 {
			step = m * mag
			break
		}
	}
	if integer && step < 1 {
		step = 1
	}
	return step
}

// textWidth estimates how wide a text is drawn: a full-width (CJK) character about one em, others
// about 0.6 em.
func textWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		if r >= 0x1100 && utf8.RuneLen(r) >= 3 {
			w += fontSize
		} else {
			w += fontSize * 0.62
		}
	}
	return w
}

// num writes a coordinate with at most one decimal.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

// plain writes a value as a number.
func plain(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// esc escapes a text for XML, as element text or attribute value alike (quotes included); characters
// XML cannot hold become U+FFFD.
func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
