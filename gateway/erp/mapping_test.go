package erp

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadMapping(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want Mapping
	}{
		{name: "empty file"},
		{name: "comment only", yaml: "# nothing yet\n"},
		{name: "null document", yaml: "~\n"},
		{
			name: "everything",
			yaml: `columns:
  partner: Vendor
  quantity: "Qty "
date_format: 02.01.2006
decimal_comma: true
delimiter: "\t"
partners:
  001: acme
  V2: beta
constants:
  uom: EA
  unit_price: "1,50"
`,
			want: Mapping{
				Columns:      map[string]string{"partner": "Vendor", "quantity": "Qty "},
				DateFormat:   "02.01.2006",
				DecimalComma: true,
				Delimiter:    "\t",
				Partners:     map[string]string{"001": "acme", "V2": "beta"},
				Constants:    map[string]string{"uom": "EA", "unit_price": "1,50"},
			},
		},
		{
			name: "nulls",
			yaml: "columns:\ndate_format:\ndecimal_comma: ~\n",
		},
		{
			name: "anchors",
			yaml: "constants: &c\n  uom: EA\npartners:\n  X: &p acme\n  Y: *p\n",
			want: Mapping{Constants: map[string]string{"uom": "EA"}, Partners: map[string]string{"X": "acme", "Y": "acme"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := MustWriteFile(t, t.TempDir(), "mapping.yaml", tc.yaml)
			m, err := LoadMapping(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, tc.want) {
				t.Errorf("mapping:\n%#v\nwant:\n%#v", m, tc.want)
			}
		})
	}
}

func TestLoadMappingErrors(t *testing.T) {
	const fields = "(fields are partner, po_number, po_date, line_number, buyer_item, vendor_item, quantity, uom, unit_price, requested_date)"
	for _, tc := range []struct {
		name string
		yaml string
		want string // after "mapping.yaml"
	}{
		{"unknown key", "date_format: 2006-01-02\ncolums:\n  partner: V\n", `:2:1: unknown key "colums" (allowed: columns, date_format, decimal_comma, delimiter, partners, constants)`},
		{"unknown column field", "columns:\n  partner: Vendor\n  qty: Qty\n", `:3:3: columns.qty: unknown field ` + fields},
		{"unknown constant field", "constants:\n    currency: EUR\n", `:2:5: constants.currency: unknown field ` + fields},
		{"empty column", "columns:\n  partner: \"  \"\n", `:2:12: columns.partner: empty column name`},
		{"empty partner", "partners:\n  V1: ''\n", `:2:7: partners.V1: empty partner ID`},
		{"delimiter too long", "delimiter: ';;'\n", `:1:12: delimiter: must be one character, got ";;"`},
		{"delimiter quote", "delimiter: '\"'\n", `:1:12: delimiter: cannot be "\""`},
		{"date format", "date_format: DD.MM.YYYY\n", `:1:14: date_format: "DD.MM.YYYY" is not a Go time layout with year, month and day (like 2006-01-02 or 02.01.2006)`},
		{"date format without day", "date_format: 2006-01\n", `:1:14: date_format: "2006-01" is not a Go time layout with year, month and day (like 2006-01-02 or 02.01.2006)`},
		{"decimal_comma yes", "decimal_comma: yes\n", `:1:16: decimal_comma must be true or false, got "yes"`},
		{"decimal_comma list", "decimal_comma: [true]\n", `:1:16: decimal_comma must be true or false, not a list or mapping`},
		{"columns a list", "columns:\n  - partner\n", `:2:3: columns must be a YAML mapping (key: value lines)`},
		{"column value a mapping", "columns:\n  partner: {a: b}\n", `:2:12: columns.partner must be a plain value, not a list or mapping`},
		{"date_format a list", "date_format: [a]\n", `:1:14: date_format must be a plain value, not a list or mapping`},
		{"duplicate key", "delimiter: ';'\ndelimiter: ','\n", `:2:1: duplicate key "delimiter" (first at line 1)`},
		{"duplicate column", "columns:\n  uom: A\n  uom: B\n", `:3:3: duplicate key "uom" (first at line 2)`},
		{"root a list", "- columns\n", `:1:1: a mapping file must be a YAML mapping (key: value lines)`},
		{"constant not a number", "constants:\n  quantity: many\n", `:2:13: constants.quantity: not a decimal number: "many"`},
		{"constant zero", "constants:\n  quantity: 0\n", `:2:13: constants.quantity: must be greater than zero: "0"`},
		{"constant date in the wrong format", "date_format: 02.01.2006\nconstants:\n  po_date: 2024-03-01\n", `:3:12: constants.po_date: not a date in format "02.01.2006": "2024-03-01"`},
		{"constant and column", "columns:\n  partner: Vendor\nconstants:\n  partner: acme\n", `:4:3: constants.partner: partner is also mapped to column "Vendor"; use one or the other`},
		{"syntax", "columns:\n  partner: [\n", `: yaml: line 2: did not find expected node content`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := MustWriteFile(t, t.TempDir(), "mapping.yaml", tc.yaml)
			_, err := LoadMapping(path)
			if err == nil {
				t.Fatal("no error")
			}
			if want := path + tc.want; err.Error() != want {
				t.Errorf("error:\n%s\nwant:\n%s", err, want)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "none.yaml")
		if _, err := LoadMapping(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("error %v does not name %s", err, path)
		}
	})
}

func TestMappingValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Mapping
		want string // empty: valid
	}{
		{name: "zero value", m: Mapping{}},
		{name: "decimal comma", m: Mapping{DecimalComma: true, Constants: map[string]string{"unit_price": "0,5"}}},
		{name: "unicode delimiter", m: Mapping{Delimiter: "¦"}},
		{name: "two-digit year", m: Mapping{DateFormat: "02/01/06"}},
		{name: "month names", m: Mapping{DateFormat: "2 Jan 2006"}},
		{name: "bad delimiter", m: Mapping{Delimiter: "\n"}, want: `delimiter: cannot be "\n"`},
		{name: "bad date format", m: Mapping{DateFormat: "yyyy-mm-dd"}, want: `date_format: "yyyy-mm-dd" is not a Go time layout with year, month and day (like 2006-01-02 or 02.01.2006)`},
		{name: "bad constant", m: Mapping{Constants: map[string]string{"unit_price": "0,5"}}, want: `constants.unit_price: not a decimal number: "0,5"`},
		{name: "empty required constant", m: Mapping{Constants: map[string]string{"uom": " "}}, want: `constants.uom: missing value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Errorf("Validate: %v, want %s", err, tc.want)
			}
		})
	}
}

func TestDelimiterDefault(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Mapping
		want rune
	}{
		{"comma", Mapping{}, ','},
		{"decimal comma", Mapping{DecimalComma: true}, ';'},
		{"set", Mapping{DecimalComma: true, Delimiter: "|"}, '|'},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.m.compile()
			if err != nil {
				t.Fatal(err)
			}
			if s.delim != tc.want {
				t.Errorf("delimiter %q, want %q", s.delim, tc.want)
			}
		})
	}
}
