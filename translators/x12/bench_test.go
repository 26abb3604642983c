package x12_test

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/edigate/edigate/translators/x12"
	"github.com/edigate/edigate/translators/x12/x12gen"
)

// benchSize is the size of the generated interchanges the benchmarks read.
const benchSize = 10 << 20

var benchData = map[string]func() []byte{
	"850": sync.OnceValue(func() []byte { return x12gen.Bytes(x12gen.Options{Set: "850", Seed: 1}, benchSize) }),
	"856": sync.OnceValue(func() []byte { return x12gen.Bytes(x12gen.Options{Set: "856", Seed: 1}, benchSize) }),
}

var benchSets = []string{"850", "856"}

// BenchmarkCeiling is what any X12 reader costs at least: finding every
// terminator and element separator, without allocating.
func BenchmarkCeiling(b *testing.B) {
	for _, set := range benchSets {
		b.Run(set, func(b *testing.B) {
			data := benchData[set]()
			d := x12.DefaultDelimiters
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			var segs, elems int
			for b.Loop() {
				segs, elems = 0, 0
				rest := data
				for len(rest) > 0 {
					end := bytes.IndexByte(rest, d.Segment[0])
					if end < 0 {
						end = len(rest)
					}
					seg := rest[:end]
					segs++
					for {
						i := bytes.IndexByte(seg, d.Element)
						if i < 0 {
							break
						}
						elems++
						seg = seg[i+1:]
					}
					if end == len(rest) {
						break
					}
					rest = rest[end+1:]
				}
			}
			b.ReportMetric(float64(segs), "segments")
			_ = elems
		})
	}
}

// BenchmarkTokenize reads every segment with a Reader.
func BenchmarkTokenize(b *testing.B) {
	for _, set := range benchSets {
		b.Run(set, func(b *testing.B) {
			data := benchData[set]()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				rd := x12.NewReader(bytes.NewReader(data))
				for {
					_, err := rd.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkValidate runs the full validation against the embedded schemas.
func BenchmarkValidate(b *testing.B) {
	reg := x12.MustLoadRegistry()
	for _, set := range benchSets {
		b.Run(set, func(b *testing.B) {
			data := benchData[set]()
			v := &x12.Validator{Registry: reg}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				errs := 0
				var first *x12.ParseError
				err := v.Validate(bytes.NewReader(data), x12.Events{Issue: func(e *x12.ParseError) {
					if e.Severity == x12.SeverityError {
						if errs == 0 {
							first = e
						}
						errs++
					}
				}})
				if err != nil {
					b.Fatal(err)
				}
				if errs > 0 {
					b.Fatalf("%d errors; first: %s: %s", errs, first.Position(), first.Message)
				}
			}
		})
	}
}
