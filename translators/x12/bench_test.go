package x12_test

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"

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
			var segs int
			for b.Loop() {
				segs, _ = ceiling(data, d.Segment[0], d.Element)
			}
			b.ReportMetric(float64(segs), "segments")
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

// BenchmarkValidate runs the full validation against the embedded
// schemas, in line ("sequential") and with the reading on a goroutine of
// its own ("pipelined", as edigate validate runs).
func BenchmarkValidate(b *testing.B) {
	reg := x12.MustLoadRegistry()
	for _, set := range benchSets {
		for _, mode := range []string{"sequential", "pipelined"} {
			b.Run(set+"/"+mode, func(b *testing.B) {
				data := benchData[set]()
				v := &x12.Validator{Registry: reg, Pipelined: mode == "pipelined"}
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
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
}

// ceiling counts segments and elements with bytes.IndexByte and nothing
// else: the least any X12 reader must do.
func ceiling(data []byte, term, sep byte) (segs, elems int) {
	rest := data
	for len(rest) > 0 {
		end := bytes.IndexByte(rest, term)
		if end < 0 {
			end = len(rest)
		}
		seg := rest[:end]
		segs++
		for {
			i := bytes.IndexByte(seg, sep)
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
	return segs, elems
}

// BenchmarkValidateVsCeiling alternates a ceiling pass and a full
// validation over the same bytes within each iteration, so that both see
// the same machine; it reports validation's speed as a percentage of the
// ceiling's (the target is 40%, the goal 60%). Both run on one goroutine,
// so validation is not Pipelined.
func BenchmarkValidateVsCeiling(b *testing.B) {
	reg := x12.MustLoadRegistry()
	for _, set := range benchSets {
		b.Run(set, func(b *testing.B) {
			data := benchData[set]()
			v := &x12.Validator{Registry: reg}
			d := x12.DefaultDelimiters
			b.SetBytes(int64(len(data)))
			var tc, tv time.Duration
			for b.Loop() {
				t0 := time.Now()
				ceiling(data, d.Segment[0], d.Element)
				t1 := time.Now()
				if err := v.Validate(bytes.NewReader(data), x12.Events{}); err != nil {
					b.Fatal(err)
				}
				tc, tv = tc+t1.Sub(t0), tv+time.Since(t1)
			}
			b.ReportMetric(100*float64(tc)/float64(tv), "%ceiling")
			b.ReportMetric(float64(len(data))*float64(b.N)/tv.Seconds()/1e6, "validate-MB/s")
			b.ReportMetric(float64(len(data))*float64(b.N)/tc.Seconds()/1e6, "ceiling-MB/s")
		})
	}
}
