package sqlite

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
)

// BenchmarkReceive stores 10 KB payloads, each durably (fsync of the
// payload, its directories and the WAL).
func BenchmarkReceive(b *testing.B) {
	db := MustOpenDB(b)
	ctx := context.Background()
	payload := make([]byte, 10<<10)
	_, _ = rand.Read(payload)
	b.SetBytes(int64(len(payload)))
	for i := 0; b.Loop(); i++ {
		binary.LittleEndian.PutUint64(payload, uint64(i)) // distinct bytes: no duplicates
		if _, err := db.Receive(ctx, gateway.Receipt{Partner: "acme"}, bytes.NewReader(payload)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
}

// BenchmarkClaimUpdate is one worker turn: claim the next message and
// mark it translated.
func BenchmarkClaimUpdate(b *testing.B) {
	db := MustOpenDB(b)
	ctx := context.Background()
	insertMessages(b, db, b.N)
	done := gateway.StateTranslated
	now := time.Now()
	b.ResetTimer()
	for range b.N { // not b.Loop: the queue is filled with b.N messages first
		m, err := db.ClaimNext(ctx, now, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if err := db.UpdateMessage(ctx, m.ID, gateway.MessageUpdate{State: &done}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
}
