package mapping_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/edigate/edigate/mappings"
	"github.com/edigate/edigate/translators/mapping"
	"github.com/edigate/edigate/translators/x12"
	"github.com/edigate/edigate/translators/x12/x12gen"
)

// BenchmarkTranslateSets is the mapping alone: the sets of a 2 MB
// interchange are validated and kept once, then translated in each
// iteration.
func BenchmarkTranslateSets(b *testing.B) {
	for _, set := range []string{"850", "855", "856", "810"} {
		b.Run(set, func(b *testing.B) {
			data := x12gen.Bytes(x12gen.Options{Set: set, Version: "004010", Seed: 7}, 2<<20)
			var sets []*x12.SetResult
			v := &x12.Validator{Registry: reg, KeepSegments: true}
			if err := v.Validate(bytes.NewReader(data), x12.Events{Set: func(s *x12.SetResult) { sets = append(sets, s) }}); err != nil {
				b.Fatal(err)
			}
			lib := &mappings.Library{Dir: filepath.Join("..", "..", "mappings"), Registry: reg}
			sp, err := lib.Load(mappings.DefaultName(set, "004010"))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				for _, s := range sets {
					if _, err := sp.Translate(mapping.Input{Set: s, File: "bench"}); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
