package x12

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every ParseError wraps exactly one of them, so callers can
// use errors.Is to tell kinds apart.
var (
	ErrNotX12             = errors.New("input is not X12")
	ErrBadISA             = errors.New("malformed ISA segment")
	ErrAmbiguousDelimiter = errors.New("ambiguous delimiter")
	ErrSegmentTooLong     = errors.New("segment too long")
	ErrTruncated          = errors.New("premature end of input")
	ErrEnvelope           = errors.New("envelope error")
	ErrControlMismatch    = errors.New("control number mismatch")
	ErrCountMismatch      = errors.New("count mismatch")
	ErrSegment            = errors.New("segment error")
	ErrElement            = errors.New("element error")
	ErrLeniency           = errors.New("tolerated irregularity")
	ErrNoSchema           = errors.New("no schema")
)

// Severity says whether an issue makes the input invalid.
type Severity uint8

const (
	SeverityError Severity = iota
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Level says which acknowledgement segment carries an issue's code.
type Level uint8

const (
	LevelInterchange Level = iota // TA1 (TA105 note code)
	LevelGroup                    // AK9 / AK905..
	LevelSet                      // AK5 / IK5 (AK502.., IK502..)
	LevelSegment                  // AK3 / IK3 (AK304, IK304)
	LevelElement                  // AK4 / IK4 (AK403, IK403)
)

func (l Level) String() string {
	return [...]string{"interchange", "group", "set", "segment", "element"}[l]
}

// ParseError is one finding about an input, with the position an analyst
// needs to find it and the X12 code a functional acknowledgement carries.
type ParseError struct {
	Severity Severity
	Level    Level
	Code     string // X12 code: TA105 note code, AK905, AK5/IK5, AK304/IK304 or AK403/IK403

	Offset      int64  // byte offset in the input of the segment (or element) concerned
	Interchange string // ISA13
	Sender      string // ISA05:ISA06, trimmed, of the interchange the issue is in ("" outside one)
	Group       string // GS06
	Set         string // ST02
	SetID       string // ST01
	Segment     int    // ordinal of the segment within the set (ST is 1); 0 outside a set
	SegmentID   string
	Element     int    // element position, 1-based; 0 for the whole segment
	Component   int    // component position, 1-based; 0 when not a composite
	Repetition  int    // repetition, 1-based; 0 when not repeated
	ElementRef  string // data element reference number (AK402)
	LoopID      string // loop identifier (AK303)
	Value       string // copy of the bad data element (AK404), if any
	Message     string
	Err         error // sentinel, see the Err* variables
}

func (e *ParseError) Unwrap() error { return e.Err }

// Error renders the position and the message as
// "offset N: ISA ctl / GS ctl / ST ctl segment N (SEG) element M: message [level code]".
func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "offset %d: ", e.Offset)
	if p := e.Position(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Code != "" {
		fmt.Fprintf(&b, " [%s %s]", e.Level, e.Code)
	}
	return b.String()
}

// Position renders only the location: control numbers, segment, element.
func (e *ParseError) Position() string {
	var parts []string
	var ctl []string
	for _, c := range [][2]string{{"ISA", e.Interchange}, {"GS", e.Group}, {"ST", e.Set}} {
		if c[1] != "" {
			ctl = append(ctl, c[0]+" "+c[1])
		}
	}
	if len(ctl) > 0 {
		parts = append(parts, strings.Join(ctl, " / "))
	}
	if e.Segment > 0 {
		parts = append(parts, fmt.Sprintf("segment %d", e.Segment))
	}
	if e.SegmentID != "" {
		parts = append(parts, "("+e.SegmentID+")")
	}
	if e.Element > 0 {
		el := fmt.Sprintf("element %d", e.Element)
		if e.Component > 0 {
			el += fmt.Sprintf("-%d", e.Component)
		}
		if e.Repetition > 1 {
			el += fmt.Sprintf(" repetition %d", e.Repetition)
		}
		parts = append(parts, el)
	}
	return strings.Join(parts, " ")
}
