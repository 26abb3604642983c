package purchasing

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/gateway/erp"
	"github.com/edigate/edigate/gateway/intake"
	"github.com/edigate/edigate/gateway/sftp"
	"github.com/edigate/edigate/gateway/sqlite"
	"github.com/edigate/edigate/gateway/translate"
	"github.com/edigate/edigate/mappings"
	"github.com/edigate/edigate/partners"
	"github.com/edigate/edigate/translators/x12"
)

var update = flag.Bool("update", false, "rewrite testdata/reconciliation/exceptions.golden")

// moduleRoot is the repository's root: tests run in their package's folder.
func moduleRoot(tb testing.TB) string {
	tb.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// clock is a settable clock shared by the store and the services.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

type storeAlloc struct{ db *sqlite.DB }

func (a storeAlloc) NextControl(partner, kind string) (int64, error) {
	return a.db.NextControl(partner, kind)
}

// world is a gateway without its listeners: the store, the translator,
// the SFTP outbox as every partner's transport, the ERP file connector,
// the intake pipeline and the purchasing service, on one clock.
type world struct {
	root, data string
	clk        *clock
	db         *sqlite.DB
	dir        *partners.Directory
	svc        *Service
	pipe       *intake.Pipeline
	inbox      string
	erpOutbox  string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{root: moduleRoot(t), data: t.TempDir(), clk: &clock{t: time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)}}
	var err error
	if w.db, err = sqlite.Open(w.data, sqlite.WithNow(w.clk.Now)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.db.Close() })
	reg := x12.MustLoadRegistry()
	if w.dir, err = partners.LoadDir(filepath.Join(w.root, "partners")); err != nil {
		t.Fatal(err)
	}
	tr := &translate.Translator{
		Registry: reg, Partners: w.dir, Library: &mappings.Library{Dir: filepath.Join(w.root, "mappings"), Registry: reg},
		UsQual: "ZZ", UsID: "EDIGATE", UsGS: "EDIGATE", Alloc: storeAlloc{w.db}, Now: w.clk.Now,
	}
	outbox := &sftp.Outbox{Root: filepath.Join(w.data, "sftp"), Partners: w.dir}
	senderFor := func(*partners.Partner) gateway.Sender { return outbox }
	w.inbox = filepath.Join(w.data, "erp", "inbox")
	w.erpOutbox = filepath.Join(w.data, "erp", "outbox")
	if err := os.MkdirAll(w.inbox, 0o750); err != nil {
		t.Fatal(err)
	}
	w.svc = &Service{
		Store: w.db, Partners: w.dir, Translator: tr, SenderFor: senderFor,
		Connector: &erp.FileConnector{Inbox: w.inbox, Outbox: w.erpOutbox, Now: w.clk.Now},
		ReportDir: filepath.Join(w.data, "reports"),
	}
	w.pipe = &intake.Pipeline{Store: w.db, Translator: tr, SenderFor: senderFor, Arrived: w.svc.Arrived, Now: w.clk.Now,
		Logger: slog.New(slog.DiscardHandler)}
	w.pipe.Init()
	return w
}

// receive stores a partner's file as a transport would and processes the queue.
func (w *world) receive(t *testing.T, partner, file string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := w.db.Receive(context.Background(), gateway.Receipt{Partner: partner, Transport: gateway.TransportSFTP, Filename: filepath.Base(file)}, f); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
}

func (w *world) drain(t *testing.T) {
	t.Helper()
	for {
		did, err := w.pipe.ProcessOne(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !did {
			return
		}
	}
}

// exceptionLines renders exceptions one per line, sorted, for the golden file.
func exceptionLines(t *testing.T, db *sqlite.DB) []string {
	t.Helper()
	var lines []string
	err := db.AllExceptions(context.Background(), func(e *gateway.Exception) error {
		line := e.LineNumber
		if line == "" {
			line = "-"
		}
		lines = append(lines, fmt.Sprintf("%s %s line %s %s [%s, %s]: expected %s, actual %s", e.Partner, e.PONumber, line, e.Rule, e.Severity, e.Status, e.Expected, e.Actual))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return lines
}

// TestScenario runs the reconciliation scenario of testdata/reconciliation:
// an ERP export, the 850s it sends, the partners' 997/999s, 855s, 856s and
// 810s (the demo partners' samples), then a full pass days later. The
// exceptions must be exactly those of exceptions.golden; replaying every
// message and reconciling again must change nothing.
func TestScenario(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	td := filepath.Join(w.root, "testdata", "reconciliation")

	// The ERP drops its export of open purchase orders in the watched folder.
	export, err := os.ReadFile(filepath.Join(td, "orders.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.inbox, "open-pos-20261120.csv"), export, 0o640); err != nil {
		t.Fatal(err)
	}
	rep, err := w.svc.Pull(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 5 || len(rep.Sent) != 5 || len(rep.Problems) != 0 || len(rep.SendErrors) != 0 {
		t.Fatalf("import: %+v", rep)
	}
	// One 850 per order, in each partner's outbound folder, valid by our own validator.
	reg := x12.MustLoadRegistry()
	for partner, want := range map[string]int{"acme": 2, "betaparts": 1, "gammatools": 2} {
		files, _ := filepath.Glob(filepath.Join(w.data, "sftp", partner, "outbound", "850_*.x12"))
		if len(files) != want {
			t.Fatalf("%s: %d 850s in the outbox, want %d", partner, len(files), want)
		}
		for _, f := range files {
			b, _ := os.ReadFile(f)
			var problems []string
			if err := (&x12.Validator{Registry: reg}).Validate(bytes.NewReader(b), x12.Events{Issue: func(e *x12.ParseError) {
				if e.Severity == x12.SeverityError {
					problems = append(problems, e.Error())
				}
			}}); err != nil || len(problems) > 0 {
				t.Fatalf("%s does not validate: %v %v", f, err, problems)
			}
		}
	}
	// Pulling again finds nothing new: the export was moved to done/.
	if rep, err := w.svc.Pull(ctx); err != nil || rep.Created+rep.Changed != 0 {
		t.Fatalf("second pull: %+v %v", rep, err)
	}

	// The next morning the partners answer.
	w.clk.Set(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	inbound := []struct{ partner, file string }{
		{"acme", filepath.Join(td, "997-acme-our-850.edi")},
		{"betaparts", filepath.Join(td, "999-betaparts-our-850.edi")},
		{"acme", filepath.Join(w.root, "partners", "acme", "samples", "855-4500012345.edi")},
		{"acme", filepath.Join(w.root, "partners", "acme", "samples", "856-ASN88123.edi")},
		{"acme", filepath.Join(w.root, "partners", "acme", "samples", "810-A770412.edi")},
		{"betaparts", filepath.Join(w.root, "partners", "betaparts", "samples", "855-4500012400.edi")},
		{"betaparts", filepath.Join(w.root, "partners", "betaparts", "samples", "856-BP-ASN-30077.edi")},
		{"gammatools", filepath.Join(w.root, "partners", "gammatools", "samples", "810-GT118850.edi")},
		{"gammatools", filepath.Join(w.root, "partners", "gammatools", "samples", "810-batch-GT118803-04.edi")},
		{"acme", filepath.Join(td, "855-acme-4500012399-rejected.edi")},
		{"betaparts", filepath.Join(td, "855-betaparts-unknown-po.edi")},
	}
	for _, in := range inbound {
		w.receive(t, in.partner, in.file)
	}
	// The day after, acme ships more of line 2 and an item not ordered,
	// and sends its invoice again.
	w.clk.Set(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	w.receive(t, "acme", filepath.Join(td, "856-acme-second-shipment.edi"))
	w.receive(t, "acme", filepath.Join(td, "810-acme-duplicate.edi"))
	msgs, err := w.db.Messages(ctx, gateway.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.State != gateway.StateTranslated {
			t.Fatalf("message %s (%s) is %s: %v", m.ID, m.Filename, m.State, m.Errors)
		}
	}
	if s, _ := w.db.SentFor(ctx, "acme", "4500012345"); s.AckStatus != gateway.SentAccepted {
		t.Fatalf("acme's 997 was not matched to our 850: %+v", s)
	}
	if s, _ := w.db.SentFor(ctx, "betaparts", "4500012400"); s.AckStatus != gateway.SentRejected {
		t.Fatalf("betaparts' 999 was not matched to our 850: %+v", s)
	}

	// Weeks later, the nightly full pass.
	w.clk.Set(time.Date(2026, 12, 10, 2, 0, 0, 0, time.UTC))
	if _, err := w.svc.Reconcile(ctx, gateway.Scope{All: true}); err != nil {
		t.Fatal(err)
	}
	got := exceptionLines(t, w.db)
	golden := filepath.Join(td, "exceptions.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantB, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSuffix(string(wantB), "\n"), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("exceptions differ from %s (go test -update rewrites it)\n got:\n%s\nwant:\n%s", golden, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	t.Run("replay changes nothing", func(t *testing.T) {
		for _, m := range msgs {
			if err := w.db.Requeue(ctx, m.ID); err != nil {
				t.Fatal(err)
			}
		}
		w.drain(t)
		res, err := w.svc.Reconcile(ctx, gateway.Scope{All: true})
		if err != nil {
			t.Fatal(err)
		}
		if res != (gateway.ApplyResult{}) {
			t.Fatalf("replay and rerun changed exceptions: %+v", res)
		}
		if again := exceptionLines(t, w.db); strings.Join(again, "\n") != strings.Join(got, "\n") {
			t.Fatalf("exceptions after replay:\n%s", strings.Join(again, "\n"))
		}
		// Re-importing the same export changes nothing either.
		if err := os.WriteFile(filepath.Join(w.inbox, "open-pos-again.csv"), export, 0o640); err != nil {
			t.Fatal(err)
		}
		rep, err := w.svc.Pull(ctx)
		if err != nil || rep.Created+rep.Changed != 0 || rep.Unchanged != 5 || len(rep.Sent) != 0 {
			t.Fatalf("re-import: %+v %v", rep, err)
		}
	})

	t.Run("decisions reach the ERP", func(t *testing.T) {
		list, _, err := w.db.Exceptions(ctx, gateway.ExceptionFilter{Partner: "acme", Rule: "ack_quantity_changed"})
		if err != nil || len(list) != 1 {
			t.Fatalf("acme quantity change: %v %v", list, err)
		}
		if _, err := w.db.ActOnException(ctx, list[0].ID, gateway.ExceptionAction{Action: "accept", Actor: "buyer1", Comment: "48 is fine"}); err != nil {
			t.Fatal(err)
		}
		n, err := w.svc.ExportDecisions(ctx)
		if err != nil || n != 1 {
			t.Fatalf("exported %d decisions: %v", n, err)
		}
		files, _ := filepath.Glob(filepath.Join(w.erpOutbox, "decisions-*.csv"))
		if len(files) != 1 {
			t.Fatalf("decision files: %v", files)
		}
		f, _ := os.Open(files[0])
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("decisions CSV: %v %v", rows, err)
		}
		row := strings.Join(rows[1], ",")
		for _, want := range []string{list[0].ID, "ack_quantity_changed", "acme", "4500012345", "accepted", "buyer1", "48 is fine"} {
			if !strings.Contains(row, want) {
				t.Errorf("decision row %q lacks %q", row, want)
			}
		}
		if n, _ := w.svc.ExportDecisions(ctx); n != 0 {
			t.Fatalf("exported again: %d", n)
		}
	})

	t.Run("report", func(t *testing.T) {
		r, err := w.svc.ComputeReport(ctx, time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		rows := map[string]string{}
		for _, s := range r.Suppliers {
			b, _ := json.Marshal(s)
			rows[s.Partner] = string(b)
			switch s.Partner {
			case "acme":
				// Two POs sent at 11-20 15:00, both acknowledged at 11-21 09:00 (18h, within acme's 24h).
				if s.POsSent != 2 || s.Acknowledged != 2 || s.AckedOnTime != 2 || s.AckLatencyP50 != 18*time.Hour || s.AckLatencyP90 != 18*time.Hour {
					t.Errorf("acme: %s", rows[s.Partner])
				}
				// The second ship notice over-ships and ships an item not ordered;
				// the second invoice repeats the first's number.
				if s.ShipNotices != 2 || s.ShipNoticesAccurate != 1 || s.Invoices != 2 || s.InvoicesMatched != 1 {
					t.Errorf("acme documents: %s", rows[s.Partner])
				}
				// Open at the end of 12-10, all raised at 11-21 09:00 or 12-10 02:00
				// (the quantity change was accepted in the test above):
				// backordered, date, over-shipped, unknown item, duplicate, fa_missing, rejected.
				if s.OpenByAge != [4]int{0, 0, 0, 7} || s.SLABreaches != 1 {
					t.Errorf("acme exceptions: %s", rows[s.Partner])
				}
			case "betaparts":
				// 18h, within betaparts' 48h; its ship notice over-ships nothing.
				if s.POsSent != 1 || s.Acknowledged != 1 || s.AckedOnTime != 1 || s.ShipNotices != 1 {
					t.Errorf("betaparts: %s", rows[s.Partner])
				}
			case "gammatools":
				// Two POs, no 855s; three invoices, none matched (nothing shipped, one PO unknown).
				if s.POsSent != 2 || s.Acknowledged != 0 || s.Invoices != 3 || s.InvoicesMatched != 0 {
					t.Errorf("gammatools: %s", rows[s.Partner])
				}
			}
		}
		if len(rows) != 3 {
			t.Fatalf("suppliers: %v", rows)
		}
		// 28 open at the end of 12-10 (29 raised, one accepted): the SLA
		// breaches of gammatools' two POs raised by the nightly pass are
		// hours old, everything else was raised on 11-21 or 11-22.
		if r.Aging != [4]int{4, 0, 0, 24} {
			t.Errorf("aging: %v", r.Aging)
		}
		byRule := map[string]int{}
		for _, rd := range r.ExceptionsByRule {
			if rd.Count > 0 {
				byRule[rd.Day+" "+rd.Rule] += rd.Count
			}
		}
		if want := map[string]int{"2026-12-10 ack_missing": 2, "2026-12-10 asn_missing": 2}; !reflect.DeepEqual(byRule, want) {
			t.Errorf("exceptions by rule over the 14 days to 12-10: %v", byRule)
		}
		if r.Totals.POsSent != 5 || r.Totals.SLABreaches != 7 {
			t.Errorf("totals: %+v", r.Totals)
		}
		files, err := w.svc.Report(ctx, time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC))
		if err != nil || len(files) != 4 {
			t.Fatalf("report files: %v %v", files, err)
		}
	})
}

// TestSendOnce: an 850 goes out once however many callers try, a send
// the transport refused is retried after the lease with the same bytes,
// and an order of a partner without a partner file gets none.
func TestSendOnce(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	orders := []gateway.Order{
		{Partner: "acme", PONumber: "PO-1", PODate: "2026-11-20", Lines: []gateway.OrderLine{{LineNumber: "1", BuyerItem: "SKU-10001", Quantity: "12", UOM: "EA", UnitPrice: "9.25"}}},
		{Partner: "nobody", PONumber: "PO-2", PODate: "2026-11-20", Lines: []gateway.OrderLine{{LineNumber: "1", Quantity: "1", UOM: "EA"}}},
	}
	// The transport fails: acme's outbound folder cannot be created.
	outbound := filepath.Join(w.data, "sftp", "acme", "outbound")
	if err := os.MkdirAll(filepath.Dir(outbound), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(outbound, []byte("in the way"), 0o640); err != nil {
		t.Fatal(err)
	}
	rep, err := w.svc.Import(ctx, "erp.csv", orders, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Sent) != 0 || len(rep.SendErrors) != 1 || !strings.Contains(rep.SendErrors[0], "partner acme PO PO-1") {
		t.Fatalf("import with a failing transport: %+v", rep)
	}
	claimed, err := w.db.SentFor(ctx, "acme", "PO-1")
	if err != nil || claimed.AckStatus != gateway.SentSending || claimed.Interchange == "" {
		t.Fatalf("the failed 850 is not kept claimed with its control numbers: %+v %v", claimed, err)
	}
	if _, err := w.db.SentFor(ctx, "nobody", "PO-2"); !errors.Is(err, gateway.ErrNotFound) {
		t.Fatalf("an 850 was claimed for a partner without a partner file: %v", err)
	}
	// Nothing is owed for an 850 that has not gone out.
	if _, err := w.svc.Reconcile(ctx, gateway.Scope{All: true}); err != nil {
		t.Fatal(err)
	}
	if lines := exceptionLines(t, w.db); len(lines) != 0 {
		t.Fatalf("exceptions for an 850 not sent: %q", lines)
	}

	// The transport is back; within the lease nobody else retries.
	os.Remove(outbound)
	if sent, errs := w.svc.RetrySends(ctx); len(sent)+len(errs) != 0 {
		t.Fatalf("retried within the lease: %v %v", sent, errs)
	}
	w.clk.Set(w.clk.Now().Add(sendLease + time.Second))
	// Several retries at once (two gateway processes, overlapping jobs): one sends.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var all []string
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent, errs := w.svc.RetrySends(ctx)
			if len(errs) > 0 {
				t.Error(errs)
			}
			mu.Lock()
			all = append(all, sent...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(all) != 1 {
		t.Fatalf("sent %d times: %v", len(all), all)
	}
	files, _ := filepath.Glob(filepath.Join(outbound, "850_*.x12"))
	if len(files) != 1 || filepath.Base(files[0]) != claimed.Filename {
		t.Fatalf("outbound: %v, want %s (the bytes written the first time)", files, claimed.Filename)
	}
	got, _ := os.ReadFile(files[0])
	if s, _ := w.db.SentFor(ctx, "acme", "PO-1"); s.AckStatus != gateway.SentPending || !bytes.Contains(got, []byte("*"+claimed.Interchange+"*")) && !bytes.Contains(got, []byte("|"+claimed.Interchange+"|")) {
		t.Fatalf("after the retry: %+v\n%s", s, got)
	}
	// Importing the same order again, changed or not, sends nothing.
	orders[0].Lines[0].Quantity = "13"
	if rep, err := w.svc.Import(ctx, "erp-again.csv", orders[:1], nil); err != nil || len(rep.Sent)+len(rep.SendErrors) != 0 || rep.Changed != 1 {
		t.Fatalf("imported again: %+v %v", rep, err)
	}
	if files, _ := filepath.Glob(filepath.Join(outbound, "850_*.x12")); len(files) != 1 {
		t.Fatalf("sent again: %v", files)
	}
}
