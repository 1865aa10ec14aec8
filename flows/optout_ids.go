package flows

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Channels is a set of marketing channels (a bitmask, so that State stays comparable).
type Channels uint16

// The marketing channels of policy item 2-3 [2], plus promotional LINE messages.
const (
	ChanPhone    Channels = 1 << iota // phone calls
	ChanMail                          // direct mail (post)
	ChanEmail                         // e-mail
	ChanVisit                         // visits
	ChanCampaign                      // campaign and event notices, product news
	ChanSurvey                        // surveys
	ChanLINE                          // promotional LINE messages

	// ChanAll is every marketing channel.
	ChanAll = ChanPhone | ChanMail | ChanEmail | ChanVisit | ChanCampaign | ChanSurvey | ChanLINE
)

// channelNames are the stable machine names of the channels (API, CSV, webhook, postbacks), in order.
var channelNames = []struct {
	ch   Channels
	name string
}{
	{ChanPhone, "phone"}, {ChanMail, "mail"}, {ChanEmail, "email"}, {ChanVisit, "visit"},
	{ChanCampaign, "campaign"}, {ChanSurvey, "survey"}, {ChanLINE, "line"},
}

// ChannelList returns every channel, in display order.
func ChannelList() []Channels {
	out := make([]Channels, len(channelNames))
	for i, c := range channelNames {
		out[i] = c.ch
	}
	return out
}

// Name is the stable machine name of a single channel ("phone", "mail", …); "" for a set or none.
func (c Channels) Name() string {
	for _, n := range channelNames {
		if n.ch == c {
			return n.name
		}
	}
	return ""
}

// Names lists the machine names of the channels in the set, in display order.
func (c Channels) Names() []string {
	var out []string
	for _, n := range channelNames {
		if c&n.ch != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// Has reports whether every channel of o is in c.
func (c Channels) Has(o Channels) bool { return o != 0 && c&o == o }

// ParseChannel maps a machine name to its channel ("all" is ChanAll).
func ParseChannel(name string) (Channels, bool) {
	if name == "all" {
		return ChanAll, true
	}
	for _, n := range channelNames {
		if n.name == name {
			return n.ch, true
		}
	}
	return 0, false
}

// channelWords recognises channels named in free text ("DMを送らないで", "no more e-mails").
// Longer, more specific words come first: "メール" inside "ダイレクトメール" is direct mail, not e-mail.
var channelWords = []struct {
	word string
	ch   Channels
}{
	{"ダイレクトメール", ChanMail}, {"direct mail", ChanMail}, {"dm", ChanMail}, {"郵送", ChanMail},
	{"郵便", ChanMail}, {"チラシ", ChanMail}, {"はがき", ChanMail}, {"ハガキ", ChanMail}, {"letter", ChanMail},
	{"post", ChanMail},
	{"メルマガ", ChanEmail}, {"メールマガジン", ChanEmail}, {"電子メール", ChanEmail}, {"e-mail", ChanEmail},
	{"email", ChanEmail}, {"メール", ChanEmail},
	{"電話", ChanPhone}, {"phone", ChanPhone}, {"call", ChanPhone},
	{"訪問", ChanVisit}, {"家に来", ChanVisit}, {"visit", ChanVisit},
	{"キャンペーン", ChanCampaign}, {"イベント", ChanCampaign}, {"セール", ChanCampaign},
	{"新商品", ChanCampaign}, {"campaign", ChanCampaign}, {"newsletter", ChanCampaign},
	{"アンケート", ChanSurvey}, {"調査", ChanSurvey}, {"survey", ChanSurvey}, {"questionnaire", ChanSurvey},
	{"line", ChanLINE},
	{"すべて", ChanAll}, {"全部", ChanAll}, {"全て", ChanAll}, {"一切", ChanAll}, {"everything", ChanAll},
	{"all ", ChanAll},
}

// channelsIn returns the channels a message names (0 when none).
func channelsIn(text string) Channels {
	t := strings.ToLower(norm.NFKC.String(text)) + " "
	var c Channels
	for _, w := range channelWords {
		if i := strings.Index(t, w.word); i >= 0 {
			c |= w.ch
			t = t[:i] + strings.Repeat(" ", len(w.word)) + t[i+len(w.word):] // claimed
		}
	}
	return c
}

// dataItemWords name personal data, not a way of contacting: 「電話番号の利用停止」 asks to stop using
// the number, not phone calls. marketingNamed reads past them.
var dataItemWords = []string{"電話番号", "携帯番号", "携帯電話番号", "メールアドレス", "メアド", "phone number",
	"mobile number", "e-mail address", "email address", "mail address"}

// marketingWords name marketing contact without naming a channel: 「配信」「営業」, "marketing".
var marketingWords = []string{"配信", "営業", "勧誘", "宣伝", "広告", "販促", "セールス", "マーケティング", "メルマガ",
	"marketing", "advertis", "promotion", "promotional", "newsletter", "unsubscribe", "spam"}

// marketingNamed reports whether a message is about marketing contact: it names a channel (a word of
// channelWords other than the "all" words 「すべて」「全部」, which qualify anything) or marketing
// itself. Short English channel words count as whole words only ("line" is not in "online").
func marketingNamed(text string) bool {
	t := strings.ToLower(norm.NFKC.String(text))
	for _, w := range dataItemWords {
		t = strings.ReplaceAll(t, w, " ")
	}
	for _, w := range marketingWords {
		if strings.Contains(t, w) {
			return true
		}
	}
	for _, w := range channelWords {
		if w.ch != ChanAll && containsWord(t, w.word) {
			return true
		}
	}
	return false
}

// containsWord reports whether t contains w; a word in Latin letters must stand as a word of its own
// (with an English ending: calls, calling, called).
func containsWord(t, w string) bool {
	if !isLatin(w) {
		return strings.Contains(t, w)
	}
	for i := 0; ; {
		j := strings.Index(t[i:], w)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(w)
		if start == 0 || !isLatinLetter(t[start-1]) {
			for _, suffix := range []string{"", "s", "es", "ed", "ing"} {
				e := end + len(suffix)
				if strings.HasPrefix(t[end:], suffix) && (e == len(t) || !isLatinLetter(t[e])) {
					return true
				}
			}
		}
		i = start + 1
	}
}

func isLatin(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] >= 0x80 {
			return false
		}
	}
	return true
}

func isLatinLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// NormalizePhone validates a Japanese phone number written any of the usual ways (090-1234-5678,
// 09012345678, full-width digits, (086) 239-7675, +81 90 1234 5678, +81 (0)90…) and returns it in
// E.164 form (+819012345678). Mobile, IP (050), M2M (020) and 0800 numbers have 11 digits, the others 10.
func NormalizePhone(s string) (string, bool) {
	s = norm.NFKC.String(strings.TrimSpace(s))
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case strings.ContainsRune(" -‐‑–—−ー().", r):
		default:
			return "", false
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "+81"):
		d = strings.TrimPrefix(d[3:], "0") // "+81 (0)90…" and "+81 90…"
		d = "0" + d
	case strings.HasPrefix(d, "+"):
		return "", false // only Japanese numbers
	}
	if len(d) < 10 || d[0] != '0' || d[1] == '0' {
		return "", false
	}
	switch {
	case len(d) == 11 && (hasAnyPrefix(d, "070", "080", "090", "050", "020", "0800")):
	case len(d) == 10 && !hasAnyPrefix(d, "070", "080", "090", "050", "020", "0800"):
	default:
		return "", false
	}
	return "+81" + d[1:], true
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// NormalizeEmail validates a bare e-mail address (full-width characters are folded) and returns it in
// lower case, the form in which addresses are matched.
func NormalizeEmail(s string) (string, bool) {
	s = strings.TrimSpace(norm.NFKC.String(s))
	if s == "" || len(s) > 254 || strings.ContainsAny(s, " <>\"") {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if at < 1 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", false
	}
	return strings.ToLower(s), true
}

// normalizeName folds full-width letters and collapses spaces; a name is 1–60 characters and not a
// number.
func normalizeName(s string) (string, bool) {
	s = strings.Join(strings.Fields(norm.NFKC.String(s)), " ")
	n := utf8.RuneCountInString(s)
	if n == 0 || n > 60 || strings.ContainsAny(s, "@0123456789") {
		return "", false
	}
	return s, true
}

// normalizePostalOrCustomer reads the optional extra identifier: a postal code (700-0975, 〒7000975)
// or else a customer number (letters, digits and hyphens, 3–20 characters).
func normalizePostalOrCustomer(s string) (postal, customer string, ok bool) {
	s = strings.TrimSpace(norm.NFKC.String(s))
	p := strings.TrimPrefix(s, "〒")
	p = strings.TrimSpace(p)
	digits := strings.ReplaceAll(strings.ReplaceAll(p, "-", ""), "ー", "")
	if len(digits) == 7 && isDigits(digits) && (len(p) == 7 || (len(p) == 8 && p[3] == '-')) {
		return digits[:3] + "-" + digits[3:], "", true
	}
	if n := len(s); n < 3 || n > 20 {
		return "", "", false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
			return "", "", false
		}
	}
	return "", strings.ToUpper(s), true
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
