package x12

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fuzzSeeds adds our own fixtures and, when ../shared is beside the
// repository, the public sample corpus.
func fuzzSeeds(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("ISA*00*"))
	f.Add([]byte("a,b,c\n1,2,3\n"))
	f.Add(cleanInterchange())
	for _, dir := range []string{filepath.Join(repoRoot(f), "testdata", "x12"), samplesDir(f)} {
		files, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
		more, _ := filepath.Glob(filepath.Join(dir, "*.edi"))
		for _, name := range append(files, more...) {
			if b, err := os.ReadFile(name); err == nil && len(b) < 64<<10 {
				f.Add(b)
			}
		}
	}
}

// readAll tokenizes b completely and returns each interchange's segments
// written back with its own delimiters.
func readAll(b []byte) ([][]byte, error) {
	r := NewReader(bytes.NewReader(b))
	var out [][]byte
	var buf bytes.Buffer
	var w *Writer
	for {
		seg, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, err
		}
		if string(seg.ID()) == "ISA" {
			if w != nil {
				w.Flush()
				out = append(out, bytes.Clone(buf.Bytes()))
				buf.Reset()
			}
			w = NewWriter(&buf, r.Delimiters())
		}
		w.WriteRaw(seg)
	}
	if w != nil {
		w.Flush()
		out = append(out, bytes.Clone(buf.Bytes()))
	}
	return out, nil
}

// FuzzReader: no input panics, and parse → write → parse is stable.
// segmentsOf lists what a Reader hands out for b (offset, Plain, elements,
// and the warnings and error), taking the fast path or never taking it.
func segmentsOf(b []byte, careful bool) []string {
	r := NewReader(bytes.NewReader(b))
	r.noFast = careful
	var out []string
	r.OnWarning = func(off int64, msg string) { out = append(out, fmt.Sprintf("warning %d: %s", off, msg)) }
	for {
		seg, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			return append(out, "error: "+err.Error())
		}
		if seg.Plain && !plain(seg, r.Delimiters()) {
			out = append(out, "not plain:")
		}
		out = append(out, fmt.Sprintf("%d %q", seg.Offset, seg.Elements))
	}
}

// plain reports whether seg is what Segment.Plain promises: printable
// ASCII without component or repetition separators.
func plain(seg *Segment, d Delimiters) bool {
	for _, e := range seg.Elements {
		for _, c := range e {
			if c < 0x20 || c > 0x7e || c == d.Component || d.Repetition != 0 && c == d.Repetition {
				return false
			}
		}
	}
	return true
}

func FuzzReader(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		// The fast path must read exactly what the careful path reads.
		if fast, careful := segmentsOf(b, false), segmentsOf(b, true); !slices.Equal(fast, careful) {
			t.Fatalf("fast and careful paths differ:\n%s\n---\n%s", strings.Join(fast, "\n"), strings.Join(careful, "\n"))
		}
		first, err := readAll(b)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			return
		}
		for i, ix := range first {
			again, err := readAll(ix)
			if err != nil {
				t.Fatalf("interchange %d written back does not read again: %v\n%q", i, err, ix)
			}
			if len(again) != 1 || !bytes.Equal(again[0], ix) {
				t.Fatalf("interchange %d is not stable through parse and write:\n%q\n%q", i, ix, again)
			}
		}
	})
}

// issuesOf lists what validating b reports, with or without the
// validator's fast paths.
func issuesOf(reg *Registry, b []byte, careful bool) []string {
	var out []string
	// The fast way reads on a goroutine of its own, as edigate validate
	// does; the careful one in line.
	v := &Validator{Registry: reg, careful: careful, Pipelined: !careful}
	err := v.Validate(bytes.NewReader(b), Events{Issue: func(e *ParseError) {
		out = append(out, fmt.Sprintf("%s %s %s", e.Position(), e.Code, e.Message))
	}})
	if err != nil {
		out = append(out, "error: "+err.Error())
	}
	return out
}

// FuzzValidate: validation and acknowledgement never panic, and every
// error carries a code or a sentinel.
func FuzzValidate(f *testing.F) {
	fuzzSeeds(f)
	reg := MustLoadRegistry()
	f.Fuzz(func(t *testing.T, b []byte) {
		// The validator's fast paths must find exactly what the careful
		// ones find.
		if fast, careful := issuesOf(reg, b, false), issuesOf(reg, b, true); !slices.Equal(fast, careful) {
			t.Fatalf("fast and careful validation differ:\n%s\n---\n%s", strings.Join(fast, "\n"), strings.Join(careful, "\n"))
		}
		a := &Acknowledger{Alloc: &CounterAllocator{}, Registry: reg}
		v := &Validator{Registry: reg, KeepSegments: true}
		err := v.Validate(bytes.NewReader(b), a.Events(Events{Issue: func(e *ParseError) {
			if e.Err == nil {
				t.Fatalf("issue without a sentinel: %v", e)
			}
			_ = e.Error()
		}}))
		if err != nil {
			t.Fatalf("Validate on an in-memory reader returned %v", err)
		}
		for _, ack := range a.Acks {
			var errs []*ParseError
			(&Validator{Registry: reg}).Validate(bytes.NewReader(ack.Bytes), Events{Issue: func(e *ParseError) {
				if e.Severity == SeverityError {
					errs = append(errs, e)
				}
			}})
			if len(errs) > 0 {
				t.Fatalf("our acknowledgement is invalid: %v\n%s", errs[0], ack.Bytes)
			}
		}
	})
}
