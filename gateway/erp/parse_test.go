package erp

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/edigate/edigate/gateway"
)

func TestParse(t *testing.T) {
	perSupplier := Mapping{Constants: map[string]string{"partner": "acme", "uom": "EA"}}
	tab := Mapping{Delimiter: "\t"}
	for _, tc := range []struct {
		name    string
		file    string
		content string
		mapping Mapping
		want    []gateway.Order
	}{
		{
			name: "default columns",
			file: "orders.csv",
			content: defaultHeader +
				"acme,4500,2024-03-01,1,B-1,V-1,10,EA,1.50,2024-03-15\n" +
				"acme,4500,2024-03-01,2,B-2,,0005.250,CS,,\n" +
				"beta,77,2024-03-02,1,X,,+3,EA,-0.00,\n" +
				"acme,4500,,3,B-3,,1,EA,12,\n",
			want: []gateway.Order{
				order("orders.csv", "acme", "4500", "2024-03-01",
					line("1", "B-1", "V-1", "10", "EA", "1.50", "2024-03-15"),
					line("2", "B-2", "", "5.250", "CS", "", ""),
					line("3", "B-3", "", "1", "EA", "12", "")),
				order("orders.csv", "beta", "77", "2024-03-02", line("1", "X", "", "3", "EA", "0.00", "")),
			},
		},
		{
			name:    "columns in another order, optional ones left out",
			file:    "orders.txt",
			content: "quantity,uom,line_number,po_number,partner\n5,EA,1,4500,acme\n",
			want:    []gateway.Order{order("orders.txt", "acme", "4500", "", line("1", "", "", "5", "EA", "", ""))},
		},
		{
			name:    "first PO date set by a later row",
			file:    "orders.csv",
			content: defaultHeader + "acme,4500,,1,,,1,EA,,\nacme,4500,2024-03-01,2,,,1,EA,,\n",
			want: []gateway.Order{order("orders.csv", "acme", "4500", "2024-03-01",
				line("1", "", "", "1", "EA", "", ""), line("2", "", "", "1", "EA", "", ""))},
		},
		{
			name:    "BOM, CRLF, blank lines and spaces",
			file:    "orders.csv",
			content: "\uFEFF\r\n partner , po_number ,quantity,uom,line_number\r\n\r\n  acme , 4500 , 7 ,EA, 1 \r\n   \r\nacme,4500,\" 8 \",EA,2\r\n",
			want: []gateway.Order{order("orders.csv", "acme", "4500", "",
				line("1", "", "", "7", "EA", "", ""), line("2", "", "", "8", "EA", "", ""))},
		},
		{
			name:    "quoted delimiter and header case",
			file:    "orders.csv",
			content: "Partner,PO_Number,Line_Number,Buyer_Item,Quantity,UOM\nacme,4500,1,\"bolt, M6\",2,EA\n",
			want:    []gateway.Order{order("orders.csv", "acme", "4500", "", line("1", "bolt, M6", "", "2", "EA", "", ""))},
		},
		{
			name:    "sniffed CSV",
			file:    "export",
			content: "\n" + defaultHeader + "acme,4500,2024-03-01,1,,,1,EA,,\n",
			want:    []gateway.Order{order("export", "acme", "4500", "2024-03-01", line("1", "", "", "1", "EA", "", ""))},
		},
		{
			name:    "constants",
			file:    "acme.csv",
			content: "po_number,line_number,quantity,uom\n4500,1,1,PK\n",
			mapping: perSupplier,
			want:    []gateway.Order{order("acme.csv", "acme", "4500", "", line("1", "", "", "1", "EA", "", ""))},
		},
		{
			name:    "tab delimiter",
			file:    "orders.csv",
			content: "partner\tpo_number\tline_number\tquantity\tuom\tbuyer_item\nacme\t4500\t1\t3\tEA\t\n",
			mapping: tab,
			want:    []gateway.Order{order("orders.csv", "acme", "4500", "", line("1", "", "", "3", "EA", "", ""))},
		},
		{
			name:    "JSON lines with numbers",
			file:    "orders.jsonl",
			content: jsonOrders,
			want:    jsonWant("orders.jsonl"),
		},
		{
			name:    "ndjson",
			file:    "orders.ndjson",
			content: jsonOrders,
			want:    jsonWant("orders.ndjson"),
		},
		{
			name:    "json",
			file:    "orders.JSON",
			content: jsonOrders,
			want:    jsonWant("orders.JSON"),
		},
		{
			name:    "sniffed JSON lines with BOM and CRLF",
			file:    "export",
			content: "\uFEFF \r\n" + strings.ReplaceAll(jsonOrders, "\n", "\r\n"),
			want:    jsonWant("export"),
		},
		{
			name:    "JSON numbers keep their point under decimal_comma",
			file:    "orders.jsonl",
			content: `{"partner":"acme","po_number":1,"line_number":1,"quantity":2.50,"uom":"EA","unit_price":"3,10"}` + "\n",
			mapping: Mapping{DecimalComma: true},
			want:    []gateway.Order{order("orders.jsonl", "acme", "1", "", line("1", "", "", "2.50", "EA", "3.10", ""))},
		},
		{name: "empty file", file: "orders.csv"},
		{name: "blank lines only", file: "orders.csv", content: "\n \r\n\n"},
		{name: "empty sniffed file", file: "export", content: "  \n"},
		{name: "empty JSON lines", file: "orders.jsonl", content: "\n\n"},
		{name: "header only", file: "orders.csv", content: defaultHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orders, problems := MustParse(t, tc.file, tc.content, tc.mapping)
			if len(problems) > 0 {
				t.Fatalf("problems: %q", errorStrings(problems))
			}
			if !reflect.DeepEqual(orders, tc.want) {
				t.Errorf("orders:\n%s\nwant:\n%s", asJSON(orders), asJSON(tc.want))
			}
		})
	}
}

// jsonOrders is a JSON lines export mixing strings, numbers and nulls.
const jsonOrders = `{"partner":"acme","po_number":4500,"po_date":"2024-03-01","line_number":1,"quantity":10.50,"uom":"EA","unit_price":"2.5","extra":{"x":1}}

{"partner":"acme","po_number":"4500","line_number":2,"quantity":"007","uom":"EA","buyer_item":null,"vendor_item":"V-9","requested_date":"2024-04-01"}
{"partner":"beta","po_number":1e0,"line_number":1,"quantity":1,"uom":"EA"}
`

// jsonWant is what jsonOrders parses to.
func jsonWant(source string) []gateway.Order {
	return []gateway.Order{
		order(source, "acme", "4500", "2024-03-01",
			line("1", "", "", "10.50", "EA", "2.5", ""),
			line("2", "", "V-9", "7", "EA", "", "2024-04-01")),
		order(source, "beta", "1e0", "", line("1", "", "", "1", "EA", "", "")),
	}
}

func TestParseCustomMapping(t *testing.T) {
	dir := t.TempDir()
	path := MustWriteFile(t, dir, "mapping.yaml", `# a German ERP
columns:
  partner: Vendor
  po_number: PO
  po_date: Date
  line_number: Ln
  buyer_item: Item
  vendor_item: VItem
  quantity: Qty
  uom: UoM
  unit_price: Price
  requested_date: Due
date_format: "02.01.2006"
decimal_comma: true
partners:
  V100: acme
  "007": beta
`)
	m, err := LoadMapping(path)
	if err != nil {
		t.Fatal(err)
	}
	content := "Vendor;PO;Date;Ln;Item;VItem;Qty;UoM;Price;Due\n" +
		"V100;4500;01.03.2024;10;B-1;V-1;1,5;EA;12,50;15.03.2024\n" +
		"007;4501;02.03.2024;10;B-2;;2;ST;\"1,00\";\n" +
		"V300;9;02.03.2024;1;;;000,75;EA;;\n" +
		"V100;4500;01.03.2024;20;B-3;;1.5;EA;1.234,50;2024-03-15\n"
	orders, problems := MustParse(t, "export.csv", content, m)
	// acme's 4500 is held back: its second row is refused.
	want := []gateway.Order{
		order("export.csv", "beta", "4501", "2024-03-02", line("10", "B-2", "", "2", "ST", "1.00", "")),
	}
	if !reflect.DeepEqual(orders, want) {
		t.Errorf("orders:\n%s\nwant:\n%s", asJSON(orders), asJSON(want))
	}
	wantProblems := []string{
		`export.csv:4: column Vendor: not a partner id: "V300" (map the ERP's vendor codes to partner ids with partners: in the mapping)`,
		`export.csv:5: column Qty: not a decimal number: "1.5"`,
		`export.csv:5: column Price: not a decimal number: "1.234,50"`,
		`export.csv:5: column Due: not a date in format "02.01.2006": "2024-03-15"`,
		"export.csv:5: purchase order held back: PO 4500 of acme is not imported from this file, so that it keeps all its lines; fix the row and export it again",
	}
	if got := errorStrings(problems); !reflect.DeepEqual(got, wantProblems) {
		t.Errorf("problems:\n%q\nwant:\n%q", got, wantProblems)
	}
	checkRowErrors(t, problems)
}

// held is the problem of acme's PO 4500 held back by the row at line.
func held(line int) string {
	return fmt.Sprintf("o.csv:%d: purchase order held back: PO 4500 of acme is not imported from this file, so that it keeps all its lines; fix the row and export it again", line)
}

// untied is the problem of a file none of whose n orders is imported
// because the row at line cannot be read.
func untied(line, n int) string {
	return fmt.Sprintf("o.csv:%d: purchase order held back: the row at this line cannot be read, so it could belong to any purchase order: none of the file's %d is imported; fix the file and export it again", line, n)
}

func TestParseRowErrors(t *testing.T) {
	const good = "acme,4500,2024-03-01,1,,,1,EA,,\n"
	for _, tc := range []struct {
		name    string
		file    string
		content string
		want    []string
		is      error // every problem wraps it, when set
		lines   int   // order lines kept
	}{
		{"missing partner", "o.csv", defaultHeader + " ,4500,,1,,,1,EA,,\n", []string{"o.csv:2: column partner: missing value"}, ErrMissingValue, 0},
		{"a row of an unknown partner holds back every PO with its number", "o.csv", defaultHeader + good + "ACME ,4500,,2,,,1,EA,,\n" + "beta,9,,1,,,1,EA,,\n",
			[]string{`o.csv:3: column partner: not a partner id: "ACME" (map the ERP's vendor codes to partner ids with partners: in the mapping)`, held(3)}, nil, 1},
		{"a row without a PO number holds back every PO of its partner", "o.csv", defaultHeader + good + "acme,,,2,,,1,EA,,\n" + "beta,9,,1,,,1,EA,,\n",
			[]string{"o.csv:3: column po_number: missing value", held(3)}, nil, 1},
		{"a row with neither holds back the file", "o.csv", defaultHeader + good + ",,,2,,,1,EA,,\n",
			[]string{"o.csv:3: column partner: missing value", "o.csv:3: column po_number: missing value", untied(3, 1)}, nil, 0},
		{"partner not an id", "o.csv", defaultHeader + "ACME Supply,4500,,1,,,1,EA,,\n", []string{`o.csv:2: column partner: not a partner id: "ACME Supply" (map the ERP's vendor codes to partner ids with partners: in the mapping)`}, ErrNotPartner, 0},
		{"missing po_number", "o.csv", defaultHeader + "acme,,,1,,,1,EA,,\n", []string{"o.csv:2: column po_number: missing value"}, ErrMissingValue, 0},
		{"missing line_number", "o.csv", defaultHeader + "acme,4500,,,,,1,EA,,\n", []string{"o.csv:2: column line_number: missing value"}, ErrMissingValue, 0},
		{"missing quantity", "o.csv", defaultHeader + "acme,4500,,1,,,,EA,,\n", []string{"o.csv:2: column quantity: missing value"}, ErrMissingValue, 0},
		{"missing uom", "o.csv", defaultHeader + "acme,4500,,1,,,1,,,\n", []string{"o.csv:2: column uom: missing value"}, ErrMissingValue, 0},
		{"quantity not a number", "o.csv", defaultHeader + "acme,4500,,1,,,12x,EA,,\n", []string{`o.csv:2: column quantity: not a decimal number: "12x"`}, ErrNotDecimal, 0},
		{"quantity with comma", "o.csv", defaultHeader + "acme,4500,,1,,,\"1,5\",EA,,\n", []string{`o.csv:2: column quantity: not a decimal number: "1,5"`}, ErrNotDecimal, 0},
		{"quantity zero", "o.csv", defaultHeader + "acme,4500,,1,,,0.00,EA,,\n", []string{`o.csv:2: column quantity: must be greater than zero: "0.00"`}, ErrNotPositive, 0},
		{"quantity negative", "o.csv", defaultHeader + "acme,4500,,1,,,-2,EA,,\n", []string{`o.csv:2: column quantity: must be greater than zero: "-2"`}, ErrNotPositive, 0},
		{"price without digits before the point", "o.csv", defaultHeader + "acme,4500,,1,,,1,EA,.5,\n", []string{`o.csv:2: column unit_price: not a decimal number: ".5"`}, ErrNotDecimal, 0},
		{"price with two points", "o.csv", defaultHeader + "acme,4500,,1,,,1,EA,1.2.3,\n", []string{`o.csv:2: column unit_price: not a decimal number: "1.2.3"`}, ErrNotDecimal, 0},
		{"bad po_date", "o.csv", defaultHeader + "acme,4500,2024-13-01,1,,,1,EA,,\n", []string{`o.csv:2: column po_date: not a date in format "2006-01-02": "2024-13-01"`}, ErrNotDate, 0},
		{"bad requested_date", "o.csv", defaultHeader + "acme,4500,,1,,,1,EA,,01.03.2024\n", []string{`o.csv:2: column requested_date: not a date in format "2006-01-02": "01.03.2024"`}, ErrNotDate, 0},
		{"not UTF-8", "o.csv", defaultHeader + "acme,4500,,1,Gr\xfc\xdfe,,1,EA,,\n", []string{"o.csv:2: column buyer_item: not valid UTF-8 text"}, ErrNotText, 0},
		{"too few fields", "o.csv", defaultHeader + "acme,4500,1\n", []string{"o.csv:2: wrong number of fields: 3, the header has 10"}, ErrFieldCount, 0},
		{"too many fields", "o.csv", defaultHeader + "acme,4500,,1,,,1,EA,,,x\n", []string{"o.csv:2: wrong number of fields: 11, the header has 10"}, ErrFieldCount, 0},
		{"bare quote: no order imported", "o.csv", defaultHeader + "acme,45\"00,,1,,,1,EA,,\n" + good, []string{`o.csv:2: bare " in non-quoted-field`, untied(2, 1)}, nil, 0},
		{
			name:    "several problems in one row",
			file:    "o.csv",
			content: defaultHeader + "acme,,x,1,,,0,EA,,\n",
			want: []string{
				"o.csv:2: column po_number: missing value",
				`o.csv:2: column po_date: not a date in format "2006-01-02": "x"`,
				`o.csv:2: column quantity: must be greater than zero: "0"`,
			},
		},
		{
			name:    "physical line of a field after a quoted newline",
			file:    "o.csv",
			content: defaultHeader + good + "acme,4500,,2,\"two\nlines\",,abc,EA,,\n",
			want:    []string{`o.csv:4: column quantity: not a decimal number: "abc"`, "o.csv:3: purchase order held back: PO 4500 of acme is not imported from this file, so that it keeps all its lines; fix the row and export it again"},
			is:      ErrNotDecimal,
			lines:   0, // the PO is held back: it would lose line 2
		},
		{
			name:    "duplicate line",
			file:    "o.csv",
			content: defaultHeader + good + "acme,4500,,2,,,1,EA,,\n" + "acme,4500,2024-03-01,1,,,5,EA,,\n" + "beta,4500,,1,,,1,EA,,\n",
			want:    []string{`o.csv:4: column line_number: duplicate line number "1" in PO 4500 (first at line 2)`, "o.csv:4: purchase order held back: PO 4500 of acme is not imported from this file, so that it keeps all its lines; fix the row and export it again"},
			is:      ErrDuplicateLine,
			lines:   1, // beta's
		},
		{
			name:    "PO date disagreement",
			file:    "o.csv",
			content: defaultHeader + good + "acme,4500,2024-03-02,2,,,1,EA,,\n" + "acme,4500,,3,,,1,EA,,\n",
			want:    []string{`o.csv:3: column po_date: PO date differs from the PO's earlier rows: 2024-03-02, not 2024-03-01 (line 2)`, "o.csv:3: purchase order held back: PO 4500 of acme is not imported from this file, so that it keeps all its lines; fix the row and export it again"},
			is:      ErrPODate,
			lines:   0,
		},
		{
			name:    "duplicate line and PO date disagreement",
			file:    "o.csv",
			content: defaultHeader + good + "acme,4500,2024-03-02,1,,,1,EA,,\n",
			want: []string{
				`o.csv:3: column line_number: duplicate line number "1" in PO 4500 (first at line 2)`,
				`o.csv:3: column po_date: PO date differs from the PO's earlier rows: 2024-03-02, not 2024-03-01 (line 2)`,
				"o.csv:3: purchase order held back: PO 4500 of acme is not imported from this file, so that it keeps all its lines; fix the row and export it again",
			},
			lines: 0,
		},
		{
			name:    "good rows of other orders kept next to bad ones",
			file:    "o.csv",
			content: defaultHeader + good + "acme,4500,,2,,,x,EA,,\n" + "acme,4500,,3,,,1,EA,,\n" + "acme,4500,,4,,,1,,,\n" + "beta,1,,1,,,1,EA,,\n",
			want: []string{
				`o.csv:3: column quantity: not a decimal number: "x"`,
				"o.csv:5: column uom: missing value",
				"o.csv:3: purchase order held back: PO 4500 of acme is not imported from this file, so that it keeps all its lines; fix the row and export it again",
			},
			lines: 1, // beta's; acme's PO 4500 is held back whole
		},
		{
			name:    "JSON value of the wrong kind",
			file:    "o.jsonl",
			content: `{"partner":"acme","po_number":"1","line_number":"1","quantity":true,"uom":["EA"]}` + "\n",
			want: []string{
				"o.jsonl:1: column quantity: must be a string or number, got true or false",
				"o.jsonl:1: column uom: must be a string or number, got a list",
			},
			is: ErrNotScalar,
		},
		{
			name:    "JSON missing key",
			file:    "o.jsonl",
			content: `{"partner":"acme","po_number":"1","line_number":"1","quantity":"1"}` + "\n",
			want:    []string{"o.jsonl:1: column uom: missing value"},
			is:      ErrMissingValue,
		},
		{
			name:    "JSON line not an object",
			file:    "o.jsonl",
			content: `{"partner":"acme","po_number":"1","line_number":"1","quantity":"1","uom":"EA"}` + "\n\n[1]\n" + `{"a":1} {"b":2}` + "\n" + `{"a":` + "\n",
			want: []string{
				`o.jsonl:3: not a JSON object: starts with '['`,
				"o.jsonl:4: not a JSON object: more than one value on the line",
				"o.jsonl:5: not a JSON object: unexpected EOF",
				strings.Replace(untied(3, 1), "o.csv", "o.jsonl", 1),
			},
			is:    ErrNotObject,
			lines: 0, // the lines that are not objects could belong to any order
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orders, problems := MustParse(t, tc.file, tc.content, Mapping{})
			if got := errorStrings(problems); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems:\n%q\nwant:\n%q", got, tc.want)
			}
			checkRowErrors(t, problems)
			for _, p := range problems {
				if tc.is != nil && !errors.Is(p, tc.is) && !errors.Is(p, ErrHeldBack) {
					t.Errorf("%v does not wrap %v", p, tc.is)
				}
			}
			lines := 0
			for _, o := range orders {
				lines += len(o.Lines)
			}
			if lines != tc.lines {
				t.Errorf("kept %d lines, want %d:\n%s", lines, tc.lines, asJSON(orders))
			}
		})
	}
}

func TestRowErrorFields(t *testing.T) {
	_, problems := MustParse(t, "o.csv", defaultHeader+"acme,4500,,1,,,1,,,\n", Mapping{})
	var re *RowError
	if len(problems) != 1 || !errors.As(problems[0], &re) {
		t.Fatalf("problems: %v", problems)
	}
	want := RowError{File: "o.csv", Line: 2, Column: "uom", Err: ErrMissingValue}
	if *re != want {
		t.Errorf("RowError = %+v, want %+v", *re, want)
	}
}

func TestParseFileErrors(t *testing.T) {
	custom := Mapping{Columns: map[string]string{"po_number": "PO", "quantity": "Qty", "unit_price": "Price"}}
	for _, tc := range []struct {
		name        string
		file        string
		content     string
		mapping     Mapping
		want        string
		isFileError bool // a *FileError
	}{
		{
			name:        "missing required column",
			file:        "o.csv",
			content:     "partner,po,line_number,quantity,uom\nacme,1,1,1,EA\n",
			want:        `o.csv:1: missing column "po_number"; headers found: "partner", "po", "line_number", "quantity", "uom"`,
			isFileError: true,
		},
		{
			name:        "missing mapped columns",
			file:        "o.csv",
			content:     "\n\npartner,PO,line_number,uom\n",
			mapping:     custom,
			want:        `o.csv:3: missing column "Qty" (quantity), "Price" (unit_price); headers found: "partner", "PO", "line_number", "uom"`,
			isFileError: true,
		},
		{
			name:        "wrong delimiter",
			file:        "o.csv",
			content:     "partner;po_number;line_number;quantity;uom\n",
			want:        `o.csv:1: missing column "partner", "po_number", "line_number", "quantity", "uom"; headers found: "partner;po_number;line_number;quantity;uom" (the delimiter is ',': set delimiter in the mapping?)`,
			isFileError: true,
		},
		{
			name:        "column twice",
			file:        "o.csv",
			content:     "partner,po_number,line_number,quantity,uom,PARTNER\n",
			want:        `o.csv:1: column "partner" appears twice in the header (columns 1 and 6)`,
			isFileError: true,
		},
		{
			name:        "X12 sniffed as CSV",
			file:        "in.edi",
			content:     "ISA*00*          *00*          *ZZ*ACME~\n",
			want:        `in.edi:1: missing column "partner", "po_number", "line_number", "quantity", "uom"; headers found: "ISA*00*          *00*          *ZZ*ACME~"`,
			isFileError: true,
		},
		{
			name:        "binary",
			file:        "o.csv",
			content:     "PK\x03\x04\x00\x00,x\n",
			want:        "o.csv:1: binary data in the header: not a CSV export",
			isFileError: true,
		},
		{
			name:        "UTF-16",
			file:        "o.csv",
			content:     "\xFF\xFEp\x00a\x00",
			want:        "o.csv: UTF-16 text is not supported; export as UTF-8",
			isFileError: true,
		},
		{
			name:        "bad quote in header",
			file:        "o.csv",
			content:     "partner,\"po_number\n",
			want:        `o.csv:1: not a CSV header: extraneous or missing " in quoted-field`,
			isFileError: true,
		},
		{
			name:        "not JSON lines",
			file:        "o.json",
			content:     "\n[{\"partner\":\"acme\"}]\n",
			want:        `o.json:2: not JSON lines: not a JSON object: starts with '['`,
			isFileError: true,
		},
		{
			name:        "JSON object over several lines",
			file:        "o.json",
			content:     "{\n  \"partner\": \"acme\"\n}\n",
			want:        `o.json:1: not JSON lines: not a JSON object: unexpected EOF`,
			isFileError: true,
		},
		{
			name:    "invalid mapping",
			file:    "o.csv",
			content: defaultHeader,
			mapping: Mapping{Columns: map[string]string{"qty": "Qty"}},
			want:    "erp mapping: columns.qty: unknown field (fields are partner, po_number, po_date, line_number, buyer_item, vendor_item, quantity, uom, unit_price, requested_date)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orders, problems, err := Parse(tc.file, strings.NewReader(tc.content), tc.mapping)
			if err == nil {
				t.Fatalf("no error; orders %v, problems %v", orders, problems)
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tc.want)
			}
			var fe *FileError
			if errors.As(err, &fe) != tc.isFileError {
				t.Errorf("errors.As(%T, *FileError) = %v, want %v", err, !tc.isFileError, tc.isFileError)
			}
			if orders != nil || problems != nil {
				t.Errorf("orders %v and problems %v with an error", orders, problems)
			}
		})
	}
	t.Run("missing column wraps ErrMissingColumn", func(t *testing.T) {
		_, _, err := Parse("o.csv", strings.NewReader("partner\n"), Mapping{})
		if !errors.Is(err, ErrMissingColumn) {
			t.Errorf("%v does not wrap ErrMissingColumn", err)
		}
	})
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	_, _, err := Parse("o.csv", &failingReader{data: defaultHeader + "acme,4500,,1,,,1,EA,,\n", err: boom}, Mapping{})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	var fe *FileError
	if errors.As(err, &fe) {
		t.Errorf("an I/O error is a *FileError: %v", err)
	}
}

// failingReader returns data, then err.
type failingReader struct {
	data string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in    string
		comma bool
		want  string // empty: an error
	}{
		{"0", false, "0"},
		{"10", false, "10"},
		{"007", false, "7"},
		{"000.50", false, "0.50"},
		{"12.500", false, "12.500"},
		{"+3", false, "3"},
		{"-3.25", false, "-3.25"},
		{"-0.00", false, "0.00"},
		{"-000", false, "0"},
		{"12,50", true, "12.50"},
		{"-0012,5", true, "-12.5"},
		{"12.50", true, ""},
		{"1.234,50", true, ""},
		{"12,50", false, ""},
		{"", false, ""},
		{"-", false, ""},
		{"+-1", false, ""},
		{".5", false, ""},
		{"5.", false, ""},
		{"1e3", false, ""},
		{"1 000", false, ""},
		{"٣", false, ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseDecimal(tc.in, tc.comma)
			if tc.want == "" {
				if err == nil || !errors.Is(err, ErrNotDecimal) {
					t.Errorf("parseDecimal(%q, %v) = %q, %v; want ErrNotDecimal", tc.in, tc.comma, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("parseDecimal(%q, %v) = %q, %v; want %q", tc.in, tc.comma, got, err, tc.want)
			}
		})
	}
}

func TestImportFile(t *testing.T) {
	dir := t.TempDir()
	path := MustWriteFile(t, dir, "orders.csv", defaultHeader+"acme,4500,,1,,,1,EA,,\nacme,4501,,2,,,0,EA,,\n")
	orders, problems, err := ImportFile(path, Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	want := []gateway.Order{order(path, "acme", "4500", "", line("1", "", "", "1", "EA", "", ""))}
	if !reflect.DeepEqual(orders, want) {
		t.Errorf("orders:\n%s\nwant:\n%s", asJSON(orders), asJSON(want))
	}
	wantProblems := []string{path + `:3: column quantity: must be greater than zero: "0"`}
	if got := errorStrings(problems); !reflect.DeepEqual(got, wantProblems) {
		t.Errorf("problems %q, want %q", got, wantProblems)
	}
	if _, _, err := ImportFile(filepath.Join(dir, "missing.csv"), Mapping{}); err == nil {
		t.Error("ImportFile of a missing file: no error")
	}
}
