package erp

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edigate/edigate/gateway"
)

// defaultHeader is the header row of the default column layout.
const defaultHeader = "partner,po_number,po_date,line_number,buyer_item,vendor_item,quantity,uom,unit_price,requested_date\n"

// MustWriteFile writes content to dir/name, creating directories, and
// returns the path.
func MustWriteFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// MustParse parses content and fails on err.
func MustParse(tb testing.TB, name, content string, m Mapping) ([]gateway.Order, []error) {
	tb.Helper()
	orders, problems, err := Parse(name, strings.NewReader(content), m)
	if err != nil {
		tb.Fatalf("Parse(%s): %v", name, err)
	}
	return orders, problems
}

// errorStrings returns the messages of errs.
func errorStrings(errs []error) []string {
	out := []string{}
	for _, err := range errs {
		out = append(out, err.Error())
	}
	return out
}

// checkRowErrors checks that every problem is a *RowError.
func checkRowErrors(tb testing.TB, problems []error) {
	tb.Helper()
	for _, p := range problems {
		var re *RowError
		if !errors.As(p, &re) {
			tb.Errorf("problem %v is %T, not *RowError", p, p)
		}
	}
}

// asJSON renders v for failure messages.
func asJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// line is a shorthand for an order line.
func line(n, buyer, vendor, qty, uom, price, date string) gateway.OrderLine {
	return gateway.OrderLine{LineNumber: n, BuyerItem: buyer, VendorItem: vendor, Quantity: qty, UOM: uom, UnitPrice: price, RequestedDate: date}
}

// order is a shorthand for an order.
func order(source, partner, po, date string, lines ...gateway.OrderLine) gateway.Order {
	return gateway.Order{ID: gateway.OrderID(partner, po), Partner: partner, PONumber: po, PODate: date, Source: source, Lines: lines}
}
