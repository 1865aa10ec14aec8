package nlu

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/enemane/privacybot/locales"
)

var (
	modelOnce sync.Once
	model     *Model
	modelErr  error
)

// testModel loads the model once per test binary.
func testModel(t testing.TB) *Model {
	t.Helper()
	modelOnce.Do(func() { model, modelErr = Load() })
	if modelErr != nil {
		t.Fatalf("Load: %v", modelErr)
	}
	return model
}

// findShared walks up from the package directory to find shared/nlu/<name>, which sits next to the
// repository (../../../shared from here) or inside it.
func findShared(name string) (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(dir, "shared", "nlu", name)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func evalFile(t *testing.T, path string, floor float64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Eval(testModel(t), f)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := rep.WriteSummary(&sb); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s\n%s", path, sb.String())
	if rep.Accuracy < floor {
		t.Errorf("accuracy %.3f below %.2f", rep.Accuracy, floor)
	}
	if rep.PolicyAnswersOffTopic != 0 {
		t.Errorf("%d off-topic messages got a policy answer", rep.PolicyAnswersOffTopic)
	}
}

func TestEvalVisible(t *testing.T) {
	path, ok := findShared("visible.tsv")
	if !ok {
		t.Skip("shared/nlu/visible.tsv not found above the package directory; the visible test set is not checked out")
	}
	evalFile(t, path, 0.95)
}

func TestEvalHeldOut(t *testing.T) {
	evalFile(t, filepath.Join("testdata", "heldout.tsv"), 0.95)
}

// TestEvalBlind runs the two blind sets written before any tuning (testdata/blind2.tsv, used to study
// misses, and testdata/blind3.tsv, never tuned on): realistic customer messages in both languages,
// including off-topic questions that must never get a policy answer.
func TestEvalBlind(t *testing.T) {
	for _, name := range []string{"blind2.tsv", "blind3.tsv"} {
		t.Run(name, func(t *testing.T) { evalFile(t, filepath.Join("testdata", name), 0.90) })
	}
}

// readTexts returns the normalised texts of a "text<TAB>labels" file.
func readTexts(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text, _, _ := strings.Cut(sc.Text(), "\t")
		if text != "" && !strings.HasPrefix(text, "#") {
			out[trainKey(text)] = true
		}
	}
	return out
}

// trainKey is the form under which two phrases count as the same line: normalised, kana folded,
// punctuation and spaces dropped.
func trainKey(s string) string {
	var b strings.Builder
	for _, r := range foldKana(normalize(s)) {
		if hasLetters(string(r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestTrainingDisjointFromTestSets enforces that no line of the visible test set, of the held-out set
// or of the blind sets is a training phrase, after normalisation.
func TestTrainingDisjointFromTestSets(t *testing.T) {
	sets := map[string]map[string]bool{
		"heldout": readTexts(t, filepath.Join("testdata", "heldout.tsv")),
		"blind2":  readTexts(t, filepath.Join("testdata", "blind2.tsv")),
		"blind3":  readTexts(t, filepath.Join("testdata", "blind3.tsv")),
	}
	if path, ok := findShared("visible.tsv"); ok {
		sets["visible"] = readTexts(t, path)
	}
	for _, name := range []string{"nlu/ja.tsv", "nlu/en.tsv"} {
		f, err := locales.FS.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		exs, err := readExamples(f, name)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range exs {
			for set, texts := range sets {
				if texts[trainKey(ex.text)] {
					t.Errorf("%s: training phrase %q is in the %s test set", name, ex.text, set)
				}
			}
		}
	}
}
