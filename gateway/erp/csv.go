package erp

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// csvHeader is a CSV export's header row and where our fields are in it.
type csvHeader struct {
	names []string       // trimmed
	index [numFields]int // column of each field; -1 when absent or constant
}

// readCSV reads a CSV export: a header row, then one row per order line.
// Blank lines are skipped, values trimmed.
func (b *builder) readCSV(r io.Reader) error {
	cr := csv.NewReader(r)
	cr.Comma = b.spec.delim
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = !unicode.IsSpace(b.spec.delim)
	h, err := b.readHeader(cr)
	if err != nil || h == nil {
		return err
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			b.problems = append(b.problems, &RowError{File: b.file, Line: pe.StartLine, Err: pe.Err})
			b.untie(pe.StartLine)
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", b.file, err)
		}
		if !blank(rec) {
			b.addCSV(cr, rec, h)
		}
	}
}

// readHeader reads the header row and finds our fields' columns. It
// returns nil for an empty file.
func (b *builder) readHeader(cr *csv.Reader) (*csvHeader, error) {
	var rec []string
	for {
		var err error
		rec, err = cr.Read()
		if err == io.EOF {
			return nil, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &FileError{File: b.file, Line: pe.StartLine, Err: fmt.Errorf("not a CSV header: %w", pe.Err)}
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", b.file, err)
		}
		if !blank(rec) {
			break
		}
	}
	line, _ := cr.FieldPos(0)
	h := &csvHeader{names: make([]string, len(rec))}
	for i, name := range rec {
		if strings.ContainsRune(name, 0) {
			return nil, &FileError{File: b.file, Line: line, Err: errors.New("binary data in the header: not a CSV export")}
		}
		h.names[i] = strings.TrimSpace(name)
	}
	if err := b.findColumns(h); err != nil {
		return nil, &FileError{File: b.file, Line: line, Err: err}
	}
	return h, nil
}

// findColumns sets h.index. Header names match columns case-insensitively.
// A required column, or one the Mapping names, must be there, once.
func (b *builder) findColumns(h *csvHeader) error {
	var missing []string
	for f := range numFields {
		h.index[f] = -1
		if b.spec.isConstant[f] {
			continue
		}
		col := b.spec.columns[f]
		for i, name := range h.names {
			if !strings.EqualFold(name, col) {
				continue
			}
			if h.index[f] >= 0 {
				return fmt.Errorf("column %q appears twice in the header (columns %d and %d)", col, h.index[f]+1, i+1)
			}
			h.index[f] = i
		}
		if h.index[f] < 0 && (required[f] || b.spec.explicit[f]) {
			missing = append(missing, describeColumn(col, f))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w %s; headers found: %s%s", ErrMissingColumn, strings.Join(missing, ", "),
		quoteAll(h.names), b.delimiterHint(h.names))
}

// describeColumn names a column, with our field when its name differs.
func describeColumn(col string, f int) string {
	if col == fieldNames[f] {
		return fmt.Sprintf("%q", col)
	}
	return fmt.Sprintf("%q (%s)", col, fieldNames[f])
}

// quoteAll quotes and joins names.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// delimiterHint suggests a wrong delimiter when the header is one column
// holding another likely delimiter.
func (b *builder) delimiterHint(names []string) string {
	if len(names) != 1 {
		return ""
	}
	for _, d := range []string{",", ";", "\t", "|"} {
		if strings.Contains(names[0], d) {
			return fmt.Sprintf(" (the delimiter is %q: set delimiter in the mapping?)", b.spec.delim)
		}
	}
	return ""
}

// addCSV turns a CSV row into cells and adds it.
func (b *builder) addCSV(cr *csv.Reader, rec []string, h *csvHeader) {
	line, _ := cr.FieldPos(0)
	if len(rec) < len(h.names) || !blank(rec[len(h.names):]) {
		b.problems = append(b.problems, &RowError{File: b.file, Line: line,
			Err: fmt.Errorf("%w: %d, the header has %d", ErrFieldCount, len(rec), len(h.names))})
		b.untie(line)
		return
	}
	var cells [numFields]cell
	for f := range numFields {
		if c, ok := b.constantCell(f, line); ok {
			cells[f] = c
			continue
		}
		i := h.index[f]
		if i < 0 {
			cells[f] = cell{column: b.spec.columns[f], line: line}
			continue
		}
		fline, _ := cr.FieldPos(i)
		cells[f] = cell{value: rec[i], column: h.names[i], line: fline}
	}
	b.add(line, &cells)
}

// blank reports whether every field is empty or spaces.
func blank(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
