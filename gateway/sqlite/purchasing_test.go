package sqlite

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/translators/canonical"
)

func testOrder(po string, qty string) gateway.Order {
	return gateway.Order{Partner: "acme", PONumber: po, PODate: "2025-03-01", Lines: []gateway.OrderLine{
		{LineNumber: "1", BuyerItem: "SKU-1", Quantity: qty, UOM: "EA", UnitPrice: "12.50", RequestedDate: "2025-03-10"},
	}}
}

func TestImportOrders(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := MustOpenDB(t, WithNow(clk.Now))

	res, err := db.ImportOrders(ctx, "export-1.csv", []gateway.Order{testOrder("PO-1", "10"), testOrder("PO-2", "5")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 2 || res.Changed != 0 || res.Unchanged != 0 {
		t.Fatalf("first import: %+v", res)
	}
	clk.Add(time.Hour)
	res, err = db.ImportOrders(ctx, "export-1.csv", []gateway.Order{testOrder("PO-1", "10"), testOrder("PO-2", "5")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 0 || res.Changed != 0 || res.Unchanged != 2 || len(res.Orders) != 0 {
		t.Fatalf("re-import changed something: %+v", res)
	}
	res, err = db.ImportOrders(ctx, "export-2.csv", []gateway.Order{testOrder("PO-1", "12")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed != 1 || !reflect.DeepEqual(res.Orders, []string{"po_acme.PO-1"}) {
		t.Fatalf("changed import: %+v", res)
	}
	o, err := db.Order(ctx, "po_acme.PO-1")
	if err != nil {
		t.Fatal(err)
	}
	if o.Version != 2 || o.Lines[0].Quantity != "12" || o.Source != "export-2.csv" || !o.ImportedAt.Before(o.UpdatedAt) {
		t.Fatalf("order after change: %+v", o)
	}
	hist, err := db.OrderHistory(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Lines[0].Quantity != "10" || hist[1].Lines[0].Quantity != "12" || hist[0].Source != "export-1.csv" {
		t.Fatalf("history: %+v", hist)
	}
	list, err := db.Orders(ctx, gateway.OrderFilter{Partner: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].PONumber != "PO-1" || list[1].PONumber != "PO-2" {
		t.Fatalf("orders: %+v", list)
	}
	if list, _ := db.Orders(ctx, gateway.OrderFilter{PONumber: "PO-2"}); len(list) != 1 {
		t.Fatalf("orders by PO number: %d", len(list))
	}
	_, err = db.Order(ctx, "po_acme.nope")
	wantNotFound(t, "order", err)
	if _, err := db.ImportOrders(ctx, "bad.csv", []gateway.Order{{PONumber: "X"}}); gateway.ErrorCode(err) != gateway.EINVALID {
		t.Fatalf("order without partner: %v", err)
	}
}

func TestSentOrders(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := MustOpenDB(t, WithNow(clk.Now))
	if err := db.RecordSent(ctx, gateway.SentOrder{Partner: "acme", PONumber: "PO-1", Filename: "850.x12",
		Interchange: "000000001", Group: "1", Transaction: "0001"}); err != nil {
		t.Fatal(err)
	}
	s, err := db.SentFor(ctx, "acme", "PO-1")
	if err != nil {
		t.Fatal(err)
	}
	if s.AckStatus != gateway.SentPending || !s.SentAt.Equal(clk.Now()) {
		t.Fatalf("sent: %+v", s)
	}
	// 997s carry control numbers as the partner writes them: zero padding differs.
	_, err = db.MatchFunctionalAck(ctx, "globex", "1", "0001", "A", nil, "msg_x")
	wantNotFound(t, "another partner's control numbers", err)
	got, err := db.MatchFunctionalAck(ctx, "acme", "000000001", "1", "R", []string{"5"}, "msg_997")
	if err != nil {
		t.Fatal(err)
	}
	if got.PONumber != "PO-1" || got.AckStatus != gateway.SentRejected || !reflect.DeepEqual(got.AckCodes, []string{"5"}) || got.AckMessageID != "msg_997" {
		t.Fatalf("matched: %+v", got)
	}
	all, err := db.SentOrders(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("SentOrders: %v %v", all, err)
	}
	// A claim made with the import has no control numbers yet: a 997
	// for group 0 / set 000 must not match it.
	res, err := db.ImportOrdersClaiming(ctx, "erp.csv", []gateway.Order{testOrder("PO-2", "1")}, func(p string) bool { return p == "acme" })
	if err != nil || len(res.New) != 1 {
		t.Fatal(res, err)
	}
	if c, err := db.SentFor(ctx, "acme", "PO-2"); err != nil || c.AckStatus != gateway.SentSending || c.Interchange != "" {
		t.Fatalf("claim: %+v %v", c, err)
	}
	_, err = db.MatchFunctionalAck(ctx, "acme", "0", "000", "A", nil, "msg_x")
	wantNotFound(t, "an unprepared claim", err)
	// A verdict that arrives before the send is recorded is kept.
	if err := db.PrepareSend(ctx, gateway.SentOrder{Partner: "acme", PONumber: "PO-2", Filename: "f", Interchange: "000000009", Group: "9", Transaction: "0009", Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MatchFunctionalAck(ctx, "acme", "9", "0009", "A", nil, "msg_997"); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordSent(ctx, gateway.SentOrder{Partner: "acme", PONumber: "PO-2", Filename: "f", Interchange: "000000009", Group: "9", Transaction: "0009", AckStatus: gateway.SentPending}); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.SentFor(ctx, "acme", "PO-2"); c.AckStatus != gateway.SentAccepted {
		t.Fatalf("the early 997's verdict was overwritten: %+v", c)
	}
}

func finding(rule, po, line, actual string) gateway.Finding {
	return gateway.Finding{Key: rule + "|acme|" + po + "|" + line, Rule: rule, Partner: "acme", PONumber: po,
		LineNumber: line, Expected: "10 EA", Actual: actual, Severity: gateway.SeverityWarning, Message: "m"}
}

func TestApplyFindings(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := MustOpenDB(t, WithNow(clk.Now))
	scope := gateway.Scope{Orders: []gateway.PartnerPO{{Partner: "acme", PONumber: "PO-1"}}}
	qty := finding("ack_quantity_changed", "PO-1", "1", "8 EA")
	price := finding("ack_price_changed", "PO-1", "2", "13.00")

	check := func(what string, got gateway.ApplyResult, err error, want gateway.ApplyResult) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got != want {
			t.Fatalf("%s: got %+v, want %+v", what, got, want)
		}
	}
	res, err := db.ApplyFindings(ctx, scope, []gateway.Finding{qty, price}, "")
	check("first pass", res, err, gateway.ApplyResult{Raised: 2})
	res, err = db.ApplyFindings(ctx, scope, []gateway.Finding{qty, price}, "")
	check("rerun", res, err, gateway.ApplyResult{})
	list, total, err := db.Exceptions(ctx, gateway.ExceptionFilter{})
	if err != nil || total != 2 || len(list) != 2 {
		t.Fatalf("exceptions: %d/%d %v", len(list), total, err)
	}
	qe := list[0]
	if qe.Rule != "ack_quantity_changed" || qe.Status != gateway.ExceptionOpen || len(qe.History) != 1 || qe.History[0].Action != "raised" || qe.History[0].Actor != "reconciliation" {
		t.Fatalf("raised exception: %+v", qe)
	}

	// The buyer accepts the quantity change; the ERP gets the decision.
	clk.Add(time.Hour)
	e, err := db.ActOnException(ctx, qe.ID, gateway.ExceptionAction{Action: "accept", Actor: "buyer1", Comment: "ok, 8 it is"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != gateway.ExceptionAccepted || len(e.History) != 2 || e.History[1].From != "open" || e.History[1].To != "accepted" || e.History[1].Actor != "buyer1" {
		t.Fatalf("accepted: %+v", e)
	}
	if _, err := db.ActOnException(ctx, qe.ID, gateway.ExceptionAction{Action: "accept", Actor: "buyer1"}); gateway.ErrorCode(err) != gateway.ECONFLICT {
		t.Fatalf("accepting twice: %v", err)
	}
	decs, err := db.PendingDecisions(ctx)
	if err != nil || len(decs) != 1 || decs[0].Decision != "accepted" || decs[0].Actual != "8 EA" || decs[0].Comment != "ok, 8 it is" {
		t.Fatalf("pending decisions: %+v %v", decs, err)
	}
	if err := db.MarkDecisionsExported(ctx, []int64{decs[0].Event}); err != nil {
		t.Fatal(err)
	}
	if decs, _ := db.PendingDecisions(ctx); len(decs) != 0 {
		t.Fatalf("decisions after export: %+v", decs)
	}

	// Found again unchanged: the decision stands.
	res, err = db.ApplyFindings(ctx, scope, []gateway.Finding{qty, price}, "")
	check("rerun after decision", res, err, gateway.ApplyResult{})
	// A later 855 says 6: the decision is contradicted and the exception reopens.
	qty6 := qty
	qty6.Actual = "6 EA"
	res, err = db.ApplyFindings(ctx, scope, []gateway.Finding{qty6, price}, "")
	check("contradicting document", res, err, gateway.ApplyResult{Reopened: 1})
	e, _ = db.Exception(ctx, qe.ID)
	if e.Status != gateway.ExceptionOpen || e.Actual != "6 EA" || e.History[len(e.History)-1].Action != "reopened" {
		t.Fatalf("reopened: %+v", e)
	}
	// The price discrepancy is gone from the next pass: cleared.
	res, err = db.ApplyFindings(ctx, scope, []gateway.Finding{qty6}, "")
	check("price fixed", res, err, gateway.ApplyResult{Cleared: 1})
	pe, _, _ := db.Exceptions(ctx, gateway.ExceptionFilter{Rule: "ack_price_changed"})
	if pe[0].Status != gateway.ExceptionResolved || pe[0].History[len(pe[0].History)-1].Action != "cleared" {
		t.Fatalf("cleared: %+v", pe[0])
	}
	// An open exception whose actual changes is updated, not duplicated.
	qty7 := qty
	qty7.Actual = "7 EA"
	res, err = db.ApplyFindings(ctx, scope, []gateway.Finding{qty7}, "")
	check("update", res, err, gateway.ApplyResult{Updated: 1})
	// Out-of-scope exceptions are not cleared by a partial pass.
	other := finding("ack_missing", "PO-9", "", "none")
	res, err = db.ApplyFindings(ctx, gateway.Scope{Orders: []gateway.PartnerPO{{Partner: "acme", PONumber: "PO-9"}}}, []gateway.Finding{other}, "")
	check("other PO", res, err, gateway.ApplyResult{Raised: 1})
	res, err = db.ApplyFindings(ctx, scope, []gateway.Finding{qty7}, "")
	check("scoped pass", res, err, gateway.ApplyResult{})
	res, err = db.ApplyFindings(ctx, gateway.Scope{All: true}, []gateway.Finding{qty7}, "")
	check("full pass", res, err, gateway.ApplyResult{Cleared: 1})

	t.Run("actions", func(t *testing.T) {
		id := qe.ID
		e, err := db.ActOnException(ctx, id, gateway.ExceptionAction{Action: "assign", Actor: "lead", Assignee: "buyer2"})
		if err != nil || e.Assignee != "buyer2" {
			t.Fatalf("assign: %+v %v", e, err)
		}
		e, err = db.ActOnException(ctx, id, gateway.ExceptionAction{Action: "comment", Actor: "buyer2", Comment: "calling them"})
		if err != nil || e.Status != gateway.ExceptionOpen || e.History[len(e.History)-1].Comment != "calling them" {
			t.Fatalf("comment: %+v %v", e, err)
		}
		for _, bad := range []gateway.ExceptionAction{
			{Action: "approve", Actor: "x"}, {Action: "accept"}, {Action: "assign", Actor: "x"}, {Action: "comment", Actor: "x"},
		} {
			if _, err := db.ActOnException(ctx, id, bad); gateway.ErrorCode(err) != gateway.EINVALID {
				t.Errorf("%+v: %v", bad, err)
			}
		}
		_, err = db.ActOnException(ctx, "exc_nope", gateway.ExceptionAction{Action: "comment", Actor: "x", Comment: "c"})
		wantNotFound(t, "exception", err)
		if list, total, _ := db.Exceptions(ctx, gateway.ExceptionFilter{Assignee: "buyer2"}); total != 1 || list[0].ID != id {
			t.Fatalf("by assignee: %d", total)
		}
	})

	t.Run("filters", func(t *testing.T) {
		for _, tc := range []struct {
			f    gateway.ExceptionFilter
			want int
		}{
			{gateway.ExceptionFilter{Status: "open"}, 1},
			{gateway.ExceptionFilter{Status: "resolved"}, 2},
			{gateway.ExceptionFilter{PONumber: "PO-9"}, 1},
			{gateway.ExceptionFilter{Partner: "globex"}, 0},
			{gateway.ExceptionFilter{OlderThan: time.Minute}, 2},
			{gateway.ExceptionFilter{NewerThan: time.Minute}, 1},
			{gateway.ExceptionFilter{Limit: 1, Offset: 1}, 3},
		} {
			list, total, err := db.Exceptions(ctx, tc.f)
			if err != nil || total != tc.want {
				t.Errorf("%+v: total %d, want %d (%v)", tc.f, total, tc.want, err)
			}
			if tc.f.Limit == 1 && len(list) != 1 {
				t.Errorf("paging: %d rows", len(list))
			}
		}
		list, _, err := db.Exceptions(ctx, gateway.ExceptionFilter{Sort: "-po_number"})
		if err != nil || list[0].PONumber != "PO-9" {
			t.Fatalf("sort: %v", err)
		}
		if _, _, err := db.Exceptions(ctx, gateway.ExceptionFilter{Sort: "color"}); gateway.ErrorCode(err) != gateway.EINVALID || !strings.Contains(err.Error(), "severity") {
			t.Fatalf("bad sort: %v", err)
		}
	})

	t.Run("history is append-only", func(t *testing.T) {
		if _, err := db.write.ExecContext(ctx, `DELETE FROM exception_events`); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("delete: %v", err)
		}
		if _, err := db.write.ExecContext(ctx, `UPDATE exception_events SET actor = 'mallory'`); err == nil {
			t.Fatal("update of history allowed")
		}
	})

	t.Run("the ERP's order changes: expected follows", func(t *testing.T) {
		q := qty7
		q.Expected, q.Message = "9 EA", "m2"
		res, err := db.ApplyFindings(ctx, scope, []gateway.Finding{q}, "")
		check("expected changed", res, err, gateway.ApplyResult{Updated: 1})
		e, _ := db.Exception(ctx, qe.ID)
		if e.Expected != "9 EA" || e.Message != "m2" || e.Status != gateway.ExceptionOpen || !strings.Contains(e.History[len(e.History)-1].Comment, "expected was 10 EA, now 9 EA") {
			t.Fatalf("after the order changed: %+v", e)
		}
		qty7 = q
	})

	t.Run("a cleared discrepancy that comes back reopens", func(t *testing.T) {
		p5 := price
		p5.Actual = "5.00"
		scope2 := gateway.Scope{Orders: []gateway.PartnerPO{{Partner: "acme", PONumber: "PO-1"}}}
		res, err := db.ApplyFindings(ctx, scope2, []gateway.Finding{qty7, p5}, "")
		check("price back", res, err, gateway.ApplyResult{Reopened: 1})
		pe, _, _ := db.Exceptions(ctx, gateway.ExceptionFilter{Rule: "ack_price_changed"})
		if _, err := db.ActOnException(ctx, pe[0].ID, gateway.ExceptionAction{Action: "reject", Actor: "buyer1"}); err != nil {
			t.Fatal(err)
		}
		p6 := price
		p6.Actual = "6.00"
		res, err = db.ApplyFindings(ctx, scope2, []gateway.Finding{qty7, p6}, "")
		check("contradicted", res, err, gateway.ApplyResult{Reopened: 1})
		res, err = db.ApplyFindings(ctx, scope2, []gateway.Finding{qty7}, "")
		check("gone", res, err, gateway.ApplyResult{Cleared: 1})
		// Back at the value the buyer rejected: still a discrepancy, open again.
		res, err = db.ApplyFindings(ctx, scope2, []gateway.Finding{qty7, p5}, "")
		check("back at the rejected value", res, err, gateway.ApplyResult{Reopened: 1})
		e, _ := db.Exception(ctx, pe[0].ID)
		if e.Status != gateway.ExceptionOpen || !strings.Contains(e.History[len(e.History)-1].Comment, "found again after it had cleared") {
			t.Fatalf("after coming back: %+v", e)
		}
	})

	t.Run("a pass leaves alone what changed after it read the store", func(t *testing.T) {
		since := clk.Now()
		clk.Add(time.Minute)
		// Another pass (another process) raised a new exception and
		// cleared the quantity one after this pass read the store.
		fresh := finding("asn_over_shipped", "PO-1", "1", "12 EA")
		res, err := db.ApplyFindings(ctx, scope, []gateway.Finding{fresh}, "")
		check("newer pass", res, err, gateway.ApplyResult{Raised: 1, Cleared: 2})
		// This older pass still sees the quantity discrepancy and not the new one.
		res, err = db.ApplyFindings(ctx, gateway.Scope{All: true, Since: since}, []gateway.Finding{qty7}, "")
		check("older pass", res, err, gateway.ApplyResult{})
		list, _, _ := db.Exceptions(ctx, gateway.ExceptionFilter{Rule: "asn_over_shipped"})
		if len(list) != 1 || list[0].Status != gateway.ExceptionOpen {
			t.Fatalf("the newer pass's exception: %+v", list)
		}
		// Restore for the subtests below: the quantity exception open again.
		res, err = db.ApplyFindings(ctx, scope, []gateway.Finding{qty7, fresh}, "")
		check("restore", res, err, gateway.ApplyResult{Reopened: 1})
	})

}

func TestOrderDocuments(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	m := mustReceive(t, db, gateway.Receipt{Partner: "acme"}, "docs")
	asn := &canonical.ShipNotice{Header: canonical.Header{Kind: canonical.KindShipNotice, ID: "asn1", Partner: "acme"},
		Orders: []canonical.ShipOrder{{PONumber: "PO-1"}, {PONumber: "PO-2"}}}
	inv1 := &canonical.Invoice{Header: canonical.Header{Kind: canonical.KindInvoice, ID: "inv1", Partner: "acme"}, PONumber: "PO-1", InvoiceNumber: "I-1"}
	inv2 := &canonical.Invoice{Header: canonical.Header{Kind: canonical.KindInvoice, ID: "inv2", Partner: "acme"}, PONumber: "PO-2", InvoiceNumber: "I-1"}
	inv3 := &canonical.Invoice{Header: canonical.Header{Kind: canonical.KindInvoice, ID: "inv3", Partner: "acme"}, PONumber: "PO-2", InvoiceNumber: "I-2"}
	if err := db.SaveDocuments(ctx, m.ID, []canonical.Document{asn, inv1, inv2, inv3}); err != nil {
		t.Fatal(err)
	}
	// Saving again (a replay) does not duplicate the links.
	if err := db.SaveDocuments(ctx, m.ID, []canonical.Document{asn}); err != nil {
		t.Fatal(err)
	}
	docs, err := db.OrderDocuments(ctx, "acme", "PO-2")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range docs {
		ids = append(ids, d.ID)
	}
	if !reflect.DeepEqual(ids, []string{"asn1", "inv2", "inv3"}) {
		t.Fatalf("documents of PO-2: %v", ids)
	}
	nums, err := db.InvoiceNumbers(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"inv1": "inv1", "inv2": "inv1", "inv3": "inv3"}; !reflect.DeepEqual(nums, want) {
		t.Fatalf("invoice numbers: %v", nums)
	}
	if err := db.RecordSent(ctx, gateway.SentOrder{Partner: "globex", PONumber: "PO-7"}); err != nil {
		t.Fatal(err)
	}
	var cases []string
	if err := db.EachCase(ctx, func(k gateway.PartnerPO, o *gateway.Order, s *gateway.SentOrder, docs []*gateway.StoredDocument) error {
		c := k.Partner + "/" + k.PONumber + ":"
		if s != nil {
			c += " sent"
		}
		for _, d := range docs {
			c += " " + d.ID
		}
		cases = append(cases, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"acme/PO-1: asn1 inv1", "acme/PO-2: asn1 inv2 inv3", "globex/PO-7: sent"}
	if !reflect.DeepEqual(cases, want) {
		t.Fatalf("cases: %q", cases)
	}
}

func TestImportRuns(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := MustOpenDB(t, WithNow(clk.Now))
	if runs, err := db.Imports(ctx, 0, 0); err != nil || len(runs) != 0 {
		t.Fatalf("no runs yet: %v %v", runs, err)
	}
	for i, r := range []gateway.ImportRun{
		{Source: "a.csv", Created: 2, Sent: 2},
		{Source: "b.csv", Unchanged: 2, Problems: []string{"b.csv:3: column quantity: missing value"}},
	} {
		clk.Add(time.Duration(i+1) * time.Minute)
		if err := db.RecordImport(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := db.Imports(ctx, 0, 0)
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs: %v %v", runs, err)
	}
	if r := runs[0]; r.Source != "b.csv" || r.Unchanged != 2 || len(r.Problems) != 1 || !r.At.Equal(clk.Now()) {
		t.Errorf("newest run: %+v", r)
	}
	if r := runs[1]; r.Source != "a.csv" || r.Created != 2 || r.Sent != 2 || len(r.Problems) != 0 {
		t.Errorf("oldest run: %+v", r)
	}
	if runs, _ := db.Imports(ctx, 1, 1); len(runs) != 1 || runs[0].Source != "a.csv" {
		t.Errorf("paging: %+v", runs)
	}
}

// TestOrderIDMigration: orders stored under the IDs of before 0005
// (po_<partner>_<po>) are found and re-imported under today's.
func TestOrderIDMigration(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	if _, err := db.ImportOrders(ctx, "old.csv", []gateway.Order{testOrder("PO-1", "10")}); err != nil {
		t.Fatal(err)
	}
	// Put the order back under its old ID, as a database of before 0005 holds it.
	if _, err := db.write.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE orders SET id = 'po_acme_PO-1'`,
		`UPDATE order_versions SET order_id = 'po_acme_PO-1'`,
	} {
		if _, err := db.write.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.write.ExecContext(ctx, `PRAGMA foreign_keys = ON`); err != nil {
		t.Fatal(err)
	}
	sql, err := migrations.ReadFile("migrations/0005_order_ids.sql")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, string(sql)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	o, err := db.Order(ctx, gateway.OrderID("acme", "PO-1"))
	if err != nil || o.Version != 1 {
		t.Fatalf("order after the migration: %+v %v", o, err)
	}
	if h, err := db.OrderHistory(ctx, o.ID); err != nil || len(h) != 1 {
		t.Fatalf("history after the migration: %+v %v", h, err)
	}
	res, err := db.ImportOrders(ctx, "new.csv", []gateway.Order{testOrder("PO-1", "12")})
	if err != nil || res.Changed != 1 {
		t.Fatalf("re-import after the migration: %+v %v", res, err)
	}
}
