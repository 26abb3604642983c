package recon

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/translators/canonical"
)

const (
	partner = "acme"
	po      = "4500012345"
)

var (
	sentAt = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	// checkAt is after every document of the base case and before any
	// deadline.
	checkAt = sentAt.Add(3 * 24 * time.Hour)
)

func testPolicy() Policy {
	return Policy{
		PricePercent:        MustParseDecimal("0.5"),
		PriceAbsolute:       MustParseDecimal("0.01"),
		DateDays:            2,
		AckWithin:           24 * time.Hour,
		ShipNoticeBy:        ShipNoticeByRequestedDate,
		FunctionalAckWithin: 4 * time.Hour,
	}
}

// baseCase is a PO of three lines, its 850 accepted by a 997 and an 855
// that acknowledges every line as ordered; it has no findings.
func baseCase() *Case {
	lines := []gateway.OrderLine{
		{LineNumber: "1", BuyerItem: "SKU-1", VendorItem: "V-1", Quantity: "10", UOM: "EA", UnitPrice: "12.50", RequestedDate: "2026-12-01"},
		{LineNumber: "2", BuyerItem: "SKU-2", VendorItem: "V-2", Quantity: "5", UOM: "CS", UnitPrice: "100.00", RequestedDate: "2026-12-03"},
		{LineNumber: "3", BuyerItem: "SKU-3", VendorItem: "V-3", Quantity: "1", UOM: "EA", UnitPrice: "0.99", RequestedDate: "2026-12-01"},
	}
	ack := &canonical.POAcknowledgement{PONumber: po, AckType: "AC"}
	for _, l := range lines {
		ack.Lines = append(ack.Lines, canonical.AckLine{
			LineNumber: l.LineNumber, BuyerItem: l.BuyerItem, VendorItem: l.VendorItem,
			OrderedQuantity: l.Quantity, UnitPrice: l.UnitPrice, UOM: l.UOM,
			Status: canonical.StatusAccepted, StatusCode: "IA",
			AckQuantity: l.Quantity, AckUOM: l.UOM, AckUnitPrice: l.UnitPrice, ScheduledDate: l.RequestedDate,
		})
	}
	return &Case{
		Partner:  partner,
		PONumber: po,
		Order: &gateway.Order{
			ID: gateway.OrderID(partner, po), Partner: partner, PONumber: po, PODate: "2026-11-20",
			Lines: lines, Version: 1, ImportedAt: sentAt.Add(-time.Hour),
		},
		Sent: &gateway.SentOrder{Partner: partner, PONumber: po, Transaction: "0001", SentAt: sentAt, AckStatus: gateway.SentAccepted},
		Acks: []Ack{{DocID: "doc-855-1", Received: sentAt.Add(2 * time.Hour), Doc: ack}},
	}
}

func ackLine(c *Case, i int) *canonical.AckLine { return &c.Acks[0].Doc.Lines[i] }

// ship is an 856 shipping qty of lines (line number, quantity pairs) of po.
func ship(id string, at time.Time, po string, lineQty ...string) Shipment {
	var items []canonical.ShipItem
	for i := 0; i+1 < len(lineQty); i += 2 {
		items = append(items, canonical.ShipItem{LineNumber: lineQty[i], QuantityShipped: lineQty[i+1], UOM: "EA"})
	}
	return Shipment{DocID: id, Received: at, Doc: &canonical.ShipNotice{
		ShipmentID: id,
		Orders:     []canonical.ShipOrder{{PONumber: po, Packs: []canonical.Pack{{Items: items}}}},
	}}
}

// invoice bills lines as (line number, quantity, unit price) triples.
func invoice(id, number string, at time.Time, lineQtyPrice ...string) Invoice {
	var lines []canonical.InvoiceLine
	for i := 0; i+2 < len(lineQtyPrice); i += 3 {
		lines = append(lines, canonical.InvoiceLine{LineNumber: lineQtyPrice[i], QuantityInvoiced: lineQtyPrice[i+1], UOM: "EA", UnitPrice: lineQtyPrice[i+2]})
	}
	return Invoice{DocID: id, Received: at, Doc: &canonical.Invoice{InvoiceNumber: number, PONumber: po, Lines: lines}}
}

// short writes a finding's key without partner and PO: rule|line[|extra].
func short(f gateway.Finding) string {
	p := strings.SplitN(f.Key, "|", 5)
	s := p[0] + "|" + p[3]
	if p[4] != "" {
		s += "|" + p[4]
	}
	return s
}

func shorts(fs []gateway.Finding) []string {
	var s []string
	for _, f := range fs {
		s = append(s, short(f))
	}
	slices.Sort(s)
	return s
}

func TestCheck(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		name string
		edit func(c *Case)
		pol  func(p *Policy)
		now  time.Time // checkAt when zero
		want []string
	}{
		{name: "exact match"},

		// 855 line rules.
		{name: "quantity changed", edit: func(c *Case) { ackLine(c, 0).AckQuantity = "8" }, want: []string{"ack_quantity_changed|1"}},
		{name: "quantity equal written differently", edit: func(c *Case) { ackLine(c, 0).AckQuantity = "10.000" }},
		{name: "quantity within tolerance", edit: func(c *Case) { ackLine(c, 0).AckQuantity = "9" }, pol: func(p *Policy) { p.QuantityAbsolute = MustParseDecimal("1") }},
		{name: "quantity beyond tolerance", edit: func(c *Case) { ackLine(c, 0).AckQuantity = "8.5" }, pol: func(p *Policy) { p.QuantityAbsolute = MustParseDecimal("1") }, want: []string{"ack_quantity_changed|1"}},
		{name: "quantity in another unit", edit: func(c *Case) { ackLine(c, 0).AckUOM = "CS" }, want: []string{"ack_quantity_changed|1"}},
		{name: "quantity not a number", edit: func(c *Case) { ackLine(c, 0).AckQuantity = "ten" }, want: []string{"ack_quantity_changed|1"}},
		{name: "no ack quantity", edit: func(c *Case) { ackLine(c, 0).AckQuantity = "" }},
		{name: "price within percent", edit: func(c *Case) { ackLine(c, 1).AckUnitPrice = "100.50" }},
		{name: "price beyond percent", edit: func(c *Case) { ackLine(c, 1).AckUnitPrice = "100.51" }, want: []string{"ack_price_changed|2"}},
		{name: "price within absolute", edit: func(c *Case) { ackLine(c, 2).AckUnitPrice = "1.00" }},
		{name: "price beyond absolute and percent", edit: func(c *Case) { ackLine(c, 2).AckUnitPrice = "1.01" }, want: []string{"ack_price_changed|3"}},
		{name: "price exact policy", edit: func(c *Case) { ackLine(c, 2).AckUnitPrice = "1.00" }, pol: func(p *Policy) { p.PriceAbsolute, p.PricePercent = Decimal{}, Decimal{} }, want: []string{"ack_price_changed|3"}},
		{name: "price equal written differently", edit: func(c *Case) { ackLine(c, 0).AckUnitPrice = "12.5" }, pol: func(p *Policy) { p.PriceAbsolute, p.PricePercent = Decimal{}, Decimal{} }},
		{name: "date within days", edit: func(c *Case) { ackLine(c, 0).ScheduledDate = "2026-12-03" }},
		{name: "date late", edit: func(c *Case) { ackLine(c, 0).ScheduledDate = "2026-12-04" }, want: []string{"ack_date_changed|1"}},
		{name: "date early", edit: func(c *Case) { ackLine(c, 0).ScheduledDate = "2026-11-28" }, want: []string{"ack_date_changed|1"}},
		{name: "date exact policy", edit: func(c *Case) { ackLine(c, 0).ScheduledDate = "2026-12-02" }, pol: func(p *Policy) { p.DateDays = 0 }, want: []string{"ack_date_changed|1"}},
		{name: "no scheduled date", edit: func(c *Case) { ackLine(c, 0).ScheduledDate = "" }},
		{name: "rejected", edit: func(c *Case) {
			l := ackLine(c, 1)
			l.Status, l.StatusCode, l.AckQuantity = canonical.StatusRejected, "IR", "0"
		}, want: []string{"ack_rejected|2"}},
		{name: "backordered", edit: func(c *Case) {
			l := ackLine(c, 0)
			l.Status, l.ScheduledDate = canonical.StatusBackordered, "2026-12-20"
		}, want: []string{"ack_backordered|1", "ack_date_changed|1"}},
		{name: "changed status without changes", edit: func(c *Case) { ackLine(c, 0).Status = canonical.StatusChanged }},
		{name: "vendor item substituted", edit: func(c *Case) { ackLine(c, 0).VendorItem = "V-1B" }, want: []string{"ack_item_substituted|1"}},
		{name: "buyer item substituted", edit: func(c *Case) { ackLine(c, 0).BuyerItem = "SKU-1B" }, want: []string{"ack_item_substituted|1"}},
		{name: "item not echoed", edit: func(c *Case) { ackLine(c, 0).VendorItem, ackLine(c, 0).BuyerItem = "", "" }},
		{name: "order without vendor item", edit: func(c *Case) { c.Order.Lines[0].VendorItem = "" }},
		{name: "line unknown", edit: func(c *Case) {
			c.Acks[0].Doc.Lines = append(c.Acks[0].Doc.Lines, canonical.AckLine{LineNumber: "9", BuyerItem: "SKU-9", Status: canonical.StatusAccepted})
		}, want: []string{"ack_line_unknown|9|SKU-9"}},
		{name: "line missing", edit: func(c *Case) { c.Acks[0].Doc.Lines = c.Acks[0].Doc.Lines[:2] }, want: []string{"ack_line_missing|3"}},
		{name: "exception detail only", edit: func(c *Case) {
			c.Acks[0].Doc.AckType = "AE"
			c.Acks[0].Doc.Lines = c.Acks[0].Doc.Lines[:1]
			ackLine(c, 0).AckQuantity = "7"
		}, want: []string{"ack_quantity_changed|1"}},
		{name: "accepted without detail", edit: func(c *Case) { c.Acks[0].Doc.AckType, c.Acks[0].Doc.Lines = "AT", nil }},
		{name: "rejected without detail", edit: func(c *Case) { c.Acks[0].Doc.AckType, c.Acks[0].Doc.Lines = "RJ", nil },
			want: []string{"ack_rejected|1", "ack_rejected|2", "ack_rejected|3"}},
		{name: "matched by buyer item", edit: func(c *Case) {
			l := ackLine(c, 1)
			l.LineNumber, l.AckQuantity = "", "4"
			c.Acks[0].Doc.Lines[0], c.Acks[0].Doc.Lines[1] = c.Acks[0].Doc.Lines[1], c.Acks[0].Doc.Lines[0]
		}, want: []string{"ack_quantity_changed|2"}},
		{name: "matched by vendor item", edit: func(c *Case) {
			l := ackLine(c, 2)
			l.LineNumber, l.BuyerItem, l.AckQuantity = "", "", "4"
		}, want: []string{"ack_quantity_changed|3"}},
		{name: "line number with leading zeros", edit: func(c *Case) { ackLine(c, 1).LineNumber = "002" }},
		{name: "same line twice", edit: func(c *Case) {
			c.Acks[0].Doc.Lines = append(c.Acks[0].Doc.Lines, *ackLine(c, 0))
			ackLine(c, 0).AckQuantity = "8"
		}, want: []string{"ack_quantity_changed|1"}},
		{name: "latest 855 prevails", edit: func(c *Case) {
			newer := cloneAck(c.Acks[0], "doc-855-2", sentAt.Add(5*time.Hour))
			ackLine(c, 0).AckQuantity = "8" // the older one
			c.Acks = append(c.Acks, newer)
		}},
		{name: "latest 855 prevails in any order", edit: func(c *Case) {
			older := cloneAck(c.Acks[0], "doc-855-0", sentAt.Add(time.Hour))
			ackLine(c, 0).AckQuantity = "8" // the newer one
			c.Acks = append(c.Acks, older)
		}, want: []string{"ack_quantity_changed|1"}},
		{name: "same time: higher document ID prevails", edit: func(c *Case) {
			other := cloneAck(c.Acks[0], "doc-855-0", c.Acks[0].Received)
			other.Doc.Lines[0].AckQuantity = "8"
			c.Acks = append(c.Acks, other)
		}},

		// ack_missing.
		{name: "ack missing", edit: func(c *Case) { c.Acks = nil }, want: []string{"ack_missing|"}},
		{name: "ack not yet due", edit: func(c *Case) { c.Acks = nil }, now: sentAt.Add(23 * time.Hour)},
		{name: "no 855 owed without our 850", edit: func(c *Case) { c.Acks, c.Sent = nil, nil }, now: sentAt.Add(30 * 24 * time.Hour), want: []string{"asn_missing|"}},
		{name: "ack check off", edit: func(c *Case) { c.Acks = nil }, pol: func(p *Policy) { p.AckWithin = 0 }},
		{name: "no ack after a rejected 850", edit: func(c *Case) {
			c.Acks = nil
			c.Sent.AckStatus = gateway.SentRejected
		}, want: []string{"fa_rejected|"}},

		// 856.
		{name: "shipped in two notices", edit: func(c *Case) {
			c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(day), po, "1", "6"), ship("doc-856-2", sentAt.Add(2*day), po, "1", "4", "2", "5", "3", "1")}
		}},
		{name: "over shipped in two notices", edit: func(c *Case) {
			c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(day), po, "1", "6"), ship("doc-856-2", sentAt.Add(2*day), po, "1", "5")}
		}, want: []string{"asn_over_shipped|1"}},
		{name: "over shipped within tolerance", edit: func(c *Case) {
			c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(day), po, "1", "11")}
		}, pol: func(p *Policy) { p.QuantityAbsolute = MustParseDecimal("1") }},
		{name: "shipped more than acknowledged", edit: func(c *Case) {
			ackLine(c, 0).AckQuantity = "8"
			c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(day), po, "1", "10")}
		}, want: []string{"ack_quantity_changed|1", "asn_over_shipped|1"}},
		{name: "shipped a rejected line", edit: func(c *Case) {
			ackLine(c, 0).Status = canonical.StatusRejected
			c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(day), po, "1", "1")}
		}, want: []string{"ack_rejected|1", "asn_over_shipped|1"}},
		{name: "shipped as ordered without 855", edit: func(c *Case) {
			c.Acks = nil
			c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(day), po, "1", "10")}
		}, pol: func(p *Policy) { p.AckWithin = 0 }},
		{name: "another PO in the same notice", edit: func(c *Case) {
			s := ship("doc-856-1", sentAt.Add(day), po, "1", "10")
			other := ship("x", sentAt, "4500099999", "1", "100", "7", "1")
			s.Doc.Orders = append(other.Doc.Orders, s.Doc.Orders...)
			c.Shipments = []Shipment{s}
		}},
		{name: "only another PO in the notice", edit: func(c *Case) {
			c.Shipments = []Shipment{ship("doc-856-9", sentAt.Add(day), "4500099999", "1", "100")}
		}, now: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), want: []string{"asn_missing|"}},
		{name: "unknown item shipped", edit: func(c *Case) {
			s := ship("doc-856-1", sentAt.Add(day), po, "1", "10")
			s.Doc.Orders[0].Packs[0].Items = append(s.Doc.Orders[0].Packs[0].Items, canonical.ShipItem{BuyerItem: "SKU-9", QuantityShipped: "2", UOM: "EA"})
			c.Shipments = []Shipment{s}
		}, want: []string{"asn_unknown_item||doc-856-1:SKU-9"}},
		{name: "shipped by item without line numbers", edit: func(c *Case) {
			s := ship("doc-856-1", sentAt.Add(day), po)
			s.Doc.Orders[0].Packs = []canonical.Pack{
				{SSCC: "1", Items: []canonical.ShipItem{{BuyerItem: "SKU-2", QuantityShipped: "3", UOM: "CS"}}},
				{SSCC: "2", Items: []canonical.ShipItem{{VendorItem: "V-2", QuantityShipped: "3", UOM: "CS"}}},
			}
			c.Shipments = []Shipment{s}
		}, want: []string{"asn_over_shipped|2"}},
		{name: "asn missing after the requested date", edit: func(c *Case) {}, now: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), want: []string{"asn_missing|"}},
		{name: "asn not due on the requested date", now: time.Date(2026, 12, 3, 23, 59, 0, 0, time.UTC)},
		{name: "asn due by the latest line not rejected", edit: func(c *Case) { ackLine(c, 1).Status = canonical.StatusRejected },
			now: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), want: []string{"ack_rejected|2", "asn_missing|"}},
		{name: "no asn when every line was rejected", edit: func(c *Case) { c.Acks[0].Doc.AckType, c.Acks[0].Doc.Lines = "RJ", nil },
			now: time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC), want: []string{"ack_rejected|1", "ack_rejected|2", "ack_rejected|3"}},
		{name: "asn received", edit: func(c *Case) { c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(day), po, "1", "10")} },
			now: time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC)},
		{name: "asn check off", pol: func(p *Policy) { p.ShipNoticeBy = "" }, now: time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC)},
		{name: "asn due after the 855", pol: func(p *Policy) { p.ShipNoticeBy, p.ShipNoticeWithin = "", 48*time.Hour },
			now: sentAt.Add(50*time.Hour + time.Minute), want: []string{"asn_missing|"}},
		{name: "asn not yet due after the 855", pol: func(p *Policy) { p.ShipNoticeBy, p.ShipNoticeWithin = "", 48*time.Hour },
			now: sentAt.Add(49 * time.Hour)},

		// 810.
		{name: "invoiced as shipped", edit: func(c *Case) {
			c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(day), po, "1", "10")}
			c.Invoices = []Invoice{invoice("doc-810-1", "INV-1", sentAt.Add(2*day), "1", "10", "12.50")}
		}},
		{name: "invoice price mismatch", edit: func(c *Case) {
			c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(day), po, "1", "10")}
			c.Invoices = []Invoice{invoice("doc-810-1", "INV-1", sentAt.Add(2*day), "1", "10", "12.75")}
		}, want: []string{"inv_price_mismatch|1|doc-810-1"}},
		{name: "invoice price within tolerance", edit: func(c *Case) {
			c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(day), po, "1", "10")}
			c.Invoices = []Invoice{invoice("doc-810-1", "INV-1", sentAt.Add(2*day), "1", "10", "12.56")}
		}},
		{name: "invoiced before shipping", edit: func(c *Case) {
			c.Invoices = []Invoice{invoice("doc-810-1", "INV-1", sentAt.Add(2*day), "1", "10", "12.50")}
		}, want: []string{"inv_over_invoiced|1"}},
		{name: "over invoiced in two invoices", edit: func(c *Case) {
			c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(day), po, "1", "10")}
			c.Invoices = []Invoice{
				invoice("doc-810-1", "INV-1", sentAt.Add(2*day), "1", "6", "12.50"),
				invoice("doc-810-2", "INV-2", sentAt.Add(3*day), "1", "6", "12.50"),
			}
		}, want: []string{"inv_over_invoiced|1"}},
		{name: "duplicate invoice left out of the sum", edit: func(c *Case) {
			c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(day), po, "1", "10")}
			c.Invoices = []Invoice{
				invoice("doc-810-1", "INV-1", sentAt.Add(2*day), "1", "10", "12.50"),
				invoice("doc-810-2", "INV-1", sentAt.Add(3*day), "1", "10", "12.75"),
			}
			c.Invoices[1].DuplicateOf = "doc-810-1"
		}, want: []string{"inv_duplicate_number||doc-810-2"}},
		{name: "invoice numbers its own lines: matched by item", edit: func(c *Case) {
			c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(day), po, "3", "1")}
			inv := invoice("doc-810-1", "INV-1", sentAt.Add(2*day), "1", "1", "0.99")
			inv.Doc.Lines[0].BuyerItem = "SKU-3" // the PO's line 3
			c.Invoices = []Invoice{inv}
		}},
		{name: "line number with an item of no line: substituted", edit: func(c *Case) {
			ackLine(c, 0).BuyerItem = "SKU-77"
		}, want: []string{"ack_item_substituted|1"}},
		{name: "unknown item invoiced", edit: func(c *Case) {
			c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(day), po, "1", "10")}
			inv := invoice("doc-810-1", "INV-1", sentAt.Add(2*day), "1", "10", "12.50")
			inv.Doc.Lines = append(inv.Doc.Lines, canonical.InvoiceLine{LineNumber: "4", VendorItem: "V-9", QuantityInvoiced: "1", UnitPrice: "1"})
			c.Invoices = []Invoice{inv}
		}, want: []string{"inv_unknown_item|4|doc-810-1:V-9"}},

		// 997/999.
		{name: "fa rejected", edit: func(c *Case) { c.Sent.AckStatus, c.Sent.AckCodes = gateway.SentRejected, []string{"5", "I12"} }, want: []string{"fa_rejected|"}},
		{name: "fa missing", edit: func(c *Case) { c.Sent.AckStatus = gateway.SentPending }, now: sentAt.Add(5 * time.Hour), want: []string{"fa_missing|"}},
		{name: "fa not yet due", edit: func(c *Case) { c.Sent.AckStatus = gateway.SentPending }, now: sentAt.Add(3 * time.Hour)},
		{name: "fa check off", edit: func(c *Case) { c.Sent.AckStatus = gateway.SentPending }, pol: func(p *Policy) { p.FunctionalAckWithin = 0 }},
		{name: "no 850 sent", edit: func(c *Case) { c.Sent = nil }},

		// Unknown PO.
		{name: "unknown PO", edit: func(c *Case) {
			c.Order = nil
			c.Sent.AckStatus = gateway.SentRejected
			c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(day), po, "1", "10"), ship("doc-856-9", sentAt.Add(day), "4500099999", "1", "10")}
			c.Invoices = []Invoice{invoice("doc-810-1", "INV-1", sentAt.Add(2*day), "1", "10", "12.50")}
		}, want: []string{"ack_po_unknown||doc-855-1", "asn_po_unknown||doc-856-1", "inv_po_unknown||doc-810-1"}},
		{name: "unknown PO without documents", edit: func(c *Case) { c.Order, c.Acks = nil, nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := baseCase()
			if tc.edit != nil {
				tc.edit(c)
			}
			pol := testPolicy()
			if tc.pol != nil {
				tc.pol(&pol)
			}
			now := tc.now
			if now.IsZero() {
				now = checkAt
			}
			fs := Check(c, pol, now, nil)
			got := shorts(fs)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("findings %q, want %q", got, want)
				for _, f := range fs {
					t.Logf("%+v", f)
				}
			}
			for _, f := range fs {
				checkFinding(t, f)
			}
		})
	}
}

func cloneAck(a Ack, id string, at time.Time) Ack {
	d := *a.Doc
	d.Lines = slices.Clone(d.Lines)
	return Ack{DocID: id, Received: at, Doc: &d}
}

// checkFinding checks what every finding must have.
func checkFinding(t *testing.T, f gateway.Finding) {
	t.Helper()
	if f.Partner != partner || f.PONumber != po || f.Expected == "" || f.Actual == "" || f.Message == "" {
		t.Errorf("incomplete finding %+v", f)
	}
	if !slices.Contains(Rules(), f.Rule) || !strings.HasPrefix(f.Key, f.Rule+"|"+partner+"|"+po+"|"+f.LineNumber+"|") {
		t.Errorf("finding %+v: bad rule or key", f)
	}
	prefix := partner + " PO " + po
	if f.LineNumber != "" {
		prefix += " line " + f.LineNumber
	}
	if !strings.HasPrefix(f.Message, prefix+": ") || strings.Contains(f.Message, "\n") {
		t.Errorf("message %q does not start with %q", f.Message, prefix)
	}
	switch f.Severity {
	case gateway.SeverityError, gateway.SeverityWarning, gateway.SeverityInfo:
	default:
		t.Errorf("finding %+v: bad severity", f)
	}
}

func TestCheckFindingText(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *Case)
		now  time.Time
		want gateway.Finding
	}{
		{"quantity", func(c *Case) { ackLine(c, 0).AckQuantity = "8" }, checkAt, gateway.Finding{
			Key: "ack_quantity_changed|acme|4500012345|1|", Rule: "ack_quantity_changed", Partner: partner, PONumber: po, LineNumber: "1",
			Expected: "10 EA", Actual: "8 EA", Severity: gateway.SeverityWarning, Document: "doc-855-1",
			Message: "acme PO 4500012345 line 1: supplier acknowledged 8 EA, ordered 10 EA",
		}},
		{"price", func(c *Case) { ackLine(c, 0).AckUnitPrice = "13.1" }, checkAt, gateway.Finding{
			Key: "ack_price_changed|acme|4500012345|1|", Rule: "ack_price_changed", Partner: partner, PONumber: po, LineNumber: "1",
			Expected: "12.50", Actual: "13.10", Severity: gateway.SeverityWarning, Document: "doc-855-1",
			Message: "acme PO 4500012345 line 1: supplier acknowledged unit price 13.10, ordered 12.50",
		}},
		{"date", func(c *Case) { ackLine(c, 0).ScheduledDate = "2026-12-05" }, checkAt, gateway.Finding{
			Key: "ack_date_changed|acme|4500012345|1|", Rule: "ack_date_changed", Partner: partner, PONumber: po, LineNumber: "1",
			Expected: "2026-12-01", Actual: "2026-12-05", Severity: gateway.SeverityWarning, Document: "doc-855-1",
			Message: "acme PO 4500012345 line 1: supplier scheduled 2026-12-05, requested 2026-12-01 (4 days late)",
		}},
		{"ack missing", func(c *Case) { c.Acks = nil }, checkAt, gateway.Finding{
			Key: "ack_missing|acme|4500012345||", Rule: "ack_missing", Partner: partner, PONumber: po,
			Expected: "855 by 2026-11-21T10:00Z", Actual: "none", Severity: gateway.SeverityWarning,
			Message: "acme PO 4500012345: no 855 received; it was due by 2026-11-21T10:00Z, 24h0m0s after our 850 of 2026-11-20T10:00Z",
		}},
		{"over shipped", func(c *Case) {
			c.Shipments = []Shipment{ship("doc-856-2", sentAt.Add(48*time.Hour), po, "1", "5"), ship("doc-856-1", sentAt.Add(24*time.Hour), po, "1", "6")}
		}, checkAt, gateway.Finding{
			Key: "asn_over_shipped|acme|4500012345|1|", Rule: "asn_over_shipped", Partner: partner, PONumber: po, LineNumber: "1",
			Expected: "10 EA", Actual: "11 EA", Severity: gateway.SeverityError, Document: "doc-856-2",
			Message: "acme PO 4500012345 line 1: supplier shipped 11 EA in 2 ship notices, acknowledged 10 EA",
		}},
		{"fa rejected", func(c *Case) { c.Sent.AckStatus, c.Sent.AckCodes = gateway.SentRejected, []string{"5", "I12"} }, checkAt, gateway.Finding{
			Key: "fa_rejected|acme|4500012345||", Rule: "fa_rejected", Partner: partner, PONumber: po,
			Expected: "accepted", Actual: "rejected (5, I12)", Severity: gateway.SeverityError,
			Message: "acme PO 4500012345: the partner's 997/999 rejected our 850 (set 0001) with codes 5, I12",
		}},
		{"asn missing", nil, time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), gateway.Finding{
			Key: "asn_missing|acme|4500012345||", Rule: "asn_missing", Partner: partner, PONumber: po,
			Expected: "856 by 2026-12-03", Actual: "none", Severity: gateway.SeverityWarning,
			Message: "acme PO 4500012345: no 856 received; it was due by the requested date 2026-12-03",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := baseCase()
			if tc.edit != nil {
				tc.edit(c)
			}
			fs := Check(c, testPolicy(), tc.now, nil)
			if len(fs) != 1 || fs[0] != tc.want {
				t.Errorf("findings\n%+v\nwant\n%+v", fs, tc.want)
			}
		})
	}
}

func TestCheckKeysStable(t *testing.T) {
	c := baseCase()
	ackLine(c, 0).AckQuantity = "8"
	ackLine(c, 1).AckUnitPrice = "120"
	c.Shipments = []Shipment{ship("doc-856-1", sentAt.Add(24*time.Hour), po, "1", "9", "8", "1")}
	c.Invoices = []Invoice{invoice("doc-810-1", "INV-1", sentAt.Add(48*time.Hour), "1", "9", "13")}
	pol := testPolicy()

	first := Check(c, pol, checkAt, nil)
	second := Check(c, pol, checkAt, nil)
	if !slices.Equal(first, second) {
		t.Fatalf("a rerun differs:\n%+v\n%+v", first, second)
	}
	if len(first) != 5 {
		t.Errorf("%d findings, want 5: %q", len(first), shorts(first))
	}

	// A later 855 changes the quantity again: same key, new Actual.
	newer := cloneAck(c.Acks[0], "doc-855-2", sentAt.Add(30*time.Hour))
	newer.Doc.Lines[0].AckQuantity = "7"
	c.Acks = append(c.Acks, newer)
	third := Check(c, pol, checkAt, nil)
	if !slices.Equal(shorts(first), shorts(third)) {
		t.Fatalf("keys changed with the new 855: %q, %q", shorts(first), shorts(third))
	}
	get := func(fs []gateway.Finding, rule string) gateway.Finding {
		for _, f := range fs {
			if f.Rule == rule {
				return f
			}
		}
		t.Fatalf("no %s", rule)
		return gateway.Finding{}
	}
	a, b := get(first, RuleAckQuantityChanged), get(third, RuleAckQuantityChanged)
	if a.Key != b.Key || a.Actual != "8 EA" || b.Actual != "7 EA" || b.Document != "doc-855-2" {
		t.Errorf("before %+v\nafter %+v", a, b)
	}
}

func TestCheckAppends(t *testing.T) {
	c := baseCase()
	ackLine(c, 0).AckQuantity = "8"
	out := []gateway.Finding{{Key: "earlier"}}
	out = Check(c, testPolicy(), checkAt, out)
	if len(out) != 2 || out[0].Key != "earlier" || out[1].Rule != RuleAckQuantityChanged {
		t.Errorf("Check did not append: %+v", out)
	}
}

func TestCheckUnknownItemSummed(t *testing.T) {
	c := baseCase()
	s := ship("doc-856-1", sentAt.Add(24*time.Hour), po)
	item := canonical.ShipItem{VendorItem: "V-9", QuantityShipped: "2", UOM: "EA"}
	s.Doc.Orders[0].Packs = []canonical.Pack{{SSCC: "1", Items: []canonical.ShipItem{item}}, {SSCC: "2", Items: []canonical.ShipItem{item}}}
	c.Shipments = []Shipment{s}
	fs := Check(c, testPolicy(), checkAt, nil)
	if len(fs) != 1 || fs[0].Actual != "item V-9, 4 EA" {
		t.Errorf("findings %+v", fs)
	}
}

// TestCheckLargeOrder uses the maps of orders of more than 32 lines.
func TestCheckLargeOrder(t *testing.T) {
	c := baseCase()
	c.Acks = nil
	c.Sent = nil
	for i := 4; i <= 100; i++ {
		n := itoa(i)
		c.Order.Lines = append(c.Order.Lines, gateway.OrderLine{LineNumber: n, BuyerItem: "SKU-" + n, VendorItem: "V-" + n, Quantity: "1", UOM: "EA", UnitPrice: "1"})
	}
	s := ship("doc-856-1", sentAt.Add(24*time.Hour), po, "0050", "2", "100", "1", "101", "1")
	s.Doc.Orders[0].Packs[0].Items = append(s.Doc.Orders[0].Packs[0].Items,
		canonical.ShipItem{BuyerItem: "SKU-60", QuantityShipped: "3"}, canonical.ShipItem{VendorItem: "V-70", QuantityShipped: "1"})
	c.Shipments = []Shipment{s}
	got := shorts(Check(c, testPolicy(), c.Order.ImportedAt, nil))
	want := []string{"asn_over_shipped|50", "asn_over_shipped|60", "asn_unknown_item|101|doc-856-1:"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestCheckAllocations(t *testing.T) {
	c := baseCase()
	pol := testPolicy()
	out := make([]gateway.Finding, 0, 8)
	if n := testing.AllocsPerRun(100, func() { out = Check(c, pol, checkAt, out[:0]) }); n != 0 {
		t.Errorf("Check without findings allocates %v times", n)
	}
}
