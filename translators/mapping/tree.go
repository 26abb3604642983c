package mapping

import "github.com/edigate/edigate/translators/x12"

// node is a loop instance of the set being translated, by its position in
// tree.nodes: 0 is the set itself, i > 0 is the set's Loops[i-1].
type node = int32

// tree arranges the segments a Validator kept (SetResult.Raw) into their
// loop instances (SetResult.Owner and Loops). It links instances and
// segments by position rather than by pointer: building it writes no
// pointer, so it costs no write barrier, and the garbage collector finds
// nothing in it to scan. Its memory is reused from one set to the next.
type tree struct {
	set   *x12.SetResult
	nodes []treeNode
	segs  []int32 // positions in set.Raw, grouped by instance (treeNode.start)
}

type treeNode struct {
	start, end  int32 // the instance's own segments are segs[start:end], in order
	first, next node  // its first child and its next sibling (0: none)
	last        node  // its last child
}

// build arranges s's segments (see tree).
func (t *tree) build(s *x12.SetResult) {
	t.set = s
	n := len(s.Loops) + 1
	if cap(t.nodes) < n {
		t.nodes = make([]treeNode, n, n+n/2)
	}
	t.nodes = t.nodes[:n]
	clear(t.nodes)
	// Link the loop instances, in the order they began.
	for i, in := range s.Loops {
		p, c := &t.nodes[in.Parent], node(i+1)
		if p.first == 0 {
			p.first = c
		} else {
			t.nodes[p.last].next = c
		}
		p.last = c
	}
	// Count the segments of each instance, then hand each its part of segs.
	owner := s.Owner[:min(len(s.Owner), len(s.Raw))]
	t.nodes[0].end = int32(len(s.Raw) - len(owner)) // segments with no owner sit in the set itself
	for _, o := range owner {
		t.nodes[o].end++
	}
	at := int32(0)
	for i := range t.nodes {
		nd := &t.nodes[i]
		nd.start, at = at, at+nd.end
		nd.end = nd.start
	}
	if cap(t.segs) < len(s.Raw) {
		t.segs = make([]int32, len(s.Raw), len(s.Raw)+len(s.Raw)/2)
	}
	t.segs = t.segs[:len(s.Raw)]
	for i := range s.Raw {
		o := node(0)
		if i < len(owner) {
			o = owner[i]
		}
		nd := &t.nodes[o]
		t.segs[nd.end] = int32(i)
		nd.end++
	}
}

// loopID returns the loop ID of n ("" for the set itself).
func (t *tree) loopID(n node) string {
	if n == 0 {
		return ""
	}
	return t.set.Loops[n-1].ID
}

// segments returns the positions in set.Raw of n's own segments.
func (t *tree) segments(n node) []int32 {
	nd := &t.nodes[n]
	return t.segs[nd.start:nd.end]
}

// trigger returns n's first segment and its ordinal in the set (ST is 1),
// or nil when n has no segment.
func (t *tree) trigger(n node) (*x12.Segment, int) {
	nd := &t.nodes[n]
	if nd.start == nd.end {
		return nil, 0
	}
	k := t.segs[nd.start]
	return t.set.Raw[k], int(k) + 1
}

// children appends to out the loop instances directly under n that match st.
func (t *tree) children(out []node, n node, st *Step) []node {
	for c := t.nodes[n].first; c != 0; c = t.nodes[c].next {
		if s, _ := t.trigger(c); s != nil && equal(t.set.Loops[c-1].ID, st.Loop) && condOK(s, st.Cond) {
			out = append(out, c)
		}
	}
	return out
}

// none is no loop instance.
const none node = -1

// follow walks loop steps, taking the first match at each (none: no
// match). Where a condition lists several values (N1[N101=SE|RI|SU]), they
// are tried in the order listed: SE is preferred to RI wherever each
// stands in the file.
func (t *tree) follow(n node, steps []Step) node {
	for i := range steps {
		if n = t.child(n, &steps[i]); n == none {
			return none
		}
	}
	return n
}

// child returns the first loop instance under n that matches st, trying
// the values of a multi-valued first condition in the order listed.
func (t *tree) child(n node, st *Step) node {
	loops := t.set.Loops
	if len(st.Cond) == 0 || len(st.Cond[0].Values) < 2 {
		for c := t.nodes[n].first; c != 0; c = t.nodes[c].next {
			if equal(loops[c-1].ID, st.Loop) {
				if s, _ := t.trigger(c); s != nil && condOK(s, st.Cond) {
					return c
				}
			}
		}
		return none
	}
	first := st.Cond[0]
	for _, v := range first.Values {
		for c := t.nodes[n].first; c != 0; c = t.nodes[c].next {
			if equal(loops[c-1].ID, st.Loop) {
				if s, _ := t.trigger(c); s != nil && equal(s.Element(first.Elem), v) && condOK(s, st.Cond[1:]) {
					return c
				}
			}
		}
	}
	return none
}
