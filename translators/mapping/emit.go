package mapping

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/edigate/edigate/translators/canonical"
	"github.com/edigate/edigate/translators/x12"
)

// outNode is one loop instance of the set being written.
type outNode struct {
	entry *x12.Entry
	segs  []*outSeg
	kids  []*outNode
}

type outSeg struct {
	id  string
	els [][]string // elements, each as its components
}

func (s *outSeg) get(i int) string {
	if i > len(s.els) {
		return ""
	}
	return strings.Join(s.els[i-1], "")
}

func (s *outSeg) set(i, comp int, v string) {
	for len(s.els) < i {
		s.els = append(s.els, nil)
	}
	if comp == 0 {
		s.els[i-1] = []string{v}
		return
	}
	c := s.els[i-1]
	for len(c) < comp {
		c = append(c, "")
	}
	c[comp-1] = v
	s.els[i-1] = c
}

type emitter struct {
	sp     *Spec
	errs   Errors
	doc    canonical.Document
	delims x12.Delimiters
}

// Emit writes a canonical document as the segments of one transaction set,
// ST to SE, in the order of the set's schema; each segment is its ID then
// its elements, composites joined with d's component separator. A value
// that holds one of d's separators is an error: X12 has no escape.
func (sp *Spec) Emit(doc canonical.Document, control string, d x12.Delimiters) ([][]string, error) {
	comp := d.Component
	if doc.Head().Kind != sp.Kind {
		return nil, fmt.Errorf("mapping %s translates %s documents, not %s", sp.Files[len(sp.Files)-1], sp.Kind, doc.Head().Kind)
	}
	root := &outNode{entry: sp.schema.Structure()}
	st := &outSeg{id: "ST"}
	st.set(1, 0, sp.Set)
	st.set(2, 0, control)
	root.segs = append(root.segs, st)
	em := &emitter{sp: sp, doc: doc, delims: d}
	for _, a := range sp.constants {
		em.set(a.path, root, a.value, "outbound constant")
	}
	v := reflect.ValueOf(doc).Elem()
	em.group(sp.doc, root, v, "")
	for _, c := range sp.counts {
		em.set(c.path, root, strconv.Itoa(v.FieldByIndex(c.index).Len()), "count of "+c.field)
	}
	if len(em.errs) > 0 {
		return nil, em.errs
	}
	var out [][]string
	em.walk(root, &out, comp)
	out = append(out, []string{"SE", strconv.Itoa(len(out) + 1), control})
	return out, nil
}

// reserved reports (as an error of field) whether v holds one of the
// interchange's separators, which would cut the value in two in the X12
// written, or a control character.
func (em *emitter) reserved(field, v string) bool {
	d := em.delims
	var found []string
	for _, sep := range []struct {
		s, name string
	}{
		{string(d.Element), "element separator"},
		{string(d.Component), "component separator"},
		{string(d.Repetition), "repetition separator"},
		{d.Segment, "segment terminator"},
	} {
		if sep.s != "" && sep.s != "\x00" && strings.Contains(v, sep.s) { // "\x00": no such separator
			found = append(found, fmt.Sprintf("%q (the %s)", sep.s, sep.name))
		}
	}
	if i := strings.IndexFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }); i >= 0 {
		em.fail(field, "%q holds the control character %q, which X12 does not carry (a line break would be read as part of the layout): change the value at its source", v, v[i])
		return true
	}
	if len(found) == 0 {
		return false
	}
	em.fail(field, "%q holds %s of this partner's interchanges, and X12 has no escape: change the value at its source", v, strings.Join(found, " and "))
	return true
}

func (em *emitter) fail(field, format string, args ...any) {
	h := em.doc.Head()
	msg := fmt.Sprintf(format, args...)
	if h.ID != "" {
		msg += " (document " + h.ID + ")"
	}
	em.errs = append(em.errs, &Error{Partner: h.Partner, Field: field, Msg: msg})
}

func (em *emitter) walk(n *outNode, out *[][]string, comp byte) {
	for _, b := range n.entry.Body {
		if b.Seg == "SE" && n.entry.Loop == "" {
			continue
		}
		if b.Seg != "" {
			for _, s := range n.segs {
				if s.id != b.Seg {
					continue
				}
				row := []string{s.id}
				for _, e := range s.els {
					row = append(row, joinComponents(e, comp))
				}
				for len(row) > 1 && row[len(row)-1] == "" {
					row = row[:len(row)-1]
				}
				*out = append(*out, row)
			}
			continue
		}
		for _, k := range n.kids {
			if k.entry == b {
				em.walk(k, out, comp)
			}
		}
	}
}

func joinComponents(c []string, comp byte) string {
	n := len(c)
	for n > 0 && c[n-1] == "" {
		n--
	}
	return strings.Join(c[:n], string(comp))
}

func (em *emitter) group(g *group, n *outNode, v reflect.Value, prefix string) {
	for _, f := range g.fields {
		fv := v.FieldByIndex(f.index)
		name := prefix + f.name
		switch {
		case f.grp != nil && fv.Kind() == reflect.Slice:
			if f.grp.hl != nil {
				if fv.Len() > 0 {
					em.fail(name, "writing hierarchical (HL) sets is not supported")
				}
				continue
			}
			for i := 0; i < fv.Len(); i++ {
				parent := n
				for _, st := range f.grp.each[:len(f.grp.each)-1] {
					parent = em.loop(parent, st, false)
				}
				child := em.loop(parent, f.grp.each[len(f.grp.each)-1], true)
				// Work on a copy: the caller's document stays as it was.
				elem := reflect.New(fv.Type().Elem()).Elem()
				elem.Set(fv.Index(i))
				p := fmt.Sprintf("%s[%d].", name, i+1)
				em.lineRules(elem, p)
				em.group(f.grp, child, elem, p)
			}
		case f.grp != nil:
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				fv = fv.Elem()
			}
			if fv.IsZero() {
				continue
			}
			scope := n
			for _, st := range f.grp.scope {
				scope = em.loop(scope, st, false)
			}
			em.group(f.grp, scope, fv, name+".")
		case fv.Kind() == reflect.Slice:
			for i, p := range f.paths[:min(len(f.paths), fv.Len())] {
				// Values are trimmed as translation trims what it reads.
				if v := strings.TrimSpace(fv.Index(i).String()); !em.reserved(fmt.Sprintf("%s[%d]", name, i+1), v) {
					em.set(p, n, v, name)
				}
			}
			if fv.Len() > len(f.paths) {
				em.fail(name, "%d values but the mapping has room for %d", fv.Len(), len(f.paths))
			}
		default:
			if f.path == nil || f.cnst != "" {
				continue
			}
			val := strings.TrimSpace(fv.String()) // as translation trims what it reads
			if val == "" {
				val = f.dflt
			}
			if val == "" {
				if f.required {
					em.fail(name, "required field is empty")
				}
				continue
			}
			x, err := f.toX12(val)
			if err != nil {
				em.fail(name, "%v", err)
				continue
			}
			if x == "" {
				continue
			}
			if em.reserved(name, x) {
				continue
			}
			em.set(f.path, n, x, name)
		}
	}
}

// lineRules reverses the cross-reference and unit conversions on a copy of
// one list element before it is written.
func (em *emitter) lineRules(elem reflect.Value, prefix string) {
	if !elem.CanSet() {
		return
	}
	fields := jsonFieldValues(elem)
	if x := em.sp.xref; x != nil {
		theirs, okT := fields[x.partner]
		ours, okO := fields[x.ours]
		if okT && okO && theirs.String() == "" && ours.String() != "" {
			if mapped, ok := x.toTheirs[ours.String()]; ok {
				theirs.SetString(mapped)
			} else if x.required {
				em.fail(prefix+x.ours, "our item %q is not in the item cross-reference %s", ours.String(), x.file)
			}
		}
	}
	// A unit conversion inbound (CS of 12 -> EA) is reversed outbound when
	// the quantity is a whole number of the partner's unit.
	uom, ok := fields["uom"]
	if !ok {
		return
	}
	for _, u := range em.sp.uom {
		if uom.String() != u.to {
			continue
		}
		converted := map[string]string{}
		whole := true
		for name, fv := range fields {
			if fv.String() == "" || !decimalFields[name] {
				continue
			}
			isPrice := strings.Contains(name, "price")
			out, err := scaleDecimal(fv.String(), u.factor, !isPrice)
			if err != nil {
				em.fail(prefix+name, "converting %s to %s: %v", u.to, u.from, err)
				return
			}
			if !isPrice && strings.Contains(out, ".") {
				whole = false
			}
			converted[name] = out
		}
		if whole {
			for name, v := range converted {
				fields[name].SetString(v)
			}
			for name, fv := range fields {
				if strings.HasSuffix(name, "uom") && fv.String() == u.to {
					fv.SetString(u.from)
				}
			}
		}
		return
	}
}

// toX12 converts a canonical value into the X12 form of the field.
func (f *field) toX12(v string) (string, error) {
	if f.codes != nil {
		if c, ok := f.codes.toX12[v]; ok {
			return c, nil
		}
		if v == f.codes.fallback {
			// "unknown" or "other" stands for codes we could not name:
			// there is nothing to write back.
			return "", nil
		}
		return v, nil
	}
	switch {
	case f.date != "" || f.def != nil && f.def.Type == "DT":
		if len(v) != 10 || v[4] != '-' || v[7] != '-' || !digitsOnly(v[:4]+v[5:7]+v[8:]) {
			return "", fmt.Errorf("%q is not a date YYYY-MM-DD", v)
		}
		d := v[:4] + v[5:7] + v[8:]
		if f.date == "YYMMDD" || f.date == "" && f.def != nil && f.def.Max == 6 {
			return d[2:], nil
		}
		return d, nil
	case f.decimals > 0:
		return decimalToImplied(v, f.decimals)
	case f.decimal:
		return normDecimal(v) // as translation reads it: 00 is 0, +5 is 5
	}
	return v, nil
}

// loop finds (or, with fresh or when none matches, creates) the child loop
// instance of n selected by st.
func (em *emitter) loop(n *outNode, st Step, fresh bool) *outNode {
	if !fresh {
		for _, k := range n.kids {
			if k.entry.Loop == st.Loop && len(k.segs) > 0 && outCondOK(k.segs[0], st.Cond) {
				return k
			}
		}
	}
	entry := findLoop(n.entry, st.Loop)
	k := &outNode{entry: entry}
	trig := &outSeg{id: entry.Body[0].Seg}
	for _, c := range st.Cond {
		trig.set(c.Elem, 0, c.Values[0])
	}
	k.segs = append(k.segs, trig)
	n.kids = append(n.kids, k)
	return k
}

func outCondOK(s *outSeg, conds []Cond) bool {
	for _, c := range conds {
		if !contains(c.Values, s.get(c.Elem)) {
			return false
		}
	}
	return true
}

// set writes v at path p under n, creating loops and segments as needed.
func (em *emitter) set(p *Path, n *outNode, v, field string) {
	for _, st := range p.Loops {
		n = em.loop(n, st, false)
	}
	var seg *outSeg
	for _, s := range n.segs {
		if s.id == p.Seg && outCondOK(s, p.Cond) {
			seg = s
			break
		}
	}
	if seg == nil && len(p.Cond) > 0 {
		// A segment of that ID whose condition elements are still empty
		// (a loop's trigger written by another field) takes the condition.
		for _, s := range n.segs {
			if s.id != p.Seg {
				continue
			}
			free := true
			for _, c := range p.Cond {
				if s.get(c.Elem) != "" {
					free = false
				}
			}
			if free {
				seg = s
				for _, c := range p.Cond {
					seg.set(c.Elem, 0, c.Values[0])
				}
				break
			}
		}
	}
	if seg == nil {
		seg = &outSeg{id: p.Seg}
		for _, c := range p.Cond {
			seg.set(c.Elem, 0, c.Values[0])
		}
		n.segs = append(n.segs, seg)
	}
	if p.Qual == "" {
		seg.set(p.Elem, p.Comp, v)
		return
	}
	for _, q := range p.quals {
		if seg.get(q) == p.Qual {
			seg.set(q+1, 0, v)
			return
		}
	}
	for _, q := range p.quals {
		if seg.get(q) == "" && seg.get(q+1) == "" {
			seg.set(q, 0, p.Qual)
			seg.set(q+1, 0, v)
			return
		}
	}
	em.fail(field, "no free qualifier/value pair left in %s for %s", p.Seg, p.Raw)
}
