package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyTree copies a folder, replacing strings in every file on the way.
func copyTree(t *testing.T, from, to string, repl *strings.Replacer) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, repl.Replace(rel))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, []byte(repl.Replace(string(b))), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOnboardingByCopying does what the onboarding guide says, with no Go:
// copy a demo partner, change its IDs and one qualifier, check it, and
// translate its files both ways.
func TestOnboardingByCopying(t *testing.T) {
	root := t.TempDir()
	pdir, mdir := filepath.Join(root, "partners"), filepath.Join(root, "mappings")
	// Same-length IDs keep the ISA fixed-width in the copied samples.
	repl := strings.NewReplacer("acme", "zeta", "ACMESUPPLY", "ZETASUPPLY", "ACME", "ZETA")
	copyTree(t, repo(t, "partners", "acme"), filepath.Join(pdir, "zeta"), repl)
	copyTree(t, repo(t, "mappings", "acme"), filepath.Join(mdir, "zeta"), repl)
	b, err := os.ReadFile(repo(t, "partners", "acme.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pdir, "zeta.yaml"), []byte(repl.Replace(string(b))), 0o644); err != nil {
		t.Fatal(err)
	}
	// The one qualifier that differs: zeta sends its item number as VP.
	m850 := filepath.Join(mdir, "zeta", "850-004010.yaml")
	b, _ = os.ReadFile(m850)
	if !strings.Contains(string(b), "PO1(VN)") {
		t.Fatalf("the acme 850 mapping no longer says PO1(VN):\n%s", b)
	}
	os.WriteFile(m850, []byte(strings.ReplaceAll(string(b), "PO1(VN)", "PO1(VP)")), 0o644)
	t.Setenv("EDIGATE_ISA_ID", "ZZ:EDIGATE")
	args := []string{"--partners", pdir, "--mappings", mdir}

	// The copied expectations name the old partner: the first check says so,
	// --update rewrites them, and then the check is green.
	if code, out, _ := run(t, "", append([]string{"partner", "check"}, args...)...); code != 1 || !strings.Contains(out, "FAIL") {
		t.Errorf("a check against acme's expectations should fail: exit %d\n%s", code, out)
	}
	if code, out, errs := run(t, "", append([]string{"partner", "check", "--update"}, args...)...); code != 0 {
		t.Fatalf("partner check --update: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs := run(t, "", append([]string{"partner", "check"}, args...)...)
	if code != 0 || !strings.Contains(out, "partner zeta (ACME Supply Co, ZZ:ZETASUPPLY 004010): green") && !strings.Contains(out, "partner zeta") {
		t.Fatalf("partner check: exit %d\n%s%s", code, out, errs)
	}

	// Translate its 855 to canonical JSON…
	edi := filepath.Join(pdir, "zeta", "samples", "855-4500012345.edi")
	code, out, errs = run(t, "", append([]string{"translate"}, append(args, edi)...)...)
	if code != 0 || !strings.Contains(out, `"partner":"zeta"`) || strings.Contains(errs, "note:") {
		t.Fatalf("translate: exit %d\n%s\n%s", code, out, errs)
	}
	// …and a canonical PO to an 850 with zeta's qualifier and delimiters.
	po := filepath.Join(pdir, "zeta", "samples", "po-1.json")
	code, out, errs = run(t, "", append([]string{"translate", "--to", "x12", "--partner", "zeta"}, append(args, po)...)...)
	if code != 0 {
		t.Fatalf("translate --to x12: exit %d\n%s", code, errs)
	}
	for _, want := range []string{"ISA|", "|ZZ|ZETASUPPLY     |", "|VP|"} {
		if !strings.Contains(out, want) {
			t.Errorf("the 850 lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "|VN|") {
		t.Errorf("the 850 still uses acme's VN qualifier:\n%s", out)
	}
}

func TestPartnerInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "partners")
	t.Setenv("EDIGATE_ISA_ID", "ZZ:EDIGATE")
	code, out, errs := run(t, "", "partner", "init", "deltaco", "--isa", "ZZ:DELTACO", "--version", "005010", "--partners", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	code, out, errs = run(t, "", "partner", "check", "--partners", dir, "--mappings", repo(t, "mappings"), filepath.Join(dir, "deltaco.yaml"))
	if code != 0 || !strings.Contains(out, "green") {
		t.Fatalf("a fresh partner file does not pass the check: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := run(t, "", "partner", "init", "deltaco", "--isa", "ZZ:DELTACO", "--partners", dir); code != 1 || !strings.Contains(errs, "already exists") {
		t.Errorf("init over an existing partner: exit %d %s", code, errs)
	}
	if code, _, errs := run(t, "", "partner", "init", "bad", "--isa", "DELTACO", "--partners", dir); code != 1 || !strings.Contains(errs, "QUALIFIER:ID") {
		t.Errorf("a bad --isa: exit %d %s", code, errs)
	}
}
