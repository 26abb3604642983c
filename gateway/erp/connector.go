package erp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/edigate/edigate/gateway"
)

// Subdirectories of the inbox that Commit moves files into.
const (
	DoneDir   = "done"   // files read, including those with row problems
	FailedDir = "failed" // files that are not an export at all (a *FileError)
)

// FileConnector is the ERP file connector. The ERP drops exports into
// Inbox (writing them under a name ending .part or .tmp, or starting with
// a dot, and renaming them when complete); Pull reads them, and Commit
// moves them to Inbox/done/ once the orders are stored, or to
// Inbox/failed/ when a file was not an export at all. PushDecisions writes
// decision files into Outbox.
//
// Set the exported fields before the first call and do not change them
// afterwards. Its methods are safe for concurrent use.
type FileConnector struct {
	Inbox   string
	Outbox  string
	Mapping Mapping
	Now     func() time.Time // the clock; time.Now when nil

	mu     sync.Mutex // guards pulled; held through Pull and Commit
	pulled []pulledFile
	outMu  sync.Mutex // serializes PushDecisions
}

var _ gateway.Connector = (*FileConnector)(nil)

// pulledFile is a file the last Pull read.
type pulledFile struct {
	name    string
	failed  bool // a *FileError: goes to failed/
	size    int64
	modTime time.Time
}

// now returns the current time in UTC.
func (c *FileConnector) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

// Pull parses every export directly in Inbox, in name order, skipping
// names that start with a dot or end with .part or .tmp, and anything
// that is not a regular file. Row problems, and files that are not an
// export at all (a *FileError), are returned in problems; err is for an
// invalid Mapping or an I/O error, after which nothing is remembered.
// Errors and Source name files by their base name.
func (c *FileConnector) Pull(ctx context.Context) ([]gateway.Order, []error, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.Mapping.Validate(); err != nil {
		return nil, nil, fmt.Errorf("erp mapping: %w", err)
	}
	entries, err := os.ReadDir(c.Inbox)
	if err != nil {
		return nil, nil, err
	}
	var orders []gateway.Order
	var problems []error
	var pulled []pulledFile
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if !isExport(e) {
			continue
		}
		o, p, pf, err := c.pullFile(e.Name())
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since ReadDir
		}
		if err != nil {
			return nil, nil, err
		}
		orders, problems, pulled = append(orders, o...), append(problems, p...), append(pulled, pf)
	}
	c.pulled = pulled
	return orders, problems, nil
}

// isExport reports whether a directory entry is a file to read.
func isExport(e fs.DirEntry) bool {
	name := e.Name()
	return e.Type().IsRegular() && !strings.HasPrefix(name, ".") &&
		!strings.HasSuffix(name, ".part") && !strings.HasSuffix(name, ".tmp")
}

// pullFile parses one inbox file. A *FileError becomes a problem and
// marks the file failed.
func (c *FileConnector) pullFile(name string) ([]gateway.Order, []error, pulledFile, error) {
	f, err := os.Open(filepath.Join(c.Inbox, name))
	if err != nil {
		return nil, nil, pulledFile{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, pulledFile{}, err
	}
	pf := pulledFile{name: name, size: info.Size(), modTime: info.ModTime()}
	orders, problems, err := Parse(name, f, c.Mapping)
	var fe *FileError
	if errors.As(err, &fe) {
		pf.failed = true
		return nil, []error{err}, pf, nil
	}
	return orders, problems, pf, err
}

// Commit moves the files the last Pull read into Inbox/done/, or
// Inbox/failed/ for those that were not an export at all. A file that has
// changed since the Pull stays, to be read again; one that is gone is
// forgotten. A name already taken in done/ or failed/ gets a timestamp
// suffix; nothing there is overwritten.
func (c *FileConnector) Commit(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	files := c.pulled
	c.pulled = nil
	var errs []error
	for _, pf := range files {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := c.archive(pf); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// archive moves one pulled file out of the inbox.
func (c *FileConnector) archive(pf pulledFile) error {
	src := filepath.Join(c.Inbox, pf.name)
	info, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.Size() != pf.size || !info.ModTime().Equal(pf.modTime) {
		return nil
	}
	dir := filepath.Join(c.Inbox, DoneDir)
	if pf.failed {
		dir = filepath.Join(c.Inbox, FailedDir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range archiveNames(pf.name, c.now()) {
		err := moveNew(src, filepath.Join(dir, name))
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return fmt.Errorf("moving %s: every name in %s is taken", src, dir)
}

// archiveNames returns the names to try for a file in done/: its own,
// then with a timestamp suffix before the extension, then with a counter
// too.
func archiveNames(name string, now time.Time) []string {
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext) + "-" + now.Format("20060102T150405Z")
	names := []string{name, base + ext}
	for i := 2; i <= 100; i++ {
		names = append(names, fmt.Sprintf("%s-%d%s", base, i, ext))
	}
	return names
}

// moveNew moves src to dst, failing with fs.ErrExist if dst exists. It
// links then removes, so that an existing dst is never overwritten; where
// links are not supported it checks, then renames.
func moveNew(src, dst string) error {
	err := os.Link(src, dst)
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	if err == nil {
		return os.Remove(src)
	}
	if _, err := os.Lstat(dst); err == nil {
		return fs.ErrExist
	}
	return os.Rename(src, dst)
}
