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
		// Written as Japanese input methods and keyboards write them.
		{"０９０ー１２３４ー５６７８です", []string{PIIPhone}, []string{"です"}, []string{"1234", "5678"}},
		{"090−1234−5678 / 090‐1234‐5678", []string{PIIPhone}, nil, []string{"1234"}},
		{"090-12345678まで", []string{PIIPhone}, []string{"まで"}, []string{"12345678"}},
		{"03(1234)5678か 03-123-4567", []string{PIIPhone}, []string{"か"}, []string{"1234", "4567"}},
		{"tel 090 - 1234 - 5678", []string{PIIPhone}, []string{"tel"}, []string{"5678"}},
		{"〒150-0001 東京都渋谷区の住所です", []string{PIIPostal}, []string{"東京都渋谷区"}, []string{"150-0001"}},
		{"住所は700-0975です", []string{PIIPostal}, []string{"住所は"}, []string{"0975"}},
		{"お客様番号は1234567890です", []string{PIIPhone}, nil, []string{"1234567890"}},
		// Not personal data: dates, amounts, policy items, short numbers, a one-letter name, a word
		// that holds a short Latin name part ("Li" in LINE, "Em Al" in email).
		{"2026-12-05に請求しました。第5項(1)の件で、1,000円かかりますか", nil, []string{"2026-12-05", "第5項(1)", "1,000円"}, nil},
		{"A社の件です", nil, []string{"A社"}, nil},
		{"delete my LINE data and my email", nil, []string{"LINE", "email"}, nil},
		{"メールアドレスを変えたい", nil, []string{"メールアドレスを変えたい"}, nil},
		{"2026年12月5日 20261205 の件", nil, []string{"20261205"}, nil},
	}
	names = append(names, "Li Na", "Em Al")
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
