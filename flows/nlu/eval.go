package nlu

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// Case is one labelled message of an evaluation set and the classifier's answer to it.
type Case struct {
	Text   string
	Labels []string // acceptable intents
	Got    Result
}

// Correct reports whether the classifier's intent is one of the acceptable labels.
func (c Case) Correct() bool { return slices.Contains(c.Labels, c.Got.Intent) }

// IntentStats is precision and recall of one intent over an evaluation set. A case counts towards an
// intent's support when the intent is its first label.
type IntentStats struct {
	Intent             string
	Support, Predicted int
	TruePos            int
	Precision, Recall  float64
}

// Confusion counts how often messages labelled Want were classified as Got.
type Confusion struct {
	Want, Got string
	Count     int
}

// Report is the outcome of Eval.
type Report struct {
	Cases    []Case
	Correct  int
	Accuracy float64
	// PolicyAnswersOffTopic counts messages labelled only "none" (or "none,menu") that were answered
	// with a faq intent: the figure that must stay at zero.
	PolicyAnswersOffTopic int
	PerIntent             []IntentStats
	Confused              []Confusion // most frequent first
}

// Misses returns the cases the classifier got wrong.
func (r Report) Misses() []Case {
	var out []Case
	for _, c := range r.Cases {
		if !c.Correct() {
			out = append(out, c)
		}
	}
	return out
}

// Eval classifies every line of a "text<TAB>labels" file (labels comma-separated; a first line whose
// labels column is "labels" is a header; blank lines and # comments are skipped) and scores the result.
func Eval(m *Model, r io.Reader) (Report, error) {
	var rep Report
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		text, labels, ok := strings.Cut(line, "\t")
		if !ok {
			return rep, fmt.Errorf("nlu: eval line %d: want text<TAB>labels", n)
		}
		if n == 1 && strings.TrimSpace(labels) == "labels" {
			continue
		}
		c := Case{Text: text}
		for _, l := range strings.Split(labels, ",") {
			l = strings.TrimSpace(l)
			if !slices.Contains(Intents, l) {
				return rep, fmt.Errorf("nlu: eval line %d: unknown intent %q", n, l)
			}
			c.Labels = append(c.Labels, l)
		}
		c.Got = m.Classify(text)
		rep.Cases = append(rep.Cases, c)
	}
	if err := sc.Err(); err != nil {
		return rep, fmt.Errorf("nlu: eval: %w", err)
	}
	rep.score()
	return rep, nil
}

func (r *Report) score() {
	stats := map[string]*IntentStats{}
	get := func(in string) *IntentStats {
		if stats[in] == nil {
			stats[in] = &IntentStats{Intent: in}
		}
		return stats[in]
	}
	confused := map[[2]string]int{}
	for _, c := range r.Cases {
		want := c.Labels[0]
		get(want).Support++
		get(c.Got.Intent).Predicted++
		if c.Correct() {
			r.Correct++
			get(c.Got.Intent).TruePos++
		} else {
			confused[[2]string{want, c.Got.Intent}]++
		}
		offTopic := !slices.ContainsFunc(c.Labels, func(l string) bool { return l != None && l != "menu" })
		if offTopic && strings.HasPrefix(c.Got.Intent, "faq.") {
			r.PolicyAnswersOffTopic++
		}
	}
	if len(r.Cases) > 0 {
		r.Accuracy = float64(r.Correct) / float64(len(r.Cases))
	}
	for _, in := range Intents {
		s, ok := stats[in]
		if !ok {
			continue
		}
		if s.Predicted > 0 {
			s.Precision = float64(s.TruePos) / float64(s.Predicted)
		}
		if s.Support > 0 {
			// Recall: the cases of this intent that got one of their acceptable labels.
			hit := 0
			for _, c := range r.Cases {
				if c.Labels[0] == in && c.Correct() {
					hit++
				}
			}
			s.Recall = float64(hit) / float64(s.Support)
		}
		r.PerIntent = append(r.PerIntent, *s)
	}
	for k, n := range confused {
		r.Confused = append(r.Confused, Confusion{Want: k[0], Got: k[1], Count: n})
	}
	sort.Slice(r.Confused, func(i, j int) bool {
		a, b := r.Confused[i], r.Confused[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Want+a.Got < b.Want+b.Got
	})
}

// WriteSummary prints accuracy, per-intent precision/recall/support, the most confused pairs and every
// miss, in the spirit of `rasa test nlu`.
func (r Report) WriteSummary(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "accuracy: %.4f (%d/%d)\n", r.Accuracy, r.Correct, len(r.Cases))
	fmt.Fprintf(bw, "off-topic messages answered with a policy item: %d\n\n", r.PolicyAnswersOffTopic)
	fmt.Fprintf(bw, "%-12s %9s %9s %8s\n", "intent", "precision", "recall", "support")
	for _, s := range r.PerIntent {
		fmt.Fprintf(bw, "%-12s %9.3f %9.3f %8d\n", s.Intent, s.Precision, s.Recall, s.Support)
	}
	if len(r.Confused) > 0 {
		fmt.Fprintf(bw, "\nmost confused (labelled -> predicted):\n")
		for i, c := range r.Confused {
			if i == 10 {
				break
			}
			fmt.Fprintf(bw, "  %-12s -> %-12s %d\n", c.Want, c.Got, c.Count)
		}
	}
	misses := r.Misses()
	fmt.Fprintf(bw, "\nmisses: %d\n", len(misses))
	for _, c := range misses {
		fmt.Fprintf(bw, "  %q want %s got %s (%.2f)\n", c.Text, strings.Join(c.Labels, ","), c.Got.Intent, c.Got.Confidence)
	}
	return bw.Flush()
}
