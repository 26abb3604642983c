package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
)

// TestServePurchasing: the ERP drops an export in the watched folder; the
// gateway sends the 850 to the supplier's outbound folder; the supplier's
// 855 changes a quantity; the exception shows in the API with the PO's
// document chain; a buyer accepts it and the decision reaches the ERP's
// outbox; the report command writes the day's report, which the API lists.
func TestServePurchasing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the gateway")
	}
	w := newWorld(t)
	cfg := filepath.Join(w.dir, "edigate.yaml")
	os.WriteFile(cfg, []byte("schedules:\n  erp_pull: \"@every 1s\"\n  reconcile: []\n  report: \"\"\n"), 0o644)
	w.env = append(w.env, "EDIGATE_CONFIG="+cfg)
	w.start(t)
	tok := w.token(t)

	inbox := filepath.Join(w.data, "erp", "inbox")
	os.MkdirAll(inbox, 0o755)
	export := "partner,po_number,po_date,line_number,buyer_item,vendor_item,quantity,uom,unit_price,requested_date\n" +
		"tester,PO000000501,2026-11-25,1,SKU-1,T-1,12,EA,2.50,2026-12-01\n" +
		"tester,PO000000502,2026-11-25,1,SKU-2,,,EA,1.00,2026-12-01\n" // no quantity: refused, the other PO kept
	// Written under a temporary name and renamed, as an ERP export job should.
	os.WriteFile(filepath.Join(inbox, ".open-pos.csv.tmp"), []byte(export), 0o644)
	os.Rename(filepath.Join(inbox, ".open-pos.csv.tmp"), filepath.Join(inbox, "open-pos.csv"))

	outbound := filepath.Join(w.data, "sftp", "tester", "outbound")
	var sent []string
	waitFor(t, "the 850 in the supplier's outbound folder", 20*time.Second, func() bool {
		sent, _ = filepath.Glob(filepath.Join(outbound, "850_PO000000501_*.x12"))
		return len(sent) == 1
	})
	if code, out, errs := run(t, "", "validate", sent[0]); code != 0 {
		t.Fatalf("our 850 does not validate: %s %s", out, errs)
	}
	if _, err := os.Stat(filepath.Join(inbox, "done", "open-pos.csv")); err != nil {
		t.Errorf("the export was not moved to done/: %v", err)
	}
	log, _ := os.ReadFile(filepath.Join(w.dir, "serve.log"))
	if !strings.Contains(string(log), "open-pos.csv:3: column quantity") {
		t.Errorf("the refused row is not logged with file, line and column:\n%s", grepLines(log, "erp"))
	}

	// The refused row is listed with the import run, for the EDI team.
	code, b := w.api(t, tok, "GET", "/api/v1/erp/imports", nil)
	var imports struct {
		Imports []gateway.ImportRun `json:"imports"`
	}
	json.Unmarshal(b, &imports)
	if code != http.StatusOK || len(imports.Imports) != 1 || imports.Imports[0].Source != "erp pull: open-pos.csv" || imports.Imports[0].Created != 1 || imports.Imports[0].Sent != 1 ||
		len(imports.Imports[0].Problems) != 1 || !strings.Contains(imports.Imports[0].Problems[0], "open-pos.csv:3: column quantity: missing value") {
		t.Fatalf("imports: %d %s", code, b)
	}

	// The supplier acknowledges 10 of the 12 ordered.
	if code, b := w.api(t, tok, "POST", "/api/v1/messages?partner=tester&filename=855.edi", interchange(501)); code != http.StatusCreated {
		t.Fatalf("855 upload: %d %s", code, b)
	}
	var list struct {
		Exceptions []gateway.Exception `json:"exceptions"`
		Total      int                 `json:"total"`
	}
	waitFor(t, "the quantity exception", 20*time.Second, func() bool {
		_, b := w.api(t, tok, "GET", "/api/v1/exceptions?partner=tester&rule=ack_quantity_changed", nil)
		json.Unmarshal(b, &list)
		return list.Total == 1
	})
	e := list.Exceptions[0]
	if e.PONumber != "PO000000501" || e.LineNumber != "1" || e.Expected != "12 EA" || e.Actual != "10 EA" || e.Status != "open" {
		t.Fatalf("exception: %+v", e)
	}

	code, b = w.api(t, tok, "GET", "/api/v1/purchase-orders/"+gateway.OrderID("tester", "PO000000501"), nil)
	var po struct {
		Lines     []gateway.OrderLine `json:"lines"`
		Sent850   *gateway.SentOrder  `json:"sent_850"`
		Documents []struct {
			Set string `json:"set"`
		} `json:"documents"`
		Open []gateway.Exception `json:"open_exceptions"`
	}
	json.Unmarshal(b, &po)
	if code != http.StatusOK || len(po.Lines) != 1 || po.Sent850 == nil || len(po.Documents) != 1 || po.Documents[0].Set != "855" || len(po.Open) != 1 {
		t.Fatalf("purchase order: %d %s", code, b)
	}

	code, b = w.api(t, tok, "POST", "/api/v1/exceptions/"+e.ID+"/accept", []byte(`{"comment":"10 is enough"}`))
	if code != http.StatusOK || !strings.Contains(string(b), `"status":"accepted"`) || !strings.Contains(string(b), `"actor":"tests"`) {
		t.Fatalf("accept: %d %s", code, b)
	}
	var decisions []string
	waitFor(t, "the decision in the ERP outbox", 10*time.Second, func() bool {
		decisions, _ = filepath.Glob(filepath.Join(w.data, "erp", "outbox", "decisions-*.jsonl"))
		return len(decisions) == 1
	})
	d, _ := os.ReadFile(decisions[0])
	if !strings.Contains(string(d), `"decision":"accepted"`) || !strings.Contains(string(d), e.ID) {
		t.Fatalf("decision file: %s", d)
	}

	// The report command, beside the running gateway.
	cmd := exec.Command(edigateBinary(t), "report", "--date", time.Now().UTC().Format(time.DateOnly))
	cmd.Env = w.env
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), ".html") {
		t.Fatalf("edigate report: %v\n%s", err, out)
	}
	code, b = w.api(t, tok, "GET", "/api/v1/reports", nil)
	if code != http.StatusOK || !strings.Contains(string(b), "report-"+time.Now().UTC().Format(time.DateOnly)+".html") {
		t.Fatalf("reports: %d %s", code, b)
	}
}

// TestERPCommands: erp import, reconcile and report from the command line,
// on the demo partners and the reconciliation scenario's export.
func TestERPCommands(t *testing.T) {
	data := t.TempDir()
	t.Setenv("EDIGATE_DATA", data)
	t.Setenv("EDIGATE_PARTNERS", repo(t, "partners"))
	t.Setenv("EDIGATE_MAPPINGS", repo(t, "mappings"))
	t.Setenv("EDIGATE_CONFIG", "")
	export := repo(t, "testdata", "reconciliation", "orders.csv")

	code, out, errs := run(t, "", "erp", "import", export)
	if code != 0 || !strings.Contains(out, "imported: 5 new, 0 changed, 0 unchanged purchase orders; 5 850s sent") {
		t.Fatalf("erp import: %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = run(t, "", "erp", "import", export)
	if code != 0 || !strings.Contains(out, "imported: 0 new, 0 changed, 5 unchanged purchase orders; 0 850s sent") {
		t.Fatalf("erp import again: %d %s", code, out)
	}
	bad := writeFile(t, "bad.csv", "partner,po_number,po_date,line_number,buyer_item,vendor_item,quantity,uom,unit_price,requested_date\n"+
		"acme,4500012345,2026-11-20,1,SKU-10001,,120,EA,9.25,2026-12-04\n"+
		"acme,4500012345,2026-11-20,2,SKU-10002,,many,EA,3.45,2026-12-04\n")
	code, out, errs = run(t, "", "erp", "import", bad)
	// The PO with a bad row is held back whole: it keeps its stored lines.
	if code != 1 || !strings.Contains(errs, "bad.csv:3: column quantity") || !strings.Contains(errs, "held back: PO 4500012345 of acme") || !strings.Contains(out, "0 new, 0 changed, 0 unchanged") {
		t.Fatalf("bad row: %d\n%s\n%s", code, out, errs)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"erp"}, 2, "usage"},
		{[]string{"erp", "import"}, 2, "usage"},
		{[]string{"erp", "import", "/nonexistent.csv"}, 1, "no such file"},
		{[]string{"erp", "export"}, 2, "usage"},
		{[]string{"report", "--date", "2026-13-01"}, 2, "not YYYY-MM-DD"},
		{[]string{"reconcile", "extra"}, 2, "usage"},
	} {
		code, _, errs := run(t, "", tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
	code, out, errs = run(t, "", "reconcile", "--json")
	var res gateway.ApplyResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("reconcile: %d %s %s", code, out, errs)
	}
	code, out, _ = run(t, "", "reconcile")
	if code != 0 || out != "reconciled: 0 raised, 0 updated, 0 reopened, 0 cleared\n" {
		t.Fatalf("reconcile again: %d %q", code, out)
	}
	code, out, errs = run(t, "", "report", "--date", "2026-11-20")
	if code != 0 || !strings.Contains(out, filepath.Join(data, "reports", "report-2026-11-20.html")) {
		t.Fatalf("report: %d %s %s", code, out, errs)
	}
}

// TestAS2Leniencies: a partner's named AS2 leniencies reach the client;
// an unknown one is refused with its position.
func TestAS2Leniencies(t *testing.T) {
	dir := t.TempDir()
	pdir := filepath.Join(dir, "partners")
	os.MkdirAll(pdir, 0o755)
	yaml := "id: peer\nx12: {isa: \"ZZ:PEER\", version: \"004010\"}\ntransports:\n  as2:\n    id: PEER-AS2\n    leniencies: [%s]\n"
	os.WriteFile(filepath.Join(pdir, "peer.yaml"), []byte(strings.ReplaceAll(yaml, "%s", "libas2-mdn-crlf")), 0o644)
	cfg := DefaultConfig()
	cfg.DataDir, cfg.PartnersDir, cfg.MappingsDir = filepath.Join(dir, "data"), pdir, repo(t, "mappings")
	db, err := openStore(cfg, newLogger("text", io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w, err := wire(cfg, db, newLogger("text", io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.client.Lenient["peer"]; len(got) != 1 || got[0] != "libas2-mdn-crlf" {
		t.Fatalf("client leniencies: %v", w.client.Lenient)
	}
	os.WriteFile(filepath.Join(pdir, "peer.yaml"), []byte(strings.ReplaceAll(yaml, "%s", "lax-signatures")), 0o644)
	if _, err := wire(cfg, db, newLogger("text", io.Discard)); err == nil || !strings.Contains(err.Error(), `peer.yaml:6:`) || !strings.Contains(err.Error(), `leniency "lax-signatures"`) {
		t.Fatalf("unknown leniency: %v", err)
	}
}
