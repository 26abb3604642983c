package mapping

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/edigate/edigate/translators/x12"
)

// Path addresses X12 data relative to a loop instance:
//
//	BEG03                  element 3 of the first BEG
//	DTM02[DTM01=002]       element 2 of the first DTM whose DTM01 is 002
//	N1[N101=ST|BT]/N102    in the first N1 loop whose N101 is ST or BT, element N102
//	PID/PID05              in the first PID loop, element PID05
//	PO1(VP)                in PO1, the value that follows the qualifier VP
//	REF04-2                component 2 of the composite element REF04 (SEGNN-C)
//
// Every step but the last selects a loop; the last addresses an element.
type Path struct {
	Raw   string
	Loops []Step
	Seg   string
	Cond  []Cond
	Elem  int
	Comp  int
	Qual  string

	quals []int  // for Qual paths: the qualifier positions of Seg (from the schema)
	key   uint32 // Seg as x12.Segment.Key gives it, for comparing IDs quickly
}

// Step selects loop instances by loop ID and conditions on their trigger.
type Step struct {
	Loop string
	Cond []Cond
}

// Cond holds when element Elem of segment Seg is one of Values.
type Cond struct {
	Seg    string
	Elem   int
	Values []string
}

func (p *Path) String() string { return p.Raw }

// ParsePath parses the path syntax above. Errors say which character is wrong.
func ParsePath(s string) (*Path, error) {
	p := &Path{Raw: s}
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty path")
	}
	steps := strings.Split(s, "/")
	for i, st := range steps {
		last := i == len(steps)-1
		if !last {
			loop, cond, err := parseSelector(st)
			if err != nil {
				return nil, fmt.Errorf("path %q, step %d: %w", s, i+1, err)
			}
			p.Loops = append(p.Loops, Step{Loop: loop, Cond: cond})
			continue
		}
		if err := p.parseElement(st); err != nil {
			return nil, fmt.Errorf("path %q: %w", s, err)
		}
	}
	return p, nil
}

// ParseLoopPath parses a path of loop steps only ("N1[N101=ST]", "HL[HL03=S]").
func ParseLoopPath(s string) ([]Step, error) {
	var out []Step
	for i, st := range strings.Split(s, "/") {
		loop, cond, err := parseSelector(st)
		if err != nil {
			return nil, fmt.Errorf("loop path %q, step %d: %w", s, i+1, err)
		}
		out = append(out, Step{Loop: loop, Cond: cond})
	}
	return out, nil
}

func isSegID(s string) bool {
	if len(s) < 2 || len(s) > 3 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// parseSelector parses "ID" or "ID[COND,COND]".
func parseSelector(s string) (string, []Cond, error) {
	id, rest, hasCond := strings.Cut(s, "[")
	if !isSegID(id) {
		return "", nil, fmt.Errorf("%q is not a loop or segment ID (2 or 3 capital letters and digits)", id)
	}
	if !hasCond {
		return id, nil, nil
	}
	if !strings.HasSuffix(rest, "]") {
		return "", nil, fmt.Errorf("condition %q has no closing ]", "["+rest)
	}
	conds, err := parseConds(strings.TrimSuffix(rest, "]"))
	return id, conds, err
}

func parseConds(s string) ([]Cond, error) {
	var out []Cond
	for _, c := range strings.Split(s, ",") {
		lhs, rhs, ok := strings.Cut(strings.TrimSpace(c), "=")
		if !ok {
			return nil, fmt.Errorf("condition %q is not ELEMENT=VALUE (such as N101=ST)", c)
		}
		seg, el, comp, err := parseElementRef(lhs)
		if err != nil {
			return nil, fmt.Errorf("condition %q: %w", c, err)
		}
		if comp != 0 {
			return nil, fmt.Errorf("condition %q: conditions take whole elements, not components", c)
		}
		vals := strings.Split(rhs, "|")
		for _, v := range vals {
			if v == "" {
				return nil, fmt.Errorf("condition %q has an empty value", c)
			}
		}
		out = append(out, Cond{Seg: seg, Elem: el, Values: vals})
	}
	return out, nil
}

// parseElementRef parses "SEGNN" or "SEGNN-C".
func parseElementRef(s string) (seg string, el, comp int, err error) {
	ref, c, hasComp := strings.Cut(s, "-")
	if len(ref) < 4 || len(ref) > 5 {
		return "", 0, 0, fmt.Errorf("%q is not an element reference such as BEG03 or N101", s)
	}
	seg = ref[:len(ref)-2]
	if !isSegID(seg) {
		return "", 0, 0, fmt.Errorf("%q is not an element reference such as BEG03 or N101", s)
	}
	el, err = strconv.Atoi(ref[len(ref)-2:])
	if err != nil || el < 1 {
		return "", 0, 0, fmt.Errorf("%q: %q is not an element position 01..99", s, ref[len(ref)-2:])
	}
	if hasComp {
		comp, err = strconv.Atoi(c)
		if err != nil || comp < 1 {
			return "", 0, 0, fmt.Errorf("%q: component %q is not a number from 1", s, c)
		}
	}
	return seg, el, comp, nil
}

func (p *Path) parseElement(s string) error {
	// PO1(VP): the value after a qualifier.
	if i := strings.IndexByte(s, '('); i > 0 {
		if !strings.HasSuffix(s, ")") {
			return fmt.Errorf("%q has no closing )", s)
		}
		p.Seg, p.Qual = s[:i], s[i+1:len(s)-1]
		if !isSegID(p.Seg) {
			return fmt.Errorf("%q is not a segment ID", p.Seg)
		}
		p.key = segKey(p.Seg)
		if p.Qual == "" {
			return fmt.Errorf("%q names no qualifier", s)
		}
		return nil
	}
	ref, rest, hasCond := strings.Cut(s, "[")
	seg, el, comp, err := parseElementRef(ref)
	if err != nil {
		return err
	}
	p.Seg, p.Elem, p.Comp = seg, el, comp
	p.key = segKey(seg)
	if hasCond {
		if !strings.HasSuffix(rest, "]") {
			return fmt.Errorf("condition %q has no closing ]", "["+rest)
		}
		p.Cond, err = parseConds(strings.TrimSuffix(rest, "]"))
		if err != nil {
			return err
		}
		for _, c := range p.Cond {
			if c.Seg != seg {
				return fmt.Errorf("condition on %s%02d cannot select a %s segment", c.Seg, c.Elem, seg)
			}
		}
	}
	return nil
}

// segKey packs a segment ID the way x12.Segment.Key does.
func segKey(id string) uint32 {
	s := x12.Segment{Elements: [][]byte{[]byte(id)}}
	return s.Key()
}
