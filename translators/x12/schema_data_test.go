package x12

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSchemasLoad checks that the embedded schema data compiles and holds
// every transaction set the gateway supports.
func TestSchemasLoad(t *testing.T) {
	reg, err := LoadRegistry()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"850/004010", "855/004010", "856/004010", "810/004010", "997/004010",
		"850/005010", "855/005010", "856/005010", "810/005010", "997/005010", "999/005010",
	}
	have := map[string]bool{}
	for _, k := range reg.Keys() {
		have[k] = true
	}
	for _, k := range want {
		if !have[k] {
			t.Errorf("schema %s is missing (have %v)", k, reg.Keys())
		}
	}
	for _, v := range []string{"004010", "005010"} {
		for _, id := range []string{"ISA", "IEA", "GS", "GE", "ST", "SE", "TA1"} {
			if _, ok := reg.Segment(v, id); !ok {
				t.Errorf("segments.json of %s lacks %s", v, id)
			}
		}
	}
}

// schemaSamplesDir is the shared corpus of real X12 files; the coverage test is
// skipped where it is absent.
const schemaSamplesDir = "/work/shared/x12-samples"

var sampleRow = regexp.MustCompile("(?m)^\\| *\\d+ *\\| *`x12-samples/([^`]+)`")

// validLookingSamples lists the corpus files that SOURCES.md marks valid-looking.
func validLookingSamples(t *testing.T) []string {
	src, err := os.ReadFile(filepath.Join(schemaSamplesDir, "SOURCES.md"))
	if err != nil {
		t.Skipf("sample corpus not available: %v", err)
	}
	text := string(src)
	locs := sampleRow.FindAllStringSubmatchIndex(text, -1)
	var out []string
	for i, l := range locs {
		end := len(text)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		if strings.Contains(text[l[0]:end], "valid-looking") {
			out = append(out, filepath.Join(schemaSamplesDir, text[l[2]:l[3]]))
		}
	}
	return out
}

// sampleViolations are findings in valid-looking samples where the sample,
// not the schema, departs from the X12 standard; the schema stays strict.
var sampleViolations = map[string][]string{
	// IT1 with quantity and unit but no unit price (or price without
	// quantity): 004010 IT1 syntax note P020304 requires all three.
	"bots-edi__bots-plugins/810_3.x12":           {"syntax note P020304"},
	"kputnam__stupidedi/004010_IN810_pass_1.edi": {"syntax note P020304"},
	// DTM*037*19980205***19: a 003xxx century (DTM05 was element 624
	// Century until 004010) sent as DTM05, which is now 1250 and pairs with DTM06.
	"bots-edi__bots-plugins/850-004010-07.x12": {"syntax note P0506"},
	"bots-edi__bots-plugins/mailbag01.x12":     {"syntax note P0506"},
	// Placeholder data: N402 "LOCSTATE" (state code is ID 2/2).
	"Inteligenz__X12Parser/856_Example4.txt": {"N402 (156 State or Province Code) \"LOCSTATE\""},
	// AK202 "002": transaction set control number 329 is AN 4/9.
	"Inteligenz__X12Parser/DHS_Wisconsin_Sample.txt": {"AK202 (329 Transaction Set Control Number) \"002\""},
	// Repetition separators inside AK302/AK304, which do not repeat.
	"xlate__staedi/extraDelimiter997.edi": {"AK302 (719", "AK304 (720"},
}

func knownSampleViolation(file, problem string) bool {
	for _, s := range sampleViolations[file] {
		if strings.Contains(problem, s) {
			return true
		}
	}
	return false
}

// TestSchemaCoversSamples reads every valid-looking sample of the supported
// sets and versions and checks each segment against the schema data: known
// and allowed in the set, not too many elements, mandatory elements present,
// lengths, code lists and syntax notes. It checks the data, not the
// validator, so it does not depend on validate.go.
func TestSchemaCoversSamples(t *testing.T) {
	files := validLookingSamples(t)
	reg, err := LoadRegistry()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		problems, n := checkSampleAgainstSchemas(reg, f)
		checked += n
		name := strings.TrimPrefix(f, schemaSamplesDir+"/")
		for _, p := range problems {
			if !knownSampleViolation(name, p) {
				t.Errorf("%s: %s", name, p)
			}
		}
	}
	if checked == 0 {
		t.Fatalf("no transaction sets checked in %d files", len(files))
	}
	t.Logf("checked %d transaction sets in %d valid-looking files", checked, len(files))
}

func checkSampleAgainstSchemas(reg *Registry, file string) (problems []string, sets int) {
	fh, err := os.Open(file)
	if err != nil {
		return []string{err.Error()}, 0
	}
	defer fh.Close()
	r := NewReader(fh)
	var version, setID string
	var schema *Schema
	for {
		seg, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, "read: "+err.Error())
			break
		}
		id := string(seg.ID())
		switch id {
		case "GS":
			version = string(seg.Element(8))
			continue
		case "ST":
			setID = string(seg.Element(1))
			schema = nil
			if s, ok := reg.Lookup(setID, version); ok && (strings.HasPrefix(version, "004010") || strings.HasPrefix(version, "005010")) {
				schema = s
				sets++
			}
		}
		if schema == nil {
			continue
		}
		where := fmt.Sprintf("%s/%s %s@%d", setID, version, id, seg.Offset)
		def, ok := reg.Segment(version, id)
		if !ok {
			problems = append(problems, where+": segment not in dictionary")
			continue
		}
		if !schema.inSet[id] {
			problems = append(problems, where+": segment not in set structure")
		}
		problems = append(problems, checkSegmentData(where, seg, def, r.Delimiters())...)
		if id == "SE" {
			schema = nil
		}
	}
	return problems, sets
}

func checkSegmentData(where string, seg *Segment, def *SegmentDef, d Delimiters) (problems []string) {
	n := len(seg.Elements) - 1
	if n > len(def.Elements) {
		problems = append(problems, fmt.Sprintf("%s: %d elements, dictionary has %d", where, n, len(def.Elements)))
		n = len(def.Elements)
	}
	present := make([]bool, len(def.Elements)+1)
	for i, ed := range def.Elements {
		var v []byte
		if i+1 < len(seg.Elements) {
			v = seg.Elements[i+1]
		}
		pos := fmt.Sprintf("%s%02d", string(seg.ID()), i+1)
		if len(bytes.TrimSpace(v)) == 0 {
			if ed.Req == "M" {
				problems = append(problems, fmt.Sprintf("%s: %s (%s %s) mandatory but missing", where, pos, ed.Ref, ed.Name))
			}
			continue
		}
		present[i+1] = true
		reps := [][]byte{v}
		if d.Repetition != 0 && ed.Repeat > 1 {
			reps = bytes.Split(v, []byte{d.Repetition})
		}
		for _, rv := range reps {
			if len(ed.Components) == 0 {
				if msg := checkDataValue(ed, rv); msg != "" {
					problems = append(problems, fmt.Sprintf("%s: %s (%s %s) %q: %s", where, pos, ed.Ref, ed.Name, rv, msg))
				}
				continue
			}
			comps := bytes.Split(rv, []byte{d.Component})
			if len(comps) > len(ed.Components) {
				problems = append(problems, fmt.Sprintf("%s: %s has %d components, dictionary has %d", where, pos, len(comps), len(ed.Components)))
			}
			for j, cd := range ed.Components {
				var cv []byte
				if j < len(comps) {
					cv = comps[j]
				}
				if len(cv) == 0 {
					if cd.Req == "M" {
						problems = append(problems, fmt.Sprintf("%s: %s-%d (%s %s) mandatory but missing", where, pos, j+1, cd.Ref, cd.Name))
					}
					continue
				}
				if msg := checkDataValue(cd, cv); msg != "" {
					problems = append(problems, fmt.Sprintf("%s: %s-%d (%s %s) %q: %s", where, pos, j+1, cd.Ref, cd.Name, cv, msg))
				}
			}
		}
	}
	for _, r := range def.syntax {
		if msg := syntaxViolation(r, present); msg != "" {
			problems = append(problems, fmt.Sprintf("%s: syntax note %s: %s", where, r.text, msg))
		}
	}
	return problems
}

// checkDataValue checks the length, and for ID elements the code list, of one value.
func checkDataValue(ed *ElementDef, v []byte) string {
	n := len(v)
	switch ed.kind {
	case kindR, kindN:
		n = 0
		for _, c := range v {
			if c >= '0' && c <= '9' {
				n++
			}
		}
	case kindID, kindAN:
		// ID and AN values are compared as sent; trailing spaces count.
	}
	if n < ed.Min || n > ed.Max {
		return fmt.Sprintf("length %d outside %d..%d", n, ed.Min, ed.Max)
	}
	if ed.kind == kindID && ed.codes != nil {
		if _, ok := ed.codes[string(v)]; !ok {
			return "not in code list " + ed.Ref
		}
	}
	return ""
}

func syntaxViolation(r syntaxRule, present []bool) string {
	count := 0
	for _, e := range r.elems {
		if present[e] {
			count++
		}
	}
	first := present[r.elems[0]]
	switch r.kind {
	case 'P':
		if count != 0 && count != len(r.elems) {
			return "all or none required"
		}
	case 'R':
		if count == 0 {
			return "at least one required"
		}
	case 'E':
		if count > 1 {
			return "at most one allowed"
		}
	case 'C':
		if first && count != len(r.elems) {
			return "first present requires the others"
		}
	case 'L':
		if first && count < 2 {
			return "first present requires one of the others"
		}
	}
	return ""
}
