package recon

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/translators/canonical"
)

const (
	benchOrders = 100_000
	benchLines  = 10 // per order: 1,000,000 PO lines
)

var (
	benchOnce  sync.Once
	benchCases []Case
)

// benchData builds 100,000 orders of 10 lines, each with an 850 accepted
// by a 997 and an 855 acknowledging all 10 lines, about 5 % of them with a
// changed quantity, price or date. Strings repeat from small tables, as
// item numbers and prices do in real data, to keep the set near 400 MB.
func benchData(tb testing.TB) []Case {
	tb.Helper()
	benchOnce.Do(func() {
		r := rand.New(rand.NewPCG(850, 855))
		table := func(n int, f func(i int) string) []string {
			t := make([]string, n)
			for i := range t {
				t[i] = f(i)
			}
			return t
		}
		nums := table(benchLines, func(i int) string { return strconv.Itoa(i + 1) })
		skus := table(5000, func(i int) string { return "SKU-" + strconv.Itoa(100000+i) })
		vends := table(5000, func(i int) string { return "V" + strconv.Itoa(700000+i) })
		qtys := table(100, func(i int) string { return strconv.Itoa(i + 1) })
		prices := table(500, func(i int) string { return strconv.Itoa(1+i/4) + "." + strconv.Itoa(10+i%90) })
		day0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		dates := table(60, func(i int) string { return day0.AddDate(0, 0, i).Format(time.DateOnly) })
		uoms := []string{"EA", "CS", "BX"}

		benchCases = make([]Case, benchOrders)
		orders := make([]gateway.Order, benchOrders)
		sents := make([]gateway.SentOrder, benchOrders)
		acks := make([]canonical.POAcknowledgement, benchOrders)
		ackRefs := make([]Ack, benchOrders)
		allLines := make([]gateway.OrderLine, benchOrders*benchLines)
		allAckLines := make([]canonical.AckLine, benchOrders*benchLines)
		for i := range benchOrders {
			poNum := strconv.Itoa(4500000000 + i)
			lines := allLines[i*benchLines : (i+1)*benchLines : (i+1)*benchLines]
			ackLines := allAckLines[i*benchLines : (i+1)*benchLines : (i+1)*benchLines]
			for j := range lines {
				item := r.IntN(len(skus))
				ol := gateway.OrderLine{
					LineNumber: nums[j], BuyerItem: skus[item], VendorItem: vends[item],
					Quantity: qtys[r.IntN(len(qtys))], UOM: uoms[r.IntN(len(uoms))],
					UnitPrice: prices[r.IntN(len(prices))], RequestedDate: dates[r.IntN(len(dates)-10)],
				}
				lines[j] = ol
				al := canonical.AckLine{
					LineNumber: ol.LineNumber, BuyerItem: ol.BuyerItem, VendorItem: ol.VendorItem,
					OrderedQuantity: ol.Quantity, UnitPrice: ol.UnitPrice, UOM: ol.UOM,
					Status: canonical.StatusAccepted, StatusCode: "IA",
					AckQuantity: ol.Quantity, AckUOM: ol.UOM, AckUnitPrice: ol.UnitPrice, ScheduledDate: ol.RequestedDate,
				}
				if r.IntN(100) < 5 {
					al.Status, al.StatusCode = canonical.StatusChanged, "IC"
					switch r.IntN(3) {
					case 0:
						al.AckQuantity = qtys[r.IntN(len(qtys))]
					case 1:
						al.AckUnitPrice = prices[r.IntN(len(prices))]
					default:
						al.ScheduledDate = dates[r.IntN(len(dates))]
					}
				}
				ackLines[j] = al
			}
			sent := day0.AddDate(0, 0, -20).Add(time.Duration(i) * time.Second)
			orders[i] = gateway.Order{ID: gateway.OrderID("acme", poNum), Partner: "acme", PONumber: poNum, PODate: "2026-11-10", Lines: lines, Version: 1, ImportedAt: sent.Add(-time.Hour)}
			sents[i] = gateway.SentOrder{Partner: "acme", PONumber: poNum, SentAt: sent, AckStatus: gateway.SentAccepted}
			acks[i] = canonical.POAcknowledgement{PONumber: poNum, AckType: "AC", Lines: ackLines}
			ackRefs[i] = Ack{DocID: "doc_855_" + poNum, Received: sent.Add(3 * time.Hour), Doc: &acks[i]}
			benchCases[i] = Case{
				Partner: "acme", PONumber: poNum, Order: &orders[i], Sent: &sents[i],
				Acks: ackRefs[i : i+1 : i+1],
			}
		}
	})
	return benchCases
}

// benchNow is after every 855 and before every requested date.
var benchNow = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// BenchmarkCheck1M runs Check over 1,000,000 PO lines per iteration.
func BenchmarkCheck1M(b *testing.B) {
	cases := benchData(b)
	pol := testPolicy()
	out := make([]gateway.Finding, 0, 64)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	data, peak, alloc0 := ms.HeapAlloc, ms.HeapAlloc, ms.TotalAlloc
	findings := 0
	for b.Loop() {
		for i := range cases {
			out = Check(&cases[i], pol, benchNow, out[:0])
			findings += len(out)
			if i%4096 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
	}
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapAlloc)
	lines := float64(len(cases) * benchLines * b.N)
	b.ReportMetric(lines/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(peak)/1e6, "peak-MB")
	b.ReportMetric(float64(data)/1e6, "data-MB")
	b.ReportMetric(float64(ms.TotalAlloc-alloc0)/float64(b.N)/1e6, "alloc-MB/op")
	b.ReportMetric(float64(findings)/float64(b.N), "findings/op")
}

// BenchmarkBaseline1M only walks the same cases, summing the ordered
// quantities, so Check's figures can be read as a ratio.
func BenchmarkBaseline1M(b *testing.B) {
	cases := benchData(b)
	var sum Decimal
	for b.Loop() {
		for i := range cases {
			for _, l := range cases[i].Order.Lines {
				q, err := ParseDecimal(l.Quantity)
				if err != nil {
					b.Fatal(err)
				}
				sum = sum.Add(q)
			}
		}
	}
	lines := float64(len(cases) * benchLines * b.N)
	b.ReportMetric(lines/b.Elapsed().Seconds(), "lines/s")
	if sum.IsZero() {
		b.Fatal("no quantities")
	}
}
