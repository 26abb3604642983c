package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run calls Main as the command line would and returns its exit status and
// outputs.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// repo returns a path inside the repository.
func repo(t *testing.T, parts ...string) string {
	t.Helper()
	return filepath.Join(append([]string{"..", "..", ".."}, parts...)...)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidateExitCodes(t *testing.T) {
	good := repo(t, "testdata", "x12", "850-004010-acme.edi")
	bad := repo(t, "testdata", "x12", "855-005010-broken.edi")
	csv := writeFile(t, "orders.csv", "po,line,qty\n1,1,10\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"valid file", []string{"validate", good}, 0, "", ""},
		{"invalid file", []string{"validate", bad}, 1, `855-005010-broken.edi:345: ISA 000000731 / GS 731 / ST 0001 segment 7 (ACK) element 1: element ACK01 (Line Item Status Code) is "ZZ", not a valid code [element 7]`, ""},
		{"valid and invalid", []string{"validate", good, bad}, 1, "ACK01", ""},
		{"not X12", []string{"validate", csv}, 1, "orders.csv:0: input is not X12: it starts with \"po,line,qty\\n1,1,\", not with an ISA segment [interchange 024]", ""},
		{"missing file", []string{"validate", "/nonexistent/x.edi"}, 2, "", "no such file"},
		{"no arguments", []string{"validate"}, 2, "", "usage"},
		{"unknown flag", []string{"validate", "--nope", good}, 2, "", "flag provided but not defined"},
		{"unknown command", []string{"frobnicate"}, 2, "", "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := run(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			if !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout %q does not contain %q", out, tc.stdout)
			}
			if !strings.Contains(errs, tc.stderr) {
				t.Errorf("stderr %q does not contain %q", errs, tc.stderr)
			}
		})
	}
}

func TestValidateJSON(t *testing.T) {
	bad := repo(t, "testdata", "x12", "855-005010-broken.edi")
	code, out, _ := run(t, "", "validate", "--json", "--quiet", bad)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var issues []issueJSON
	if err := json.Unmarshal([]byte(out), &issues); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, out)
	}
	if len(issues) != 1 {
		t.Fatalf("want 1 issue, got %d: %s", len(issues), out)
	}
	got := issues[0]
	want := issueJSON{File: bad, Offset: 345, Severity: "error", Level: "element", Code: "7", Interchange: "000000731", Group: "731", Set: "0001", SetID: "855", Segment: 7, SegmentID: "ACK", Element: 1, Value: "ZZ", Message: got.Message}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	// A valid file gives an empty array, not null.
	_, out, _ = run(t, "", "validate", "--json", "--quiet", repo(t, "testdata", "x12", "850-004010-acme.edi"))
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("valid file: %q, want []", out)
	}
}

func TestAck(t *testing.T) {
	bad := repo(t, "testdata", "x12", "855-005010-broken.edi")
	code, out, _ := run(t, "", "ack", bad)
	if code != 1 {
		t.Errorf("exit %d, want 1 (the input is invalid)", code)
	}
	for _, want := range []string{
		"ISA*00*          *00*          *ZZ*EDIGATEDIST    *ZZ*BETAPARTS      *",
		"GS*FA*EDIGATEDIST*BETAPARTS*",
		"ST*999*0001*005010X231A1~", "AK1*PR*731*005010~", "AK2*855*0001~", "IK3*ACK*7**8~", "IK4*1*668*7*ZZ~",
		"IK5*R*5~", "AK2*855*0002~", "IK5*A~", "AK9*P*2*2*1~", "SE*10*0001~", "GE*1*1~", "IEA*1*000000001~",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ack lacks %q:\n%s", want, out)
		}
	}
	// The acknowledgement validates with our own validator.
	ackFile := writeFile(t, "ack.edi", out)
	if code, out, _ := run(t, "", "validate", "--quiet", ackFile); code != 0 {
		t.Errorf("our 999 does not validate: %s", out)
	}
	// 004010 gets a 997, and ISA14=1 a TA1; --999 overrides the choice.
	good := repo(t, "testdata", "x12", "850-004010-acme.edi")
	_, out, _ = run(t, "", "ack", good)
	for _, want := range []string{"TA1*000000101*261120*0930*A*000~", "ST*997*0001~", "AK1*PO*101~", "AK5*A~", "AK9*A*1*1*1~"} {
		if !strings.Contains(out, want) {
			t.Errorf("997 lacks %q:\n%s", want, out)
		}
	}
	_, out, _ = run(t, "", "ack", "--999", good)
	if !strings.Contains(out, "ST*999*0001*005010X231A1~") {
		t.Errorf("--999 did not give a 999:\n%s", out)
	}
}

func TestInspect(t *testing.T) {
	bad := repo(t, "testdata", "x12", "855-005010-broken.edi")
	code, out, _ := run(t, "", "inspect", bad)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"Interchange 000000731 at offset 0: ZZ:BETAPARTS → ZZ:EDIGATEDIST, version 00501",
		"Group 731 (PR) BETAPARTS → EDIGATEDIST, version 005010",
		"BAK03 324 Purchase Order Number = \"4500012346\"",
		"[loop ACK]",
		"!! error at offset 345 ACK01: element ACK01 (Line Item Status Code) is \"ZZ\", not a valid code [element 7]",
		"Set 855 0001: rejected (11 segments)",
		"Set 855 0002: accepted (6 segments)",
		"Group 731: partially accepted, 1 of 2 sets accepted",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

func TestSchemaCommand(t *testing.T) {
	code, out, _ := run(t, "", "schema", "po_acknowledgement")
	if code != 0 || !strings.Contains(out, `"const": "po_acknowledgement"`) {
		t.Errorf("exit %d: %s", code, out)
	}
	if code, _, errs := run(t, "", "schema", "nope"); code != 2 || !strings.Contains(errs, "no JSON Schema") {
		t.Errorf("unknown kind: exit %d, %s", code, errs)
	}
}
