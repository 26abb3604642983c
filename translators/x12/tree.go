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
	byInst := map[int]*Node{}
	for i, seg := range s.Raw {
		n := root
		if i < len(s.Loops) {
			for _, ref := range s.Loops[i] {
				child, ok := byInst[ref.Instance]
				if !ok {
					child = &Node{LoopID: ref.ID, Parent: n}
					n.Children = append(n.Children, child)
					byInst[ref.Instance] = child
				}
				n = child
			}
		}
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
