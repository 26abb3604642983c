package report

import (
	"reflect"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
)

// The report day of the scenario: facts at or after end are ignored.
var (
	day = time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	end = day.AddDate(0, 0, 1)
)

func exception(id, rule, partner, doc, status string, created time.Time) gateway.Exception {
	return gateway.Exception{
		ID:        id,
		Finding:   gateway.Finding{Rule: rule, Partner: partner, PONumber: "PO-" + id, Document: doc, Severity: gateway.SeverityError},
		Status:    status,
		CreatedAt: created,
		UpdatedAt: created,
	}
}

// scenario is a small world whose report figures are worked out by hand
// in TestCompute.
func scenario() Input {
	t0 := time.Date(2025, 3, 9, 8, 0, 0, 0, time.UTC)
	b0 := time.Date(2025, 3, 8, 0, 0, 0, 0, time.UTC)
	h := time.Hour

	// e7 is resolved now but was still open at the end of the day.
	e7 := exception("e7", "fa_missing", "acme", "", gateway.ExceptionResolved, time.Date(2025, 3, 9, 0, 0, 0, 0, time.UTC))
	e7.UpdatedAt = end.Add(9 * h)
	e7.History = []gateway.ExceptionEvent{
		{At: e7.CreatedAt, Action: "raised", To: gateway.ExceptionOpen},
		{At: end.Add(-h), Action: "comment"},
		{At: end.Add(9 * h), Action: "cleared", From: gateway.ExceptionOpen, To: gateway.ExceptionResolved},
	}
	// e6 was resolved during the day.
	e6 := exception("e6", "asn_late", "bolt", "asn5", gateway.ExceptionResolved, time.Date(2025, 3, 9, 12, 0, 0, 0, time.UTC))
	e6.History = []gateway.ExceptionEvent{
		{At: e6.CreatedAt, Action: "raised", To: gateway.ExceptionOpen},
		{At: end.Add(-2 * h), Action: "resolve", From: gateway.ExceptionOpen, To: gateway.ExceptionResolved},
	}

	return Input{
		Date:      day.Add(15 * h), // any time of the day names it
		Partners:  []string{"idle", "bolt", "acme", "bolt"},
		AckWithin: map[string]time.Duration{"acme": 4 * h},
		Orders: []OrderFacts{
			{Partner: "acme", PONumber: "A1", SentAt: t0, FirstAckAt: t0.Add(h)},
			{Partner: "acme", PONumber: "A2", SentAt: t0, FirstAckAt: t0.Add(4 * h)},             // exactly the SLA: on time
			{Partner: "acme", PONumber: "A3", SentAt: t0, FirstAckAt: t0.Add(4*h + time.Second)}, // a second late
			{Partner: "acme", PONumber: "A4", SentAt: t0, FirstAckAt: t0.Add(10 * h)},
			{Partner: "acme", PONumber: "A5", SentAt: t0},                  // not acknowledged
			{Partner: "acme", PONumber: "A6", SentAt: t0, FirstAckAt: end}, // acknowledged after the day
			{Partner: "acme", PONumber: "A7", SentAt: end.Add(h), FirstAckAt: end.Add(2 * h)},
			{Partner: "acme", PONumber: "A8", FirstAckAt: t0},                         // never sent
			{Partner: "bolt", PONumber: "B1", SentAt: b0, FirstAckAt: b0.Add(24 * h)}, // default SLA, exactly
			{Partner: "bolt", PONumber: "B2", SentAt: b0, FirstAckAt: b0.Add(2 * h)},
			{Partner: "bolt", PONumber: "B3", SentAt: b0, FirstAckAt: b0.Add(30 * h)},
		},
		Documents: []DocFacts{
			{ID: "asn1", Kind: KindShipNotice, Partner: "acme", ReceivedAt: day},
			{ID: "asn2", Kind: KindShipNotice, Partner: "acme", ReceivedAt: day},         // asn_qty e1
			{ID: "asn3", Kind: KindShipNotice, Partner: "acme", ReceivedAt: day},         // only an inv_ rule names it
			{ID: "asn4", Kind: KindShipNotice, Partner: "acme", ReceivedAt: end},         // after the day
			{ID: "inv1", Kind: KindInvoice, Partner: "acme", ReceivedAt: day},            // inv_price e2
			{ID: "inv2", Kind: KindInvoice, Partner: "acme", ReceivedAt: day},            // only an asn_ rule names it
			{ID: "inv3", Kind: KindInvoice, Partner: "acme", ReceivedAt: day},            // its exception is after the day
			{ID: "asn5", Kind: KindShipNotice, Partner: "bolt", ReceivedAt: day},         // resolved asn_late e6
			{ID: "ack1", Kind: KindAcknowledgement, Partner: "bolt", ReceivedAt: day},    // not counted
			{ID: "asn6", Kind: KindShipNotice, Partner: "newco", ReceivedAt: day.Add(h)}, // a partner not listed
		},
		Exceptions: []gateway.Exception{
			exception("e1", "asn_qty", "acme", "asn2", gateway.ExceptionOpen, end.Add(-h)),                  // <1d
			exception("e2", "inv_price", "acme", "inv1", gateway.ExceptionOpen, end.Add(-24*h)),             // exactly 1d: 1-3d
			exception("e3", "inv_price", "acme", "asn3", gateway.ExceptionOpen, end.Add(-72*h)),             // exactly 3d: 3-7d
			exception("e4", "ack_missing", "bolt", "", gateway.ExceptionOpen, end.Add(-7*24*h)),             // exactly 7d: >7d
			exception("e5", "asn_missing", "bolt", "", gateway.ExceptionOpen, end.Add(-7*24*h+time.Second)), // just under 7d: 3-7d
			e6, // not open
			e7, // open then, 2d: 1-3d
			exception("e8", "inv_price", "acme", "inv3", gateway.ExceptionOpen, end),                                          // after the day
			exception("e9", "asn_stale", "acme", "inv2", gateway.ExceptionOpen, time.Date(2025, 2, 20, 0, 0, 0, 0, time.UTC)), // before the window: >7d
			exception("e10", "ack_missing", "acme", "", gateway.ExceptionOpen, time.Date(2025, 2, 25, 0, 0, 0, 0, time.UTC)),  // first day of the window: >7d
			exception("e12", "inv_qty", "bolt", "", gateway.ExceptionAccepted, day.Add(3*h)),                                  // decided
		},
	}
}

func TestCompute(t *testing.T) {
	now := time.Date(2025, 3, 11, 6, 0, 0, 0, time.UTC)
	r := Compute(scenario(), now)
	h := time.Hour

	acme := SupplierRow{
		Partner: "acme",
		// A1-A6 sent; A1-A4 acknowledged; A1 (1h) and A2 (4h, the SLA) on time.
		POsSent: 6, Acknowledged: 4, AckedOnTime: 2,
		// Sorted 1h, 4h, 4h0m1s, 10h: p50 is rank ceil(0.5*4)=2, p90 rank ceil(0.9*4)=4.
		AckLatencyP50: 4 * h, AckLatencyP90: 10 * h,
		ShipNotices: 3, ShipNoticesAccurate: 2, // asn1, asn2 (inaccurate), asn3
		Invoices: 3, InvoicesMatched: 2, // inv1 (unmatched), inv2, inv3
		OpenByAge:   [4]int{1, 2, 1, 2}, // e1; e2, e7; e3; e9, e10
		SLABreaches: 2,                  // e7, e10
	}
	bolt := SupplierRow{
		Partner: "bolt",
		// B1 at exactly the default 24h and B2 on time; B3 late.
		POsSent: 3, Acknowledged: 3, AckedOnTime: 2,
		// Sorted 2h, 24h, 30h: ranks ceil(1.5)=2 and ceil(2.7)=3.
		AckLatencyP50: 24 * h, AckLatencyP90: 30 * h,
		ShipNotices: 1, ShipNoticesAccurate: 0, // asn5 has a resolved asn_ exception
		OpenByAge:   [4]int{0, 0, 1, 1}, // e5; e4
		SLABreaches: 2,                  // e4, e5
	}
	idle := SupplierRow{Partner: "idle"}
	newco := SupplierRow{Partner: "newco", ShipNotices: 1, ShipNoticesAccurate: 1}
	total := SupplierRow{
		Partner: "total",
		POsSent: 9, Acknowledged: 7, AckedOnTime: 4,
		// Sorted 1h, 2h, 4h, 4h0m1s, 10h, 24h, 30h: ranks ceil(3.5)=4 and ceil(6.3)=7.
		AckLatencyP50: 4*h + time.Second, AckLatencyP90: 30 * h,
		ShipNotices: 5, ShipNoticesAccurate: 3,
		Invoices: 3, InvoicesMatched: 2,
		OpenByAge:   [4]int{1, 2, 2, 3},
		SLABreaches: 4,
	}

	// Rules created from 2025-02-25 to 2025-03-10; asn_stale (e9) is
	// older and inv_price e8 is after the day.
	rules := []string{"ack_missing", "asn_late", "asn_missing", "asn_qty", "fa_missing", "inv_price", "inv_qty"}
	nonzero := map[RuleDay]bool{
		{"2025-02-25", "ack_missing", 1}: true, // e10
		{"2025-03-04", "ack_missing", 1}: true, // e4
		{"2025-03-04", "asn_missing", 1}: true, // e5
		{"2025-03-08", "inv_price", 1}:   true, // e3
		{"2025-03-09", "asn_late", 1}:    true, // e6
		{"2025-03-09", "fa_missing", 1}:  true, // e7
		{"2025-03-10", "asn_qty", 1}:     true, // e1
		{"2025-03-10", "inv_price", 1}:   true, // e2
		{"2025-03-10", "inv_qty", 1}:     true, // e12
	}
	var wantByRule []RuleDay
	for d := time.Date(2025, 2, 25, 0, 0, 0, 0, time.UTC); !d.After(day); d = d.AddDate(0, 0, 1) {
		for _, rule := range rules {
			rd := RuleDay{Day: d.Format(time.DateOnly), Rule: rule, Count: 1}
			if !nonzero[rd] {
				rd.Count = 0
			}
			wantByRule = append(wantByRule, rd)
		}
	}

	tests := []struct {
		name      string
		got, want any
	}{
		{"date", r.Date, "2025-03-10"},
		{"generated at", r.GeneratedAt, now},
		{"suppliers sorted, listed without activity, and from facts", partners(r.Suppliers), []string{"acme", "bolt", "idle", "newco"}},
		{"acme", r.Suppliers[0], acme},
		{"bolt", r.Suppliers[1], bolt},
		{"idle", r.Suppliers[2], idle},
		{"newco", r.Suppliers[3], newco},
		{"totals", r.Totals, total},
		{"aging", r.Aging, [4]int{1, 2, 2, 3}},
		{"rule table is dense", len(r.ExceptionsByRule), WindowDays * len(rules)},
		{"rule table", r.ExceptionsByRule, wantByRule},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got\n%+v\nwant\n%+v", tt.got, tt.want)
			}
		})
	}
}

func partners(rows []SupplierRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Partner)
	}
	return out
}

func TestComputeDateBoundaries(t *testing.T) {
	tests := []struct {
		name string
		date time.Time
		want string
		sent time.Time
		n    int // POs sent counted
	}{
		{"last instant of the day counts", day, "2025-03-10", end.Add(-time.Nanosecond), 1},
		{"midnight after is ignored", day, "2025-03-10", end, 0},
		{"date in another zone names its calendar day", time.Date(2025, 3, 10, 23, 0, 0, 0, time.FixedZone("EST", -5*3600)), "2025-03-10", end.Add(-time.Second), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compute(Input{Date: tt.date, Orders: []OrderFacts{{Partner: "p", SentAt: tt.sent}}}, time.Now())
			if r.Date != tt.want {
				t.Errorf("Date = %q, want %q", r.Date, tt.want)
			}
			if r.Totals.POsSent != tt.n {
				t.Errorf("POsSent = %d, want %d", r.Totals.POsSent, tt.n)
			}
		})
	}
}

func TestComputeEmpty(t *testing.T) {
	r := Compute(Input{Date: day, Partners: []string{"acme"}}, day)
	want := Report{
		Date: "2025-03-10", GeneratedAt: day,
		Suppliers: []SupplierRow{{Partner: "acme"}},
		Totals:    SupplierRow{Partner: "total"},
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got %+v, want %+v", r, want)
	}
}

func TestPercentile(t *testing.T) {
	ds := func(hours ...int) []time.Duration {
		var out []time.Duration
		for _, h := range hours {
			out = append(out, time.Duration(h)*time.Hour)
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ds(3), 90, 3 * time.Hour},
		{"p50 of ten is the fifth", ds(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5 * time.Hour},
		{"p90 of ten is the ninth", ds(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Hour},
		{"p90 of eleven is the tenth", ds(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 90, 10 * time.Hour},
		{"p50 of three is the second", ds(1, 2, 3), 50, 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %d) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestAgeBucket(t *testing.T) {
	const d = 24 * time.Hour
	tests := []struct {
		age  time.Duration
		want int
	}{
		{0, 0}, {d - 1, 0}, {d, 1}, {3*d - 1, 1}, {3 * d, 2}, {7*d - 1, 2}, {7 * d, 3}, {100 * d, 3},
	}
	for _, tt := range tests {
		t.Run(tt.age.String(), func(t *testing.T) {
			if got := ageBucket(tt.age); got != tt.want {
				t.Errorf("ageBucket(%v) = %d (%s), want %d (%s)", tt.age, got, AgeBuckets[got], tt.want, AgeBuckets[tt.want])
			}
		})
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"seconds", humanDuration(45 * time.Second), "45s"},
		{"minutes", humanDuration(12*time.Minute + 30*time.Second), "12m"},
		{"hours and minutes", humanDuration(3*time.Hour + 12*time.Minute), "3h12m"},
		{"whole hours", humanDuration(4 * time.Hour), "4h"},
		{"days and hours", humanDuration(28*time.Hour + 5*time.Minute), "1d4h"},
		{"whole days", humanDuration(48 * time.Hour), "2d"},
		{"no latency", latency(0, 0), "—"},
		{"zero latency", latency(0, 1), "0s"},
		{"percent", percent(17, 20), "85%"},
		{"percent to a tenth", percent(199, 200), "99.5%"},
		{"percent rounded", percent(2, 3), "66.7%"},
		{"never 100% unless all", percent(9999, 10000), "99.9%"},
		{"never 0% unless none", percent(1, 10000), "0.1%"},
		{"all", percent(3, 3), "100%"},
		{"percent of none", percent(0, 0), "—"},
		{"on time", onTime(SupplierRow{POsSent: 3, AckedOnTime: 2}), "2 (66.7%)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
