// Package nlu is the privacy desk's intent classifier. It reads the training phrases under
// locales/nlu (ja.tsv, en.tsv) at start, builds a TF-IDF representation of words (kagome base forms
// for Japanese, stemmed words for English), word bigrams and character n-grams, trains a multinomial
// logistic regression on it, and checks every answer against the nearest training phrases and a few
// high-precision rules. A message it is not sure about is classified as "none": on a privacy desk a
// wrong answer is worse than none.
package nlu

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/enemane/privacybot/locales"
)

// Intents lists every intent the classifier can return, in a fixed order.
var Intents = []string{
	"faq.1", "faq.2", "faq.3", "faq.4", "faq.5", "faq.6", "faq.7", "faq.8", "faq.9", "faq.10",
	"faq.11", "faq.12", "faq.13", "optout", "optin", "disclosure", "complaint", "human", "menu", "none",
}

// None is the intent of anything the desk does not handle (or is not sure about).
const None = "none"

// Result is the classifier's reading of one message.
type Result struct {
	Intent     string  // one of Intents
	Confidence float64 // 0..1: the model's probability for Intent
	Topic      string  // for faq intents, a finer knowledge-base topic ID when the text names one ("5.id")
	// Also lists further topics of the same intent the text asks about too, in the order answered.
	Also []string
	Lang string // "ja" or "en": the language the text is written in
	// Guess is the model's own best intent and GuessConf its probability, before the checks that may
	// turn the answer into "none": what the desk's review inbox shows staff as the bot's guess.
	Guess     string
	GuessConf float64
}

// Model is a trained classifier. It is immutable after Load and safe for concurrent Classify calls.
type Model struct {
	fz      featurizer
	vocab   map[string]int32
	groupOf []uint8   // feature index -> group
	idf     []float32 // feature index -> inverse document frequency
	classes []string
	classOf map[string]int
	w       []float32 // weights, feature-major: w[f*len(classes)+c]
	b       []float32 // biases per class
	docs    []sparse  // training vectors, for the nearest-neighbour check
	docCls  []int
	post    [][]posting // feature -> training documents holding it
	docNorm []float32
	// docTopic lists the taught phrases given a topic, in document order.
	docTopic []docTopic
}

// docTopic is the topic staff gave a taught phrase (training document doc).
type docTopic struct {
	doc   int
	topic string
}

// posting is one training document's weight for a feature.
type posting struct {
	doc int32
	v   float32
}

// entry is one nonzero of a sparse vector.
type entry struct {
	i int32
	v float32
}

type sparse []entry

// example is one labelled training phrase.
type example struct {
	intent, text string
}

// Example is a phrase staff taught the desk: Text is to be read as Intent (one of Intents). Topic,
// for a faq intent, names the knowledge-base topic that answers it; messages close to the phrase
// are then answered with that topic (see Classify).
type Example struct {
	Intent, Topic, Text string
}

// Load builds the model from the training phrases embedded in package locales (nlu/ja.tsv and
// nlu/en.tsv). The first call in a process also loads the IPA dictionary (most of the time spent).
func Load() (*Model, error) { return Train(nil) }

// Train builds the model from the embedded training phrases and the phrases staff taught. Taught
// phrases with an unknown intent or no text are an error (the caller checks them when they are
// taught). The result does not depend on the order of taught.
func Train(taught []Example) (*Model, error) {
	var exs []example
	for _, name := range []string{"nlu/ja.tsv", "nlu/en.tsv"} {
		f, err := locales.FS.Open(name)
		if err != nil {
			return nil, fmt.Errorf("nlu: %w", err)
		}
		more, err := readExamples(f, name)
		f.Close()
		if err != nil {
			return nil, err
		}
		exs = append(exs, more...)
	}
	taught = slices.Clone(taught)
	slices.SortFunc(taught, func(a, b Example) int {
		return strings.Compare(a.Intent+"\x00"+a.Topic+"\x00"+a.Text, b.Intent+"\x00"+b.Topic+"\x00"+b.Text)
	})
	var topics []docTopic
	for _, t := range taught {
		if !slices.Contains(Intents, t.Intent) || strings.TrimSpace(t.Text) == "" {
			return nil, fmt.Errorf("nlu: taught phrase %q: want a known intent and text, got %q", t.Text, t.Intent)
		}
		if t.Topic != "" {
			topics = append(topics, docTopic{len(exs), t.Topic})
		}
		exs = append(exs, example{t.Intent, t.Text})
	}
	m, err := train(exs, len(exs)-len(taught))
	if err != nil {
		return nil, err
	}
	m.docTopic = topics
	return m, nil
}

// readExamples parses "intent<TAB>phrase" lines; blank lines and lines starting with # are skipped.
func readExamples(r io.Reader, name string) ([]example, error) {
	var out []example
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		intent, text, ok := strings.Cut(line, "\t")
		intent, text = strings.TrimSpace(intent), strings.TrimSpace(text)
		if !ok || text == "" || !slices.Contains(Intents, intent) {
			return nil, fmt.Errorf("nlu: %s:%d: want known intent<TAB>phrase, got %q", name, n, line)
		}
		out = append(out, example{intent, text})
	}
	if err := sc.Err(); err != nil && err != fs.ErrClosed {
		return nil, fmt.Errorf("nlu: %s: %w", name, err)
	}
	return out, nil
}

// train builds a model from exs, of which the first nBase are the shipped training phrases and the
// rest were taught (see fit).
func train(exs []example, nBase int) (*Model, error) {
	lx, err := loadLexicon()
	if err != nil {
		return nil, fmt.Errorf("nlu: tokenizer: %w", err)
	}
	m := &Model{fz: featurizer{lex: lx}, vocab: map[string]int32{}, classes: Intents, classOf: map[string]int{}}
	for i, c := range m.classes {
		m.classOf[c] = i
	}
	// Vocabulary and document frequencies.
	raw := make([]features, len(exs))
	var df []int
	for i, ex := range exs {
		raw[i] = m.fz.extract(normalize(ex.text))
		seen := map[int32]bool{}
		for g, fs := range raw[i] {
			for _, s := range fs {
				id, ok := m.vocab[s]
				if !ok {
					id = int32(len(m.vocab))
					m.vocab[s] = id
					m.groupOf = append(m.groupOf, uint8(g))
					df = append(df, 0)
				}
				if !seen[id] {
					seen[id] = true
					df[id]++
				}
			}
		}
	}
	n := float64(len(exs))
	m.idf = make([]float32, len(df))
	for i, d := range df {
		m.idf[i] = float32(math.Log((1+n)/(1+float64(d))) + 1)
	}
	m.docs = make([]sparse, len(exs))
	m.docCls = make([]int, len(exs))
	m.post = make([][]posting, len(df))
	m.docNorm = make([]float32, len(exs))
	for i, ex := range exs {
		m.docs[i] = m.vectorize(raw[i])
		m.docCls[i] = m.classOf[ex.intent]
		m.docNorm[i] = vecNorm(m.docs[i])
		for _, e := range m.docs[i] {
			m.post[e.i] = append(m.post[e.i], posting{int32(i), e.v})
		}
	}
	m.fit(len(df), nBase)
	return m, nil
}

// vectorize weights known features by sublinear TF × IDF, normalises each group to unit length and
// scales it by its group weight.
func (m *Model) vectorize(f features) sparse {
	var v sparse
	for g, fs := range f {
		counts := map[int32]int{}
		var order []int32
		for _, s := range fs {
			if id, ok := m.vocab[s]; ok {
				if counts[id] == 0 {
					order = append(order, id)
				}
				counts[id]++
			}
		}
		start := len(v)
		var norm float64
		for _, id := range order {
			x := (1 + float32(math.Log(float64(counts[id])))) * m.idf[id]
			v = append(v, entry{id, x})
			norm += float64(x * x)
		}
		if norm == 0 {
			continue
		}
		scale := groupWeight[g] / float32(math.Sqrt(norm))
		for k := start; k < len(v); k++ {
			v[k].v *= scale
		}
	}
	return v
}

// Training settings of the softmax regression (variables only so that tests can compare settings).
var (
	fitEpochs         = 20
	fitRate   float32 = 0.5
	fitL2     float32 = 1e-5
)

// fit trains the softmax regression with AdaGrad on shuffled examples (fixed seed: the model is the
// same on every start). Only the first nBase documents (the shipped phrases) are shuffled; the taught
// ones follow them in every epoch, in their own fixed order. So the shipped phrases are seen in the
// same order whatever was taught, and a taught phrase moves the model by its own gradient steps
// (and the small shift its words make in the document frequencies) only: a shuffle of all
// documents would reorder everything at each phrase taught, and messages near a decision boundary
// anywhere could change answer (measured: one taught phrase about smart meters turned a complaint
// in a blind set into a policy answer).
func (m *Model) fit(nFeat, nBase int) {
	epochs, rate, l2 := fitEpochs, fitRate, fitL2
	k := len(m.classes)
	m.w = make([]float32, nFeat*k)
	m.b = make([]float32, k)
	gw := make([]float32, nFeat*k)
	gb := make([]float32, k)
	order := make([]int, len(m.docs))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(4, 13))
	p := make([]float32, k)
	for ep := 0; ep < epochs; ep++ {
		rng.Shuffle(nBase, func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, d := range order {
			x := m.docs[d]
			m.scores(x, p)
			softmax(p)
			p[m.docCls[d]] -= 1 // gradient of the loss w.r.t. the scores
			for c := 0; c < k; c++ {
				g := p[c]
				gb[c] += g * g
				m.b[c] -= rate * g / float32(math.Sqrt(float64(gb[c]))+1e-6)
			}
			for _, e := range x {
				row := int(e.i) * k
				for c := 0; c < k; c++ {
					g := p[c]*e.v + l2*m.w[row+c]
					gw[row+c] += g * g
					m.w[row+c] -= rate * g / (float32(math.Sqrt(float64(gw[row+c]))) + 1e-6)
				}
			}
		}
	}
}

// scores writes w·x + b into out.
func (m *Model) scores(x sparse, out []float32) {
	k := len(m.classes)
	copy(out, m.b)
	for _, e := range x {
		row := m.w[int(e.i)*k : int(e.i)*k+k]
		for c := range row {
			out[c] += row[c] * e.v
		}
	}
}

// softmax turns scores into probabilities in place.
func softmax(p []float32) {
	mx := p[0]
	for _, v := range p {
		mx = max(mx, v)
	}
	var sum float32
	for i, v := range p {
		p[i] = float32(math.Exp(float64(v - mx)))
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
}

// neighbours returns, per class, the highest cosine similarity between x and a training phrase of that
// class. Vectors are sums of unit group vectors, so the dot product is divided by both norms.
func (m *Model) neighbours(x sparse) []float32 {
	dots := make([]float32, len(m.docs))
	for _, e := range x {
		for _, p := range m.post[e.i] {
			dots[p.doc] += e.v * p.v
		}
	}
	best := make([]float32, len(m.classes))
	nx := vecNorm(x)
	for d, dot := range dots {
		if dot == 0 {
			continue
		}
		s := dot / (nx * m.docNorm[d])
		if c := m.docCls[d]; s > best[c] {
			best[c] = s
		}
	}
	return best
}

func vecNorm(v sparse) float32 {
	var s float64
	for _, e := range v {
		s += float64(e.v * e.v)
	}
	return float32(math.Sqrt(s)) + 1e-9
}
