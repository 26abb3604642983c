package intake

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/translators/canonical"
)

// signalStore is the real store with SaveDocuments instrumented: after
// the real call returns, the message ID is sent on saved.
type signalStore struct {
	gateway.Store
	saved chan string
}

func (s *signalStore) SaveDocuments(ctx context.Context, messageID string, docs []canonical.Document) error {
	err := s.Store.SaveDocuments(ctx, messageID, docs)
	if err == nil && len(docs) > 0 {
		s.saved <- messageID
	}
	return err
}

// BenchmarkReceiptToDocument measures, per message, the time from the
// start of Store.Receive to its canonical document being stored by the
// running pipeline (Run, woken by Wake): receive, claim, duplicate check,
// validation, 997 to the SFTP outbox, translation and storage, all with
// the real SQLite store (synchronous=FULL) on b.TempDir().
func BenchmarkReceiptToDocument(b *testing.B) {
	sig := &signalStore{saved: make(chan string, 1)}
	e := newEnv(b, envOpt{wrap: func(s gateway.Store) gateway.Store { sig.Store = s; return sig }})
	e.p.Poll = time.Hour
	e.p.Init()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.p.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		payload := interchange855(spec855{control: 100000 + i})
		t0 := time.Now()
		m := e.receive(b, "tester", payload)
		e.p.Wake()
		select {
		case id := <-sig.saved:
			if id != m.ID {
				b.Fatalf("documents of %s stored while waiting for %s", id, m.ID)
			}
		case <-time.After(10 * time.Second):
			got, _ := e.store.Message(context.Background(), m.ID)
			b.Fatalf("message %d not translated within 10s: %+v", i, got)
		}
		lat = append(lat, time.Since(t0))
	}
	elapsed := time.Since(start)
	b.StopTimer()

	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := int(float64(len(lat))*p+0.999999) - 1
		i = max(0, min(i, len(lat)-1))
		return float64(lat[i].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}
