package x12gen_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/edigate/edigate/translators/x12"
	"github.com/edigate/edigate/translators/x12/x12gen"
)

var delimiterSets = []struct {
	name string
	d    x12.Delimiters
}{
	{"default", x12.DefaultDelimiters},
	{"pipe-nosuffix", x12.Delimiters{Element: '|', Repetition: '!', Component: '>', Segment: "~"}},
	{"newline-terminator", x12.Delimiters{Element: '*', Repetition: '^', Component: ':', Segment: "\n"}},
	{"crlf-suffix", x12.Delimiters{Element: '^', Repetition: '{', Component: '\\', Segment: "~", Suffix: "\r\n"}},
}

func TestGeneratedValidates(t *testing.T) {
	reg := x12.MustLoadRegistry()
	const size = 150 << 10
	for _, set := range []string{"850", "855", "856", "810"} {
		for _, version := range []string{"004010", "005010"} {
			for _, ds := range delimiterSets {
				t.Run(fmt.Sprintf("%s/%s/%s", set, version, ds.name), func(t *testing.T) {
					opt := x12gen.Options{Set: set, Version: version, Delimiters: ds.d, Seed: 7, SetsPerGroup: 5, LinesPerSet: 12}
					data := x12gen.Bytes(opt, size)
					checkSize(t, int64(len(data)), size)
					_, hasSchema := reg.Lookup(set, version)
					errs, warns := validate(t, reg, data)
					if errs > 0 {
						t.Fatalf("%d errors", errs)
					}
					if hasSchema && warns > 0 {
						t.Errorf("%d warnings with a schema", warns)
					}
					if !hasSchema {
						t.Logf("no schema for %s/%s yet: envelope checks only (%d warnings)", set, version, warns)
					}
				})
			}
		}
	}
}

// validate runs the validator and returns the error and warning counts,
// logging the first few of each.
func validate(t *testing.T, reg *x12.Registry, data []byte) (errs, warns int) {
	t.Helper()
	v := &x12.Validator{Registry: reg}
	sets, ixs := 0, 0
	err := v.Validate(bytes.NewReader(data), x12.Events{
		Issue: func(e *x12.ParseError) {
			if e.Severity == x12.SeverityError {
				if errs++; errs <= 5 {
					t.Errorf("error at %d: %s: %s [%s]", e.Offset, e.Position(), e.Message, e.Code)
				}
			} else if warns++; warns <= 3 {
				t.Logf("warning at %d: %s: %s", e.Offset, e.Position(), e.Message)
			}
		},
		Set:         func(*x12.SetResult) { sets++ },
		Interchange: func(*x12.InterchangeResult) { ixs++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	if ixs != 1 || sets == 0 {
		t.Fatalf("%d interchanges and %d sets; want 1 and at least 1", ixs, sets)
	}
	return errs, warns
}

func checkSize(t *testing.T, got, want int64) {
	t.Helper()
	if d := float64(got-want) / float64(want); d > 0.05 || d < -0.05 {
		t.Errorf("generated %d bytes, asked for %d (%.1f%% off)", got, want, 100*d)
	}
}

func TestSizes(t *testing.T) {
	for _, set := range []string{"850", "855", "856", "810"} {
		for _, size := range []int64{8 << 10, 100 << 10, 3 << 20} {
			n, err := x12gen.Write(io.Discard, x12gen.Options{Set: set, Seed: size}, size)
			if err != nil {
				t.Fatal(err)
			}
			if d := float64(n-size) / float64(size); d > 0.05 || d < -0.05 {
				t.Errorf("%s: generated %d bytes, asked for %d (%.1f%% off)", set, n, size, 100*d)
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	opt := x12gen.Options{Set: "856", Version: "005010", Seed: 42}
	a, b := x12gen.Bytes(opt, 64<<10), x12gen.Bytes(opt, 64<<10)
	if !bytes.Equal(a, b) {
		t.Fatal("same options gave different output")
	}
	opt.Seed = 43
	if bytes.Equal(a, x12gen.Bytes(opt, 64<<10)) {
		t.Fatal("different seeds gave the same output")
	}
}

func TestTinyStillValid(t *testing.T) {
	data := x12gen.Bytes(x12gen.Options{Set: "810"}, 10)
	if errs, _ := validate(t, x12.MustLoadRegistry(), data); errs > 0 {
		t.Fatalf("%d errors", errs)
	}
}

func TestBadOptions(t *testing.T) {
	for _, opt := range []x12gen.Options{
		{Set: "837"},
		{Version: "003010"},
		{Delimiters: x12.Delimiters{Element: '-', Component: ':', Segment: "~"}},
		{Delimiters: x12.Delimiters{Element: '*', Component: '*', Segment: "~"}},
		{Version: "005010", Delimiters: x12.Delimiters{Element: '*', Component: ':', Segment: "~"}},
		{Sender: "A*B"},
		{Receiver: "THIS NAME IS TOO LONG"},
	} {
		if _, err := x12gen.Write(io.Discard, opt, 1000); err == nil {
			t.Errorf("%+v: no error", opt)
		}
	}
}

// limitWriter fails after n bytes, to check that errors surface.
type limitWriter struct{ n int }

func (w *limitWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, io.ErrShortWrite
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	if _, err := x12gen.Write(&limitWriter{n: 100 << 10}, x12gen.Options{}, 1<<20); err == nil {
		t.Fatal("no error from a failing writer")
	}
}
