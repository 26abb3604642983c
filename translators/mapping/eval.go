package mapping

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/edigate/edigate/translators/canonical"
	"github.com/edigate/edigate/translators/x12"
)

// Input is one validated transaction set to translate. The set must come
// from a Validator with KeepSegments.
type Input struct {
	Set           *x12.SetResult
	Partner       string
	CorrelationID string
	File          string // the input file or message, for errors
}

// Error is a translation problem at a position in the input.
type Error struct {
	Partner     string
	File        string
	Offset      int64
	Interchange string
	Group       string
	Set         string
	SetID       string
	Segment     int // ordinal within the set (ST is 1)
	SegmentID   string
	Field       string // canonical field, as lines[2].quantity
	Path        string // the mapping path
	Msg         string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Offset)
	}
	if e.Partner != "" {
		fmt.Fprintf(&b, "partner %s: ", e.Partner)
	}
	if e.Interchange != "" {
		fmt.Fprintf(&b, "ISA %s / GS %s / ST %s ", e.Interchange, e.Group, e.Set)
	}
	if e.Segment > 0 {
		fmt.Fprintf(&b, "segment %d ", e.Segment)
	}
	if e.SegmentID != "" {
		fmt.Fprintf(&b, "(%s) ", e.SegmentID)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "field %s", e.Field)
		if e.Path != "" {
			fmt.Fprintf(&b, " (%s)", e.Path)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found translating one set.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

type evaluator struct {
	tree  tree
	hl    hlIndex
	buf   []byte     // holds the values of documents (see evaluator.text)
	at    []pathStep // the canonical field being filled, for errors
	nodes []node     // loop instances of the lists being filled, as a stack
	slabs []slab     // by group.slab
	strs  []string   // holds the string lists of documents (see evaluator.strings)
	sp    *Spec
	in    Input
	comp  byte
	errs  Errors
	hlOK  bool // hl is built for the tree
}

// Translate maps one set into a canonical document. It returns Errors when
// a required field is missing or a value cannot be converted; the document
// is returned as far as it could be built.
func (sp *Spec) Translate(in Input) (canonical.Document, error) {
	doc, err := canonical.New(sp.Kind)
	if err != nil {
		return nil, err
	}
	s := in.Set
	h := doc.Head()
	h.Partner = in.Partner
	h.Direction = canonical.Inbound
	h.CorrelationID = in.CorrelationID
	h.Source = canonical.Source{Set: s.ID, Version: s.Version, InterchangeControl: s.Interchange, GroupControl: s.Group, TransactionControl: s.Control}
	ev := scratch.Get().(*evaluator)
	id := documentID([]string{in.Partner, sp.Kind, s.Interchange, s.Group, s.Control, s.SenderID})
	h.ID = ev.str(id[:])
	defer func() {
		ev.sp, ev.in, ev.errs, ev.hlOK, ev.tree.set = nil, Input{}, nil, false, nil
		ev.at, ev.nodes = ev.at[:0], ev.nodes[:0]
		scratch.Put(ev)
	}()
	ev.sp, ev.in, ev.comp = sp, in, s.Delimiters.Component
	ev.tree.build(s)
	ev.group(sp.doc, 0, reflect.ValueOf(doc).UnsafePointer())
	if len(ev.errs) > 0 {
		return doc, ev.errs
	}
	return doc, nil
}

// scratch holds evaluators between documents, so that their buffers are
// reused rather than grown anew for every document.
var scratch = sync.Pool{New: func() any { return new(evaluator) }}

// DocumentID derives a stable document id from where the document came
// from, so that translating the same set again gives the same id.
func DocumentID(parts ...string) string {
	id := documentID(parts)
	return string(id[:])
}

// documentID is DocumentID made without allocating: translation makes one
// for every document.
func documentID(parts []string) (id [len("doc_") + 20]byte) {
	var buf [256]byte
	b := buf[:0]
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0x1f)
		}
		b = append(b, p...)
	}
	sum := sha256.Sum256(b)
	copy(id[:], "doc_")
	hex.Encode(id[len("doc_"):], sum[:10])
	return id
}

// fail records a problem with the field name under ev.at.
func (ev *evaluator) fail(n node, seg *x12.Segment, ord int, name string, f *field, format string, args ...any) {
	s := ev.in.Set
	e := &Error{Partner: ev.in.Partner, File: ev.in.File, Offset: s.Offset, Interchange: s.Interchange, Group: s.Group, Set: s.Control, SetID: s.ID, Field: ev.fieldName(name), Msg: fmt.Sprintf(format, args...)}
	if f != nil && f.path != nil {
		e.Path = f.path.Raw
	}
	if seg == nil {
		seg, ord = ev.tree.trigger(n)
	}
	if seg != nil {
		e.Offset, e.Segment, e.SegmentID = seg.Offset, ord, string(seg.ID())
	}
	ev.errs = append(ev.errs, e)
}

func condOK(seg *x12.Segment, conds []Cond) bool {
	for _, c := range conds {
		if !oneOf(c.Values, seg.Element(c.Elem)) {
			return false
		}
	}
	return true
}

// oneOf reports whether v is one of l (contains, without making a string).
func oneOf(l []string, v []byte) bool {
	for _, x := range l {
		if equal(v, x) {
			return true
		}
	}
	return false
}

// equal is string(b) == s for the short IDs, codes and qualifiers that
// mappings compare, without the call that == makes to compare bytes.
func equal[T []byte | string](b T, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(s) {
		if b[i] != s[i] {
			return false
		}
	}
	return true
}

// find looks up the values of all of g's paths under n: the value of the
// path with slot i goes to vals[i], as bytes of the input (no copy); a path
// that finds no segment leaves nil, one that finds an absent element gets
// empty. Each loop instance the paths read is found once and its segments
// are scanned once, each segment handed to the paths that read it: a path
// takes the first segment it reads, as resolve would.
func (ev *evaluator) find(g *group, n node, vals [][]byte) {
	t := &ev.tree
	raw := t.set.Raw
	for i := range g.sources {
		src := &g.sources[i]
		m := n
		if src.loops != nil {
			if m = t.follow(n, src.loops); m == none {
				continue
			}
		}
		left := src.readers
	scan:
		for _, k := range t.segments(m) {
			s := raw[k]
			key := s.Key()
			for j := range src.segs {
				sr := &src.segs[j]
				if sr.key != key {
					continue
				}
				if len(sr.plain) > 0 && vals[sr.plain[0].slot] == nil { // the first such segment
					for _, r := range sr.plain {
						vals[r.slot] = orEmpty(s.Element(r.elem))
					}
					if left -= len(sr.plain); left == 0 {
						break scan
					}
				}
				for k := range sr.readers {
					r := &sr.readers[k]
					if vals[r.slot] != nil {
						continue
					}
					if val := r.path.read(s, ev.comp); val != nil {
						vals[r.slot] = val
						if left--; left == 0 {
							break scan
						}
					}
				}
				break
			}
		}
	}
}

// empty is the value of an absent element, which is not nil: nil is no
// value found.
var empty = []byte{}

// read returns the value p reads in s, a segment with p's ID, or nil when
// s is not one p reads (a condition fails, the qualifier is not there).
func (p *Path) read(s *x12.Segment, comp byte) []byte {
	if !condOK(s, p.Cond) {
		return nil
	}
	if p.Qual != "" {
		for _, q := range p.quals {
			if equal(s.Element(q), p.Qual) {
				return orEmpty(s.Element(q + 1))
			}
		}
		return nil
	}
	el := s.Element(p.Elem)
	if p.Comp > 0 {
		for c := 1; c < p.Comp; c++ {
			k := bytes.IndexByte(el, comp)
			if k < 0 {
				return empty
			}
			el = el[k+1:]
		}
		if k := bytes.IndexByte(el, comp); k >= 0 {
			el = el[:k]
		}
	}
	return orEmpty(el)
}

func orEmpty(b []byte) []byte {
	if b == nil {
		return empty
	}
	return b
}

// resolve finds a path's value under n, as bytes of the input (no copy),
// searching alone. Errors use it to find the segment a value came from.
func (ev *evaluator) resolve(p *Path, n node) (val []byte, seg *x12.Segment, ord int, found bool) {
	t := &ev.tree
	if n = t.follow(n, p.Loops); n == none {
		return nil, nil, 0, false
	}
	for _, k := range t.segments(n) {
		if s := t.set.Raw[k]; s.Key() == p.key {
			if v := p.read(s, ev.comp); v != nil {
				return v, s, int(k) + 1, true
			}
		}
	}
	return nil, nil, 0, false
}

// pathStep is one step of the name of the canonical field being filled:
// a field name or, with index, an element of a list.
type pathStep struct {
	name  string
	index int // > 0: an element of a list
}

// fieldName names the field leaf under ev.at (lines[2].quantity). It is
// built only when an error needs it, so that translating builds no strings
// for names.
func (ev *evaluator) fieldName(leaf string) string {
	var b strings.Builder
	for _, st := range append(ev.at, pathStep{name: leaf}) {
		switch {
		case st.index > 0:
			fmt.Fprintf(&b, "[%d]", st.index)
		case b.Len() == 0:
			b.WriteString(st.name)
		default:
			b.WriteString("." + st.name)
		}
	}
	return b.String()
}

// group fills the fields of g in the struct at base (of type g.typ) from
// the loop instance n.
func (ev *evaluator) group(g *group, n node, base unsafe.Pointer) {
	// The values of the paths are looked up first, all at once, then set
	// field by field in the order of the mapping (the order of errors).
	// They are held on the stack, which spares the garbage collector's
	// write barrier that storing them in ev would cost.
	var local [maxSlots][]byte
	vals := local[:g.slots:g.slots]
	if g.slots > maxSlots {
		vals = make([][]byte, g.slots)
	}
	ev.find(g, n, vals)
	for _, f := range g.fields {
		// Most values are copied as they are: without a call to scalar.
		// String fields, most of the work, are set through their offset in
		// the struct: reflect's Value.FieldByIndex and SetString would cost
		// more than finding and converting the value.
		if f.op == opCopy {
			if raw := vals[f.slot]; printable(raw) && (f.conv == convText || canonicalDecimal(raw)) {
				*(*string)(unsafe.Add(base, f.offset)) = ev.str(raw)
				continue
			}
		}
		switch f.op {
		case opList:
			ev.at = append(ev.at, pathStep{name: f.name})
			ev.list(f, n, reflect.NewAt(g.typ, base).Elem().FieldByIndex(f.index))
			ev.at = ev.at[:len(ev.at)-1]
		case opObject:
			scope := n
			if f.grp.scope != nil {
				if scope = ev.tree.follow(n, f.grp.scope); scope == none {
					continue
				}
			}
			ev.at = append(ev.at, pathStep{name: f.name})
			ev.object(f, g, scope, base)
			ev.at = ev.at[:len(ev.at)-1]
		case opStrings:
			k := 0
			for i := range f.paths {
				if len(trimSpace(vals[f.slot+i])) > 0 {
					k++
				}
			}
			if k == 0 {
				continue
			}
			strs := ev.strings(k)[:0]
			for i := range f.paths {
				if val := trimSpace(vals[f.slot+i]); len(val) > 0 {
					strs = append(strs, ev.str(val))
				}
			}
			if f.direct {
				*(*[]string)(unsafe.Add(base, f.offset)) = strs
			} else {
				reflect.NewAt(g.typ, base).Elem().FieldByIndex(f.index).Set(reflect.ValueOf(strs))
			}
		default:
			s, ok := ev.scalar(f, n, vals)
			switch {
			case !ok:
			case f.direct:
				*(*string)(unsafe.Add(base, f.offset)) = s
			default:
				reflect.NewAt(g.typ, base).Elem().FieldByIndex(f.index).SetString(s)
			}
		}
	}
}

// object fills the struct field f of the struct at base (of type g.typ)
// from the loop instance n, leaving it zero (nil) when no field of the
// struct has a value.
func (ev *evaluator) object(f *field, g *group, n node, base unsafe.Pointer) {
	size := f.grp.typ.Size()
	switch {
	case f.direct && f.kind == reflect.Struct: // in place: the field is zero
		ev.group(f.grp, n, unsafe.Add(base, f.offset))
	case f.direct && f.kind == reflect.Pointer:
		obj, mark := ev.take(f.grp)
		ev.group(f.grp, n, obj)
		if zero(obj, size) {
			ev.give(f.grp, mark)
			return
		}
		*(*unsafe.Pointer)(unsafe.Add(base, f.offset)) = obj
	default:
		obj := reflect.New(f.grp.typ)
		ev.group(f.grp, n, obj.UnsafePointer())
		if obj.Elem().IsZero() {
			return
		}
		if fv := reflect.NewAt(g.typ, base).Elem().FieldByIndex(f.index); fv.Kind() == reflect.Pointer {
			fv.Set(obj)
		} else {
			fv.Set(obj.Elem())
		}
	}
}

// maxSlots is how many path values a group holds on the stack.
const maxSlots = 16

func (ev *evaluator) list(f *field, n node, fv reflect.Value) {
	// The instances go on ev.nodes, above those of the lists being filled
	// around this one, rather than into a slice of their own.
	base := len(ev.nodes)
	switch {
	case f.grp.each != nil:
		parent := ev.tree.follow(n, f.grp.each[:len(f.grp.each)-1])
		if parent != none {
			ev.nodes = ev.tree.children(ev.nodes, parent, &f.grp.each[len(f.grp.each)-1])
		}
	case f.grp.hl != nil:
		if !ev.hlOK {
			ev.hl.build(&ev.tree)
			ev.hlOK = true
		}
		ev.nodes = ev.hl.nearest(&ev.tree, ev.nodes, n, f.grp.hl)
		if len(ev.nodes) == base && f.grp.orSelf {
			ev.nodes = append(ev.nodes, n)
		}
	}
	count := len(ev.nodes) - base
	rules := f.grp.line != nil && (ev.sp.xref != nil || len(ev.sp.uom) > 0)
	out := reflect.MakeSlice(fv.Type(), count, count)
	// Element i is at i*size from the start of the slice's array, within
	// it (i < count): the address reflect's out.Index(i).Addr() would give.
	first, size := out.UnsafePointer(), f.grp.typ.Size()
	for i := range count {
		c := ev.nodes[base+i] // ev.nodes may have moved: lists nested in this one use it too
		ev.at = append(ev.at, pathStep{index: i + 1})
		ev.group(f.grp, c, unsafe.Add(first, uintptr(i)*size))
		if rules {
			ev.lineRules(f.grp.line, out.Index(i), c)
		}
		ev.at = ev.at[:len(ev.at)-1]
	}
	ev.nodes = ev.nodes[:base]
	fv.Set(out)
}

// lineRules applies the item cross-reference and unit conversions to one
// list element that has such fields.
func (ev *evaluator) lineRules(li *lineInfo, elem reflect.Value, n node) {
	if x := ev.sp.xref; x != nil {
		theirs, ours, ok := li.pair(elem, x.partner, x.ours)
		if ok && theirs.String() != "" && ours.String() == "" {
			if mapped, found := x.toOurs[theirs.String()]; found {
				ours.SetString(mapped)
			} else if x.required {
				ev.fail(n, nil, 0, x.partner, nil, "partner item %q is not in the item cross-reference %s", theirs.String(), x.file)
			}
		}
	}
	if li.uom == nil {
		return
	}
	uom := elem.FieldByIndex(li.uom)
	for _, u := range ev.sp.uom {
		if uom.String() != u.from {
			continue
		}
		for _, d := range li.decimals {
			fv := elem.FieldByIndex(d.index)
			if fv.String() == "" {
				continue
			}
			out, err := scaleDecimal(fv.String(), u.factor, d.price)
			if err != nil {
				ev.fail(n, nil, 0, d.name, nil, "converting %s to %s: %v", u.from, u.to, err)
				continue
			}
			fv.SetString(out)
		}
		// Every unit field in the partner's unit follows (uom, ack_uom).
		for _, idx := range li.uoms {
			if fv := elem.FieldByIndex(idx); fv.String() == u.from {
				fv.SetString(u.to)
			}
		}
		break
	}
}

// lineInfo locates, once per element type, the fields the line rules use.
type lineInfo struct {
	byName   map[string][]int
	uom      []int   // the "uom" field
	uoms     [][]int // every field ending in "uom"
	decimals []decimalField
}

type decimalField struct {
	name  string
	index []int
	price bool
}

func newLineInfo(t reflect.Type) *lineInfo {
	li := &lineInfo{byName: map[string][]int{}}
	for name, sf := range jsonFields(t) {
		if sf.Type.Kind() != reflect.String {
			continue
		}
		li.byName[name] = sf.Index
		if name == "uom" {
			li.uom = sf.Index
		}
		if strings.HasSuffix(name, "uom") {
			li.uoms = append(li.uoms, sf.Index)
		}
		if decimalFields[name] {
			li.decimals = append(li.decimals, decimalField{name: name, index: sf.Index, price: strings.Contains(name, "price")})
		}
	}
	return li
}

// pair returns two string fields of elem by JSON name, if both exist.
func (li *lineInfo) pair(elem reflect.Value, a, b string) (reflect.Value, reflect.Value, bool) {
	ia, okA := li.byName[a]
	ib, okB := li.byName[b]
	if !okA || !okB {
		return reflect.Value{}, reflect.Value{}, false
	}
	return elem.FieldByIndex(ia), elem.FieldByIndex(ib), true
}

// jsonFieldValues maps the JSON names of a struct's string fields to them.
func jsonFieldValues(v reflect.Value) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if v.Field(i).Kind() == reflect.String {
			out[name] = v.Field(i)
		}
	}
	return out
}

// scalar returns the value of a string field, if it has one; vals are
// the values of its group's paths.
func (ev *evaluator) scalar(f *field, n node, vals [][]byte) (string, bool) {
	var raw []byte
	switch {
	case len(f.paths) > 1:
		for i := range f.paths { // the first path that has a value
			if raw = trimSpace(vals[f.slot+i]); len(raw) > 0 {
				break
			}
		}
	case f.path != nil:
		raw = trimSpace(vals[f.slot])
	}
	v, err := ev.canonical(f, raw)
	if err != nil {
		seg, ord := ev.locate(f, n, vals)
		ev.fail(n, seg, ord, f.name, f, "%v", err)
		return "", false
	}
	if v == "" {
		if f.required {
			where := "is missing"
			if f.path != nil {
				where = fmt.Sprintf("is missing: no value at %s", f.path.Raw)
			}
			seg, ord := ev.locate(f, n, vals)
			ev.fail(n, seg, ord, f.name, f, "required field %s", where)
		}
		return "", false
	}
	return v, true
}

// locate finds again the segment that the value of a field came from (the
// first of its paths that has a value, else the last), for an error: only
// errors need it, so find does not keep it.
func (ev *evaluator) locate(f *field, n node, vals [][]byte) (*x12.Segment, int) {
	p := f.path
	if len(f.paths) > 1 {
		for i, q := range f.paths {
			if p = q; len(trimSpace(vals[f.slot+i])) > 0 {
				break
			}
		}
	}
	if p == nil {
		return nil, 0
	}
	_, seg, ord, _ := ev.resolve(p, n)
	return seg, ord
}

// trimSpace is bytes.TrimSpace, returning at once the usual value that
// starts and ends with a printable ASCII character.
func trimSpace(b []byte) []byte {
	if len(b) == 0 || printable(b) {
		return b
	}
	return bytes.TrimSpace(b)
}

// printable reports whether b starts and ends with a printable ASCII
// character (so that trimSpace leaves it as it is and it is not empty).
func printable(b []byte) bool {
	return len(b) > 0 && b[0]-'!' <= '~'-'!' && b[len(b)-1]-'!' <= '~'-'!'
}

// canonical converts an X12 value (trimmed) into the canonical form of the
// field: a string that already exists (a code, a constant) or a new one
// made by ev.str.
func (ev *evaluator) canonical(f *field, raw []byte) (string, error) {
	if f.conv == convConst {
		return f.cnst, nil
	}
	if len(raw) == 0 {
		return f.dflt, nil
	}
	switch f.conv {
	case convCodes:
		if v, ok := f.codes.toCanon[string(raw)]; ok {
			return v, nil
		}
		if f.codes.fallback != "" {
			return f.codes.fallback, nil
		}
	case convDate:
		switch {
		case len(raw) == 8 && digitsOnlyBytes(raw) && f.date != "YYMMDD":
			return ev.date("", raw[:4], raw[4:6], raw[6:]), nil
		case len(raw) == 6 && digitsOnlyBytes(raw) && f.date != "CCYYMMDD":
			century := "20"
			if string(raw[:2]) >= "50" {
				century = "19"
			}
			return ev.date(century, raw[:2], raw[2:4], raw[4:]), nil
		}
		_, err := x12DateToISO(string(raw), f.date)
		return "", err
	case convImplied:
		return impliedToDecimal(string(raw), f.decimals)
	case convDecimal:
		if !canonicalDecimal(raw) {
			return normDecimal(string(raw))
		}
	}
	return ev.str(raw), nil
}

// textChunk is the size of the buffers that values are copied into.
const textChunk = 32 << 10

// text returns ev.buf with room for n more bytes. Documents' values are
// carved out of shared buffers, one allocation for many values rather
// than one each. The strings made from a buffer are immutable because
// bytes once appended to it are never written again: a full buffer is left
// to the strings that point into it and a new one is started. A document
// kept alone keeps at most one such buffer alive.
func (ev *evaluator) text(n int) []byte {
	if cap(ev.buf)-len(ev.buf) < n {
		ev.buf = make([]byte, 0, max(n, textChunk))
	}
	return ev.buf
}

// str returns v as a string (see text).
func (ev *evaluator) str(v []byte) string {
	n := len(v)
	if n == 0 {
		return ""
	}
	b := ev.text(n)
	start := len(b)
	dst := b[start : start+n]
	copy(dst, v)
	ev.buf = ev.buf[:start+n] // the same array: no pointer written
	return unsafe.String(unsafe.SliceData(dst), n)
}

// date returns century+year-month-day as a string (see text).
func (ev *evaluator) date(century string, year, month, day []byte) string {
	n := len(century) + len(year) + len(month) + len(day) + 2
	b := ev.text(n)
	start := len(b)
	b = append(b, century...)
	b = append(append(b, year...), '-')
	b = append(append(b, month...), '-')
	ev.buf = append(b, day...)
	return unsafe.String(&ev.buf[start], n)
}

func digitsOnlyBytes(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// canonicalDecimal reports whether b is already a decimal in canonical
// form (what normDecimal would return unchanged).
func canonicalDecimal(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || b[0] == '.' || b[len(b)-1] == '.' || len(b) > 1 && b[0] == '0' && b[1] != '.' {
		return false
	}
	dots := 0
	for _, c := range b {
		switch {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			return false
		}
	}
	return dots <= 1
}

// toCanonical converts an X12 value into the canonical form of the field.
func (f *field) toCanonical(raw string) (string, error) {
	if f.cnst != "" {
		return f.cnst, nil
	}
	if raw == "" {
		return f.dflt, nil
	}
	if f.codes != nil {
		if v, ok := f.codes.toCanon[raw]; ok {
			return v, nil
		}
		if f.codes.fallback != "" {
			return f.codes.fallback, nil
		}
		return raw, nil
	}
	switch {
	case f.date != "" || f.def != nil && f.def.Type == "DT":
		return x12DateToISO(raw, f.date)
	case f.decimals > 0:
		return impliedToDecimal(raw, f.decimals)
	case f.decimal:
		return normDecimal(raw)
	}
	return raw, nil
}

func x12DateToISO(raw, format string) (string, error) {
	switch {
	case len(raw) == 8 && digitsOnly(raw) && format != "YYMMDD":
		return raw[:4] + "-" + raw[4:6] + "-" + raw[6:], nil
	case len(raw) == 6 && digitsOnly(raw) && format != "CCYYMMDD":
		century := "20"
		if raw[:2] >= "50" {
			century = "19"
		}
		return century + raw[:2] + "-" + raw[2:4] + "-" + raw[4:], nil
	}
	want := format
	if want == "" {
		want = "CCYYMMDD or YYMMDD"
	}
	return "", fmt.Errorf("%q is not a date (%s)", raw, want)
}

// hlIndex links the HL loop instances of a set by HL01/HL02. It is built
// again for every set that needs it, reusing its memory.
type hlIndex struct {
	nodes []hlNode
	index []int32          // loop instance -> its position in nodes, -1 for none
	byNum []int32          // HL01 as a number (no leading zero) -> position+1
	byID  map[string]int32 // other HL01s -> position
	tops  hlList
}

// hlNode is one HL instance; its hierarchy children form a list in
// document order.
type hlNode struct {
	n     node
	ord   int    // the ordinal of its HL segment
	level []byte // HL03
	kids  hlList
	next  int32 // the next child of the same parent, -1 for none
}

type hlList struct{ first, last int32 }

func (l *hlList) add(ix *hlIndex, i int32) {
	if l.first < 0 {
		l.first = i
	} else {
		ix.nodes[l.last].next = i
	}
	l.last = i
}

func (ix *hlIndex) build(t *tree) {
	ix.nodes = ix.nodes[:0]
	for n := range node(len(t.nodes)) {
		if hl, ord := t.trigger(n); hl != nil && t.loopID(n) == "HL" {
			ix.nodes = append(ix.nodes, hlNode{n: n, ord: ord, level: hl.Element(3), kids: hlList{-1, -1}, next: -1})
		}
	}
	// Loop instances are in the order they began, which is document order;
	// sort in case it is not.
	slices.SortStableFunc(ix.nodes, func(a, b hlNode) int { return cmp.Compare(a.ord, b.ord) })
	if ix.byID == nil {
		ix.byID = map[string]int32{}
	}
	ix.index = slices.Grow(ix.index[:0], len(t.nodes))[:len(t.nodes)]
	for i := range ix.index {
		ix.index[i] = -1
	}
	clear(ix.byID)
	clear(ix.byNum)
	ix.byNum = ix.byNum[:0]
	ix.tops = hlList{-1, -1}
	for i := range ix.nodes {
		h := &ix.nodes[i]
		hl, _ := t.trigger(h.n)
		at := int32(i)
		ix.index[h.n] = at
		ix.setID(hl.Element(1), at)
		if p, ok := ix.lookup(hl.Element(2)); ok && len(hl.Element(2)) > 0 {
			ix.nodes[p].kids.add(ix, at)
		} else {
			ix.tops.add(ix, at)
		}
	}
}

// hlNumber reads an HL01 such as "17" as a number; IDs that are not plain
// numbers (or have leading zeros, which make them different IDs) are not.
func hlNumber(id []byte) (int, bool) {
	if len(id) == 0 || len(id) > 6 || id[0] == '0' && len(id) > 1 {
		return 0, false
	}
	v := 0
	for _, c := range id {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// setID records that HL01 id is the instance at position at (the last one
// wins, as in a map).
func (ix *hlIndex) setID(id []byte, at int32) {
	k, ok := hlNumber(id)
	if !ok {
		ix.byID[string(id)] = at
		return
	}
	for len(ix.byNum) <= k {
		ix.byNum = append(ix.byNum, 0)
	}
	ix.byNum[k] = at + 1
}

func (ix *hlIndex) lookup(id []byte) (int32, bool) {
	if k, ok := hlNumber(id); ok {
		if k < len(ix.byNum) && ix.byNum[k] > 0 {
			return ix.byNum[k] - 1, true
		}
		return 0, false
	}
	at, ok := ix.byID[string(id)]
	return at, ok
}

// nearest appends to out the HL instances of the given levels below scope
// (the root or an HL instance), without descending into a match.
func (ix *hlIndex) nearest(t *tree, out []node, scope node, levels []string) []node {
	start := ix.tops
	if t.loopID(scope) == "HL" {
		at := ix.index[scope]
		if at < 0 {
			return out
		}
		start = ix.nodes[at].kids
	}
	return ix.walk(out, start.first, levels)
}

func (ix *hlIndex) walk(out []node, i int32, levels []string) []node {
	for ; i >= 0; i = ix.nodes[i].next {
		h := &ix.nodes[i]
		if oneOf(levels, h.level) {
			out = append(out, h.n)
			continue
		}
		out = ix.walk(out, h.kids.first, levels)
	}
	return out
}
