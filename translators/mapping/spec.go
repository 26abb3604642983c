// Package mapping translates X12 transaction sets into canonical documents
// and back, driven by mapping files (YAML). A mapping names, for each
// canonical field, where it lives in the X12 set; the same mapping drives
// both directions. Partner mappings extend a default and override only what
// differs.
package mapping

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/edigate/edigate/translators/canonical"
	"github.com/edigate/edigate/translators/x12"
)

// SpecError is a problem in a mapping file, with its file, line and column.
type SpecError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Spec is a compiled mapping for one transaction set and version.
type Spec struct {
	Files   []string // the files it was built from, base first
	Kind    string
	Set     string
	Version string

	codes     map[string]*codeTable
	doc       *group
	xref      *xref
	uom       []uomConversion
	constants []assign
	counts    []countRule
	schema    *x12.Schema
	docType   reflect.Type
}

type codeTable struct {
	name     string
	toCanon  map[string]string
	toX12    map[string]string
	fallback string // "*" entry: canonical value for unlisted codes ("" = pass through)
}

type group struct {
	each   []Step    // array: one element per loop instance
	line   *lineInfo // array elements: where the line rules act (nil: no rules)
	hl     []string  // array: one element per HL instance of these levels (nearest)
	orSelf bool      // hl array: use the scope itself when no such level exists
	scope  []Step    // object: the loop instance holding its fields
	entry  *x12.Entry
	fields []*field
	typ    reflect.Type // the struct the fields are in
	slice  reflect.Type // []typ, for a struct a pointer field points to
	slab   int          // the evaluator's slab of typ (see evaluator.take)
	at     pos

	// The paths of the fields, arranged by the loop instance they read
	// (see evaluator.find); each path's value goes to its slot.
	sources []source
	slots   int
}

// source is the loop instance some of a group's paths read: the group's
// own, or the one its loop steps lead to.
type source struct {
	loops   []Step       // from the group's loop instance (none: that instance)
	segs    []segReaders // by segment ID, in order of first use
	readers int          // in all of segs
}

// segReaders are the paths that read one segment ID of a source.
type segReaders struct {
	key     uint32        // the segment ID, as x12.Segment.Key gives it
	plain   []plainReader // paths that read an element of the first such segment
	readers []reader      // the others: with a condition, a qualifier or a component
}

// plainReader is a path that reads element elem, with no condition.
type plainReader struct {
	slot, elem int
}

// reader is a path that reads the first segment it says it reads.
type reader struct {
	slot int
	path *Path
}

type field struct {
	name     string
	index    []int
	typ      reflect.Type
	kind     reflect.Kind
	offset   uintptr // of the field within the group's struct (see direct)
	direct   bool    // the field is at offset: no pointer on the way
	conv     conversion
	path     *Path
	paths    []*Path // for []string fields
	grp      *group
	codes    *codeTable
	date     string // CCYYMMDD or YYMMDD ("" = as the element type says)
	decimals int    // implied decimals (-1: none)
	decimal  bool   // a canonical decimal field
	def      *x12.ElementDef
	dflt     string
	cnst     string
	required bool
	at       pos
	slot     int // the value of path, or of each of paths from here on (see group.sources)
	op       operation
}

// operation is how a field is filled, decided once per field.
type operation uint8

const (
	opString  operation = iota // a string: its value converted (evaluator.scalar)
	opCopy                     // a string at offset: its one path's value as it is, or a decimal
	opStrings                  // a []string: the values of its paths
	opObject                   // a struct: a group
	opList                     // a list of structs: a group per loop instance
)

func (f *field) operation() operation {
	switch {
	case f.grp != nil && f.kind == reflect.Slice:
		return opList
	case f.grp != nil:
		return opObject
	case f.kind == reflect.Slice:
		return opStrings
	case f.direct && f.path != nil && len(f.paths) <= 1 && (f.conv == convText || f.conv == convDecimal):
		return opCopy
	}
	return opString
}

type assign struct {
	path  *Path
	value string
	entry *x12.Entry
}

type countRule struct {
	path  *Path
	field string
	index []int
}

type uomConversion struct {
	from, to, factor string
}

type pos struct {
	file      string
	line, col int
}

func (p pos) errorf(format string, args ...any) *SpecError {
	return &SpecError{File: p.file, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)}
}

// Source is one mapping file's content.
type Source struct {
	Name string // shown in errors
	Data []byte
	Dir  string // where files named in it (item cross-references) are found
}

// FileReader reads files named by a mapping (item cross-reference CSVs).
type FileReader func(dir, name string) ([]byte, error)

// Compile builds a Spec from a base mapping and overlays (partner
// mappings), each overriding only what it names.
func Compile(reg *x12.Registry, read FileReader, sources ...Source) (*Spec, error) {
	if len(sources) == 0 {
		return nil, fmt.Errorf("no mapping files")
	}
	files := map[*yaml.Node]string{}
	dirs := map[*yaml.Node]string{}
	var merged *yaml.Node
	sp := &Spec{}
	for _, src := range sources {
		var doc yaml.Node
		dec := yaml.NewDecoder(bytes.NewReader(src.Data))
		if err := dec.Decode(&doc); err != nil {
			return nil, yamlError(src.Name, err)
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			return nil, &SpecError{File: src.Name, Line: 1, Col: 1, Msg: "a mapping file is a YAML mapping (kind, set, version, document, …)"}
		}
		root := doc.Content[0]
		mark(root, src.Name, src.Dir, files, dirs)
		removeKey(root, "extends")
		if merged == nil {
			merged = root
		} else {
			mergeNodes(merged, root)
		}
		sp.Files = append(sp.Files, src.Name)
	}
	c := &compiler{files: files, dirs: dirs, reg: reg, read: read, sp: sp}
	if err := c.compile(merged); err != nil {
		return nil, err
	}
	return sp, nil
}

// yamlError turns a YAML syntax error into a SpecError with a line.
func yamlError(name string, err error) error {
	msg := err.Error()
	line := 1
	if i := strings.Index(msg, "line "); i >= 0 {
		rest := msg[i+5:]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if n, e := strconv.Atoi(rest[:j]); e == nil {
			line = n
			// The parser (unlike the scanner) counts lines from 0.
			if strings.Contains(msg, "did not find expected") || strings.Contains(msg, "while parsing") {
				line++
			}
		}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "line ") && i > 0 {
		msg = fmt.Sprintf("line %d: %s", line, msg[i+2:])
	}
	return &SpecError{File: name, Line: line, Col: 1, Msg: "bad YAML: " + msg}
}

func mark(n *yaml.Node, file, dir string, files, dirs map[*yaml.Node]string) {
	files[n] = file
	dirs[n] = dir
	for _, c := range n.Content {
		mark(c, file, dir, files, dirs)
	}
}

func removeKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// mergeNodes lays overlay onto base: mappings merge key by key, anything
// else is replaced.
func mergeNodes(base, overlay *yaml.Node) {
	for i := 0; i+1 < len(overlay.Content); i += 2 {
		k, v := overlay.Content[i], overlay.Content[i+1]
		found := false
		for j := 0; j+1 < len(base.Content); j += 2 {
			if base.Content[j].Value != k.Value {
				continue
			}
			found = true
			bv := base.Content[j+1]
			if bv.Kind == yaml.MappingNode && v.Kind == yaml.MappingNode {
				mergeNodes(bv, v)
			} else {
				base.Content[j+1] = v
			}
		}
		if !found {
			base.Content = append(base.Content, k, v)
		}
	}
}

type compiler struct {
	files map[*yaml.Node]string
	dirs  map[*yaml.Node]string
	reg   *x12.Registry
	read  FileReader
	sp    *Spec
}

func (c *compiler) at(n *yaml.Node) pos {
	return pos{file: c.files[n], line: n.Line, col: n.Column}
}

func (c *compiler) errf(n *yaml.Node, format string, args ...any) error {
	return c.at(n).errorf(format, args...)
}

// pairs returns a mapping node's key/value pairs, checking keys.
func (c *compiler) pairs(n *yaml.Node, what string, allowed ...string) ([][2]*yaml.Node, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil, c.errf(n, "%s must be a mapping", what)
	}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" { // YAML merge key: splice the aliased mapping in
			m := v
			if m.Kind == yaml.AliasNode {
				m = m.Alias
			}
			sub, err := c.pairs(m, what, allowed...)
			if err != nil {
				return nil, err
			}
			out = append(sub, out...)
			continue
		}
		if len(allowed) > 0 && !contains(allowed, k.Value) {
			return nil, c.errf(k, "unknown key %q in %s (allowed: %s)", k.Value, what, strings.Join(allowed, ", "))
		}
		out = append(out, [2]*yaml.Node{k, v})
	}
	// Later keys win over merged ones.
	seen := map[string]int{}
	var dedup [][2]*yaml.Node
	for _, p := range out {
		if i, ok := seen[p[0].Value]; ok {
			dedup[i] = p
			continue
		}
		seen[p[0].Value] = len(dedup)
		dedup = append(dedup, p)
	}
	return dedup, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (c *compiler) scalar(n *yaml.Node, what string) (string, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode {
		return "", c.errf(n, "%s must be a single value", what)
	}
	return n.Value, nil
}

func (c *compiler) compile(root *yaml.Node) error {
	kv, err := c.pairs(root, "a mapping file", "kind", "set", "version", "codes", "document", "item_xref", "uom_conversions", "outbound", "description")
	if err != nil {
		return err
	}
	get := map[string]*yaml.Node{}
	for _, p := range kv {
		get[p[0].Value] = p[1]
	}
	for _, k := range []string{"kind", "set", "version", "document"} {
		if get[k] == nil {
			return c.errf(root, "the mapping has no %q", k)
		}
	}
	sp := c.sp
	sp.Kind, _ = c.scalar(get["kind"], "kind")
	sp.Set, _ = c.scalar(get["set"], "set")
	sp.Version, _ = c.scalar(get["version"], "version")
	doc, err := canonical.New(sp.Kind)
	if err != nil {
		return c.errf(get["kind"], "%v", err)
	}
	sp.docType = reflect.TypeOf(doc).Elem()
	schema, ok := c.reg.Lookup(sp.Set, sp.Version)
	if !ok {
		return c.errf(get["set"], "no X12 schema for set %q version %q (have %s)", sp.Set, sp.Version, strings.Join(c.reg.Keys(), ", "))
	}
	sp.schema = schema
	sp.codes = map[string]*codeTable{}
	if n := get["codes"]; n != nil {
		tables, err := c.pairs(n, "codes")
		if err != nil {
			return err
		}
		for _, t := range tables {
			ct, err := c.codeTable(t[0].Value, t[1])
			if err != nil {
				return err
			}
			sp.codes[t[0].Value] = ct
		}
	}
	sp.doc, err = c.group(get["document"], sp.docType, schema.Structure(), "document", true, false)
	if err != nil {
		return err
	}
	if n := get["item_xref"]; n != nil {
		if sp.xref, err = c.itemXref(n); err != nil {
			return err
		}
	}
	if n := get["uom_conversions"]; n != nil {
		if n.Kind != yaml.SequenceNode {
			return c.errf(n, "uom_conversions is a list of {from, to, factor}")
		}
		for _, item := range n.Content {
			kv, err := c.pairs(item, "a unit conversion", "from", "to", "factor")
			if err != nil {
				return err
			}
			var u uomConversion
			for _, p := range kv {
				v, err := c.scalar(p[1], p[0].Value)
				if err != nil {
					return err
				}
				switch p[0].Value {
				case "from":
					u.from = v
				case "to":
					u.to = v
				case "factor":
					if _, err := normDecimal(v); err != nil || strings.Trim(v, "0.") == "" {
						return c.errf(p[1], "factor %q is not a positive number", v)
					}
					u.factor = v
				}
			}
			if u.from == "" || u.to == "" || u.factor == "" {
				return c.errf(item, "a unit conversion needs from, to and factor")
			}
			sp.uom = append(sp.uom, u)
		}
	}
	if n := get["outbound"]; n != nil {
		if err := c.outbound(n); err != nil {
			return err
		}
	}
	return nil
}

func (c *compiler) codeTable(name string, n *yaml.Node) (*codeTable, error) {
	kv, err := c.pairs(n, "code table "+name)
	if err != nil {
		return nil, err
	}
	ct := &codeTable{name: name, toCanon: map[string]string{}, toX12: map[string]string{}}
	for _, p := range kv {
		v, err := c.scalar(p[1], "a code")
		if err != nil {
			return nil, err
		}
		if p[0].Value == "*" {
			ct.fallback = v
			continue
		}
		ct.toCanon[p[0].Value] = v
		if _, dup := ct.toX12[v]; !dup {
			ct.toX12[v] = p[0].Value // the first X12 code listed is written outbound
		}
	}
	return ct, nil
}

// headerFields are set by the translator, not by mappings.
var headerFields = map[string]bool{"kind": true, "id": true, "partner": true, "direction": true, "correlation_id": true, "source": true}

// jsonFields lists the JSON fields of a struct type: name -> index.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for _, f := range reflect.VisibleFields(t) {
		if f.Anonymous || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || headerFields[name] && len(f.Index) > 1 {
			continue
		}
		out[name] = f
	}
	return out
}

// fieldOffset returns the offset in t of the field at index, when no step
// of index goes through a pointer (an embedded *T).
func fieldOffset(t reflect.Type, index []int) (uintptr, bool) {
	var off uintptr
	for i, x := range index {
		if t.Kind() != reflect.Struct {
			return 0, false
		}
		sf := t.Field(x)
		off += sf.Offset
		if t = sf.Type; i < len(index)-1 && t.Kind() == reflect.Pointer {
			return 0, false
		}
	}
	return off, true
}

func fieldNames(m map[string]reflect.StructField) string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// group compiles a group: the document, an object or an array element.
func (c *compiler) group(n *yaml.Node, t reflect.Type, entry *x12.Entry, name string, isDoc, list bool) (*group, error) {
	g := &group{entry: entry, at: c.at(n), typ: t}
	fieldsNode := n
	if !isDoc {
		kv, err := c.pairs(n, "a group", "each", "hl", "or_self", "scope", "fields")
		if err != nil {
			return nil, err
		}
		fieldsNode = nil
		for _, p := range kv {
			v := p[1]
			switch p[0].Value {
			case "fields":
				fieldsNode = v
			case "each", "scope":
				s, err := c.scalar(v, p[0].Value)
				if err != nil {
					return nil, err
				}
				steps, err := ParseLoopPath(s)
				if err != nil {
					return nil, c.errf(v, "%v", err)
				}
				target, err := c.resolveLoops(v, entry, steps)
				if err != nil {
					return nil, err
				}
				if p[0].Value == "each" {
					g.each = steps
				} else {
					g.scope = steps
				}
				g.entry = target
			case "hl":
				levels, err := c.stringList(v, "hl")
				if err != nil {
					return nil, err
				}
				hlEntry := findLoop(c.sp.schema.Structure(), "HL")
				if hlEntry == nil {
					return nil, c.errf(v, "set %s has no HL loop", c.sp.Set)
				}
				g.hl, g.entry = levels, hlEntry
			case "or_self":
				b, err := c.scalar(v, "or_self")
				if err != nil {
					return nil, err
				}
				g.orSelf = b == "true"
			}
		}
		if fieldsNode == nil {
			return nil, c.errf(n, "a group needs fields")
		}
		if list && g.each == nil && g.hl == nil {
			return nil, c.errf(n, "field %q is a list: say which loop gives its elements with each (or hl)", name)
		}
		if !list && (g.each != nil || g.hl != nil) {
			return nil, c.errf(n, "field %q holds one %s: use scope, not each or hl", name, t.Name())
		}
	}
	known := jsonFields(t)
	kv, err := c.pairs(fieldsNode, "fields")
	if err != nil {
		return nil, err
	}
	for _, p := range kv {
		k, v := p[0], p[1]
		sf, ok := known[k.Value]
		if !ok {
			return nil, c.errf(k, "unknown field %q in %s (known: %s)", k.Value, t.Name(), fieldNames(known))
		}
		f, err := c.field(k, v, sf, g)
		if err != nil {
			return nil, err
		}
		f.kind, f.conv = sf.Type.Kind(), f.conversion()
		f.offset, f.direct = fieldOffset(t, sf.Index)
		f.op = f.operation()
		g.fields = append(g.fields, f)
	}
	g.arrange()
	return g, nil
}

// arrange gives each path the group's fields read a slot, and groups the
// paths by the loop instance they read, so that each instance is found
// once and its segments scanned once for all the paths that read it.
func (g *group) arrange() {
	byLoops := map[string]int{} // the loop steps of a path, as written -> source
	add := func(p *Path) int {
		loops := "" // the steps as written: PID[PID01=F] of PID[PID01=F]/PID05
		if i := strings.LastIndexByte(p.Raw, '/'); i >= 0 {
			loops = p.Raw[:i]
		}
		i, ok := byLoops[loops]
		if !ok {
			i = len(g.sources)
			byLoops[loops] = i
			g.sources = append(g.sources, source{loops: p.Loops})
		}
		src := &g.sources[i]
		j := slices.IndexFunc(src.segs, func(sr segReaders) bool { return sr.key == p.key })
		if j < 0 {
			j = len(src.segs)
			src.segs = append(src.segs, segReaders{key: p.key})
		}
		slot := g.slots
		if sr := &src.segs[j]; len(p.Cond) == 0 && p.Qual == "" && p.Comp == 0 {
			sr.plain = append(sr.plain, plainReader{slot: slot, elem: p.Elem})
		} else {
			sr.readers = append(sr.readers, reader{slot: slot, path: p})
		}
		src.readers++
		g.slots++
		return slot
	}
	for _, f := range g.fields {
		switch {
		case f.grp != nil:
		case f.kind == reflect.Slice || len(f.paths) > 1:
			for i, p := range f.paths {
				if s := add(p); i == 0 {
					f.slot = s
				}
			}
		case f.path != nil:
			f.slot = add(f.path)
		}
	}
}

func (c *compiler) stringList(n *yaml.Node, what string) ([]string, error) {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, c.errf(n, "%s is a value or a list of values", what)
	}
	var out []string
	for _, x := range n.Content {
		s, err := c.scalar(x, what)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func findLoop(e *x12.Entry, id string) *x12.Entry {
	for _, b := range e.Body {
		if b.Loop == id {
			return b
		}
	}
	return nil
}

func loopNames(e *x12.Entry) string {
	var out []string
	for _, b := range e.Body {
		if b.Loop != "" {
			out = append(out, b.Loop)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

func (c *compiler) where(e *x12.Entry) string {
	if e.Loop == "" {
		return "the " + c.sp.Set + " set level"
	}
	return "loop " + e.Loop
}

func (c *compiler) resolveLoops(n *yaml.Node, entry *x12.Entry, steps []Step) (*x12.Entry, error) {
	for _, st := range steps {
		next := findLoop(entry, st.Loop)
		if next == nil {
			return nil, c.errf(n, "loop %s is not in %s of %s %s (loops there: %s)", st.Loop, c.where(entry), c.sp.Set, c.sp.Version, loopNames(entry))
		}
		for _, cd := range st.Cond {
			if cd.Seg != next.Body[0].Seg {
				return nil, c.errf(n, "condition on %s%02d: loop %s starts with %s", cd.Seg, cd.Elem, st.Loop, next.Body[0].Seg)
			}
			if err := c.checkElem(n, cd.Seg, cd.Elem); err != nil {
				return nil, err
			}
		}
		entry = next
	}
	return entry, nil
}

func (c *compiler) checkElem(n *yaml.Node, seg string, el int) error {
	def, ok := c.sp.schema.Def(seg)
	if !ok {
		return c.errf(n, "segment %s is not used in %s %s", seg, c.sp.Set, c.sp.Version)
	}
	if el > len(def.Elements) {
		return c.errf(n, "%s has %d elements; there is no %s%02d", seg, len(def.Elements), seg, el)
	}
	return nil
}

// path compiles a path relative to entry and returns the element's definition.
func (c *compiler) path(n *yaml.Node, s string, entry *x12.Entry) (*Path, *x12.ElementDef, error) {
	p, err := ParsePath(s)
	if err != nil {
		return nil, nil, c.errf(n, "%v", err)
	}
	e, err := c.resolveLoops(n, entry, p.Loops)
	if err != nil {
		return nil, nil, err
	}
	inBody := false
	for _, b := range e.Body {
		if b.Seg == p.Seg {
			inBody = true
		}
	}
	if !inBody {
		hint := ""
		if l := findLoop(e, p.Seg); l != nil {
			hint = fmt.Sprintf("; %s starts loop %s: write %s/%s", p.Seg, p.Seg, p.Seg, strings.TrimPrefix(s, strings.Join(stepNames(p.Loops), "/")))
		}
		return nil, nil, c.errf(n, "segment %s is not directly in %s of %s %s%s", p.Seg, c.where(e), c.sp.Set, c.sp.Version, hint)
	}
	def, _ := c.sp.schema.Def(p.Seg)
	for _, cd := range p.Cond {
		if err := c.checkElem(n, cd.Seg, cd.Elem); err != nil {
			return nil, nil, err
		}
	}
	if p.Qual != "" {
		if p.quals = qualifierPositions(def); len(p.quals) == 0 {
			return nil, nil, c.errf(n, "segment %s has no qualifier/value pairs for %s", p.Seg, s)
		}
		return p, nil, nil
	}
	if err := c.checkElem(n, p.Seg, p.Elem); err != nil {
		return nil, nil, err
	}
	ed := def.Elements[p.Elem-1]
	if p.Comp > 0 {
		if p.Comp > len(ed.Components) {
			return nil, nil, c.errf(n, "%s%02d has no component %d", p.Seg, p.Elem, p.Comp)
		}
		ed = ed.Components[p.Comp-1]
	} else if len(ed.Components) > 0 {
		ed = ed.Components[0]
		p.Comp = 1
	}
	return p, ed, nil
}

func stepNames(st []Step) []string {
	out := make([]string, len(st))
	for i, s := range st {
		out[i] = s.Loop
	}
	return out
}

// qualifierPositions lists the positions of product/service ID qualifiers
// (element 235) that the element after them completes: PO106/PO107,
// LIN02/LIN03, IT106/IT107 and so on.
func qualifierPositions(def *x12.SegmentDef) []int {
	if def == nil {
		return nil
	}
	var out []int
	for i := 0; i+1 < len(def.Elements); i++ {
		a, b := def.Elements[i], def.Elements[i+1]
		if a.Type == "ID" && b.Type == "AN" && len(a.Components) == 0 && len(b.Components) == 0 && a.Ref == "235" {
			out = append(out, i+1)
		}
	}
	return out
}

var decimalFields = map[string]bool{
	"quantity": true, "unit_price": true, "ordered_quantity": true, "ack_quantity": true,
	"ack_unit_price": true, "quantity_shipped": true, "quantity_invoiced": true,
	"total_amount": true, "amount": true,
}

var leafKeys = []string{"path", "paths", "date", "decimals", "codes", "default", "const", "required"}

func (c *compiler) field(k, v *yaml.Node, sf reflect.StructField, g *group) (*field, error) {
	f := &field{name: k.Value, index: sf.Index, typ: sf.Type, decimals: -1, at: c.at(k), decimal: decimalFields[k.Value]}
	t := sf.Type
	switch {
	case t.Kind() == reflect.String:
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct,
		t.Kind() == reflect.Struct:
		st := t
		if st.Kind() == reflect.Pointer {
			st = st.Elem()
		}
		grp, err := c.group(v, st, g.entry, k.Value, false, false)
		if err != nil {
			return nil, err
		}
		if t.Kind() == reflect.Pointer {
			grp.slice, grp.slab = reflect.SliceOf(st), slabIndex(st)
		}
		f.grp = grp
		return f, nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		grp, err := c.group(v, t.Elem(), g.entry, k.Value, false, true)
		if err != nil {
			return nil, err
		}
		grp.line = newLineInfo(t.Elem())
		f.grp = grp
		return f, nil
	default:
		return nil, c.errf(k, "field %q cannot be mapped", k.Value)
	}
	if v.Kind == yaml.ScalarNode {
		if t.Kind() == reflect.Slice {
			p, _, err := c.path(v, v.Value, g.entry)
			if err != nil {
				return nil, err
			}
			f.paths = []*Path{p}
			return f, nil
		}
		p, def, err := c.path(v, v.Value, g.entry)
		if err != nil {
			return nil, err
		}
		f.path, f.def = p, def
		f.impliedFromSchema()
		return f, nil
	}
	kv, err := c.pairs(v, "field "+k.Value, leafKeys...)
	if err != nil {
		return nil, err
	}
	for _, p := range kv {
		key, val := p[0].Value, p[1]
		switch key {
		case "path":
			s, err := c.scalar(val, "path")
			if err != nil {
				return nil, err
			}
			if f.path, f.def, err = c.path(val, s, g.entry); err != nil {
				return nil, err
			}
		case "paths":
			// For a list field, one value per path; for a single value,
			// the first path that has one (outbound writes the first).
			list, err := c.stringList(val, "paths")
			if err != nil {
				return nil, err
			}
			for i, s := range list {
				pp, def, err := c.path(val, s, g.entry)
				if err != nil {
					return nil, err
				}
				f.paths = append(f.paths, pp)
				if i == 0 && t.Kind() != reflect.Slice {
					f.path, f.def = pp, def
				}
			}
		case "date":
			s, _ := c.scalar(val, "date")
			if s != "CCYYMMDD" && s != "YYMMDD" {
				return nil, c.errf(val, "date format %q is not CCYYMMDD or YYMMDD", s)
			}
			f.date = s
		case "decimals":
			s, _ := c.scalar(val, "decimals")
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n > 9 {
				return nil, c.errf(val, "decimals %q is not 0..9", s)
			}
			f.decimals = n
		case "codes":
			if val.Kind == yaml.MappingNode {
				if f.codes, err = c.codeTable(k.Value, val); err != nil {
					return nil, err
				}
				continue
			}
			s, _ := c.scalar(val, "codes")
			ct, ok := c.sp.codes[s]
			if !ok {
				return nil, c.errf(val, "no code table %q (define it under codes:)", s)
			}
			f.codes = ct
		case "default":
			f.dflt, err = c.scalar(val, "default")
		case "const":
			f.cnst, err = c.scalar(val, "const")
		case "required":
			s, _ := c.scalar(val, "required")
			if s != "true" && s != "false" {
				return nil, c.errf(val, "required is true or false, not %q", s)
			}
			f.required = s == "true"
		}
		if err != nil {
			return nil, err
		}
	}
	if f.path == nil && f.paths == nil && f.cnst == "" && f.dflt == "" {
		return nil, c.errf(v, "field %q needs a path (or a const or default)", k.Value)
	}
	f.impliedFromSchema()
	return f, nil
}

// conversion is how an X12 value becomes a canonical one, decided once per
// field rather than for every value.
type conversion uint8

const (
	convText    conversion = iota // as it is
	convConst                     // the field's constant, whatever the value
	convCodes                     // through a code table
	convDate                      // CCYYMMDD or YYMMDD to YYYY-MM-DD
	convImplied                   // implied decimals (Nn) to a decimal
	convDecimal                   // a decimal, normalised
)

// conversion gives, in order of precedence, how the field converts values.
func (f *field) conversion() conversion {
	switch {
	case f.cnst != "":
		return convConst
	case f.codes != nil:
		return convCodes
	case f.date != "" || f.def != nil && f.def.Type == "DT":
		return convDate
	case f.decimals > 0:
		return convImplied
	case f.decimal:
		return convDecimal
	}
	return convText
}

// impliedFromSchema takes the implied decimals of Nn elements (TDS01 is N2)
// from the schema, unless the mapping says otherwise.
func (f *field) impliedFromSchema() {
	if f.def != nil && f.decimals < 0 && len(f.def.Type) == 2 && f.def.Type[0] == 'N' && f.def.Type != "N0" {
		f.decimals = int(f.def.Type[1] - '0')
	}
}

func (c *compiler) outbound(n *yaml.Node) error {
	kv, err := c.pairs(n, "outbound", "constants", "counts")
	if err != nil {
		return err
	}
	root := c.sp.schema.Structure()
	for _, p := range kv {
		items, err := c.pairs(p[1], "outbound "+p[0].Value)
		if err != nil {
			return err
		}
		for _, it := range items {
			path, _, err := c.path(it[0], it[0].Value, root)
			if err != nil {
				return err
			}
			v, err := c.scalar(it[1], it[0].Value)
			if err != nil {
				return err
			}
			if p[0].Value == "constants" {
				c.sp.constants = append(c.sp.constants, assign{path: path, value: v})
				continue
			}
			sf, ok := jsonFields(c.sp.docType)[v]
			if !ok || sf.Type.Kind() != reflect.Slice {
				return c.errf(it[1], "count of %q: not a list field of %s", v, c.sp.Kind)
			}
			c.sp.counts = append(c.sp.counts, countRule{path: path, field: v, index: sf.Index})
		}
	}
	return nil
}
