// Package report computes the nightly reconciliation report that buyers
// open each morning: per-supplier acknowledgement, ship-notice and invoice
// figures, exceptions by rule over the last two weeks and the aging of
// open exceptions. Compute works on plain facts loaded by its caller;
// Write renders one self-contained HTML page and CSV files of the same
// tables, and List finds the reports already written.
package report

import (
	"slices"
	"strings"
	"time"

	"github.com/edigate/edigate/gateway"
)

// Document kinds, as in DocFacts.Kind.
const (
	KindAcknowledgement = "po_acknowledgement"
	KindShipNotice      = "ship_notice"
	KindInvoice         = "invoice"
)

// DefaultAckWithin is a partner's 855 SLA when Input.AckWithin has none.
const DefaultAckWithin = 24 * time.Hour

// WindowDays is how many days, ending on the report day, ExceptionsByRule
// covers.
const WindowDays = 14

// AgeBuckets labels the open-exception age buckets of SupplierRow.OpenByAge
// and Report.Aging. The intervals are half-open: an exception exactly one
// day old is in "1-3d", exactly seven days old in ">7d".
var AgeBuckets = [4]string{"<1d", "1-3d", "3-7d", ">7d"}

// slaRules are the rules whose exceptions count as SLA breaches.
var slaRules = map[string]bool{"ack_missing": true, "asn_missing": true, "fa_missing": true}

// OrderFacts is what the report needs of one purchase order.
type OrderFacts struct {
	Partner    string
	PONumber   string
	SentAt     time.Time // our 850; zero if none was sent
	FirstAckAt time.Time // the first 855 received; zero if none
}

// DocFacts is what the report needs of one received document.
type DocFacts struct {
	ID         string
	Kind       string // KindAcknowledgement, KindShipNotice or KindInvoice
	Partner    string
	PONumber   string
	ReceivedAt time.Time
}

// Input is the facts a report is computed from.
type Input struct {
	// Date is the report day: its calendar date, taken in Date's own
	// location, names a UTC day, and facts after the end of that day are
	// ignored.
	Date time.Time
	// Partners are the suppliers to list even with no activity. Partners
	// that appear only in the facts are listed too.
	Partners []string
	// AckWithin is each partner's 855 SLA; DefaultAckWithin when missing
	// or not positive.
	AckWithin  map[string]time.Duration
	Orders     []OrderFacts
	Documents  []DocFacts
	Exceptions []gateway.Exception
}

// SupplierRow is one supplier's figures, counted over every fact up to
// the end of the report day.
type SupplierRow struct {
	Partner      string
	POsSent      int // 850s sent
	Acknowledged int // of those, the ones with an 855
	AckedOnTime  int // of those, the ones whose first 855 came within the SLA
	// AckLatencyP50 and AckLatencyP90 are nearest-rank percentiles of the
	// time from 850 to first 855, over POs sent and acknowledged; zero
	// when there are none.
	AckLatencyP50 time.Duration
	AckLatencyP90 time.Duration
	// ShipNoticesAccurate are the ship notices with no exception of an
	// "asn_" rule naming them as their document.
	ShipNotices         int
	ShipNoticesAccurate int
	// InvoicesMatched are the invoices with no exception of an "inv_"
	// rule naming them as their document.
	Invoices        int
	InvoicesMatched int
	// OpenByAge counts the exceptions open at the end of the report day
	// by their age then, in the AgeBuckets.
	OpenByAge [4]int
	// SLABreaches counts the exceptions of rules ack_missing, asn_missing
	// and fa_missing created up to the end of the report day, whatever
	// their status.
	SLABreaches int
}

// RuleDay is the number of exceptions of a rule created on a day.
type RuleDay struct {
	Day   string // YYYY-MM-DD
	Rule  string
	Count int
}

// Report is a computed nightly reconciliation report.
type Report struct {
	Date        string // YYYY-MM-DD
	GeneratedAt time.Time
	Suppliers   []SupplierRow // sorted by partner
	// ExceptionsByRule covers the WindowDays days ending on Date, day by
	// day, with a row for every rule seen in that window (zero counts
	// included), sorted by day then rule.
	ExceptionsByRule []RuleDay
	Aging            [4]int      // every open exception, by the AgeBuckets
	Totals           SupplierRow // Partner "total"; percentiles over every supplier's latencies
}

// Compute computes the report for in.Date. now is only recorded as the
// time the report was generated: ages are measured at the end of the
// report day.
func Compute(in Input, now time.Time) Report {
	y, m, d := in.Date.Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, 1)
	within := func(t time.Time) bool { return !t.IsZero() && t.Before(end) }

	rows := map[string]*SupplierRow{}
	var discard SupplierRow // facts without a partner count only in Aging and ExceptionsByRule
	row := func(partner string) *SupplierRow {
		if partner == "" {
			return &discard
		}
		r, ok := rows[partner]
		if !ok {
			r = &SupplierRow{Partner: partner}
			rows[partner] = r
		}
		return r
	}
	for _, p := range in.Partners {
		row(p)
	}

	latencies := map[string][]time.Duration{}
	for _, o := range in.Orders {
		if !within(o.SentAt) {
			continue
		}
		r := row(o.Partner)
		r.POsSent++
		if !within(o.FirstAckAt) {
			continue
		}
		r.Acknowledged++
		lat := max(o.FirstAckAt.Sub(o.SentAt), 0)
		if lat <= ackWithin(in.AckWithin, o.Partner) {
			r.AckedOnTime++
		}
		latencies[o.Partner] = append(latencies[o.Partner], lat)
	}

	// Exceptions created after the report day are ignored like any other
	// fact.
	var exceptions []gateway.Exception
	badASN, badInvoice := map[string]bool{}, map[string]bool{}
	for _, e := range in.Exceptions {
		if !e.CreatedAt.Before(end) {
			continue
		}
		exceptions = append(exceptions, e)
		if e.Document == "" {
			continue
		}
		switch {
		case strings.HasPrefix(e.Rule, "asn_"):
			badASN[e.Document] = true
		case strings.HasPrefix(e.Rule, "inv_"):
			badInvoice[e.Document] = true
		}
	}

	for _, doc := range in.Documents {
		if !within(doc.ReceivedAt) {
			continue
		}
		switch doc.Kind {
		case KindShipNotice:
			r := row(doc.Partner)
			r.ShipNotices++
			if !badASN[doc.ID] {
				r.ShipNoticesAccurate++
			}
		case KindInvoice:
			r := row(doc.Partner)
			r.Invoices++
			if !badInvoice[doc.ID] {
				r.InvoicesMatched++
			}
		}
	}

	rep := Report{Date: start.Format(time.DateOnly), GeneratedAt: now}
	windowStart := start.AddDate(0, 0, 1-WindowDays)
	byDay := map[string]map[string]int{}
	var rules []string
	for _, e := range exceptions {
		r := row(e.Partner)
		if slaRules[e.Rule] {
			r.SLABreaches++
		}
		if statusAt(e, end) == gateway.ExceptionOpen {
			b := ageBucket(end.Sub(e.CreatedAt))
			r.OpenByAge[b]++
			rep.Aging[b]++
		}
		if !e.CreatedAt.Before(windowStart) {
			day := e.CreatedAt.UTC().Format(time.DateOnly)
			if byDay[day] == nil {
				byDay[day] = map[string]int{}
			}
			byDay[day][e.Rule]++
			if !slices.Contains(rules, e.Rule) {
				rules = append(rules, e.Rule)
			}
		}
	}
	slices.Sort(rules)
	for i := range WindowDays {
		day := windowStart.AddDate(0, 0, i).Format(time.DateOnly)
		for _, rule := range rules {
			rep.ExceptionsByRule = append(rep.ExceptionsByRule, RuleDay{Day: day, Rule: rule, Count: byDay[day][rule]})
		}
	}

	var all []time.Duration
	rep.Totals.Partner = "total"
	for _, r := range rows {
		lat := latencies[r.Partner]
		slices.Sort(lat)
		r.AckLatencyP50 = percentile(lat, 50)
		r.AckLatencyP90 = percentile(lat, 90)
		all = append(all, lat...)
		rep.Suppliers = append(rep.Suppliers, *r)
		addRow(&rep.Totals, r)
	}
	slices.SortFunc(rep.Suppliers, func(a, b SupplierRow) int { return strings.Compare(a.Partner, b.Partner) })
	slices.Sort(all)
	rep.Totals.AckLatencyP50 = percentile(all, 50)
	rep.Totals.AckLatencyP90 = percentile(all, 90)
	return rep
}

// addRow adds r's counts to t.
func addRow(t, r *SupplierRow) {
	t.POsSent += r.POsSent
	t.Acknowledged += r.Acknowledged
	t.AckedOnTime += r.AckedOnTime
	t.ShipNotices += r.ShipNotices
	t.ShipNoticesAccurate += r.ShipNoticesAccurate
	t.Invoices += r.Invoices
	t.InvoicesMatched += r.InvoicesMatched
	for i := range t.OpenByAge {
		t.OpenByAge[i] += r.OpenByAge[i]
	}
	t.SLABreaches += r.SLABreaches
}

func ackWithin(sla map[string]time.Duration, partner string) time.Duration {
	if d := sla[partner]; d > 0 {
		return d
	}
	return DefaultAckWithin
}

// percentile returns the nearest-rank p-th percentile of sorted: the
// smallest value with at least p percent of the values at or below it.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := max((p*len(sorted)+99)/100, 1)
	return sorted[rank-1]
}

// ageBucket returns the index in AgeBuckets of an exception's age.
func ageBucket(age time.Duration) int {
	const day = 24 * time.Hour
	switch {
	case age < day:
		return 0
	case age < 3*day:
		return 1
	case age < 7*day:
		return 2
	default:
		return 3
	}
}

// statusAt returns an exception's status at t: the status the first
// status change at or after t changed from, or its present status when it
// has not changed since.
func statusAt(e gateway.Exception, t time.Time) string {
	status, first := e.Status, time.Time{}
	for _, ev := range e.History {
		if ev.From == "" || ev.To == "" || ev.At.Before(t) {
			continue
		}
		if first.IsZero() || ev.At.Before(first) {
			status, first = ev.From, ev.At
		}
	}
	return status
}
