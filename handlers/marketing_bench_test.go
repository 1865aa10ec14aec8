package handlers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/handlers"
)

// benchConsents is a ConsentReader over n generated subjects, walked in chunks as consent.Consents does.
type benchConsents struct{ states []consent.State }

func newBenchConsents(n int) *benchConsents {
	b := &benchConsents{states: make([]consent.State, n)}
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i := range b.states {
		s := &b.states[i]
		s.Subject = fmt.Sprintf("line:U%032d", i)
		s.Name, s.Phone, s.Email = "岡山 花子", fmt.Sprintf("+8190%08d", i), fmt.Sprintf("user%d@example.jp", i)
		s.Postal, s.Customer = "700-0975", fmt.Sprintf("C-%d", i)
		for c := range 7 {
			if (i+c)%3 != 0 {
				s.Channels[c] = consent.ChannelState{OptedOut: true, At: at, Reference: "OPT-X", Seq: int64(i + 1)}
			}
		}
		s.UpdatedAt = at
	}
	return b
}

func (b *benchConsents) Since(int64, int) ([]consent.Record, []consent.State, bool) {
	return nil, nil, false
}
func (b *benchConsents) Match(string, string) []consent.State { return nil }
func (b *benchConsents) Subjects(chunk int, fn func(consent.State) error) error {
	buf := make([]consent.State, 0, chunk)
	for i := 0; i < len(b.states); {
		buf = buf[:0]
		for ; i < len(b.states) && len(buf) < chunk; i++ {
			buf = append(buf, b.states[i])
		}
		for _, s := range buf {
			if err := fn(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// countingWriter counts the bytes written.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkOptOutCSV exports 10,000 and 100,000 subjects: B/op and allocs/op stay the same whatever the
// size (the export streams with constant memory).
func BenchmarkOptOutCSV(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		cons := newBenchConsents(n)
		b.Run(fmt.Sprintf("subjects=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var w countingWriter
			for b.Loop() {
				w.n = 0
				if err := handlers.WriteOptOutCSV(&w, cons); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(w.n)/(1<<20), "MiB/export")
		})
	}
}
