package x12_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/edigate/edigate/translators/x12"
	"github.com/edigate/edigate/translators/x12/x12gen"
)

// TestFastPathsAgree damages generated interchanges of every set and
// version, one byte at a time, and checks that the validator's fast paths
// (plain elements, remembered placements and syntax notes, HL parent bits)
// report exactly what its careful paths report.
func TestFastPathsAgree(t *testing.T) {
	reg := x12.MustLoadRegistry()
	bytesToTry := []byte("09AZaz*~:^|- .\n\x00\xe9")
	rng := rand.New(rand.NewPCG(1, 2))
	for _, set := range []string{"850", "855", "856", "810"} {
		for _, version := range []string{"004010", "005010"} {
			clean := x12gen.Bytes(x12gen.Options{Set: set, Version: version, Seed: 3}, 4<<10)
			for range 150 {
				b := slices.Clone(clean)
				for range 1 + rng.IntN(3) {
					b[rng.IntN(len(b))] = bytesToTry[rng.IntN(len(bytesToTry))]
				}
				fast, careful := x12.IssuesOf(reg, b, false), x12.IssuesOf(reg, b, true)
				if !slices.Equal(fast, careful) {
					t.Fatalf("%s %s: fast and careful validation differ on\n%s\nfast:\n%s\ncareful:\n%s", set, version, b, strings.Join(fast, "\n"), strings.Join(careful, "\n"))
				}
			}
		}
	}
}

// TestKeptSegmentsIntact keeps the segments of a file many reader buffers
// long and checks each against the input: kept segments share the
// reader's bytes and element slices, which must never be overwritten while
// they are kept (to the end without ReuseSegments, during the set's
// callback with it, and until the caller releases them with
// Validator.Released).
func TestKeptSegmentsIntact(t *testing.T) {
	reg := x12.MustLoadRegistry()
	// Sets of a few KB, many to a reader buffer, and then sets longer
	// than a buffer.
	small := x12gen.Bytes(x12gen.Options{Set: "856", Version: "005010", Seed: 5}, 2<<20)
	long := x12gen.Bytes(x12gen.Options{Set: "850", Version: "004010", Seed: 6, LinesPerSet: 2500, SetsPerGroup: 3}, 2<<20)
	for _, data := range [][]byte{small, long} {
		keptSegmentsIntact(t, reg, data)
	}
}

func keptSegmentsIntact(t *testing.T, reg *x12.Registry, data []byte) {
	check := func(t *testing.T, s *x12.SetResult) {
		if len(s.Raw) != s.Segments || len(s.Owner) != len(s.Raw) {
			t.Fatalf("set %s: %d kept segments, %d owners, %d counted", s.Control, len(s.Raw), len(s.Owner), s.Segments)
		}
		for _, seg := range s.Raw {
			end := bytes.IndexByte(data[seg.Offset:], '~')
			want := string(data[seg.Offset : seg.Offset+int64(end)])
			if got := string(bytes.Join(seg.Elements, []byte("*"))); got != want {
				t.Fatalf("set %s: segment at %d kept as %q, read as %q", s.Control, seg.Offset, got, want)
			}
		}
	}
	type held struct {
		set    *x12.SetResult
		places string
	}
	for _, mode := range []string{"keep", "reuse", "hold 1", "hold 3", "pipelined keep", "pipelined reuse", "pipelined hold 1", "pipelined hold 3"} {
		t.Run(mode, func(t *testing.T) {
			pipelined := strings.HasPrefix(mode, "pipelined ")
			mode := strings.TrimPrefix(mode, "pipelined ")
			var sets []*x12.SetResult
			var window []held
			hold := 0
			fmt.Sscanf(mode, "hold %d", &hold)
			v := &x12.Validator{Registry: reg, KeepSegments: true, ReuseSegments: mode != "keep", Pipelined: pipelined}
			last := 0 // the Seq of the last set handed over
			if hold > 0 {
				// The last hold sets handed over are still read.
				v.Released = func() int { return last - hold }
			}
			err := v.Validate(bytes.NewReader(data), x12.Events{Set: func(s *x12.SetResult) {
				last = s.Seq
				if mode == "keep" {
					sets = append(sets, s)
					return
				}
				check(t, s)
				// The sets held are still intact while this one's
				// callback runs.
				for _, h := range window {
					check(t, h.set)
					if places := fmt.Sprint(h.set.Owner, h.set.Loops); places != h.places {
						t.Fatalf("set %s: owners and loops changed under a later set", h.set.Control)
					}
				}
				if hold > 0 {
					window = append(window, held{s, fmt.Sprint(s.Owner, s.Loops)})
					if len(window) > hold {
						window = window[1:]
					}
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sets {
				check(t, s)
			}
			if mode == "keep" && len(sets) < 5 {
				t.Fatalf("only %d sets", len(sets))
			}
		})
	}
}

// TestKeptSegmentsAfterLongOnes: with ReuseSegments, the reader's buffer
// grows for two long segments in a row after buffers of a long set came
// back for reuse; the smaller spare buffers must not take the unread rest
// (they did once: input was lost, or the reader panicked). Kept segments
// match the input and the findings are those of a validation that keeps
// nothing.
func TestKeptSegmentsAfterLongOnes(t *testing.T) {
	var b strings.Builder
	b.WriteString("ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*EDIGATE        *261126*1200*U*00401*000000001*0*P*>~\n")
	b.WriteString("GS*PO*ACMESUPPLY*EDIGATE*20261126*1200*1*X*004010~\n")
	po := func(ctl string, lines int) {
		fmt.Fprintf(&b, "ST*850*%s~\nBEG*00*SA*PO%s**20261126~\n", ctl, ctl)
		for i := range lines {
			fmt.Fprintf(&b, "PO1*%d*10*EA*12.50**VP*WIDGET-%d*BP*SKU-001~\n", i+1, i)
		}
		fmt.Fprintf(&b, "CTT*%d~\nSE*%d*%s~\n", lines, lines+4, ctl)
	}
	po("0001", 4000) // some 190 KB: buffers the reader left come back at the next ST
	b.WriteString("ST*850*0002~\nBEG*00*SA*PO0002**20261126~\n")
	b.WriteString("NTE*GEN*" + strings.Repeat("A", 150<<10) + "~\n") // the buffer grows to 256 KB
	b.WriteString("NTE*GEN*" + strings.Repeat("B", 120<<10) + "~\n") // more unread than a 64 KB spare holds
	b.WriteString("CTT*0~\nSE*6*0002~\n")
	po("0003", 4000)
	b.WriteString("GE*3*1~\nIEA*1*000000001~\n")
	data := []byte(b.String())

	reg := x12.MustLoadRegistry()
	var got []string
	sets := 0
	v := &x12.Validator{Registry: reg, KeepSegments: true, ReuseSegments: true}
	err := v.Validate(bytes.NewReader(data), x12.Events{
		Issue: func(e *x12.ParseError) { got = append(got, fmt.Sprintf("%s %s %s", e.Position(), e.Code, e.Message)) },
		Set: func(s *x12.SetResult) {
			sets++
			for _, seg := range s.Raw {
				end := bytes.IndexByte(data[seg.Offset:], '~')
				if want := data[seg.Offset : seg.Offset+int64(end)]; !bytes.Equal(bytes.Join(seg.Elements, []byte("*")), want) {
					t.Fatalf("set %s: the segment at %d is not what was read", s.Control, seg.Offset)
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := x12.IssuesOf(reg, data, false); !slices.Equal(got, want) || sets != 3 {
		t.Fatalf("%d sets; keeping segments found\n%s\nkeeping none found\n%s", sets, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
