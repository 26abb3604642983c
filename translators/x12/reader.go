package x12

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Segment is one segment as read. Elements[0] is the segment ID; Elements[i]
// is the i-th data element, still holding any repetition and component
// separators. The slices point into the Reader's buffer and are valid only
// until the next call to Next.
type Segment struct {
	Offset   int64
	Elements [][]byte
	// Plain is set when the reader saw no byte in the segment that needs a
	// closer look: no control character, no byte above 0x7E, no component
	// or repetition separator. Validation then skips rescanning its text.
	Plain bool
	key   uint32 // segKey of the ID when set by the fast path, else 0
	// kept is set when Elements lies in a chunk the Reader does not reuse
	// before recycle (Reader.keep): keeping the segment needs no copy.
	kept bool
}

// Key returns the segment ID packed as segKey does.
func (s *Segment) Key() uint32 {
	if s.key != 0 {
		return s.key
	}
	return segKey(s.Elements[0])
}

// ID returns the segment ID.
func (s *Segment) ID() []byte { return s.Elements[0] }

// Element returns the i-th data element (1-based), or nil when absent.
func (s *Segment) Element(i int) []byte {
	if i <= 0 || i >= len(s.Elements) {
		return nil
	}
	return s.Elements[i]
}

// Clone returns a copy of s that does not share the Reader's buffer.
func (s *Segment) Clone() *Segment {
	n := 0
	for _, e := range s.Elements {
		n += len(e)
	}
	data := make([]byte, 0, n)
	c := &Segment{Offset: s.Offset, Plain: s.Plain, key: s.key, Elements: make([][]byte, len(s.Elements))}
	for i, e := range s.Elements {
		start := len(data)
		data = append(data, e...)
		c.Elements[i] = data[start:len(data):len(data)]
	}
	return c
}

// DefaultMaxSegment is the longest segment a Reader accepts by default.
const DefaultMaxSegment = 1 << 20

// Reader reads segments from an X12 stream, one at a time, in bounded memory.
// It finds each interchange's delimiters in its ISA segment, so files that
// concatenate interchanges with different delimiters are read correctly.
// Irregularities that a careful reader can read past without guessing are
// reported through OnWarning; anything ambiguous is an error.
type Reader struct {
	// OnWarning, when set, receives each tolerated irregularity.
	OnWarning func(offset int64, msg string)
	// MaxSegment bounds the length of one segment (DefaultMaxSegment if 0).
	MaxSegment int

	src    io.Reader
	buf    []byte
	r, w   int   // unread data is buf[r:w]
	base   int64 // input offset of buf[0]
	srcErr error // sticky error from src (io.EOF at the end)
	err    error // sticky error returned by Next

	delims      Delimiters
	class       [256]uint8       // byte classes of the fast path
	fast        bool             // single-byte terminator: the fast path applies
	noFast      bool             // tests: always take the careful path
	keep        bool             // never overwrite bytes handed out (Validator.KeepSegments)
	reuse       bool             // with keep: recycle will be called (Validator.ReuseSegments)
	retired     [][]byte         // with reuse: buffers left to the segments handed out
	spare       [][]byte         // with reuse: buffers free again (see recycle)
	free        [][]byte         // with keep: where the fast path puts element slices, the rest of a chunk
	chunk       [][]byte         // with reuse: the chunk free is the rest of
	oldChunks   [][][]byte       // with reuse: chunks left to the segments handed out
	spareChunks [][][]byte       // with reuse: chunks free again
	held        held[leftBehind] // with reuse: what was left while reading sets not yet released
	own         [][]byte         // element slices reused from segment to segment
	header      isaHeader
	inISA       bool
	started     bool
	warnedLF    bool
	warnedSpace bool
	seg         Segment
}

// NewReader returns a Reader that reads from src.
func NewReader(src io.Reader) *Reader {
	return &Reader{src: src, buf: make([]byte, 64<<10)}
}

// Delimiters returns the delimiters of the current interchange.
func (r *Reader) Delimiters() Delimiters { return r.delims }

// ISAFields returns ISA01..ISA16 of the current interchange (index 1..16),
// with line breaks removed.
func (r *Reader) ISAFields() [17]string { return r.header.fields }

// Offset returns the input offset of the next unread byte.
func (r *Reader) Offset() int64 { return r.base + int64(r.r) }

func (r *Reader) warn(off int64, format string, args ...any) {
	if r.OnWarning != nil {
		r.OnWarning(off, fmt.Sprintf(format, args...))
	}
}

// fill reads more input, compacting or growing the buffer as needed. It
// returns false when no more input can be had (r.srcErr says why).
func (r *Reader) fill() bool {
	if r.srcErr != nil {
		return false
	}
	if r.r > 0 && r.keep {
		// Segments handed out may be kept: leave them their bytes, and
		// go on in a spare buffer or a new one.
		var nb []byte
		for len(r.spare) > 0 && nb == nil {
			// A spare smaller than the buffer (which has grown since for
			// a long segment) could not take what is unread: drop it.
			if b := r.spare[len(r.spare)-1]; len(b) >= len(r.buf) {
				nb = b
			}
			r.spare = r.spare[:len(r.spare)-1]
		}
		if nb == nil {
			nb = make([]byte, len(r.buf))
		}
		if r.reuse {
			r.retired = append(r.retired, r.buf)
		}
		r.w = copy(nb, r.buf[r.r:r.w])
		r.base += int64(r.r)
		r.r = 0
		r.buf = nb
	}
	if r.r > 0 {
		n := copy(r.buf, r.buf[r.r:r.w])
		r.base += int64(r.r)
		r.w = n
		r.r = 0
	}
	if r.w == len(r.buf) {
		max := r.MaxSegment
		if max <= 0 {
			max = DefaultMaxSegment
		}
		if len(r.buf) >= max+1024 {
			return false
		}
		nb := make([]byte, min(2*len(r.buf), max+1024))
		copy(nb, r.buf[:r.w])
		r.buf = nb
	}
	for tries := 0; tries < 100; tries++ {
		n, err := r.src.Read(r.buf[r.w:])
		r.w += n
		if err != nil {
			r.srcErr = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	r.srcErr = io.ErrNoProgress
	return false
}

// recycle tells a keeping Reader that a new set starts after set seq, and
// that the sets up to done are no longer needed (Validator.Released): the
// buffers and chunks it left while reading them may be used again.
func (r *Reader) recycle(seq, done int) {
	// What was left while reading set seq holds segments of sets up to it.
	r.held.hold(seq, r.left())
	r.held.release(done, r.reuseLeft)
	// The chunk in use holds the segment just handed out: it stays in use.
}

// leftBehind are buffers and chunks a keeping Reader has left: the
// segments it handed out lie in them.
type leftBehind struct {
	bufs   [][]byte
	chunks [][][]byte
}

// left takes what the Reader has left since the last call.
func (r *Reader) left() leftBehind {
	l := leftBehind{r.retired, r.oldChunks}
	r.retired, r.oldChunks = nil, nil
	return l
}

// reuseLeft makes what l holds the Reader's again, to fill.
func (r *Reader) reuseLeft(l leftBehind) {
	r.spare = append(r.spare, l.bufs...) // fill drops those too small
	r.spareChunks = append(r.spareChunks, l.chunks...)
	// The emptied lists take the next ones left.
	clear(l.bufs)
	clear(l.chunks)
	if r.retired == nil {
		r.retired, r.oldChunks = l.bufs[:0], l.chunks[:0]
	}
}

func (r *Reader) atEOF() bool { return r.srcErr != nil }

// fail records a sticky error positioned at input offset off.
func (r *Reader) fail(off int64, err error) error {
	if r.srcErr != nil && !errors.Is(r.srcErr, io.EOF) && !errors.Is(err, ErrTruncated) {
		err = fmt.Errorf("reading input: %w", r.srcErr)
	}
	pe := &ParseError{Level: LevelInterchange, Offset: off, Message: err.Error(), Err: err}
	switch {
	case errors.Is(err, ErrAmbiguousDelimiter):
		pe.Code = "026"
		pe.Err = ErrAmbiguousDelimiter
	case errors.Is(err, ErrTruncated):
		pe.Code = "023"
		pe.Err = ErrTruncated
	case errors.Is(err, ErrBadISA):
		pe.Code = "022"
		pe.Err = ErrBadISA
	case errors.Is(err, ErrNotX12):
		pe.Code = "024"
		pe.Err = ErrNotX12
	}
	if pe.Err == err {
		pe.Err = errors.Unwrap(err)
		if pe.Err == nil {
			pe.Err = err
		}
	}
	pe.Message = err.Error()
	r.err = pe
	return pe
}

// Next returns the next segment. It returns io.EOF at the end of the input and
// a *ParseError when the input cannot be read further as X12.
func (r *Reader) Next() (*Segment, error) {
	if r.err != nil {
		return nil, r.err
	}
	if !r.inISA {
		return r.nextISA()
	}
	return r.nextSegment()
}

// skipFiller skips what may stand between segments: spaces, tabs and line
// breaks that are not delimiters, and Ctrl-Z (the DOS end-of-file mark).
func (r *Reader) skipFiller(between bool) {
	for {
		for r.r < r.w {
			c := r.buf[r.r]
			if r.inISA && r.delims.isDelimiter(c) {
				return
			}
			switch {
			case isNewline(c), c == 0x1a:
			case isSpace(c):
				if between && !r.warnedSpace {
					r.warnedSpace = true
					r.warn(r.Offset(), "segments are indented with spaces or tabs; the indentation was ignored")
				}
			default:
				return
			}
			r.r++
		}
		if !r.fill() {
			return
		}
	}
}

var bom = []byte{0xef, 0xbb, 0xbf}

func (r *Reader) nextISA() (*Segment, error) {
	for r.w-r.r < 3 && r.fill() {
	}
	if bytes.HasPrefix(r.buf[r.r:r.w], bom) {
		r.r += 3
	}
	r.skipFiller(false)
	for r.w-r.r < 3 && r.fill() {
	}
	r.unwrapTag()
	if r.r == r.w {
		if !r.started {
			return nil, r.fail(0, fmt.Errorf("%w: the input is empty", ErrNotX12))
		}
		return nil, io.EOF
	}
	off := r.Offset()
	if !bytes.HasPrefix(r.buf[r.r:r.w], []byte("ISA")) {
		head := r.buf[r.r:min(r.w, r.r+16)]
		if !r.started {
			return nil, r.fail(off, fmt.Errorf("%w: it starts with %q, not with an ISA segment", ErrNotX12, head))
		}
		return nil, r.fail(off, fmt.Errorf("%w: expected an ISA segment after the IEA, found %q", ErrNotX12, head))
	}
	var h isaHeader
	for {
		var more bool
		var err error
		h, more, err = scanISA(r.buf[r.r:r.w], r.atEOF())
		if err != nil {
			if !r.started && !bytes.Contains(r.buf[r.r:r.w], []byte("IEA")) && !errors.Is(err, ErrAmbiguousDelimiter) && len(r.buf[r.r:r.w]) < 106 {
				err = fmt.Errorf("%w (the input is too short to be an interchange: %w)", ErrNotX12, err)
			}
			return nil, r.fail(off, err)
		}
		if !more {
			break
		}
		if !r.fill() && !r.atEOF() {
			return nil, r.fail(off, fmt.Errorf("%w: ISA segment longer than the buffer", ErrBadISA))
		}
	}
	r.started = true
	r.inISA = true
	r.header = h
	r.delims = h.delims
	r.setClasses()
	r.warnedLF, r.warnedSpace = false, false
	for _, w := range h.warnings {
		r.warn(off, "%s", w)
	}
	r.r += h.length + len(h.delims.Segment)
	// Remember what follows the terminator, for writing in the same style.
	for r.w-r.r < 2 && r.fill() {
	}
	suffix := r.buf[r.r:r.w]
	n := 0
	for n < len(suffix) && n < 2 && isNewline(suffix[n]) && !r.delims.isDelimiter(suffix[n]) {
		n++
	}
	r.delims.Suffix = string(suffix[:n])
	r.seg.Offset = off
	r.seg.Plain, r.seg.key, r.seg.kept = false, 0, false
	els := append(r.own[:0], []byte("ISA"))
	for f := 1; f <= 16; f++ {
		els = append(els, []byte(h.fields[f]))
	}
	r.seg.Elements, r.own = els, els
	return &r.seg, nil
}

// Byte classes for the fast path.
const (
	clsData = iota
	clsElement
	clsTerminator
	clsSlow // a line break inside a segment: leave it to the careful path
	clsMark // a byte that makes the segment not Plain
)

// setClasses prepares the byte classes of the current delimiters.
func (r *Reader) setClasses() {
	r.class = [256]uint8{}
	r.fast = len(r.delims.Segment) == 1 && !r.noFast
	if !r.fast {
		return
	}
	for c := 0; c < 256; c++ {
		if c < 0x20 || c > 0x7e {
			r.class[c] = clsMark
		}
	}
	r.class[r.delims.Component] = clsMark
	if r.delims.Repetition != 0 {
		r.class[r.delims.Repetition] = clsMark
	}
	r.class['\n'], r.class['\r'] = clsSlow, clsSlow
	r.class[r.delims.Element] = clsElement
	r.class[r.delims.Segment[0]] = clsTerminator
}

// nextFast reads a segment in one pass over its bytes when it is plain: it
// starts with a capital letter other than I (ISA and IEA take the careful
// path), holds no line break, and ends inside the buffer.
func (r *Reader) nextFast() (*Segment, bool) {
	buf, cls := r.buf[:r.w], &r.class
	i := r.r
	for i < len(buf) && cls[buf[i]] == clsSlow {
		i++ // the line break after the previous terminator
	}
	if i >= len(buf) {
		return nil, false
	}
	if c := buf[i]; c < 'A' || c > 'Z' || c == 'I' {
		return nil, false
	}
	b := buf[i:]
	els := r.own[:0]
	if r.keep {
		if cap(r.free) < chunkRoom {
			r.nextChunk()
		}
		els = r.free[:0]
	}
	start := 0
	plain := true
	for j := 0; j < len(b); j++ {
		c := cls[b[j]]
		if c == clsData {
			continue // the tight loop: ordinary data bytes
		}
		switch c {
		case clsElement:
			if start == 0 {
				// segKey(b[:j]), spelled out for the IDs of two and
				// three characters that nearly every segment has
				switch k := b[:j+1]; j {
				case 2:
					r.seg.key = 2<<24 | uint32(k[0])<<16 | uint32(k[1])<<8
				case 3:
					r.seg.key = 3<<24 | uint32(k[0])<<16 | uint32(k[1])<<8 | uint32(k[2])
				default:
					r.seg.key = segKey(b[:j])
				}
			}
			els = append(els, b[start:j:j])
			start = j + 1
		case clsTerminator:
			if start == 0 {
				r.seg.key = segKey(b[:j])
			}
			els = append(els, b[start:j:j])
			r.seg.Elements = els
			if r.seg.kept = r.keep; r.keep {
				r.free = els[len(els):]
			} else {
				r.own = els
			}
			r.seg.Offset = r.base + int64(i)
			r.seg.Plain = plain
			r.r = i + j + 1
			return &r.seg, true
		case clsMark:
			plain = false
		default:
			if !r.keep {
				r.own = els
			}
			return nil, false
		}
	}
	if !r.keep {
		r.own = els
	}
	return nil, false
}

// chunkRoom is the room for element slices the fast path of a keeping
// Reader wants before a segment; a segment with more spills into an array
// of its own.
const chunkRoom = 64

// nextChunk moves the fast path of a keeping Reader on to a fresh chunk
// for element slices.
func (r *Reader) nextChunk() {
	if !r.reuse {
		// Nothing comes back: the kept segments alone hold their chunks.
		r.free = make([][]byte, 0, 4096)
		return
	}
	if r.chunk != nil {
		r.oldChunks = append(r.oldChunks, r.chunk)
	}
	if n := len(r.spareChunks); n > 0 {
		r.chunk = r.spareChunks[n-1]
		r.spareChunks[n-1] = nil
		r.spareChunks = r.spareChunks[:n-1]
	} else {
		r.chunk = make([][]byte, 0, 4096)
	}
	r.free = r.chunk[:0]
}

func (r *Reader) nextSegment() (*Segment, error) {
	if r.fast {
		if seg, ok := r.nextFast(); ok {
			return seg, nil
		}
	}
	term := r.delims.Segment
	for {
		r.skipFiller(true)
		if r.r == r.w {
			return nil, io.EOF
		}
		// A new ISA inside an interchange: the IEA is missing. Hand the
		// ISA out with its own delimiters; the validator reports the gap.
		for r.w-r.r < 4 && r.fill() {
		}
		if r.buf[r.r] == 'I' {
			r.unwrapTag()
		}
		if b := r.buf[r.r:r.w]; len(b) >= 3 && b[0] == 'I' && b[1] == 'S' && b[2] == 'A' && (len(b) == 3 || !isAlnum(b[3])) {
			r.inISA = false
			return r.nextISA()
		}
		// Find the terminator.
		var idx int
		searched := 0
		for {
			if len(term) == 1 {
				idx = bytes.IndexByte(r.buf[r.r+searched:r.w], term[0])
			} else {
				idx = bytes.Index(r.buf[r.r+searched:r.w], []byte(term))
			}
			if idx >= 0 {
				idx += searched
				break
			}
			searched = max(0, r.w-r.r-len(term)+1)
			if !r.fill() {
				switch {
				case r.srcErr == nil:
					return nil, r.fail(r.Offset(), fmt.Errorf("%w: no segment terminator %q within %d bytes", ErrSegmentTooLong, term, r.w-r.r))
				case !errors.Is(r.srcErr, io.EOF):
					return nil, r.fail(r.Offset(), fmt.Errorf("reading input: %w", r.srcErr))
				}
				idx = -1
				break
			}
		}
		start := r.r
		var raw []byte
		if idx < 0 {
			// The last segment has no terminator.
			raw = bytes.TrimRight(r.buf[r.r:r.w], " \t\r\n\x1a")
			r.r = r.w
			if len(raw) == 0 {
				return nil, io.EOF
			}
			r.warn(r.base+int64(start), "the last segment has no segment terminator %q", term)
		} else {
			raw = r.buf[r.r : r.r+idx]
			r.r += idx + len(term)
		}
		if len(raw) == 0 {
			r.warn(r.base+int64(start), "empty segment (two terminators in a row) ignored")
			continue
		}
		raw = r.dropLineBreaks(raw, r.base+int64(start))
		if len(term) > 1 && bytes.Contains(raw, []byte(term)) {
			// A line break inside a multi-byte terminator: where the
			// segment ends cannot be told.
			return nil, r.fail(r.base+int64(start), fmt.Errorf("%w: a line break splits the segment terminator %q", ErrAmbiguousDelimiter, term))
		}
		r.split(raw, r.base+int64(start))
		if string(r.seg.Elements[0]) == "ISA" {
			// An ISA that only line breaks dropped made: too broken to be
			// read as the header of an interchange.
			if idx < 0 {
				return nil, r.fail(r.base+int64(start), fmt.Errorf("%w: the input ends inside an ISA segment", ErrTruncated))
			}
			return nil, r.fail(r.base+int64(start), fmt.Errorf("%w: an ISA segment broken across lines cannot be read as an interchange header", ErrBadISA))
		}
		if len(r.seg.Elements[0]) == 3 && string(r.seg.Elements[0]) == "IEA" {
			r.inISA = false
		}
		return &r.seg, nil
	}
}

// dropLineBreaks removes CR and LF from inside a segment when they are not
// delimiters: they cannot be data, and files hard-wrapped at 80 columns
// carry them anywhere.
func (r *Reader) dropLineBreaks(raw []byte, off int64) []byte {
	d := &r.delims
	hasLF := d.Segment[0] != '\n' && bytes.IndexByte(raw, '\n') >= 0
	hasCR := d.Segment[0] != '\r' && bytes.IndexByte(raw, '\r') >= 0
	if !hasLF && !hasCR {
		return raw
	}
	// A line break right before the terminator is only trailing layout.
	trailing := bytes.TrimRight(raw, "\r\n")
	if len(trailing) < len(raw) && bytes.IndexByte(trailing, '\n') < 0 && bytes.IndexByte(trailing, '\r') < 0 {
		return trailing
	}
	if !r.warnedLF {
		r.warnedLF = true
		r.warn(off, "line breaks inside segments (a hard-wrapped file?) were ignored")
	}
	out := raw[:0]
	for _, c := range raw {
		if (c == '\n' && d.Segment[0] != '\n') || (c == '\r' && d.Segment[0] != '\r') {
			continue
		}
		out = append(out, c)
	}
	return out
}

func (r *Reader) split(raw []byte, off int64) {
	sep := r.delims.Element
	els := r.own[:0]
	for {
		i := bytes.IndexByte(raw, sep)
		if i < 0 {
			els = append(els, raw)
			break
		}
		els = append(els, raw[:i:i])
		raw = raw[i+1:]
	}
	r.seg.Elements, r.own, r.seg.kept = els, els, false
	r.seg.Offset = off
	r.seg.Plain = false
	r.seg.key = 0
}

// unwrapTag joins an "ISA" tag (and the separator after it) that a
// hard-wrapped file broke with line breaks, such as "IS\nA*", by moving its
// letters together over the line breaks.
func (r *Reader) unwrapTag() {
	for r.w-r.r < 16 && r.fill() {
	}
	b := r.buf[r.r:r.w]
	var at [4]int
	k := 0
	for i := 0; i < len(b) && k < 4 && i < 16; i++ {
		if !isNewline(b[i]) {
			at[k] = i
			k++
		}
	}
	if k < 4 || at[3] == 3 || b[at[0]] != 'I' || b[at[1]] != 'S' || b[at[2]] != 'A' || isAlnum(b[at[3]]) {
		return
	}
	end := at[3]
	for j := 2; j >= 0; j-- {
		b[end-3+j] = b[at[j]]
	}
	r.r += end - 3
	if !r.warnedLF {
		r.warnedLF = true
		r.warn(r.Offset(), "line breaks inside segments (a hard-wrapped file?) were ignored")
	}
}
