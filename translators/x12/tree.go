package x12

// LoopInstance is one occurrence of a loop in a transaction set.
type LoopInstance struct {
	ID     string // loop ID from the schema (N1, PO1, HL, …)
	Parent int32  // the instance it sits in (0: the set itself)
}

// Node is one loop instance of a transaction set: the segments that belong
// to it directly, and the loop instances nested in it. The root node is the
// set itself (LoopID "").
type Node struct {
	LoopID   string
	Segments []*Segment
	Ordinals []int // the ordinal within the set (ST is 1) of each of Segments
	Children []*Node
	Parent   *Node

	count int // segments, while Tree builds
}

// Trigger returns the node's first segment (the loop's trigger), or nil.
func (n *Node) Trigger() *Segment {
	if len(n.Segments) == 0 {
		return nil
	}
	return n.Segments[0]
}

// Tree arranges the segments a Validator kept (KeepSegments) into loop
// instances, following the placement the validator made with the schema.
// Sets without a schema give a flat root.
func Tree(s *SetResult) *Node {
	var b TreeBuilder
	return b.Build(s)
}

// TreeBuilder builds trees reusing its memory: the tree of one Build is
// valid until the next.
type TreeBuilder struct {
	root  Node
	nodes []Node // loop instance n is nodes[n-1]
	owner []*Node
	segs  []*Segment
	ords  []int
}

// Build arranges s's segments into loop instances (see Tree).
func (b *TreeBuilder) Build(s *SetResult) *Node {
	if cap(b.nodes) < len(s.Loops) {
		b.nodes = make([]Node, len(s.Loops))
	}
	b.nodes = b.nodes[:len(s.Loops)]
	root := &b.root
	*root = Node{Children: root.Children[:0]}
	// Link the loop instances, in the order they began.
	for i, in := range s.Loops {
		n := &b.nodes[i]
		parent := root
		if in.Parent > 0 {
			parent = &b.nodes[in.Parent-1]
		}
		*n = Node{LoopID: in.ID, Parent: parent, Children: n.Children[:0]}
		parent.Children = append(parent.Children, n)
	}
	if cap(b.owner) < len(s.Raw) {
		b.owner = make([]*Node, len(s.Raw))
		b.segs = make([]*Segment, len(s.Raw))
		b.ords = make([]int, len(s.Raw))
	}
	owner := b.owner[:len(s.Raw)]
	// Count the segments of each instance.
	for i := range s.Raw {
		n := root
		if i < len(s.Owner) && s.Owner[i] > 0 {
			n = &b.nodes[s.Owner[i]-1]
		}
		owner[i] = n
		n.count++
	}
	// Second pass: hand each node its part of two shared slices.
	segs, ords := b.segs[:len(s.Raw)], b.ords[:len(s.Raw)]
	next := 0
	carve := func(n *Node) {
		n.Segments, n.Ordinals = segs[next:next:next+n.count], ords[next:next:next+n.count]
		next += n.count
	}
	carve(root)
	for i := range b.nodes {
		carve(&b.nodes[i])
	}
	for i, seg := range s.Raw {
		n := owner[i]
		n.Segments = append(n.Segments, seg)
		n.Ordinals = append(n.Ordinals, i+1)
	}
	return root
}

// Structure returns the schema's structure: the root entry, whose Body is
// the set's segments and loops in order.
func (s *Schema) Structure() *Entry { return s.root }

// Def returns the dictionary definition of a segment used in this set.
func (s *Schema) Def(id string) (*SegmentDef, bool) {
	d, ok := s.segments[id]
	return d, ok
}
