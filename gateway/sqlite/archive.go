package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/edigate/edigate/gateway/internal/fsutil"
)

// archived is a payload stored at its content address.
type archived struct {
	sha256 string
	size   int64
}

// archivePath is where a payload with this hex SHA-256 lives.
func (d *DB) archivePath(sum string) (string, error) {
	if !isSHA256Hex(sum) {
		return "", fmt.Errorf("invalid sha256 %q", sum)
	}
	return filepath.Join(d.archive, sum[:2], sum), nil
}

func isSHA256Hex(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// store streams r into the archive: into a temporary file while hashing,
// fsync'd, renamed to its content address (or dropped when that exists
// already), and the directories touched fsync'd. When it returns without
// error the bytes survive a crash.
func (d *DB) store(ctx context.Context, r io.Reader) (archived, error) {
	tmp, err := os.CreateTemp(filepath.Join(d.archive, tmpDir), "payload-*")
	if err != nil {
		return archived{}, err
	}
	tmpName := tmp.Name()
	keep := false
	defer func() {
		if !keep {
			_ = tmp.Close() // may be closed already
			_ = os.Remove(tmpName)
		}
	}()

	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err != nil {
		return archived{}, fmt.Errorf("writing %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		return archived{}, fmt.Errorf("syncing %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return archived{}, fmt.Errorf("closing %s: %w", tmpName, err)
	}
	a := archived{sha256: hexSum(h), size: n}

	dst, _ := d.archivePath(a.sha256)
	sub := filepath.Dir(dst)
	newSub := false
	if _, err := os.Stat(sub); os.IsNotExist(err) {
		newSub = true
	}
	if err := os.MkdirAll(sub, 0o750); err != nil {
		return archived{}, err
	}
	if _, err := os.Stat(dst); err == nil {
		// Same bytes stored before: the temporary file goes (deferred).
	} else {
		if err := os.Rename(tmpName, dst); err != nil {
			return archived{}, fmt.Errorf("renaming to %s: %w", dst, err)
		}
		keep = true
	}
	// Sync the content-address directory even when the file was there:
	// a concurrent Receive of the same bytes may have renamed it without
	// having synced the directory yet.
	dirs := []string{sub, filepath.Join(d.archive, tmpDir)}
	if newSub {
		dirs = append(dirs, d.archive)
	}
	for _, dir := range dirs {
		if err := fsutil.SyncDir(dir); err != nil {
			return archived{}, err
		}
	}
	return a, nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
