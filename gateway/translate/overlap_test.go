package translate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/edigate/edigate/translators/canonical"
	"github.com/edigate/edigate/translators/mapping"
	"github.com/edigate/edigate/translators/x12"
	"github.com/edigate/edigate/translators/x12/x12gen"
)

// summary is everything Inbound returned, as text, documents in order.
func summary(res *Result, err error, streamed []canonical.Document) []string {
	out := []string{fmt.Sprintf("sets %d refused %d unknown %v interchanges %v error %v", res.Sets, res.Refused, res.Unknown, res.Interchanges, err)}
	for _, d := range slices.Concat(res.Documents, streamed) {
		b, _ := json.Marshal(d)
		out = append(out, "document "+string(b))
	}
	for _, p := range res.Problems {
		out = append(out, "problem "+p.Error())
	}
	for _, w := range res.Warnings {
		out = append(out, "warning "+w.Error())
	}
	for _, a := range res.Acks {
		out = append(out, fmt.Sprintf("ack %+v", *a))
	}
	return out
}

// TestOverlapAgrees translates files of every kind with each set mapped
// on another goroutine while the next is validated, and one after the
// other (Options.Sequential): documents, problems in their order,
// warnings, acknowledgements and counts must be the same, documents kept
// or streamed.
func TestOverlapAgrees(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	tr := MustTranslator(t, filepath.Join(root, "partners"))
	files := map[string][]byte{}
	for _, name := range inputs() {
		if b, err := os.ReadFile(name); err == nil {
			files[name] = b
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, set := range []string{"850", "855", "856", "810"} {
		for _, version := range []string{"004010", "005010"} {
			name := set + "-" + version
			// Sets longer than the reader's buffer, then many short ones.
			long := x12gen.Bytes(x12gen.Options{Set: set, Version: version, Seed: 3, LinesPerSet: 1500, SetsPerGroup: 2}, 400<<10)
			short := x12gen.Bytes(x12gen.Options{Set: set, Version: version, Seed: 4, LinesPerSet: 3}, 150<<10)
			files[name] = slices.Concat(long, short)
			for k := range 3 {
				b := slices.Clone(short)
				for range 1 + rng.IntN(8) {
					b[rng.IntN(len(b))] = "09AZ*~:^ .\n"[rng.IntN(11)]
				}
				files[fmt.Sprintf("%s damaged %d", name, k)] = b
			}
		}
	}
	mappingErrors := 0
	for name, b := range files {
		for _, partner := range []string{"", "acme", "betaparts"} {
			run := func(sequential, stream bool) []string {
				var docs []canonical.Document
				opt := Options{File: name, Partner: partner, Sequential: sequential, Ack: &x12.Acknowledger{Alloc: &x12.CounterAllocator{}, Registry: tr.Registry}}
				if stream {
					opt.Document = func(d canonical.Document) { docs = append(docs, d) }
				}
				res, err := tr.Inbound(bytes.NewReader(b), opt)
				if res == nil {
					t.Fatalf("%s as %q: %v", name, partner, err)
				}
				if sequential && !stream {
					for _, p := range res.Problems {
						if _, ok := p.(*mapping.Error); ok {
							mappingErrors++
						}
					}
				}
				return summary(res, err, docs)
			}
			want := run(true, false)
			for _, stream := range []bool{false, true} {
				if got := run(false, stream); !slices.Equal(got, want) {
					i := 0
					for i < min(len(got), len(want)) && got[i] == want[i] {
						i++
					}
					t.Errorf("%s as %q (streamed %v): overlapped and sequential translation differ at line %d of %d/%d:\n%.300s\n%.300s", name, partner, stream, i, len(got), len(want), strings.Join(got[i:min(i+1, len(got))], ""), strings.Join(want[i:min(i+1, len(want))], ""))
				}
			}
		}
	}
	if mappingErrors == 0 {
		t.Error("no input made a mapping error: the order of mapping errors among the others went untested")
	}
	t.Logf("%d files, %d mapping errors", len(files), mappingErrors)
}
