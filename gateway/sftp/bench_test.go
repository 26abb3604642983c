package sftp

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// BenchmarkUpload uploads 10 KB files with pkg/sftp's client in the same
// process, over a real TCP connection to the Server, and reports files/s.
// The store keeps nothing (it reads each payload and returns), so this
// measures the transport: SSH, SFTP, the temporary file and Receive's call.
func BenchmarkUpload(b *testing.B) {
	k := MustKey(b, "bench")
	dir := b.TempDir()
	writePartner(b, dir, "bench", keyYAML(k)+"    max_sessions: 8\n")
	store := newTestStore(b)
	store.discard = true
	s := MustStartServer(b, dir, store)
	payload := bytes.Repeat([]byte("ISA*00*0123456789~"), 10240/18+1)[:10240]

	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			_, c := MustDial(b, s, "bench", ssh.PublicKeys(k.signer(b)))
			var next atomic.Int64
			var wg sync.WaitGroup
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			start := time.Now()
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						f, err := c.Create(fmt.Sprintf("/inbound/f-%d.850", i))
						if err != nil {
							b.Error(err)
							return
						}
						if _, err := f.Write(payload); err != nil {
							b.Error(err)
						}
						if err := f.Close(); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "files/s")
		})
	}
}
