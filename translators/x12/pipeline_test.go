package x12_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edigate/edigate/translators/x12"
	"github.com/edigate/edigate/translators/x12/x12gen"
)

// trace lists every callback of validating src, in order, with what each
// carries; also the error Validate returns.
func trace(reg *x12.Registry, src io.Reader, pipelined bool) []string {
	var out []string
	v := &x12.Validator{Registry: reg, Pipelined: pipelined}
	err := v.Validate(src, x12.Events{
		Issue: func(e *x12.ParseError) {
			out = append(out, fmt.Sprintf("issue %v %s %d %s %s", e.Severity, e.Position(), e.Offset, e.Code, e.Message))
		},
		Segment: func(e *x12.SegmentEvent) {
			name := ""
			if e.Def != nil {
				name = e.Def.Name
			}
			out = append(out, fmt.Sprintf("segment %d %d/%d %s %d %s %q %v", e.Segment.Offset, e.Ordinal, e.Depth, e.LoopID, e.Segment.Key(), name, e.Segment.Elements, e.Segment.Plain))
		},
		Set: func(s *x12.SetResult) {
			out = append(out, fmt.Sprintf("set %s %s %s %d %v %d %d %d", s.Control, s.ID, s.Status, s.Segments, s.Codes, len(s.Errors), s.Dropped, len(s.Warnings)))
		},
		Group: func(g *x12.GroupResult) {
			out = append(out, fmt.Sprintf("group %s %s %v %d %d %d %d", g.Control, g.Status, g.Codes, g.Included, g.Received, g.Accepted, len(g.Errors)))
		},
		Interchange: func(ix *x12.InterchangeResult) {
			out = append(out, fmt.Sprintf("interchange %s %+v %d %d %d %s %v", ix.Control, ix.Delims, ix.Groups, len(ix.Errors), ix.Warnings, ix.NoteCode, ix.Complete))
		},
	})
	if err != nil {
		out = append(out, "error: "+err.Error())
	}
	return out
}

// pipelineInputs are files of every kind: the shared samples and our own,
// and generated interchanges a few batches long (more than batchesInFlight
// when concatenated or wrapped, so that the reader reuses its buffers),
// clean and damaged, with other delimiters, concatenated, hard-wrapped and
// cut short.
func pipelineInputs(t *testing.T) map[string][]byte {
	t.Helper()
	in := map[string][]byte{}
	root := filepath.Join("..", "..")
	for _, dir := range []string{filepath.Join(root, "..", "shared", "x12-samples"), filepath.Join(root, "testdata"), filepath.Join(root, "partners")} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(path, ".md") || strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".jsonl") || strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".csv") {
				return nil
			}
			if b, err := os.ReadFile(path); err == nil && len(b) < 1<<20 {
				in[path] = b
			}
			return nil
		})
	}
	if len(in) < 10 {
		t.Fatalf("only %d sample files found", len(in))
	}
	rng := rand.New(rand.NewPCG(5, 6))
	pipes := x12.Delimiters{Element: '|', Repetition: '^', Component: '>', Segment: "\n"}
	for _, set := range []string{"850", "855", "856", "810"} {
		for _, version := range []string{"004010", "005010"} {
			name := set + "-" + version
			clean := x12gen.Bytes(x12gen.Options{Set: set, Version: version, Seed: 9}, 120<<10)
			in[name] = clean
			other := x12gen.Bytes(x12gen.Options{Set: set, Version: version, Seed: 10, Delimiters: pipes}, 80<<10)
			in[name+" then pipes"] = slices.Concat(clean, other, clean)
			in[name+" cut"] = clean[:len(clean)*2/3]
			var wrapped []byte
			for i := 0; i < len(clean); i += 80 {
				wrapped = append(append(wrapped, clean[i:min(i+80, len(clean))]...), '\r', '\n')
			}
			in[name+" wrapped"] = wrapped
			for k := range 3 {
				b := slices.Clone(clean)
				for range 1 + rng.IntN(20) {
					b[rng.IntN(len(b))] = "09AZaz*~:^|- .\n\x00\xe9"[rng.IntN(17)]
				}
				in[fmt.Sprintf("%s damaged %d", name, k)] = b
			}
		}
	}
	return in
}

// TestPipelinedAgrees checks that validating with the reader on a
// goroutine of its own reports exactly what validating in line does, in
// the same order: every issue, segment, set, group and interchange.
func TestPipelinedAgrees(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	reg := x12.MustLoadRegistry()
	for name, b := range pipelineInputs(t) {
		in, pipe := trace(reg, bytes.NewReader(b), false), trace(reg, bytes.NewReader(b), true)
		if !slices.Equal(in, pipe) {
			i := 0
			for i < min(len(in), len(pipe)) && in[i] == pipe[i] {
				i++
			}
			at := func(l []string) string {
				if i < len(l) {
					return l[i]
				}
				return "(the end)"
			}
			t.Errorf("%s: the runs differ at callback %d of %d/%d:\nin line:   %s\npipelined: %s", name, i, len(in), len(pipe), at(in), at(pipe))
		}
	}
}

// failingReader returns its data, then fails (or panics) instead of io.EOF.
type failingReader struct {
	data  []byte
	panic bool
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		if r.panic {
			panic("the disk is on fire")
		}
		return 0, errors.New("the disk is on fire")
	}
	n := copy(p, r.data[:min(len(r.data), 4096)])
	r.data = r.data[n:]
	return n, nil
}

// TestPipelinedFailures: a read error ends the validation as in line; a
// panic while reading, or in a callback, comes out of Validate on the
// caller's goroutine (where the intake recovers it), and the reading
// goroutine ends.
func TestPipelinedFailures(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	reg := x12.MustLoadRegistry()
	data := x12gen.Bytes(x12gen.Options{Set: "856", Seed: 2}, 400<<10)
	goroutines := runtime.NumGoroutine()

	in := trace(reg, &failingReader{data: data[:300<<10]}, false)
	pipe := trace(reg, &failingReader{data: data[:300<<10]}, true)
	if !slices.Equal(in, pipe) {
		t.Errorf("a read error ends the runs differently:\nin line:   %s\npipelined: %s", in[len(in)-1], pipe[len(pipe)-1])
	}
	if last := pipe[len(pipe)-1]; !strings.Contains(last, "reading input: the disk is on fire") {
		t.Errorf("the pipelined run ended with %q", last)
	}

	recovered := func(f func()) (p any) {
		defer func() { p = recover() }()
		f()
		return nil
	}
	v := &x12.Validator{Registry: reg, Pipelined: true}
	p := recovered(func() { v.Validate(&failingReader{data: data[:300<<10], panic: true}, x12.Events{}) })
	if s, _ := p.(string); !strings.Contains(s, "the disk is on fire") || !strings.Contains(s, "failingReader") {
		t.Errorf("a panic while reading came out of Validate as %v", p)
	}
	sets := 0
	p = recovered(func() {
		v.Validate(bytes.NewReader(data), x12.Events{Set: func(*x12.SetResult) {
			if sets++; sets == 3 {
				panic("a callback broke")
			}
		}})
	})
	if p != "a callback broke" {
		t.Errorf("a panic in a callback came out of Validate as %v", p)
	}
	// The reading goroutines end (the second one when it next waits for a
	// batch).
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		t.Errorf("%d goroutines left running, %d before", n, goroutines)
	}
}
