package translate

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/edigate/edigate/translators/x12"
	"github.com/edigate/edigate/translators/x12/x12gen"
)

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
					if msg := p.Error(); !strings.HasPrefix(msg, file+":") {
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
