package report

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
)

const evil = `<script>alert("x")</script>`

// MustWrite writes r to dir and returns the paths written.
func MustWrite(tb testing.TB, dir string, r Report) []string {
	tb.Helper()
	files, err := Write(dir, r)
	if err != nil {
		tb.Fatalf("Write: %v", err)
	}
	return files
}

func readCSV(tb testing.TB, path string) [][]string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatalf("reading %s: %v", path, err)
	}
	return records
}

func writeScenario() Report {
	in := scenario()
	in.Partners = append(in.Partners, evil, "comma, inc")
	in.Orders = append(in.Orders, OrderFacts{Partner: evil, SentAt: day, FirstAckAt: day.Add(90 * time.Minute)})
	return Compute(in, time.Date(2025, 3, 11, 6, 0, 0, 0, time.UTC))
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports", "nightly") // created by Write
	r := writeScenario()
	files := MustWrite(t, dir, r)

	names := []string{"report-2025-03-10.html", "suppliers-2025-03-10.csv", "exceptions-by-rule-2025-03-10.csv", "aging-2025-03-10.csv"}
	var want []string
	for _, n := range names {
		want = append(want, filepath.Join(dir, n))
	}
	if !reflect.DeepEqual(files, want) {
		t.Fatalf("files = %q, want %q", files, want)
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != len(names) {
		t.Errorf("directory holds %d entries, want %d (temporary files left behind?)", len(des), len(names))
	}

	t.Run("suppliers csv", func(t *testing.T) {
		rec := readCSV(t, files[1])
		if !reflect.DeepEqual(rec[0], supplierColumns) {
			t.Errorf("header = %q", rec[0])
		}
		byPartner := map[string][]string{}
		var order []string
		for _, row := range rec[1:] {
			if len(row) != len(supplierColumns) {
				t.Fatalf("row %q has %d fields, want %d", row, len(row), len(supplierColumns))
			}
			byPartner[row[0]] = row
			order = append(order, row[0])
		}
		wantOrder := []string{evil, "acme", "bolt", "comma, inc", "idle", "newco", "total"}
		if !reflect.DeepEqual(order, wantOrder) {
			t.Errorf("partners = %q, want %q", order, wantOrder)
		}
		tests := map[string][]string{
			"acme":  {"acme", "6", "4", "2", "14400", "36000", "3", "2", "3", "2", "1", "2", "1", "2", "2"},
			"bolt":  {"bolt", "3", "3", "2", "86400", "108000", "1", "0", "0", "0", "0", "0", "1", "1", "2"},
			"idle":  {"idle", "0", "0", "0", "", "", "0", "0", "0", "0", "0", "0", "0", "0", "0"},
			evil:    {evil, "1", "1", "1", "5400", "5400", "0", "0", "0", "0", "0", "0", "0", "0", "0"},
			"total": {"total", "10", "8", "5", "14400", "108000", "5", "3", "3", "2", "1", "2", "2", "3", "4"},
		}
		for partner, want := range tests {
			if got := byPartner[partner]; !reflect.DeepEqual(got, want) {
				t.Errorf("%s:\n got %q\nwant %q", partner, got, want)
			}
		}
	})

	t.Run("exceptions by rule csv", func(t *testing.T) {
		rec := readCSV(t, files[2])
		if !reflect.DeepEqual(rec[0], []string{"day", "rule", "count"}) {
			t.Errorf("header = %q", rec[0])
		}
		if len(rec) != 1+len(r.ExceptionsByRule) || len(rec) != 1+14*7 {
			t.Fatalf("%d rows, want %d", len(rec)-1, 14*7)
		}
		if got, want := rec[1], []string{"2025-02-25", "ack_missing", "1"}; !reflect.DeepEqual(got, want) {
			t.Errorf("first row = %q, want %q", got, want)
		}
		if got, want := rec[len(rec)-1], []string{"2025-03-10", "inv_qty", "1"}; !reflect.DeepEqual(got, want) {
			t.Errorf("last row = %q, want %q", got, want)
		}
		sum := 0
		for _, row := range rec[1:] {
			if _, err := time.Parse(time.DateOnly, row[0]); err != nil {
				t.Errorf("day %q: %v", row[0], err)
			}
			sum += atoi(t, row[2])
		}
		if sum != 9 {
			t.Errorf("counts sum to %d, want 9", sum)
		}
	})

	t.Run("aging csv", func(t *testing.T) {
		want := [][]string{{"bucket", "count"}, {"<1d", "1"}, {"1-3d", "2"}, {"3-7d", "2"}, {">7d", "3"}}
		if got := readCSV(t, files[3]); !reflect.DeepEqual(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})

	t.Run("html", func(t *testing.T) {
		page, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		html := string(page)
		if strings.Contains(html, "<script") {
			t.Error("the partner name is not escaped")
		}
		if !strings.Contains(html, "&lt;script&gt;") {
			t.Error("the escaped partner name is missing")
		}
		for _, banned := range []string{"<link", "<img", "src=", "@import", "url(", "http://", "https://"} {
			if strings.Contains(strings.ReplaceAll(html, `xmlns="http://www.w3.org/2000/svg"`, ""), banned) {
				t.Errorf("page refers to something outside itself: %q", banned)
			}
		}

		// Well-formed enough for a lenient XML parser; count the charts
		// and their titles.
		d := xml.NewDecoder(bytes.NewReader(page))
		d.Strict = false
		d.AutoClose = xml.HTMLAutoClose
		d.Entity = xml.HTMLEntity
		var stack []string
		svgs, svgTitles := 0, map[string]bool{}
		var text strings.Builder
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("parsing the page: %v", err)
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				if tok.Name.Local == "svg" {
					svgs++
				}
				stack = append(stack, tok.Name.Local)
			case xml.EndElement:
				stack = stack[:len(stack)-1]
			case xml.CharData:
				text.Write(tok)
				if n := len(stack); n >= 2 && stack[n-1] == "title" && stack[n-2] == "svg" {
					svgTitles[strings.TrimSpace(string(tok))] = true
				}
			}
		}
		if len(stack) != 0 {
			t.Errorf("unclosed elements: %q", stack)
		}
		if svgs != 3 || len(svgTitles) != 3 {
			t.Errorf("%d charts with titles %v, want 3", svgs, svgTitles)
		}
		for _, s := range []string{
			evil,        // the partner name, as text
			"2 (33.3%)", // acme's on time, a share of POs sent
			"33.3% on time (2 of 6) · p50 4h · p90 10h", // acme's bar
			"p50 1d · p90 1d6h",                         // bolt's bar
			"0%",                                        // bolt's ship-notice accuracy
			"inv_price", "fa_missing",                   // legend and table
			"over 7 days",
		} {
			if !strings.Contains(text.String(), s) {
				t.Errorf("page text lacks %q", s)
			}
		}
	})

	t.Run("rewrite replaces", func(t *testing.T) {
		r2 := r
		r2.Aging = [4]int{9, 9, 9, 9}
		MustWrite(t, dir, r2)
		rec := readCSV(t, files[3])
		if rec[1][1] != "9" {
			t.Errorf("aging not replaced: %q", rec)
		}
	})
}

func atoi(tb testing.TB, s string) int {
	tb.Helper()
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			tb.Fatalf("%q is not a plain integer", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func TestWriteInvalidDate(t *testing.T) {
	for _, date := range []string{"", "../../etc/x", "2025-3-1"} {
		t.Run(date, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Write(dir, Report{Date: date})
			if gateway.ErrorCode(err) != gateway.EINVALID {
				t.Errorf("Write(%q) = %v, want an EINVALID error", date, err)
			}
		})
	}
}

func TestWriteEmpty(t *testing.T) {
	files := MustWrite(t, t.TempDir(), Compute(Input{Date: day}, day))
	page, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "No exceptions were created in these 14 days.") {
		t.Error("an empty window is not said to be empty")
	}
	if got := readCSV(t, files[1]); len(got) != 2 || got[1][0] != "total" {
		t.Errorf("suppliers csv = %q, want a header and a total row", got)
	}
	if got := readCSV(t, files[2]); len(got) != 1 {
		t.Errorf("exceptions csv = %q, want only a header", got)
	}
}

func TestList(t *testing.T) {
	dir := t.TempDir()
	var want []Entry
	for _, date := range []string{"2025-03-09", "2025-03-10", "2024-12-31"} {
		d, _ := time.Parse(time.DateOnly, date)
		want = append(want, Entry{Date: date, Files: MustWrite(t, dir, Compute(Input{Date: d}, d))})
	}
	// A day with only part of its files, and files that are not reports.
	for _, name := range []string{"aging-2025-01-05.csv", "suppliers-2025-01-05.csv", "notes.txt", "report-latest.html",
		"report-2025-13-01.html", ".report-2025-03-11.html.123.tmp", "report-2025-03-10.html.bak"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "report-2025-03-12.html"), 0o755); err != nil {
		t.Fatal(err)
	}
	partial := Entry{Date: "2025-01-05", Files: []string{filepath.Join(dir, "suppliers-2025-01-05.csv"), filepath.Join(dir, "aging-2025-01-05.csv")}}
	want = []Entry{want[1], want[0], partial, want[2]}

	got, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("List:\n got %q\nwant %q", got, want)
	}

	t.Run("missing directory", func(t *testing.T) {
		got, err := List(filepath.Join(dir, "absent"))
		if err != nil || len(got) != 0 {
			t.Errorf("List = %v, %v; want nothing", got, err)
		}
	})
	t.Run("not a directory", func(t *testing.T) {
		_, err := List(filepath.Join(dir, "notes.txt"))
		if err == nil || errors.Is(err, os.ErrNotExist) {
			t.Errorf("List of a file = %v, want an error", err)
		}
	})
}

func TestWriteManyRules(t *testing.T) {
	in := Input{Date: day}
	for i := range 11 {
		for j := range i + 1 {
			in.Exceptions = append(in.Exceptions, exception(fmt.Sprint(i, j), fmt.Sprintf("rule_%02d", i), "acme", "", gateway.ExceptionOpen, day.AddDate(0, 0, -j)))
		}
	}
	files := MustWrite(t, t.TempDir(), Compute(in, day))
	page, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	// Rules beyond the eight colours are striped, and every rule is in
	// the legend.
	for _, s := range []string{`<pattern id="stripes-0"`, `<pattern id="stripes-2"`, `fill="url(#stripes-2)"`, ">rule_10</text>"} {
		if !strings.Contains(string(page), s) {
			t.Errorf("page lacks %s", s)
		}
	}
	if strings.Contains(string(page), `"stripes-3"`) {
		t.Error("page has a pattern no rule uses")
	}
}
