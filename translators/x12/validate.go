package x12

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Events receives what a Validator finds, in input order. Every field is
// optional. Results passed to the callbacks may be retained by the callee.
type Events struct {
	// Issue receives every error and warning as it is found.
	Issue func(*ParseError)
	// Segment receives every segment with its place; the segment is only
	// valid during the call (use Clone to keep it).
	Segment func(*SegmentEvent)
	// Set receives each transaction set's verdict after its SE.
	Set func(*SetResult)
	// Group receives each functional group's verdict after its GE.
	Group func(*GroupResult)
	// Interchange receives each interchange's verdict after its IEA.
	Interchange func(*InterchangeResult)
}

// SegmentEvent is one segment in context.
type SegmentEvent struct {
	Segment *Segment
	Def     *SegmentDef // nil when unknown
	Ordinal int         // position within the set (ST is 1); 0 for envelope segments
	LoopID  string      // the innermost loop the segment belongs to
	Depth   int         // loop nesting depth within the set
	Delims  *Delimiters
}

// InterchangeResult is the verdict on one interchange (ISA..IEA).
type InterchangeResult struct {
	Offset       int64
	ISA          [17]string // ISA01..ISA16, as read
	Delims       Delimiters
	Control      string // ISA13
	Groups       int    // groups counted
	AckRequested bool   // ISA14 = 1
	Errors       []*ParseError
	Warnings     int
	NoteCode     string     // TA105: "000" when the envelope is sound
	TA1          []*Segment // TA1 segments received in this interchange
	Complete     bool       // IEA seen
}

// Accepted reports whether the interchange envelope is sound.
func (r *InterchangeResult) Accepted() bool { return len(r.Errors) == 0 }

// SenderQualifier etc. return the envelope identities with padding trimmed.
func (r *InterchangeResult) Sender() (qual, id string) {
	return trimPad(r.ISA[5]), trimPad(r.ISA[6])
}

// Receiver returns ISA07 and ISA08 with padding trimmed.
func (r *InterchangeResult) Receiver() (qual, id string) {
	return trimPad(r.ISA[7]), trimPad(r.ISA[8])
}

// GroupResult is the verdict on one functional group (GS..GE).
type GroupResult struct {
	Offset      int64
	GS          [9]string // GS01..GS08
	Interchange string    // ISA13
	Control     string    // GS06
	Version     string    // GS08
	Included    int       // GE01 as sent (-1 when missing or not a number)
	Received    int       // sets counted
	Accepted    int       // sets accepted, with or without noted errors
	Codes       []string  // AK905.. codes
	Errors      []*ParseError
	Status      string // AK901: A, E, P or R
	Complete    bool   // GE seen
}

// SetResult is the verdict on one transaction set (ST..SE).
type SetResult struct {
	Offset      int64
	Interchange string // ISA13
	Group       string // GS06
	GroupID     string // GS01
	Version     string // GS08
	ID          string // ST01
	Control     string // ST02
	ImplRef     string // ST03 (005010)
	Segments    int    // segments counted, ST and SE included
	HasSchema   bool
	// EnvelopeErrors counts the errors found in its interchange and group
	// before the set ended (their headers, mostly): a set whose envelope is
	// rejected (TA1, AK9 R) will be sent again, and must not be used.
	EnvelopeErrors int
	Codes          []string      // AK502.. / IK502.. codes
	Errors         []*ParseError // errors of this set (at most MaxErrorsPerSet)
	Dropped        int           // errors beyond MaxErrorsPerSet, counted only
	Warnings       []*ParseError
	Status         string         // AK501: A, E or R
	Complete       bool           // SE seen
	Seq            int            // 1 for the first set Validate read, 2 for the next…
	Raw            []*Segment     // the set's segments when Validator.KeepSegments
	Owner          []int32        // for each of Raw, the loop instance it sits in directly (0: the set itself)
	Loops          []LoopInstance // loop instance n is Loops[n-1], when Validator.KeepSegments
	Delimiters     Delimiters
	SenderQual     string
	SenderID       string
	ReceiverQ      string
	ReceiverID     string
	GroupSender    string // GS02
	GroupRecvr     string // GS03
}

// Valid reports whether the set has no errors.
func (s *SetResult) Valid() bool { return len(s.Errors) == 0 && s.Dropped == 0 }

// MaxErrorsPerSet bounds the errors kept for one set, so that garbage input
// cannot exhaust memory. Errors beyond it are counted.
const MaxErrorsPerSet = 200

// Validator checks interchanges against the envelope rules and the
// transaction-set schemas of its Registry.
type Validator struct {
	Registry *Registry
	// KeepSegments makes every SetResult carry its segments (for translation).
	KeepSegments bool
	// ReuseSegments, with KeepSegments, reuses the memory of one set's
	// segments for the next: SetResult.Raw and Loops are then valid only
	// during the Set callback. It spares the garbage collector when every
	// set is consumed as it comes, as translation does.
	ReuseSegments bool
	// Released, with ReuseSegments, says how far the caller is done with
	// the sets handed to it: it returns n when it no longer reads the
	// sets numbered 1 to n (SetResult.Seq), whose memory may then be
	// reused. The validator calls it on its own goroutine as sets start
	// (and, when Pipelined, between batches). Without it a set is done
	// when its Set callback returns. It lets the caller work on sets on
	// other goroutines while the next ones are validated.
	Released func() int
	// Pipelined reads the input on a goroutine of its own, so that reading
	// and validating use two CPUs. What Validate reports, and in which
	// order, is the same; the callbacks still run on the caller's
	// goroutine. It has no effect when the program may use only one CPU
	// (GOMAXPROCS). When a callback panics, the panic leaves Validate
	// while the reading goroutine may still be in a Read of src; it stops
	// before the next batch.
	Pipelined bool

	careful bool // tests: none of the fast paths that the careful ones must agree with
}

// Validate reads every interchange from src and reports through ev. It
// returns an error only when the input cannot be read at all; findings about
// the content go to ev. Reading stops at the first fatal syntax error
// (such as ambiguous delimiters), which is reported both ways.
func (v *Validator) Validate(src io.Reader, ev Events) error {
	rd := NewReader(src)
	rd.keep = v.KeepSegments // kept segments share the reader's bytes
	rd.reuse = v.KeepSegments && v.ReuseSegments
	st := &state{v: v, ev: ev, rd: rd, careful: v.careful}
	if v.Registry == nil {
		st.v = &Validator{Registry: &Registry{}, KeepSegments: v.KeepSegments, ReuseSegments: v.ReuseSegments, Released: v.Released, careful: v.careful}
	}
	if v.pipelined() {
		return st.validatePipelined(rd)
	}
	rd.OnWarning = st.readerWarning
	for {
		// The fast path of Reader.Next, called here directly: a call or
		// two less per segment.
		if rd.fast && rd.inISA && rd.err == nil {
			if seg, ok := rd.nextFast(); ok {
				st.segments++
				st.segment(seg)
				continue
			}
		}
		seg, err := rd.Next()
		if err != nil {
			return st.end(rd, err)
		}
		st.segments++
		st.segment(seg)
	}
}

// state is the validator's position in the input.
type state struct {
	v        *Validator
	ev       Events
	rd       *Reader // nil when another goroutine reads (Validator.Pipelined)
	segments int64
	careful  bool // Validator.careful

	ix    *InterchangeResult
	grp   *GroupResult
	set   *SetResult
	endAt int64 // where the input ended, for trailers missing there

	delims    Delimiters
	isaDelims Delimiters // with Pipelined: those of the ISA about to be validated
	setSchema *Schema
	ordinal   int
	stack     []frame
	hl        map[string]hlSeen // HL01 -> HL03 for HL01s out of sequence
	hlLevels  []hlSeen          // HL03 by HL01 number (index 0 unused)
	hlNext    int
	controls  map[string]bool  // ST02s in the current group
	instances int              // loop instances numbered so far in the set
	pool      [][]int          // count slices, one per loop depth
	kept      keptChunks       // where kept segments are copied
	held      held[keptChunks] // with ReuseSegments: the kept chunks of sets not yet released
	spareKept []keptChunks     // kept chunks of released sets, for the next
	started   int              // sets started so far (the Seq of the last)
	anClass   [256]uint8       // byte classes for text values (see setANClass)
	found     [256]foundMemo   // see scan
	syntaxOK  [64]struct {     // see checkSyntaxNotes
		def     *SegmentDef
		present uint64
	}
	event SegmentEvent
}

type frame struct {
	entry  *Entry
	pos    int
	counts []int
	inst   int    // loop instance number within the set (SetResult.Loops)
	bloom  uint64 // what a segment may find here: entry.bloom for the set, entry.tail for a loop
}

// push opens a loop instance (or, first, the set's root) whose first entry
// has just occurred. Count slices are reused per depth, so placing
// segments does not allocate.
func (st *state) push(e *Entry) {
	d := len(st.stack)
	for len(st.pool) <= d {
		st.pool = append(st.pool, nil)
	}
	c := st.pool[d]
	if cap(c) < len(e.Body) {
		c = make([]int, len(e.Body), max(len(e.Body), 16))
	} else {
		c = c[:len(e.Body)]
		clear(c)
	}
	c[0] = 1
	st.pool[d] = c
	inst, bloom := 0, e.bloom
	if d > 0 {
		st.instances++
		inst = st.instances
		bloom = e.tail // a loop's trigger starts a new iteration: the parent's business
		if st.v.KeepSegments && st.set != nil {
			st.set.Loops = append(st.set.Loops, LoopInstance{ID: e.Loop, Parent: int32(st.stack[d-1].inst)})
			if st.v.ReuseSegments {
				st.kept.loops = st.set.Loops
			}
		}
	}
	st.stack = append(st.stack, frame{entry: e, counts: c, inst: inst, bloom: bloom})
}

// keep records seg and the loop instance it sits in (Validator.KeepSegments).
// The kept segment shares its bytes with the reader, which never reuses
// its buffer when segments are kept, and, from the reader's fast path, its
// element slices too (Segment.kept); other element slices are copied into
// chunks that are never reused, at a few allocations per chunk instead of
// several per segment.
func (st *state) keep(seg *Segment) {
	if !st.v.KeepSegments || st.set == nil {
		return
	}
	k := &st.kept
	els := seg.Elements
	if !seg.kept {
		// The reader reuses these element slices: copy them.
		if cap(k.elems)-len(k.elems) < len(els) {
			k.elems = make([][]byte, 0, max(len(els), keptRoom(cap(k.elems), 4096)))
		}
		first := len(k.elems)
		k.elems = append(k.elems, els...)
		els = k.elems[first:len(k.elems):len(k.elems)]
	}
	if len(k.segs) == cap(k.segs) {
		k.segs = make([]Segment, 0, keptRoom(cap(k.segs), 512))
	}
	k.segs = append(k.segs, Segment{Offset: seg.Offset, Plain: seg.Plain, key: seg.key, Elements: els[:len(els):len(els)]})
	s := st.set
	s.Raw = append(s.Raw, &k.segs[len(k.segs)-1])
	owner := int32(0)
	if d := len(st.stack); d > 0 {
		owner = int32(st.stack[d-1].inst)
	}
	s.Owner = append(s.Owner, owner)
	if st.v.ReuseSegments {
		k.raw, k.owner = s.Raw, s.Owner
	}
}

// keptRoom is the capacity of the next chunk for kept segments or their
// element slices, after one of capacity was: chunks start small and
// double, up to most. With Validator.Released, each set in flight holds
// chunks of its own, and most sets are small: chunks of the largest size
// for each would be many times the memory the sets need.
func keptRoom(was, most int) int {
	return min(max(2*was, 32), most)
}

// released returns how many sets the caller is done with
// (Validator.Released): at most every set before the one being read.
func (st *state) released() int {
	n := st.started - 1
	if f := st.v.Released; f != nil {
		n = min(n, f())
	}
	return n
}

// held keeps things by the last set whose segments lie in them, until the
// caller is done with that set (Validator.Released): the reader's buffers,
// the validator's kept chunks, the pipeline's batches.
type held[T any] []struct {
	seq int
	v   T
}

// hold keeps v until set seq is released.
func (h *held[T]) hold(seq int, v T) {
	*h = append(*h, struct {
		seq int
		v   T
	}{seq, v})
}

// release hands to free, oldest first, what the sets up to done held.
func (h *held[T]) release(done int, free func(T)) {
	q := *h
	n := 0
	for ; n < len(q) && q[n].seq <= done; n++ {
		free(q[n].v)
	}
	clear(q[:n])
	*h = append(q[:0], q[n:]...)
}

// keptChunks hold the element slices of kept segments.
type keptChunks struct {
	elems [][]byte
	segs  []Segment
	// With ReuseSegments: the Raw, Owner and Loops of the last set, for reuse.
	raw   []*Segment
	owner []int32
	loops []LoopInstance
}

func (st *state) readerWarning(off int64, msg string) {
	pe := &ParseError{Severity: SeverityWarning, Offset: off, Message: msg, Err: ErrLeniency}
	st.position(pe)
	st.emit(pe)
}

// position fills the control numbers of pe from the current state.
func (st *state) position(pe *ParseError) {
	if st.ix != nil {
		pe.Interchange = st.ix.Control
		if q, id := st.ix.Sender(); q != "" || id != "" {
			pe.Sender = q + ":" + id
		}
	}
	if st.grp != nil {
		pe.Group = st.grp.Control
	}
	if st.set != nil {
		pe.Set = st.set.Control
		pe.SetID = st.set.ID
		if pe.Segment == 0 && (pe.Level >= LevelSegment || pe.Level == LevelSet && pe.SegmentID != "") {
			pe.Segment = st.ordinal
		}
	}
}

// emit routes an issue to the callback and to the result it belongs to.
func (st *state) emit(pe *ParseError) {
	if st.ev.Issue != nil {
		st.ev.Issue(pe)
	}
	if pe.Severity == SeverityWarning {
		switch {
		case st.set != nil && pe.Level >= LevelSet:
			st.set.Warnings = append(st.set.Warnings, pe)
		case st.ix != nil:
			st.ix.Warnings++
		}
		return
	}
	switch {
	case pe.Level >= LevelSet && st.set != nil:
		if len(st.set.Errors) >= MaxErrorsPerSet {
			st.set.Dropped++
			return
		}
		st.set.Errors = append(st.set.Errors, pe)
		if pe.Level == LevelSet && pe.Code != "" {
			st.set.Codes = appendCode(st.set.Codes, pe.Code)
		}
	case pe.Level == LevelGroup && st.grp != nil:
		st.grp.Errors = append(st.grp.Errors, pe)
		if pe.Code != "" {
			st.grp.Codes = appendCode(st.grp.Codes, pe.Code)
		}
	case st.ix != nil:
		st.ix.Errors = append(st.ix.Errors, pe)
		if st.ix.NoteCode == "000" && pe.Code != "" {
			st.ix.NoteCode = pe.Code
		}
	}
}

func appendCode(codes []string, c string) []string {
	for _, x := range codes {
		if x == c {
			return codes
		}
	}
	return append(codes, c)
}

func (st *state) errorf(level Level, code string, seg *Segment, elem int, sentinel error, format string, args ...any) *ParseError {
	return st.report(&ParseError{Level: level, Code: code, Element: elem, Err: sentinel, Message: fmt.Sprintf(format, args...)}, seg)
}

// report positions pe at seg (and its element) and emits it.
func (st *state) report(pe *ParseError, seg *Segment) *ParseError {
	elem := pe.Element
	if seg != nil {
		pe.Offset = seg.Offset
		pe.SegmentID = string(seg.Elements[0])
		if elem > 0 {
			pe.Offset = elementOffset(seg, elem)
		}
	}
	st.position(pe)
	st.emit(pe)
	return pe
}

// missingTrailer reports a trailer (SE, GE, IEA) missing at input offset
// off: where the next envelope segment or the input's end came instead.
func (st *state) missingTrailer(level Level, code string, off int64, format string, args ...any) {
	pe := &ParseError{Level: level, Code: code, Err: ErrTruncated, Offset: off, Message: fmt.Sprintf(format, args...)}
	st.position(pe)
	st.emit(pe)
}

func (st *state) warnf(level Level, seg *Segment, elem int, format string, args ...any) {
	st.warnErr(ErrLeniency, level, seg, elem, format, args...)
}

func (st *state) warnErr(sentinel error, level Level, seg *Segment, elem int, format string, args ...any) {
	pe := &ParseError{Severity: SeverityWarning, Level: level, Element: elem, Err: sentinel, Message: fmt.Sprintf(format, args...)}
	if seg != nil {
		pe.Offset = seg.Offset
		pe.SegmentID = string(seg.Elements[0])
	}
	st.position(pe)
	st.emit(pe)
}

// elementOffset approximates the input offset of element i of seg.
func elementOffset(seg *Segment, i int) int64 {
	off := seg.Offset
	for k := 0; k < i && k < len(seg.Elements); k++ {
		off += int64(len(seg.Elements[k])) + 1
	}
	return off
}

// fatal records an error after which the input cannot be read further.
func (st *state) fatal(pe *ParseError) {
	pe.Level = LevelInterchange
	if st.ix == nil {
		st.ix = &InterchangeResult{Offset: pe.Offset, NoteCode: "000", Complete: true}
	}
	st.position(pe)
	st.emit(pe)
}

func (st *state) segment(seg *Segment) {
	id := seg.Elements[0]
	if st.set != nil && len(id) > 0 && (id[0] != 'I' && id[0] != 'G' && id[0] != 'S' && id[0] != 'T' || !envelopeKey(seg.Key())) {
		// Not an envelope segment: the common case inside a set.
		st.ordinal++
		st.set.Segments++
		if st.setSchema != nil {
			st.place(seg)
		} else {
			st.body(seg)
		}
		return
	}
	switch string(id) {
	case "ISA":
		st.isa(seg)
		return
	case "IEA":
		st.iea(seg)
		return
	case "GS":
		st.gs(seg)
		return
	case "GE":
		st.ge(seg)
		return
	case "ST":
		st.st(seg)
		return
	case "TA1", "ISB", "ISE", "TA3":
		// Interchange-level segments between the ISA and the first GS.
		if st.grp == nil && st.ix != nil {
			if string(id) == "TA1" {
				st.ix.TA1 = append(st.ix.TA1, seg.Clone())
			}
			st.emitSegment(seg, st.envelopeDef(string(id)), 0)
			return
		}
	}
	if st.set == nil {
		if st.ix == nil {
			return
		}
		if st.grp == nil {
			st.errorf(LevelInterchange, "024", seg, 0, ErrEnvelope, "segment %s outside a functional group (expected GS, TA1 or IEA)", id)
		} else {
			st.errorf(LevelGroup, "", seg, 0, ErrEnvelope, "segment %s outside a transaction set (expected ST or GE)", id)
		}
		return
	}
	st.ordinal++
	st.set.Segments++
	if string(id) == "SE" {
		st.se(seg)
		return
	}
	st.body(seg)
}

func (st *state) emitSegment(seg *Segment, def *SegmentDef, ordinal int) {
	if st.ev.Segment == nil {
		return
	}
	st.event = SegmentEvent{Segment: seg, Def: def, Ordinal: ordinal, Delims: &st.delims}
	if len(st.stack) > 0 {
		st.event.Depth = len(st.stack) - 1
		st.event.LoopID = st.stack[len(st.stack)-1].entry.Loop
	}
	st.ev.Segment(&st.event)
}

// envelopeKey reports whether a segment key is ISA, IEA, GS, GE, ST, SE,
// TA1, ISB, ISE or TA3: segments that segment() handles itself.
func envelopeKey(k uint32) bool {
	switch k {
	case isaKey, ieaKey, gsKey, geKey, stKey, seKey, ta1Key, isbKey, iseKey, ta3Key:
		return true
	}
	return k == 0 // an ID of more than three characters: the careful way
}

var (
	isaKey, ieaKey = segKey([]byte("ISA")), segKey([]byte("IEA"))
	gsKey, geKey   = segKey([]byte("GS")), segKey([]byte("GE"))
	stKey          = segKey([]byte("ST"))
	ta1Key, ta3Key = segKey([]byte("TA1")), segKey([]byte("TA3"))
	isbKey, iseKey = segKey([]byte("ISB")), segKey([]byte("ISE"))
)

// ---- envelope ----

var isaQualifiers = map[string]bool{
	"01": true, "02": true, "03": true, "04": true, "07": true, "08": true, "09": true, "10": true,
	"11": true, "12": true, "13": true, "14": true, "15": true, "16": true, "17": true, "18": true,
	"19": true, "20": true, "21": true, "22": true, "23": true, "24": true, "25": true, "26": true,
	"27": true, "28": true, "29": true, "30": true, "31": true, "32": true, "33": true, "34": true,
	"35": true, "36": true, "37": true, "38": true, "AM": true, "NR": true, "SA": true, "SN": true, "ZZ": true,
}

// trimPad removes the space (and no-break space) padding of ISA fields.
func trimPad(s string) string {
	return strings.TrimRight(strings.TrimSpace(s), " \u00a0")
}

func (st *state) isa(seg *Segment) {
	if st.ix != nil {
		st.closeInterchange(seg.Offset, false)
	}
	if st.rd != nil {
		st.delims = st.rd.Delimiters()
	} else {
		st.delims = st.isaDelims
	}
	st.setANClass()
	ix := &InterchangeResult{Offset: seg.Offset, Delims: st.delims, NoteCode: "000"}
	for i := 1; i <= 16 && i < len(seg.Elements); i++ {
		ix.ISA[i] = string(seg.Elements[i])
	}
	ix.Control = trimPad(ix.ISA[13])
	ix.AckRequested = trimPad(ix.ISA[14]) == "1"
	st.ix = ix
	st.emitSegment(seg, st.envelopeDef("ISA"), 0)
	f := func(i int) string { return trimPad(ix.ISA[i]) }
	check := func(ok bool, elem int, code, format string, args ...any) {
		if !ok {
			st.errorf(LevelInterchange, code, seg, elem, ErrEnvelope, format, args...)
		}
	}
	// Fixed width is part of the ISA's definition: the reader finds the
	// delimiters of an unpadded ISA, but the envelope is still wrong.
	widthCodes := [17]string{"", "010", "011", "012", "013", "005", "006", "007", "008", "014", "015", "016", "017", "018", "019", "020", "027"}
	for i := 1; i <= 16; i++ {
		if n := utf8.RuneCountInString(ix.ISA[i]); n != isaFixedWidths[i-1] {
			st.errorf(LevelInterchange, widthCodes[i], seg, i, ErrEnvelope, "ISA%02d %q is %d characters; the ISA is fixed width and ISA%02d must be %d", i, ix.ISA[i], n, i, isaFixedWidths[i-1])
		}
	}
	check(len(f(1)) == 2 && f(1) >= "00" && f(1) <= "07", 1, "010", "ISA01 authorization information qualifier %q is not 00 to 07", f(1))
	check(f(3) == "00" || f(3) == "01", 3, "012", "ISA03 security information qualifier %q is not 00 or 01", f(3))
	check(isaQualifiers[f(5)], 5, "005", "ISA05 sender ID qualifier %q is not a known qualifier", f(5))
	check(f(6) != "", 6, "006", "ISA06 sender ID is empty")
	check(isaQualifiers[f(7)], 7, "007", "ISA07 receiver ID qualifier %q is not a known qualifier", f(7))
	check(f(8) != "", 8, "008", "ISA08 receiver ID is empty")
	check(validDate([]byte(f(9))) && len(f(9)) == 6, 9, "014", "ISA09 interchange date %q is not a valid YYMMDD date", f(9))
	check(validTime([]byte(f(10))) && len(f(10)) == 4, 10, "015", "ISA10 interchange time %q is not a valid HHMM time", f(10))
	check(len(f(12)) == 5 && allDigits(f(12)), 12, "017", "ISA12 version %q is not five digits", f(12))
	check(len(ix.Control) == 9 && allDigits(ix.Control), 13, "018", "ISA13 interchange control number %q is not nine digits", ix.Control)
	check(f(14) == "0" || f(14) == "1", 14, "019", "ISA14 acknowledgment requested %q is not 0 or 1", f(14))
	check(f(15) == "P" || f(15) == "T" || f(15) == "I", 15, "020", "ISA15 usage indicator %q is not P, T or I", f(15))
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (st *state) envelopeDef(id string) *SegmentDef {
	if st.v.Registry == nil {
		return nil
	}
	for _, ver := range []string{"005010", "004010"} {
		if d, ok := st.v.Registry.Segment(ver, id); ok {
			return d
		}
	}
	return nil
}

func (st *state) iea(seg *Segment) {
	if st.ix == nil {
		return
	}
	st.emitSegment(seg, st.envelopeDef("IEA"), 0)
	if st.grp != nil {
		st.closeGroup(seg, false)
	}
	if n, err := strconv.Atoi(string(seg.Element(1))); err != nil || n != st.ix.Groups {
		st.errorf(LevelInterchange, "021", seg, 1, ErrCountMismatch, "IEA01 says %q functional groups, the interchange has %d", seg.Element(1), st.ix.Groups)
	}
	if got := string(seg.Element(2)); got != st.ix.Control {
		st.errorf(LevelInterchange, "001", seg, 2, ErrControlMismatch, "IEA02 %q does not match ISA13 %q", got, st.ix.Control)
	}
	st.ix.Complete = true
	st.closeInterchange(seg.Offset, true)
}

func (st *state) closeInterchange(off int64, complete bool) {
	st.endAt = off
	if st.grp != nil {
		st.closeGroup(nil, false)
	}
	if !complete {
		st.missingTrailer(LevelInterchange, "023", off, "interchange %s has no IEA trailer", st.ix.Control)
	}
	if st.ev.Interchange != nil {
		st.ev.Interchange(st.ix)
	}
	st.ix = nil
}

func (st *state) gs(seg *Segment) {
	if st.ix == nil {
		return
	}
	if st.grp != nil {
		st.closeGroup(seg, false)
	}
	g := &GroupResult{Offset: seg.Offset, Interchange: st.ix.Control, Included: -1}
	for i := 1; i <= 8 && i < len(seg.Elements); i++ {
		g.GS[i] = string(seg.Elements[i])
	}
	g.Control, g.Version = g.GS[6], g.GS[8]
	st.ix.Groups++
	st.grp = g
	st.controls = map[string]bool{}
	def := st.envelopeDef("GS")
	if d, ok := st.v.Registry.Segment(g.Version, "GS"); ok {
		def = d
	}
	st.emitSegment(seg, def, 0)
	if len(g.Control) == 0 || len(g.Control) > 9 || !allDigits(g.Control) {
		st.errorf(LevelGroup, "6", seg, 6, ErrEnvelope, "GS06 group control number %q is not 1 to 9 digits", g.Control)
	}
	if g.Version == "" {
		st.errorf(LevelGroup, "2", seg, 8, ErrEnvelope, "GS08 version is empty")
	} else if st.v.Registry != nil {
		if _, ok := st.v.Registry.dictionary[prefix6(g.Version)]; !ok {
			st.warnErr(ErrNoSchema, LevelGroup, seg, 8, "no schemas for version %s: its sets are checked at envelope and syntax level only", g.Version)
		}
	}
	if def != nil {
		if d := seg.Element(4); len(d) == 6 && validDate(d) {
			// Before 004010 GS04 was YYMMDD, and some translators still
			// send it so; the date is clear, so read it and say so.
			st.warnf(LevelGroup, seg, 4, "GS04 %q is a six-digit date (YYMMDD); %s expects CCYYMMDD", d, g.Version)
			def = relaxedGS(def)
		}
		st.checkElements(seg, def, LevelGroup)
	}
}

// relaxedGS returns a copy of the GS definition whose GS04 takes six digits.
func relaxedGS(def *SegmentDef) *SegmentDef {
	c := *def
	c.Elements = append([]*ElementDef(nil), def.Elements...)
	if len(c.Elements) >= 4 {
		e := *c.Elements[3]
		e.Min = 6
		c.Elements[3] = &e
	}
	return &c
}

func prefix6(v string) string {
	if len(v) > 6 {
		return v[:6]
	}
	return v
}

func (st *state) ge(seg *Segment) {
	if st.grp == nil {
		if st.ix != nil {
			st.errorf(LevelInterchange, "024", seg, 0, ErrEnvelope, "GE without a GS")
		}
		return
	}
	st.closeGroup(seg, true)
}

// closeGroup ends the current group at its GE (complete) or where the next
// envelope segment shows that the GE is missing.
func (st *state) closeGroup(seg *Segment, complete bool) {
	if st.set != nil {
		st.closeSet(seg, false)
	}
	g := st.grp
	if complete {
		g.Complete = true
		st.emitSegment(seg, st.envelopeDef("GE"), 0)
		if n, err := strconv.Atoi(string(seg.Element(1))); err == nil {
			g.Included = n
		}
		if g.Included != g.Received {
			st.errorf(LevelGroup, "5", seg, 1, ErrCountMismatch, "GE01 says %q transaction sets, the group has %d", seg.Element(1), g.Received)
		}
		if got := string(seg.Element(2)); got != g.Control {
			st.errorf(LevelGroup, "4", seg, 2, ErrControlMismatch, "GE02 %q does not match GS06 %q", got, g.Control)
		}
	} else if seg != nil {
		st.errorf(LevelGroup, "3", seg, 0, ErrTruncated, "functional group %s has no GE trailer", g.Control)
	} else {
		st.missingTrailer(LevelGroup, "3", st.endAt, "functional group %s has no GE trailer", g.Control)
	}
	switch {
	case len(g.Errors) > 0 && g.Accepted == 0 || g.Received == 0 && len(g.Errors) > 0:
		g.Status = "R"
	case g.Accepted == 0 && g.Received > 0:
		g.Status = "R"
	case g.Accepted < g.Received:
		g.Status = "P"
	case len(g.Errors) > 0:
		g.Status = "E"
	default:
		g.Status = "A"
	}
	if st.ev.Group != nil {
		st.ev.Group(g)
	}
	st.grp = nil
}

func (st *state) st(seg *Segment) {
	if st.grp == nil {
		if st.ix != nil {
			st.errorf(LevelInterchange, "024", seg, 0, ErrEnvelope, "ST outside a functional group")
		}
		return
	}
	if st.set != nil {
		st.closeSet(seg, false)
	}
	g, ix := st.grp, st.ix
	s := &SetResult{
		Offset: seg.Offset, Interchange: ix.Control, Group: g.Control, GroupID: g.GS[1], Version: g.Version,
		ID: string(seg.Element(1)), Control: string(seg.Element(2)), ImplRef: string(seg.Element(3)),
		Delimiters: st.delims, GroupSender: g.GS[2], GroupRecvr: g.GS[3],
	}
	s.SenderQual, s.SenderID = ix.Sender()
	s.ReceiverQ, s.ReceiverID = ix.Receiver()
	g.Received++
	st.set = s
	st.ordinal = 1
	s.Segments = 1
	st.hl = nil
	st.hlNext = 1
	st.hlLevels = st.hlLevels[:0]
	st.stack = st.stack[:0]
	st.instances = 0
	st.started++
	s.Seq = st.started
	if st.v.KeepSegments && st.v.ReuseSegments {
		// The segments of released sets are no longer needed.
		done := st.released()
		if st.rd != nil { // else the pipeline recycles (see holdBatch)
			st.rd.recycle(s.Seq-1, done)
		}
		// The chunks of the set before are held until it is released;
		// this one takes those of a set released, if any.
		st.held.hold(s.Seq-1, st.kept)
		st.held.release(done, func(k keptChunks) { st.spareKept = append(st.spareKept, k) })
		st.kept = keptChunks{}
		if n := len(st.spareKept); n > 0 {
			st.kept = st.spareKept[n-1]
			st.spareKept[n-1] = keptChunks{}
			st.spareKept = st.spareKept[:n-1]
		}
		k := &st.kept
		k.elems, k.segs = k.elems[:0], k.segs[:0]
		s.Raw, s.Owner, s.Loops = k.raw[:0], k.owner[:0], k.loops[:0]
	}
	if len(s.ID) != 3 || !allDigits(s.ID) {
		st.errorf(LevelSet, "6", seg, 1, ErrEnvelope, "ST01 transaction set identifier %q is not three digits", s.ID)
	}
	if l := len(s.Control); l < 4 || l > 9 {
		st.errorf(LevelSet, "7", seg, 2, ErrEnvelope, "ST02 transaction set control number %q is not 4 to 9 characters", s.Control)
	} else if st.controls[s.Control] {
		st.errorf(LevelSet, "23", seg, 2, ErrEnvelope, "ST02 %q is used twice in group %s", s.Control, g.Control)
	}
	st.controls[s.Control] = true
	var schema *Schema
	if st.v.Registry != nil {
		schema, _ = st.v.Registry.Lookup(s.ID, g.Version)
	}
	st.setSchema = schema
	if schema == nil {
		if _, known := st.v.Registry.dictionaryFor(g.Version); known {
			st.warnErr(ErrNoSchema, LevelSet, seg, 0, "no schema for %s %s: the set is checked at envelope and syntax level only", s.ID, g.Version)
		}
		st.emitSegment(seg, st.envelopeDef("ST"), 1)
		st.keep(seg)
		return
	}
	s.HasSchema = true
	if g.GS[1] != schema.Group {
		st.warnf(LevelSet, seg, 1, "GS01 is %q but a %s belongs in a %q group", g.GS[1], s.ID, schema.Group)
	}
	st.push(schema.root)
	def := schema.root.Body[0].def
	st.emitSegment(seg, def, 1)
	st.keep(seg)
	st.checkElements(seg, def, LevelElement)
}

func (reg *Registry) dictionaryFor(version string) (*SegmentsFile, bool) {
	if reg == nil {
		return nil, false
	}
	d, ok := reg.dictionary[prefix6(version)]
	return d, ok
}

func (st *state) se(seg *Segment) {
	s := st.set
	if st.setSchema != nil {
		st.place(seg)
	} else {
		st.emitSegment(seg, st.envelopeDef("SE"), st.ordinal)
	}
	st.keep(seg)
	if n, err := strconv.Atoi(string(seg.Element(1))); err != nil || n != s.Segments {
		st.errorf(LevelSet, "4", seg, 1, ErrCountMismatch, "SE01 says %q segments, the set has %d", seg.Element(1), s.Segments)
	}
	if got := string(seg.Element(2)); got != s.Control {
		st.errorf(LevelSet, "3", seg, 2, ErrControlMismatch, "SE02 %q does not match ST02 %q", got, s.Control)
	}
	s.Complete = true
	st.closeSet(seg, true)
}

func (st *state) closeSet(seg *Segment, complete bool) {
	s := st.set
	if !complete {
		off := st.endAt
		if seg != nil {
			off = seg.Offset
		}
		st.missingTrailer(LevelSet, "2", off, "transaction set %s %s has no SE trailer", s.ID, s.Control)
	}
	switch {
	case len(s.Errors) > 0 || s.Dropped > 0:
		s.Status = "R"
		if len(s.Codes) == 0 {
			s.Codes = append(s.Codes, "5")
		}
	case len(s.Warnings) > 0 && s.HasSchema && hasSetWarning(s):
		s.Status = "E"
		st.grp.Accepted++
	default:
		s.Status = "A"
		st.grp.Accepted++
	}
	if st.ix != nil {
		s.EnvelopeErrors += len(st.ix.Errors)
	}
	if st.grp != nil {
		s.EnvelopeErrors += len(st.grp.Errors)
	}
	st.set = nil
	st.setSchema = nil
	if st.ev.Set != nil {
		st.ev.Set(s)
	}
}

// hasSetWarning reports whether a warning concerns the set's content (as
// opposed to the file's layout), which makes the set "accepted with errors".
func hasSetWarning(s *SetResult) bool {
	for _, w := range s.Warnings {
		if w.Level >= LevelSegment {
			return true
		}
	}
	return false
}

// ---- set body ----

func (st *state) body(seg *Segment) {
	if st.setSchema == nil {
		var def *SegmentDef
		if st.v.Registry != nil {
			def, _ = st.v.Registry.Segment(st.set.Version, string(seg.Elements[0]))
		}
		st.emitSegment(seg, def, st.ordinal)
		st.keep(seg)
		if !validSegmentID(seg.Elements[0]) {
			st.errorf(LevelSegment, "1", seg, 0, ErrSegment, "%q is not a segment ID", seg.Elements[0])
		}
		return
	}
	st.place(seg)
}

func validSegmentID(id []byte) bool {
	if len(id) < 2 || len(id) > 3 {
		return false
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return id[0] >= 'A' && id[0] <= 'Z'
}

// place finds seg's position in the set's structure, reporting missing
// mandatory segments, repeats over the maximum and segments out of place,
// then checks its elements.
func (st *state) place(seg *Segment) {
	id := seg.Elements[0]
	key := seg.Key()
	bit := keyBit(key)
	for depth := len(st.stack) - 1; depth >= 0; depth-- {
		f := &st.stack[depth]
		if f.bloom&bit == 0 {
			continue // nothing in this loop (past its trigger) has that ID
		}
		body := f.entry.Body
		from := f.pos
		if depth > 0 && from == 0 {
			// A loop's trigger starts a new iteration, which is the
			// parent's business.
			from = 1
		}
		// The remembered answer (see scan), else a scan.
		m := &st.found[uint8((key^f.entry.key+uint32(from))*2654435761>>24)]
		i := int(m.i)
		if m.key != key || m.loop != f.entry || m.from != int32(from) {
			i = st.scan(m, f.entry, from, key)
		}
		if i >= 0 {
			e := body[i]
			// Found: close the inner loops, then the skipped entries.
			for d := len(st.stack) - 1; d > depth; d-- {
				st.missing(seg, &st.stack[d], len(st.stack[d].entry.Body))
			}
			st.stack = st.stack[:depth+1]
			f = &st.stack[depth]
			if i > f.pos+1 || i == f.pos+1 && f.counts[f.pos] == 0 {
				st.missing(seg, f, i) // entries were skipped
			}
			if i != f.pos || f.counts[i] == 0 {
				f.pos = i
			}
			f.counts[i]++
			if e.Loop != "" {
				if e.Max > 0 && f.counts[i] > e.Max {
					st.errorf(LevelSegment, "4", seg, 0, ErrSegment, "loop %s occurs more than %d times", e.Loop, e.Max)
				}
				for e.Loop != "" { // (a loop may start with a loop)
					st.push(e)
					e = e.Body[0]
				}
			} else if e.Max > 0 && f.counts[i] > e.Max {
				st.errorf(LevelSegment, "5", seg, 0, ErrSegment, "segment %s occurs more than %d times here", e.Seg, e.Max)
			}
			if st.ev.Segment != nil {
				st.emitSegment(seg, e.def, st.ordinal)
			}
			if key != seKey {
				if st.v.KeepSegments {
					st.keep(seg)
				}
				st.checkElements(seg, e.def, LevelElement)
				if key == hlKey && st.setSchema.Hierarchy != nil {
					st.checkHL(seg)
				}
			}
			return
		}
	}
	// Not placeable.
	st.emitSegment(seg, nil, st.ordinal)
	st.keep(seg)
	switch {
	case !validSegmentID(id):
		st.errorf(LevelSegment, "1", seg, 0, ErrSegment, "%q is not a segment ID", id)
	case st.setSchema.inSet[string(id)]:
		st.errorf(LevelSegment, "7", seg, 0, ErrSegment, "segment %s is not in its proper sequence in a %s", id, st.set.ID)
	default:
		if _, known := st.v.Registry.Segment(st.set.Version, string(id)); known {
			st.errorf(LevelSegment, "6", seg, 0, ErrSegment, "segment %s is not defined in a %s", id, st.set.ID)
		} else {
			st.errorf(LevelSegment, "1", seg, 0, ErrSegment, "unrecognized segment ID %s", id)
		}
	}
}

var hlKey, seKey = segKey([]byte("HL")), segKey([]byte("SE"))

// scan returns the index of the first entry of loop's body, at from or
// after, that the segment ID key starts, or -1, and remembers the answer
// in m, a slot of st.found. Placing a segment asks the same few questions
// over and over (a PID after a PO1, the next PO1 in the PO1 loop), and the
// answer to each depends on nothing else: place looks in st.found first
// instead of scanning the body, which holds some thirty entries in an
// 850's PO1 loop.
func (st *state) scan(m *foundMemo, loop *Entry, from int, key uint32) int {
	if key == 0 {
		return -1
	}
	i := -1
	for j, k := range loop.keys[min(from, len(loop.keys)):] {
		if k == key {
			i = from + j
			break
		}
	}
	if !st.careful {
		*m = foundMemo{loop: loop, from: int32(from), key: key, i: int32(i)}
	}
	return i
}

// foundMemo is one answer of scan.
type foundMemo struct {
	loop *Entry
	from int32
	key  uint32
	i    int32
}

// missing reports the mandatory entries of f from f.pos up to (excluding) end
// that never occurred.
func (st *state) missing(at *Segment, f *frame, end int) {
	if end <= f.pos+1 && (end <= f.pos || f.counts[f.pos] > 0) {
		return // nothing skipped
	}
	for _, j := range f.entry.mand {
		if j < f.pos || j >= end {
			continue
		}
		e := f.entry.Body[j]
		if f.counts[j] == 0 {
			what := "segment " + e.Seg
			if e.Loop != "" {
				what = "loop " + e.Loop + " (segment " + e.trigger() + ")"
			}
			pe := &ParseError{Level: LevelSegment, Code: "3", Err: ErrSegment, LoopID: f.entry.Loop, Message: fmt.Sprintf("mandatory %s is missing before %s", what, at.Elements[0])}
			pe.Offset = at.Offset
			pe.SegmentID = e.trigger()
			st.position(pe)
			st.emit(pe)
		}
	}
}

// hlSeen is the level of an HL segment already read: its code and, when
// the schema knows it, its hlLevel.index (else 0).
type hlSeen struct {
	code  string
	index int
}

func (st *state) checkHL(seg *Segment) {
	idb, pb, lb := seg.Element(1), seg.Element(2), seg.Element(3)
	lvl, known := st.setSchema.level(lb)
	var level hlSeen
	if known {
		level = hlSeen{lvl.code, lvl.index}
	} else {
		level = hlSeen{code: string(lb)}
	}
	n, numeric := atoiBytes(idb)
	if !numeric || n != st.hlNext {
		st.errorf(LevelElement, "7", seg, 1, ErrElement, "HL01 is %q; hierarchical IDs must run 1, 2, 3… (expected %d)", idb, st.hlNext)
	}
	st.hlNext++
	if len(st.hlLevels) == 0 {
		st.hlLevels = append(st.hlLevels, hlSeen{}) // HL01 numbers start at 1
	}
	// Sequential numeric IDs (the rule) live in a slice; others in a map.
	if numeric && n == len(st.hlLevels) {
		st.hlLevels = append(st.hlLevels, level)
	} else {
		if st.hl == nil {
			st.hl = map[string]hlSeen{}
		}
		if _, dup := st.hl[string(idb)]; dup || numeric && n > 0 && n < len(st.hlLevels) {
			st.errorf(LevelElement, "7", seg, 1, ErrElement, "HL01 %q is used twice", idb)
		}
		st.hl[string(idb)] = level
	}
	var parent hlSeen // none
	if len(pb) > 0 {
		if p, pnum := atoiBytes(pb); pnum && p >= 1 && p < len(st.hlLevels) && p != n {
			parent = st.hlLevels[p]
		} else if pl, inMap := st.hl[string(pb)]; inMap && string(pb) != string(idb) {
			parent = pl
		} else {
			st.errorf(LevelElement, "7", seg, 2, ErrElement, "HL02 parent %q is not an earlier HL01", pb)
			return
		}
	}
	if !known {
		return // the code list check reports unknown level codes
	}
	if st.careful {
		// no shortcut
	} else if len(pb) == 0 && lvl.parentBits&1 != 0 || parent.index > 0 && parent.index < 64 && lvl.parentBits&(1<<parent.index) != 0 {
		return
	}
	allowed := lvl.parents
	for _, a := range allowed {
		if a == parent.code {
			return
		}
	}
	if parent.code == "" {
		st.errorf(LevelElement, "7", seg, 2, ErrElement, "HL level %s must have a parent (one of %s)", level.code, strings.Join(allowed, ", "))
	} else {
		st.errorf(LevelElement, "7", seg, 3, ErrElement, "HL level %s cannot be a child of level %s (allowed parents: %s)", level.code, parent.code, levelList(allowed))
	}
}

// atoiBytes parses a small non-negative decimal number.
func atoiBytes(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func levelList(l []string) string {
	out := make([]string, len(l))
	for i, x := range l {
		if x == "" {
			x = "none"
		}
		out[i] = x
	}
	return strings.Join(out, ", ")
}

// checkElements checks seg's elements against def. Errors are reported at
// level (LevelElement inside sets, LevelGroup for GS).
func (st *state) checkElements(seg *Segment, def *SegmentDef, level Level) {
	if present, ok := plainElements(seg.Elements, def, seg.Plain && !st.careful); ok {
		st.checkSyntaxNotes(seg, def, level, present)
		return
	}
	n := len(seg.Elements) - 1
	if n > len(def.Elements) {
		extra := false
		for _, e := range seg.Elements[len(def.Elements)+1:] {
			if len(e) > 0 {
				extra = true
			}
		}
		if extra {
			st.elemErr(level, "3", seg, len(def.Elements)+1, 0, 0, nil, "segment %s has %d elements; at most %d are defined", seg.Elements[0], n, len(def.Elements))
		} else {
			st.warnf(LevelSegment, seg, 0, "trailing empty elements after %s%02d", seg.Elements[0], len(def.Elements))
		}
	}
	if n > 0 && len(seg.Elements[n]) == 0 && n <= len(def.Elements) {
		st.warnf(LevelSegment, seg, n, "segment %s ends with an empty element (a trailing separator)", seg.Elements[0])
	}
	d := &st.delims
	var present uint64
	// Past the last element present, only mandatory ones need a look.
	end := min(len(def.Elements), max(n, def.lastMand))
	for i, ed := range def.Elements[:end] {
		var v []byte
		if i+1 <= n {
			v = seg.Elements[i+1]
		}
		if len(v) == 0 {
			if ed.mand {
				st.elemErr(level, "1", seg, i+1, 0, 0, ed, "mandatory element %s%02d (%s) is missing", seg.Elements[0], i+1, ed.Name)
			}
			continue
		}
		if i+1 < 64 {
			present |= 1 << (i + 1)
		}
		// The commonest case inline: plain text of the right length.
		if seg.Plain && ed.text && len(v) >= ed.Min && len(v) <= ed.Max && (ed.codes == nil || ed.hasCode(v)) {
			continue
		}
		if valueOK(ed, v, seg.Plain, &st.anClass) {
			continue
		}
		if d.Repetition != 0 && bytes.IndexByte(v, d.Repetition) >= 0 {
			reps := bytes.Split(v, []byte{d.Repetition})
			if ed.Repeat <= 1 || len(reps) > ed.Repeat {
				max := max(ed.Repeat, 1)
				st.elemErr(level, "12", seg, i+1, 0, len(reps), ed, "element %s%02d repeats %d times; at most %d allowed", seg.Elements[0], i+1, len(reps), max)
				continue
			}
			for r, rv := range reps {
				st.checkOne(level, seg, i+1, r+1, ed, rv)
			}
			continue
		}
		st.checkOne(level, seg, i+1, 0, ed, v)
	}
	st.checkSyntaxNotes(seg, def, level, present)
}

// checkSyntaxNotes checks def's syntax notes given which elements are
// present (bit i: element i).
func (st *state) checkSyntaxNotes(seg *Segment, def *SegmentDef, level Level, present uint64) {
	if present&def.synAll == 0 && !def.synR {
		return // no note can be violated when none of its elements is there
	}
	// The same segment ID tends to come with the same elements present:
	// remember, per ID, the last presence that satisfied every note.
	memo := &st.syntaxOK[seg.Key()*2654435761>>26&63]
	if memo.def == def && memo.present == present && !st.careful {
		return
	}
	ok := len(def.Elements) < 64
	for i := range def.syntax {
		if r := &def.syntax[i]; !r.satisfied(present) || len(def.Elements) >= 64 {
			st.checkSyntax(level, seg, *r)
			ok = false
		}
	}
	if ok {
		memo.def, memo.present = def, present
	}
}

// plainElements checks the elements of a Plain segment against def on the
// fast path. It returns which elements are present and true when every
// element is certainly valid, and false at the first doubt (a missing
// mandatory element, a composite, a bad value, extra or trailing empty
// elements): the careful path then checks again and explains.
func plainElements(els [][]byte, def *SegmentDef, plain bool) (uint64, bool) {
	n := len(els) - 1
	checks := def.checks
	if !plain || n <= 0 || n > len(checks) || n < def.lastMand || n >= 64 || len(els[n]) == 0 {
		return 0, false
	}
	var present uint64
	checks = checks[:n]
	for i := range checks {
		v := els[i+1]
		c := &checks[i]
		if len(v) == 0 {
			if c.mand {
				return 0, false
			}
			continue
		}
		present |= 2 << i
		switch c.op {
		case opText:
			if len(v) < c.min || len(v) > c.max {
				return 0, false
			}
		case opCodeBits:
			if len(v) < c.min || len(v) > c.max {
				return 0, false
			}
			if k, ok := codeIndex(v); !ok || c.codeBits[k/64]&(1<<(k%64)) == 0 {
				return 0, false
			}
		case opCodes:
			if len(v) < c.min || len(v) > c.max {
				return 0, false
			}
			if _, ok := c.codes[string(v)]; !ok {
				return 0, false
			}
		case opN:
			d := v
			if d[0] == '-' {
				d = d[1:]
			}
			if len(d) == 0 || len(d) < c.min || len(d) > c.max || !isDigits(d) {
				return 0, false
			}
		case opR:
			if !decimalOK(v, c.min, c.max) {
				return 0, false
			}
		case opDT:
			if len(v) < c.min || len(v) > c.max || !validDate(v) {
				return 0, false
			}
		case opTM:
			if len(v) < c.min || len(v) > c.max || !validTime(v) {
				return 0, false
			}
		default:
			return 0, false
		}
	}
	return present, true
}

// Byte classes of text (AN, ID) values on the fast path.
const (
	anPlain = iota
	anBad   // a control character or a delimiter: the careful path explains
	anCont  // a UTF-8 continuation byte: not a character of its own
)

func (st *state) setANClass() {
	for c := 0; c < 256; c++ {
		switch {
		case c < 0x20 || c == 0x7f:
			st.anClass[c] = anBad
		case c&0xc0 == 0x80:
			st.anClass[c] = anCont
		default:
			st.anClass[c] = anPlain
		}
	}
	st.anClass[st.delims.Component] = anBad
	if st.delims.Repetition != 0 {
		st.anClass[st.delims.Repetition] = anBad
	}
}

// valueOK is the fast path of element checking: one pass over a value that
// says whether it is certainly valid. Anything else takes the careful path,
// which says what is wrong.
func valueOK(ed *ElementDef, v []byte, plain bool, class *[256]uint8) bool {
	if len(ed.Components) > 0 {
		return false
	}
	switch ed.kind {
	case kindAN, kindID:
		if plain { // the reader saw only printable ASCII and no separators
			if len(v) < ed.Min || len(v) > ed.Max {
				return false
			}
			return ed.codes == nil || ed.hasCode(v)
		}
		cont := 0
		for _, c := range v {
			if t := class[c]; t != anPlain {
				if t == anBad {
					return false
				}
				cont++ // a UTF-8 continuation byte
			}
		}
		if n := len(v) - cont; n < ed.Min || n > ed.Max {
			return false
		}
		if ed.codes != nil {
			return ed.hasCode(v)
		}
		return true
	case kindN:
		s := v
		if s[0] == '-' {
			s = s[1:]
		}
		if len(s) == 0 || len(s) < ed.Min || len(s) > ed.Max {
			return false
		}
		for _, c := range s {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	case kindR:
		return decimalOK(v, ed.Min, ed.Max)
	case kindDT:
		return len(v) >= ed.Min && len(v) <= ed.Max && validDate(v)
	case kindTM:
		return len(v) >= ed.Min && len(v) <= ed.Max && validTime(v)
	}
	return false
}

// decimalOK reports whether v is an R value of min to max digits: an
// optional minus sign, digits and at most one decimal point.
func decimalOK(v []byte, min, max int) bool {
	digits, dots := 0, 0
	for i, c := range v {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		case c == '-' && i == 0:
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1 && digits >= min && digits <= max
}

func (st *state) checkOne(level Level, seg *Segment, pos, rep int, ed *ElementDef, v []byte) {
	comp := st.delims.Component
	if len(ed.Components) == 0 {
		if bytes.IndexByte(v, comp) >= 0 {
			st.elemErr(level, "6", seg, pos, 0, rep, ed, "element %s%02d holds the component separator %q but is not a composite", seg.Elements[0], pos, comp)
			return
		}
		if code, msg := checkValue(ed, v); code != "" {
			st.elemErrValue(level, code, seg, pos, 0, rep, ed, string(v), "element %s%02d (%s) %s", seg.Elements[0], pos, ed.Name, msg)
		}
		return
	}
	parts := bytes.Split(v, []byte{comp})
	if len(parts) > len(ed.Components) {
		st.elemErr(level, "13", seg, pos, 0, rep, ed, "composite %s%02d has %d components; at most %d are defined", seg.Elements[0], pos, len(parts), len(ed.Components))
		return
	}
	for c, cd := range ed.Components {
		var cv []byte
		if c < len(parts) {
			cv = parts[c]
		}
		if len(cv) == 0 {
			if cd.Req == "M" {
				st.elemErr(level, "1", seg, pos, c+1, rep, cd, "mandatory component %s%02d-%d (%s) is missing", seg.Elements[0], pos, c+1, cd.Name)
			}
			continue
		}
		if code, msg := checkValue(cd, cv); code != "" {
			st.elemErrValue(level, code, seg, pos, c+1, rep, cd, string(cv), "component %s%02d-%d (%s) %s", seg.Elements[0], pos, c+1, cd.Name, msg)
		}
	}
}

func (st *state) elemErr(level Level, code string, seg *Segment, pos, comp, rep int, ed *ElementDef, format string, args ...any) *ParseError {
	return st.elemErrValue(level, code, seg, pos, comp, rep, ed, "", format, args...)
}

// elemErrValue reports an element error carrying a copy of the bad value.
func (st *state) elemErrValue(level Level, code string, seg *Segment, pos, comp, rep int, ed *ElementDef, value, format string, args ...any) *ParseError {
	pe := &ParseError{Level: level, Code: code, Element: pos, Component: comp, Repetition: rep, Value: value, Err: ErrElement, Message: fmt.Sprintf(format, args...)}
	if ed != nil {
		pe.ElementRef = ed.Ref
	}
	return st.report(pe, seg)
}

func (st *state) checkSyntax(level Level, seg *Segment, r syntaxRule) {
	present := func(i int) bool { return len(seg.Element(i)) > 0 }
	name := func(i int) string { return fmt.Sprintf("%s%02d", seg.Elements[0], i) }
	els := r.elems
	switch r.kind {
	case 'P':
		any, all := false, true
		for _, e := range els {
			if present(e) {
				any = true
			} else {
				all = false
			}
		}
		if any && !all {
			for _, e := range els {
				if !present(e) {
					st.elemErr(level, "2", seg, e, 0, 0, nil, "%s is required when any of %s is present (syntax note %s)", name(e), names(seg, els), r.text)
				}
			}
		}
	case 'R':
		for _, e := range els {
			if present(e) {
				return
			}
		}
		st.elemErr(level, "2", seg, els[0], 0, 0, nil, "at least one of %s is required (syntax note %s)", names(seg, els), r.text)
	case 'E':
		seen := 0
		for _, e := range els {
			if present(e) {
				seen++
				if seen > 1 {
					st.elemErr(level, "10", seg, e, 0, 0, nil, "only one of %s may be present (syntax note %s)", names(seg, els), r.text)
				}
			}
		}
	case 'C':
		if present(els[0]) {
			for _, e := range els[1:] {
				if !present(e) {
					st.elemErr(level, "2", seg, e, 0, 0, nil, "%s is required when %s is present (syntax note %s)", name(e), name(els[0]), r.text)
				}
			}
		}
	case 'L':
		if present(els[0]) {
			for _, e := range els[1:] {
				if present(e) {
					return
				}
			}
			st.elemErr(level, "2", seg, els[1], 0, 0, nil, "one of %s is required when %s is present (syntax note %s)", names(seg, els[1:]), name(els[0]), r.text)
		}
	}
}

func names(seg *Segment, els []int) string {
	parts := make([]string, len(els))
	for i, e := range els {
		parts[i] = fmt.Sprintf("%s%02d", seg.Elements[0], e)
	}
	return strings.Join(parts, ", ")
}

// checkValue checks one simple value; it returns the AK403 code and a message.
func checkValue(ed *ElementDef, v []byte) (code, msg string) {
	n := len(v)
	switch ed.kind {
	case kindN:
		digits := v
		if len(digits) > 0 && digits[0] == '-' {
			digits = digits[1:]
		}
		if len(digits) == 0 || !isDigits(digits) {
			return "6", fmt.Sprintf("is %q, not a number of type %s", v, ed.Type)
		}
		n = len(digits)
	case kindR:
		n = 0
		dots, digits := 0, 0
		for i, c := range v {
			switch {
			case c >= '0' && c <= '9':
				digits++
				n++
			case c == '.':
				dots++
			case c == '-' && i == 0:
			default:
				return "6", fmt.Sprintf("is %q, not a decimal number", v)
			}
		}
		if digits == 0 || dots > 1 {
			return "6", fmt.Sprintf("is %q, not a decimal number", v)
		}
	case kindDT:
		if !validDate(v) {
			return "8", fmt.Sprintf("is %q, not a valid date", v)
		}
	case kindTM:
		if !validTime(v) {
			return "9", fmt.Sprintf("is %q, not a valid time", v)
		}
	case kindID, kindAN:
		for _, c := range v {
			if c < 0x20 || c == 0x7f {
				return "6", fmt.Sprintf("holds the control character %#x", c)
			}
		}
		if ed.kind == kindID && ed.codes != nil {
			if !ed.hasCode(v) {
				return "7", fmt.Sprintf("is %q, not a valid code", v)
			}
		}
	}
	if ed.kind == kindAN || ed.kind == kindID {
		// Lengths count characters, not bytes.
		n = 0
		for _, c := range v {
			if c&0xc0 != 0x80 {
				n++
			}
		}
	}
	switch {
	case n < ed.Min:
		return "4", fmt.Sprintf("is %q, shorter than the minimum length %d", v, ed.Min)
	case n > ed.Max:
		return "5", fmt.Sprintf("is %q, longer than the maximum length %d", v, ed.Max)
	}
	return "", ""
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// validDate accepts CCYYMMDD and YYMMDD.
func validDate(v []byte) bool {
	if (len(v) != 8 && len(v) != 6) || !isDigits(v) {
		return false
	}
	if len(v) == 6 {
		v = v[:]
	} else {
		v = v[2:]
	}
	yy := int(v[0]-'0')*10 + int(v[1]-'0')
	mm := int(v[2]-'0')*10 + int(v[3]-'0')
	dd := int(v[4]-'0')*10 + int(v[5]-'0')
	if mm < 1 || mm > 12 || dd < 1 {
		return false
	}
	days := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[mm]
	if mm == 2 && yy%4 != 0 {
		days = 28
	}
	return dd <= days
}

// validTime accepts HHMM, HHMMSS and HHMMSSd..d.
func validTime(v []byte) bool {
	if len(v) < 4 || len(v) > 8 || len(v) == 5 || !isDigits(v) {
		return false
	}
	hh := int(v[0]-'0')*10 + int(v[1]-'0')
	mm := int(v[2]-'0')*10 + int(v[3]-'0')
	if hh > 23 || mm > 59 {
		return false
	}
	if len(v) >= 6 {
		ss := int(v[4]-'0')*10 + int(v[5]-'0')
		if ss > 59 {
			return false
		}
	}
	return true
}

// finish closes whatever is still open at the end of the input.
func (st *state) finish(off int64) {
	switch {
	case st.ix == nil:
	case st.ix.Complete:
		if st.ev.Interchange != nil {
			st.ev.Interchange(st.ix)
		}
	default:
		st.closeInterchange(off, false)
	}
	st.ix = nil
}
