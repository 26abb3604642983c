package x12

// LoopInstance is one occurrence of a loop in a transaction set.
type LoopInstance struct {
	ID     string // loop ID from the schema (N1, PO1, HL, …)
	Parent int32  // the instance it sits in (0: the set itself)
}

// Structure returns the schema's structure: the root entry, whose Body is
// the set's segments and loops in order.
func (s *Schema) Structure() *Entry { return s.root }

// Def returns the dictionary definition of a segment used in this set.
func (s *Schema) Def(id string) (*SegmentDef, bool) {
	d, ok := s.segments[id]
	return d, ok
}
