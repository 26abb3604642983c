package x12_test

// Helpers shared by reader_test.go and validate_test.go: a small test
// registry whose loops, maximum uses, syntax notes, code lists, composites
// and repeats are known, a builder that wraps segments in a correctly
// counted envelope with any delimiters, and a collector for the Validator's
// events. Names carry a "t12" prefix so they do not collide with helpers of
// other test files in the package.

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/edigate/edigate/translators/x12"
)

// t12Segments is the dictionary of the test registry. TST exists only to
// exercise element rules: 01 AN, 02 N2, 03 R, 04 composite, 05 repeating,
// 06/07 paired, 08/09 exclusive, 10/11 conditional, 12/13/14 list
// conditional, 15 DT, 16 TM. MSG is defined but used by no set.
const t12Segments = `{
  "version": "%s",
  "segments": {
    "ST":  {"name": "Transaction Set Header", "elements": [
      {"ref": "143", "name": "Transaction Set Identifier Code", "req": "M", "type": "ID", "min": 3, "max": 3},
      {"ref": "329", "name": "Transaction Set Control Number", "req": "M", "type": "AN", "min": 4, "max": 9},
      {"ref": "1705", "name": "Implementation Convention Reference", "req": "O", "type": "AN", "min": 1, "max": 35}]},
    "SE":  {"name": "Transaction Set Trailer", "elements": [
      {"ref": "96", "name": "Number of Included Segments", "req": "M", "type": "N0", "min": 1, "max": 10},
      {"ref": "329", "name": "Transaction Set Control Number", "req": "M", "type": "AN", "min": 4, "max": 9}]},
    "BEG": {"name": "Beginning Segment for Purchase Order", "elements": [
      {"ref": "353", "name": "Transaction Set Purpose Code", "req": "M", "type": "ID", "min": 2, "max": 2},
      {"ref": "92", "name": "Purchase Order Type Code", "req": "M", "type": "ID", "min": 2, "max": 2, "codes": ["SA", "NE"]},
      {"ref": "324", "name": "Purchase Order Number", "req": "M", "type": "AN", "min": 1, "max": 22},
      {"ref": "328", "name": "Release Number", "req": "O", "type": "AN", "min": 1, "max": 30},
      {"ref": "373", "name": "Date", "req": "M", "type": "DT", "min": 8, "max": 8}]},
    "REF": {"name": "Reference Identification", "syntax": ["R0203"], "elements": [
      {"ref": "128", "name": "Reference Identification Qualifier", "req": "M", "type": "ID", "min": 2, "max": 3},
      {"ref": "127", "name": "Reference Identification", "req": "X", "type": "AN", "min": 1, "max": 30},
      {"ref": "352", "name": "Description", "req": "X", "type": "AN", "min": 1, "max": 80}]},
    "DTM": {"name": "Date/Time Reference", "syntax": ["C0302"], "elements": [
      {"ref": "374", "name": "Date/Time Qualifier", "req": "M", "type": "ID", "min": 3, "max": 3},
      {"ref": "373", "name": "Date", "req": "X", "type": "DT", "min": 8, "max": 8},
      {"ref": "337", "name": "Time", "req": "O", "type": "TM", "min": 4, "max": 8}]},
    "TST": {"name": "Test Segment", "syntax": ["P0607", "E0809", "C1011", "L121314"], "elements": [
      {"ref": "T01", "name": "Text", "req": "O", "type": "AN", "min": 2, "max": 5},
      {"ref": "T02", "name": "Amount", "req": "O", "type": "N2", "min": 1, "max": 6},
      {"ref": "T03", "name": "Decimal", "req": "O", "type": "R", "min": 1, "max": 8},
      {"ref": "C001", "name": "Composite", "req": "O", "components": [
        {"ref": "T41", "name": "Composite Code", "req": "M", "type": "ID", "min": 2, "max": 2, "codes": ["AA", "BB"]},
        {"ref": "T42", "name": "Composite Text", "req": "O", "type": "AN", "min": 1, "max": 10}]},
      {"ref": "T05", "name": "Repeating", "req": "O", "type": "AN", "min": 1, "max": 10, "repeat": 3},
      {"ref": "T06", "name": "Paired A", "req": "X", "type": "AN", "min": 1, "max": 5},
      {"ref": "T07", "name": "Paired B", "req": "X", "type": "AN", "min": 1, "max": 5},
      {"ref": "T08", "name": "Exclusive A", "req": "X", "type": "AN", "min": 1, "max": 5},
      {"ref": "T09", "name": "Exclusive B", "req": "X", "type": "AN", "min": 1, "max": 5},
      {"ref": "T10", "name": "Conditional If", "req": "X", "type": "AN", "min": 1, "max": 5},
      {"ref": "T11", "name": "Conditional Then", "req": "X", "type": "AN", "min": 1, "max": 5},
      {"ref": "T12", "name": "List If", "req": "X", "type": "AN", "min": 1, "max": 5},
      {"ref": "T13", "name": "List A", "req": "X", "type": "AN", "min": 1, "max": 5},
      {"ref": "T14", "name": "List B", "req": "X", "type": "AN", "min": 1, "max": 5},
      {"ref": "T15", "name": "Date", "req": "O", "type": "DT", "min": 8, "max": 8},
      {"ref": "T16", "name": "Time", "req": "O", "type": "TM", "min": 4, "max": 8}]},
    "N1":  {"name": "Name", "syntax": ["R0203", "P0304"], "elements": [
      {"ref": "98", "name": "Entity Identifier Code", "req": "M", "type": "ID", "min": 2, "max": 3},
      {"ref": "93", "name": "Name", "req": "X", "type": "AN", "min": 1, "max": 60},
      {"ref": "66", "name": "Identification Code Qualifier", "req": "X", "type": "ID", "min": 1, "max": 2},
      {"ref": "67", "name": "Identification Code", "req": "X", "type": "AN", "min": 2, "max": 80}]},
    "N3":  {"name": "Address Information", "elements": [
      {"ref": "166", "name": "Address Information", "req": "M", "type": "AN", "min": 1, "max": 55},
      {"ref": "166", "name": "Address Information", "req": "O", "type": "AN", "min": 1, "max": 55}]},
    "PO1": {"name": "Baseline Item Data", "elements": [
      {"ref": "350", "name": "Assigned Identification", "req": "O", "type": "AN", "min": 1, "max": 20},
      {"ref": "330", "name": "Quantity Ordered", "req": "M", "type": "R", "min": 1, "max": 15},
      {"ref": "355", "name": "Unit or Basis for Measurement Code", "req": "M", "type": "ID", "min": 2, "max": 2},
      {"ref": "212", "name": "Unit Price", "req": "O", "type": "R", "min": 1, "max": 17}]},
    "PID": {"name": "Product/Item Description", "elements": [
      {"ref": "349", "name": "Item Description Type", "req": "M", "type": "ID", "min": 1, "max": 1},
      {"ref": "352", "name": "Description", "req": "O", "type": "AN", "min": 1, "max": 80}]},
    "CTT": {"name": "Transaction Totals", "elements": [
      {"ref": "354", "name": "Number of Line Items", "req": "M", "type": "N0", "min": 1, "max": 6}]},
    "MSG": {"name": "Message Text", "elements": [
      {"ref": "933", "name": "Free-form Message Text", "req": "M", "type": "AN", "min": 1, "max": 264}]},
    "BSN": {"name": "Beginning Segment for Ship Notice", "elements": [
      {"ref": "353", "name": "Transaction Set Purpose Code", "req": "M", "type": "ID", "min": 2, "max": 2},
      {"ref": "396", "name": "Shipment Identification", "req": "M", "type": "AN", "min": 2, "max": 30},
      {"ref": "373", "name": "Date", "req": "M", "type": "DT", "min": 8, "max": 8},
      {"ref": "337", "name": "Time", "req": "M", "type": "TM", "min": 4, "max": 8}]},
    "HL":  {"name": "Hierarchical Level", "elements": [
      {"ref": "628", "name": "Hierarchical ID Number", "req": "M", "type": "AN", "min": 1, "max": 12},
      {"ref": "734", "name": "Hierarchical Parent ID Number", "req": "O", "type": "AN", "min": 1, "max": 12},
      {"ref": "735", "name": "Hierarchical Level Code", "req": "M", "type": "ID", "min": 1, "max": 2},
      {"ref": "736", "name": "Hierarchical Child Code", "req": "O", "type": "ID", "min": 1, "max": 1}]},
    "TD1": {"name": "Carrier Details", "elements": [
      {"ref": "103", "name": "Packaging Code", "req": "O", "type": "AN", "min": 3, "max": 5}]}
  },
  "codelists": {
    "353": ["00", "01", "05"],
    "355": ["EA", "CA"],
    "735": ["S", "O", "P", "I"],
    "98": ["ST", "BT", "SF"]
  }
}`

// t12Set850 is a small purchase order: BEG mandatory once, REF at most twice,
// an optional N1 loop of at most 2 (N1, then a mandatory N3), a mandatory
// PO1 loop of at most 3.
const t12Set850 = `{
  "set": "850", "version": "%s", "group": "PO", "name": "Test Purchase Order",
  "structure": [
    {"seg": "ST", "req": "M", "max": 1},
    {"seg": "BEG", "req": "M", "max": 1},
    {"seg": "REF", "req": "O", "max": 2},
    {"seg": "DTM", "req": "O", "max": 10},
    {"seg": "TST", "req": "O", "max": 1},
    {"loop": "N1", "req": "O", "max": 2, "body": [
      {"seg": "N1", "req": "M", "max": 1},
      {"seg": "N3", "req": "M", "max": 2}]},
    {"loop": "PO1", "req": "M", "max": 3, "body": [
      {"seg": "PO1", "req": "M", "max": 1},
      {"seg": "PID", "req": "O", "max": 1}]},
    {"seg": "CTT", "req": "O", "max": 1},
    {"seg": "SE", "req": "M", "max": 1}
  ]
}`

// t12Set856 is a small ship notice with a hierarchy S > O > (P >) I.
const t12Set856 = `{
  "set": "856", "version": "%s", "group": "SH", "name": "Test Ship Notice",
  "structure": [
    {"seg": "ST", "req": "M", "max": 1},
    {"seg": "BSN", "req": "M", "max": 1},
    {"loop": "HL", "req": "M", "max": 0, "body": [
      {"seg": "HL", "req": "M", "max": 1},
      {"seg": "TD1", "req": "O", "max": 1}]},
    {"seg": "CTT", "req": "O", "max": 1},
    {"seg": "SE", "req": "M", "max": 1}
  ],
  "hierarchy": {"S": [""], "O": ["S"], "P": ["O"], "I": ["O", "P"]}
}`

// t12Registry returns a registry holding the test schemas for 004010 and
// 005010. It does not depend on the embedded schemas.
func t12Registry(t testing.TB) *x12.Registry {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, v := range []string{"004010", "005010"} {
		fsys[v+"/segments.json"] = &fstest.MapFile{Data: []byte(fmt.Sprintf(t12Segments, v))}
		fsys[v+"/850.json"] = &fstest.MapFile{Data: []byte(fmt.Sprintf(t12Set850, v))}
		fsys[v+"/856.json"] = &fstest.MapFile{Data: []byte(fmt.Sprintf(t12Set856, v))}
	}
	reg, err := x12.LoadRegistryFS(fsys)
	if err != nil {
		t.Fatalf("loading the test registry: %v", err)
	}
	return reg
}

// t12Env describes the delimiters and envelope of a built interchange.
type t12Env struct {
	Elem    byte   // element separator ('*' when 0)
	Rep     byte   // repetition separator; 0 writes ISA11 "U"
	Comp    byte   // component separator (':' when 0)
	Term    string // segment terminator ("~" when "")
	NL      string // written after every terminator
	ISAVer  string // ISA12 ("00401" when "")
	Control string // ISA13 ("000000001" when "")
}

func (e t12Env) norm() t12Env {
	if e.Elem == 0 {
		e.Elem = '*'
	}
	if e.Comp == 0 {
		e.Comp = ':'
	}
	if e.Term == "" {
		e.Term = "~"
	}
	if e.ISAVer == "" {
		e.ISAVer = "00401"
	}
	if e.Control == "" {
		e.Control = "000000001"
	}
	return e
}

// t12Pad pads s with spaces to n characters.
func t12Pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

// t12ISAFields returns the default ISA01..ISA16 (index 1..16), padded.
func t12ISAFields(e t12Env) [17]string {
	e = e.norm()
	rep := "U"
	if e.Rep != 0 {
		rep = string(e.Rep)
	}
	return [17]string{"",
		"00", t12Pad("", 10), "00", t12Pad("", 10),
		"ZZ", t12Pad("SENDER", 15), "ZZ", t12Pad("RECEIVER", 15),
		"230101", "1200", rep, e.ISAVer, e.Control, "0", "P", string(e.Comp)}
}

// t12ISA renders an ISA segment (with terminator and NL) from fields.
func t12ISA(e t12Env, f [17]string) string {
	e = e.norm()
	var b strings.Builder
	b.WriteString("ISA")
	for i := 1; i <= 15; i++ {
		b.WriteByte(e.Elem)
		b.WriteString(f[i])
	}
	b.WriteByte(e.Elem)
	b.WriteString(f[16])
	b.WriteString(e.Term)
	b.WriteString(e.NL)
	return b.String()
}

// seg renders one segment written in the notation * : ^ with e's
// delimiters, followed by the terminator and NL.
func (e t12Env) seg(s string) string {
	e = e.norm()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '*':
			b.WriteByte(e.Elem)
		case c == ':':
			b.WriteByte(e.Comp)
		case c == '^' && e.Rep != 0:
			b.WriteByte(e.Rep)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString(e.Term)
	b.WriteString(e.NL)
	return b.String()
}

// segs renders segments in e's notation.
func (e t12Env) segs(ss ...string) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString(e.seg(s))
	}
	return b.String()
}

// t12Set wraps body segments in ST..SE with a correct SE01.
func t12Set(id, ctl string, body ...string) []string {
	out := make([]string, 0, len(body)+2)
	out = append(out, "ST*"+id+"*"+ctl)
	out = append(out, body...)
	return append(out, fmt.Sprintf("SE*%d*%s", len(body)+2, ctl))
}

// t12Group wraps sets in GS..GE with a correct GE01.
func t12Group(fid, ctl, version string, sets ...[]string) []string {
	out := []string{"GS*" + fid + "*SENDER*RECEIVER*20230101*1200*" + ctl + "*X*" + version}
	for _, s := range sets {
		out = append(out, s...)
	}
	return append(out, fmt.Sprintf("GE*%d*%s", len(sets), ctl))
}

// t12Interchange wraps groups in ISA..IEA with a correct IEA01 and IEA02.
func t12Interchange(e t12Env, groups ...[]string) string {
	e = e.norm()
	var b strings.Builder
	b.WriteString(t12ISA(e, t12ISAFields(e)))
	for _, g := range groups {
		b.WriteString(e.segs(g...))
	}
	b.WriteString(e.seg(fmt.Sprintf("IEA*%d*%s", len(groups), e.Control)))
	return b.String()
}

// t12PO850 is a valid 850 body (without ST/SE).
var t12PO850 = []string{"BEG*00*SA*PO123**20230101", "PO1*1*2*EA*3.5"}

// t12PO builds an interchange of one PO group holding one 850 with body.
func t12PO(body ...string) string {
	return t12Interchange(t12Env{}, t12Group("PO", "1", "004010", t12Set("850", "0001", body...)))
}

// t12Result collects everything a Validator reports.
type t12Result struct {
	Issues       []*x12.ParseError
	Sets         []*x12.SetResult
	Groups       []*x12.GroupResult
	Interchanges []*x12.InterchangeResult
	Segments     []string // segment IDs as seen by Events.Segment
	Err          error
}

func (r *t12Result) errors() []*x12.ParseError {
	var out []*x12.ParseError
	for _, pe := range r.Issues {
		if pe.Severity == x12.SeverityError {
			out = append(out, pe)
		}
	}
	return out
}

func (r *t12Result) warnings() []*x12.ParseError {
	var out []*x12.ParseError
	for _, pe := range r.Issues {
		if pe.Severity == x12.SeverityWarning {
			out = append(out, pe)
		}
	}
	return out
}

func (r *t12Result) dump() string {
	var b strings.Builder
	for _, pe := range r.Issues {
		fmt.Fprintf(&b, "\n\t%s %s (level %s, code %q, elem %d, comp %d, rep %d, seg %d)", pe.Severity, pe.Error(), pe.Level, pe.Code, pe.Element, pe.Component, pe.Repetition, pe.Segment)
	}
	if b.Len() == 0 {
		return " (no issues)"
	}
	return b.String()
}

// t12Validate validates input with reg (the test registry when nil) and
// fails the test on a panic.
func t12Validate(t testing.TB, reg *x12.Registry, input string) *t12Result {
	t.Helper()
	if reg == nil {
		reg = t12Registry(t)
	}
	res := &t12Result{}
	v := x12.Validator{Registry: reg}
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("Validate panicked: %v\ninput: %q", p, input)
			}
		}()
		res.Err = v.Validate(strings.NewReader(input), x12.Events{
			Issue:       func(pe *x12.ParseError) { res.Issues = append(res.Issues, pe) },
			Set:         func(s *x12.SetResult) { res.Sets = append(res.Sets, s) },
			Group:       func(g *x12.GroupResult) { res.Groups = append(res.Groups, g) },
			Interchange: func(ix *x12.InterchangeResult) { res.Interchanges = append(res.Interchanges, ix) },
			Segment: func(ev *x12.SegmentEvent) {
				res.Segments = append(res.Segments, string(ev.Segment.ID()))
			},
		})
	}()
	return res
}

// t12Want describes an expected issue. Severity (error unless Warning),
// Level, Code, Element, Component and Rep are always checked; Err and
// SegmentID when set; Ordinal and Offset unless -1 (t12Any turns a zero
// Ordinal or Offset into -1).
type t12Want struct {
	Warning   bool
	Level     x12.Level
	Code      string
	Err       error // sentinel; nil: not checked
	SegmentID string
	Element   int // checked always (0 = whole segment)
	Component int // checked always
	Ordinal   int // Segment ordinal; -1: not checked
	Offset    int // byte offset; -1: not checked
	Rep       int // repetition; checked always
}

func (w t12Want) String() string {
	sev := "error"
	if w.Warning {
		sev = "warning"
	}
	return fmt.Sprintf("%s level %s code %q seg %s elem %d comp %d rep %d ordinal %d offset %d sentinel %v",
		sev, w.Level, w.Code, w.SegmentID, w.Element, w.Component, w.Rep, w.Ordinal, w.Offset, w.Err)
}

func (w t12Want) matches(pe *x12.ParseError) bool {
	if (pe.Severity == x12.SeverityWarning) != w.Warning || pe.Level != w.Level || pe.Code != w.Code {
		return false
	}
	if w.Err != nil && !errors.Is(pe, w.Err) {
		return false
	}
	if w.SegmentID != "" && pe.SegmentID != w.SegmentID {
		return false
	}
	if pe.Element != w.Element || pe.Component != w.Component || pe.Repetition != w.Rep {
		return false
	}
	if w.Ordinal >= 0 && pe.Segment != w.Ordinal {
		return false
	}
	if w.Offset >= 0 && pe.Offset != int64(w.Offset) {
		return false
	}
	return true
}

// t12Expect fails unless an issue matches w.
func t12Expect(t testing.TB, res *t12Result, w t12Want) *x12.ParseError {
	t.Helper()
	for _, pe := range res.Issues {
		if w.matches(pe) {
			return pe
		}
	}
	t.Errorf("no issue matches %v; got:%s", w, res.dump())
	return nil
}

// t12ExpectErrors fails unless the errors (not warnings) are exactly ws, in
// any order.
func t12ExpectErrors(t testing.TB, res *t12Result, ws ...t12Want) {
	t.Helper()
	errs := res.errors()
	used := make([]bool, len(errs))
	ok := len(errs) == len(ws)
	for _, w := range ws {
		found := false
		for i, pe := range errs {
			if !used[i] && w.matches(pe) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			ok = false
			t.Errorf("no error matches %v", w)
		}
	}
	if !ok {
		t.Errorf("want %d errors, got %d:%s", len(ws), len(errs), res.dump())
	}
}

// t12ExpectClean fails on any error.
func t12ExpectClean(t testing.TB, res *t12Result) {
	t.Helper()
	if res.Err != nil {
		t.Errorf("Validate returned %v", res.Err)
	}
	if errs := res.errors(); len(errs) > 0 {
		t.Errorf("want no errors, got:%s", res.dump())
	}
}

// t12HasWarning reports whether a warning's message contains sub.
func t12HasWarning(res *t12Result, sub string) bool {
	for _, pe := range res.warnings() {
		if strings.Contains(pe.Message, sub) {
			return true
		}
	}
	return false
}

// t12Any is a t12Want for positions that are not checked.
func t12Any(w t12Want) t12Want {
	if w.Ordinal == 0 {
		w.Ordinal = -1
	}
	if w.Offset == 0 {
		w.Offset = -1
	}
	return w
}
