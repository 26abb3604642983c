package x12_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/edigate/edigate/translators/x12"
)

// Envelope lines of a well-formed interchange, in the notation * : ^.
const (
	t12GS  = "GS*PO*SENDER*RECEIVER*20230101*1200*1*X*004010"
	t12ST  = "ST*850*0001"
	t12BEG = "BEG*00*SA*PO123**20230101"
	t12PO1 = "PO1*1*2*EA"
	t12SE  = "SE*4*0001"
	t12GE  = "GE*1*1"
	t12IEA = "IEA*1*000000001"
)

// t12Raw renders an ISA (fields adjusted by f) followed by segs as written.
func t12Raw(e t12Env, f func(*[17]string), segs ...string) string {
	fields := t12ISAFields(e)
	if f != nil {
		f(&fields)
	}
	return t12ISA(e, fields) + e.segs(segs...)
}

// t12TST renders a TST segment with the given elements (position: value).
func t12TST(els map[int]string) string {
	n := 0
	for k := range els {
		n = max(n, k)
	}
	parts := make([]string, n+1)
	parts[0] = "TST"
	for k, v := range els {
		parts[k] = v
	}
	return strings.Join(parts, "*")
}

// TestValidateClean: a well-formed interchange yields no issue at all.
func TestValidateClean(t *testing.T) {
	res := t12Validate(t, nil, t12PO(t12PO850...))
	t12ExpectClean(t, res)
	if len(res.Issues) != 0 {
		t.Errorf("want no issues:%s", res.dump())
	}
	if len(res.Sets) != 1 || res.Sets[0].Status != "A" || !res.Sets[0].HasSchema {
		t.Fatalf("want one accepted set with a schema, got %+v", res.Sets)
	}
	if g := res.Groups[0]; g.Status != "A" || g.Received != 1 || g.Accepted != 1 || g.Included != 1 {
		t.Errorf("group %+v", g)
	}
	if ix := res.Interchanges[0]; !ix.Accepted() || ix.NoteCode != "000" || !ix.Complete || ix.Groups != 1 {
		t.Errorf("interchange %+v", ix)
	}
}

// TestEnvelopeISA: the ISA's fixed width and field values, with their TA1
// note codes.
func TestEnvelopeISA(t *testing.T) {
	body := []string{t12GS, t12ST, t12BEG, t12PO1, t12SE, t12GE}
	cases := []struct {
		name string
		f    func(*[17]string)
		ctl  string // ISA13 and IEA02 when not the default
		want []t12Want
		warn string
	}{
		{name: "ISA01 authorization qualifier", f: func(f *[17]string) { f[1] = "99" },
			want: []t12Want{{Code: "010", Element: 1}}},
		{name: "ISA03 security qualifier", f: func(f *[17]string) { f[3] = "05" },
			want: []t12Want{{Code: "012", Element: 3}}},
		{name: "ISA05 sender qualifier", f: func(f *[17]string) { f[5] = "XX" },
			want: []t12Want{{Code: "005", Element: 5}}},
		{name: "ISA06 sender ID empty", f: func(f *[17]string) { f[6] = t12Pad("", 15) },
			want: []t12Want{{Code: "006", Element: 6}}},
		{name: "ISA07 receiver qualifier", f: func(f *[17]string) { f[7] = "99" },
			want: []t12Want{{Code: "007", Element: 7}}},
		{name: "ISA08 receiver ID empty", f: func(f *[17]string) { f[8] = t12Pad("", 15) },
			want: []t12Want{{Code: "008", Element: 8}}},
		{name: "ISA09 date", f: func(f *[17]string) { f[9] = "231301" },
			want: []t12Want{{Code: "014", Element: 9}}},
		{name: "ISA09 date not digits", f: func(f *[17]string) { f[9] = "23JAN1" },
			want: []t12Want{{Code: "014", Element: 9}}},
		{name: "ISA10 time", f: func(f *[17]string) { f[10] = "2460" },
			want: []t12Want{{Code: "015", Element: 10}}},
		{name: "ISA12 version", f: func(f *[17]string) { f[12] = "0040A" },
			want: []t12Want{{Code: "017", Element: 12}}},
		{name: "ISA13 control number not digits", ctl: "00000000A",
			want: []t12Want{{Code: "018", Element: 13}}},
		{name: "ISA14 ack requested", f: func(f *[17]string) { f[14] = "2" },
			want: []t12Want{{Code: "019", Element: 14}}},
		{name: "ISA15 usage", f: func(f *[17]string) { f[15] = "X" },
			want: []t12Want{{Code: "020", Element: 15}}},
		{name: "ISA02 width", f: func(f *[17]string) { f[2] = t12Pad("", 9) },
			want: []t12Want{{Code: "011", Element: 2}}, warn: "counting separators"},
		{name: "ISA04 width", f: func(f *[17]string) { f[4] = t12Pad("", 11) },
			want: []t12Want{{Code: "013", Element: 4}}, warn: "counting separators"},
		{name: "ISA11 width", f: func(f *[17]string) { f[11] = "UU" },
			want: []t12Want{{Code: "016", Element: 11}}, warn: "counting separators"},
		{name: "ISA13 width", ctl: "00000001",
			want: []t12Want{{Code: "018", Element: 13}, {Code: "018", Element: 13}}, warn: "counting separators"},
		{name: "unpadded ISA", f: func(f *[17]string) {
			for i := 1; i <= 16; i++ {
				f[i] = strings.TrimSpace(f[i])
			}
		}, want: []t12Want{{Code: "011", Element: 2}, {Code: "013", Element: 4}, {Code: "006", Element: 6}, {Code: "008", Element: 8}},
			warn: "counting separators"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := t12Env{Control: tc.ctl}
			input := t12Raw(e, tc.f, append(body, "IEA*1*"+e.norm().Control)...)
			res := t12Validate(t, nil, input)
			var wants []t12Want
			for _, w := range tc.want {
				w.Level = x12.LevelInterchange
				w.Err = x12.ErrEnvelope
				w.SegmentID = "ISA"
				wants = append(wants, t12Any(w))
			}
			t12ExpectErrors(t, res, wants...)
			if tc.warn != "" && !t12HasWarning(res, tc.warn) {
				t.Errorf("want a warning about %q:%s", tc.warn, res.dump())
			}
			if len(res.Interchanges) != 1 {
				t.Fatalf("got %d interchange results", len(res.Interchanges))
			}
			ix := res.Interchanges[0]
			if ix.Accepted() || ix.NoteCode != tc.want[0].Code {
				t.Errorf("interchange accepted=%v note code %q, want rejected with %q", ix.Accepted(), ix.NoteCode, tc.want[0].Code)
			}
			// The envelope errors do not hide the content: the set is
			// still read and accepted.
			if len(res.Sets) != 1 || res.Sets[0].Status != "A" {
				t.Errorf("want the set accepted, got %+v", res.Sets)
			}
		})
	}
}

// TestEnvelopeStructure: interchange, group and set envelope checks, one
// case per code.
func TestEnvelopeStructure(t *testing.T) {
	e := t12Env{}
	ilvl, glvl, slvl := x12.LevelInterchange, x12.LevelGroup, x12.LevelSet
	cases := []struct {
		name  string
		input string
		want  []t12Want // exact errors
		at    string    // the first wanted error's offset is the index of at (when set)
		atEnd bool      // the first wanted error's offset is len(input)
	}{
		{name: "IEA02 does not match ISA13 (001)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12SE, t12GE, "IEA*1*000000002"),
			want:  []t12Want{{Level: ilvl, Code: "001", Err: x12.ErrControlMismatch, SegmentID: "IEA", Element: 2}}, at: "000000002~"},
		{name: "IEA01 is not the number of groups (021)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12SE, t12GE, "IEA*2*000000001"),
			want:  []t12Want{{Level: ilvl, Code: "021", Err: x12.ErrCountMismatch, SegmentID: "IEA", Element: 1}}, at: "2*000000001~"},
		{name: "IEA01 not a number (021)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12SE, t12GE, "IEA*X*000000001"),
			want:  []t12Want{{Level: ilvl, Code: "021", Err: x12.ErrCountMismatch, SegmentID: "IEA", Element: 1}}},
		{name: "IEA missing at end of input (023)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12SE, t12GE),
			want:  []t12Want{{Level: ilvl, Code: "023", Err: x12.ErrTruncated}}, atEnd: true},
		{name: "GE missing at end of input (AK9 3), at the end",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12SE),
			want:  []t12Want{{Level: glvl, Code: "3", Err: x12.ErrTruncated}, {Level: ilvl, Code: "023", Err: x12.ErrTruncated}}, atEnd: true},
		{name: "SE missing at end of input (set 2), at the end",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1),
			want:  []t12Want{{Level: slvl, Code: "2", Err: x12.ErrTruncated}, {Level: glvl, Code: "3", Err: x12.ErrTruncated}, {Level: ilvl, Code: "023", Err: x12.ErrTruncated}}, atEnd: true},
		{name: "IEA missing before the next ISA (023)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12SE, t12GE) + t12Interchange(t12Env{Control: "000000002"}, t12Group("PO", "1", "004010", t12Set("850", "0001", t12PO850...))),
			want:  []t12Want{{Level: ilvl, Code: "023", Err: x12.ErrTruncated}}, at: "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *230101*1200*U*00401*000000002"},
		{name: "segment between ISA and GS (024)",
			input: t12Raw(e, nil, t12BEG, t12GS, t12ST, t12BEG, t12PO1, t12SE, t12GE, t12IEA),
			want:  []t12Want{{Level: ilvl, Code: "024", Err: x12.ErrEnvelope, SegmentID: "BEG"}}, at: "BEG"},
		{name: "GE without GS (024)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12SE, t12GE, t12GE, t12IEA),
			want:  []t12Want{{Level: ilvl, Code: "024", Err: x12.ErrEnvelope, SegmentID: "GE"}}, at: "GE*1*1~IEA"},
		{name: "segment between GE and IEA (024)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12SE, t12GE, "REF*DP*1", t12IEA),
			want:  []t12Want{{Level: ilvl, Code: "024", Err: x12.ErrEnvelope, SegmentID: "REF"}}, at: "REF"},
		{name: "GS06 not digits (AK9 6)",
			input: t12Raw(e, nil, "GS*PO*SENDER*RECEIVER*20230101*1200*ABC*X*004010", t12ST, t12BEG, t12PO1, t12SE, "GE*1*ABC", t12IEA),
			want:  []t12Want{{Level: glvl, Code: "6", Err: x12.ErrEnvelope, SegmentID: "GS", Element: 6}}, at: "ABC*X"},
		{name: "GS06 too long (AK9 6)",
			input: t12Raw(e, nil, "GS*PO*SENDER*RECEIVER*20230101*1200*1234567890*X*004010", t12ST, t12BEG, t12PO1, t12SE, "GE*1*1234567890", t12IEA),
			want:  []t12Want{{Level: glvl, Code: "6", Err: x12.ErrEnvelope, SegmentID: "GS", Element: 6}}},
		{name: "GS06 empty (AK9 6)",
			input: t12Raw(e, nil, "GS*PO*SENDER*RECEIVER*20230101*1200**X*004010", t12ST, t12BEG, t12PO1, t12SE, "GE*1*", t12IEA),
			want:  []t12Want{{Level: glvl, Code: "6", Err: x12.ErrEnvelope, SegmentID: "GS", Element: 6}}},
		{name: "GS08 empty (AK9 2)",
			input: t12Raw(e, nil, "GS*PO*SENDER*RECEIVER*20230101*1200*1*X*", t12ST, t12BEG, t12PO1, t12SE, t12GE, t12IEA),
			want:  []t12Want{{Level: glvl, Code: "2", Err: x12.ErrEnvelope, SegmentID: "GS", Element: 8}}},
		{name: "GE02 does not match GS06 (AK9 4)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12SE, "GE*1*2", t12IEA),
			want:  []t12Want{{Level: glvl, Code: "4", Err: x12.ErrControlMismatch, SegmentID: "GE", Element: 2}}, at: "2~IEA"},
		{name: "GE01 is not the number of sets (AK9 5)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12SE, "GE*3*1", t12IEA),
			want:  []t12Want{{Level: glvl, Code: "5", Err: x12.ErrCountMismatch, SegmentID: "GE", Element: 1}}, at: "3*1~IEA"},
		{name: "GE missing before IEA (AK9 3)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12SE, t12IEA),
			want:  []t12Want{{Level: glvl, Code: "3", Err: x12.ErrTruncated}}},
		{name: "GE missing before the next GS (AK9 3)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12SE, "GS*PO*SENDER*RECEIVER*20230101*1200*2*X*004010", t12ST, t12BEG, t12PO1, t12SE, "GE*1*2", "IEA*2*000000001"),
			want:  []t12Want{{Level: glvl, Code: "3", Err: x12.ErrTruncated}}},
		{name: "SE02 does not match ST02 (set 3)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, "SE*4*0002", t12GE, t12IEA),
			want:  []t12Want{{Level: slvl, Code: "3", Err: x12.ErrControlMismatch, SegmentID: "SE", Element: 2}}, at: "0002~"},
		{name: "SE01 is not the segment count (set 4)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, "SE*5*0001", t12GE, t12IEA),
			want:  []t12Want{{Level: slvl, Code: "4", Err: x12.ErrCountMismatch, SegmentID: "SE", Element: 1}}, at: "5*0001~"},
		{name: "SE01 not a number (set 4)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, "SE*four*0001", t12GE, t12IEA),
			want:  []t12Want{{Level: slvl, Code: "4", Err: x12.ErrCountMismatch, SegmentID: "SE", Element: 1}}},
		{name: "SE missing before GE (set 2)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12GE, t12IEA),
			want:  []t12Want{{Level: slvl, Code: "2", Err: x12.ErrTruncated}}},
		{name: "SE missing before the next ST (set 2)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, "ST*850*0002", t12BEG, t12PO1, "SE*4*0002", "GE*2*1", t12IEA),
			want:  []t12Want{{Level: slvl, Code: "2", Err: x12.ErrTruncated}}},
		{name: "ST01 not three digits (set 6)",
			input: t12Raw(e, nil, t12GS, "ST*85A*0001", t12BEG, t12PO1, t12SE, t12GE, t12IEA),
			want:  []t12Want{{Level: slvl, Code: "6", Err: x12.ErrEnvelope, SegmentID: "ST", Element: 1}}, at: "85A"},
		{name: "ST02 too short (set 7)",
			input: t12Raw(e, nil, t12GS, "ST*850*001", t12BEG, t12PO1, "SE*4*001", t12GE, t12IEA),
			want: []t12Want{
				{Level: slvl, Code: "7", Err: x12.ErrEnvelope, SegmentID: "ST", Element: 2},
				{Level: x12.LevelElement, Code: "4", Err: x12.ErrElement, SegmentID: "ST", Element: 2}}, at: "001~"},
		{name: "ST02 too long (set 7)",
			input: t12Raw(e, nil, t12GS, "ST*850*0123456789", t12BEG, t12PO1, "SE*4*0123456789", t12GE, t12IEA),
			want: []t12Want{
				{Level: slvl, Code: "7", Err: x12.ErrEnvelope, SegmentID: "ST", Element: 2},
				{Level: x12.LevelElement, Code: "5", Err: x12.ErrElement, SegmentID: "ST", Element: 2}}},
		{name: "ST02 twice in a group (set 23)",
			input: t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12SE, t12ST, t12BEG, t12PO1, t12SE, "GE*2*1", t12IEA),
			want:  []t12Want{{Level: slvl, Code: "23", Err: x12.ErrEnvelope, SegmentID: "ST", Element: 2}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := t12Validate(t, nil, tc.input)
			wants := make([]t12Want, len(tc.want))
			for i, w := range tc.want {
				wants[i] = t12Any(w)
			}
			switch {
			case tc.at != "":
				// The first occurrence, except for a second ISA.
				if i := strings.Index(tc.input, tc.at); i < 0 {
					t.Fatalf("test bug: %q not in the input", tc.at)
				} else {
					if strings.HasPrefix(tc.at, "ISA") {
						i = strings.LastIndex(tc.input, tc.at)
					}
					wants[0].Offset = i
				}
			case tc.atEnd:
				wants[0].Offset = len(tc.input)
			}
			t12ExpectErrors(t, res, wants...)
			for _, pe := range res.Issues {
				if pe.Interchange == "" && pe.Level != x12.LevelInterchange {
					t.Errorf("issue without its interchange control number: %v", pe)
				}
				if pe.Level >= x12.LevelSet && pe.Set == "" && pe.Severity == x12.SeverityError {
					t.Errorf("set-level issue without its ST02: %v", pe)
				}
			}
		})
	}
}

// TestEnvelopeSetErrorPositions: set-level errors (AK5/IK5 codes) about
// the ST or SE carry the segment's ordinal like every other error in a set.
func TestEnvelopeSetErrorPositions(t *testing.T) {
	input := t12Raw(t12Env{}, nil, t12GS, "ST*85A*0001", t12BEG, t12PO1, "SE*5*0002", t12GE, t12IEA)
	res := t12Validate(t, nil, input)
	for _, w := range []t12Want{
		{Level: x12.LevelSet, Code: "6", Err: x12.ErrEnvelope, SegmentID: "ST", Element: 1, Ordinal: 1, Offset: strings.Index(input, "85A")},
		{Level: x12.LevelSet, Code: "4", Err: x12.ErrCountMismatch, SegmentID: "SE", Element: 1, Ordinal: 4, Offset: strings.Index(input, "5*0002")},
		{Level: x12.LevelSet, Code: "3", Err: x12.ErrControlMismatch, SegmentID: "SE", Element: 2, Ordinal: 4, Offset: strings.Index(input, "0002~")},
	} {
		if pe := t12Expect(t, res, w); pe != nil && (pe.Set != "0001" || pe.SetID != "85A" || pe.Group != "1" || pe.Interchange != "000000001") {
			t.Errorf("control numbers of %v", pe)
		}
	}
}

// TestEnvelopeVerdicts: the statuses that the acknowledgements are built
// from.
func TestEnvelopeVerdicts(t *testing.T) {
	e := t12Env{}
	t.Run("missing SE rejects the set and the group", func(t *testing.T) {
		res := t12Validate(t, nil, t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12GE, t12IEA))
		if len(res.Sets) != 1 || res.Sets[0].Status != "R" || res.Sets[0].Complete {
			t.Fatalf("sets %+v", res.Sets)
		}
		if g := res.Groups[0]; g.Status != "R" || g.Accepted != 0 || g.Received != 1 {
			t.Errorf("group status %q accepted %d received %d", g.Status, g.Accepted, g.Received)
		}
	})
	t.Run("missing GE marks the group incomplete", func(t *testing.T) {
		res := t12Validate(t, nil, t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12SE, t12IEA))
		if len(res.Groups) != 1 || res.Groups[0].Complete {
			t.Fatalf("groups %+v", res.Groups)
		}
		if !contains(res.Groups[0].Codes, "3") {
			t.Errorf("group codes %q, want 3", res.Groups[0].Codes)
		}
	})
	t.Run("missing IEA marks the interchange incomplete", func(t *testing.T) {
		res := t12Validate(t, nil, t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, t12SE, t12GE))
		if len(res.Interchanges) != 1 || res.Interchanges[0].Complete || res.Interchanges[0].NoteCode != "023" {
			t.Fatalf("interchanges %+v", res.Interchanges)
		}
		if len(res.Sets) != 1 || res.Sets[0].Status != "A" {
			t.Errorf("the complete set is still accepted: %+v", res.Sets)
		}
	})
	t.Run("set codes", func(t *testing.T) {
		res := t12Validate(t, nil, t12Raw(e, nil, t12GS, t12ST, t12BEG, t12PO1, "SE*9*0002", t12GE, t12IEA))
		if s := res.Sets[0]; s.Status != "R" || !contains(s.Codes, "3") || !contains(s.Codes, "4") {
			t.Errorf("set status %q codes %q, want R with 3 and 4", s.Status, s.Codes)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestValidateNoSchema: a set without a schema is not rejected for that
// alone; it gets a warning.
func TestValidateNoSchema(t *testing.T) {
	cases := []struct {
		name  string
		input string
		warn  string
	}{
		{name: "820 in 004010", warn: "no schema",
			input: t12Interchange(t12Env{}, t12Group("RA", "1", "004010", t12Set("820", "0001", "BPR*C*100*C*ACH", "TRN*1*123")))},
		{name: "850 in 003060", warn: "003060",
			input: t12Interchange(t12Env{}, t12Group("PO", "1", "003060", t12Set("850", "0001", t12PO850...)))},
		{name: "850 in 004010 with a schemaless 820 beside it", warn: "no schema",
			input: t12Interchange(t12Env{}, t12Group("PO", "1", "004010", t12Set("820", "0001", "BPR*C*100"), t12Set("850", "0002", t12PO850...)))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := t12Validate(t, nil, tc.input)
			t12ExpectClean(t, res)
			if !t12HasWarning(res, tc.warn) {
				t.Errorf("want a warning about %q:%s", tc.warn, res.dump())
			}
			for _, s := range res.Sets {
				if s.Status != "A" {
					t.Errorf("set %s %s status %q, want A", s.ID, s.Control, s.Status)
				}
			}
			if res.Groups[0].Status != "A" {
				t.Errorf("group status %q, want A", res.Groups[0].Status)
			}
			if s := res.Sets[0]; s.HasSchema {
				t.Errorf("set %s HasSchema", s.ID)
			}
		})
	}
	t.Run("warning wraps ErrNoSchema", func(t *testing.T) {
		res := t12Validate(t, nil, cases[0].input)
		for _, w := range res.warnings() {
			if strings.Contains(w.Message, "no schema") {
				if !errors.Is(w, x12.ErrNoSchema) {
					t.Errorf("the no-schema warning wraps %v, not ErrNoSchema: %v", w.Err, w)
				}
				if w.Set != "0001" || w.SetID != "820" {
					t.Errorf("the no-schema warning is not positioned at the set: %+v", w)
				}
				return
			}
		}
		t.Errorf("no no-schema warning:%s", res.dump())
	})
}

// TestValidateBadSetDoesNotStopOthers: one bad set does not stop the
// others of its group from being validated.
func TestValidateBadSetDoesNotStopOthers(t *testing.T) {
	bad := t12Set("850", "0001", "REF*DP*1", "PO1*1*2*EA")                   // BEG missing
	good := t12Set("850", "0002", t12PO850...)                               // valid
	bad2 := t12Set("850", "0003", "BEG*00*SA*PO123**20230101", "PO1*1*2*ZZ") // bad unit code
	res := t12Validate(t, nil, t12Interchange(t12Env{}, t12Group("PO", "7", "004010", bad, good, bad2)))
	if len(res.Sets) != 3 {
		t.Fatalf("got %d set results, want 3:%s", len(res.Sets), res.dump())
	}
	for i, want := range []string{"R", "A", "R"} {
		if res.Sets[i].Status != want {
			t.Errorf("set %s status %q, want %q", res.Sets[i].Control, res.Sets[i].Status, want)
		}
	}
	g := res.Groups[0]
	if g.Status != "P" || g.Received != 3 || g.Accepted != 1 || g.Included != 3 {
		t.Errorf("group status %q received %d accepted %d included %d, want P 3 1 3", g.Status, g.Received, g.Accepted, g.Included)
	}
	t12ExpectErrors(t, res,
		t12Any(t12Want{Level: x12.LevelSegment, Code: "3", Err: x12.ErrSegment, SegmentID: "BEG", Ordinal: 2}),
		t12Any(t12Want{Level: x12.LevelElement, Code: "7", Err: x12.ErrElement, SegmentID: "PO1", Element: 3, Ordinal: 3}))
	for _, pe := range res.errors() {
		want := map[string]string{"BEG": "0001", "PO1": "0003"}[pe.SegmentID]
		if pe.Set != want || pe.Group != "7" {
			t.Errorf("error %v is placed in set %q group %q, want set %q group 7", pe, pe.Set, pe.Group, want)
		}
	}
	if !res.Interchanges[0].Accepted() {
		t.Errorf("set errors do not reject the interchange envelope")
	}
}

// TestValidatePositions: every ParseError carries where it is.
func TestValidatePositions(t *testing.T) {
	e := t12Env{NL: "\r\n", Control: "000000042"}
	g1 := t12Group("PO", "11", "004010", t12Set("850", "1001", t12PO850...))
	g2 := t12Group("PO", "12", "004010",
		t12Set("850", "2001", t12PO850...),
		t12Set("850", "2002", "BEG*00*SA*PO123**20230101", "REF*DP*1", t12TST(map[int]string{1: "AB", 4: "ZZ:text"}), "PO1*1*2*EA"))
	input := t12Interchange(e, g1, g2)
	res := t12Validate(t, nil, input)
	at := strings.Index(input, "ZZ:text")
	pe := t12Expect(t, res, t12Want{Level: x12.LevelElement, Code: "7", Err: x12.ErrElement, SegmentID: "TST", Element: 4, Component: 1, Ordinal: 4, Offset: at})
	if pe == nil {
		return
	}
	if pe.Interchange != "000000042" || pe.Group != "12" || pe.Set != "2002" || pe.SetID != "850" {
		t.Errorf("control numbers %q / %q / %q %q, want 000000042 / 12 / 2002 850", pe.Interchange, pe.Group, pe.Set, pe.SetID)
	}
	if pe.Value != "ZZ" || pe.ElementRef != "T41" {
		t.Errorf("value %q ref %q, want ZZ T41", pe.Value, pe.ElementRef)
	}
	if s := pe.Error(); !strings.Contains(s, fmt.Sprintf("offset %d", at)) || !strings.Contains(s, "2002") || !strings.Contains(s, "TST") {
		t.Errorf("Error() = %q lacks the position", s)
	}
	t12ExpectErrors(t, res, t12Any(t12Want{Level: x12.LevelElement, Code: "7", SegmentID: "TST", Element: 4, Component: 1}))

	// Segment-level: an unknown segment in the first group's set.
	input = t12Interchange(e, t12Group("PO", "11", "004010", t12Set("850", "1001", "BEG*00*SA*PO123**20230101", "ZZZ*1", "PO1*1*2*EA")))
	res = t12Validate(t, nil, input)
	pe = t12Expect(t, res, t12Want{Level: x12.LevelSegment, Code: "1", Err: x12.ErrSegment, SegmentID: "ZZZ", Ordinal: 3, Offset: strings.Index(input, "ZZZ")})
	if pe != nil && (pe.Interchange != "000000042" || pe.Group != "11" || pe.Set != "1001") {
		t.Errorf("control numbers %q / %q / %q", pe.Interchange, pe.Group, pe.Set)
	}
}

// TestSegmentRules: AK3/IK3 segment codes against the test 850.
func TestSegmentRules(t *testing.T) {
	seg := x12.LevelSegment
	cases := []struct {
		name string
		body []string
		want []t12Want // exact errors; Ordinal checked when nonzero
		at   string    // offset of the first error is the last index of at
	}{
		{name: "unrecognized segment ID (1)", body: []string{t12BEG, "ZZZ*1", t12PO1},
			want: []t12Want{{Level: seg, Code: "1", Err: x12.ErrSegment, SegmentID: "ZZZ", Ordinal: 3}}, at: "ZZZ"},
		{name: "malformed segment ID (1)", body: []string{t12BEG, "1AB*1", t12PO1},
			want: []t12Want{{Level: seg, Code: "1", Err: x12.ErrSegment, SegmentID: "1AB", Ordinal: 3}}, at: "1AB"},
		{name: "lowercase segment ID (1)", body: []string{t12BEG, "beg*1", t12PO1},
			want: []t12Want{{Level: seg, Code: "1", Err: x12.ErrSegment, SegmentID: "beg", Ordinal: 3}}},
		{name: "known segment not in the set (6)", body: []string{t12BEG, "MSG*hello", t12PO1},
			want: []t12Want{{Level: seg, Code: "6", Err: x12.ErrSegment, SegmentID: "MSG", Ordinal: 3}}, at: "MSG"},
		{name: "mandatory segment missing (3)", body: []string{"REF*DP*1", t12PO1},
			want: []t12Want{{Level: seg, Code: "3", Err: x12.ErrSegment, SegmentID: "BEG"}}},
		{name: "mandatory loop missing (3)", body: []string{t12BEG, "CTT*1"},
			want: []t12Want{{Level: seg, Code: "3", Err: x12.ErrSegment, SegmentID: "PO1"}}},
		{name: "mandatory loop missing at SE (3)", body: []string{t12BEG},
			want: []t12Want{{Level: seg, Code: "3", Err: x12.ErrSegment, SegmentID: "PO1"}}},
		{name: "mandatory segment in a loop missing (3)", body: []string{t12BEG, "N1*ST*NAME", t12PO1},
			want: []t12Want{{Level: seg, Code: "3", Err: x12.ErrSegment, SegmentID: "N3"}}},
		{name: "loop trigger again while the loop's mandatory segment is missing (3)", body: []string{t12BEG, "N1*ST*A", "N1*BT*B", "N3*X", t12PO1},
			want: []t12Want{{Level: seg, Code: "3", Err: x12.ErrSegment, SegmentID: "N3", Ordinal: 4}}},
		{name: "loop over its maximum (4)", body: []string{t12BEG, "N1*ST*A", "N3*X", "N1*BT*B", "N3*Y", "N1*SF*C", "N3*Z", t12PO1},
			want: []t12Want{{Level: seg, Code: "4", Err: x12.ErrSegment, SegmentID: "N1", Ordinal: 7}}, at: "N1*SF"},
		{name: "loop over its maximum, mandatory loop (4)", body: []string{t12BEG, "PO1*1*1*EA", "PO1*2*1*EA", "PO1*3*1*EA", "PO1*4*1*EA"},
			want: []t12Want{{Level: seg, Code: "4", Err: x12.ErrSegment, SegmentID: "PO1", Ordinal: 6}}, at: "PO1*4"},
		{name: "segment over its maximum use (5)", body: []string{t12BEG, "REF*DP*1", "REF*IA*2", "REF*VR*3", t12PO1},
			want: []t12Want{{Level: seg, Code: "5", Err: x12.ErrSegment, SegmentID: "REF", Ordinal: 5}}, at: "REF*VR"},
		{name: "segment over its maximum use at the start (5)", body: []string{t12BEG, "BEG*00*SA*PO124**20230101", t12PO1},
			want: []t12Want{{Level: seg, Code: "5", Err: x12.ErrSegment, SegmentID: "BEG", Ordinal: 3}}, at: "BEG*00*SA*PO124"},
		{name: "segment over its maximum use in a loop (5)", body: []string{t12BEG, "N1*ST*A", "N3*X", "N3*Y", "N3*Z", t12PO1},
			want: []t12Want{{Level: seg, Code: "5", Err: x12.ErrSegment, SegmentID: "N3", Ordinal: 6}}, at: "N3*Z"},
		{name: "segment out of sequence (7)", body: []string{t12BEG, t12PO1, "REF*DP*1"},
			want: []t12Want{{Level: seg, Code: "7", Err: x12.ErrSegment, SegmentID: "REF"}}, at: "REF"},
		{name: "loop out of sequence (7)", body: []string{t12BEG, t12PO1, "CTT*1", "PO1*2*1*EA"},
			want: []t12Want{{Level: seg, Code: "7", Err: x12.ErrSegment, SegmentID: "PO1", Ordinal: 5}}, at: "PO1*2"},
		{name: "ST inside the set body is not a body segment", body: []string{t12BEG, t12PO1, "DTM*002*20230101"},
			want: []t12Want{{Level: seg, Code: "7", Err: x12.ErrSegment, SegmentID: "DTM"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			input := t12PO(tc.body...)
			res := t12Validate(t, nil, input)
			wants := make([]t12Want, len(tc.want))
			for i, w := range tc.want {
				wants[i] = t12Any(w)
			}
			if tc.at != "" {
				wants[0].Offset = strings.LastIndex(input, tc.at)
			}
			t12ExpectErrors(t, res, wants...)
			if len(res.Sets) != 1 || res.Sets[0].Status != "R" {
				t.Errorf("want the set rejected, got %+v", res.Sets)
			} else if !contains(res.Sets[0].Codes, "5") {
				t.Errorf("set codes %q, want 5 (one or more segments in error)", res.Sets[0].Codes)
			}
		})
	}
}

// TestElementRules: AK4/IK4 element codes. The interchange has a
// repetition separator (^, 00501).
func TestElementRules(t *testing.T) {
	el := x12.LevelElement
	w := func(code, seg string, elem, comp, rep int) t12Want {
		return t12Want{Level: el, Code: code, Err: x12.ErrElement, SegmentID: seg, Element: elem, Component: comp, Rep: rep}
	}
	cases := []struct {
		name string
		body []string
		want []t12Want // exact errors
		at   string    // offset of the first error is the index of at
	}{
		// 1 mandatory element missing
		{name: "mandatory element empty (1)", body: []string{"BEG*00*SA***20230101", t12PO1}, want: []t12Want{w("1", "BEG", 3, 0, 0)}},
		{name: "mandatory element absent at the end (1)", body: []string{t12BEG, "PO1*1*2"}, want: []t12Want{w("1", "PO1", 3, 0, 0)}},
		{name: "mandatory component missing (1)", body: []string{t12BEG, t12TST(map[int]string{4: ":text"}), t12PO1}, want: []t12Want{w("1", "TST", 4, 1, 0)}},
		// 3 too many elements
		{name: "too many data elements (3)", body: []string{t12BEG, "PO1*1*2*EA*3.5*EXTRA"}, want: []t12Want{w("3", "PO1", 5, 0, 0)}, at: "EXTRA"},
		// 4 too short
		{name: "AN too short (4)", body: []string{t12BEG, t12TST(map[int]string{1: "A"}), t12PO1}, want: []t12Want{w("4", "TST", 1, 0, 0)}},
		{name: "ID too short (4)", body: []string{t12BEG, "REF*D*1", t12PO1}, want: []t12Want{w("4", "REF", 1, 0, 0)}, at: "D*1"},
		// 5 too long
		{name: "AN too long (5)", body: []string{"BEG*00*SA*" + strings.Repeat("X", 23) + "**20230101", t12PO1}, want: []t12Want{w("5", "BEG", 3, 0, 0)}, at: "XXX"},
		{name: "N too long (5)", body: []string{t12BEG, t12TST(map[int]string{2: "1234567"}), t12PO1}, want: []t12Want{w("5", "TST", 2, 0, 0)}},
		{name: "R too long (5)", body: []string{t12BEG, t12TST(map[int]string{3: "123456789"}), t12PO1}, want: []t12Want{w("5", "TST", 3, 0, 0)}},
		{name: "N0 count too long (5)", body: []string{t12BEG, t12PO1, "CTT*1234567"}, want: []t12Want{w("5", "CTT", 1, 0, 0)}},
		{name: "repetition too long (5)", body: []string{t12BEG, t12TST(map[int]string{5: "A^BBBBBBBBBBB"}), t12PO1}, want: []t12Want{w("5", "TST", 5, 0, 2)}},
		{name: "component too long (5)", body: []string{t12BEG, t12TST(map[int]string{4: "AA:" + strings.Repeat("y", 11)}), t12PO1}, want: []t12Want{w("5", "TST", 4, 2, 0)}},
		// 6 invalid character / not numeric / component separator
		{name: "control character in AN (6)", body: []string{"BEG*00*SA*PO\x01X**20230101", t12PO1}, want: []t12Want{w("6", "BEG", 3, 0, 0)}},
		{name: "N not numeric (6)", body: []string{t12BEG, t12PO1, "CTT*1A"}, want: []t12Want{w("6", "CTT", 1, 0, 0)}, at: "1A"},
		{name: "N with a decimal point (6)", body: []string{t12BEG, t12TST(map[int]string{2: "12.5"}), t12PO1}, want: []t12Want{w("6", "TST", 2, 0, 0)}},
		{name: "R not numeric (6)", body: []string{t12BEG, "PO1*1*2X*EA"}, want: []t12Want{w("6", "PO1", 2, 0, 0)}, at: "2X"},
		{name: "R with two points (6)", body: []string{t12BEG, "PO1*1*1.2.3*EA"}, want: []t12Want{w("6", "PO1", 2, 0, 0)}},
		{name: "R minus in the middle (6)", body: []string{t12BEG, "PO1*1*1-2*EA"}, want: []t12Want{w("6", "PO1", 2, 0, 0)}},
		{name: "R only a point (6)", body: []string{t12BEG, "PO1*1*.*EA"}, want: []t12Want{w("6", "PO1", 2, 0, 0)}},
		{name: "component separator in a simple element (6)", body: []string{"BEG*00*SA*PO:123**20230101", t12PO1}, want: []t12Want{w("6", "BEG", 3, 0, 0)}, at: "PO:123"},
		// 7 invalid code
		{name: "code not in the element's codes (7)", body: []string{"BEG*00*XX*PO123**20230101", t12PO1}, want: []t12Want{w("7", "BEG", 2, 0, 0)}, at: "XX"},
		{name: "code not in the code list (7)", body: []string{t12BEG, "PO1*1*2*ZZ"}, want: []t12Want{w("7", "PO1", 3, 0, 0)}, at: "ZZ~"},
		{name: "code not in the code list, wrong length (7)", body: []string{"BEG*0*SA*PO123**20230101", t12PO1}, want: []t12Want{w("7", "BEG", 1, 0, 0)}},
		{name: "component code invalid (7)", body: []string{t12BEG, t12TST(map[int]string{4: "ZZ:text"}), t12PO1}, want: []t12Want{w("7", "TST", 4, 1, 0)}},
		// 8 invalid date
		{name: "date Feb 30 (8)", body: []string{"BEG*00*SA*PO123**20230230", t12PO1}, want: []t12Want{w("8", "BEG", 5, 0, 0)}, at: "20230230"},
		{name: "date month 13 (8)", body: []string{"BEG*00*SA*PO123**20231301", t12PO1}, want: []t12Want{w("8", "BEG", 5, 0, 0)}},
		{name: "date Feb 29 not leap (8)", body: []string{"BEG*00*SA*PO123**20230229", t12PO1}, want: []t12Want{w("8", "BEG", 5, 0, 0)}},
		{name: "date 7 digits (8)", body: []string{"BEG*00*SA*PO123**2023011", t12PO1}, want: []t12Want{w("8", "BEG", 5, 0, 0)}},
		{name: "date with dashes (8)", body: []string{"BEG*00*SA*PO123**2023-1-1", t12PO1}, want: []t12Want{w("8", "BEG", 5, 0, 0)}},
		{name: "date day 00 (8)", body: []string{t12BEG, t12TST(map[int]string{15: "20230100"}), t12PO1}, want: []t12Want{w("8", "TST", 15, 0, 0)}},
		// 9 invalid time
		{name: "time hour 24 (9)", body: []string{t12BEG, "DTM*002*20230101*2400", t12PO1}, want: []t12Want{w("9", "DTM", 3, 0, 0)}, at: "2400"},
		{name: "time minute 60 (9)", body: []string{t12BEG, "DTM*002*20230101*1260", t12PO1}, want: []t12Want{w("9", "DTM", 3, 0, 0)}},
		{name: "time seconds 60 (9)", body: []string{t12BEG, "DTM*002*20230101*123460", t12PO1}, want: []t12Want{w("9", "DTM", 3, 0, 0)}},
		{name: "time 5 digits (9)", body: []string{t12BEG, "DTM*002*20230101*12345", t12PO1}, want: []t12Want{w("9", "DTM", 3, 0, 0)}},
		{name: "time with colon as data (9)", body: []string{t12BEG, t12TST(map[int]string{16: "12h30"}), t12PO1}, want: []t12Want{w("9", "TST", 16, 0, 0)}},
		// 12 too many repetitions
		{name: "too many repetitions (12)", body: []string{t12BEG, t12TST(map[int]string{5: "A^B^C^D"}), t12PO1}, want: []t12Want{w("12", "TST", 5, 0, 4)}, at: "A^B^C^D"},
		{name: "repetition of a non-repeating element (12)", body: []string{"BEG*00*SA*PO1^PO2**20230101", t12PO1}, want: []t12Want{w("12", "BEG", 3, 0, 2)}, at: "PO1^PO2"},
		// 13 too many components
		{name: "too many components (13)", body: []string{t12BEG, t12TST(map[int]string{4: "AA:x:y"}), t12PO1}, want: []t12Want{w("13", "TST", 4, 0, 0)}, at: "AA:x:y"},
	}
	env := t12Env{Rep: '^', ISAVer: "00501"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			input := t12Interchange(env, t12Group("PO", "1", "004010", t12Set("850", "0001", tc.body...)))
			res := t12Validate(t, nil, input)
			wants := make([]t12Want, len(tc.want))
			for i, w := range tc.want {
				wants[i] = t12Any(w)
			}
			if tc.at != "" {
				i := strings.Index(input, env.seg(tc.at)[:len(tc.at)])
				if i < 0 {
					t.Fatalf("test bug: %q not in the input", tc.at)
				}
				wants[0].Offset = i
			}
			t12ExpectErrors(t, res, wants...)
			if pe := res.errors(); len(pe) > 0 && pe[0].Segment < 2 {
				t.Errorf("segment ordinal %d, want the body segment's ordinal", pe[0].Segment)
			}
			if len(res.Sets) != 1 || res.Sets[0].Status != "R" {
				t.Errorf("want the set rejected, got %+v", res.Sets)
			}
		})
	}
}

// TestElementValid: values at the edges of the rules that are valid.
func TestElementValid(t *testing.T) {
	cases := []struct {
		name string
		body []string
	}{
		{name: "optional elements absent", body: []string{t12BEG, "PO1**2*EA"}},
		{name: "R with sign and point", body: []string{t12BEG, t12TST(map[int]string{3: "-1234.5678"}), t12PO1}},
		{name: "R leading point", body: []string{t12BEG, "PO1*1*.5*EA"}},
		{name: "N negative", body: []string{t12BEG, t12TST(map[int]string{2: "-123456"}), t12PO1}},
		{name: "AN length counts characters not bytes", body: []string{t12BEG, t12TST(map[int]string{1: "ÄÖÜßé"}), t12PO1}},
		{name: "date Feb 29 in a leap year", body: []string{"BEG*00*SA*PO123**20240229", t12PO1}},
		{name: "time HHMMSSdd", body: []string{t12BEG, "DTM*002*20230101*23595999", t12PO1}},
		{name: "time HHMMSS", body: []string{t12BEG, "DTM*002*20230101*000000", t12PO1}},
		{name: "three repetitions", body: []string{t12BEG, t12TST(map[int]string{5: "A^B^C"}), t12PO1}},
		{name: "composite with one component", body: []string{t12BEG, t12TST(map[int]string{4: "BB"}), t12PO1}},
		{name: "composite with two components", body: []string{t12BEG, t12TST(map[int]string{4: "AA:text"}), t12PO1}},
		{name: "paired both present", body: []string{t12BEG, t12TST(map[int]string{6: "A", 7: "B"}), t12PO1}},
		{name: "exclusive one present", body: []string{t12BEG, t12TST(map[int]string{9: "B"}), t12PO1}},
		{name: "conditional with its consequent", body: []string{t12BEG, t12TST(map[int]string{10: "A", 11: "B"}), t12PO1}},
		{name: "conditional consequent alone", body: []string{t12BEG, t12TST(map[int]string{11: "B"}), t12PO1}},
		{name: "list conditional with the second", body: []string{t12BEG, t12TST(map[int]string{12: "A", 14: "B"}), t12PO1}},
		{name: "list conditional members alone", body: []string{t12BEG, t12TST(map[int]string{13: "A", 14: "B"}), t12PO1}},
		{name: "required one of two", body: []string{t12BEG, "REF*DP**description", t12PO1}},
		{name: "full loops", body: []string{t12BEG, "REF*DP*1", "REF*IA*2", "DTM*002*20230101", "N1*ST*A", "N3*X", "N3*Y", "N1*BT*B", "N3*Z",
			"PO1*1*1*EA", "PID*F*desc", "PO1*2*1*CA", "PO1*3*1*EA", "PID*F*desc", "CTT*3"}},
	}
	env := t12Env{Rep: '^', ISAVer: "00501"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := t12Validate(t, nil, t12Interchange(env, t12Group("PO", "1", "004010", t12Set("850", "0001", tc.body...))))
			t12ExpectClean(t, res)
			if len(res.Sets) != 1 || res.Sets[0].Status != "A" {
				t.Errorf("want the set accepted:%s", res.dump())
			}
		})
	}
	t.Run("trailing empty elements are a warning", func(t *testing.T) {
		res := t12Validate(t, nil, t12PO(t12BEG, "PO1*1*2*EA*3.5***"))
		t12ExpectClean(t, res)
		if len(res.warnings()) == 0 {
			t.Errorf("want a warning about trailing separators:%s", res.dump())
		}
	})
}

// TestSyntaxNotes: the relational conditions P, R, C, L (code 2) and E
// (code 10).
func TestSyntaxNotes(t *testing.T) {
	w := func(code, seg string, elem int) t12Want {
		return t12Any(t12Want{Level: x12.LevelElement, Code: code, Err: x12.ErrElement, SegmentID: seg, Element: elem})
	}
	cases := []struct {
		name string
		seg  string // placed after BEG
		want []t12Want
	}{
		{name: "P paired first only", seg: t12TST(map[int]string{6: "A"}), want: []t12Want{w("2", "TST", 7)}},
		{name: "P paired second only", seg: t12TST(map[int]string{7: "B"}), want: []t12Want{w("2", "TST", 6)}},
		{name: "P paired on N1", seg: "N1*ST*NAME*92", want: []t12Want{w("2", "N1", 4)}},
		{name: "R none of two", seg: "REF*DP", want: []t12Want{w("2", "REF", 2)}},
		{name: "R none of two with empty elements", seg: "REF*DP**", want: []t12Want{w("2", "REF", 2)}},
		{name: "R on N1", seg: "N1*ST", want: []t12Want{w("2", "N1", 2)}},
		{name: "C conditional without its consequent", seg: t12TST(map[int]string{10: "A"}), want: []t12Want{w("2", "TST", 11)}},
		{name: "C time without date", seg: "DTM*002**1200", want: []t12Want{w("2", "DTM", 2)}},
		{name: "L list conditional with none", seg: t12TST(map[int]string{12: "A"}), want: []t12Want{w("2", "TST", 13)}},
		{name: "E exclusive both present", seg: t12TST(map[int]string{8: "A", 9: "B"}), want: []t12Want{w("10", "TST", 9)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := []string{t12BEG, tc.seg, t12PO1}
			if strings.HasPrefix(tc.seg, "N1") {
				body = []string{t12BEG, tc.seg, "N3*X", t12PO1}
			}
			res := t12Validate(t, nil, t12PO(body...))
			t12ExpectErrors(t, res, tc.want...)
		})
	}
}

// TestHLHierarchy: HL01 runs 1, 2, 3…; HL02 names an earlier HL01; HL03 is
// allowed under the parent's level per the schema's hierarchy.
func TestHLHierarchy(t *testing.T) {
	w := func(elem int) t12Want {
		return t12Any(t12Want{Level: x12.LevelElement, Code: "7", Err: x12.ErrElement, SegmentID: "HL", Element: elem})
	}
	cases := []struct {
		name string
		hls  []string
		want []t12Want
		at   string
	}{
		{name: "valid S O I", hls: []string{"HL*1**S", "TD1*CTN", "HL*2*1*O", "HL*3*2*I"}},
		{name: "valid S O P I I", hls: []string{"HL*1**S", "HL*2*1*O", "HL*3*2*P", "HL*4*3*I", "HL*5*3*I"}},
		{name: "valid two orders", hls: []string{"HL*1**S", "HL*2*1*O", "HL*3*2*I", "HL*4*1*O", "HL*5*4*I"}},
		{name: "HL01 not sequential", hls: []string{"HL*1**S", "HL*3*1*O"}, want: []t12Want{w(1)}, at: "3*1*O"},
		{name: "HL01 does not start at 1", hls: []string{"HL*2**S"}, want: []t12Want{w(1)}},
		{name: "HL02 parent does not exist", hls: []string{"HL*1**S", "HL*2*9*O"}, want: []t12Want{w(2)}, at: "9*O"},
		{name: "HL02 parent is a later HL", hls: []string{"HL*1**S", "HL*2*3*O", "HL*3*1*O"}, want: []t12Want{w(2)}},
		{name: "HL03 not allowed under its parent", hls: []string{"HL*1**S", "HL*2*1*I"}, want: []t12Want{w(3)}, at: "I~"},
		{name: "HL03 needs a parent", hls: []string{"HL*1**O"}, want: []t12Want{w(2)}},
		{name: "HL03 top level given a parent", hls: []string{"HL*1**S", "HL*2*1*S"}, want: []t12Want{w(3)}},
		{name: "HL03 unknown level code", hls: []string{"HL*1**S", "HL*2*1*X"},
			want: []t12Want{t12Any(t12Want{Level: x12.LevelElement, Code: "7", Err: x12.ErrElement, SegmentID: "HL", Element: 3})}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := append([]string{"BSN*00*SHIP1*20230101*1200"}, tc.hls...)
			input := t12Interchange(t12Env{}, t12Group("SH", "1", "004010", t12Set("856", "0001", body...)))
			res := t12Validate(t, nil, input)
			wants := append([]t12Want(nil), tc.want...)
			if tc.at != "" {
				wants[0].Offset = strings.LastIndex(input, tc.at)
			}
			t12ExpectErrors(t, res, wants...)
			if len(res.Sets) != 1 {
				t.Fatalf("got %d sets", len(res.Sets))
			}
			if want := map[bool]string{true: "A", false: "R"}[len(tc.want) == 0]; res.Sets[0].Status != want {
				t.Errorf("set status %q, want %q", res.Sets[0].Status, want)
			}
		})
	}
	t.Run("HL numbering restarts in each set", func(t *testing.T) {
		set := func(ctl string) []string {
			return t12Set("856", ctl, "BSN*00*SHIP1*20230101*1200", "HL*1**S", "HL*2*1*O")
		}
		res := t12Validate(t, nil, t12Interchange(t12Env{}, t12Group("SH", "1", "004010", set("0001"), set("0002"))))
		t12ExpectClean(t, res)
	})
}

// TestValidateRealRegistry: a plain 850 passes the embedded schemas, when
// they are there.
func TestValidateRealRegistry(t *testing.T) {
	reg := x12.MustLoadRegistry()
	if _, ok := reg.Lookup("850", "004010"); !ok {
		t.Skip("no embedded 850/004010 schema yet")
	}
	input := t12Interchange(t12Env{}, t12Group("PO", "1", "004010",
		t12Set("850", "0001", "BEG*00*SA*PO123**20230101", "PO1*1*2*EA*3.5**BP*ITEM1", "CTT*1")))
	res := t12Validate(t, reg, input)
	t12ExpectClean(t, res)
	if len(res.Sets) != 1 || res.Sets[0].Status != "A" || !res.Sets[0].HasSchema {
		t.Errorf("want the 850 accepted against its schema:%s", res.dump())
	}
}

// TestValidateVersionVariants: industry variants of a version use the
// schema of their base version.
func TestValidateVersionVariants(t *testing.T) {
	for _, v := range []string{"004010", "004010VICS", "005010", "005010X220A1"} {
		t.Run(v, func(t *testing.T) {
			res := t12Validate(t, nil, t12Interchange(t12Env{}, t12Group("PO", "1", v, t12Set("850", "0001", t12PO850...))))
			t12ExpectClean(t, res)
			if len(res.Issues) != 0 {
				t.Errorf("want no issues:%s", res.dump())
			}
			if len(res.Sets) != 1 || !res.Sets[0].HasSchema || res.Sets[0].Status != "A" {
				t.Errorf("want the set checked against the %s schema and accepted: %+v", v[:6], res.Sets)
			}
		})
	}
	t.Run("schema rules apply to variants", func(t *testing.T) {
		res := t12Validate(t, nil, t12Interchange(t12Env{}, t12Group("PO", "1", "004010VICS", t12Set("850", "0001", "BEG*00*XX*PO1**20230101", t12PO1))))
		t12ExpectErrors(t, res, t12Any(t12Want{Level: x12.LevelElement, Code: "7", Err: x12.ErrElement, SegmentID: "BEG", Element: 2}))
	})
}
