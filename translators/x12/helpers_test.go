package x12

import (
	"os"
	"path/filepath"
	"testing"
)

// repoRoot finds the module root (the folder holding go.mod).
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// samplesDir is ../shared/x12-samples beside the repository; "" when absent.
func samplesDir(tb testing.TB) string {
	tb.Helper()
	d := filepath.Join(repoRoot(tb), "..", "shared", "x12-samples")
	if _, err := os.Stat(d); err != nil {
		return ""
	}
	return d
}

// cleanInterchange is a small valid 850 in 004010 with standard delimiters.
func cleanInterchange() []byte {
	return []byte("ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*EDIGATE        *261126*1200*U*00401*000000001*0*P*>~\n" +
		"GS*PO*ACMESUPPLY*EDIGATE*20261126*1200*1*X*004010~\n" +
		"ST*850*0001~\n" +
		"BEG*00*SA*PO12345**20261126~\n" +
		"N1*ST*DISTRIBUTION CENTER*92*DC01~\n" +
		"PO1*1*10*EA*12.50**VP*WIDGET-1*BP*SKU-001~\n" +
		"PO1*2*5*CS*30**VP*GADGET-2~\n" +
		"CTT*2~\n" +
		"SE*7*0001~\n" +
		"GE*1*1~\n" +
		"IEA*1*000000001~\n")
}

// IssuesOf lets the external tests compare the validator's fast and
// careful paths (see issuesOf).
var IssuesOf = issuesOf
