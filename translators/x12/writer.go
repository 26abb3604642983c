package x12

import (
	"bufio"
	"io"
)

// Writer writes segments with a given set of delimiters.
type Writer struct {
	w      *bufio.Writer
	d      Delimiters
	n      int64
	err    error
	Suffix string // written after each terminator; defaults to d.Suffix
}

// NewWriter returns a Writer that writes to w with delimiters d.
func NewWriter(w io.Writer, d Delimiters) *Writer {
	return &Writer{w: bufio.NewWriter(w), d: d, Suffix: d.Suffix}
}

// WriteSegment writes one segment: the ID followed by its elements. Trailing
// empty elements are dropped, as X12 requires.
func (w *Writer) WriteSegment(id string, elements ...string) error {
	n := len(elements)
	for n > 0 && elements[n-1] == "" {
		n--
	}
	if id == "ISA" {
		n = len(elements) // ISA is fixed width: never trimmed
	}
	w.writeString(id)
	for _, e := range elements[:n] {
		w.writeByte(w.d.Element)
		w.writeString(e)
	}
	w.writeString(w.d.Segment)
	w.writeString(w.Suffix)
	return w.err
}

// WriteRaw writes a segment whose elements are already byte slices, exactly
// as given (Elements[0] is the ID). It is the inverse of Reader.Next.
func (w *Writer) WriteRaw(s *Segment) error {
	for i, e := range s.Elements {
		if i > 0 {
			w.writeByte(w.d.Element)
		}
		if w.err == nil {
			_, w.err = w.w.Write(e)
			w.n += int64(len(e))
		}
	}
	w.writeString(w.d.Segment)
	w.writeString(w.Suffix)
	return w.err
}

// Flush writes any buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	return w.w.Flush()
}

// Delimiters returns the delimiters w writes with.
func (w *Writer) Delimiters() Delimiters { return w.d }

func (w *Writer) writeString(s string) {
	if w.err == nil {
		_, w.err = w.w.WriteString(s)
		w.n += int64(len(s))
	}
}

func (w *Writer) writeByte(c byte) {
	if w.err == nil {
		w.err = w.w.WriteByte(c)
		w.n++
	}
}

// Composite joins components with the writer's component separator.
func (w *Writer) Composite(parts ...string) string {
	n := len(parts)
	for n > 0 && parts[n-1] == "" {
		n--
	}
	b := make([]byte, 0, 16)
	for i, p := range parts[:n] {
		if i > 0 {
			b = append(b, w.d.Component)
		}
		b = append(b, p...)
	}
	return string(b)
}
