package erp

import (
	"errors"
	"fmt"
	"strings"
)

// Problems with a row's values, wrapped in a RowError.
var (
	ErrMissingValue  = errors.New("missing value")
	ErrNotDecimal    = errors.New("not a decimal number")
	ErrNotPartner    = errors.New("not a partner id")
	ErrNotPositive   = errors.New("must be greater than zero")
	ErrNotDate       = errors.New("not a date")
	ErrNotText       = errors.New("not valid UTF-8 text")
	ErrNotScalar     = errors.New("must be a string or number")
	ErrFieldCount    = errors.New("wrong number of fields")
	ErrNotObject     = errors.New("not a JSON object")
	ErrDuplicateLine = errors.New("duplicate line number")
	ErrPODate        = errors.New("PO date differs from the PO's earlier rows")
	// ErrHeldBack: a purchase order with a refused row is not imported
	// from this file at all, so that a stored PO never loses a line
	// because its row was malformed.
	ErrHeldBack = errors.New("purchase order held back")
)

// ErrMissingColumn is wrapped in the FileError of a CSV export whose
// header lacks a column the Mapping needs.
var ErrMissingColumn = errors.New("missing column")

// RowError is a problem with one row of an export. The row is left out,
// and so is the rest of its purchase order (ErrHeldBack); the other
// orders are kept. It reads "FILE:LINE: column COLUMN: message",
// where LINE is the 1-based line in the file and COLUMN the export's own
// column header or JSON key (or our field name, for a constant).
type RowError struct {
	File   string
	Line   int
	Column string // empty when the problem is the row as a whole
	Err    error
}

func (e *RowError) Error() string {
	var b strings.Builder
	b.WriteString(position(e.File, e.Line))
	if e.Column != "" {
		fmt.Fprintf(&b, "column %s: ", e.Column)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the problem, such as ErrNotDecimal.
func (e *RowError) Unwrap() error { return e.Err }

// FileError says a file cannot be read as an export at all: a CSV header
// missing a column, or a file that is neither CSV nor JSON lines. It
// reads "FILE:LINE: message", or "FILE: message" when Line is 0.
type FileError struct {
	File string
	Line int
	Err  error
}

func (e *FileError) Error() string { return position(e.File, e.Line) + e.Err.Error() }

// Unwrap returns the problem, such as ErrMissingColumn.
func (e *FileError) Unwrap() error { return e.Err }

// position formats "FILE:LINE: ", or "FILE: " when line is 0.
func position(file string, line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d: ", file, line)
	}
	return file + ": "
}
