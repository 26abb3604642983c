package mapping_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edigate/edigate/translators/mapping"
	"github.com/edigate/edigate/translators/x12"
	"github.com/edigate/edigate/translators/x12/x12gen"
)

// FuzzCompile compiles damaged mapping files: compiling never panics, and
// an error names the file. A mapping that compiles translates a set.
func FuzzCompile(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "mappings", "*", "*.yaml"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil && !strings.Contains(string(b), "extends:") {
			f.Add(b)
		}
	}
	f.Add([]byte("kind: purchase_order\nset: \"850\"\nversion: \"004010\"\ndocument:\n  po_number: BEG03[BEG01=00|]\n"))
	f.Add([]byte("kind: purchase_order\nset: \"850\"\nversion: \"004010\"\ndocument:\n  lines: {each: PO1/PID, fields: {a: &x {b: *x}}}\n"))
	sets := map[string][]*x12.SetResult{} // by set and version
	for _, set := range []string{"850", "855", "856", "810"} {
		for _, version := range []string{"004010", "005010"} {
			data := x12gen.Bytes(x12gen.Options{Set: set, Version: version, Seed: 2, LinesPerSet: 3}, 8<<10)
			v := &x12.Validator{Registry: reg, KeepSegments: true}
			if err := v.Validate(bytes.NewReader(data), x12.Events{Set: func(s *x12.SetResult) { sets[set+version] = append(sets[set+version], s) }}); err != nil {
				f.Fatal(err)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sp, err := mapping.Compile(reg, readDir, mapping.Source{Name: "fuzz.yaml", Data: b, Dir: "testdata/xref"})
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("an error that does not name the file: %v", err)
			}
			return
		}
		for _, s := range sets[sp.Set+sp.Version] {
			sp.Translate(mapping.Input{Set: s, File: "in.edi"}) // errors are the mapping's business; a panic is ours
		}
	})
}
