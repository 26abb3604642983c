package x12_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/edigate/edigate/translators/x12"
)

// t12Read reads every segment of input with a Reader. It returns the
// segments (ID plus elements joined by "|"), their offsets, the warnings and
// the final error (nil at io.EOF). A panic fails the test.
func t12Read(t testing.TB, input string) (segs []string, offs []int64, warns []string, err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("Reader panicked: %v\ninput: %q", p, input)
		}
	}()
	r := x12.NewReader(strings.NewReader(input))
	r.OnWarning = func(off int64, msg string) { warns = append(warns, msg) }
	for i := 0; i < 10000; i++ {
		s, e := r.Next()
		if e == io.EOF {
			return segs, offs, warns, nil
		}
		if e != nil {
			// The error is sticky.
			if _, e2 := r.Next(); e2 != e {
				t.Errorf("second Next after an error returned %v, want the same error %v", e2, e)
			}
			return segs, offs, warns, e
		}
		var b bytes.Buffer
		for k, el := range s.Elements {
			if k > 0 {
				b.WriteByte('|')
			}
			b.Write(el)
		}
		segs = append(segs, b.String())
		offs = append(offs, s.Offset)
	}
	t.Fatalf("Reader does not end")
	return
}

func t12Contains(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// The segments of t12PO() with the default delimiters, as t12Read returns them.
var t12POSegs = []string{
	"ISA|00|          |00|          |ZZ|SENDER         |ZZ|RECEIVER       |230101|1200|U|00401|000000001|0|P|:",
	"GS|PO|SENDER|RECEIVER|20230101|1200|1|X|004010",
	"ST|850|0001",
	"BEG|00|SA|PO123||20230101",
	"PO1|1|2|EA|3.5",
	"SE|4|0001",
	"GE|1|1",
	"IEA|1|000000001",
}

func t12POIn(e t12Env) string {
	return t12Interchange(e, t12Group("PO", "1", "004010", t12Set("850", "0001", t12PO850...)))
}

// wrap hard-wraps s at n columns with line breaks.
func t12Wrap(s string, n int, nl string) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n])
		b.WriteString(nl)
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

// TestReaderTolerates: layouts a careful reader reads past, each with the
// warning it owes (or none).
func TestReaderTolerates(t *testing.T) {
	plain := t12POIn(t12Env{})
	indented := strings.ReplaceAll(t12POIn(t12Env{NL: "\n"}), "\n", "\n    ")
	cases := []struct {
		name  string
		input string
		delim x12.Delimiters // zero: the defaults * : ~ with no repetition
		warn  string         // substring of a required warning; "" requires none
	}{
		{name: "plain", input: plain},
		{name: "BOM", input: "\xef\xbb\xbf" + plain},
		{name: "LF after terminators", input: t12POIn(t12Env{NL: "\n"})},
		{name: "CRLF after terminators", input: t12POIn(t12Env{NL: "\r\n"})},
		{name: "CR after terminators", input: t12POIn(t12Env{NL: "\r"})},
		{name: "trailing whitespace at end", input: plain + "\r\n\n  \t \n"},
		{name: "Ctrl-Z at end", input: plain + "\x1a"},
		{name: "leading blank lines", input: "\r\n\n  " + plain},
		{name: "BOM and CRLF", input: "\xef\xbb\xbf" + t12POIn(t12Env{NL: "\r\n"}) + "\r\n"},
		{name: "empty segment", input: strings.Replace(plain, "~PO1", "~~PO1", 1), warn: "empty segment"},
		{name: "Ctrl-Z after newline at end", input: t12POIn(t12Env{NL: "\r\n"}) + "\x1a"},
		{name: "indented segments", input: indented, warn: "indented"},
		{name: "no terminator after last segment", input: strings.TrimSuffix(plain, "~"), warn: "no segment terminator"},
		{name: "no terminator after last segment then newline", input: strings.TrimSuffix(plain, "~") + "\r\n", warn: "no segment terminator"},
		{name: "hard-wrapped at 80 columns", input: t12Wrap(plain, 80, "\r\n"), warn: "line breaks"},
		{name: "hard-wrapped at 50 columns LF", input: t12Wrap(plain, 50, "\n"), warn: "line breaks"},
		{name: "newline terminator", input: t12POIn(t12Env{Term: "\n"}),
			delim: x12.Delimiters{Element: '*', Component: ':', Segment: "\n"}},
		{name: "CR terminator with LF", input: t12POIn(t12Env{Term: "\r", NL: "\n"}),
			delim: x12.Delimiters{Element: '*', Component: ':', Segment: "\r", Suffix: "\n"}},
		{name: "pipe gt apostrophe", input: t12POIn(t12Env{Elem: '|', Comp: '>', Term: "'"}),
			delim: x12.Delimiters{Element: '|', Component: '>', Segment: "'"}},
		{name: "control characters as delimiters", input: t12POIn(t12Env{Elem: 0x1d, Comp: 0x1f, Term: "\x1c", Rep: 0x1e, ISAVer: "00501"}),
			delim: x12.Delimiters{Element: 0x1d, Repetition: 0x1e, Component: 0x1f, Segment: "\x1c"}},
		{name: "repetition separator in 00501", input: t12POIn(t12Env{Rep: '^', ISAVer: "00501"}),
			delim: x12.Delimiters{Element: '*', Repetition: '^', Component: ':', Segment: "~"}},
		{name: "multi-byte terminator 2 bytes", input: t12POIn(t12Env{Term: "§"}), warn: "multi-byte",
			delim: x12.Delimiters{Element: '*', Component: ':', Segment: "§"}},
		{name: "multi-byte terminator 3 bytes with CRLF", input: t12POIn(t12Env{Term: "✓", NL: "\r\n"}), warn: "multi-byte",
			delim: x12.Delimiters{Element: '*', Component: ':', Segment: "✓", Suffix: "\r\n"}},
		{name: "multi-byte terminator 4 bytes", input: t12POIn(t12Env{Term: "😀"}), warn: "multi-byte",
			delim: x12.Delimiters{Element: '*', Component: ':', Segment: "😀"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			segs, offs, warns, err := t12Read(t, tc.input)
			if err != nil {
				t.Fatalf("Reader: %v", err)
			}
			// ISA11, ISA12 and ISA16 vary with the delimiters.
			if len(segs) > 0 && strings.HasPrefix(segs[0], t12POSegs[0][:82]) {
				segs[0] = t12POSegs[0]
			}
			if strings.Join(segs, "\n") != strings.Join(t12POSegs, "\n") {
				t.Errorf("segments:\n%s\nwant:\n%s", strings.Join(segs, "\n"), strings.Join(t12POSegs, "\n"))
			}
			// Every offset points at the segment's ID in the input.
			for i, off := range offs {
				id := t12POSegs[i][:strings.IndexByte(t12POSegs[i], '|')]
				if off < 0 || int(off)+len(id) > len(tc.input) || tc.input[off:int(off)+len(id)] != id {
					t.Errorf("segment %d (%s) has offset %d, which does not point at %q in the input", i, id, off, id)
				}
			}
			if tc.warn == "" && len(warns) > 0 {
				t.Errorf("unexpected warnings: %q", warns)
			}
			if tc.warn != "" && !t12Contains(warns, tc.warn) {
				t.Errorf("want a warning about %q, got %q", tc.warn, warns)
			}
			if tc.delim.Element != 0 {
				r := x12.NewReader(strings.NewReader(tc.input))
				if _, err := r.Next(); err != nil {
					t.Fatal(err)
				}
				if got := r.Delimiters(); got != tc.delim {
					t.Errorf("Delimiters() = %v (suffix %q), want %v (suffix %q)", got, got.Suffix, tc.delim, tc.delim.Suffix)
				}
			}
			// The Validator accepts it too.
			res := t12Validate(t, nil, tc.input)
			t12ExpectClean(t, res)
			if len(res.Sets) != 1 || res.Sets[0].Status != "A" {
				t.Errorf("want one accepted set, got %d:%s", len(res.Sets), res.dump())
			}
		})
	}
}

// TestReaderMultipleInterchanges: each interchange of a file is read with
// its own delimiters.
func TestReaderMultipleInterchanges(t *testing.T) {
	a := t12POIn(t12Env{NL: "\n"})
	b := t12POIn(t12Env{Elem: '|', Comp: '>', Term: "'", Rep: '^', ISAVer: "00501", Control: "000000002", NL: "\r\n"})
	c := t12POIn(t12Env{Elem: '!', Comp: '\\', Term: "§", Control: "000000003"})
	input := a + b + "\n" + c + "\x1a"

	r := x12.NewReader(strings.NewReader(input))
	var delims []x12.Delimiters
	n := 0
	for {
		s, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		n++
		if string(s.ID()) == "ISA" {
			delims = append(delims, r.Delimiters())
		}
		if string(s.ID()) == "BEG" && string(s.Element(3)) != "PO123" {
			t.Errorf("BEG03 = %q in interchange %d", s.Element(3), len(delims))
		}
	}
	if n != 3*len(t12POSegs) {
		t.Errorf("read %d segments, want %d", n, 3*len(t12POSegs))
	}
	want := []x12.Delimiters{
		{Element: '*', Component: ':', Segment: "~", Suffix: "\n"},
		{Element: '|', Repetition: '^', Component: '>', Segment: "'", Suffix: "\r\n"},
		{Element: '!', Component: '\\', Segment: "§"},
	}
	if len(delims) != 3 {
		t.Fatalf("got %d interchanges, want 3", len(delims))
	}
	for i := range want {
		if delims[i] != want[i] {
			t.Errorf("interchange %d delimiters %v (suffix %q), want %v (suffix %q)", i+1, delims[i], delims[i].Suffix, want[i], want[i].Suffix)
		}
	}
	res := t12Validate(t, nil, input)
	t12ExpectClean(t, res)
	if len(res.Interchanges) != 3 || len(res.Sets) != 3 {
		t.Fatalf("got %d interchanges and %d sets, want 3 and 3:%s", len(res.Interchanges), len(res.Sets), res.dump())
	}
	for i, ix := range res.Interchanges {
		if ix.Delims.Element != want[i].Element || ix.Delims.Segment != want[i].Segment {
			t.Errorf("InterchangeResult %d delimiters %v", i+1, ix.Delims)
		}
		if want := []string{"000000001", "000000002", "000000003"}[i]; ix.Control != want {
			t.Errorf("InterchangeResult %d control %q, want %q", i+1, ix.Control, want)
		}
	}
}

// TestReaderRepetitionSeparator: ISA11 is the repetition separator from
// 00402 on; "U" means there is none, so the caret is data.
func TestReaderRepetitionSeparator(t *testing.T) {
	cases := []struct {
		name   string
		isa11  byte
		ver    string
		rep    byte
		warn   string
		errors int // repetition errors on TST05 = "A^B^C^D" (4 > 3)
	}{
		{name: "00401 U means none", isa11: 0, ver: "00401", rep: 0, errors: 0},
		{name: "00501 caret", isa11: '^', ver: "00501", rep: '^', errors: 1},
		{name: "00501 exclamation", isa11: '!', ver: "00501", rep: '!', errors: 1},
		{name: "00501 U warns", isa11: 0, ver: "00501", rep: 0, warn: "not a repetition separator", errors: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := t12Env{Rep: tc.isa11, ISAVer: tc.ver}
			// Written with the literal caret so that it is data when there
			// is no repetition separator.
			tst := "TST*****A" + string(rune(max(tc.isa11, '^'))) + "B" + string(rune(max(tc.isa11, '^'))) + "C" + string(rune(max(tc.isa11, '^'))) + "D"
			input := t12Interchange(e, t12Group("PO", "1", "004010", t12Set("850", "0001", "BEG*00*SA*PO123**20230101", tst, "PO1*1*2*EA")))
			r := x12.NewReader(strings.NewReader(input))
			var warns []string
			r.OnWarning = func(_ int64, m string) { warns = append(warns, m) }
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
			if got := r.Delimiters().Repetition; got != tc.rep {
				t.Errorf("Repetition = %q, want %q", got, tc.rep)
			}
			if tc.warn != "" && !t12Contains(warns, tc.warn) {
				t.Errorf("want a warning about %q, got %q", tc.warn, warns)
			}
			res := t12Validate(t, nil, input)
			var reps []t12Want
			for i := 0; i < tc.errors; i++ {
				reps = append(reps, t12Any(t12Want{Level: x12.LevelElement, Code: "12", Err: x12.ErrElement, SegmentID: "TST", Element: 5, Rep: 4}))
			}
			t12ExpectErrors(t, res, reps...)
		})
	}
}

// TestReaderNotX12: input that is not X12 gets one clear error, never a
// panic.
func TestReaderNotX12(t *testing.T) {
	full := t12POIn(t12Env{})
	cases := []struct {
		name  string
		input string
		errs  []error // one of these
	}{
		{name: "empty", input: "", errs: []error{x12.ErrNotX12}},
		{name: "only whitespace", input: " \r\n\t\n", errs: []error{x12.ErrNotX12}},
		{name: "only BOM", input: "\xef\xbb\xbf", errs: []error{x12.ErrNotX12}},
		{name: "only Ctrl-Z", input: "\x1a", errs: []error{x12.ErrNotX12}},
		{name: "binary", input: "\x00\x01\x02\xff\xfe\x89PNG\r\n\x1a\n\x00\x00", errs: []error{x12.ErrNotX12}},
		{name: "NUL bytes", input: strings.Repeat("\x00", 300), errs: []error{x12.ErrNotX12}},
		{name: "CSV", input: "id,name,qty\n1,widget,3\n2,gadget,4\n", errs: []error{x12.ErrNotX12}},
		{name: "JSON", input: `{"ISA": "not really"}`, errs: []error{x12.ErrNotX12}},
		{name: "EDIFACT", input: "UNA:+.? 'UNB+UNOC:3+SENDER+RECEIVER+230101:1200+1'", errs: []error{x12.ErrNotX12}},
		{name: "UTF-16", input: "\xff\xfeI\x00S\x00A\x00*\x000\x000\x00", errs: []error{x12.ErrNotX12}},
		{name: "lowercase isa", input: strings.ToLower(full), errs: []error{x12.ErrNotX12}},
		{name: "ISA only", input: "ISA", errs: []error{x12.ErrNotX12, x12.ErrTruncated}},
		{name: "ISA and separator", input: "ISA*", errs: []error{x12.ErrNotX12, x12.ErrTruncated}},
		{name: "truncated ISA 50 bytes", input: full[:50], errs: []error{x12.ErrNotX12, x12.ErrTruncated}},
		{name: "truncated ISA before ISA16", input: full[:104], errs: []error{x12.ErrNotX12, x12.ErrTruncated}},
		{name: "truncated ISA before terminator", input: full[:105], errs: []error{x12.ErrNotX12, x12.ErrTruncated}},
		{name: "garbage after an interchange", input: full + "hello world", errs: []error{x12.ErrNotX12}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := t12Read(t, tc.input)
			if err == nil {
				t.Fatalf("Reader accepted %q", tc.input)
			}
			var pe *x12.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Reader error %T %v is not a *ParseError", err, err)
			}
			ok := false
			for _, want := range tc.errs {
				ok = ok || errors.Is(err, want)
			}
			if !ok {
				t.Errorf("Reader error %v is none of %v", err, tc.errs)
			}
			res := t12Validate(t, nil, tc.input)
			if res.Err != nil {
				t.Errorf("Validate returned %v; content errors belong in events", res.Err)
			}
			fatal := 0
			for _, pe := range res.errors() {
				for _, want := range tc.errs {
					if errors.Is(pe, want) {
						fatal++
						break
					}
				}
			}
			if fatal != 1 {
				t.Errorf("want exactly one ErrNotX12/ErrTruncated error, got:%s", res.dump())
			}
			if tc.name != "garbage after an interchange" && len(res.errors()) != 1 {
				t.Errorf("want exactly one error, got:%s", res.dump())
			}
		})
	}
}

// TestReaderTruncatedNeverAccepted: every prefix of an interchange short of
// its IEA yields at least one error, and none panics.
func TestReaderTruncatedNeverAccepted(t *testing.T) {
	full := t12POIn(t12Env{NL: "\n"})
	ieaAt := strings.Index(full, "IEA")
	for n := 0; n < ieaAt; n++ {
		res := t12Validate(t, nil, full[:n])
		if len(res.errors()) == 0 {
			t.Errorf("prefix of %d bytes %q accepted without an error:%s", n, full[max(0, n-20):n], res.dump())
		}
		if n < 106 {
			ok := false
			for _, pe := range res.errors() {
				ok = ok || errors.Is(pe, x12.ErrNotX12) || errors.Is(pe, x12.ErrTruncated)
			}
			if !ok {
				t.Errorf("prefix of %d bytes (inside the ISA): want ErrNotX12 or ErrTruncated, got:%s", n, res.dump())
			}
		}
	}
}

// TestDelimAmbiguous: delimiters that cannot be told apart from data, or
// from each other, are rejected with ErrAmbiguousDelimiter.
func TestDelimAmbiguous(t *testing.T) {
	isa := func(e t12Env, f func(*[17]string)) string {
		fields := t12ISAFields(e)
		if f != nil {
			f(&fields)
		}
		return t12ISA(e, fields)
	}
	rest := t12Env{}.segs("GS*PO*SENDER*RECEIVER*20230101*1200*1*X*004010", "ST*850*0001",
		"BEG*00*SA*PO123**20230101", "PO1*1*2*EA", "SE*4*0001", "GE*1*1", "IEA*1*000000001")
	wrapped := strings.Replace(t12ISA(t12Env{Term: "\n"}, t12ISAFields(t12Env{})), "*ZZ*RECEIVER", "*ZZ*\nRECEIVER", 1)
	cases := []struct {
		name  string
		input string
	}{
		{name: "space element separator", input: isa(t12Env{Elem: ' '}, nil) + rest},
		{name: "tab element separator", input: isa(t12Env{Elem: '\t'}, nil) + rest},
		{name: "letter element separator", input: isa(t12Env{Elem: 'X'}, nil) + rest},
		{name: "digit element separator", input: isa(t12Env{Elem: '0'}, nil) + rest},
		{name: "line break element separator", input: isa(t12Env{Elem: '\n'}, nil) + rest},
		{name: "NUL element separator", input: isa(t12Env{Elem: 0}, func(f *[17]string) {}) + rest},
		{name: "letter terminator", input: isa(t12Env{Term: "A"}, nil) + rest},
		{name: "digit terminator", input: isa(t12Env{Term: "9"}, nil) + rest},
		{name: "space terminator", input: isa(t12Env{Term: " "}, nil) + rest},
		{name: "NUL terminator", input: isa(t12Env{Term: "\x00"}, nil) + rest},
		{name: "invalid UTF-8 terminator", input: isa(t12Env{Term: "\xff"}, nil) + rest},
		{name: "terminator equals element separator", input: isa(t12Env{Term: "*"}, nil) + rest},
		{name: "terminator equals component separator", input: isa(t12Env{Term: ":"}, nil) + rest},
		{name: "component equals element separator", input: isa(t12Env{Comp: '*'}, nil) + rest},
		{name: "letter component separator", input: isa(t12Env{Comp: 'A'}, nil) + rest},
		{name: "space component separator", input: isa(t12Env{Comp: ' '}, nil) + rest},
		{name: "repetition equals component", input: isa(t12Env{Rep: ':', ISAVer: "00501"}, nil) + rest},
		{name: "repetition equals terminator", input: isa(t12Env{Rep: '~', ISAVer: "00501"}, nil) + rest},
		{name: "ISA across lines with line-break terminator", input: wrapped + strings.ReplaceAll(rest, "~", "\n")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "NUL element separator" {
				tc.input = strings.ReplaceAll(tc.input[:106], "*", "\x00") + tc.input[106:]
			}
			_, _, _, err := t12Read(t, tc.input)
			if !errors.Is(err, x12.ErrAmbiguousDelimiter) {
				t.Fatalf("Reader error %v, want ErrAmbiguousDelimiter", err)
			}
			res := t12Validate(t, nil, tc.input)
			t12ExpectErrors(t, res, t12Want{Level: x12.LevelInterchange, Code: "026", Err: x12.ErrAmbiguousDelimiter})
		})
	}
}

// TestReaderBadISA: an ISA without 16 element separators within any
// reasonable length is malformed.
func TestReaderBadISA(t *testing.T) {
	input := "ISA*" + strings.Repeat("x", 600) + "~"
	_, _, _, err := t12Read(t, input)
	if !errors.Is(err, x12.ErrBadISA) {
		t.Fatalf("Reader error %v, want ErrBadISA", err)
	}
	res := t12Validate(t, nil, input)
	t12ExpectErrors(t, res, t12Want{Level: x12.LevelInterchange, Code: "022", Err: x12.ErrBadISA})
}

// TestReaderSegmentTooLong: a segment longer than MaxSegment is an error,
// not unbounded memory.
func TestReaderSegmentTooLong(t *testing.T) {
	input := t12ISA(t12Env{}, t12ISAFields(t12Env{})) + "GS*" + strings.Repeat("A", 200<<10) + "~IEA*0*000000001~"
	r := x12.NewReader(strings.NewReader(input))
	r.MaxSegment = 4096
	if s, err := r.Next(); err != nil || string(s.ID()) != "ISA" {
		t.Fatalf("first Next: %v", err)
	}
	_, err := r.Next()
	if !errors.Is(err, x12.ErrSegmentTooLong) {
		t.Fatalf("Next error %v, want ErrSegmentTooLong", err)
	}
}

// TestReaderOffsets: Segment.Offset is the byte offset of the segment in
// the input, counting a BOM, line breaks and multi-byte terminators.
func TestReaderOffsets(t *testing.T) {
	for _, e := range []t12Env{{}, {NL: "\r\n"}, {Term: "§", NL: "\n"}} {
		input := "\xef\xbb\xbf" + t12POIn(e)
		_, offs, _, err := t12Read(t, input)
		if err != nil {
			t.Fatal(err)
		}
		want := int64(3)
		for i, s := range t12POSegs {
			if offs[i] != want {
				t.Errorf("delims %q: segment %d offset %d, want %d", e.Term+e.NL, i, offs[i], want)
			}
			seg := e.seg(strings.ReplaceAll(s, "|", "*"))
			want += int64(len(seg))
		}
	}
}

// TestReaderUnpaddedISA: an ISA whose fields are not padded is read by
// counting separators, with a warning.
func TestReaderUnpaddedISA(t *testing.T) {
	input := "ISA*00**00**ZZ*SENDER*ZZ*RECEIVER*230101*1200*U*00401*000000001*0*P*:~" +
		t12Env{}.segs("GS*PO*SENDER*RECEIVER*20230101*1200*1*X*004010", "ST*850*0001",
			"BEG*00*SA*PO123**20230101", "PO1*1*2*EA", "SE*4*0001", "GE*1*1", "IEA*1*000000001")
	segs, _, warns, err := t12Read(t, input)
	if err != nil {
		t.Fatalf("Reader: %v", err)
	}
	if len(segs) != 8 || segs[0] != "ISA|00||00||ZZ|SENDER|ZZ|RECEIVER|230101|1200|U|00401|000000001|0|P|:" {
		t.Errorf("segments %q", segs)
	}
	if !t12Contains(warns, "counting separators") {
		t.Errorf("want a warning about the ISA length, got %q", warns)
	}
}

// TestReaderHardWrappedWidths: a file hard-wrapped at any width from 20
// columns up, with several interchanges, reads the same.
func TestReaderHardWrappedWidths(t *testing.T) {
	two := t12POIn(t12Env{}) + t12POIn(t12Env{Control: "000000002"})
	for nlName, nl := range map[string]string{"LF": "\n", "CRLF": "\r\n"} {
		for n := 20; n <= 140; n++ {
			t.Run(fmt.Sprintf("%s/%d", nlName, n), func(t *testing.T) {
				if n == 105 {
					// The first ISA fills a line exactly and the next line
					// starts with its terminator: "ISA…*:\n~GS…". No line
					// break inside the ISA says the file is wrapped, so
					// reading "\n" as the terminator is defensible.
					t.Skip("BUG?: unsure: ISA exactly one 105-column line, terminator on the next line; the reader takes the line break as terminator")
				}
				input := t12Wrap(two, n, nl)
				res := t12Validate(t, nil, input)
				if len(res.errors()) > 0 || len(res.Sets) != 2 || len(res.Interchanges) != 2 {
					t.Errorf("wrapped at %d columns: %d sets, %d interchanges:%s", n, len(res.Sets), len(res.Interchanges), res.dump())
				}
				if !t12HasWarning(res, "line breaks") {
					t.Errorf("want a warning about line breaks:%s", res.dump())
				}
			})
		}
	}
}

// TestReaderInterchangePairs: a second interchange is read with its own
// delimiters whatever the first used, also when the first lacks its IEA.
func TestReaderInterchangePairs(t *testing.T) {
	envs := map[string]t12Env{
		"tilde":         {},
		"tilde LF":      {NL: "\n"},
		"newline term":  {Term: "\n"},
		"CRLF term":     {Term: "\r", NL: "\n"},
		"pipe":          {Elem: '|', Comp: '>', Term: "'", Rep: '^', ISAVer: "00501", NL: "\r\n"},
		"multi-byte":    {Elem: '!', Comp: '\\', Term: "§"},
		"control chars": {Elem: 0x1d, Comp: 0x1f, Term: "\x1c"},
	}
	for n1, e1 := range envs {
		for n2, e2 := range envs {
			e2.Control = "000000002"
			first := t12POIn(e1)
			second := t12POIn(e2)
			t.Run(n1+" then "+n2, func(t *testing.T) {
				res := t12Validate(t, nil, first+second)
				t12ExpectClean(t, res)
				if len(res.Sets) != 2 || len(res.Interchanges) != 2 {
					t.Errorf("got %d sets, %d interchanges:%s", len(res.Sets), len(res.Interchanges), res.dump())
				}
			})
			t.Run(n1+" without IEA then "+n2, func(t *testing.T) {
				cut := first[:strings.LastIndex(first, "IEA")]
				res := t12Validate(t, nil, cut+second)
				t12ExpectErrors(t, res, t12Want{Level: x12.LevelInterchange, Code: "023", Err: x12.ErrTruncated, Ordinal: -1, Offset: len(cut)})
				if len(res.Sets) != 2 || len(res.Interchanges) != 2 {
					t.Errorf("got %d sets, %d interchanges:%s", len(res.Sets), len(res.Interchanges), res.dump())
				}
			})
		}
	}
}
