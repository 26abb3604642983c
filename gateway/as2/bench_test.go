package as2

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkAS2RoundTrip sends signed + encrypted 10 KB messages from our
// Client to our Server over loopback, each answered with a signed sync MDN,
// and compares the rate with the machine's RSA-2048 private-key operations
// per second measured in the same run (two per message as the ceiling).
func BenchmarkAS2RoundTrip(b *testing.B) {
	dir := b.TempDir()
	us, them := newPeer(b, dir, "EDIGATE"), newPeer(b, dir, "PARTNER")
	srv := &Server{Identity: them.id, Store: newMemStore(), Logger: testLogger(b)}
	srv.Partners = writePartners(b, b.TempDir(), partnerYAML{id: "us", as2ID: "EDIGATE", cert: us.certPath, sign: "sha256", mdnMode: "sync", requireSigned: true, requireEncrypted: true})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := &Client{Identity: us.id, Logger: testLogger(b)}
	client.Partners = writePartners(b, b.TempDir(), partnerYAML{id: "them", as2ID: "PARTNER", url: ts.URL + "/as2", cert: them.certPath, sign: "sha256", encrypt: "aes256-cbc", mdnMode: "sync", mdnSigned: true})
	payload := bytes.Repeat([]byte(sampleX12), 10240/len(sampleX12)+1)[:10240]
	ctx := context.Background()

	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := client.SendMessage(ctx, "them", "po.edi", payload); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	msgs := float64(b.N) / elapsed.Seconds()

	// RSA-2048 private-key operations per second, same machine, same run.
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	digest := sha256.Sum256(payload)
	n, t0 := 0, time.Now()
	for time.Since(t0) < time.Second || n < 50 {
		if _, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	ops := float64(n) / time.Since(t0).Seconds()
	b.ReportMetric(msgs, "msgs/s")
	b.ReportMetric(ops, "rsa2048-ops/s")
	b.ReportMetric(100*msgs/(ops/2), "%-of-ceiling")
}
