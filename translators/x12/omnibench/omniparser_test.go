// Package omniparser_test measures `edigate validate` against omniparser
// v1.0.5's EDI reader on the same generated 850 interchange, in the same run.
//
// It lives in its own module so that omniparser and its dependencies never
// enter the main module's go.mod.
package omniparser_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jf-tech/omniparser"
	"github.com/jf-tech/omniparser/extensions/omniv21/fileformat"
	"github.com/jf-tech/omniparser/extensions/omniv21/fileformat/edi"
	"github.com/jf-tech/omniparser/extensions/omniv21/transform"
	"github.com/jf-tech/omniparser/idr"
	"github.com/jf-tech/omniparser/transformctx"

	"github.com/edigate/edigate/translators/x12"
	"github.com/edigate/edigate/translators/x12/x12gen"
)

// defaultSize is the interchange size when EDIGATE_OMNI_BYTES is not set.
const defaultSize = 10 << 20

// inputSize reads EDIGATE_OMNI_BYTES: a byte count, optionally with a K, M
// or G suffix (powers of 1024), e.g. "100M".
func inputSize() (int64, error) {
	s := strings.TrimSpace(os.Getenv("EDIGATE_OMNI_BYTES"))
	if s == "" {
		return defaultSize, nil
	}
	mult := int64(1)
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("EDIGATE_OMNI_BYTES=%q is not a positive size", os.Getenv("EDIGATE_OMNI_BYTES"))
	}
	return n * mult, nil
}

// input is the interchange every benchmark reads, with what it holds.
type input struct {
	data     []byte
	segments int // all segments, envelopes included
	sets     int // ST segments
	setSegs  int // segments from ST to SE inclusive, summed over the sets
}

var loadInput = sync.OnceValues(func() (*input, error) {
	size, err := inputSize()
	if err != nil {
		return nil, err
	}
	in := &input{data: x12gen.Bytes(x12gen.Options{Set: "850", Version: "004010", Seed: 1}, size)}
	// Count independently of both parsers: x12gen uses x12.DefaultDelimiters
	// (segment terminator "~" followed by a newline, element separator "*").
	inSet := false
	for _, seg := range bytes.Split(in.data, []byte{'~'}) {
		seg = bytes.TrimLeft(seg, "\r\n")
		if len(seg) == 0 {
			continue
		}
		in.segments++
		id, _, _ := bytes.Cut(seg, []byte{'*'})
		switch string(id) {
		case "ST":
			in.sets++
			inSet = true
		}
		if inSet {
			in.setSegs++
		}
		if string(id) == "SE" {
			inSet = false
		}
	}
	return in, nil
})

func mustInput(tb testing.TB) *input {
	tb.Helper()
	in, err := loadInput()
	if err != nil {
		tb.Fatal(err)
	}
	return in
}

// omniSchema is an omniparser "omni.2.1" EDI schema for the generated 850s,
// modelled on omniparser's own extensions/omniv21/samples/edi/3_x12_834
// schema. Every segment x12gen writes is declared, in the 004010 850 order,
// with loops as segment groups: omniparser rejects any segment that is not
// declared or is out of order, and checks min/max occurrences, so reading to
// io.EOF without error means it has placed every segment. Each transaction
// set is a streaming target (is_target), so memory stays bounded. Only ST01
// and ST02 are declared as elements (omniparser still splits every element
// and component of every segment; it only builds IDR nodes for declared
// elements).
const omniSchema = `{
  "parser_settings": { "version": "omni.2.1", "file_format_type": "edi" },
  "file_declaration": {
    "segment_delimiter": "~",
    "element_delimiter": "*",
    "component_delimiter": ":",
    "ignore_crlf": true,
    "segment_declarations": [
      {
        "name": "ISA",
        "child_segments": [
          {
            "name": "functional_group", "type": "segment_group", "min": 0, "max": -1,
            "child_segments": [
              { "name": "GS" },
              {
                "name": "transaction_set", "type": "segment_group", "min": 0, "max": -1, "is_target": true,
                "child_segments": [
                  { "name": "ST", "elements": [ { "name": "ST01", "index": 1 }, { "name": "ST02", "index": 2 } ] },
                  { "name": "BEG" },
                  { "name": "CUR", "min": 0 },
                  { "name": "REF", "min": 0, "max": -1 },
                  { "name": "PER", "min": 0, "max": -1 },
                  { "name": "DTM", "min": 0, "max": -1 },
                  {
                    "name": "N1_loop", "type": "segment_group", "min": 0, "max": -1,
                    "child_segments": [
                      { "name": "N1" },
                      { "name": "N3", "min": 0, "max": 2 },
                      { "name": "N4", "min": 0, "max": -1 }
                    ]
                  },
                  {
                    "name": "PO1_loop", "type": "segment_group", "min": 1, "max": -1,
                    "child_segments": [
                      { "name": "PO1" },
                      { "name": "PID", "min": 0, "max": -1 }
                    ]
                  },
                  {
                    "name": "CTT_loop", "type": "segment_group", "min": 0,
                    "child_segments": [
                      { "name": "CTT" },
                      { "name": "AMT", "min": 0 }
                    ]
                  },
                  { "name": "SE" }
                ]
              },
              { "name": "GE" }
            ]
          }
        ]
      },
      { "name": "IEA" }
    ]
  },
  "transform_declarations": {
    "FINAL_OUTPUT": { "object": { "control": { "xpath": "ST/ST02" } } }
  }
}`

// omniGroups are the segment-group (loop) names of omniSchema; every other
// child of a transaction_set node is a segment.
var omniGroups = map[string]bool{"N1_loop": true, "PO1_loop": true, "CTT_loop": true}

// omniRuntime validates omniSchema the way omniparser's schema handler does
// (JSON-schema check of file_declaration, then min/max and is_target checks)
// and returns the runtime its EDI format reader is created from.
var omniRuntime = sync.OnceValues(func() (any, error) {
	return edi.NewEDIFileFormat("850").ValidateSchema("edi", []byte(omniSchema), &transform.Decl{})
})

// omniFileDecl is omniSchema's file_declaration, for the tokenizer.
var omniFileDecl = sync.OnceValues(func() (*edi.FileDecl, error) {
	var s struct {
		Decl *edi.FileDecl `json:"file_declaration"`
	}
	if err := json.Unmarshal([]byte(omniSchema), &s); err != nil {
		return nil, err
	}
	return s.Decl, nil
})

// omniReader reads data with omniparser's EDI format reader: every segment
// is tokenized (elements and components split), matched against the
// declared structure and turned into an IDR node, and each transaction set
// is returned as a tree. With countSegs it also counts the segment nodes of
// each set (ST to SE).
func omniReader(data []byte, countSegs bool) (sets, segs int, err error) {
	rt, err := omniRuntime()
	if err != nil {
		return 0, 0, err
	}
	var r fileformat.FormatReader
	r, err = edi.NewEDIFileFormat("850").CreateFormatReader("850", bytes.NewReader(data), rt)
	if err != nil {
		return 0, 0, err
	}
	for {
		n, err := r.Read()
		if err == io.EOF {
			return sets, segs, nil
		}
		if err != nil {
			return sets, segs, err
		}
		if n.Data != "transaction_set" {
			return sets, segs, fmt.Errorf("omniparser returned %q, not a transaction_set", n.Data)
		}
		sets++
		if countSegs {
			segs += countSegNodes(n)
		}
		r.Release(n)
	}
}

func countSegNodes(n *idr.Node) int {
	c := 0
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if ch.Type != idr.ElementNode {
			continue
		}
		if omniGroups[ch.Data] {
			c += countSegNodes(ch)
		} else {
			c++
		}
	}
	return c
}

// omniTokenize reads data with omniparser's NonValidatingReader: segments
// split into elements and components, with no structure check and no IDR
// tree. It is a lower bound on what any omniparser EDI read costs.
func omniTokenize(data []byte) (segs int, err error) {
	decl, err := omniFileDecl()
	if err != nil {
		return 0, err
	}
	r := edi.NewNonValidatingReader(bytes.NewReader(data), decl)
	for {
		_, err := r.Read()
		if err == io.EOF {
			return segs, nil
		}
		if err != nil {
			return segs, err
		}
		segs++
	}
}

// omniTransformSchema is omniSchema loaded by the top-level omniparser API.
var omniTransformSchema = sync.OnceValues(func() (omniparser.Schema, error) {
	return omniparser.NewSchema("850", strings.NewReader(omniSchema))
})

// omniTransform runs the whole omniparser pipeline the way its README shows
// (NewSchema, NewTransform, Read until io.EOF): the format reader above plus
// the FINAL_OUTPUT transform, which emits {"control": ST02} as JSON per set.
func omniTransform(data []byte) (records int, err error) {
	schema, err := omniTransformSchema()
	if err != nil {
		return 0, err
	}
	tr, err := schema.NewTransform("850", bytes.NewReader(data), &transformctx.Ctx{})
	if err != nil {
		return 0, err
	}
	for {
		_, err := tr.Read()
		if err == io.EOF {
			return records, nil
		}
		if err != nil {
			return records, err
		}
		records++
	}
}

var registry = sync.OnceValue(x12.MustLoadRegistry)

// edigateValidate is `edigate validate` on data without its output: the
// full envelope and schema validation, with an Issue callback as the CLI
// has. Any finding of error severity fails. pipelined reads on a goroutine
// of its own, as the CLI does; without it, validation uses one CPU.
func edigateValidate(data []byte, ev x12.Events, pipelined bool) error {
	v := &x12.Validator{Registry: registry(), Pipelined: pipelined}
	errs := 0
	var first *x12.ParseError
	user := ev.Issue
	ev.Issue = func(e *x12.ParseError) {
		if user != nil {
			user(e)
		}
		if e.Severity == x12.SeverityError {
			if first == nil {
				first = e
			}
			errs++
		}
	}
	if err := v.Validate(bytes.NewReader(data), ev); err != nil {
		return err
	}
	if errs > 0 {
		return fmt.Errorf("edigate found %d errors, the first: %v", errs, first)
	}
	return nil
}

// checkOnce verifies, once per process, that both parsers read the whole
// input: omniparser returns as many sets as there are ST segments and as
// many segment nodes as there are segments from ST to SE, its tokenizer
// returns every segment, the top-level transform emits one record per set,
// and edigate reports every set, all valid, with no warning.
var checkOnce = sync.OnceValue(func() error {
	in, err := loadInput()
	if err != nil {
		return err
	}
	sets, segs, err := omniReader(in.data, true)
	if err != nil {
		return fmt.Errorf("omniparser reader: %w", err)
	}
	if sets != in.sets || segs != in.setSegs {
		return fmt.Errorf("omniparser reader read %d sets and %d set segments; the input has %d and %d",
			sets, segs, in.sets, in.setSegs)
	}
	toks, err := omniTokenize(in.data)
	if err != nil {
		return fmt.Errorf("omniparser tokenizer: %w", err)
	}
	if toks != in.segments {
		return fmt.Errorf("omniparser tokenizer read %d segments; the input has %d", toks, in.segments)
	}
	recs, err := omniTransform(in.data)
	if err != nil {
		return fmt.Errorf("omniparser transform: %w", err)
	}
	if recs != in.sets {
		return fmt.Errorf("omniparser transform emitted %d records; the input has %d sets", recs, in.sets)
	}
	esets, invalid, warnings := 0, 0, 0
	err = edigateValidate(in.data, x12.Events{
		Issue: func(e *x12.ParseError) {
			if e.Severity != x12.SeverityError {
				warnings++
			}
		},
		Set: func(r *x12.SetResult) {
			esets++
			if !r.Valid() || !r.Complete {
				invalid++
			}
		},
	}, true)
	if err != nil {
		return fmt.Errorf("edigate: %w", err)
	}
	if esets != in.sets || invalid != 0 || warnings != 0 {
		return fmt.Errorf("edigate reported %d sets (%d invalid, %d warnings); the input has %d sets",
			esets, invalid, warnings, in.sets)
	}
	return nil
})

func mustCheck(tb testing.TB) *input {
	tb.Helper()
	in := mustInput(tb)
	if err := checkOnce(); err != nil {
		tb.Fatal(err)
	}
	return in
}

// TestSameInput runs the checks the benchmarks rely on.
func TestSameInput(t *testing.T) {
	in := mustCheck(t)
	t.Logf("%d bytes, %d segments, %d sets", len(in.data), in.segments, in.sets)
}

// omniPasses are the ways omniparser can read the input, fastest last.
var omniPasses = []struct {
	name string
	run  func(in *input) error
}{
	{"reader", func(in *input) error {
		sets, _, err := omniReader(in.data, false)
		if err == nil && sets != in.sets {
			err = fmt.Errorf("omniparser read %d sets, not %d", sets, in.sets)
		}
		return err
	}},
	{"transform", func(in *input) error {
		recs, err := omniTransform(in.data)
		if err == nil && recs != in.sets {
			err = fmt.Errorf("omniparser emitted %d records, not %d", recs, in.sets)
		}
		return err
	}},
	{"tokenizer", func(in *input) error {
		segs, err := omniTokenize(in.data)
		if err == nil && segs != in.segments {
			err = fmt.Errorf("omniparser tokenized %d segments, not %d", segs, in.segments)
		}
		return err
	}},
}

// BenchmarkOmniparser850 reads the interchange with omniparser v1.0.5:
// "reader" is its EDI format reader with the 850 schema (the comparison
// the issue means), "transform" the full NewSchema/NewTransform/Read
// pipeline on top of it, and "tokenizer" only its raw segment splitter.
func BenchmarkOmniparser850(b *testing.B) {
	in := mustCheck(b)
	for _, p := range omniPasses {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := p.run(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// edigateModes are the ways edigate validates: "pipelined" as edigate
// validate does, reading on a goroutine of its own, and "sequential" on
// one CPU.
var edigateModes = []string{"pipelined", "sequential"}

// BenchmarkEdigateValidate850 validates the same interchange with edigate.
func BenchmarkEdigateValidate850(b *testing.B) {
	in := mustCheck(b)
	for _, mode := range edigateModes {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := edigateValidate(in.data, x12.Events{}, mode == "pipelined"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEdigateVsOmniparser times, in each iteration, one omniparser pass
// and one edigate validation over the same bytes (in alternating order,
// each after a forced GC so that neither pays for the other's garbage) and
// reports how many times faster edigate is ("x-omniparser") and both
// throughputs. The sub-benchmarks say which omniparser pass is compared,
// and how edigate ran (edigateModes). "x-omniparser-cpu" compares the CPU
// time both took (user and system, of the whole process), which the
// pipelined run spreads over two CPUs.
func BenchmarkEdigateVsOmniparser(b *testing.B) {
	in := mustCheck(b)
	for _, p := range omniPasses {
		for _, mode := range edigateModes {
			b.Run(p.name+"/"+mode, func(b *testing.B) {
				var omniT, edigateT, omniCPU, edigateCPU time.Duration
				timed := func(f func() error, cpu *time.Duration) time.Duration {
					runtime.GC()
					c0, t0 := cpuTime(), time.Now()
					if err := f(); err != nil {
						b.Fatal(err)
					}
					d := time.Since(t0)
					*cpu += cpuTime() - c0
					return d
				}
				omni := func() error { return p.run(in) }
				edg := func() error { return edigateValidate(in.data, x12.Events{}, mode == "pipelined") }
				n := 0
				for b.Loop() {
					if n%2 == 0 {
						omniT += timed(omni, &omniCPU)
						edigateT += timed(edg, &edigateCPU)
					} else {
						edigateT += timed(edg, &edigateCPU)
						omniT += timed(omni, &omniCPU)
					}
					n++
				}
				mb := float64(len(in.data)) * float64(n) / 1e6
				b.ReportMetric(omniT.Seconds()/edigateT.Seconds(), "x-omniparser")
				b.ReportMetric(omniCPU.Seconds()/edigateCPU.Seconds(), "x-omniparser-cpu")
				b.ReportMetric(mb/omniT.Seconds(), "omniparser-MB/s")
				b.ReportMetric(mb/edigateT.Seconds(), "edigate-MB/s")
			})
		}
	}
}

// cpuTime is the CPU time the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestOmniparserChecksStructure shows that the omniparser configuration is
// not a pass-through: a segment the schema does not declare, or a missing
// mandatory one, stops the read.
func TestOmniparserChecksStructure(t *testing.T) {
	data := x12gen.Bytes(x12gen.Options{Set: "850", Version: "004010", Seed: 1}, 64<<10)
	if _, _, err := omniReader(data, false); err != nil {
		t.Fatalf("clean input: %v", err)
	}
	for name, edit := range map[string]func([]byte) []byte{
		"undeclared segment": func(d []byte) []byte {
			return bytes.Replace(d, []byte("~\nCUR*"), []byte("~\nXYZ*1~\nCUR*"), 1)
		},
		"missing BEG": func(d []byte) []byte {
			i := bytes.Index(d, []byte("~\nBEG*"))
			j := i + 2 + bytes.IndexByte(d[i+2:], '~')
			return append(append([]byte{}, d[:i]...), d[j:]...)
		},
	} {
		if _, _, err := omniReader(edit(bytes.Clone(data)), false); err == nil {
			t.Errorf("%s: omniparser read the input without error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
