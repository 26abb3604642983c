package x12

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Schemas are data: each version folder under schemas/ holds segments.json
// (the segment and element dictionary with code lists) and one file per
// transaction set (its segment order, loops, usage and repeat counts).
// Adding a transaction set is adding a file.
//
//go:embed schemas
var embeddedSchemas embed.FS

// SegmentsFile is the JSON form of schemas/<version>/segments.json.
type SegmentsFile struct {
	Version  string                 `json:"version"`
	Segments map[string]*SegmentDef `json:"segments"`
	// CodeLists holds the valid codes of ID elements, keyed by element
	// reference number ("355" for units of measure). Elements without an
	// entry accept any code of the right length.
	CodeLists map[string][]string `json:"codelists"`
}

// SegmentDef describes a segment: its elements and syntax notes.
type SegmentDef struct {
	Name     string        `json:"name"`
	Elements []*ElementDef `json:"elements"`
	// Syntax notes in X12 notation: P0304 (paired), R0203 (at least one),
	// E0405 (exclusive), C0403 (if 04 then 03), L040506 (if 04 then one of 05, 06).
	Syntax []string `json:"syntax,omitempty"`

	ID       string       `json:"-"`
	syntax   []syntaxRule `json:"-"`
	lastMand int          // position of the last mandatory element (0: none)
	checks   []elemCheck  // Elements packed for plainElements
	synAll   uint64       // every element any syntax note names
	synR     bool         // a note requires something (R) even when all is absent
}

// ElementDef describes one data element, or a composite when Components is set.
type ElementDef struct {
	Ref        string        `json:"ref"`
	Name       string        `json:"name"`
	Req        string        `json:"req"`            // M, O or X (conditional: see the segment's syntax notes)
	Type       string        `json:"type,omitempty"` // AN, ID, DT, TM, R, N0..N9, B
	Min        int           `json:"min,omitempty"`
	Max        int           `json:"max,omitempty"`
	Repeat     int           `json:"repeat,omitempty"` // 0 or 1: not repeating
	Codes      []string      `json:"codes,omitempty"`  // overrides the code list of Ref
	Components []*ElementDef `json:"components,omitempty"`

	codes    map[string]struct{}
	codeBits []uint64 // when every code is 1-3 of [0-9A-Z]: a bit per code (codeIndex)
	mand     bool     // Req == "M"
	text     bool     // a simple AN or ID element
	decimals int      // implied decimals of Nn types
	kind     elementKind
}

type elementKind uint8

const (
	kindAN elementKind = iota
	kindID
	kindDT
	kindTM
	kindR
	kindN
	kindB
)

// elemCheck is what checking a plain value needs of an ElementDef, packed
// so that the checks of a segment lie together in a few cache lines (one
// ElementDef spans three).
type elemCheck struct {
	min, max int
	op       checkOp
	mand     bool
	codeBits []uint64
	codes    map[string]struct{}
}

// checkOp is what plainElements does with a present value.
type checkOp uint8

const (
	opText     checkOp = iota // AN or ID without a code list: the length
	opCodeBits                // AN or ID: the length and elemCheck.codeBits
	opCodes                   // AN or ID: the length and elemCheck.codes
	opN                       // Nn: digits, optionally signed
	opR                       // R: a decimal number
	opDT                      // DT: a date
	opTM                      // TM: a time
	opCareful                 // composites and binary data: the careful path
)

// SetFile is the JSON form of schemas/<version>/<set>.json.
type SetFile struct {
	Set       string   `json:"set"`
	Version   string   `json:"version"`
	Group     string   `json:"group"` // functional identifier code (GS01), e.g. PO
	Name      string   `json:"name"`
	Structure []*Entry `json:"structure"`
	// Hierarchy lists, for HL-structured sets, the level codes (HL03) that
	// may be the parent of each level code; "" means "no parent".
	Hierarchy map[string][]string `json:"hierarchy,omitempty"`
}

// Entry is one position in a set's structure: a segment or a loop.
type Entry struct {
	Seg  string   `json:"seg,omitempty"`
	Loop string   `json:"loop,omitempty"` // loop ID; the loop starts with Body[0]
	Req  string   `json:"req"`            // M or O
	Max  int      `json:"max"`            // 0 means unbounded
	Body []*Entry `json:"body,omitempty"`

	def    *SegmentDef
	parent *Entry
	index  int
	trig   string   // the segment ID that starts this entry
	key    uint32   // trig packed by segKey
	mand   []int    // for loops: indices of the mandatory entries of Body
	bloom  uint64   // for loops: a bit per trigger key in Body (see keyBit)
	keys   []uint32 // for loops: the trigger key of each entry of Body
	tail   uint64   // bloom of Body[1:]: what continues an open loop
}

func (e *Entry) trigger() string {
	if e.trig != "" {
		return e.trig
	}
	if e.Loop != "" {
		return e.Body[0].trigger()
	}
	return e.Seg
}

// Schema is one compiled transaction set for one version.
type Schema struct {
	SetFile
	root      *Entry
	segments  map[string]*SegmentDef
	inSet     map[string]bool // segment IDs used anywhere in the set
	levels    []hlLevel       // the hierarchy, for checkHL
	levelByte [256]uint8      // 1 + index in levels of each one-character level code
}

// Registry holds the compiled schemas keyed by "set/version" ("850/004010")
// and the segment dictionaries per version.
type Registry struct {
	sets       map[string]*Schema
	dictionary map[string]*SegmentsFile
}

// LoadRegistry compiles the schemas embedded in the binary.
func LoadRegistry() (*Registry, error) {
	sub, err := fs.Sub(embeddedSchemas, "schemas")
	if err != nil {
		return nil, err
	}
	return LoadRegistryFS(sub)
}

// MustLoadRegistry is LoadRegistry for tests and main; it panics on error,
// which can only come from a broken embedded schema.
func MustLoadRegistry() *Registry {
	r, err := LoadRegistry()
	if err != nil {
		panic(err)
	}
	return r
}

// LoadRegistryFS compiles the schemas in fsys: one folder per version.
func LoadRegistryFS(fsys fs.FS) (*Registry, error) {
	reg := &Registry{sets: map[string]*Schema{}, dictionary: map[string]*SegmentsFile{}}
	dirs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("reading schemas: %w", err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if err := reg.loadVersion(fsys, d.Name()); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

func decodeStrict(fsys fs.FS, name string, v any) error {
	f, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("schema %s: %w", name, err)
	}
	return nil
}

func (reg *Registry) loadVersion(fsys fs.FS, version string) error {
	var dict SegmentsFile
	if err := decodeStrict(fsys, path.Join(version, "segments.json"), &dict); err != nil {
		return err
	}
	for id, s := range dict.Segments {
		s.ID = id
		if err := compileSegment(s, &dict); err != nil {
			return fmt.Errorf("schema %s/segments.json: segment %s: %w", version, id, err)
		}
	}
	reg.dictionary[version] = &dict
	files, err := fs.ReadDir(fsys, version)
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.IsDir() || f.Name() == "segments.json" || !strings.HasSuffix(f.Name(), ".json") {
			continue
		}
		var sf SetFile
		name := path.Join(version, f.Name())
		if err := decodeStrict(fsys, name, &sf); err != nil {
			return err
		}
		s, err := compileSet(sf, &dict)
		if err != nil {
			return fmt.Errorf("schema %s: %w", name, err)
		}
		reg.sets[sf.Set+"/"+version] = s
	}
	return nil
}

func compileSegment(s *SegmentDef, dict *SegmentsFile) error {
	for i, e := range s.Elements {
		if err := compileElement(e, dict); err != nil {
			return fmt.Errorf("element %02d: %w", i+1, err)
		}
		if e.Req == "M" {
			s.lastMand = i + 1
		}
	}
	s.checks = make([]elemCheck, len(s.Elements))
	for i, e := range s.Elements {
		c := elemCheck{min: e.Min, max: e.Max, mand: e.mand, codeBits: e.codeBits, codes: e.codes}
		switch {
		case len(e.Components) > 0 || e.kind == kindB:
			c.op = opCareful
		case e.text && e.codeBits != nil:
			c.op = opCodeBits
		case e.text && e.codes != nil:
			c.op = opCodes
		case e.text:
			c.op = opText
		case e.kind == kindN:
			c.op = opN
		case e.kind == kindR:
			c.op = opR
		case e.kind == kindDT:
			c.op = opDT
		case e.kind == kindTM:
			c.op = opTM
		default:
			c.op = opCareful
		}
		s.checks[i] = c
	}
	for _, n := range s.Syntax {
		r, err := parseSyntax(n, len(s.Elements))
		if err != nil {
			return err
		}
		s.syntax = append(s.syntax, r)
		s.synAll |= r.all
		s.synR = s.synR || r.kind == 'R' || len(s.Elements) >= 64
	}
	return nil
}

func compileElement(e *ElementDef, dict *SegmentsFile) error {
	e.mand = e.Req == "M"
	switch e.Req {
	case "M", "O", "X":
	default:
		return fmt.Errorf("req %q is not M, O or X", e.Req)
	}
	if len(e.Components) > 0 {
		for i, c := range e.Components {
			if len(c.Components) > 0 {
				return fmt.Errorf("component %d: composites do not nest", i+1)
			}
			if err := compileElement(c, dict); err != nil {
				return fmt.Errorf("component %d: %w", i+1, err)
			}
		}
		return nil
	}
	switch {
	case e.Type == "AN":
		e.kind = kindAN
	case e.Type == "ID":
		e.kind = kindID
	case e.Type == "DT":
		e.kind = kindDT
	case e.Type == "TM":
		e.kind = kindTM
	case e.Type == "R":
		e.kind = kindR
	case e.Type == "B":
		e.kind = kindB
	case len(e.Type) == 2 && e.Type[0] == 'N' && e.Type[1] >= '0' && e.Type[1] <= '9':
		e.kind = kindN
		e.decimals = int(e.Type[1] - '0')
	default:
		return fmt.Errorf("type %q is not AN, ID, DT, TM, R, B or N0..N9", e.Type)
	}
	e.text = e.kind == kindAN || e.kind == kindID
	if e.Min <= 0 || e.Max < e.Min {
		return fmt.Errorf("min %d / max %d are not a valid length range", e.Min, e.Max)
	}
	codes := e.Codes
	if codes == nil && e.kind == kindID {
		codes = dict.CodeLists[e.Ref]
	}
	if len(codes) > 0 {
		e.codes = make(map[string]struct{}, len(codes))
		for _, c := range codes {
			e.codes[c] = struct{}{}
		}
		bits := make([]uint64, (37*37*37+63)/64)
		for _, c := range codes {
			i, ok := codeIndex([]byte(c))
			if !ok {
				bits = nil
				break
			}
			bits[i/64] |= 1 << (i % 64)
		}
		e.codeBits = bits
	}
	return nil
}

// codeIndex numbers a code of one to three characters from [0-9A-Z].
func codeIndex(c []byte) (int, bool) {
	if len(c) == 0 || len(c) > 3 {
		return 0, false
	}
	n := 0
	for _, b := range c {
		d := codeDigits[b]
		if d == 0 {
			return 0, false
		}
		n = n*37 + int(d)
	}
	return n, true
}

// codeDigits gives the digit of each byte in codeIndex's base 37: 1-10 for
// 0-9, 11-36 for A-Z, and 0 for a byte that cannot be in such a code.
var codeDigits = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = uint8(c-'0') + 1
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = uint8(c-'A') + 11
	}
	return t
}()

// hasCode reports whether v is one of the element's codes.
func (e *ElementDef) hasCode(v []byte) bool {
	if e.codeBits != nil {
		i, ok := codeIndex(v)
		return ok && e.codeBits[i/64]&(1<<(i%64)) != 0
	}
	_, ok := e.codes[string(v)]
	return ok
}

func compileSet(sf SetFile, dict *SegmentsFile) (*Schema, error) {
	s := &Schema{SetFile: sf, segments: map[string]*SegmentDef{}, inSet: map[string]bool{}}
	if sf.Set == "" || sf.Group == "" {
		return nil, errors.New("set and group are required")
	}
	s.root = &Entry{Loop: "", Req: "M", Max: 1, Body: sf.Structure}
	var walk func(parent *Entry) error
	walk = func(parent *Entry) error {
		if len(parent.Body) == 0 {
			return fmt.Errorf("loop %q has no body", parent.Loop)
		}
		for i, e := range parent.Body {
			e.parent, e.index = parent, i
			if e.Req != "M" && e.Req != "O" {
				return fmt.Errorf("%s%s: req %q is not M or O", e.Seg, e.Loop, e.Req)
			}
			if e.Loop != "" {
				if e.Seg != "" {
					return fmt.Errorf("loop %s also names a segment", e.Loop)
				}
				if err := walk(e); err != nil {
					return err
				}
				continue
			}
			def, ok := dict.Segments[e.Seg]
			if !ok {
				return fmt.Errorf("segment %s is not in segments.json", e.Seg)
			}
			e.def = def
			s.segments[e.Seg] = def
			s.inSet[e.Seg] = true
		}
		return nil
	}
	if err := walk(s.root); err != nil {
		return nil, err
	}
	var index func(e *Entry)
	index = func(e *Entry) {
		for i, b := range e.Body {
			if b.Loop != "" {
				index(b)
			}
			b.trig = b.trigger()
			b.key = segKey([]byte(b.trig))
			e.bloom |= keyBit(b.key)
			if i > 0 {
				e.tail |= keyBit(b.key)
			}
			e.keys = append(e.keys, b.key)
			if b.Req == "M" {
				e.mand = append(e.mand, i)
			}
		}
		e.trig = e.trigger()
	}
	index(s.root)
	for lvl, parents := range sf.Hierarchy {
		s.levels = append(s.levels, hlLevel{code: lvl, parents: parents})
	}
	sort.Slice(s.levels, func(i, j int) bool { return s.levels[i].code < s.levels[j].code })
	for i, l := range s.levels {
		if len(l.code) == 1 && i < 255 {
			s.levelByte[l.code[0]] = uint8(i + 1)
		}
	}
	for i := range s.levels {
		l := &s.levels[i]
		l.index = i + 1
		for _, p := range l.parents {
			j := 0 // "": no parent
			if p != "" {
				j = 1 + sort.Search(len(s.levels), func(k int) bool { return s.levels[k].code >= p })
			}
			if j < 64 && (j == 0 || j <= len(s.levels) && s.levels[j-1].code == p) {
				l.parentBits |= 1 << j
			}
		}
	}
	if len(sf.Structure) < 2 || sf.Structure[0].Seg != "ST" || sf.Structure[len(sf.Structure)-1].Seg != "SE" {
		return nil, errors.New("a set's structure must begin with ST and end with SE")
	}
	return s, nil
}

// Lookup returns the schema for a set and a GS08 version. Industry variants
// such as 004010VICS or 005010X231A1 use the schema of their base version.
func (reg *Registry) Lookup(set, version string) (*Schema, bool) {
	if len(version) > 6 {
		version = version[:6]
	}
	s, ok := reg.sets[set+"/"+version]
	return s, ok
}

// Segment returns the dictionary definition of a segment in a version.
func (reg *Registry) Segment(version, id string) (*SegmentDef, bool) {
	if len(version) > 6 {
		version = version[:6]
	}
	d, ok := reg.dictionary[version]
	if !ok {
		return nil, false
	}
	s, ok := d.Segments[id]
	return s, ok
}

// Keys lists the registered "set/version" keys, sorted.
func (reg *Registry) Keys() []string {
	keys := make([]string, 0, len(reg.sets))
	for k := range reg.sets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// syntaxRule is a compiled syntax note.
type syntaxRule struct {
	kind  byte // P, R, E, C, L
	elems []int
	text  string
	all   uint64 // bits of elems
	first uint64 // bit of elems[0]
	rest  uint64 // bits of elems[1:]
}

// satisfied evaluates the rule on a presence mask (bit i: element i is
// present) without allocating; checkSyntax explains a violation.
func (r *syntaxRule) satisfied(present uint64) bool {
	p := present & r.all
	switch r.kind {
	case 'P':
		return p == 0 || p == r.all
	case 'R':
		return p != 0
	case 'E':
		return p&(p-1) == 0
	case 'C':
		return present&r.first == 0 || present&r.rest == r.rest
	case 'L':
		return present&r.first == 0 || present&r.rest != 0
	}
	return true
}

func parseSyntax(n string, count int) (syntaxRule, error) {
	r := syntaxRule{text: n}
	if len(n) < 5 || (len(n)-1)%2 != 0 || !strings.ContainsRune("PRECL", rune(n[0])) {
		return r, fmt.Errorf("syntax note %q is not of the form P0102", n)
	}
	r.kind = n[0]
	for i := 1; i < len(n); i += 2 {
		v := int(n[i]-'0')*10 + int(n[i+1]-'0')
		if n[i] < '0' || n[i] > '9' || n[i+1] < '0' || n[i+1] > '9' || v < 1 || v > count {
			return r, fmt.Errorf("syntax note %q names element %q, which the segment does not have", n, n[i:i+2])
		}
		r.elems = append(r.elems, v)
		if v < 64 {
			r.all |= 1 << v
			if len(r.elems) == 1 {
				r.first = 1 << v
			} else {
				r.rest |= 1 << v
			}
		}
	}
	return r, nil
}

// segKey packs a segment ID of up to three bytes into a number, so that
// placing a segment compares numbers, not strings.
func segKey(id []byte) uint32 {
	if len(id) == 0 || len(id) > 3 {
		return 0
	}
	k := uint32(len(id)) << 24
	for i, c := range id {
		k |= uint32(c) << (8 * (2 - i))
	}
	return k
}

// keyBit maps a segment key to one of 64 bits, for a quick "not in this
// loop" test before scanning a loop's entries.
func keyBit(k uint32) uint64 {
	return 1 << ((k * 2654435761) >> 26 & 63)
}

// hlLevel is one HL level code and the levels allowed as its parent.
type hlLevel struct {
	code       string
	parents    []string
	index      int    // 1 + the level's index in Schema.levels
	parentBits uint64 // bit 0: may have no parent; bit i: a parent of index i may
}

// level finds a level code without allocating.
func (s *Schema) level(code []byte) (*hlLevel, bool) {
	if len(code) == 1 {
		if i := s.levelByte[code[0]]; i > 0 {
			return &s.levels[i-1], true
		}
		return nil, false
	}
	for i := range s.levels {
		if s.levels[i].code == string(code) {
			return &s.levels[i], true
		}
	}
	return nil, false
}
