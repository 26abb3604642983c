package console

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/gateway/report"
	"github.com/edigate/edigate/gateway/sqlite"
	"github.com/edigate/edigate/translators/canonical"
)

// t0 is "now" for the purchasing API tests.
var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// testClock is the store's clock; handlers read it from the server's
// goroutines, so it is guarded.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// purchasingWorld is a real SQLite store behind the real handler.
type purchasingWorld struct {
	db        *sqlite.DB
	clock     *testClock
	url       string
	token     string
	reportDir string
	decided   atomic.Int32
	// ids maps the seeded exceptions' names (A..E) to their IDs.
	ids map[string]string
}

// The seeded exceptions, by name: key, rule, partner, PO, line, severity
// and when they were raised.
//
//	A ack_quantity_changed acme   PO-1 line 1 warning  5 days ago
//	B ack_price_changed    acme   PO-1 line 2 error    2 days ago
//	C ack_missing          globex PO-9        error    2 days ago (assigned to buyer2)
//	D asn_missing          acme   PO-2        warning  1 hour ago
//	E ack_date_changed     acme   PO-2 line 1 info     1 hour ago (resolved)
var seedFindings = map[string]gateway.Finding{
	"A": {Key: "ack_quantity_changed|acme|PO-1|1|", Rule: "ack_quantity_changed", Partner: "acme", PONumber: "PO-1", LineNumber: "1",
		Expected: "12 EA", Actual: "10 EA", Severity: gateway.SeverityWarning, Message: "the 855 changed the quantity"},
	"B": {Key: "ack_price_changed|acme|PO-1|2|", Rule: "ack_price_changed", Partner: "acme", PONumber: "PO-1", LineNumber: "2",
		Expected: "3.45", Actual: "3.95", Severity: gateway.SeverityError, Message: "the 855 changed the price"},
	"C": {Key: "ack_missing|globex|PO-9||", Rule: "ack_missing", Partner: "globex", PONumber: "PO-9",
		Expected: "855 within 24h", Actual: "none", Severity: gateway.SeverityError, Message: "no 855"},
	"D": {Key: "asn_missing|acme|PO-2||", Rule: "asn_missing", Partner: "acme", PONumber: "PO-2",
		Expected: "856", Actual: "none", Severity: gateway.SeverityWarning, Message: "no 856"},
	"E": {Key: "ack_date_changed|acme|PO-2|1|", Rule: "ack_date_changed", Partner: "acme", PONumber: "PO-2", LineNumber: "1",
		Expected: "2026-03-20", Actual: "2026-03-22", Severity: gateway.SeverityInfo, Message: "the 855 moved the date"},
}

func findings(names ...string) []gateway.Finding {
	var out []gateway.Finding
	for _, n := range names {
		out = append(out, seedFindings[n])
	}
	return out
}

func newPurchasingWorld(t *testing.T) *purchasingWorld {
	t.Helper()
	w := &purchasingWorld{clock: &testClock{t: t0}, reportDir: filepath.Join(t.TempDir(), "reports")}
	db, err := sqlite.Open(t.TempDir(), sqlite.WithNow(w.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w.db = db
	ctx := context.Background()
	if w.token, err = db.CreateToken(ctx, "buyer1"); err != nil {
		t.Fatal(err)
	}
	w.seed(t)
	s := &Server{Store: db, Purchasing: &Purchasing{
		Store: db, Documents: db, ReportDir: w.reportDir,
		Decided: func(context.Context) { w.decided.Add(1) },
	}}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

func (w *purchasingWorld) seed(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	po1 := gateway.Order{Partner: "acme", PONumber: "PO-1", PODate: "2026-03-05", Lines: []gateway.OrderLine{
		{LineNumber: "1", BuyerItem: "SKU-1", Quantity: "12", UOM: "EA", UnitPrice: "9.25"},
		{LineNumber: "2", BuyerItem: "SKU-2", Quantity: "5", UOM: "EA", UnitPrice: "3.45"},
	}}
	po2 := gateway.Order{Partner: "acme", PONumber: "PO-2", PODate: "2026-03-05", Lines: []gateway.OrderLine{
		{LineNumber: "1", BuyerItem: "SKU-3", Quantity: "1", UOM: "EA"},
	}}
	po9 := gateway.Order{Partner: "globex", PONumber: "PO-9", PODate: "2026-03-05", Lines: []gateway.OrderLine{
		{LineNumber: "1", BuyerItem: "SKU-9", Quantity: "7", UOM: "CS"},
	}}

	w.clock.Set(t0.Add(-5 * 24 * time.Hour))
	res, err := w.db.ImportOrders(ctx, "erp-1.csv", []gateway.Order{po1, po2, po9})
	must(err)
	if res.Created != 3 {
		t.Fatalf("first import: %+v", res)
	}
	_, err = w.db.ApplyFindings(ctx, gateway.Scope{}, findings("A"), "")
	must(err)

	w.clock.Set(t0.Add(-48 * time.Hour))
	po1v2 := po1
	po1v2.Lines = slices.Clone(po1.Lines)
	po1v2.Lines[0].Quantity = "10"
	res, err = w.db.ImportOrders(ctx, "erp-2.csv", []gateway.Order{po1v2, po2})
	must(err)
	if res.Changed != 1 || res.Unchanged != 1 {
		t.Fatalf("second import: %+v", res)
	}
	must(w.db.RecordSent(ctx, gateway.SentOrder{Partner: "acme", PONumber: "PO-1", Filename: "850_PO-1.x12",
		Interchange: "000000001", Group: "1", Transaction: "0001"}))
	m, err := w.db.Receive(ctx, gateway.Receipt{Partner: "acme", Transport: gateway.TransportHTTP, Filename: "855.edi"},
		strings.NewReader("ISA*00*...~ST*855*0001~"))
	must(err)
	must(w.db.SaveDocuments(ctx, m.ID, []canonical.Document{&canonical.POAcknowledgement{
		Header:   canonical.Header{Kind: canonical.KindPOAcknowledgement, ID: "doc_855_po1", Partner: "acme", Direction: canonical.Inbound},
		PONumber: "PO-1", AckType: "AC",
		Lines: []canonical.AckLine{
			{LineNumber: "1", Status: canonical.StatusChanged, AckQuantity: "10", AckUOM: "EA"},
			{LineNumber: "2", Status: canonical.StatusChanged, AckUnitPrice: "3.95"},
		},
	}}))
	_, err = w.db.ApplyFindings(ctx, gateway.Scope{}, findings("B", "C"), "")
	must(err)

	w.clock.Set(t0.Add(-time.Hour))
	_, err = w.db.ApplyFindings(ctx, gateway.Scope{}, findings("D", "E"), "")
	must(err)

	w.ids = map[string]string{}
	all, total, err := w.db.Exceptions(ctx, gateway.ExceptionFilter{})
	must(err)
	if total != 5 {
		t.Fatalf("seeded %d exceptions, want 5", total)
	}
	for _, e := range all {
		for name, f := range seedFindings {
			if f.Key == e.Key {
				w.ids[name] = e.ID
			}
		}
	}
	_, err = w.db.ActOnException(ctx, w.ids["C"], gateway.ExceptionAction{Action: "assign", Actor: "seed", Assignee: "buyer2"})
	must(err)
	_, err = w.db.ActOnException(ctx, w.ids["E"], gateway.ExceptionAction{Action: "resolve", Actor: "seed"})
	must(err)
	w.clock.Set(t0)
}

// request sends a request with the given Authorization header ("" for none).
func (w *purchasingWorld) request(t *testing.T, auth, method, path, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, w.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// call sends an authenticated request.
func (w *purchasingWorld) call(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	code, _, b := w.request(t, "Bearer "+w.token, method, path, body)
	return code, b
}

// callJSON sends an authenticated request, checks the status and decodes
// the answer into v.
func (w *purchasingWorld) callJSON(t *testing.T, method, path, body string, want int, v any) {
	t.Helper()
	code, b := w.call(t, method, path, body)
	if code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// wantError checks that an answer is the JSON error of the status.
func wantError(t *testing.T, what string, code int, b []byte, wantCode int, wantInMsg ...string) apiError {
	t.Helper()
	var e apiError
	if code != wantCode {
		t.Errorf("%s: status %d %s, want %d", what, code, b, wantCode)
		return e
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Errorf("%s: not a JSON error (%v): %s", what, err, b)
		return e
	}
	if statusOf[e.Error.Code] != wantCode {
		t.Errorf("%s: error code %q does not map to %d", what, e.Error.Code, wantCode)
	}
	for _, s := range wantInMsg {
		if !strings.Contains(e.Error.Message, s) {
			t.Errorf("%s: message %q does not contain %q", what, e.Error.Message, s)
		}
	}
	return e
}

// names maps exception IDs back to the seeded names.
func (w *purchasingWorld) names(es []*gateway.Exception) []string {
	out := []string{}
	for _, e := range es {
		name := e.ID
		for n, id := range w.ids {
			if id == e.ID {
				name = n
			}
		}
		out = append(out, name)
	}
	return out
}

func TestPurchasingUnauthenticated(t *testing.T) {
	w := newPurchasingWorld(t)
	for _, auth := range []string{"", "Bearer ", "Basic YnV5ZXIxOnB3", w.token, "Bearer not-a-token"} {
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/api/v1/purchase-orders", ""},
			{"GET", "/api/v1/purchase-orders/" + gateway.OrderID("acme", "PO-1"), ""},
			{"GET", "/api/v1/exceptions", ""},
			{"GET", "/api/v1/exceptions/" + w.ids["A"], ""},
			{"POST", "/api/v1/exceptions/" + w.ids["A"] + "/accept", `{"comment":"x"}`},
			{"POST", "/api/v1/exceptions/accept", `{"ids":["` + w.ids["A"] + `"]}`},
			{"GET", "/api/v1/reports", ""},
			{"GET", "/api/v1/reports/report-2026-03-10.html", ""},
		} {
			code, _, b := w.request(t, auth, r.method, r.path, r.body)
			e := wantError(t, r.method+" "+r.path+" with Authorization "+auth, code, b, http.StatusUnauthorized)
			if e.Error.Code != "" && e.Error.Code != gateway.EUNAUTH {
				t.Errorf("%s %s: code %q, want %q", r.method, r.path, e.Error.Code, gateway.EUNAUTH)
			}
		}
	}
	if w.decided.Load() != 0 {
		t.Errorf("Decided called %d times without a token", w.decided.Load())
	}
	var e gateway.Exception
	w.callJSON(t, "GET", "/api/v1/exceptions/"+w.ids["A"], "", http.StatusOK, &e)
	if e.Status != gateway.ExceptionOpen {
		t.Errorf("an unauthenticated accept changed the exception: %+v", e)
	}
}

func TestListPurchaseOrders(t *testing.T) {
	w := newPurchasingWorld(t)
	for _, tc := range []struct {
		query string
		want  []string // partner/po_number
	}{
		{"", []string{"acme/PO-1", "acme/PO-2", "globex/PO-9"}},
		{"?partner=acme", []string{"acme/PO-1", "acme/PO-2"}},
		{"?partner=globex", []string{"globex/PO-9"}},
		{"?po_number=PO-2", []string{"acme/PO-2"}},
		{"?partner=acme&po_number=PO-1", []string{"acme/PO-1"}},
		{"?partner=globex&po_number=PO-1", []string{}},
		{"?partner=nobody", []string{}},
		{"?limit=1", []string{"acme/PO-1"}},
		{"?limit=2&offset=1", []string{"acme/PO-2", "globex/PO-9"}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			code, b := w.call(t, "GET", "/api/v1/purchase-orders"+tc.query, "")
			var out struct {
				Orders []*gateway.Order `json:"purchase_orders"`
			}
			if code != http.StatusOK || json.Unmarshal(b, &out) != nil {
				t.Fatalf("%d %s", code, b)
			}
			if out.Orders == nil {
				t.Fatalf("purchase_orders is not a list: %s", b)
			}
			got := []string{}
			for _, o := range out.Orders {
				got = append(got, o.Partner+"/"+o.PONumber)
				if o.ID != gateway.OrderID(o.Partner, o.PONumber) || len(o.Lines) == 0 {
					t.Errorf("order %+v", o)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	for _, q := range []string{"?limit=x", "?limit=-1", "?offset=y"} {
		code, b := w.call(t, "GET", "/api/v1/purchase-orders"+q, "")
		wantError(t, q, code, b, http.StatusUnprocessableEntity)
	}
}

// orderDetail is the answer of GET /api/v1/purchase-orders/:id.
type orderDetail struct {
	gateway.Order
	History   []gateway.OrderVersion `json:"history"`
	Sent850   *gateway.SentOrder     `json:"sent_850"`
	Documents []struct {
		ID         string          `json:"id"`
		Kind       string          `json:"kind"`
		Set        string          `json:"set"`
		MessageID  string          `json:"message_id"`
		ReceivedAt time.Time       `json:"received_at"`
		Document   json.RawMessage `json:"document"`
	} `json:"documents"`
	Open []*gateway.Exception `json:"open_exceptions"`
}

func TestGetPurchaseOrder(t *testing.T) {
	w := newPurchasingWorld(t)

	var po orderDetail
	w.callJSON(t, "GET", "/api/v1/purchase-orders/"+gateway.OrderID("acme", "PO-1"), "", http.StatusOK, &po)
	if po.ID != "po_acme.PO-1" || po.Partner != "acme" || po.PONumber != "PO-1" || po.Version != 2 || po.Source != "erp-2.csv" {
		t.Errorf("order: %+v", po.Order)
	}
	if len(po.Lines) != 2 || po.Lines[0].Quantity != "10" {
		t.Errorf("current lines: %+v", po.Lines)
	}
	if !po.ImportedAt.Equal(t0.Add(-5*24*time.Hour)) || !po.UpdatedAt.Equal(t0.Add(-48*time.Hour)) {
		t.Errorf("imported %v, updated %v", po.ImportedAt, po.UpdatedAt)
	}
	if len(po.History) != 2 {
		t.Fatalf("history: %+v", po.History)
	}
	for i, want := range []struct {
		version int
		qty     string
		source  string
	}{{1, "12", "erp-1.csv"}, {2, "10", "erp-2.csv"}} {
		v := po.History[i]
		if v.Version != want.version || len(v.Lines) != 2 || v.Lines[0].Quantity != want.qty || v.Source != want.source {
			t.Errorf("history[%d] = %+v, want version %d with quantity %s from %s", i, v, want.version, want.qty, want.source)
		}
	}
	if s := po.Sent850; s == nil || s.Filename != "850_PO-1.x12" || s.AckStatus != gateway.SentPending || s.Transaction != "0001" {
		t.Errorf("sent_850: %+v", po.Sent850)
	}
	if len(po.Documents) != 1 {
		t.Fatalf("documents: %+v", po.Documents)
	}
	d := po.Documents[0]
	var doc canonical.POAcknowledgement
	if err := json.Unmarshal(d.Document, &doc); err != nil {
		t.Fatalf("document: %v in %s", err, d.Document)
	}
	if d.ID != "doc_855_po1" || d.Kind != canonical.KindPOAcknowledgement || d.Set != "855" || d.MessageID == "" ||
		!d.ReceivedAt.Equal(t0.Add(-48*time.Hour)) || doc.PONumber != "PO-1" || len(doc.Lines) != 2 {
		t.Errorf("document: %+v %+v", d, doc)
	}
	if got := w.names(po.Open); !slices.Equal(got, []string{"A", "B"}) {
		t.Errorf("open_exceptions: %v", got)
	}

	// A PO with no 850 and no documents: sent_850 null, documents [].
	code, b := w.call(t, "GET", "/api/v1/purchase-orders/"+gateway.OrderID("acme", "PO-2"), "")
	var raw map[string]json.RawMessage
	if code != http.StatusOK || json.Unmarshal(b, &raw) != nil {
		t.Fatalf("PO-2: %d %s", code, b)
	}
	for field, want := range map[string]string{"sent_850": "null", "documents": "[]", "version": "1"} {
		if string(raw[field]) != want {
			t.Errorf("PO-2 %s = %s, want %s", field, raw[field], want)
		}
	}
	po = orderDetail{}
	json.Unmarshal(b, &po)
	if len(po.History) != 1 || !slices.Equal(w.names(po.Open), []string{"D"}) {
		t.Errorf("PO-2: history %+v, open %v (the resolved E must not be listed)", po.History, w.names(po.Open))
	}

	// Deciding an exception takes it out of the open ones.
	w.callJSON(t, "POST", "/api/v1/exceptions/"+w.ids["A"]+"/accept", "", http.StatusOK, nil)
	po = orderDetail{}
	w.callJSON(t, "GET", "/api/v1/purchase-orders/po_acme.PO-1", "", http.StatusOK, &po)
	if got := w.names(po.Open); !slices.Equal(got, []string{"B"}) {
		t.Errorf("open_exceptions after accepting A: %v", got)
	}

	for _, id := range []string{"po_acme.PO-404", "nope", gateway.OrderID("globex", "PO-1")} {
		code, b := w.call(t, "GET", "/api/v1/purchase-orders/"+id, "")
		wantError(t, id, code, b, http.StatusNotFound)
	}
}

// exceptionList is the answer of GET /api/v1/exceptions.
type exceptionList struct {
	Exceptions []*gateway.Exception `json:"exceptions"`
	Total      int                  `json:"total"`
	Limit      int                  `json:"limit"`
	Offset     int                  `json:"offset"`
}

func TestListExceptions(t *testing.T) {
	w := newPurchasingWorld(t)
	for _, tc := range []struct {
		query  string
		want   []string
		total  int
		limit  int // 0: 100
		offset int
	}{
		{query: "", want: []string{"A", "B", "C", "D", "E"}, total: 5},
		{query: "partner=acme", want: []string{"A", "B", "D", "E"}, total: 4},
		{query: "partner=globex", want: []string{"C"}, total: 1},
		{query: "po_number=PO-1", want: []string{"A", "B"}, total: 2},
		{query: "partner=globex&po_number=PO-1", want: []string{}, total: 0},
		{query: "rule=ack_missing", want: []string{"C"}, total: 1},
		{query: "rule=ack_quantity_changed&partner=acme&po_number=PO-1", want: []string{"A"}, total: 1},
		{query: "status=open", want: []string{"A", "B", "C", "D"}, total: 4},
		{query: "status=resolved", want: []string{"E"}, total: 1},
		{query: "status=accepted", want: []string{}, total: 0},
		{query: "assignee=buyer2", want: []string{"C"}, total: 1},
		{query: "buyer=buyer2", want: []string{"C"}, total: 1},
		{query: "buyer=nobody", want: []string{}, total: 0},
		{query: "assignee=buyer2&buyer=nobody", want: []string{"C"}, total: 1}, // assignee wins
		// Ages, at t0: A is 5 days old, B and C 2 days, D and E an hour.
		{query: "min_age=3d", want: []string{"A"}, total: 1},
		{query: "min_age=2d", want: []string{"A", "B", "C"}, total: 3}, // at least: 48h old counts
		{query: "min_age=49h", want: []string{"A"}, total: 1},
		{query: "max_age=36h", want: []string{"D", "E"}, total: 2},
		{query: "max_age=2d", want: []string{"B", "C", "D", "E"}, total: 4},
		{query: "min_age=36h&max_age=3d", want: []string{"B", "C"}, total: 2},
		{query: "min_age=0d", want: []string{"A", "B", "C", "D", "E"}, total: 5},
		{query: "min_age=1h30m&partner=acme&status=open", want: []string{"A", "B"}, total: 2},
		// Sorts.
		{query: "sort=created_at", want: []string{"A", "B", "C", "D", "E"}, total: 5},
		{query: "sort=-created_at", want: []string{"E", "D", "C", "B", "A"}, total: 5},
		{query: "sort=po_number", want: []string{"A", "B", "D", "E", "C"}, total: 5},
		{query: "sort=-po_number", want: []string{"C", "E", "D", "B", "A"}, total: 5},
		{query: "sort=severity", want: []string{"B", "C", "A", "D", "E"}, total: 5},
		{query: "sort=-severity", want: []string{"E", "A", "D", "B", "C"}, total: 5},
		{query: "sort=partner", want: []string{"A", "B", "D", "E", "C"}, total: 5},
		{query: "sort=-partner", want: []string{"C", "E", "D", "B", "A"}, total: 5},
		{query: "sort=rule", want: []string{"E", "C", "B", "A", "D"}, total: 5},
		{query: "sort=status&partner=acme", want: []string{"A", "B", "D", "E"}, total: 4},
		{query: "sort=-status", want: []string{"E", "D", "C", "B", "A"}, total: 5},
		// Paging: total counts every match.
		{query: "limit=2", want: []string{"A", "B"}, total: 5, limit: 2},
		{query: "limit=2&offset=2", want: []string{"C", "D"}, total: 5, limit: 2, offset: 2},
		{query: "limit=2&offset=4", want: []string{"E"}, total: 5, limit: 2, offset: 4},
		{query: "offset=10", want: []string{}, total: 5, offset: 10},
		{query: "limit=0", want: []string{"A", "B", "C", "D", "E"}, total: 5},
		{query: "limit=5000", want: []string{"A", "B", "C", "D", "E"}, total: 5, limit: 1000},
		{query: "status=open&sort=-po_number&limit=2&offset=1", want: []string{"D", "B"}, total: 4, limit: 2, offset: 1},
	} {
		t.Run(tc.query, func(t *testing.T) {
			var out exceptionList
			w.callJSON(t, "GET", "/api/v1/exceptions?"+tc.query, "", http.StatusOK, &out)
			if out.Exceptions == nil {
				t.Fatal("exceptions is not a list")
			}
			if got := w.names(out.Exceptions); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			limit := tc.limit
			if limit == 0 {
				limit = 100
			}
			if out.Total != tc.total || out.Limit != limit || out.Offset != tc.offset {
				t.Errorf("total %d, limit %d, offset %d; want %d, %d, %d", out.Total, out.Limit, out.Offset, tc.total, limit, tc.offset)
			}
			for _, e := range out.Exceptions {
				if len(e.History) == 0 || e.History[0].Action != "raised" {
					t.Errorf("%s: history %+v", e.ID, e.History)
				}
			}
		})
	}

	for _, tc := range []struct {
		query string
		msg   []string
	}{
		{"sort=bogus", append([]string{`"bogus"`}, sqlite.ExceptionSorts()...)},
		{"sort=created", []string{"created_at", "-po_number", "severity"}},
		{"min_age=abc", []string{"min_age", "3d"}},
		{"min_age=3w", []string{"min_age"}},
		{"min_age=-3d", []string{"min_age"}},
		{"max_age=-1h", []string{"max_age"}},
		{"max_age=d", []string{"max_age"}},
		{"limit=ten", []string{"limit"}},
		{"limit=-1", []string{"limit"}},
		{"offset=-5", []string{"offset"}},
		{"offset=1.5", []string{"offset"}},
		{"rule=ack_qty_changed", []string{`unknown rule "ack_qty_changed"`, "ack_quantity_changed"}},
	} {
		code, b := w.call(t, "GET", "/api/v1/exceptions?"+tc.query, "")
		wantError(t, tc.query, code, b, http.StatusUnprocessableEntity, tc.msg...)
	}
}

// TestExceptionJSON pins the field names the console and scripts use.
func TestExceptionJSON(t *testing.T) {
	w := newPurchasingWorld(t)
	var list struct {
		Exceptions []map[string]json.RawMessage `json:"exceptions"`
	}
	w.callJSON(t, "GET", "/api/v1/exceptions?rule=ack_quantity_changed", "", http.StatusOK, &list)
	code, one := w.call(t, "GET", "/api/v1/exceptions/"+w.ids["A"], "")
	var single map[string]json.RawMessage
	if code != http.StatusOK || json.Unmarshal(one, &single) != nil || len(list.Exceptions) != 1 {
		t.Fatalf("%d %s; list %v", code, one, list)
	}
	for what, e := range map[string]map[string]json.RawMessage{"list": list.Exceptions[0], "get": single} {
		for _, f := range []string{"id", "rule", "partner", "po_number", "line_number", "expected", "actual", "severity",
			"status", "assignee", "created_at", "history", "key", "message", "updated_at"} {
			if _, ok := e[f]; !ok {
				t.Errorf("%s: no %q in %v", what, f, e)
			}
		}
		want := map[string]string{
			"id": `"` + w.ids["A"] + `"`, "rule": `"ack_quantity_changed"`, "partner": `"acme"`, "po_number": `"PO-1"`,
			"line_number": `"1"`, "expected": `"12 EA"`, "actual": `"10 EA"`, "severity": `"warning"`, "status": `"open"`,
			"assignee": `""`, "created_at": `"2026-03-05T12:00:00Z"`,
		}
		for f, v := range want {
			if string(e[f]) != v {
				t.Errorf("%s: %s = %s, want %s", what, f, e[f], v)
			}
		}
		var h []gateway.ExceptionEvent
		if err := json.Unmarshal(e["history"], &h); err != nil || len(h) != 1 || h[0].Action != "raised" || h[0].Actor != "reconciliation" || h[0].To != "open" {
			t.Errorf("%s: history %s", what, e["history"])
		}
	}

	var c gateway.Exception
	w.callJSON(t, "GET", "/api/v1/exceptions/"+w.ids["C"], "", http.StatusOK, &c)
	if c.Assignee != "buyer2" || c.Status != "open" || len(c.History) != 2 || c.History[1].Action != "assign" || c.History[1].Actor != "seed" {
		t.Errorf("C: %+v", c)
	}
	for _, id := range []string{"exc_nope", "nope"} {
		code, b := w.call(t, "GET", "/api/v1/exceptions/"+id, "")
		wantError(t, id, code, b, http.StatusNotFound)
	}
}

func TestExceptionActions(t *testing.T) {
	w := newPurchasingWorld(t)
	// The steps run in order, on the same store.
	steps := []struct {
		name     string
		id       string // seeded name, or a literal ID
		action   string
		body     string
		status   int
		wantStat string // the exception's status afterwards
		assignee string
		decided  int32 // Decided calls so far
		// the history entry added (for 200s)
		event gateway.ExceptionEvent
		msg   string // in the error message (for errors)
	}{
		{name: "accept", id: "A", action: "accept", body: `{"comment":"10 is enough"}`, status: 200, wantStat: "accepted", decided: 1,
			event: gateway.ExceptionEvent{Actor: "buyer1", Action: "accept", Comment: "10 is enough", From: "open", To: "accepted", Actual: "10 EA"}},
		{name: "accept again", id: "A", action: "accept", body: `{"comment":"twice"}`, status: 409, wantStat: "accepted", decided: 1, msg: "already accepted"},
		{name: "reject", id: "B", action: "reject", body: `{"comment":"price is contract"}`, status: 200, wantStat: "rejected", decided: 2,
			event: gateway.ExceptionEvent{Actor: "buyer1", Action: "reject", Comment: "price is contract", From: "open", To: "rejected", Actual: "3.95"}},
		{name: "reject again", id: "B", action: "reject", body: `{}`, status: 409, wantStat: "rejected", decided: 2},
		{name: "accept a rejected one", id: "B", action: "accept", body: `{"comment":"changed my mind"}`, status: 200, wantStat: "accepted", decided: 3,
			event: gateway.ExceptionEvent{Actor: "buyer1", Action: "accept", Comment: "changed my mind", From: "rejected", To: "accepted", Actual: "3.95"}},
		{name: "assign", id: "D", action: "assign", body: `{"assignee":"buyer3","comment":"yours"}`, status: 200, wantStat: "open", assignee: "buyer3", decided: 3,
			event: gateway.ExceptionEvent{Actor: "buyer1", Action: "assign", Comment: "assigned to buyer3. yours", Actual: "none"}},
		{name: "assign without assignee", id: "D", action: "assign", body: `{"comment":"x"}`, status: 422, wantStat: "open", assignee: "buyer3", decided: 3, msg: "assignee"},
		{name: "comment", id: "D", action: "comment", body: `{"comment":"chased the supplier"}`, status: 200, wantStat: "open", assignee: "buyer3", decided: 3,
			event: gateway.ExceptionEvent{Actor: "buyer1", Action: "comment", Comment: "chased the supplier", Actual: "none"}},
		{name: "empty comment", id: "D", action: "comment", body: `{"comment":"  "}`, status: 422, wantStat: "open", assignee: "buyer3", decided: 3, msg: "comment"},
		{name: "comment without body", id: "D", action: "comment", status: 422, wantStat: "open", assignee: "buyer3", decided: 3},
		{name: "comment on a decided one", id: "A", action: "comment", body: `{"comment":"noted"}`, status: 200, wantStat: "accepted", decided: 3,
			event: gateway.ExceptionEvent{Actor: "buyer1", Action: "comment", Comment: "noted", Actual: "10 EA"}},
		{name: "unknown field", id: "C", action: "accept", body: `{"comment":"x","note":"y"}`, status: 422, wantStat: "open", assignee: "buyer2", decided: 3, msg: "note"},
		{name: "ids in a single action", id: "C", action: "resolve", body: `{"ids":"C"}`, status: 422, wantStat: "open", assignee: "buyer2", decided: 3},
		{name: "not JSON", id: "C", action: "reject", body: `comment=x`, status: 422, wantStat: "open", assignee: "buyer2", decided: 3},
		{name: "resolve", id: "C", action: "resolve", body: `{"comment":"cancelled in the ERP"}`, status: 200, wantStat: "resolved", assignee: "buyer2", decided: 3,
			event: gateway.ExceptionEvent{Actor: "buyer1", Action: "resolve", Comment: "cancelled in the ERP", From: "open", To: "resolved", Actual: "none"}},
		{name: "resolve again", id: "C", action: "resolve", body: `{}`, status: 409, wantStat: "resolved", assignee: "buyer2", decided: 3},
		{name: "accept without body", id: "D", action: "accept", status: 200, wantStat: "accepted", assignee: "buyer3", decided: 4,
			event: gateway.ExceptionEvent{Actor: "buyer1", Action: "accept", From: "open", To: "accepted", Actual: "none"}},
		{name: "reopen a resolved one by rejecting", id: "E", action: "reject", body: `{"comment":"no"}`, status: 200, wantStat: "rejected", decided: 5,
			event: gateway.ExceptionEvent{Actor: "buyer1", Action: "reject", Comment: "no", From: "resolved", To: "rejected", Actual: "2026-03-22"}},
		{name: "unknown exception", id: "exc_nope", action: "accept", body: `{}`, status: 404, decided: 5},
		{name: "unknown exception, assign", id: "exc_nope", action: "assign", body: `{"assignee":"x"}`, status: 404, decided: 5},
	}
	for _, st := range steps {
		id := st.id
		if seeded, ok := w.ids[st.id]; ok {
			id = seeded
		}
		var before gateway.Exception
		if st.status != 404 {
			w.callJSON(t, "GET", "/api/v1/exceptions/"+id, "", http.StatusOK, &before)
		}
		w.clock.Set(w.clock.Now().Add(time.Minute))
		code, b := w.call(t, "POST", "/api/v1/exceptions/"+id+"/"+st.action, st.body)
		if st.status != http.StatusOK {
			wantError(t, st.name, code, b, st.status, st.msg)
		} else {
			var e gateway.Exception
			if code != http.StatusOK || json.Unmarshal(b, &e) != nil {
				t.Errorf("%s: %d %s", st.name, code, b)
				continue
			}
			if len(e.History) != len(before.History)+1 {
				t.Errorf("%s: history %+v, want one more entry than %+v", st.name, e.History, before.History)
			} else {
				ev := e.History[len(e.History)-1]
				want := st.event
				want.At = w.clock.Now()
				if !ev.At.Equal(want.At) {
					t.Errorf("%s: event at %v, want %v", st.name, ev.At, want.At)
				}
				ev.At = want.At
				if ev != want {
					t.Errorf("%s: event %+v, want %+v", st.name, ev, want)
				}
			}
			if !e.UpdatedAt.Equal(w.clock.Now()) {
				t.Errorf("%s: updated_at %v", st.name, e.UpdatedAt)
			}
		}
		if got := w.decided.Load(); got != st.decided {
			t.Errorf("%s: Decided called %d times so far, want %d", st.name, got, st.decided)
		}
		if st.status == 404 {
			continue
		}
		// The store holds what the answer said.
		var after gateway.Exception
		w.callJSON(t, "GET", "/api/v1/exceptions/"+id, "", http.StatusOK, &after)
		if after.Status != st.wantStat || after.Assignee != st.assignee {
			t.Errorf("%s: now %s assigned to %q, want %s assigned to %q", st.name, after.Status, after.Assignee, st.wantStat, st.assignee)
		}
		if st.status != http.StatusOK && len(after.History) != len(before.History) {
			t.Errorf("%s: a refused action changed the history: %+v", st.name, after.History)
		}
	}

	// Decisions are what the ERP gets: accept and reject only, by buyer1.
	ds, err := w.db.PendingDecisions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.Decision+" "+d.Actor)
	}
	want := []string{"accepted buyer1", "rejected buyer1", "accepted buyer1", "accepted buyer1", "rejected buyer1"}
	if !slices.Equal(got, want) {
		t.Errorf("pending decisions %v, want %v", got, want)
	}
}

// bulkAnswer is the answer of a bulk action.
type bulkAnswer struct {
	Results []struct {
		ID        string             `json:"id"`
		Exception *gateway.Exception `json:"exception"`
		Error     *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"results"`
	Failed int `json:"failed"`
}

func TestBulkExceptionActions(t *testing.T) {
	w := newPurchasingWorld(t)
	ids := func(names ...string) string {
		var q []string
		for _, n := range names {
			id := n
			if seeded, ok := w.ids[n]; ok {
				id = seeded
			}
			q = append(q, `"`+id+`"`)
		}
		return `[` + strings.Join(q, ",") + `]`
	}

	// Two known and one unknown: 200, each with its own outcome, in order.
	var out bulkAnswer
	w.callJSON(t, "POST", "/api/v1/exceptions/accept", `{"ids":`+ids("A", "exc_nope", "B")+`,"comment":"fine"}`, http.StatusOK, &out)
	if out.Failed != 1 || len(out.Results) != 3 {
		t.Fatalf("bulk accept: %+v", out)
	}
	for i, want := range []string{w.ids["A"], "exc_nope", w.ids["B"]} {
		r := out.Results[i]
		if r.ID != want {
			t.Errorf("results[%d].id = %s, want %s", i, r.ID, want)
		}
		if want == "exc_nope" {
			if r.Exception != nil || r.Error == nil || r.Error.Code != gateway.ENOTFOUND || r.Error.Message == "" {
				t.Errorf("unknown id: %+v %+v", r.Exception, r.Error)
			}
			continue
		}
		if r.Error != nil || r.Exception == nil || r.Exception.ID != want || r.Exception.Status != "accepted" {
			t.Errorf("results[%d]: %+v %+v", i, r.Exception, r.Error)
			continue
		}
		ev := r.Exception.History[len(r.Exception.History)-1]
		if ev.Actor != "buyer1" || ev.Action != "accept" || ev.Comment != "fine" {
			t.Errorf("results[%d] history: %+v", i, ev)
		}
	}
	if n := w.decided.Load(); n != 1 {
		t.Errorf("Decided called %d times after one bulk accept, want 1", n)
	}

	// A conflict is one outcome among others.
	out = bulkAnswer{}
	w.callJSON(t, "POST", "/api/v1/exceptions/reject", `{"ids":`+ids("A", "C")+`}`, http.StatusOK, &out)
	if out.Failed != 0 || len(out.Results) != 2 || out.Results[0].Exception.Status != "rejected" || out.Results[1].Exception.Status != "rejected" {
		t.Errorf("bulk reject: %+v", out)
	}
	out = bulkAnswer{}
	w.callJSON(t, "POST", "/api/v1/exceptions/reject", `{"ids":`+ids("A", "D")+`}`, http.StatusOK, &out)
	if out.Failed != 1 || out.Results[0].Error == nil || out.Results[0].Error.Code != gateway.ECONFLICT || out.Results[1].Exception == nil {
		t.Errorf("bulk reject with a conflict: %+v", out)
	}
	if n := w.decided.Load(); n != 3 {
		t.Errorf("Decided called %d times, want 3", n)
	}

	// Every id unknown: 422, with the outcomes; nothing was decided.
	code, b := w.call(t, "POST", "/api/v1/exceptions/accept", `{"ids":["exc_x","exc_y"]}`)
	out = bulkAnswer{}
	if code != http.StatusUnprocessableEntity || json.Unmarshal(b, &out) != nil || out.Failed != 2 || len(out.Results) != 2 ||
		out.Results[0].Error == nil || out.Results[0].Error.Code != gateway.ENOTFOUND || out.Results[1].ID != "exc_y" {
		t.Errorf("all unknown: %d %s", code, b)
	}
	if n := w.decided.Load(); n != 3 {
		t.Errorf("Decided called %d times after a bulk accept that decided nothing, want 3", n)
	}

	// Assign and comment in bulk: no decision.
	out = bulkAnswer{}
	w.callJSON(t, "POST", "/api/v1/exceptions/assign", `{"ids":`+ids("C", "D")+`,"assignee":"buyer4"}`, http.StatusOK, &out)
	for _, r := range out.Results {
		if r.Exception == nil || r.Exception.Assignee != "buyer4" {
			t.Errorf("bulk assign: %+v %+v", r.Exception, r.Error)
		}
	}
	out = bulkAnswer{}
	w.callJSON(t, "POST", "/api/v1/exceptions/comment", `{"ids":`+ids("C", "D")+`,"comment":"on it"}`, http.StatusOK, &out)
	for _, r := range out.Results {
		if r.Exception == nil || r.Exception.History[len(r.Exception.History)-1].Comment != "on it" {
			t.Errorf("bulk comment: %+v %+v", r.Exception, r.Error)
		}
	}
	out = bulkAnswer{}
	w.callJSON(t, "POST", "/api/v1/exceptions/resolve", `{"ids":`+ids("D")+`}`, http.StatusOK, &out)
	if len(out.Results) != 1 || out.Results[0].Exception == nil || out.Results[0].Exception.Status != "resolved" {
		t.Errorf("bulk resolve: %+v", out)
	}
	if n := w.decided.Load(); n != 3 {
		t.Errorf("Decided called %d times after assign, comment and resolve, want 3", n)
	}

	// Refused before anything is done.
	for _, tc := range []struct {
		action, body, msg string
	}{
		{"accept", `{"comment":"x"}`, "ids"},
		{"accept", `{"ids":[]}`, "ids"},
		{"reject", ``, "ids"},
		{"assign", `{"ids":` + ids("E") + `,"assignee":"x","extra":1}`, "extra"},
		{"accept", `{"ids":"` + w.ids["E"] + `"}`, ""},
		{"accept", `[`, ""},
	} {
		code, b := w.call(t, "POST", "/api/v1/exceptions/"+tc.action, tc.body)
		wantError(t, tc.action+" "+tc.body, code, b, http.StatusUnprocessableEntity, tc.msg)
	}
	var e gateway.Exception
	w.callJSON(t, "GET", "/api/v1/exceptions/"+w.ids["E"], "", http.StatusOK, &e)
	if e.Status != "resolved" || e.Assignee != "" || len(e.History) != 2 {
		t.Errorf("E changed by refused bulk actions: %+v", e)
	}
	if n := w.decided.Load(); n != 3 {
		t.Errorf("Decided called %d times, want 3", n)
	}
}

func TestReports(t *testing.T) {
	w := newPurchasingWorld(t)
	type entry struct {
		Date  string   `json:"date"`
		Files []string `json:"files"`
	}
	var list struct {
		Reports []entry `json:"reports"`
	}
	// The report directory does not exist yet.
	code, b := w.call(t, "GET", "/api/v1/reports", "")
	if code != http.StatusOK || json.Unmarshal(b, &list) != nil || list.Reports == nil || len(list.Reports) != 0 {
		t.Fatalf("no reports: %d %s", code, b)
	}

	for _, day := range []time.Time{t0.AddDate(0, 0, -1), t0} {
		if _, err := report.Write(w.reportDir, report.Compute(report.Input{Date: day}, day)); err != nil {
			t.Fatal(err)
		}
	}
	list.Reports = nil
	w.callJSON(t, "GET", "/api/v1/reports", "", http.StatusOK, &list)
	if len(list.Reports) != 2 {
		t.Fatalf("reports: %+v", list)
	}
	for i, date := range []string{"2026-03-10", "2026-03-09"} { // newest first
		want := []string{"report-" + date + ".html", "suppliers-" + date + ".csv", "exceptions-by-rule-" + date + ".csv", "aging-" + date + ".csv"}
		if r := list.Reports[i]; r.Date != date || !slices.Equal(r.Files, want) {
			t.Errorf("reports[%d] = %+v, want %s with %v", i, r, date, want)
		}
	}

	for _, tc := range []struct {
		file, contentType, in string
	}{
		{"report-2026-03-10.html", "text/html; charset=utf-8", "2026-03-10"},
		{"suppliers-2026-03-09.csv", "text/csv; charset=utf-8", ""},
		{"aging-2026-03-10.csv", "text/csv; charset=utf-8", ""},
	} {
		code, h, b := w.request(t, "Bearer "+w.token, "GET", "/api/v1/reports/"+tc.file, "")
		if code != http.StatusOK || h.Get("Content-Type") != tc.contentType || len(b) == 0 || !strings.Contains(string(b), tc.in) {
			t.Errorf("%s: %d %s, %d bytes", tc.file, code, h.Get("Content-Type"), len(b))
		}
	}
	code, h, b := w.request(t, "Bearer "+w.token, "GET", "/api/v1/reports/report-2026-03-10.html", "")
	if code != http.StatusOK || !strings.Contains(strings.ToLower(string(b)), "<html") {
		t.Errorf("the HTML report: %d %s %.100s", code, h.Get("Content-Type"), b)
	}

	// Outside the directory, hidden, or missing: 404.
	for _, p := range []string{"../x", "..%2Fx", "%2E%2E", "..", ".", "..%2F..%2Fetc%2Fpasswd", ".hidden", "report-2000-01-01.html", "x"} {
		code, _, b := w.request(t, "Bearer "+w.token, "GET", "/api/v1/reports/"+p, "")
		if code != http.StatusNotFound {
			t.Errorf("%s: %d %.200s, want 404", p, code, b)
		}
	}
	for _, p := range []string{"%2E%2E", ".hidden", "report-2000-01-01.html", "x"} {
		code, _, b := w.request(t, "Bearer "+w.token, "GET", "/api/v1/reports/"+p, "")
		wantError(t, p, code, b, http.StatusNotFound)
	}
}

// TestReportsWithoutDir: no report directory configured.
func TestReportsWithoutDir(t *testing.T) {
	db, err := sqlite.Open(t.TempDir(), sqlite.WithNow(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tok, err := db.CreateToken(context.Background(), "buyer1")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Store: db, Purchasing: &Purchasing{Store: db, Documents: db}}).Handler())
	t.Cleanup(srv.Close)
	w := &purchasingWorld{url: srv.URL, token: tok}
	code, b := w.call(t, "GET", "/api/v1/reports", "")
	if code != http.StatusOK || strings.TrimSpace(string(b)) != `{"reports":[]}` {
		t.Errorf("reports: %d %s", code, b)
	}
	code, b = w.call(t, "GET", "/api/v1/reports/report-2026-03-10.html", "")
	wantError(t, "a report", code, b, http.StatusNotFound)

	// Without Documents the chain is empty, not missing.
	if _, err := db.ImportOrders(context.Background(), "erp.csv", []gateway.Order{{Partner: "acme", PONumber: "PO-1"}}); err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer((&Server{Store: db, Purchasing: &Purchasing{Store: db}}).Handler())
	t.Cleanup(srv2.Close)
	w.url = srv2.URL
	var po orderDetail
	w.callJSON(t, "GET", "/api/v1/purchase-orders/po_acme.PO-1", "", http.StatusOK, &po)
	if po.Documents == nil || len(po.Documents) != 0 || po.Open == nil || po.Sent850 != nil || len(po.History) != 1 {
		t.Errorf("PO without Documents: %+v", po)
	}
}

// TestPurchasingRoutesOff: without Purchasing the routes are not served.
func TestPurchasingRoutesOff(t *testing.T) {
	db, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tok, err := db.CreateToken(context.Background(), "buyer1")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Store: db}).Handler())
	t.Cleanup(srv.Close)
	w := &purchasingWorld{url: srv.URL, token: tok}
	for _, p := range []string{"/api/v1/purchase-orders", "/api/v1/exceptions", "/api/v1/reports"} {
		if code, b := w.call(t, "GET", p, ""); code != http.StatusNotFound {
			t.Errorf("%s: %d %s", p, code, b)
		}
	}
}
