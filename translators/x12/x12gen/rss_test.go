//go:build linux

package x12gen_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edigate/edigate/translators/x12/x12gen"
)

// TestValidateBoundedMemory pipes a large generated interchange into
// "edigate validate -" and checks that the process's peak RSS stays bounded.
// EDIGATE_RSS_BYTES sets the size (default 100 MB).
func TestValidateBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and streams 100 MB")
	}
	size := int64(100 << 20)
	if s := os.Getenv("EDIGATE_RSS_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			t.Fatalf("EDIGATE_RSS_BYTES=%q is not a positive number", s)
		}
		size = n
	}
	const limitKiB = 64 << 10 // 64 MiB

	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin := filepath.Join(t.TempDir(), "edigate")
	build := exec.Command("go", "build", "-o", bin, "./gateway/cmd/edigate")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.Command(bin, "validate", "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr tailBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	genErr := make(chan error, 1)
	var written int64
	go func() {
		n, err := x12gen.Write(stdin, x12gen.Options{Set: "850", Seed: 1}, size)
		written = n
		if cerr := stdin.Close(); err == nil {
			err = cerr
		}
		genErr <- err
	}()
	waitErr := cmd.Wait()
	elapsed := time.Since(start)
	if err := <-genErr; err != nil {
		t.Fatalf("generating: %v (validate: %v; stderr: %s)", err, waitErr, stderr.String())
	}
	if waitErr != nil {
		t.Fatalf("edigate validate: %v\nstdout (tail): %s\nstderr: %s", waitErr, stdout.String(), stderr.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no rusage")
	}
	rss := ru.Maxrss // KiB on Linux
	mb := float64(written) / 1e6
	t.Logf("validated %.0f MB in %v: %.1f MB/s (generator included), peak RSS %.1f MiB, %d output lines",
		mb, elapsed.Round(time.Millisecond), mb/elapsed.Seconds(), float64(rss)/1024, stdout.lines)
	if rss >= limitKiB {
		t.Errorf("peak RSS %d KiB; want below %d KiB", rss, limitKiB)
	}
}

// tailBuffer keeps the last 4 KiB written to it and counts lines, so that a
// flood of findings cannot fill memory.
type tailBuffer struct {
	buf   []byte
	lines int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.lines += bytes.Count(p, []byte{'\n'})
	b.buf = append(b.buf, p...)
	if len(b.buf) > 4096 {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-4096:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string { return string(b.buf) }

var _ io.Writer = (*tailBuffer)(nil)
