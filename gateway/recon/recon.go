// Package recon is the reconciliation engine: it compares what the ERP
// ordered (and the 850 we sent for it) with the supplier's 855
// acknowledgements, 856 ship notices and 810 invoices, and with the
// 997/999 verdict on our 850, and returns the discrepancies as findings.
//
// It is pure: no I/O, no clock, no store. A runner loads one Case per
// purchase order, calls Check and records the findings as exceptions.
// A finding's Key is deterministic, so a rerun finds the same Keys; keys
// of 855 rules leave out the 855's document ID, so a later 855 that
// changes a value gives the same Key with a different Actual.
package recon

import (
	"strconv"
	"strings"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/translators/canonical"
)

// Rules. The names are an API: exceptions, reports and ERP decisions
// carry them.
const (
	RuleAckPOUnknown       = "ack_po_unknown"
	RuleAckRejected        = "ack_rejected"
	RuleAckBackordered     = "ack_backordered"
	RuleAckItemSubstituted = "ack_item_substituted"
	RuleAckQuantityChanged = "ack_quantity_changed"
	RuleAckPriceChanged    = "ack_price_changed"
	RuleAckDateChanged     = "ack_date_changed"
	RuleAckLineUnknown     = "ack_line_unknown"
	RuleAckLineMissing     = "ack_line_missing"
	RuleAckMissing         = "ack_missing"
	RuleASNPOUnknown       = "asn_po_unknown"
	RuleASNOverShipped     = "asn_over_shipped"
	RuleASNUnknownItem     = "asn_unknown_item"
	RuleASNMissing         = "asn_missing"
	RuleInvPOUnknown       = "inv_po_unknown"
	RuleInvPriceMismatch   = "inv_price_mismatch"
	RuleInvOverInvoiced    = "inv_over_invoiced"
	RuleInvUnknownItem     = "inv_unknown_item"
	RuleInvDuplicateNumber = "inv_duplicate_number"
	RuleFARejected         = "fa_rejected"
	RuleFAMissing          = "fa_missing"
)

// Rules lists every rule name.
func Rules() []string {
	return []string{
		RuleAckPOUnknown, RuleAckRejected, RuleAckBackordered, RuleAckItemSubstituted,
		RuleAckQuantityChanged, RuleAckPriceChanged, RuleAckDateChanged, RuleAckLineUnknown,
		RuleAckLineMissing, RuleAckMissing, RuleASNPOUnknown, RuleASNOverShipped,
		RuleASNUnknownItem, RuleASNMissing, RuleInvPOUnknown, RuleInvPriceMismatch,
		RuleInvOverInvoiced, RuleInvUnknownItem, RuleInvDuplicateNumber, RuleFARejected,
		RuleFAMissing,
	}
}

// Ack is an 855 received for the case's PO.
type Ack struct {
	DocID    string
	Received time.Time
	Doc      *canonical.POAcknowledgement
}

// Shipment is an 856 that mentions the case's PO. One ship notice may
// cover several POs: only its Doc.Orders with the case's PONumber count.
type Shipment struct {
	DocID    string
	Received time.Time
	Doc      *canonical.ShipNotice
}

// Invoice is an 810 for the case's PO.
type Invoice struct {
	DocID    string
	Received time.Time
	Doc      *canonical.Invoice
	// DuplicateOf is the document ID of an earlier invoice from the
	// same partner with the same invoice number (the caller finds it).
	DuplicateOf string
}

// Case is everything known about one purchase order of one partner.
type Case struct {
	Partner, PONumber string
	Order             *gateway.Order     // nil: the ERP does not know this PO
	Sent              *gateway.SentOrder // nil: we sent no 850
	Acks              []Ack
	Shipments         []Shipment
	Invoices          []Invoice
}

// lineState is what the documents say of one order line.
type lineState struct {
	ack       *canonical.AckLine // the latest 855's line for it
	rejected  bool               // by the latest 855 (line or header)
	shipped   Decimal
	shipDoc   int32 // 1 + index in Case.Shipments of the latest notice shipping it; 0: none
	shipSeen  int32 // 1 + index of the last notice counted in shipDocs
	shipDocs  int32
	invoiced  Decimal
	invDoc    int32 // 1 + index in Case.Invoices, as shipDoc
	invSeen   int32
	invDocs   int32
	badShip   bool // a shipped quantity was not a number
	badInvQty bool // an invoiced quantity was not a number
}

// smallOrder is how many lines are checked without a heap allocation and
// found by scanning rather than through maps.
const smallOrder = 32

type checker struct {
	*emitter
	pol   Policy
	now   time.Time
	lines []gateway.OrderLine
	st    []lineState
	m     matcher
}

// emitter builds findings. It is apart from checker so that the line
// states, which checker points to, can live on the stack.
type emitter struct {
	c   *Case
	out []gateway.Finding
}

// Check appends the case's findings to out and returns it. It allocates
// only for the findings themselves (and for orders of more than 32
// lines). Findings come in a fixed order for a given case, and no two
// share a Key.
func Check(c *Case, pol Policy, now time.Time, out []gateway.Finding) []gateway.Finding {
	start := len(out)
	if c.Order == nil {
		return unknownPO(c, out)
	}
	var buf [smallOrder]lineState
	em := emitter{c: c, out: out}
	k := checker{emitter: &em, pol: pol, now: now, lines: c.Order.Lines}
	if n := len(k.lines); n <= smallOrder {
		k.st = buf[:n]
	} else {
		k.st = make([]lineState, n)
	}
	k.m = matcher{lines: k.lines}
	k.functionalAck()
	latest := k.acks()
	k.shipments(latest)
	k.invoices()
	return dedupe(em.out, start)
}

// unknownPO reports every document of a PO the ERP does not know.
func unknownPO(c *Case, out []gateway.Finding) []gateway.Finding {
	f := func(rule, kind, doc, verb string) {
		out = append(out, gateway.Finding{
			Key:      key(rule, c.Partner, c.PONumber, "", doc),
			Rule:     rule,
			Partner:  c.Partner,
			PONumber: c.PONumber,
			Expected: "PO in the ERP",
			Actual:   "unknown PO",
			Severity: gateway.SeverityError,
			Document: doc,
			Message:  c.Partner + " PO " + c.PONumber + ": " + kind + " " + doc + " " + verb + " a PO the ERP does not know",
		})
	}
	for i := range c.Acks {
		f(RuleAckPOUnknown, "855", c.Acks[i].DocID, "acknowledges")
	}
	for i := range c.Shipments {
		s := &c.Shipments[i]
		if s.Doc != nil && !covers(s.Doc, c.PONumber) {
			continue
		}
		f(RuleASNPOUnknown, "856", s.DocID, "ships")
	}
	for i := range c.Invoices {
		f(RuleInvPOUnknown, "810", c.Invoices[i].DocID, "invoices")
	}
	return out
}

func covers(sn *canonical.ShipNotice, po string) bool {
	for i := range sn.Orders {
		if sn.Orders[i].PONumber == po {
			return true
		}
	}
	return false
}

// key is rule|partner|po|line|extra.
func key(rule, partner, po, line, extra string) string {
	return rule + "|" + partner + "|" + po + "|" + line + "|" + extra
}

func (k *emitter) add(rule, severity, line, extra, doc, expected, actual, msg string) {
	prefix := k.c.Partner + " PO " + k.c.PONumber
	if line != "" {
		prefix += " line " + line
	}
	k.out = append(k.out, gateway.Finding{
		Key:        key(rule, k.c.Partner, k.c.PONumber, line, extra),
		Rule:       rule,
		Partner:    k.c.Partner,
		PONumber:   k.c.PONumber,
		LineNumber: line,
		Expected:   expected,
		Actual:     actual,
		Severity:   severity,
		Document:   doc,
		Message:    prefix + ": " + msg,
	})
}

// functionalAck checks the 997/999 verdict on our 850.
func (k *checker) functionalAck() {
	s := k.c.Sent
	if s == nil {
		return
	}
	switch s.AckStatus {
	case gateway.SentRejected:
		actual := "rejected"
		if len(s.AckCodes) > 0 {
			actual += " (" + strings.Join(s.AckCodes, ", ") + ")"
		}
		msg := "the partner's 997/999 rejected our 850"
		if s.Transaction != "" {
			msg += " (set " + s.Transaction + ")"
		}
		if len(s.AckCodes) > 0 {
			msg += " with codes " + strings.Join(s.AckCodes, ", ")
		}
		k.add(RuleFARejected, gateway.SeverityError, "", "", "", "accepted", actual, msg)
	case gateway.SentPending, "":
		if k.pol.FunctionalAckWithin <= 0 || s.SentAt.IsZero() {
			return
		}
		due := s.SentAt.Add(k.pol.FunctionalAckWithin)
		if k.now.After(due) {
			k.add(RuleFAMissing, gateway.SeverityWarning, "", "", "", "997/999 by "+stamp(due), "none",
				"no 997/999 received for our 850 of "+stamp(s.SentAt)+"; it was due by "+stamp(due))
		}
	}
}

// acks checks the latest 855, or its absence, and returns it.
func (k *checker) acks() *Ack {
	c := k.c
	var latest *Ack
	for i := range c.Acks {
		a := &c.Acks[i]
		if a.Doc == nil {
			continue
		}
		if latest == nil || a.Received.After(latest.Received) || a.Received.Equal(latest.Received) && a.DocID > latest.DocID {
			latest = a
		}
	}
	if latest == nil {
		k.ackMissing()
		return nil
	}
	doc := latest.Doc
	for i := range doc.Lines {
		al := &doc.Lines[i]
		j := k.m.find(al.LineNumber, al.BuyerItem, al.VendorItem, i)
		if j < 0 {
			item := itemID(al.BuyerItem, al.VendorItem, "")
			k.add(RuleAckLineUnknown, gateway.SeverityError, al.LineNumber, item, latest.DocID,
				"a line of the order", describeLine(al.LineNumber, item),
				"855 "+latest.DocID+" acknowledges "+describeLine(al.LineNumber, item)+", which is not on the order")
			continue
		}
		if k.st[j].ack != nil {
			continue // the same line twice: the first counts
		}
		k.st[j].ack = al
		k.ackLine(j, al, latest.DocID)
	}
	// Lines the 855 does not mention: the header may speak for them.
	unmentioned := ""
	switch doc.AckType {
	case "AK", "AE": // acknowledged without detail, or with exceptions only
		unmentioned = canonical.StatusAccepted
	case "AT": // accepted: without lines, the whole order
		if len(doc.Lines) == 0 {
			unmentioned = canonical.StatusAccepted
		}
	case "RJ": // rejected, no detail
		unmentioned = canonical.StatusRejected
	}
	for j := range k.lines {
		if k.st[j].ack != nil {
			continue
		}
		ol := &k.lines[j]
		switch unmentioned {
		case canonical.StatusAccepted:
		case canonical.StatusRejected:
			k.st[j].rejected = true
			k.add(RuleAckRejected, gateway.SeverityError, ol.LineNumber, "", latest.DocID,
				qty(ol.Quantity, ol.UOM), "rejected ("+doc.AckType+")",
				"855 "+latest.DocID+" rejects the whole order (BAK02 "+doc.AckType+"), ordered "+qty(ol.Quantity, ol.UOM))
		default:
			k.add(RuleAckLineMissing, gateway.SeverityWarning, ol.LineNumber, "", latest.DocID,
				qty(ol.Quantity, ol.UOM), "not acknowledged",
				"855 "+latest.DocID+" does not acknowledge the line, ordered "+qty(ol.Quantity, ol.UOM))
		}
	}
	return latest
}

// ackMissing reports an 855 overdue.
func (k *checker) ackMissing() {
	if k.pol.AckWithin <= 0 {
		return
	}
	// An 855 is owed for the 850s we sent: an order the ERP placed some
	// other way (by mail, through a portal) is not acknowledged by EDI.
	s := k.c.Sent
	if s == nil || s.SentAt.IsZero() || s.AckStatus == gateway.SentRejected {
		return // (when rejected, fa_rejected says why no 855 comes)
	}
	base, what := s.SentAt, "our 850"
	due := base.Add(k.pol.AckWithin)
	if k.now.After(due) {
		k.add(RuleAckMissing, gateway.SeverityWarning, "", "", "", "855 by "+stamp(due), "none",
			"no 855 received; it was due by "+stamp(due)+", "+k.pol.AckWithin.String()+" after "+what+" of "+stamp(base))
	}
}

// ackLine checks one 855 line against its order line.
func (k *checker) ackLine(j int, al *canonical.AckLine, doc string) {
	ol := &k.lines[j]
	ln := ol.LineNumber
	switch al.Status {
	case canonical.StatusRejected:
		k.st[j].rejected = true
		actual := "rejected"
		if al.StatusCode != "" {
			actual += " (" + al.StatusCode + ")"
		}
		k.add(RuleAckRejected, gateway.SeverityError, ln, "", doc, qty(ol.Quantity, ol.UOM), actual,
			"supplier rejected the line, ordered "+qty(ol.Quantity, ol.UOM))
		return
	case canonical.StatusBackordered:
		msg := "supplier backordered the line, ordered " + qty(ol.Quantity, ol.UOM)
		if al.ScheduledDate != "" {
			msg += ", scheduled " + al.ScheduledDate
		}
		k.add(RuleAckBackordered, gateway.SeverityWarning, ln, "", doc, qty(ol.Quantity, ol.UOM), "backordered", msg)
	}
	bsub := al.BuyerItem != "" && ol.BuyerItem != "" && al.BuyerItem != ol.BuyerItem
	vsub := al.VendorItem != "" && ol.VendorItem != "" && al.VendorItem != ol.VendorItem
	if bsub || vsub {
		exp, act := items(ol.BuyerItem, ol.VendorItem, bsub, vsub), items(al.BuyerItem, al.VendorItem, bsub, vsub)
		k.add(RuleAckItemSubstituted, gateway.SeverityWarning, ln, "", doc, exp, act,
			"supplier acknowledged "+act+", ordered "+exp)
	}
	if al.AckQuantity != "" {
		uom := ol.UOM
		if al.AckUOM != "" {
			uom = al.AckUOM
		}
		if al.AckQuantity != ol.Quantity || uom != ol.UOM {
			a, ra := parseDecimal(al.AckQuantity, true)
			o, ro := parseDecimal(ol.Quantity, true)
			if uom != ol.UOM || ra != parseOK || ro != parseOK || !withinQty(a, o, k.pol.QuantityAbsolute) {
				exp, act := qty(ol.Quantity, ol.UOM), qty(al.AckQuantity, uom)
				k.add(RuleAckQuantityChanged, gateway.SeverityWarning, ln, "", doc, exp, act,
					"supplier acknowledged "+act+", ordered "+exp)
			}
		}
	}
	if al.AckUnitPrice != "" && ol.UnitPrice != "" && al.AckUnitPrice != ol.UnitPrice {
		a, ra := parseDecimal(al.AckUnitPrice, true)
		o, ro := parseDecimal(ol.UnitPrice, true)
		if ra != parseOK || ro != parseOK || !withinPrice(a, o, k.pol.PriceAbsolute, k.pol.PricePercent) {
			exp, act := price(ol.UnitPrice), price(al.AckUnitPrice)
			k.add(RuleAckPriceChanged, gateway.SeverityWarning, ln, "", doc, exp, act,
				"supplier acknowledged unit price "+act+", ordered "+exp)
		}
	}
	if al.ScheduledDate != "" && ol.RequestedDate != "" && al.ScheduledDate != ol.RequestedDate {
		a, oka := parseDay(al.ScheduledDate)
		o, oko := parseDay(ol.RequestedDate)
		if !oka || !oko || absInt(a-o) > int64(max(k.pol.DateDays, 0)) {
			msg := "supplier scheduled " + al.ScheduledDate + ", requested " + ol.RequestedDate
			if oka && oko {
				msg += " (" + days(a-o) + ")"
			}
			k.add(RuleAckDateChanged, gateway.SeverityWarning, ln, "", doc, ol.RequestedDate, al.ScheduledDate, msg)
		}
	}
}

// unknownItem is a document's item that matches no order line, summed
// over the document.
type unknownItem struct {
	line, item, uom string
	qty             Decimal
	bad             bool
}

func addUnknown(unk []unknownItem, line, item, q, uom string) []unknownItem {
	d, r := parseDecimal(q, true)
	for i := range unk {
		if unk[i].line == line && unk[i].item == item {
			unk[i].qty = unk[i].qty.Add(d)
			unk[i].bad = unk[i].bad || r != parseOK
			return unk
		}
	}
	return append(unk, unknownItem{line: line, item: item, uom: uom, qty: d, bad: r != parseOK})
}

func (u *unknownItem) quantity() string {
	if u.bad {
		return "?" + unitSuffix(u.uom)
	}
	return u.qty.String() + unitSuffix(u.uom)
}

// shipments sums the 856s per order line and checks them against what was
// acknowledged, and whether an 856 is overdue.
func (k *checker) shipments(latest *Ack) {
	c := k.c
	var unk []unknownItem
	notices := 0
	for si := range c.Shipments {
		sh := &c.Shipments[si]
		if sh.Doc == nil {
			continue
		}
		seen := false
		unk = unk[:0]
		for oi := range sh.Doc.Orders {
			so := &sh.Doc.Orders[oi]
			if so.PONumber != c.PONumber {
				continue
			}
			seen = true
			hint := 0
			for pi := range so.Packs {
				its := so.Packs[pi].Items
				for ii := range its {
					it := &its[ii]
					j := k.m.find(it.LineNumber, it.BuyerItem, it.VendorItem, hint)
					if j < 0 {
						unk = addUnknown(unk, it.LineNumber, itemID(it.BuyerItem, it.VendorItem, it.GTIN), it.QuantityShipped, it.UOM)
						continue
					}
					hint = j + 1
					s := &k.st[j]
					q, r := parseDecimal(it.QuantityShipped, true)
					if r != parseOK {
						s.badShip = true
					} else {
						s.shipped = s.shipped.Add(q)
					}
					if s.shipSeen != int32(si+1) {
						s.shipSeen = int32(si + 1)
						s.shipDocs++
					}
					if s.shipDoc == 0 || laterShip(sh, &c.Shipments[s.shipDoc-1]) {
						s.shipDoc = int32(si + 1)
					}
				}
			}
		}
		if seen {
			notices++
		}
		for i := range unk {
			u := &unk[i]
			k.add(RuleASNUnknownItem, gateway.SeverityError, u.line, sh.DocID+":"+u.item, sh.DocID,
				"an item of the order", describeLine(u.line, u.item)+", "+u.quantity(),
				"856 "+sh.DocID+" ships "+describeLine(u.line, u.item)+" ("+u.quantity()+"), which is not on the order")
		}
	}
	for j := range k.st {
		s := &k.st[j]
		if s.shipDoc == 0 {
			continue
		}
		ol := &k.lines[j]
		agreed, what, ok := k.agreed(j)
		if !ok {
			continue
		}
		if !s.badShip && (s.shipped.Cmp(agreed) <= 0 || withinQty(s.shipped, agreed, k.pol.QuantityAbsolute)) {
			continue
		}
		shipped := "?" + unitSuffix(ol.UOM)
		if !s.badShip {
			shipped = s.shipped.String() + unitSuffix(ol.UOM)
		}
		exp := agreed.String() + unitSuffix(ol.UOM)
		k.add(RuleASNOverShipped, gateway.SeverityError, ol.LineNumber, "", c.Shipments[s.shipDoc-1].DocID, exp, shipped,
			"supplier shipped "+shipped+" in "+count(int(s.shipDocs), "ship notice")+", "+what+" "+exp)
	}
	if notices == 0 {
		k.asnMissing(latest)
	}
}

// agreed is the quantity the supplier may ship for line j: none when the
// latest 855 rejected it, its acknowledged quantity, else the ordered one.
func (k *checker) agreed(j int) (Decimal, string, bool) {
	s := &k.st[j]
	if s.rejected {
		return Decimal{}, "acknowledged", true
	}
	if s.ack != nil && s.ack.AckQuantity != "" {
		if d, r := parseDecimal(s.ack.AckQuantity, true); r == parseOK {
			return d, "acknowledged", true
		}
	}
	d, r := parseDecimal(k.lines[j].Quantity, true)
	return d, "ordered", r == parseOK
}

func laterShip(a, b *Shipment) bool {
	return a.Received.After(b.Received) || a.Received.Equal(b.Received) && a.DocID > b.DocID
}

func laterInvoice(a, b *Invoice) bool {
	return a.Received.After(b.Received) || a.Received.Equal(b.Received) && a.DocID > b.DocID
}

// asnMissing reports an 856 overdue, unless every line was rejected.
func (k *checker) asnMissing(latest *Ack) {
	live := false
	last := int64(-1 << 62)
	for j := range k.lines {
		if k.st[j].rejected {
			continue
		}
		live = true
		if d, ok := parseDay(k.lines[j].RequestedDate); ok && d > last {
			last = d
		}
	}
	if !live {
		return
	}
	switch {
	case k.pol.ShipNoticeBy == ShipNoticeByRequestedDate:
		if last == -1<<62 {
			return
		}
		due := time.Unix((last+1)*86400, 0).UTC() // the end of the day
		if !k.now.Before(due) {
			date := formatDay(last)
			k.add(RuleASNMissing, gateway.SeverityWarning, "", "", "", "856 by "+date, "none",
				"no 856 received; it was due by the requested date "+date)
		}
	case k.pol.ShipNoticeBy == "" && k.pol.ShipNoticeWithin > 0 && latest != nil:
		due := latest.Received.Add(k.pol.ShipNoticeWithin)
		if k.now.After(due) {
			k.add(RuleASNMissing, gateway.SeverityWarning, "", "", latest.DocID, "856 by "+stamp(due), "none",
				"no 856 received; it was due by "+stamp(due)+", "+k.pol.ShipNoticeWithin.String()+" after 855 "+latest.DocID)
		}
	}
}

// invoices checks each 810 line against the order and the invoiced totals
// against what was shipped.
func (k *checker) invoices() {
	c := k.c
	var unk []unknownItem
	for ii := range c.Invoices {
		inv := &c.Invoices[ii]
		if inv.Doc == nil {
			continue
		}
		num := inv.Doc.InvoiceNumber
		if inv.DuplicateOf != "" {
			k.add(RuleInvDuplicateNumber, gateway.SeverityError, "", inv.DocID, inv.DocID,
				"a new invoice number", "invoice "+num+" again, first "+inv.DuplicateOf,
				"810 "+inv.DocID+" repeats invoice number "+num+" of 810 "+inv.DuplicateOf)
			continue
		}
		unk = unk[:0]
		for li := range inv.Doc.Lines {
			il := &inv.Doc.Lines[li]
			j := k.m.find(il.LineNumber, il.BuyerItem, il.VendorItem, li)
			if j < 0 {
				unk = addUnknown(unk, il.LineNumber, itemID(il.BuyerItem, il.VendorItem, ""), il.QuantityInvoiced, il.UOM)
				continue
			}
			ol := &k.lines[j]
			s := &k.st[j]
			if q, r := parseDecimal(il.QuantityInvoiced, true); r != parseOK {
				s.badInvQty = true
			} else {
				s.invoiced = s.invoiced.Add(q)
			}
			if s.invSeen != int32(ii+1) {
				s.invSeen = int32(ii + 1)
				s.invDocs++
			}
			if s.invDoc == 0 || laterInvoice(inv, &c.Invoices[s.invDoc-1]) {
				s.invDoc = int32(ii + 1)
			}
			if il.UnitPrice != "" && ol.UnitPrice != "" && il.UnitPrice != ol.UnitPrice {
				a, ra := parseDecimal(il.UnitPrice, true)
				o, ro := parseDecimal(ol.UnitPrice, true)
				if ra != parseOK || ro != parseOK || !withinPrice(a, o, k.pol.PriceAbsolute, k.pol.PricePercent) {
					exp, act := price(ol.UnitPrice), price(il.UnitPrice)
					k.add(RuleInvPriceMismatch, gateway.SeverityError, ol.LineNumber, inv.DocID, inv.DocID, exp, act,
						"invoice "+num+" bills unit price "+act+", ordered "+exp)
				}
			}
		}
		for i := range unk {
			u := &unk[i]
			k.add(RuleInvUnknownItem, gateway.SeverityError, u.line, inv.DocID+":"+u.item, inv.DocID,
				"an item of the order", describeLine(u.line, u.item)+", "+u.quantity(),
				"invoice "+num+" bills "+describeLine(u.line, u.item)+" ("+u.quantity()+"), which is not on the order")
		}
	}
	for j := range k.st {
		s := &k.st[j]
		if s.invDoc == 0 {
			continue
		}
		if !s.badInvQty && (s.invoiced.Cmp(s.shipped) <= 0 || withinQty(s.invoiced, s.shipped, k.pol.QuantityAbsolute)) {
			continue
		}
		ol := &k.lines[j]
		invoiced := "?" + unitSuffix(ol.UOM)
		if !s.badInvQty {
			invoiced = s.invoiced.String() + unitSuffix(ol.UOM)
		}
		shipped := s.shipped.String() + unitSuffix(ol.UOM)
		k.add(RuleInvOverInvoiced, gateway.SeverityError, ol.LineNumber, "", c.Invoices[s.invDoc-1].DocID, shipped, invoiced,
			"supplier invoiced "+invoiced+" in "+count(int(s.invDocs), "invoice")+", shipped "+shipped)
	}
}

// dedupe drops findings of out[start:] whose Key came earlier.
func dedupe(out []gateway.Finding, start int) []gateway.Finding {
	fs := out[start:]
	if len(fs) < 2 {
		return out
	}
	n := 0
	if len(fs) <= smallOrder {
	next:
		for i := range fs {
			for _, f := range fs[:n] {
				if f.Key == fs[i].Key {
					continue next
				}
			}
			fs[n] = fs[i]
			n++
		}
	} else {
		seen := make(map[string]struct{}, len(fs))
		for i := range fs {
			if _, dup := seen[fs[i].Key]; dup {
				continue
			}
			seen[fs[i].Key] = struct{}{}
			fs[n] = fs[i]
			n++
		}
	}
	clear(fs[n:])
	return out[:start+n]
}

// matcher finds the order line a document line is about: by line number
// when the items agree, else by buyer item, then vendor item. Invoices
// and ship notices often number their own lines, so a line number that
// names another item gives way to the item; when the item matches no
// line, the line number stands (an item substituted on that line).
type matcher struct {
	lines                  []gateway.OrderLine
	byNum, byBuyer, byVend map[string]int // built for large orders only
}

// find returns the index of the order line, or -1. hint is where the line
// probably is (documents usually follow the order).
func (m *matcher) find(num, buyer, vendor string, hint int) int {
	if num == "" {
		return m.byItems(buyer, vendor)
	}
	j := m.byNumber(num, hint)
	if j >= 0 && m.agrees(j, buyer, vendor) {
		return j
	}
	if k := m.byItems(buyer, vendor); k >= 0 {
		return k
	}
	return j
}

// agrees reports whether order line j has no item that contradicts the
// document line's.
func (m *matcher) agrees(j int, buyer, vendor string) bool {
	l := &m.lines[j]
	if buyer != "" && l.BuyerItem != "" && buyer != l.BuyerItem {
		return false
	}
	return vendor == "" || l.VendorItem == "" || vendor == l.VendorItem
}

func (m *matcher) byItems(buyer, vendor string) int {
	if buyer != "" {
		if j := m.byItem(&m.byBuyer, buyer, true); j >= 0 {
			return j
		}
	}
	if vendor != "" {
		return m.byItem(&m.byVend, vendor, false)
	}
	return -1
}

func (m *matcher) byNumber(num string, hint int) int {
	ls := m.lines
	if hint >= 0 && hint < len(ls) && ls[hint].LineNumber == num {
		return hint
	}
	n := trimZeros(num)
	if len(ls) > smallOrder {
		if m.byNum == nil {
			m.byNum = make(map[string]int, len(ls))
			for j := range ls {
				if k := trimZeros(ls[j].LineNumber); k != "" {
					if _, dup := m.byNum[k]; !dup {
						m.byNum[k] = j
					}
				}
			}
		}
		if j, ok := m.byNum[n]; ok {
			return j
		}
		return -1
	}
	for j := range ls {
		if trimZeros(ls[j].LineNumber) == n {
			return j
		}
	}
	return -1
}

func (m *matcher) byItem(idx *map[string]int, item string, buyer bool) int {
	ls := m.lines
	field := func(j int) string {
		if buyer {
			return ls[j].BuyerItem
		}
		return ls[j].VendorItem
	}
	if len(ls) <= smallOrder {
		for j := range ls {
			if field(j) == item {
				return j
			}
		}
		return -1
	}
	if *idx == nil {
		*idx = make(map[string]int, len(ls))
		for j := range ls {
			if f := field(j); f != "" {
				if _, dup := (*idx)[f]; !dup {
					(*idx)[f] = j
				}
			}
		}
	}
	if j, ok := (*idx)[item]; ok {
		return j
	}
	return -1
}

// trimZeros drops leading zeros, so line "001" is line "1".
func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

// parseDay reads YYYY-MM-DD as days since 1970-01-01.
func parseDay(s string) (int64, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	n := func(s string) (int64, bool) {
		var v int64
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			v = v*10 + int64(s[i]-'0')
		}
		return v, true
	}
	y, ok1 := n(s[:4])
	m, ok2 := n(s[5:7])
	d, ok3 := n(s[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	// Days from civil (H. Hinnant), for years 0000-9999.
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468, true
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func formatDay(d int64) string {
	return time.Unix(d*86400, 0).UTC().Format(time.DateOnly)
}

// stamp writes a deadline as 2026-11-21T10:00Z.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04Z") }

func absInt(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func days(d int64) string {
	switch {
	case d > 0:
		return count(int(d), "day") + " late"
	case d < 0:
		return count(int(-d), "day") + " early"
	}
	return "same day"
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// qty writes a quantity with its unit: "10 EA". A quantity that is not a
// number is written as given.
func qty(q, uom string) string {
	if d, r := parseDecimal(q, true); r == parseOK {
		q = d.String()
	}
	if q == "" {
		q = "?"
	}
	return q + unitSuffix(uom)
}

func unitSuffix(uom string) string {
	if uom == "" {
		return ""
	}
	return " " + uom
}

// price writes a unit price with at least two decimals: "12.50".
func price(p string) string {
	if d, r := parseDecimal(p, true); r == parseOK {
		return d.Format(2)
	}
	return p
}

// itemID is how a document line names its item: buyer item, vendor item
// or GTIN, the first given.
func itemID(buyer, vendor, gtin string) string {
	switch {
	case buyer != "":
		return buyer
	case vendor != "":
		return vendor
	}
	return gtin
}

func describeLine(line, item string) string {
	switch {
	case line != "" && item != "":
		return "line " + line + " item " + item
	case line != "":
		return "line " + line
	case item != "":
		return "item " + item
	}
	return "a line without line number or item"
}

// items names the items that differ: "item SKU-1", "vendor item V-1".
func items(buyer, vendor string, b, v bool) string {
	var parts []string
	if b {
		parts = append(parts, "item "+buyer)
	}
	if v {
		parts = append(parts, "vendor item "+vendor)
	}
	return strings.Join(parts, ", ")
}
