package nlu

// Group puts alike messages together, as the model sees them: each message joins the first group
// whose first message is at least min similar to it (cosine, see Similarity), else starts a group.
// Groups and their members keep the order of texts. A message without a known word is a group of
// its own.
func (m *Model) Group(texts []string, min float64) [][]int {
	type head struct {
		x    sparse
		norm float32
		idx  int // index in out
	}
	var out [][]int
	var heads []head
	for i, t := range texts {
		x := m.vectorize(m.fz.extract(normalize(t)))
		n := vecNorm(x)
		joined := false
		if len(x) > 0 {
			for _, h := range heads {
				if float64(dot(x, h.x)/(n*h.norm)) >= min {
					out[h.idx] = append(out[h.idx], i)
					joined = true
					break
				}
			}
		}
		if joined {
			continue
		}
		out = append(out, []int{i})
		if len(x) > 0 {
			heads = append(heads, head{x, n, len(out) - 1})
		}
	}
	return out
}
