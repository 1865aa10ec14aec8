package insight

import (
	"slices"
	"strings"
	"testing"
)

func TestMaskPII(t *testing.T) {
	names := []string{"山田 太郎", "Hanako Suzuki", "A"}
	cases := []struct {
		text  string
		kinds []string
		left  []string // must remain
		gone  []string // must be masked
	}{
		{"090-1234-5678に電話してください", []string{PIIPhone}, []string{"に電話してください"}, []string{"090", "5678"}},
		{"０９０１２３４５６７８です", []string{PIIPhone}, []string{"です"}, []string{"12345678"}},
		{"連絡先は086-239-7675です", []string{PIIPhone}, nil, []string{"239-7675"}},
		{"call me on +81 90 1234 5678 please", []string{PIIPhone}, []string{"call me on", "please"}, []string{"5678"}},
		{"(03) 1234-5678 まで", []string{PIIPhone}, []string{"まで"}, []string{"1234-5678"}},
		{"メールは taro.yamada+dm@example.co.jp です", []string{PIIEmail}, []string{"メールは", "です"}, []string{"example"}},
		{"ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐに送って", []string{PIIEmail}, []string{"に送って"}, []string{"taro"}},
		{"山田太郎ですが開示をお願いします", []string{PIIName}, []string{"ですが開示をお願いします"}, []string{"山田", "太郎"}},
		{"太郎の情報を消して", []string{PIIName}, []string{"の情報を消して"}, []string{"太郎"}},
		{"this is hanako, delete my data", []string{PIIName}, []string{"delete my data"}, []string{"hanako"}},
		{"山田 090-1111-2222 a@b.jp", []string{PIIEmail, PIIName, PIIPhone}, nil, []string{"山田", "1111", "a@b"}},
		// Not personal data: dates, amounts, policy items, short numbers, a one-letter name.
		{"2026-12-05に請求しました。第5項(1)の件で、1,000円かかりますか", nil, []string{"2026-12-05", "第5項(1)", "1,000円"}, nil},
		{"A社の件です", nil, []string{"A社"}, nil},
	}
	for _, c := range cases {
		got, kinds := MaskPII(c.text, names)
		if !slices.Equal(kinds, c.kinds) {
			t.Errorf("%q: kinds %v, want %v (masked %q)", c.text, kinds, c.kinds, got)
		}
		for _, s := range c.left {
			if !strings.Contains(got, s) {
				t.Errorf("%q: %q lost in %q", c.text, s, got)
			}
		}
		for _, s := range c.gone {
			if strings.Contains(strings.ToLower(got), strings.ToLower(s)) {
				t.Errorf("%q: %q still in %q", c.text, s, got)
			}
		}
		if len(c.kinds) > 0 && !strings.Contains(got, Mask) {
			t.Errorf("%q: no mask in %q", c.text, got)
		}
		if again := FindPII(got, names); len(again) != 0 {
			t.Errorf("%q: masked %q still holds %v", c.text, got, again)
		}
	}
}
