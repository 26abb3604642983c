package x12

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// Delimiters are the separators of one interchange, read from its ISA segment.
type Delimiters struct {
	Element    byte
	Repetition byte // 0 when the interchange has none (ISA11 "U" in 00401)
	Component  byte
	// Segment is the segment terminator: one byte, or the UTF-8 encoding of one
	// character when a partner uses a multi-byte terminator.
	Segment string
	// Suffix is what followed the ISA's terminator before the next segment
	// (usually "", "\n" or "\r\n"); the writer repeats it after every segment.
	Suffix string
}

// DefaultDelimiters are the delimiters most partners use: * ^ : ~ and a newline.
var DefaultDelimiters = Delimiters{Element: '*', Repetition: '^', Component: ':', Segment: "~", Suffix: "\n"}

func (d Delimiters) String() string {
	rep := "none"
	if d.Repetition != 0 {
		rep = fmt.Sprintf("%q", d.Repetition)
	}
	return fmt.Sprintf("element %q, repetition %s, component %q, segment %q", d.Element, rep, d.Component, d.Segment)
}

// isDelimiter reports whether c is one of d's single-byte delimiters or the
// first byte of its terminator.
func (d *Delimiters) isDelimiter(c byte) bool {
	return c == d.Element || c == d.Component || (d.Repetition != 0 && c == d.Repetition) || c == d.Segment[0]
}

// isaFixedWidths are the fixed widths of ISA01..ISA16.
var isaFixedWidths = [16]int{2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1}

// isaLength is the length of a standard ISA segment without its terminator.
const isaLength = 105

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func isNewline(c byte) bool { return c == '\r' || c == '\n' }

// isaHeader is the outcome of reading delimiters from the start of an ISA.
type isaHeader struct {
	delims   Delimiters
	fields   [17]string // fields[1..16] = ISA01..ISA16, line breaks removed
	length   int        // bytes from "ISA" up to the terminator (exclusive)
	warnings []string
}

// scanISA reads the delimiters from b, which starts with "ISA". It counts
// element separators instead of trusting fixed offsets, so unpadded ISAs are
// read too (with a warning). atEOF says that b holds the rest of the input.
// It returns needMore when b is too short to decide.
func scanISA(b []byte, atEOF bool) (h isaHeader, needMore bool, err error) {
	const maxISA = 512 // far above 106; NBSP padding or wrapping stays below
	if len(b) < 4 {
		if !atEOF {
			return h, true, nil
		}
		return h, false, fmt.Errorf("%w: input ends inside the ISA segment after %d bytes", ErrTruncated, len(b))
	}
	sep := b[3]
	if isAlnum(sep) || isSpace(sep) || isNewline(sep) || sep == 0 {
		return h, false, fmt.Errorf("%w: the element separator after \"ISA\" is %q; it must not be a letter, digit, space or line break", ErrAmbiguousDelimiter, sep)
	}
	h.delims.Element = sep
	field := 1
	wrapped := false
	var cur []byte
	i := 4
	for ; field <= 16; i++ {
		if i >= len(b) || i >= maxISA {
			if i >= maxISA {
				return h, false, fmt.Errorf("%w: no 16 element separators %q within %d bytes of \"ISA\"", ErrBadISA, sep, maxISA)
			}
			if !atEOF {
				return h, true, nil
			}
			return h, false, fmt.Errorf("%w: input ends inside the ISA segment (ISA%02d) after %d bytes", ErrTruncated, field, len(b))
		}
		c := b[i]
		if field == 16 {
			// ISA16 is the single byte after the 16th separator. A line
			// break here is a wrap, not a separator.
			if isNewline(c) {
				wrapped = true
				continue
			}
			cur = append(cur, c)
			h.fields[16] = string(cur)
			h.delims.Component = c
			field++
			continue
		}
		if c == sep {
			h.fields[field] = string(cur)
			cur = cur[:0]
			field++
			continue
		}
		if isNewline(c) {
			wrapped = true
			continue
		}
		cur = append(cur, c)
	}
	// i is now the index of the terminator's first byte.
	if i >= len(b) {
		if !atEOF {
			return h, true, nil
		}
		return h, false, fmt.Errorf("%w: input ends after ISA16 without a segment terminator", ErrTruncated)
	}
	// A line break right after ISA16 is either the terminator (the next
	// segment's ID follows) or a wrap before the real terminator (a
	// delimiter character follows).
	if isNewline(b[i]) {
		j := i
		for j < len(b) && isNewline(b[j]) {
			j++
		}
		if j == len(b) && !atEOF {
			return h, true, nil
		}
		if j < len(b) {
			// A wrap only when the candidate terminator is followed by
			// what starts a segment: (line breaks and) a capital letter.
			k := j + 1
			for k < len(b) && (isNewline(b[k]) || isSpace(b[k])) {
				k++
			}
			if k == len(b) && !atEOF {
				return h, true, nil
			}
			// …a segment ID (a capital letter, one or two more letters or
			// digits) and the element separator, as in "~GS*".
			n := 0
			for k+n < len(b) && n < 3 && (b[k+n] >= 'A' && b[k+n] <= 'Z' || n > 0 && b[k+n] >= '0' && b[k+n] <= '9') {
				n++
			}
			if k+n >= len(b) && !atEOF {
				return h, true, nil
			}
			startsSegment := n >= 2 && k+n < len(b) && b[k+n] == sep
			candidate := func(c byte) bool {
				return !isAlnum(c) && !isSpace(c) && !isNewline(c) && c != sep && c != h.delims.Component && c != 0x1a && c < utf8.RuneSelf
			}
			if c := b[j]; startsSegment && candidate(c) {
				wrapped = true
				i = j
			} else if m := skipBlanks(b, j); m >= len(b) && !atEOF {
				return h, true, nil
			} else if m < len(b) && candidate(b[m]) {
				// "\n \"GS*", "\n\"G\r\nS*": a would-be terminator and a
				// segment ID, with what the reader skips (line breaks,
				// blanks) before, inside or after them. Written back
				// without those it would read as a wrap before the
				// terminator, so neither reading can be trusted.
				ok, more := startsSegmentWrapped(b, m+1, sep)
				if more && !atEOF {
					return h, true, nil
				}
				if ok {
					return h, false, fmt.Errorf("%w: a line break follows ISA16, then %q and a segment ID: the terminator could be either", ErrAmbiguousDelimiter, b[m])
				}
			}
		}
	}
	t := b[i]
	term := b[i : i+1]
	if t >= utf8.RuneSelf {
		if !atEOF && !utf8.FullRune(b[i:]) {
			return h, true, nil
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError {
			return h, false, fmt.Errorf("%w: the segment terminator is byte %#x, which is not a character", ErrAmbiguousDelimiter, t)
		}
		term = b[i : i+size]
		if size > 1 {
			h.warnings = append(h.warnings, fmt.Sprintf("the segment terminator is the multi-byte character %U", r))
		}
	}
	switch {
	case isAlnum(t) || t == ' ' || t == '\t' || t == 0:
		return h, false, fmt.Errorf("%w: the byte after ISA16 is %q; a segment terminator cannot be a letter, digit, space or NUL", ErrAmbiguousDelimiter, t)
	case t == sep:
		return h, false, fmt.Errorf("%w: the segment terminator %q equals the element separator", ErrAmbiguousDelimiter, t)
	case t == h.delims.Component:
		return h, false, fmt.Errorf("%w: the segment terminator %q equals the component separator (ISA16)", ErrAmbiguousDelimiter, t)
	}
	comp := h.delims.Component
	if isAlnum(comp) || isSpace(comp) || comp == sep {
		return h, false, fmt.Errorf("%w: the component separator (ISA16) is %q", ErrAmbiguousDelimiter, comp)
	}
	if wrapped && isNewline(t) && lineBreakInside(b[:i]) {
		return h, false, fmt.Errorf("%w: the ISA segment is broken across lines and its terminator is a line break, so where it ends cannot be told", ErrAmbiguousDelimiter)
	}
	h.delims.Segment = string(term)
	h.length = i
	if wrapped {
		h.warnings = append(h.warnings, "line breaks inside the ISA segment were ignored")
	}
	// ISA11: a repetition separator from 00402 on, "U" before.
	isa11, version := h.fields[11], h.fields[12]
	if len(isa11) == 1 && !isAlnum(isa11[0]) && !isSpace(isa11[0]) {
		r := isa11[0]
		if r == sep || r == comp || r == t {
			return h, false, fmt.Errorf("%w: the repetition separator (ISA11) %q equals another delimiter", ErrAmbiguousDelimiter, r)
		}
		h.delims.Repetition = r
		if version < "00402" {
			h.warnings = append(h.warnings, fmt.Sprintf("ISA11 is the repetition separator %q although ISA12 %q predates repetition separators (00402)", r, version))
		}
	} else if version >= "00402" && version <= "99999" {
		h.warnings = append(h.warnings, fmt.Sprintf("ISA12 is %q but ISA11 is %q, not a repetition separator; repetitions are not recognised", version, isa11))
	}
	if h.length != isaLength {
		h.warnings = append(h.warnings, fmt.Sprintf("the ISA segment is %d bytes long, not the fixed %d; delimiters were found by counting separators", h.length+len(term), isaLength+1))
	}
	return h, false, nil
}

// lineBreakInside reports whether the ISA bytes hold a line break before
// ISA16, that is, whether the segment itself is broken across lines.
func lineBreakInside(isa []byte) bool {
	n := len(isa)
	for n > 0 && isNewline(isa[n-1]) {
		n--
	}
	return bytes.IndexByte(isa[:n], '\n') >= 0 || bytes.IndexByte(isa[:n], '\r') >= 0
}

// skipBlanks returns the index of the first byte from k on that is not a
// line break, space, tab or Ctrl-Z: what the reader skips between segments.
func skipBlanks(b []byte, k int) int {
	for k < len(b) && (isNewline(b[k]) || isSpace(b[k]) || b[k] == 0x1a) {
		k++
	}
	return k
}

// startsSegmentWrapped reports whether b[k:] starts with a segment ID (a
// capital letter and one or two more capitals or digits) and sep, with what
// the reader skips (line breaks, spaces, tabs, Ctrl-Z) allowed before,
// inside and after the ID (at most 32 such bytes). more says that b ended
// before that could be told.
func startsSegmentWrapped(b []byte, k int, sep byte) (ok, more bool) {
	n, blanks := 0, 0
	for ; k < len(b); k++ {
		switch c := b[k]; {
		case c >= 'A' && c <= 'Z' || n > 0 && c >= '0' && c <= '9':
			if n++; n > 3 {
				return false, false
			}
		case isNewline(c) || isSpace(c) || c == 0x1a:
			if blanks++; blanks > 32 {
				return false, false
			}
		default:
			return n >= 2 && c == sep, false
		}
	}
	return false, true
}
