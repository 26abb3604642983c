package purchasing

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/gateway/sqlite"
	"github.com/edigate/edigate/partners"
	"github.com/edigate/edigate/translators/canonical"
)

// benchLines is the number of PO lines (and 855 lines) of the full-pass
// benchmark: 1,000,000 unless EDIGATE_RECON_LINES says otherwise.
func benchLines(b *testing.B) int {
	n := 1_000_000
	if s := os.Getenv("EDIGATE_RECON_LINES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	return n
}

// seed fills a store with orders of 10 lines and an 855 for each that
// acknowledges every line, one line in 20 with a changed quantity.
func seed(b *testing.B, db *sqlite.DB, lines int) (orders int) {
	ctx := context.Background()
	const perOrder = 10
	orders = lines / perOrder
	m, err := db.Receive(ctx, gateway.Receipt{Partner: "acme"}, strings.NewReader("855s"))
	if err != nil {
		b.Fatal(err)
	}
	const batch = 10_000
	for start := 0; start < orders; start += batch {
		var batchOrders []gateway.Order
		var docs []canonical.Document
		for i := start; i < min(start+batch, orders); i++ {
			po := fmt.Sprintf("45%08d", i)
			o := gateway.Order{Partner: "acme", PONumber: po, PODate: "2026-11-20"}
			ack := &canonical.POAcknowledgement{
				Header:   canonical.Header{Kind: canonical.KindPOAcknowledgement, ID: "doc_855_" + po, Partner: "acme", Direction: canonical.Inbound},
				PONumber: po, AckType: "AC",
			}
			for l := 1; l <= perOrder; l++ {
				ln := strconv.Itoa(l)
				qty := "10"
				if (i*perOrder+l)%20 == 0 {
					qty = "8"
				}
				o.Lines = append(o.Lines, gateway.OrderLine{LineNumber: ln, BuyerItem: "SKU-" + ln, Quantity: "10", UOM: "EA", UnitPrice: "2.50", RequestedDate: "2026-12-01"})
				ack.Lines = append(ack.Lines, canonical.AckLine{LineNumber: ln, BuyerItem: "SKU-" + ln, OrderedQuantity: "10", UnitPrice: "2.50", UOM: "EA",
					Status: canonical.StatusAccepted, StatusCode: "IA", AckQuantity: qty, AckUOM: "EA", ScheduledDate: "2026-12-01"})
			}
			batchOrders = append(batchOrders, o)
			docs = append(docs, ack)
		}
		if _, err := db.ImportOrders(ctx, "bench.csv", batchOrders); err != nil {
			b.Fatal(err)
		}
		if err := db.SaveDocuments(ctx, m.ID, docs); err != nil {
			b.Fatal(err)
		}
	}
	return orders
}

var (
	seededOnce sync.Once
	seeded     *sqlite.DB
	seededDir  string
)

// seededDB is one seeded store for the benchmarks of a run (seeding a
// million lines takes longer than a pass). It lives in a temporary
// directory that TestMain removes.
func seededDB(b *testing.B, lines int) *sqlite.DB {
	seededOnce.Do(func() {
		var err error
		if seededDir, err = os.MkdirTemp("", "edigate-bench-"); err != nil {
			b.Fatal(err)
		}
		if seeded, err = sqlite.Open(seededDir); err != nil {
			b.Fatal(err)
		}
		seed(b, seeded, lines)
	})
	return seeded
}

// BenchmarkReadCases is the baseline of BenchmarkReconcileFullPass in the
// same run: streaming every case out of the store, decoding nothing.
func BenchmarkReadCases(b *testing.B) {
	lines := benchLines(b)
	db := seededDB(b, lines)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		if err := db.EachCase(ctx, func(gateway.PartnerPO, *gateway.Order, *gateway.SentOrder, []*gateway.StoredDocument) error {
			n++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if n != lines/10 {
			b.Fatalf("%d cases, want %d", n, lines/10)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// peakHeap samples the heap in use until stop is closed.
func peakHeap(stop <-chan struct{}, peak *atomic.Uint64, wg *sync.WaitGroup) {
	defer wg.Done()
	var ms runtime.MemStats
	for {
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak.Load() {
			peak.Store(ms.HeapInuse)
		}
		select {
		case <-stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// BenchmarkReconcileFullPass is a nightly full pass through the store:
// 1,000,000 PO lines against 1,000,000 acknowledgement lines (100,000 POs
// and 855s), loading each case from SQLite, checking it, and recording
// the 50,000 findings as exceptions (the first iteration raises them, the
// next find them unchanged). Reported: lines/s and the peak heap in use.
// The target is a full pass in under 20 s.
func BenchmarkReconcileFullPass(b *testing.B) {
	lines := benchLines(b)
	db := seededDB(b, lines)
	var err error
	dir := &partners.Directory{Partners: []*partners.Partner{{ID: "acme"}}}
	svc := &Service{Store: db, Partners: dir}
	ctx := context.Background()
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go peakHeap(stop, &peak, &wg)
	b.ResetTimer()
	var res gateway.ApplyResult
	for b.Loop() {
		if res, err = svc.Reconcile(ctx, gateway.Scope{All: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	_ = res
}

func TestMain(m *testing.M) {
	code := m.Run()
	if seeded != nil {
		seeded.Close()
		os.RemoveAll(seededDir)
	}
	os.Exit(code)
}
