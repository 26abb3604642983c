package mapping_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/edigate/edigate/mappings"
	"github.com/edigate/edigate/translators/canonical"
	"github.com/edigate/edigate/translators/mapping"
	"github.com/edigate/edigate/translators/x12"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.jsonl from the current translations")

var reg = x12.MustLoadRegistry()

// outDelims are the separators Emit is told the interchange uses.
var outDelims = x12.Delimiters{Element: '*', Component: '>', Segment: "~"}

// --- helpers -----------------------------------------------------------

// functional identifier codes (GS01) of the sets under test.
var gsCode = map[string]string{"850": "PO", "855": "PR", "856": "SH", "810": "IN"}

// interchange wraps segments (each "ID*…", without terminators) as one
// transaction set in a complete interchange: ISA/GS/ST … SE/GE/IEA.
func interchange(set, version string, segs ...string) string {
	isa := "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261120*0930*U*00401*000000001*0*P*>~"
	if strings.HasPrefix(version, "005") {
		isa = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261120*0930*^*00501*000000001*0*P*>~"
	}
	var b strings.Builder
	b.WriteString(isa)
	fmt.Fprintf(&b, "GS*%s*SENDER*RECEIVER*20261120*0930*1*X*%s~", gsCode[set], version)
	fmt.Fprintf(&b, "ST*%s*0001~", set)
	for _, s := range segs {
		b.WriteString(strings.TrimSuffix(s, "~") + "~")
	}
	fmt.Fprintf(&b, "SE*%d*0001~GE*1*1~IEA*1*000000001~", len(segs)+2)
	return b.String()
}

// emitted turns Emit's rows (ST … SE) into an interchange.
func emitted(set, version string, rows [][]string) string {
	var segs []string
	for _, r := range rows[1 : len(rows)-1] {
		segs = append(segs, strings.Join(r, "*"))
	}
	return interchange(set, version, segs...)
}

// readSets validates an interchange and returns its sets with segments.
func readSets(t testing.TB, edi string) []*x12.SetResult {
	t.Helper()
	var out []*x12.SetResult
	v := &x12.Validator{Registry: reg, KeepSegments: true}
	if err := v.Validate(strings.NewReader(edi), x12.Events{Set: func(s *x12.SetResult) { out = append(out, s) }}); err != nil {
		t.Fatalf("reading interchange: %v", err)
	}
	return out
}

func translateOne(t testing.TB, sp *mapping.Spec, edi string) (canonical.Document, error) {
	t.Helper()
	sets := readSets(t, edi)
	if len(sets) != 1 {
		t.Fatalf("want 1 set, got %d", len(sets))
	}
	return sp.Translate(mapping.Input{Set: sets[0], Partner: "acme", File: "in.edi"})
}

// flat lists a document's JSON values by dotted path (lines.0.quantity).
func flat(t testing.TB, doc any) map[string]string {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(prefix+k+".", e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s%d.", prefix, i), e)
			}
		case nil:
		default:
			out[strings.TrimSuffix(prefix, ".")] = fmt.Sprint(x)
		}
	}
	walk("", v)
	return out
}

// mapped drops the header fields the translator sets (not the mapping).
func mapped(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		root, _, _ := strings.Cut(k, ".")
		switch root {
		case "kind", "id", "partner", "direction", "correlation_id", "source":
			continue
		}
		if v == "" {
			continue
		}
		out[k] = v
	}
	return out
}

func diffMaps(a, b map[string]string) string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var d []string
	for _, k := range sorted {
		if a[k] != b[k] {
			d = append(d, fmt.Sprintf("%s: %q != %q", k, a[k], b[k]))
		}
	}
	return strings.Join(d, "\n")
}

func readDir(dir, name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) }

func compile(t testing.TB, name, src string) (*mapping.Spec, error) {
	t.Helper()
	return mapping.Compile(reg, readDir, mapping.Source{Name: name, Data: []byte(src), Dir: "testdata/xref"})
}

func mustCompile(t testing.TB, src string) *mapping.Spec {
	t.Helper()
	sp, err := compile(t, "feature.yaml", src)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return sp
}

func lib() *mappings.Library { return &mappings.Library{Registry: reg} }

// --- default mappings ----------------------------------------------------

func TestDefaultMappingsCompile(t *testing.T) {
	names := mappings.Defaults()
	want := []string{"810", "850", "855", "856"}
	for _, set := range want {
		for _, v := range []string{"004010", "005010"} {
			if !contains(names, mappings.DefaultName(set, v)) {
				t.Errorf("no default mapping %s", mappings.DefaultName(set, v))
			}
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			sp, err := lib().Load(name)
			if err != nil {
				t.Fatal(err)
			}
			base := strings.TrimSuffix(filepath.Base(name), ".yaml")
			set, version, _ := strings.Cut(base, "-")
			if sp.Set != set || sp.Version != version {
				t.Errorf("%s compiles as %s/%s", name, sp.Set, sp.Version)
			}
		})
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// The default mappings on hand-written sets: every mapped field.
func TestDefaultMappingsTranslate(t *testing.T) {
	tests := []struct {
		set, version string
		segs         []string
		want         map[string]string
	}{
		{"855", "004010", []string{
			"BAK*00*AC*4500012346*20261120****SO-88123*20261121",
			"N1*SE*BETA PARTS INC*92*BETA",
			"N3*1 FACTORY RD",
			"N4*DAYTON*OH*45402*US",
			"PO1*1*100*EA*3.10**VP*BP-1*BP*SKU-1",
			"ACK*IA*100*EA*068*20261205",
			"PO1*2*50*CS*7.25**VP*BP-2",
			"CTP**CON*7.5",
			"ACK*IP*50*CS*068*20261212",
			"ACK*IB*10*CS",
			"PO1*3*10*EA*12.00**VP*BP-3",
			"ACK*R2*0*EA",
			"PO1*4*1*EA*1",
			"ACK*IH*1*EA",
			"PO1*5*1*EA*1",
			"CTT*5",
		}, map[string]string{
			"po_number": "4500012346", "ack_type": "AC", "po_date": "2026-11-20", "ack_date": "2026-11-21",
			"seller.name": "BETA PARTS INC", "seller.id_qualifier": "92", "seller.id": "BETA",
			"seller.address.street.0": "1 FACTORY RD", "seller.address.city": "DAYTON", "seller.address.state": "OH",
			"seller.address.postal_code": "45402", "seller.address.country": "US",
			"lines.0.line_number": "1", "lines.0.ordered_quantity": "100", "lines.0.uom": "EA", "lines.0.unit_price": "3.10",
			"lines.0.vendor_item": "BP-1", "lines.0.buyer_item": "SKU-1", "lines.0.status": "accepted", "lines.0.status_code": "IA",
			"lines.0.ack_quantity": "100", "lines.0.ack_uom": "EA", "lines.0.scheduled_date": "2026-12-05",
			"lines.1.line_number": "2", "lines.1.ordered_quantity": "50", "lines.1.uom": "CS", "lines.1.unit_price": "7.25",
			"lines.1.vendor_item": "BP-2", "lines.1.status": "changed", "lines.1.status_code": "IP",
			"lines.1.ack_quantity": "50", "lines.1.ack_uom": "CS", "lines.1.ack_unit_price": "7.5", "lines.1.scheduled_date": "2026-12-12",
			"lines.2.line_number": "3", "lines.2.ordered_quantity": "10", "lines.2.uom": "EA", "lines.2.unit_price": "12.00",
			"lines.2.vendor_item": "BP-3", "lines.2.status": "rejected", "lines.2.status_code": "R2", "lines.2.ack_quantity": "0", "lines.2.ack_uom": "EA",
			"lines.3.line_number": "4", "lines.3.ordered_quantity": "1", "lines.3.uom": "EA", "lines.3.unit_price": "1",
			"lines.3.status": "unknown", "lines.3.status_code": "IH", "lines.3.ack_quantity": "1", "lines.3.ack_uom": "EA",
			"lines.4.line_number": "5", "lines.4.ordered_quantity": "1", "lines.4.uom": "EA", "lines.4.unit_price": "1",
			"lines.4.status": "unknown",
		}},
		{"856", "004010", []string{
			"BSN*00*SHIP-1*20261201*1200",
			"HL*1**S",
			"TD5*B*2*UPSN",
			"REF*CN*1Z999",
			"REF*BM*BOL-7",
			"N1*ST*DC EAST*92*DC01",
			"N4*COLUMBUS*OH*43215",
			"HL*2*1*O",
			"PRF*4500012345",
			"HL*3*2*T",
			"MAN*GM*00000123450000000017",
			"HL*4*3*P",
			"MAN*GM*00000123450000000024",
			"HL*5*4*I",
			"LIN*1*VP*AC-100*BP*SKU-1*UP*012345678905",
			"SN1**12*EA",
			"HL*6*2*P",
			"MAN*GM*00000123450000000031",
			"HL*7*6*I",
			"LIN*2*VP*AC-200",
			"SN1**3*CS",
			"HL*8*1*O",
			"PRF*4500012999",
			"HL*9*8*I",
			"LIN*1*BP*SKU-9",
			"SN1**1.50*LB",
			"CTT*9",
		}, map[string]string{
			"shipment_id": "SHIP-1", "ship_date": "2026-12-01", "carrier": "UPSN", "tracking_number": "1Z999", "bill_of_lading": "BOL-7",
			"ship_to.name": "DC EAST", "ship_to.id_qualifier": "92", "ship_to.id": "DC01", "ship_to.address.city": "COLUMBUS",
			"ship_to.address.state": "OH", "ship_to.address.postal_code": "43215",
			"orders.0.po_number": "4500012345",
			// A pallet (T) holding cartons (P): the pallet is the pack.
			"orders.0.packs.0.sscc":                     "00000123450000000017",
			"orders.0.packs.0.items.0.line_number":      "1",
			"orders.0.packs.0.items.0.vendor_item":      "AC-100",
			"orders.0.packs.0.items.0.buyer_item":       "SKU-1",
			"orders.0.packs.0.items.0.gtin":             "012345678905",
			"orders.0.packs.0.items.0.quantity_shipped": "12",
			"orders.0.packs.0.items.0.uom":              "EA",
			"orders.0.packs.1.sscc":                     "00000123450000000031",
			"orders.0.packs.1.items.0.line_number":      "2",
			"orders.0.packs.1.items.0.vendor_item":      "AC-200",
			"orders.0.packs.1.items.0.quantity_shipped": "3",
			"orders.0.packs.1.items.0.uom":              "CS",
			// An order without packs: one pack without an SSCC.
			"orders.1.po_number":                        "4500012999",
			"orders.1.packs.0.items.0.line_number":      "1",
			"orders.1.packs.0.items.0.buyer_item":       "SKU-9",
			"orders.1.packs.0.items.0.quantity_shipped": "1.50",
			"orders.1.packs.0.items.0.uom":              "LB",
		}},
		{"810", "004010", []string{
			"BIG*20261130*INV-77*20261120*4500012345",
			"CUR*SE*USD",
			"N1*RI*ACME SUPPLY*92*ACME",
			"IT1*1*120*EA*9.25**VP*AC-100*BP*SKU-1",
			"IT1*2*2*CS*41.4**VP*AC-220",
			"TDS*119262",
			"SAC*A*C310***5000**********PROMO",
			"SAC*C*D240***1250",
			"CTT*2",
		}, map[string]string{
			"invoice_number": "INV-77", "invoice_date": "2026-11-30", "po_number": "4500012345", "currency": "USD",
			"total_amount": "1192.62", "seller.name": "ACME SUPPLY", "seller.id_qualifier": "92", "seller.id": "ACME",
			"lines.0.line_number": "1", "lines.0.quantity_invoiced": "120", "lines.0.uom": "EA", "lines.0.unit_price": "9.25",
			"lines.0.vendor_item": "AC-100", "lines.0.buyer_item": "SKU-1",
			"lines.1.line_number": "2", "lines.1.quantity_invoiced": "2", "lines.1.uom": "CS", "lines.1.unit_price": "41.4",
			"lines.1.vendor_item":       "AC-220",
			"allowances_charges.0.type": "allowance", "allowances_charges.0.code": "C310", "allowances_charges.0.amount": "50.00",
			"allowances_charges.0.description": "PROMO",
			"allowances_charges.1.type":        "charge", "allowances_charges.1.code": "D240", "allowances_charges.1.amount": "12.50",
		}},
	}
	for _, tc := range tests {
		for _, version := range []string{tc.version, "005010"} {
			t.Run(tc.set+"-"+version, func(t *testing.T) {
				sp, err := lib().Default(tc.set, version)
				if err != nil {
					t.Fatal(err)
				}
				edi := interchange(tc.set, version, tc.segs...)
				for _, s := range readSets(t, edi) {
					for _, e := range s.Errors {
						t.Logf("validator: %v", e)
					}
				}
				doc, err := translateOne(t, sp, edi)
				if err != nil {
					t.Fatalf("translate: %v", err)
				}
				if d := diffMaps(mapped(flat(t, doc)), tc.want); d != "" {
					t.Errorf("got != want:\n%s", d)
				}
			})
		}
	}
}

// --- mapping features ----------------------------------------------------

const po850 = "kind: purchase_order\nset: \"850\"\nversion: \"004010\"\n"

// the 850 the feature tests read.
var featureSegs = []string{
	"BEG*00*SA*PO-1*261205*20261120",
	"CUR*BY*USD",
	"REF*DP*040**ZZ>ABC>BT>XYZ",
	"DTM*010*20261203",
	"DTM*002*20261204",
	"N1*BY*THE BUYER*92*B1",
	"N1*ST*THE SHIP TO*92*ST1",
	"N3*1 MAIN ST",
	"N4*COLUMBUS*OH*43215",
	"PO1*1*24*CS*41.40**VP*AC-220*BP*SKU-2*UP*012345678905",
	"PID*S****NOT THIS ONE",
	"PID*F****MEDIUM WIDGET",
	"PO1*2*+005*EA*.5**VP*AC-100",
	"PO1*3*1.50*EA*4140**VN*VN-3*VP*AC-900",
	"CTT*3",
}

func TestFeatures(t *testing.T) {
	tests := []struct {
		name  string
		spec  string // YAML after kind/set/version (850 004010)
		segs  []string
		want  map[string]string // dotted path -> value ("" = absent)
		error string            // substring of the translation error
	}{
		{name: "plain element", spec: "document:\n  po_number: BEG03\n",
			want: map[string]string{"po_number": "PO-1"}},
		{name: "plain element absent", spec: "document:\n  po_number: BEG06\n",
			want: map[string]string{"po_number": ""}},
		{name: "element with condition", spec: "document:\n  po_number: DTM02[DTM01=002]\n",
			want: map[string]string{"po_number": "2026-12-04"}}, // a DT element converts whatever the field
		{name: "element with condition, alternatives", spec: "document:\n  po_number: DTM02[DTM01=999|002|010]\n",
			want: map[string]string{"po_number": "2026-12-03"}},
		{name: "element with condition, none matches", spec: "document:\n  po_number: DTM02[DTM01=017]\n",
			want: map[string]string{"po_number": ""}},
		{name: "loop with condition", spec: "document:\n  po_number: N1[N101=ST]/N102\n  order_type: N1[N101=ST]/N4/N401\n",
			error: "N4"}, // placeholder replaced below
		{name: "loop with condition, scope", spec: "document:\n  ship_to:\n    scope: N1[N101=XX|ST]\n    fields:\n      name: N102\n      id: N104\n      address:\n        fields:\n          city: N401\n          street: {paths: [N301, N302]}\n",
			want: map[string]string{"ship_to.name": "THE SHIP TO", "ship_to.id": "ST1", "ship_to.address.city": "COLUMBUS", "ship_to.address.street.0": "1 MAIN ST", "ship_to.address.street.1": ""}},
		{name: "loop condition inside a list", spec: "document:\n  lines:\n    each: PO1\n    fields:\n      line_number: PO101\n      description: PID[PID01=F]/PID05\n",
			want: map[string]string{"lines.0.description": "MEDIUM WIDGET", "lines.1.description": "", "lines.2.line_number": "3"}},
		{name: "qualifier pair", spec: "document:\n  lines:\n    each: PO1\n    fields:\n      vendor_item: PO1(VP)\n      buyer_item: PO1(BP)\n      gtin: PO1(UP)\n",
			want: map[string]string{"lines.0.vendor_item": "AC-220", "lines.0.buyer_item": "SKU-2", "lines.0.gtin": "012345678905",
				"lines.1.vendor_item": "AC-100", "lines.1.buyer_item": "", "lines.2.vendor_item": "AC-900"}},
		{name: "component", spec: "document:\n  po_number: REF04-2[REF01=DP]\n  order_type: REF04-4[REF01=DP]\n  currency: REF04-6[REF01=DP]\n",
			want: map[string]string{"po_number": "ABC", "order_type": "XYZ", "currency": ""}},
		{name: "codes", spec: "codes:\n  p: {\"00\": original, \"*\": other}\ndocument:\n  purpose: {path: BEG01, codes: p}\n",
			want: map[string]string{"purpose": "original"}},
		{name: "codes fallback", spec: "codes:\n  p: {\"01\": cancel, \"*\": other}\ndocument:\n  purpose: {path: BEG01, codes: p}\n",
			want: map[string]string{"purpose": "other"}},
		{name: "codes pass-through", spec: "codes:\n  p: {\"01\": cancel}\ndocument:\n  purpose: {path: BEG01, codes: p}\n",
			want: map[string]string{"purpose": "00"}},
		{name: "codes inline", spec: "document:\n  purpose: {path: BEG02, codes: {SA: stand-alone}}\n",
			want: map[string]string{"purpose": "stand-alone"}},
		{name: "date CCYYMMDD from the schema", spec: "document:\n  po_date: BEG05\n  requested_delivery_date: DTM02[DTM01=002]\n",
			want: map[string]string{"po_date": "2026-11-20", "requested_delivery_date": "2026-12-04"}},
		{name: "date YYMMDD option", spec: "document:\n  po_date: {path: BEG04, date: YYMMDD}\n",
			want: map[string]string{"po_date": "2026-12-05"}},
		{name: "date CCYYMMDD option", spec: "document:\n  po_date: {path: \"DTM02[DTM01=002]\", date: CCYYMMDD}\n",
			want: map[string]string{"po_date": "2026-12-04"}},
		{name: "date CCYYMMDD option refuses YYMMDD", spec: "document:\n  po_date: {path: BEG04, date: CCYYMMDD}\n",
			error: `field po_date (BEG04): "261205" is not a date (CCYYMMDD)`},
		{name: "date not a date", spec: "document:\n  po_date: {path: BEG03, date: YYMMDD}\n",
			error: `"PO-1" is not a date (YYMMDD)`},
		{name: "implied decimals option", spec: "document:\n  lines:\n    each: PO1\n    fields:\n      unit_price: {path: PO104, decimals: 2}\n",
			segs: []string{"BEG*00*SA*PO-1**20261120", "PO1*1*1*EA*4140", "PO1*2*1*EA*5", "PO1*3*1*EA*-125"},
			want: map[string]string{"lines.0.unit_price": "41.40", "lines.1.unit_price": "0.05", "lines.2.unit_price": "-1.25"}},
		{name: "implied decimals refuse a point", spec: "document:\n  lines:\n    each: PO1\n    fields:\n      unit_price: {path: PO104, decimals: 2}\n",
			segs: []string{"BEG*00*SA*PO-1**20261120", "PO1*1*1*EA*4.5"}, error: `"4.5" is not a number with 2 implied decimals`},
		{name: "decimal normalisation", spec: "document:\n  lines:\n    each: PO1\n    fields:\n      quantity: PO102\n      unit_price: PO104\n",
			want: map[string]string{"lines.0.quantity": "24", "lines.0.unit_price": "41.40", "lines.1.quantity": "5", "lines.1.unit_price": "0.5", "lines.2.quantity": "1.50"}},
		{name: "decimal not a number", spec: "document:\n  lines:\n    each: PO1\n    fields:\n      quantity: PO1(VP)\n",
			error: `field lines[1].quantity (PO1(VP)): "AC-220" is not a decimal number`},
		{name: "const", spec: "document:\n  order_type: {const: SA}\n  currency: {path: CUR02, const: EUR}\n",
			want: map[string]string{"order_type": "SA", "currency": "EUR"}},
		{name: "default", spec: "document:\n  order_type: {path: BEG07, default: XX}\n  currency: {path: CUR02, default: EUR}\n",
			want: map[string]string{"order_type": "XX", "currency": "USD"}},
		{name: "required present", spec: "document:\n  po_number: {path: BEG03, required: true}\n",
			want: map[string]string{"po_number": "PO-1"}},
		{name: "required missing", spec: "document:\n  po_number: {path: BEG06, required: true}\n",
			error: "in.edi:"},
		{name: "required in a list", spec: "document:\n  lines:\n    each: PO1\n    fields:\n      buyer_item: {path: PO1(BP), required: true}\n",
			error: "segment 14 (PO1) field lines[2].buyer_item (PO1(BP)): required field is missing: no value at PO1(BP)"},
		{name: "item xref fills our item", spec: "item_xref: {file: items.csv}\ndocument:\n  lines:\n    each: PO1\n    fields:\n      vendor_item: PO1(VP)\n      buyer_item: PO1(BP)\n",
			want: map[string]string{"lines.0.buyer_item": "SKU-2", "lines.1.buyer_item": "SKU-0100", "lines.2.buyer_item": "SKU-0900"}},
		{name: "item xref required", spec: "item_xref: {file: items.csv, required: true}\ndocument:\n  lines:\n    each: PO1\n    fields:\n      vendor_item: PO1(VP)\n      buyer_item: PO1(BP)\n",
			segs:  []string{"BEG*00*SA*PO-1**20261120", "PO1*1*1*EA*1**VP*AC-100", "PO1*2*1*EA*1**VP*NOPE"},
			error: `segment 4 (PO1) field lines[2].vendor_item: partner item "NOPE" is not in the item cross-reference items.csv`},
		{name: "uom conversion", spec: "uom_conversions:\n  - {from: CS, to: EA, factor: 12}\ndocument:\n  lines:\n    each: PO1\n    fields:\n      quantity: PO102\n      uom: PO103\n      unit_price: PO104\n",
			want: map[string]string{"lines.0.quantity": "288", "lines.0.uom": "EA", "lines.0.unit_price": "3.45",
				"lines.1.quantity": "5", "lines.1.uom": "EA", "lines.1.unit_price": "0.5"}},
	}
	// The loop-with-condition case: a path through two loop steps.
	tests[5].spec = "document:\n  po_number: N1[N101=ST]/N102\n  order_type: N1[N101=BY]/N104\n  currency: N1[N101=XX]/N102\n"
	tests[5].error = ""
	tests[5].want = map[string]string{"po_number": "THE SHIP TO", "order_type": "B1", "currency": ""}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp := mustCompile(t, po850+tc.spec)
			segs := tc.segs
			if segs == nil {
				segs = featureSegs
			}
			doc, err := translateOne(t, sp, interchange("850", "004010", segs...))
			if tc.error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.error) {
					t.Fatalf("error %v, want one containing %q", err, tc.error)
				}
				return
			}
			if err != nil {
				t.Fatalf("translate: %v", err)
			}
			got := flat(t, doc)
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// A required field missing at run time names the partner, the file, the
// offset and the segment position.
func TestRequiredErrorPosition(t *testing.T) {
	sp := mustCompile(t, po850+"document:\n  po_number: {path: BEG06, required: true}\n")
	edi := interchange("850", "004010", featureSegs...)
	_, err := translateOne(t, sp, edi)
	var es mapping.Errors
	if !errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("error %v, want one mapping.Error", err)
	}
	off := strings.Index(edi, "BEG*")
	want := fmt.Sprintf("in.edi:%d: partner acme: ISA 000000001 / GS 1 / ST 0001 segment 2 (BEG) field po_number (BEG06): required field is missing: no value at BEG06", off)
	if es[0].Error() != want {
		t.Errorf("error\n %s\nwant\n %s", es[0].Error(), want)
	}
	if es[0].Segment != 2 || es[0].SegmentID != "BEG" || es[0].Partner != "acme" || es[0].File != "in.edi" || es[0].Offset != int64(off) {
		t.Errorf("error fields %+v", es[0])
	}
}

// The item cross-reference outbound fills the partner's item from ours.
func TestItemXrefOutbound(t *testing.T) {
	sp := mustCompile(t, po850+"item_xref: {file: items.csv}\ndocument:\n  po_number: BEG03\n  lines:\n    each: PO1\n    fields:\n      line_number: PO101\n      vendor_item: PO1(VP)\n      buyer_item: PO1(BP)\n")
	doc := &canonical.PurchaseOrder{Header: canonical.Header{Kind: canonical.KindPurchaseOrder}, PONumber: "PO-9",
		Lines: []canonical.POLine{{LineNumber: "1", BuyerItem: "SKU-0100"}, {LineNumber: "2", BuyerItem: "SKU-NONE"}, {LineNumber: "3", BuyerItem: "SKU-0900", VendorItem: "KEEP"}}}
	rows, err := sp.Emit(doc, "0001", outDelims)
	if err != nil {
		t.Fatal(err)
	}
	got := rowsString(rows)
	for _, want := range []string{"PO1*1*****VP*AC-100*BP*SKU-0100", "PO1*2*****BP*SKU-NONE", "PO1*3*****VP*KEEP*BP*SKU-0900"} {
		if !strings.Contains(got, want+"~") {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
	if doc.Lines[0].VendorItem != "" {
		t.Errorf("Emit changed the caller's document (the cross-reference filled vendor_item in place): %+v", doc.Lines[0])
	}

	spReq := mustCompile(t, po850+"item_xref: {file: items.csv, required: true}\ndocument:\n  lines:\n    each: PO1\n    fields:\n      vendor_item: PO1(VP)\n      buyer_item: PO1(BP)\n")
	_, err = spReq.Emit(doc, "0001", outDelims)
	if err == nil || !strings.Contains(err.Error(), `field lines[2].buyer_item: our item "SKU-NONE" is not in the item cross-reference items.csv`) {
		t.Errorf("required xref outbound: error %v", err)
	}
}

// Unit conversions outbound: the engine does not reverse them (see report);
// a document in EA is written in EA.
func TestUOMConversionOutbound(t *testing.T) {
	sp := mustCompile(t, po850+"uom_conversions:\n  - {from: CS, to: EA, factor: 12}\ndocument:\n  lines:\n    each: PO1\n    fields:\n      quantity: PO102\n      uom: PO103\n      unit_price: PO104\n")
	// 288 EA is a whole 24 cases: written in the partner's unit. 290 EA is
	// not, and stays in eaches rather than being rounded.
	doc := &canonical.PurchaseOrder{Header: canonical.Header{Kind: canonical.KindPurchaseOrder},
		Lines: []canonical.POLine{{Quantity: "288", UOM: "EA", UnitPrice: "3.45"}, {Quantity: "290", UOM: "EA", UnitPrice: "3.45"}}}
	rows, err := sp.Emit(doc, "0001", outDelims)
	if err != nil {
		t.Fatal(err)
	}
	got := rowsString(rows)
	for _, want := range []string{"PO1**24*CS*41.40~", "PO1**290*EA*3.45~"} {
		if !strings.Contains(got, want) {
			t.Errorf("got\n%s\nwant %s", got, want)
		}
	}
	if doc.Lines[0].UOM != "EA" || doc.Lines[0].Quantity != "288" {
		t.Errorf("Emit changed the caller's document: %+v", doc.Lines[0])
	}
}

func rowsString(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "*") + "~")
	}
	return b.String()
}

// A partner mapping that extends the default and changes one qualifier
// changes that field and nothing else.
func TestPartnerOverride(t *testing.T) {
	l := &mappings.Library{Dir: "testdata/partners", Registry: reg}
	over, err := l.Load("acme/850-004010.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(over.Files) != 2 {
		t.Errorf("files %v, want the default and the overlay", over.Files)
	}
	def, err := lib().Default("850", "004010")
	if err != nil {
		t.Fatal(err)
	}
	segs := append([]string(nil), featureSegs...)
	edi := interchange("850", "004010", segs...)
	a, errA := translateOne(t, def, edi)
	b, errB := translateOne(t, over, edi)
	if errA != nil || errB != nil {
		t.Fatalf("translate: %v / %v", errA, errB)
	}
	fa, fb := mapped(flat(t, a)), mapped(flat(t, b))
	want := map[string]string{"lines.0.vendor_item": "", "lines.1.vendor_item": "", "lines.2.vendor_item": "VN-3"}
	for k, v := range want {
		if fb[k] != v {
			t.Errorf("overlay %s = %q, want %q", k, fb[k], v)
		}
		delete(fa, k)
		delete(fb, k)
	}
	if d := diffMaps(fa, fb); d != "" {
		t.Errorf("the overlay changed more than vendor_item:\n%s", d)
	}
	// Outbound the overlay writes VN.
	po := a.(*canonical.PurchaseOrder)
	rows, err := over.Emit(po, "0001", outDelims)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsString(rows); !strings.Contains(got, "PO1*1*24*CS*41.40**BP*SKU-2*VN*AC-220*UP*012345678905~") {
		t.Errorf("overlay outbound:\n%s", got)
	}
}

// Outbound constants and counts.
func TestOutboundConstantsAndCounts(t *testing.T) {
	sp := mustCompile(t, po850+`document:
  po_number: BEG03
  po_date: BEG05
  purpose: {path: BEG01, codes: {"00": original}}
  lines:
    each: PO1
    fields:
      line_number: PO101
      quantity: PO102
outbound:
  constants:
    BEG02: SA
    REF02[REF01=IA]: VENDOR-1
    N1[N101=BY]/N102: EDIGATE
  counts:
    CTT/CTT01: lines
`)
	doc := &canonical.PurchaseOrder{Header: canonical.Header{Kind: canonical.KindPurchaseOrder}, PONumber: "PO-9", PODate: "2026-11-20", Purpose: "original",
		Lines: []canonical.POLine{{LineNumber: "1", Quantity: "1"}, {LineNumber: "2", Quantity: "2.50"}}}
	rows, err := sp.Emit(doc, "0042", outDelims)
	if err != nil {
		t.Fatal(err)
	}
	want := "ST*850*0042~BEG*00*SA*PO-9**20261120~REF*IA*VENDOR-1~N1*BY*EDIGATE~PO1*1*1~PO1*2*2.50~CTT*2~SE*8*0042~"
	if got := rowsString(rows); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// The written set is valid X12 as far as these segments go.
	for _, s := range readSets(t, emitted("850", "004010", rows)) {
		if s.Control != "0001" {
			t.Errorf("control %s", s.Control)
		}
	}
}

// Outbound conversions: dates, implied decimals, codes, refusing to lose
// precision.
func TestOutboundConversions(t *testing.T) {
	sp := mustCompile(t, po850+`document:
  po_number: BEG03
  po_date: {path: BEG04, date: YYMMDD}
  requested_delivery_date: DTM02[DTM01=002]
  purpose: {path: BEG01, codes: {"00": original, "05": replace, "*": other}}
  lines:
    each: PO1
    fields:
      line_number: PO101
      unit_price: {path: PO104, decimals: 2}
`)
	doc := &canonical.PurchaseOrder{Header: canonical.Header{Kind: canonical.KindPurchaseOrder}, PONumber: "PO-9", PODate: "2026-11-20",
		RequestedDeliveryDate: "2026-12-04", Purpose: "replace", Lines: []canonical.POLine{{LineNumber: "1", UnitPrice: "41.4"}}}
	rows, err := sp.Emit(doc, "0001", outDelims)
	if err != nil {
		t.Fatal(err)
	}
	want := "ST*850*0001~BEG*05**PO-9*261120~DTM*002*20261204~PO1*1***4140~SE*5*0001~"
	if got := rowsString(rows); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	doc.Lines[0].UnitPrice = "41.405"
	if _, err := sp.Emit(doc, "0001", outDelims); err == nil || !strings.Contains(err.Error(), "field lines[1].unit_price: 41.405 has more than 2 decimals") {
		t.Errorf("precision loss: error %v", err)
	}
	doc.Lines[0].UnitPrice = "1"
	doc.PODate = "20.11.2026"
	if _, err := sp.Emit(doc, "0001", outDelims); err == nil || !strings.Contains(err.Error(), `field po_date: "20.11.2026" is not a date YYYY-MM-DD`) {
		t.Errorf("bad date: error %v", err)
	}
	doc.PODate = "2026-11-20"
	for _, c := range []struct {
		po, line string
		d        x12.Delimiters
		want     string // "" when the value is written
	}{
		{"PO*9", "1", outDelims, `field po_number: "PO*9" holds "*" (the element separator) of this partner's interchanges, and X12 has no escape`},
		{"PO-9", "1~2>3", outDelims, `field lines[1].line_number: "1~2>3" holds ">" (the component separator) and "~" (the segment terminator)`},
		{"PO*9", "1", x12.Delimiters{Element: '|', Component: '>', Segment: "~"}, ""},
		{"PO^9", "1", x12.Delimiters{Element: '*', Component: ':', Repetition: '^', Segment: "\n"}, `"^" (the repetition separator)`},
		{"PO\r9", "1", outDelims, `field po_number: "PO\r9" holds the control character '\r'`},
	} {
		doc.PONumber, doc.Lines[0].LineNumber = c.po, c.line
		_, err := sp.Emit(doc, "0001", c.d)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%q, %q with %+v: error %v, want %q", c.po, c.line, c.d, err, c.want)
		}
	}
}

// The code table's "*" fallback is a canonical value, not an X12 code: it
// must not be written outbound as if it were one.
func TestCodeFallbackNotWrittenOutbound(t *testing.T) {
	sp := mustCompile(t, po850+`document:
  purpose: {path: BEG01, codes: {"00": original, "*": other}}
`)
	doc := &canonical.PurchaseOrder{Header: canonical.Header{Kind: canonical.KindPurchaseOrder}, Purpose: "other"}
	rows, err := sp.Emit(doc, "0001", outDelims)
	if err == nil && strings.Contains(rowsString(rows), "BEG*other") {
		t.Errorf("the fallback value is written as an X12 code: %s", rowsString(rows))
	}
}

// Canonical -> X12 -> canonical is lossless for every mapped field of the
// default mappings that write X12.
func TestRoundTrip(t *testing.T) {
	party := func(name, id string) *canonical.Party {
		return &canonical.Party{Name: name, ID: id, IDQualifier: "92", Address: &canonical.Address{Street: []string{"1 MAIN ST", "SUITE 2"}, City: "COLUMBUS", State: "OH", PostalCode: "43215", Country: "US"}}
	}
	docs := []canonical.Document{
		&canonical.PurchaseOrder{Header: canonical.Header{Kind: canonical.KindPurchaseOrder}, PONumber: "4500012345", PODate: "2026-11-20",
			Purpose: "original", OrderType: "SA", Currency: "USD", Buyer: party("BUYER", "B1"), Seller: party("SELLER", "S1"),
			ShipTo: party("SHIP TO", "ST1"), BillTo: party("BILL TO", "BT1"), RequestedDeliveryDate: "2026-12-04",
			Lines: []canonical.POLine{
				{LineNumber: "1", BuyerItem: "SKU-1", VendorItem: "AC-1", GTIN: "012345678905", Description: "SMALL WIDGET", Quantity: "120", UOM: "EA", UnitPrice: "9.25"},
				{LineNumber: "2", VendorItem: "AC-2", Quantity: "1.5", UOM: "CS", UnitPrice: "0.125"},
			}},
		&canonical.POAcknowledgement{Header: canonical.Header{Kind: canonical.KindPOAcknowledgement}, PONumber: "4500012345", AckDate: "2026-11-21",
			AckType: "AC", PODate: "2026-11-20", Seller: party("SELLER", "S1"),
			Lines: []canonical.AckLine{
				{LineNumber: "1", BuyerItem: "SKU-1", VendorItem: "AC-1", OrderedQuantity: "100", UnitPrice: "3.10", UOM: "EA", Status: "accepted", StatusCode: "IA", AckQuantity: "100", AckUOM: "EA", ScheduledDate: "2026-12-05"},
				{LineNumber: "2", VendorItem: "AC-2", OrderedQuantity: "50", UnitPrice: "7.25", UOM: "EA", Status: "changed", StatusCode: "IP", AckQuantity: "50", AckUOM: "EA", AckUnitPrice: "7.5", ScheduledDate: "2026-12-12"},
				{LineNumber: "3", VendorItem: "AC-3", OrderedQuantity: "10", UnitPrice: "12", UOM: "EA", Status: "rejected", StatusCode: "R2", AckQuantity: "0", AckUOM: "EA"},
				{LineNumber: "4", VendorItem: "AC-4", OrderedQuantity: "10", UnitPrice: "12", UOM: "EA", Status: "backordered", StatusCode: "IB"},
				// No ACK at all: inbound this is status unknown (the default);
				// outbound it must not write ACK*unknown.
				{LineNumber: "5", VendorItem: "AC-5", OrderedQuantity: "1", UnitPrice: "1", UOM: "EA", Status: "unknown"},
			}},
		&canonical.Invoice{Header: canonical.Header{Kind: canonical.KindInvoice}, InvoiceNumber: "INV-77", InvoiceDate: "2026-11-30", PONumber: "4500012345",
			Currency: "USD", TotalAmount: "1192.62", Seller: party("SELLER", "S1"),
			Lines: []canonical.InvoiceLine{
				{LineNumber: "1", BuyerItem: "SKU-1", VendorItem: "AC-1", QuantityInvoiced: "120", UOM: "EA", UnitPrice: "9.25"},
				{LineNumber: "2", VendorItem: "AC-2", QuantityInvoiced: "2", UOM: "CS", UnitPrice: "41.4"},
			},
			AllowancesCharges: []canonical.AllowanceCharge{{Type: "allowance", Code: "C310", Amount: "50.00", Description: "PROMO"}, {Type: "charge", Code: "D240", Amount: "12.50"}}},
	}
	sets := map[string]string{canonical.KindPurchaseOrder: "850", canonical.KindPOAcknowledgement: "855", canonical.KindInvoice: "810"}
	for _, doc := range docs {
		for _, version := range []string{"004010", "005010"} {
			set := sets[doc.Head().Kind]
			t.Run(set+"-"+version, func(t *testing.T) {
				sp, err := lib().Default(set, version)
				if err != nil {
					t.Fatal(err)
				}
				rows, err := sp.Emit(doc, "0001", outDelims)
				if err != nil {
					t.Fatalf("emit: %v", err)
				}
				edi := emitted(set, version, rows)
				for _, s := range readSets(t, edi) {
					for _, e := range s.Errors {
						t.Errorf("the written set is not valid: %v", e)
					}
				}
				back, err := translateOne(t, sp, edi)
				if err != nil {
					t.Fatalf("translate back: %v\n%s", err, edi)
				}
				if d := diffMaps(mapped(flat(t, back)), mapped(flat(t, doc))); d != "" {
					t.Errorf("round trip lost (got != sent):\n%s\n%s", d, rowsString(rows))
				}
			})
		}
	}
}

// --- mapping errors --------------------------------------------------------

var posPrefix = regexp.MustCompile(`^([^:]+):(\d+):(\d+): `)

func TestSpecErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // the whole error: file:line:col: message
	}{
		{"bad YAML", po850 + "document:\n  po_number: [BEG03\n",
			"bad.yaml:5:1: bad YAML: line 5: did not find expected ',' or ']'"},
		{"bad YAML indentation", po850 + "document:\n  po_number: BEG03\n   po_date: BEG05\n",
			"bad.yaml:6:1: bad YAML: line 6: mapping values are not allowed in this context"},
		{"not a mapping", "- a\n- b\n",
			"bad.yaml:1:1: a mapping file is a YAML mapping (kind, set, version, document, …)"},
		{"unknown top-level key", po850 + "colour: red\ndocument:\n  po_number: BEG03\n",
			`bad.yaml:4:1: unknown key "colour" in a mapping file (allowed: kind, set, version, codes, document, item_xref, uom_conversions, outbound, description)`},
		{"unknown field option", po850 + "document:\n  po_number: {path: BEG03, requird: true}\n",
			`bad.yaml:5:28: unknown key "requird" in field po_number (allowed: path, paths, date, decimals, codes, default, const, required)`},
		{"unknown group key", po850 + "document:\n  lines:\n    for_each: PO1\n    fields:\n      line_number: PO101\n",
			`bad.yaml:6:5: unknown key "for_each" in a group (allowed: each, hl, or_self, scope, fields)`},
		{"missing kind", "set: \"850\"\nversion: \"004010\"\ndocument:\n  po_number: BEG03\n",
			`bad.yaml:1:1: the mapping has no "kind"`},
		{"unknown kind", "kind: order\n" + "set: \"850\"\nversion: \"004010\"\ndocument:\n  po_number: BEG03\n",
			`bad.yaml:1:7: unknown document kind "order" (want one of [invoice po_acknowledgement purchase_order ship_notice])`},
		{"unknown set", "kind: purchase_order\nset: \"851\"\nversion: \"004010\"\ndocument:\n  po_number: BEG03\n",
			`bad.yaml:2:6: no X12 schema for set "851" version "004010" (have `},
		{"unknown canonical field", po850 + "document:\n  po_numbr: BEG03\n",
			`bad.yaml:5:3: unknown field "po_numbr" in PurchaseOrder (known: bill_to, buyer, currency, lines, order_type, po_date, po_number, purpose, requested_delivery_date, seller, ship_to)`},
		{"unknown line field", po850 + "document:\n  lines:\n    each: PO1\n    fields:\n      qty: PO102\n",
			`bad.yaml:8:7: unknown field "qty" in POLine (known: buyer_item, description, gtin, line_number, quantity, unit_price, uom, vendor_item)`},
		{"bad path syntax", po850 + "document:\n  po_number: BEG3\n",
			`bad.yaml:5:14: path "BEG3": "BEG3": "G3" is not an element position 01..99`},
		{"bad path condition", po850 + "document:\n  po_number: DTM02[DTM01]\n",
			`bad.yaml:5:14: path "DTM02[DTM01]": condition "DTM01" is not ELEMENT=VALUE (such as N101=ST)`},
		{"bad path unclosed", po850 + "document:\n  po_number: \"N1[N101=ST/N102\"\n",
			`bad.yaml:5:14: path "N1[N101=ST/N102", step 1: condition "[N101=ST" has no closing ]`},
		{"loop not in the set", po850 + "document:\n  po_number: PID/PID05\n",
			`bad.yaml:5:14: loop PID is not in the 850 set level of 850 004010 (loops there: SAC, AMT, N9, N1, LM, SPI, PO1, CTT)`},
		{"loop not in the loop", po850 + "document:\n  lines:\n    each: PO1\n    fields:\n      description: ACK/ACK01\n",
			`bad.yaml:8:20: loop ACK is not in loop PO1 of 850 004010 (loops there: CTP, PID, SAC, QTY, SCH, LDT, SLN, AMT, N9, N1, LM, SPI)`},
		{"each loop not in the set", po850 + "document:\n  lines:\n    each: IT1\n    fields:\n      line_number: IT101\n",
			`bad.yaml:6:11: loop IT1 is not in the 850 set level of 850 004010 (loops there: SAC, AMT, N9, N1, LM, SPI, PO1, CTT)`},
		{"segment not directly in the loop", po850 + "document:\n  lines:\n    each: PO1\n    fields:\n      description: PID05\n",
			`bad.yaml:8:20: segment PID is not directly in loop PO1 of 850 004010; PID starts loop PID: write PID/PID05`},
		{"segment not directly in the set", po850 + "document:\n  po_number: N102\n",
			`bad.yaml:5:14: segment N1 is not directly in the 850 set level of 850 004010; N1 starts loop N1: write N1/N102`},
		{"segment not in the set at all", po850 + "document:\n  po_number: BIG02\n",
			`bad.yaml:5:14: segment BIG is not directly in the 850 set level of 850 004010`},
		{"element past the end", po850 + "document:\n  po_number: BEG13\n",
			`bad.yaml:5:14: BEG has 12 elements; there is no BEG13`},
		{"condition element past the end", po850 + "document:\n  po_number: DTM02[DTM09=002]\n",
			`bad.yaml:5:14: DTM has 6 elements; there is no DTM09`},
		{"component past the end", po850 + "document:\n  po_number: REF04-7\n",
			`bad.yaml:5:14: REF04 has no component 7`},
		{"condition not on the loop trigger", po850 + "document:\n  po_number: N1[N301=X]/N102\n",
			`bad.yaml:5:14: condition on N301: loop N1 starts with N1`},
		{"qualifier on a segment without pairs", po850 + "document:\n  po_number: CUR(BY)\n",
			`bad.yaml:5:14: segment CUR has no qualifier/value pairs for CUR(BY)`},
		{"unknown code table", po850 + "document:\n  purpose: {path: BEG01, codes: purposes}\n",
			`bad.yaml:5:33: no code table "purposes" (define it under codes:)`},
		{"bad date format option", po850 + "document:\n  po_date: {path: BEG05, date: DDMMYY}\n",
			`bad.yaml:5:32: date format "DDMMYY" is not CCYYMMDD or YYMMDD`},
		{"bad decimals option", po850 + "document:\n  lines:\n    each: PO1\n    fields:\n      unit_price: {path: PO104, decimals: two}\n",
			`bad.yaml:8:43: decimals "two" is not 0..9`},
		{"bad required option", po850 + "document:\n  po_number: {path: BEG03, required: yes}\n",
			`bad.yaml:5:38: required is true or false, not "yes"`},
		{"field without a path", po850 + "document:\n  po_number: {required: true}\n",
			`bad.yaml:5:14: field "po_number" needs a path (or a const or default)`},
		{"list without each", po850 + "document:\n  lines:\n    fields:\n      line_number: BEG03\n",
			`bad.yaml:6:5: field "lines" is a list: say which loop gives its elements with each (or hl)`},
		{"object with each", po850 + "document:\n  ship_to:\n    each: N1\n    fields:\n      name: N102\n",
			`bad.yaml:6:5: field "ship_to" holds one Party: use scope, not each or hl`},
		{"bad uom factor", po850 + "uom_conversions:\n  - {from: CS, to: EA, factor: twelve}\ndocument:\n  po_number: BEG03\n",
			`bad.yaml:5:32: factor "twelve" is not a positive number`},
		{"outbound count of a scalar", po850 + "document:\n  po_number: BEG03\noutbound:\n  counts:\n    CTT/CTT01: po_number\n",
			`bad.yaml:8:16: count of "po_number": not a list field of purchase_order`},
		{"outbound constant bad path", po850 + "document:\n  po_number: BEG03\noutbound:\n  constants:\n    CTT01: \"1\"\n",
			`bad.yaml:8:5: segment CTT is not directly in the 850 set level of 850 004010; CTT starts loop CTT: write CTT/CTT01`},
		{"item xref file missing", po850 + "item_xref: {file: nope.csv}\ndocument:\n  po_number: BEG03\n",
			"bad.yaml:4:19: reading item cross-reference: open testdata/xref/nope.csv: no such file or directory"},
		{"item xref bad CSV", po850 + "item_xref: {file: bad.csv}\ndocument:\n  po_number: BEG03\n",
			"bad.yaml:4:19: item cross-reference bad.csv line 2: want partner_item,our_item"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compile(t, "bad.yaml", tc.src)
			if err == nil {
				t.Fatalf("compiled; want %s", tc.want)
			}
			checkSpecError(t, err, tc.want)
		})
	}
}

func checkSpecError(t *testing.T, err error, want string) {
	t.Helper()
	got := err.Error()
	if !posPrefix.MatchString(got) {
		t.Errorf("error %q has no file:line:col: prefix", got)
	}
	var se *mapping.SpecError
	if !errors.As(err, &se) {
		t.Errorf("error %q is a %T, not a *mapping.SpecError", got, err)
	}
	if !strings.HasPrefix(got, want) {
		t.Errorf("error\n %s\nwant\n %s", got, want)
	}
}

// Errors in a file that extends another name the file they are in.
func TestSpecErrorsInOverlays(t *testing.T) {
	l := &mappings.Library{Dir: "testdata/partners", Registry: reg}
	tests := []struct{ name, want string }{
		{"broken/850-004010.yaml", filepath.Join("testdata", "partners", "broken", "850-004010.yaml") + `:6:20: PO1 has 25 elements; there is no PO199`},
		// The extends that closes the cycle is in other.yaml.
		{"cycle/850-004010.yaml", filepath.Join("testdata", "partners", "cycle", "other.yaml") + ":1:10: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.Load(tc.name)
			if err == nil {
				t.Fatal("loaded")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error\n %s\nwant a prefix\n %s", err, tc.want)
			}
			if !posPrefix.MatchString(err.Error()) {
				t.Errorf("error %q has no file:line:col: prefix", err)
			}
		})
	}
}

// --- fixtures and samples ------------------------------------------------

type sample struct{ path, golden string }

func samples(t *testing.T) []sample {
	var out []sample
	fixtures, _ := filepath.Glob("../../testdata/x12/*.edi")
	for _, f := range fixtures {
		out = append(out, sample{f, "x12__" + filepath.Base(f)})
	}
	const shared = "../../../shared"
	idx, err := os.ReadFile(filepath.Join(shared, "x12-samples", "SOURCES.md"))
	if err != nil {
		t.Logf("no sample corpus: %v", err)
		return out
	}
	row := regexp.MustCompile("^\\| *\\d+ *\\| `(x12-samples/[^`]+)`")
	sc := bufio.NewScanner(bytes.NewReader(idx))
	for sc.Scan() {
		m := row.FindStringSubmatch(sc.Text())
		if m == nil || !strings.Contains(sc.Text(), "| valid-looking |") {
			continue
		}
		rel := strings.TrimPrefix(m[1], "x12-samples/")
		out = append(out, sample{filepath.Join(shared, m[1]), strings.ReplaceAll(rel, "/", "__")})
	}
	return out
}

func TestSamples(t *testing.T) {
	wantSet := map[string]bool{"850": true, "855": true, "856": true, "810": true}
	l := lib()
	for _, smp := range samples(t) {
		data, err := os.ReadFile(smp.path)
		if err != nil {
			t.Logf("%s: %v", smp.path, err)
			continue
		}
		var lines [][]byte
		var summary []string
		var sets []*x12.SetResult
		v := &x12.Validator{Registry: reg, KeepSegments: true}
		if err := v.Validate(bytes.NewReader(data), x12.Events{Set: func(s *x12.SetResult) { sets = append(sets, s) }}); err != nil {
			t.Logf("%s: %v", smp.path, err)
		}
		for _, s := range sets {
			base := s.Version
			if len(base) > 6 {
				base = base[:6]
			}
			if !wantSet[s.ID] || base != "004010" && base != "005010" {
				continue
			}
			sp, err := l.Default(s.ID, s.Version)
			if err != nil {
				t.Errorf("%s: %v", smp.path, err)
				continue
			}
			doc, err := func() (d canonical.Document, err error) {
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("panic: %v", r)
						t.Errorf("%s: set %s: %v", smp.path, s.Control, err)
					}
				}()
				return sp.Translate(mapping.Input{Set: s, Partner: "sample", File: filepath.Base(smp.path)})
			}()
			status := "ok"
			if !s.Valid() {
				status = fmt.Sprintf("%d validation errors", len(s.Errors)+s.Dropped)
			}
			if err != nil {
				status += "; translate: " + strings.ReplaceAll(err.Error(), "\n", "; ")
			}
			summary = append(summary, fmt.Sprintf("%s/%s #%s %s", s.ID, s.Version, s.Control, status))
			if doc == nil {
				continue
			}
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, b)
		}
		if len(summary) == 0 {
			continue
		}
		t.Logf("%s: %s", smp.golden, strings.Join(summary, " | "))
		golden := filepath.Join("testdata", "golden", smp.golden+".jsonl")
		got := append(bytes.Join(lines, []byte("\n")), '\n')
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Errorf("%s: %v (run go test -run TestSamples -update)", smp.golden, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: translation differs from %s (run with -update if intended)\ngot:\n%s", smp.path, golden, got)
		}
	}
}

// Nn elements carry implied decimals whichever way the field is written:
// ELEMENT alone or {path: ELEMENT}.
func TestImpliedDecimalsFromSchema(t *testing.T) {
	const inv = "kind: invoice\nset: \"810\"\nversion: \"004010\"\n"
	edi := interchange("810", "004010", "BIG*20261130*INV-1", "TDS*119262", "SAC*A*C310***5")
	for _, form := range []string{"TDS01", "{path: TDS01}"} {
		t.Run(form, func(t *testing.T) {
			sp := mustCompile(t, inv+"document:\n  total_amount: "+form+"\n  allowances_charges:\n    each: SAC\n    fields:\n      amount: "+strings.ReplaceAll(form, "TDS01", "SAC05")+"\n")
			doc, err := translateOne(t, sp, edi)
			if err != nil {
				t.Fatal(err)
			}
			got := flat(t, doc)
			if got["total_amount"] != "1192.62" || got["allowances_charges.0.amount"] != "0.05" {
				t.Errorf("total_amount %q, amount %q; want 1192.62 and 0.05 (N2)", got["total_amount"], got["allowances_charges.0.amount"])
			}
			rows, err := sp.Emit(doc, "0001", outDelims)
			if err != nil {
				t.Fatal(err)
			}
			if out := rowsString(rows); !strings.Contains(out, "TDS*119262~") || !strings.Contains(out, "SAC*****5~") {
				t.Errorf("outbound N2: %s", out)
			}
		})
	}
}

// A path whose segment condition selects the loop's trigger segment
// (ACK05[ACK04=068] in the ACK loop) must fill the trigger outbound, not
// add a second trigger segment (which starts a second loop instance).
func TestOutboundConditionOnTrigger(t *testing.T) {
	sp := mustCompile(t, "kind: po_acknowledgement\nset: \"855\"\nversion: \"004010\"\n"+`document:
  po_number: BAK03
  lines:
    each: PO1
    fields:
      line_number: PO101
      status_code: ACK/ACK01
      scheduled_date: ACK/ACK05[ACK04=068]
`)
	doc := &canonical.POAcknowledgement{Header: canonical.Header{Kind: canonical.KindPOAcknowledgement}, PONumber: "PO-1",
		Lines: []canonical.AckLine{{LineNumber: "1", StatusCode: "IA", ScheduledDate: "2026-12-05"}}}
	rows, err := sp.Emit(doc, "0001", outDelims)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsString(rows); !strings.Contains(got, "PO1*1~ACK*IA***068*20261205~CTT") && !strings.Contains(got, "PO1*1~ACK*IA***068*20261205~SE") {
		t.Errorf("got\n%s\nwant one ACK*IA***068*20261205", got)
	}
}
