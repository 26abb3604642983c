package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/edigate/edigate/mappings"
	"github.com/edigate/edigate/partners"
	"github.com/edigate/edigate/translators/canonical"
	"github.com/edigate/edigate/translators/x12"
	"github.com/edigate/edigate/translators/x12/x12gen"
)

var root = filepath.Join("..", "..")

// MustTranslator returns a Translator over a partners folder ("" for none)
// and the repository's mappings folder.
func MustTranslator(tb testing.TB, partnersDir string) *Translator {
	tb.Helper()
	reg := x12.MustLoadRegistry()
	dir := &partners.Directory{}
	if partnersDir != "" {
		var err error
		if dir, err = partners.LoadDir(partnersDir); err != nil {
			tb.Fatal(err)
		}
	}
	return &Translator{
		Registry: reg, Partners: dir,
		Library: &mappings.Library{Dir: filepath.Join(root, "mappings"), Registry: reg},
		UsQual:  "ZZ", UsID: "EDIGATE", UsGS: "EDIGATE", Alloc: &x12.CounterAllocator{},
		Now: func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) },
	}
}

// schemas compiles the canonical JSON Schemas.
func schemas(tb testing.TB) map[string]*jsonschema.Schema {
	tb.Helper()
	c := jsonschema.NewCompiler()
	out := map[string]*jsonschema.Schema{}
	for _, k := range canonical.Kinds() {
		b, _ := canonical.JSONSchema(k)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			tb.Fatal(err)
		}
		url := "mem://" + k + ".json"
		if err := c.AddResource(url, doc); err != nil {
			tb.Fatal(err)
		}
		if out[k], err = c.Compile(url); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

func checkSchema(t *testing.T, sc map[string]*jsonschema.Schema, name string, d canonical.Document) {
	t.Helper()
	b, _ := json.Marshal(d)
	v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err := sc[d.Head().Kind].Validate(v); err != nil {
		t.Errorf("%s: %s %s does not match its JSON Schema: %v\n%s", name, d.Head().Kind, d.Head().Source.TransactionControl, err, b)
	}
}

// inputs lists our fixtures, the demo partners' samples and the public
// samples of the sets we map.
func inputs() []string {
	files, _ := filepath.Glob(filepath.Join(root, "testdata", "x12", "*.edi"))
	demo, _ := filepath.Glob(filepath.Join(root, "partners", "*", "samples", "*.edi"))
	files = append(files, demo...)
	shared, _ := filepath.Glob(filepath.Join(root, "..", "shared", "x12-samples", "*", "*"))
	return append(files, shared...)
}

// TestEveryDocumentMatchesItsSchema translates every input we have and
// checks each canonical document against the JSON Schema we publish.
func TestEveryDocumentMatchesItsSchema(t *testing.T) {
	sc := schemas(t)
	tr := MustTranslator(t, filepath.Join(root, "partners"))
	docs := 0
	for _, name := range inputs() {
		if strings.HasSuffix(name, ".md") {
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tr.Inbound(f, Options{File: name})
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, d := range res.Documents {
			docs++
			checkSchema(t, sc, name, d)
		}
	}
	if docs < 20 {
		t.Errorf("only %d documents translated; the inputs are missing?", docs)
	}
	t.Logf("%d documents checked against their JSON Schema", docs)
}

const testPartner = `id: %s
name: Test Supplier
x12:
  isa: "ZZ:TESTSUPPLIER"
  version: "%s"
  delimiters: {element: "|", component: ">"}
`

func writePartner(tb testing.TB, id, version string) string {
	tb.Helper()
	dir := tb.TempDir()
	y := strings.Replace(strings.Replace(testPartner, "%s", id, 1), "%s", version, 1)
	if err := os.WriteFile(filepath.Join(dir, id+".yaml"), []byte(y), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

var po = `{"kind":"purchase_order","id":"po-1","partner":"test","direction":"outbound","correlation_id":"c-1",
"source":{"set":"","version":"","interchange_control":"","group_control":"","transaction_control":""},
"po_number":"4500099999","po_date":"2026-11-25","purpose":"original","order_type":"SA","currency":"USD",
"buyer":{"name":"EDIGATE DISTRIBUTION","id":"DIST01","id_qualifier":"92"},
"ship_to":{"name":"DC EAST","id":"DC01","id_qualifier":"92","address":{"street":["100 WAREHOUSE WAY","DOCK 4"],"city":"COLUMBUS","state":"OH","postal_code":"43215","country":"US"}},
"requested_delivery_date":"2026-12-10",
"lines":[{"line_number":"1","buyer_item":"SKU-1","vendor_item":"V-1","gtin":"00012345678905","description":"WIDGET","quantity":"10","uom":"EA","unit_price":"12.50"},
         {"line_number":"2","buyer_item":"SKU-2","quantity":"3.5","uom":"LB","unit_price":"0.0125"}]}`

// TestOutboundRoundTrip: a canonical PO becomes an 850 in the partner's
// version and delimiters that validates, and translates back unchanged.
func TestOutboundRoundTrip(t *testing.T) {
	for _, version := range []string{"004010", "005010"} {
		t.Run(version, func(t *testing.T) {
			tr := MustTranslator(t, writePartner(t, "test", version))
			docs, err := ParseDocuments("po.json", []byte(po))
			if err != nil {
				t.Fatal(err)
			}
			out, err := tr.Outbound("test", docs...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, want := range []string{"ISA|00|", "|ZZ|EDIGATE        |ZZ|TESTSUPPLIER   |", "GS|PO|EDIGATE|TESTSUPPLIER|", "|X|" + version, "BEG|00|SA|4500099999||20261125", "N3|100 WAREHOUSE WAY|DOCK 4", "PO1|1|10|EA|12.50||", "CTT|2"} {
				if !bytes.Contains(out, []byte(want)) {
					t.Errorf("850 lacks %q:\n%s", want, out)
				}
			}
			back, err := tr.Inbound(bytes.NewReader(out), Options{File: "written", Partner: "test"})
			if err != nil || len(back.Problems) > 0 {
				t.Fatalf("%v %v", err, back.Problems)
			}
			if len(back.Documents) != 1 {
				t.Fatalf("%d documents back", len(back.Documents))
			}
			if d := diffDocs(docs[0], back.Documents[0]); len(d) > 0 {
				t.Errorf("round trip lost data:\n%s", strings.Join(d, "\n"))
			}
		})
	}
}

func TestUnknownSender(t *testing.T) {
	tr := MustTranslator(t, writePartner(t, "test", "004010"))
	f, _ := os.Open(filepath.Join(root, "testdata", "x12", "850-004010-acme.edi"))
	defer f.Close()
	res, err := tr.Inbound(f, Options{File: "acme.edi"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Unknown) != 1 || res.Unknown[0] != "ZZ:EDIGATEDIST" {
		t.Errorf("unknown senders %v", res.Unknown)
	}
	if len(res.Documents) != 1 || res.Documents[0].Head().Partner != "" {
		t.Errorf("an unknown sender's set is translated with the defaults and no partner")
	}
	if _, err := tr.Inbound(strings.NewReader(""), Options{Partner: "nobody"}); !errors.Is(err, partners.ErrUnknownPartner) {
		t.Errorf("forcing an unknown partner: %v", err)
	}
}

// TestSetsNotTranslated: a valid set is translated only when its
// interchange and group envelopes have no errors (a rejected interchange
// is sent again) and a schema validated it; otherwise one positioned
// problem says why, naming the partner.
func TestSetsNotTranslated(t *testing.T) {
	tr := MustTranslator(t, filepath.Join(root, "partners"))
	good := x12gen.Bytes(x12gen.Options{Set: "850", Version: "004010", Seed: 9, LinesPerSet: 2, SetsPerGroup: 50}, 2<<10) // one group
	damage := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("the generated 850 has no %q", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	for _, c := range []struct {
		name string
		in   []byte
		want string // in every problem about a set; "" when the sets are translated
	}{
		{"valid", good, ""},
		{"ISA date", isa09(good, "251399"), "its interchange or group envelope has errors"},
		{"GS control number", damage("*1*X*004010", "*A*X*004010"), "its interchange or group envelope has errors"},
		{"version without schemas", bytes.ReplaceAll(good, []byte("*X*004010"), []byte("*X*003040")), `there is no schema for 850 "003040"`},
	} {
		res, err := tr.Inbound(bytes.NewReader(c.in), Options{File: "in.edi", Partner: "acme"})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var about []string
		for _, p := range res.Problems {
			if msg := p.Error(); strings.Contains(msg, "not translated") {
				about = append(about, msg)
			}
		}
		if c.want == "" {
			if len(res.Documents) != res.Sets || len(about) > 0 {
				t.Errorf("%s: %d documents of %d sets, %q", c.name, len(res.Documents), res.Sets, about)
			}
			continue
		}
		if len(res.Documents) != 0 || len(about) != res.Sets || res.Sets == 0 {
			t.Errorf("%s: %d documents and %d problems about sets for %d sets: %q", c.name, len(res.Documents), len(about), res.Sets, about)
		}
		for _, msg := range about {
			if !strings.Contains(msg, c.want) || !strings.HasPrefix(msg, "in.edi:") || !strings.Contains(msg, "partner acme") {
				t.Errorf("%s: %s", c.name, msg)
			}
		}
	}
}

// TestValidationErrorsNamePartner: an error found validating a file names
// the partner whose interchange it is in (forced, or found from the ISA
// sender), or the sender when no partner is it, after the file and offset.
func TestValidationErrorsNamePartner(t *testing.T) {
	tr := MustTranslator(t, filepath.Join(root, "partners"))
	sample, err := os.ReadFile(filepath.Join(root, "partners", "acme", "samples", "810-A770412.edi"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := sample[:300] // inside the set: no SE, GE or IEA
	for _, c := range []struct {
		name    string
		in      []byte
		partner string
		want    string
	}{
		{"from the ISA sender", truncated, "", "in.edi:300: partner acme: ISA 000004503"},
		{"forced", truncated, "betaparts", "in.edi:300: partner betaparts: ISA 000004503"},
		{"unknown sender", bytes.Replace(truncated, []byte("ACMESUPPLY"), []byte("NOBODYXXXX"), 1), "", "in.edi:300: sender ZZ:NOBODYXXXX (no partner): ISA 000004503"},
	} {
		res, err := tr.Inbound(bytes.NewReader(c.in), Options{File: "in.edi", Partner: c.partner})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(res.Problems) != 3 { // no SE, no GE, no IEA
			t.Fatalf("%s: %d problems: %v", c.name, len(res.Problems), res.Problems)
		}
		for _, p := range res.Problems {
			if !strings.HasPrefix(p.Error(), c.want) {
				t.Errorf("%s: %v, want it to begin with %q", c.name, p, c.want)
			}
		}
	}
	// Outside any interchange there is no sender to name.
	res, err := tr.Inbound(strings.NewReader("not x12 at all"), Options{File: "in.edi"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || !strings.HasPrefix(res.Problems[0].Error(), "in.edi:0: input is not X12") {
		t.Errorf("not X12: %v", res.Problems)
	}
}

// isa09 returns b with the first ISA09 (the interchange date) replaced.
func isa09(b []byte, date string) []byte {
	els := bytes.SplitN(b, []byte("*"), 11)
	els[9] = []byte(date)
	return bytes.Join(els, []byte("*"))
}

// TestDemoPartners runs `partner check` over the demo partners shipped in
// partners/: every one must be green.
func TestDemoPartners(t *testing.T) {
	dir := filepath.Join(root, "partners")
	tr := MustTranslator(t, dir)
	if len(tr.Partners.Partners) < 3 {
		t.Fatalf("want the three demo partners in %s, found %d", dir, len(tr.Partners.Partners))
	}
	for _, p := range tr.Partners.Partners {
		r := tr.Check(p, false)
		if r.Failed {
			t.Errorf("partner %s is not green:\n%s", p.ID, strings.Join(r.Lines, "\n"))
		}
	}
}

// TestStreamedDocuments: with Options.Document every document of a file of
// many sets is handed over as it is made, the same as Result.Documents
// would hold, and none is kept.
func TestStreamedDocuments(t *testing.T) {
	tr := MustTranslator(t, "")
	data := x12gen.Bytes(x12gen.Options{Set: "856", Version: "005010", Seed: 11}, 512<<10)
	kept, err := tr.Inbound(bytes.NewReader(data), Options{File: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	var streamed []canonical.Document
	res, err := tr.Inbound(bytes.NewReader(data), Options{File: "streamed", Document: func(d canonical.Document) {
		streamed = append(streamed, d)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Documents) != 0 {
		t.Errorf("%d documents kept while streaming", len(res.Documents))
	}
	if len(kept.Documents) < 50 || len(streamed) != len(kept.Documents) {
		t.Fatalf("%d documents streamed, %d kept", len(streamed), len(kept.Documents))
	}
	for i := range streamed {
		a, _ := json.Marshal(streamed[i])
		b, _ := json.Marshal(kept.Documents[i])
		if !bytes.Equal(a, b) {
			t.Fatalf("document %d differs:\n%s\n%s", i, a, b)
		}
	}
}
