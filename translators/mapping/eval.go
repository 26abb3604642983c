package mapping

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

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
	buf   []byte
	pend  []pending
	trees x12.TreeBuilder
	sp    *Spec
	in    Input
	comp  byte
	errs  Errors
	hl    *hlIndex
	root  *x12.Node
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
	h.ID = DocumentID(in.Partner, sp.Kind, s.Interchange, s.Group, s.Control, s.SenderID)
	ev := scratch.Get().(*evaluator)
	defer func() {
		clear(ev.pend[:cap(ev.pend)])
		*ev = evaluator{buf: ev.buf[:0], pend: ev.pend[:0], trees: ev.trees}
		scratch.Put(ev)
	}()
	ev.sp, ev.in, ev.comp, ev.root = sp, in, s.Delimiters.Component, ev.trees.Build(s)
	ev.group(sp.doc, ev.root, reflect.ValueOf(doc).Elem(), nil)
	ev.flush()
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
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x1f")))
	return "doc_" + hex.EncodeToString(sum[:10])
}

func (ev *evaluator) fail(n *x12.Node, seg *x12.Segment, ord int, at *fieldPath, f *field, format string, args ...any) {
	s := ev.in.Set
	e := &Error{Partner: ev.in.Partner, File: ev.in.File, Offset: s.Offset, Interchange: s.Interchange, Group: s.Group, Set: s.Control, SetID: s.ID, Field: at.String(), Msg: fmt.Sprintf(format, args...)}
	if f != nil && f.path != nil {
		e.Path = f.path.Raw
	}
	if seg == nil && n != nil && len(n.Segments) > 0 {
		seg, ord = n.Segments[0], n.Ordinals[0]
	}
	if seg != nil {
		e.Offset, e.Segment, e.SegmentID = seg.Offset, ord, string(seg.ID())
	}
	ev.errs = append(ev.errs, e)
}

func condOK(seg *x12.Segment, conds []Cond) bool {
	for _, c := range conds {
		v := string(seg.Element(c.Elem))
		if !contains(c.Values, v) {
			return false
		}
	}
	return true
}

// children returns the loop instances directly under n that match st.
func children(n *x12.Node, st Step) []*x12.Node {
	var out []*x12.Node
	for _, c := range n.Children {
		if c.LoopID == st.Loop && len(c.Segments) > 0 && condOK(c.Segments[0], st.Cond) {
			out = append(out, c)
		}
	}
	return out
}

// follow walks loop steps, taking the first match at each. Where a
// condition lists several values (N1[N101=SE|RI|SU]), they are tried in the
// order listed: SE is preferred to RI wherever each stands in the file.
func follow(n *x12.Node, steps []Step) *x12.Node {
	for _, st := range steps {
		if n = child(n, st); n == nil {
			return nil
		}
	}
	return n
}

// child returns the first loop instance under n that matches st, trying
// the values of a multi-valued first condition in the order listed.
func child(n *x12.Node, st Step) *x12.Node {
	if len(st.Cond) == 0 || len(st.Cond[0].Values) < 2 {
		for _, c := range n.Children {
			if c.LoopID == st.Loop && len(c.Segments) > 0 && condOK(c.Segments[0], st.Cond) {
				return c
			}
		}
		return nil
	}
	first := st.Cond[0]
	for _, v := range first.Values {
		for _, c := range n.Children {
			if c.LoopID == st.Loop && len(c.Segments) > 0 && string(c.Segments[0].Element(first.Elem)) == v && condOK(c.Segments[0], st.Cond[1:]) {
				return c
			}
		}
	}
	return nil
}

// resolve finds a path's value under n, as bytes of the input (no copy).
func (ev *evaluator) resolve(p *Path, n *x12.Node) (val []byte, seg *x12.Segment, ord int, found bool) {
	n = follow(n, p.Loops)
	if n == nil {
		return nil, nil, 0, false
	}
	for i, s := range n.Segments {
		if string(s.ID()) != p.Seg || !condOK(s, p.Cond) {
			continue
		}
		if p.Qual != "" {
			for _, q := range p.quals {
				if string(s.Element(q)) == p.Qual {
					return s.Element(q + 1), s, n.Ordinals[i], true
				}
			}
			continue
		}
		el := s.Element(p.Elem)
		if p.Comp > 0 {
			for c := 1; c < p.Comp; c++ {
				k := bytes.IndexByte(el, ev.comp)
				if k < 0 {
					return nil, s, n.Ordinals[i], true
				}
				el = el[k+1:]
			}
			if k := bytes.IndexByte(el, ev.comp); k >= 0 {
				el = el[:k]
			}
		}
		return el, s, n.Ordinals[i], true
	}
	return nil, nil, 0, false
}

// pending is a string field whose value waits in the evaluator's buffer:
// a document's values become one string, not one allocation each.
type pending struct {
	fv         reflect.Value
	start, end int
}

// flush sets the pending fields from the buffer.
func (ev *evaluator) flush() {
	if len(ev.pend) == 0 {
		return
	}
	all := string(ev.buf)
	for _, p := range ev.pend {
		p.fv.SetString(all[p.start:p.end])
	}
	ev.buf, ev.pend = ev.buf[:0], ev.pend[:0]
}

// fieldPath names a canonical field (lines[2].quantity) only when an error
// needs it, so that translating builds no strings for names.
type fieldPath struct {
	parent *fieldPath
	name   string
	index  int // > 0: an element of a list
}

func (p *fieldPath) String() string {
	if p == nil {
		return ""
	}
	s := p.parent.String()
	switch {
	case p.index > 0:
		return fmt.Sprintf("%s[%d]", s, p.index)
	case s == "":
		return p.name
	}
	return s + "." + p.name
}

func (ev *evaluator) group(g *group, n *x12.Node, v reflect.Value, at *fieldPath) {
	for _, f := range g.fields {
		fv := v.FieldByIndex(f.index)
		switch {
		case f.grp != nil && fv.Kind() == reflect.Slice:
			ev.list(f, n, fv, &fieldPath{parent: at, name: f.name})
		case f.grp != nil:
			scope := n
			if f.grp.scope != nil {
				if scope = follow(n, f.grp.scope); scope == nil {
					continue
				}
			}
			st := fv.Type()
			if st.Kind() == reflect.Pointer {
				st = st.Elem()
			}
			obj := reflect.New(st)
			before := len(ev.pend)
			ev.group(f.grp, scope, obj.Elem(), &fieldPath{parent: at, name: f.name})
			if len(ev.pend) == before && obj.Elem().IsZero() {
				continue
			}
			if fv.Kind() == reflect.Pointer {
				fv.Set(obj)
			} else {
				fv.Set(obj.Elem())
			}
		case fv.Kind() == reflect.Slice:
			var vals []string
			for _, p := range f.paths {
				if val, _, _, _ := ev.resolve(p, n); len(bytes.TrimSpace(val)) > 0 {
					vals = append(vals, string(bytes.TrimSpace(val)))
				}
			}
			if len(vals) > 0 {
				fv.Set(reflect.ValueOf(vals))
			}
		default:
			ev.scalar(f, n, fv, at)
		}
	}
}

func (ev *evaluator) list(f *field, n *x12.Node, fv reflect.Value, at *fieldPath) {
	var nodes []*x12.Node
	switch {
	case f.grp.each != nil:
		parent := follow(n, f.grp.each[:len(f.grp.each)-1])
		if parent != nil {
			nodes = children(parent, f.grp.each[len(f.grp.each)-1])
		}
	case f.grp.hl != nil:
		if ev.hl == nil {
			ev.hl = buildHL(ev.root)
		}
		nodes = ev.hl.nearest(n, f.grp.hl)
		if len(nodes) == 0 && f.grp.orSelf {
			nodes = []*x12.Node{n}
		}
	}
	out := reflect.MakeSlice(fv.Type(), len(nodes), len(nodes))
	for i, c := range nodes {
		elem := out.Index(i)
		item := &fieldPath{parent: at, index: i + 1}
		ev.group(f.grp, c, elem, item)
		if f.grp.line != nil && (ev.sp.xref != nil || len(ev.sp.uom) > 0) {
			ev.flush() // the rules read the line's values
			ev.lineRules(f.grp.line, elem, c, item)
		}
	}
	fv.Set(out)
}

// lineRules applies the item cross-reference and unit conversions to one
// list element that has such fields.
func (ev *evaluator) lineRules(li *lineInfo, elem reflect.Value, n *x12.Node, at *fieldPath) {
	if x := ev.sp.xref; x != nil {
		theirs, ours, ok := li.pair(elem, x.partner, x.ours)
		if ok && theirs.String() != "" && ours.String() == "" {
			if mapped, found := x.toOurs[theirs.String()]; found {
				ours.SetString(mapped)
			} else if x.required {
				ev.fail(n, nil, 0, &fieldPath{parent: at, name: x.partner}, nil, "partner item %q is not in the item cross-reference %s", theirs.String(), x.file)
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
				ev.fail(n, nil, 0, &fieldPath{parent: at, name: d.name}, nil, "converting %s to %s: %v", u.from, u.to, err)
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

func (ev *evaluator) scalar(f *field, n *x12.Node, fv reflect.Value, at *fieldPath) {
	var raw []byte
	var seg *x12.Segment
	var ord int
	switch {
	case len(f.paths) > 1:
		for _, p := range f.paths { // the first path that has a value
			if raw, seg, ord, _ = ev.resolve(p, n); len(bytes.TrimSpace(raw)) > 0 {
				break
			}
		}
	case f.path != nil:
		raw, seg, ord, _ = ev.resolve(f.path, n)
	}
	raw = bytes.TrimSpace(raw)
	start := len(ev.buf)
	buf, lit, appended, err := f.appendCanonical(ev.buf, raw)
	ev.buf = buf
	if err != nil {
		ev.fail(n, seg, ord, &fieldPath{parent: at, name: f.name}, f, "%v", err)
		return
	}
	if appended && len(buf) > start {
		ev.pend = append(ev.pend, pending{fv: fv, start: start, end: len(buf)})
		return
	}
	if lit == "" && f.required {
		where := "is missing"
		if f.path != nil {
			where = fmt.Sprintf("is missing: no value at %s", f.path.Raw)
		}
		ev.fail(n, seg, ord, &fieldPath{parent: at, name: f.name}, f, "required field %s", where)
		return
	}
	fv.SetString(lit)
}

// appendCanonical converts an X12 value into the canonical form of the
// field: either a string that already exists (a code, a constant) or bytes
// appended to buf.
func (f *field) appendCanonical(buf, raw []byte) (out []byte, lit string, appended bool, err error) {
	switch {
	case f.cnst != "":
		return buf, f.cnst, false, nil
	case len(raw) == 0:
		return buf, f.dflt, false, nil
	case f.codes != nil:
		if v, ok := f.codes.toCanon[string(raw)]; ok {
			return buf, v, false, nil
		}
		if f.codes.fallback != "" {
			return buf, f.codes.fallback, false, nil
		}
		return append(buf, raw...), "", true, nil
	case f.date != "" || f.def != nil && f.def.Type == "DT":
		switch {
		case len(raw) == 8 && digitsOnlyBytes(raw) && f.date != "YYMMDD":
			return append(append(append(append(append(buf, raw[:4]...), '-'), raw[4:6]...), '-'), raw[6:]...), "", true, nil
		case len(raw) == 6 && digitsOnlyBytes(raw) && f.date != "CCYYMMDD":
			century := "20"
			if string(raw[:2]) >= "50" {
				century = "19"
			}
			return append(append(append(append(append(append(buf, century...), raw[:2]...), '-'), raw[2:4]...), '-'), raw[4:]...), "", true, nil
		}
		_, err := x12DateToISO(string(raw), f.date)
		return buf, "", false, err
	case f.decimals > 0:
		v, err := impliedToDecimal(string(raw), f.decimals)
		return buf, v, false, err
	case f.decimal:
		if canonicalDecimal(raw) {
			return append(buf, raw...), "", true, nil
		}
		v, err := normDecimal(string(raw))
		return buf, v, false, err
	}
	return append(buf, raw...), "", true, nil
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

// hlIndex links HL loop instances by HL01/HL02.
type hlIndex struct {
	kids  map[*x12.Node][]*x12.Node // hierarchy children, in document order
	tops  []*x12.Node
	level map[*x12.Node]string
}

func buildHL(root *x12.Node) *hlIndex {
	ix := &hlIndex{kids: map[*x12.Node][]*x12.Node{}, level: map[*x12.Node]string{}}
	byID := map[string]*x12.Node{}
	var all []*x12.Node
	var walk func(n *x12.Node)
	walk = func(n *x12.Node) {
		for _, c := range n.Children {
			if c.LoopID == "HL" && len(c.Segments) > 0 {
				all = append(all, c)
			}
			walk(c)
		}
	}
	walk(root)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Ordinals[0] < all[j].Ordinals[0] })
	for _, n := range all {
		hl := n.Segments[0]
		byID[string(hl.Element(1))] = n
		ix.level[n] = string(hl.Element(3))
		if p, ok := byID[string(hl.Element(2))]; ok && len(hl.Element(2)) > 0 {
			ix.kids[p] = append(ix.kids[p], n)
		} else {
			ix.tops = append(ix.tops, n)
		}
	}
	return ix
}

// nearest returns the HL instances of the given levels below scope (the
// root or an HL instance), without descending into a match.
func (ix *hlIndex) nearest(scope *x12.Node, levels []string) []*x12.Node {
	start := ix.tops
	if scope.LoopID == "HL" {
		start = ix.kids[scope]
	}
	var out []*x12.Node
	var walk func(ns []*x12.Node)
	walk = func(ns []*x12.Node) {
		for _, n := range ns {
			if contains(levels, ix.level[n]) {
				out = append(out, n)
				continue
			}
			walk(ix.kids[n])
		}
	}
	walk(start)
	return out
}
