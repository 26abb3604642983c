package erp

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Our fields, in the order of the default column layout.
const (
	fieldPartner = iota
	fieldPONumber
	fieldPODate
	fieldLineNumber
	fieldBuyerItem
	fieldVendorItem
	fieldQuantity
	fieldUOM
	fieldUnitPrice
	fieldRequestedDate
	numFields
)

// fieldNames are our field names, which are also the default columns.
var fieldNames = [numFields]string{
	"partner", "po_number", "po_date", "line_number", "buyer_item",
	"vendor_item", "quantity", "uom", "unit_price", "requested_date",
}

// required marks the fields every row must have.
var required = [numFields]bool{
	fieldPartner: true, fieldPONumber: true, fieldLineNumber: true,
	fieldQuantity: true, fieldUOM: true,
}

// DefaultDateFormat is the date layout of an export when the Mapping sets
// none, and the layout of every date edigate stores.
const DefaultDateFormat = "2006-01-02"

// Mapping says how an ERP export's columns map to our fields. The zero
// value reads the default layout described in the package documentation.
type Mapping struct {
	// Columns maps our field name (partner, po_number, po_date,
	// line_number, buyer_item, vendor_item, quantity, uom, unit_price,
	// requested_date) to the export's CSV column header or JSON key.
	// Unmapped fields use their own name. A column named here must be in
	// a CSV export's header even when its field is optional.
	Columns map[string]string `yaml:"columns"`
	// DateFormat is the Go time layout of dates in the export (default
	// "2006-01-02"). Dates are stored as YYYY-MM-DD whatever it is.
	DateFormat string `yaml:"date_format"`
	// DecimalComma means decimals are written "12,50"; a point is then
	// not accepted in them (it may be a thousands separator). JSON
	// numbers always use a point. It also makes ";" the default
	// delimiter.
	DecimalComma bool `yaml:"decimal_comma"`
	// Delimiter is the CSV field separator, one character (default ","
	// or, with DecimalComma, ";").
	Delimiter string `yaml:"delimiter"`
	// Partners maps the ERP's vendor codes to edigate partner IDs. Codes
	// not listed are used unchanged.
	Partners map[string]string `yaml:"partners"`
	// Constants gives fixed values for fields the export lacks, such as
	// the partner of a per-supplier export. A field with a constant is
	// never read from the export; the value is written as the export
	// would write it (date_format, decimal_comma).
	Constants map[string]string `yaml:"constants"`
}

// Validate checks the mapping: known field names, a one-character
// delimiter, a date format holding year, month and day, and constants
// that are valid values of their fields.
func (m Mapping) Validate() error {
	_, err := m.compile()
	return err
}

// spec is a checked Mapping with its defaults applied.
type spec struct {
	columns    [numFields]string // the export's column per field
	explicit   [numFields]bool   // the column was named in Columns
	constant   [numFields]string
	isConstant [numFields]bool
	dateFormat string
	comma      bool
	delim      rune
	partners   map[string]string
}

// keyError is a Mapping error about one key, such as "columns.qty".
// Value says whether the key's value rather than the key itself is wrong.
type keyError struct {
	Key   string
	Value bool
	Err   error
}

func (e *keyError) Error() string { return e.Key + ": " + e.Err.Error() }

func (e *keyError) Unwrap() error { return e.Err }

// compile checks m and applies the defaults.
func (m Mapping) compile() (*spec, error) {
	s := &spec{dateFormat: m.DateFormat, comma: m.DecimalComma, partners: m.Partners}
	if s.dateFormat == "" {
		s.dateFormat = DefaultDateFormat
	}
	if err := checkDateFormat(s.dateFormat); err != nil {
		return nil, &keyError{Key: "date_format", Value: true, Err: err}
	}
	delim, err := delimiter(m.Delimiter, m.DecimalComma)
	if err != nil {
		return nil, &keyError{Key: "delimiter", Value: true, Err: err}
	}
	s.delim = delim
	for f, name := range fieldNames {
		s.columns[f] = name
	}
	if err := s.setColumns(m.Columns); err != nil {
		return nil, err
	}
	if err := s.setConstants(m.Constants); err != nil {
		return nil, err
	}
	for _, code := range slices.Sorted(maps.Keys(m.Partners)) {
		if strings.TrimSpace(m.Partners[code]) == "" {
			return nil, &keyError{Key: "partners." + code, Value: true, Err: errors.New("empty partner ID")}
		}
	}
	return s, nil
}

// setColumns applies Mapping.Columns.
func (s *spec) setColumns(columns map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(columns)) {
		f, err := fieldIndex(name)
		if err != nil {
			return &keyError{Key: "columns." + name, Err: err}
		}
		col := strings.TrimSpace(columns[name])
		if col == "" {
			return &keyError{Key: "columns." + name, Value: true, Err: errors.New("empty column name")}
		}
		s.columns[f], s.explicit[f] = col, true
	}
	return nil
}

// setConstants applies Mapping.Constants, checking each value as a value
// of its field.
func (s *spec) setConstants(constants map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(constants)) {
		key := "constants." + name
		f, err := fieldIndex(name)
		if err != nil {
			return &keyError{Key: key, Err: err}
		}
		if s.explicit[f] {
			return &keyError{Key: key, Err: fmt.Errorf("%s is also mapped to column %q; use one or the other", name, s.columns[f])}
		}
		if _, err := s.value(f, cell{value: constants[name]}); err != nil {
			return &keyError{Key: key, Value: true, Err: err}
		}
		s.constant[f], s.isConstant[f] = strings.TrimSpace(constants[name]), true
	}
	return nil
}

// fieldIndex returns the index of one of our field names.
func fieldIndex(name string) (int, error) {
	if i := slices.Index(fieldNames[:], name); i >= 0 {
		return i, nil
	}
	return 0, fmt.Errorf("unknown field (fields are %s)", strings.Join(fieldNames[:], ", "))
}

// delimiter returns the CSV delimiter a Mapping sets, or its default.
func delimiter(d string, decimalComma bool) (rune, error) {
	switch {
	case d == "" && decimalComma:
		return ';', nil
	case d == "":
		return ',', nil
	}
	r, size := utf8.DecodeRuneInString(d)
	if size != len(d) || r == utf8.RuneError {
		return 0, fmt.Errorf("must be one character, got %q", d)
	}
	if r == '"' || r == '\r' || r == '\n' {
		return 0, fmt.Errorf("cannot be %q", d)
	}
	return r, nil
}

// checkDateFormat checks that layout is a Go time layout that keeps year,
// month and day.
func checkDateFormat(layout string) error {
	ref := time.Date(2031, 12, 25, 0, 0, 0, 0, time.UTC)
	t, err := time.Parse(layout, ref.Format(layout))
	if err != nil || t.Year() != ref.Year() || t.Month() != ref.Month() || t.Day() != ref.Day() {
		return fmt.Errorf("%q is not a Go time layout with year, month and day (like 2006-01-02 or 02.01.2006)", layout)
	}
	return nil
}
