package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/enemane/privacybot/flows/nlu"
)

// nluLine is one classified message as the nlu subcommand prints it (JSON Lines).
type nluLine struct {
	Text       string  `json:"text"`
	Intent     string  `json:"intent"`
	Confidence float64 `json:"confidence"`
	Topic      string  `json:"topic"`
	// Also lists further topics the message asks about; Guess and GuessConf are the model's own best
	// intent before its checks (what the review inbox shows when the answer is "none").
	Also      []string `json:"also,omitempty"`
	Guess     string   `json:"guess"`
	GuessConf float64  `json:"guessConfidence"`
	Lang      string   `json:"lang"`
}

// runNLU is the "nlu" subcommand.
//
//	privacybot nlu               classify one message a line from stdin, one JSON object a line out
//	privacybot nlu eval FILE.tsv  accuracy, per-intent precision/recall, confusions and misses on a
//	                              "text<TAB>labels" file (labels comma-separated)
func runNLU(args []string, stdin io.Reader, stdout io.Writer) error {
	m, err := nlu.Load()
	if err != nil {
		return err
	}
	switch {
	case len(args) == 0:
		return classifyLines(m, stdin, stdout)
	case args[0] == "eval" && len(args) == 2:
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		rep, err := nlu.Eval(m, f)
		if err != nil {
			return err
		}
		return rep.WriteSummary(stdout)
	default:
		return errors.New("usage: privacybot nlu [eval FILE.tsv]")
	}
}

func classifyLines(m *nlu.Model, in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	bw := bufio.NewWriter(out)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for sc.Scan() {
		r := m.Classify(sc.Text())
		if err := enc.Encode(nluLine{Text: sc.Text(), Intent: r.Intent, Confidence: r.Confidence, Topic: r.Topic, Also: r.Also, Guess: r.Guess, GuessConf: r.GuessConf, Lang: r.Lang}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("nlu: reading stdin: %w", err)
	}
	return bw.Flush()
}
