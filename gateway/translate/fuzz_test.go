package translate

import (
	"bytes"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/edigate/edigate/translators/canonical"
	"github.com/edigate/edigate/translators/x12"
	"github.com/edigate/edigate/translators/x12/x12gen"
)

// positionedProblem is how every problem of FuzzInbound's file begins: the
// file and the byte offset.
var positionedProblem = regexp.MustCompile(`^fuzz\.edi:[0-9]+: `)

// FuzzInbound feeds damaged files to translation: it never panics, every
// problem names the file and a position, every document it makes still
// matches its JSON Schema, and mapping on other goroutines gives what
// mapping one set after the other gives.
func FuzzInbound(f *testing.F) {
	for _, set := range []string{"850", "855", "856", "810"} {
		for _, version := range []string{"004010", "005010"} {
			f.Add(x12gen.Bytes(x12gen.Options{Set: set, Version: version, Seed: 5, LinesPerSet: 3}, 4<<10))
		}
	}
	for _, name := range inputs() {
		if b, err := os.ReadFile(name); err == nil && len(b) < 16<<10 && !strings.HasSuffix(name, ".md") {
			f.Add(b)
		}
	}
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	tr := MustTranslator(f, filepath.Join(root, "partners"))
	sc := schemas(f)
	const file = "fuzz.edi"
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, partner := range []string{"", "acme"} {
			run := func(sequential bool) []string {
				opt := Options{File: file, Partner: partner, Sequential: sequential, Ack: &x12.Acknowledger{Alloc: &x12.CounterAllocator{}, Registry: tr.Registry}}
				res, err := tr.Inbound(bytes.NewReader(b), opt)
				if res == nil {
					t.Fatalf("as %q: no result: %v", partner, err)
				}
				for _, p := range res.Problems {
					if msg := p.Error(); !positionedProblem.MatchString(msg) {
						t.Errorf("as %q: a problem does not start with the file and its position: %s", partner, msg)
					}
				}
				for _, d := range res.Documents {
					checkSchema(t, sc, file, d)
				}
				return summary(res, err, nil)
			}
			want := run(true)
			if got := run(false); !slices.Equal(got, want) {
				i := 0
				for i < min(len(got), len(want)) && got[i] == want[i] {
					i++
				}
				t.Fatalf("as %q: overlapped and sequential translation differ at line %d:\n%.300s\n%.300s", partner, i, strings.Join(got[i:min(i+1, len(got))], ""), strings.Join(want[i:min(i+1, len(want))], ""))
			}
		}
	})
}

// FuzzOutbound writes purchase orders whose values come from the fuzzer:
// writing either fails with an error that names the field (or the segment
// and element, when the 850's own validation is what refuses a value), or
// gives an 850 that validates and translates back to the same purchase
// order (trimmed, decimals in canonical form).
func FuzzOutbound(f *testing.F) {
	f.Add("4500099999", "WIDGET", "10", "12.50", "SKU-1")
	f.Add("PO|1", "A>B", "3.5", "0.0125", "")
	f.Add("PO 1", "BLUE~RED", "-1", "1e3", "x")
	f.Add("", "\n", "0", "", "é")
	trs := map[string]*Translator{}
	for _, version := range []string{"004010", "005010"} {
		trs[version] = MustTranslator(f, writePartner(f, "test", version))
	}
	f.Fuzz(func(t *testing.T, number, description, quantity, price, item string) {
		for version, tr := range trs {
			docs, err := ParseDocuments("po.json", []byte(po))
			if err != nil {
				t.Fatal(err)
			}
			doc := docs[0].(*canonical.PurchaseOrder)
			doc.PONumber, doc.Lines[0].Description, doc.Lines[0].Quantity, doc.Lines[0].UnitPrice, doc.Lines[0].BuyerItem = number, description, quantity, price, item
			// What comes back is trimmed, as translation trims what it reads.
			want := *doc
			want.Lines = slices.Clone(doc.Lines)
			want.PONumber, want.Lines[0].Description, want.Lines[0].Quantity, want.Lines[0].UnitPrice, want.Lines[0].BuyerItem = strings.TrimSpace(number), strings.TrimSpace(description), strings.TrimSpace(quantity), strings.TrimSpace(price), strings.TrimSpace(item)
			out, err := tr.Outbound("test", doc)
			if err != nil {
				if msg := err.Error(); !strings.Contains(msg, "field ") && !strings.Contains(msg, "does not validate") {
					t.Fatalf("%s: an error that names no field: %v", version, err)
				}
				continue
			}
			back, err := tr.Inbound(bytes.NewReader(out), Options{File: "written", Partner: "test"})
			if err != nil || len(back.Problems) > 0 || len(back.Documents) != 1 {
				t.Fatalf("%s: the 850 written does not translate back: %v %v\n%s", version, err, back.Problems, out)
			}
			// Decimals come back in canonical form (00 is 0).
			got := back.Documents[0].(*canonical.PurchaseOrder)
			for _, v := range []struct{ want, got *string }{{&want.Lines[0].Quantity, &got.Lines[0].Quantity}, {&want.Lines[0].UnitPrice, &got.Lines[0].UnitPrice}} {
				a, okA := new(big.Rat).SetString(*v.want)
				b, okB := new(big.Rat).SetString(*v.got)
				if okA && okB && a.Cmp(b) == 0 {
					*v.want = *v.got
				}
			}
			if d := diffDocs(&want, got); len(d) > 0 {
				t.Fatalf("%s: the round trip changed the purchase order:\n%s\n%s", version, strings.Join(d, "\n"), out)
			}
		}
	})
}
