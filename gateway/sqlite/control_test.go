package sqlite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/edigate/edigate/gateway"
)

func TestNextControl(t *testing.T) {
	db := MustOpenDB(t)
	next := func(partner, kind string) int64 {
		t.Helper()
		n, err := db.NextControl(partner, kind)
		if err != nil {
			t.Fatalf("NextControl(%s, %s): %v", partner, kind, err)
		}
		return n
	}
	for i := int64(1); i <= 3; i++ {
		if n := next("acme", "ISA"); n != i {
			t.Errorf("ISA #%d = %d", i, n)
		}
	}
	if n := next("acme", "GS"); n != 1 {
		t.Errorf("first GS = %d, want 1 (counters are per kind)", n)
	}
	if n := next("globex", "ISA"); n != 1 {
		t.Errorf("globex's first ISA = %d, want 1 (counters are per partner)", n)
	}
	if _, err := db.NextControl("", "ISA"); gateway.ErrorCode(err) != gateway.EINVALID {
		t.Errorf("empty partner: %v, want EINVALID", err)
	}
}

func TestNextControlConcurrent(t *testing.T) {
	db := MustOpenDB(t)
	const goroutines, each = 8, 200
	got := make([][]int64, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				n, err := db.NextControl("acme", "ST")
				if err != nil {
					t.Error(err)
					return
				}
				got[g] = append(got[g], n)
			}
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, ns := range got {
		for _, n := range ns {
			if seen[n] {
				t.Errorf("%d handed out twice", n)
			}
			seen[n] = true
		}
	}
	if len(seen) != goroutines*each {
		t.Errorf("%d distinct numbers, want %d", len(seen), goroutines*each)
	}
	for n := int64(1); n <= goroutines*each; n++ {
		if !seen[n] {
			t.Errorf("%d never handed out", n)
			break
		}
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	token, err := db.CreateToken(ctx, "erp-sync")
	if err != nil {
		t.Fatal(err)
	}
	if len(token) != 43 { // 32 bytes, base64url without padding
		t.Errorf("token %q has %d characters, want 43", token, len(token))
	}
	other, err := db.CreateToken(ctx, "erp-sync")
	if err != nil || other == token {
		t.Errorf("second token %q, %v: want another token", other, err)
	}
	if name, err := db.CheckToken(ctx, token); err != nil || name != "erp-sync" {
		t.Errorf("CheckToken = %q, %v", name, err)
	}
	last := "A"
	if token[42:] == last {
		last = "B" // one token in 64 ends in A
	}
	for _, c := range []struct{ name, token string }{
		{"wrong", token[:42] + last},
		{"empty", ""},
		{"the hash itself", tokenHash(token)},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := db.CheckToken(ctx, c.token)
			if gateway.ErrorCode(err) != gateway.EUNAUTH {
				t.Errorf("CheckToken(%q) error %v, want EUNAUTH", c.token, err)
			}
		})
	}
	if _, err := db.CreateToken(ctx, ""); gateway.ErrorCode(err) != gateway.EINVALID {
		t.Errorf("empty name: %v, want EINVALID", err)
	}

	t.Run("not stored in clear", func(t *testing.T) {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		// Every file of the database (edigate.db, and -wal/-shm if any).
		files, _ := filepath.Glob(filepath.Join(dir, "edigate.db*"))
		if len(files) == 0 {
			t.Fatal("no database files")
		}
		var all []byte
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		if bytes.Contains(all, []byte(token)) {
			t.Error("the token is stored in clear")
		}
		if !bytes.Contains(all, []byte(tokenHash(token))) {
			t.Error("the token's hash is not in the database (is the grep looking in the right place?)")
		}
		db = mustOpen(t, dir)
		if name, err := db.CheckToken(ctx, token); err != nil || name != "erp-sync" {
			t.Errorf("CheckToken after reopen = %q, %v", name, err)
		}
	})
}
