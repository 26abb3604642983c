package translate

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/edigate/edigate/translators/canonical"
	"github.com/edigate/edigate/translators/x12"
	"github.com/edigate/edigate/translators/x12/x12gen"
)

const benchSize = 10 << 20

var benchInputs = map[string]func() []byte{}

func init() {
	for _, set := range []string{"850", "855", "856", "810"} {
		benchInputs[set] = sync.OnceValue(func() []byte {
			return x12gen.Bytes(x12gen.Options{Set: set, Version: "004010", Seed: 7}, benchSize)
		})
	}
}

// BenchmarkTranslateVsValidate alternates, in each iteration, validation
// alone and full translation (validation, loop tree, mapping to canonical
// documents) over the same 10 MB interchange. It reports translation's
// speed as a percentage of validation's (the target is at least 50%),
// documents per second and MB/s. "kept" keeps every document in the
// Result, as the intake does to store a message's documents together;
// "streamed" hands each over as it is made (Options.Document), as
// edigate translate does. "one-cpu" validates and translates on one
// goroutine; "two-cpus" runs both as edigate does with two CPUs or more:
// validation reads on a goroutine of its own (Validator.Pipelined), and
// translation maps each set on one while the next is validated.
func BenchmarkTranslateVsValidate(b *testing.B) {
	for _, set := range []string{"850", "855", "856", "810"} {
		for _, mode := range []string{"kept", "streamed"} {
			for _, cpus := range []string{"one-cpu", "two-cpus"} {
				b.Run(set+"/"+mode+"/"+cpus, func(b *testing.B) {
					data := benchInputs[set]()
					tr := MustTranslator(b, "")
					two := cpus == "two-cpus"
					v := &x12.Validator{Registry: tr.Registry, Pipelined: two}
					b.SetBytes(int64(len(data)))
					var tv, tt time.Duration
					docs := 0
					opt := Options{File: "bench", Sequential: !two}
					if mode == "streamed" {
						opt.Document = func(canonical.Document) { docs++ }
					}
					for b.Loop() {
						t0 := time.Now()
						if err := v.Validate(bytes.NewReader(data), x12.Events{}); err != nil {
							b.Fatal(err)
						}
						t1 := time.Now()
						res, err := tr.Inbound(bytes.NewReader(data), opt)
						if err != nil {
							b.Fatal(err)
						}
						if len(res.Problems) > 0 {
							b.Fatalf("%d problems, first: %v", len(res.Problems), res.Problems[0])
						}
						docs += len(res.Documents)
						tv, tt = tv+t1.Sub(t0), tt+time.Since(t1)
					}
					mb := float64(len(data)) * float64(b.N) / 1e6
					b.ReportMetric(100*float64(tv)/float64(tt), "%validate")
					b.ReportMetric(float64(docs)/tt.Seconds(), "docs/s")
					b.ReportMetric(mb/tt.Seconds(), "translate-MB/s")
					b.ReportMetric(mb/tv.Seconds(), "validate-MB/s")
				})
			}
		}
	}
}

// BenchmarkTranslate is translation alone, on one goroutine, for profiling.
func BenchmarkTranslate(b *testing.B) {
	data := benchInputs["850"]()
	tr := MustTranslator(b, "")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.Inbound(bytes.NewReader(data), Options{File: "bench", Sequential: true}); err != nil {
			b.Fatal(err)
		}
	}
}
