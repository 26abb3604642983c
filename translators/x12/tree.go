package x12

// LoopRef names one loop instance a segment sits in.
type LoopRef struct {
	ID       string // loop ID from the schema (N1, PO1, HL, …)
	Instance int    // instance number, unique within the set
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
	root := &Node{}
	// First pass: create the loop instances and count their segments.
	var byInst []*Node // loop instances are numbered 1, 2, 3… in order
	var pool []Node
	count := map[*Node]int{}
	rootCount := 0
	owner := make([]*Node, len(s.Raw))
	for i := range s.Raw {
		n := root
		if i < len(s.Loops) {
			for _, ref := range s.Loops[i] {
				for len(byInst) <= ref.Instance {
					byInst = append(byInst, nil)
				}
				child := byInst[ref.Instance]
				if child == nil {
					if len(pool) == cap(pool) {
						pool = make([]Node, 0, 64)
					}
					pool = append(pool, Node{LoopID: ref.ID, Parent: n})
					child = &pool[len(pool)-1]
					n.Children = append(n.Children, child)
					byInst[ref.Instance] = child
				}
				n = child
			}
		}
		owner[i] = n
		if n == root {
			rootCount++
		} else {
			count[n]++
		}
	}
	// Second pass: hand each node its part of two shared slices.
	segs := make([]*Segment, len(s.Raw))
	ords := make([]int, len(s.Raw))
	next := 0
	carve := func(n *Node, c int) {
		n.Segments, n.Ordinals = segs[next:next:next+c], ords[next:next:next+c]
		next += c
	}
	carve(root, rootCount)
	for _, n := range byInst {
		if n != nil {
			carve(n, count[n])
		}
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
