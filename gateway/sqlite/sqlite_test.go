package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
)

// MustOpenDB opens a store in a new temporary directory and closes it
// when the test ends.
func MustOpenDB(tb testing.TB, opts ...Option) *DB {
	tb.Helper()
	return mustOpen(tb, tb.TempDir(), opts...)
}

func mustOpen(tb testing.TB, dir string, opts ...Option) *DB {
	tb.Helper()
	db, err := Open(dir, opts...)
	if err != nil {
		tb.Fatalf("Open(%s): %v", dir, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

// clock is a settable clock for WithNow.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

func mustReceive(tb testing.TB, db *DB, rc gateway.Receipt, payload string) *gateway.Message {
	tb.Helper()
	m, err := db.Receive(context.Background(), rc, strings.NewReader(payload))
	if err != nil {
		tb.Fatalf("Receive: %v", err)
	}
	return m
}

func mustMessage(tb testing.TB, db *DB, id string) *gateway.Message {
	tb.Helper()
	m, err := db.Message(context.Background(), id)
	if err != nil {
		tb.Fatalf("Message(%s): %v", id, err)
	}
	return m
}

func readPayload(tb testing.TB, db *DB, m *gateway.Message) []byte {
	tb.Helper()
	rc, err := db.Payload(context.Background(), m)
	if err != nil {
		tb.Fatalf("Payload(%s): %v", m.ID, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatalf("reading payload of %s: %v", m.ID, err)
	}
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func wantNotFound(tb testing.TB, what string, err error) {
	tb.Helper()
	if !errors.Is(err, gateway.ErrNotFound) {
		tb.Errorf("%s: error %v, want ErrNotFound", what, err)
	}
	if gateway.ErrorCode(err) != gateway.ENOTFOUND {
		tb.Errorf("%s: code %q, want %q", what, gateway.ErrorCode(err), gateway.ENOTFOUND)
	}
}

func TestOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data dir #1?x=y") // does not exist yet; URI-hostile name
	db := mustOpen(t, dir)
	for _, p := range []string{"edigate.db", "archive", "archive/tmp"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, c := range []struct {
		conn         string
		pragma, want string
	}{
		{"write", "journal_mode", "wal"},
		{"write", "synchronous", "2"}, // FULL
		{"write", "foreign_keys", "1"},
		{"write", "busy_timeout", "10000"},
		{"read", "journal_mode", "wal"},
		{"read", "foreign_keys", "1"},
		{"read", "busy_timeout", "10000"},
		{"read", "query_only", "1"},
	} {
		t.Run(c.conn+"/"+c.pragma, func(t *testing.T) {
			conn := db.write
			if c.conn == "read" {
				conn = db.read
			}
			var got string
			if err := conn.QueryRow("PRAGMA " + c.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("PRAGMA %s = %q, want %q", c.pragma, got, c.want)
			}
		})
	}
	t.Run("migrations", func(t *testing.T) {
		var names []string
		rows, err := db.read.Query(`SELECT name FROM schema_migrations ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		if len(names) == 0 || names[0] != "0001_init.sql" {
			t.Errorf("schema_migrations = %v, want 0001_init.sql first", names)
		}
		// Opening again applies nothing twice.
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db = mustOpen(t, dir)
		var n int
		if err := db.read.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(names) {
			t.Errorf("after reopening, %d migrations recorded, want %d", n, len(names))
		}
	})
	t.Run("read pool refuses writes", func(t *testing.T) {
		if _, err := db.read.Exec(`INSERT INTO tokens (hash, name, created_at) VALUES ('x', 'y', 'z')`); err == nil {
			t.Error("insert through the read pool succeeded")
		}
	})
}

// TestDurability closes and reopens the store: messages, payloads,
// documents, counters and tokens are still there.
func TestDurability(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := mustReceive(t, db, gateway.Receipt{Partner: "acme", Transport: gateway.TransportSFTP, Filename: "po.edi"}, "ISA*00*payload")
	for range 3 {
		if _, err := db.NextControl("acme", "ISA"); err != nil {
			t.Fatal(err)
		}
	}
	token, err := db.CreateToken(ctx, "erp")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpen(t, dir)
	got := mustMessage(t, db, m.ID)
	if got.SHA256 != m.SHA256 || got.State != gateway.StateReceived || got.Filename != "po.edi" {
		t.Errorf("after reopen: %+v, want %+v", got, m)
	}
	if b := readPayload(t, db, got); string(b) != "ISA*00*payload" {
		t.Errorf("payload after reopen = %q", b)
	}
	if n, err := db.NextControl("acme", "ISA"); err != nil || n != 4 {
		t.Errorf("NextControl after reopen = %d, %v, want 4", n, err)
	}
	if name, err := db.CheckToken(ctx, token); err != nil || name != "erp" {
		t.Errorf("CheckToken after reopen = %q, %v", name, err)
	}
}

// TestCrash runs a child process that receives payloads in a loop and
// prints each message ID once Receive has returned, kills it with SIGKILL,
// and checks that every message it confirmed survived intact.
func TestCrash(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("in the child")
	}
	if testing.Short() {
		t.Skip("short")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	type confirmed struct{ id, sha string }
	var (
		mu   sync.Mutex
		seen []confirmed
	)
	first := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := bufio.NewScanner(out)
		for s.Scan() {
			// "ok <id> <sha256>": a line is written in one write, well
			// under PIPE_BUF, so a partial line cannot be mistaken for one.
			f := strings.Fields(s.Text())
			if len(f) != 3 || f[0] != "ok" || len(f[2]) != 64 {
				continue
			}
			mu.Lock()
			seen = append(seen, confirmed{f[1], f[2]})
			if len(seen) == 1 {
				close(first)
			}
			mu.Unlock()
		}
	}()
	select {
	case <-first:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatal("child confirmed nothing within 15 s")
	}
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-done
	_ = cmd.Wait()

	db := mustOpen(t, dir)
	mu.Lock()
	defer mu.Unlock()
	t.Logf("child confirmed %d messages before SIGKILL", len(seen))
	for _, c := range seen {
		m, err := db.Message(context.Background(), c.id)
		if err != nil {
			t.Errorf("confirmed message %s: %v", c.id, err)
			continue
		}
		if m.SHA256 != c.sha {
			t.Errorf("message %s: sha256 %s, child hashed %s", c.id, m.SHA256, c.sha)
		}
		if got := sum(readPayload(t, db, m)); got != c.sha {
			t.Errorf("payload of %s hashes to %s, want %s", c.id, got, c.sha)
		}
	}
	var check string
	if err := db.read.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
	// The store still works after the crash.
	mustReceive(t, db, gateway.Receipt{Partner: "after"}, "after the crash")
}

const crashEnv = "EDIGATE_SQLITE_CRASH_DIR"

// TestCrashChild is TestCrash's child process; it does nothing otherwise.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("only run by TestCrash")
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, uint64(os.Getpid())))
	for i := 0; ; i++ {
		payload := make([]byte, 1+rng.IntN(20000))
		for j := range payload {
			payload[j] = byte(rng.Uint32())
		}
		m, err := db.Receive(context.Background(), gateway.Receipt{Partner: fmt.Sprintf("p%d", i%3)}, bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Fprintf(os.Stdout, "ok %s %s\n", m.ID, sum(payload)); err != nil {
			t.Fatal(err)
		}
	}
}
