package x12

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sampleStatuses reads the status column of ../shared/x12-samples/SOURCES.md:
// "valid-looking", "DELIBERATELY BROKEN" or "malformed".
func sampleStatuses(t *testing.T, dir string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "SOURCES.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| *\\d+ *\\| *`x12-samples/([^`]+)`")
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		switch {
		case strings.Contains(line, "| DELIBERATELY BROKEN |"):
			out[m[1]] = "DELIBERATELY BROKEN"
		case strings.Contains(line, "| valid-looking |"):
			out[m[1]] = "valid-looking"
		default:
			out[m[1]] = "malformed"
		}
	}
	return out
}

// verdictOf validates one file and renders the verdict as the golden text.
func verdictOf(t *testing.T, reg *Registry, path string) (valid bool, text string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var errs, warns []string
	var sets []string
	v := &Validator{Registry: reg}
	err = v.Validate(bufio.NewReader(f), Events{
		Issue: func(e *ParseError) {
			if e.Severity == SeverityError {
				errs = append(errs, e.Error())
			} else {
				warns = append(warns, e.Error())
			}
		},
		Set: func(s *SetResult) {
			sets = append(sets, fmt.Sprintf("%s %s %s %s", s.ID, s.Version, s.Control, s.Status))
		},
	})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var b strings.Builder
	verdict := "valid"
	if len(errs) > 0 {
		verdict = "invalid"
	}
	fmt.Fprintf(&b, "verdict: %s\n", verdict)
	for _, s := range sets {
		fmt.Fprintf(&b, "set: %s\n", s)
	}
	for _, e := range errs {
		fmt.Fprintf(&b, "error: %s\n", e)
	}
	for _, w := range warns {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return len(errs) == 0, b.String()
}

// TestSampleCorpus validates the 80 public samples in ../shared/x12-samples
// and compares each verdict with testdata/x12-samples/<repo>/<file>.golden.
// A valid-looking sample that we reject must carry a "reason:" line saying
// what is really wrong with it; a deliberately broken one must be rejected.
func TestSampleCorpus(t *testing.T) {
	dir := samplesDir(t)
	if dir == "" {
		t.Skip("../shared/x12-samples is not beside the repository")
	}
	reg := MustLoadRegistry()
	statuses := sampleStatuses(t, dir)
	if len(statuses) < 80 {
		t.Fatalf("SOURCES.md lists %d samples, want 80", len(statuses))
	}
	goldenDir := filepath.Join(repoRoot(t), "testdata", "x12-samples")
	for name, status := range statuses {
		t.Run(name, func(t *testing.T) {
			valid, got := verdictOf(t, reg, filepath.Join(dir, name))
			golden := filepath.Join(goldenDir, name+".golden")
			old, _ := os.ReadFile(golden)
			var reason []string
			for _, line := range strings.Split(string(old), "\n") {
				if strings.HasPrefix(line, "reason:") {
					reason = append(reason, line)
				}
			}
			want := "status: " + status + "\n"
			if len(reason) > 0 {
				want += strings.Join(reason, "\n") + "\n"
			}
			want += got
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if !bytes.Equal(old, []byte(want)) {
				t.Errorf("verdict differs from %s (go test -run TestSampleCorpus -update rewrites it):\n--- golden\n%s\n--- got\n%s", golden, old, want)
			}
			switch {
			case status == "DELIBERATELY BROKEN" && valid:
				t.Errorf("a deliberately broken sample was accepted")
			case status == "valid-looking" && !valid && len(reason) == 0:
				t.Errorf("a valid-looking sample is rejected without a reason: line in %s saying what is really wrong with it", golden)
			}
		})
	}
}
