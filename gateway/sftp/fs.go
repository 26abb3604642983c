package sftp

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"

	"github.com/edigate/edigate/gateway"
)

// The two folders a partner sees.
const (
	inboundDir  = "inbound"
	outboundDir = "outbound"
)

// uploadPrefix starts the names of the temporary files uploads are
// written to, inside the partner's inbound folder.
const uploadPrefix = ".upload-"

var (
	errDenied   = sftp.ErrSSHFxPermissionDenied
	errNotExist = fs.ErrNotExist
)

func denied(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errDenied)
}

// location is a cleaned path in a partner's tree: the root (folder ""),
// one of the two folders (name ""), or a file directly inside one.
type location struct {
	folder string
	name   string
}

func (l location) isDir() bool { return l.name == "" }

// rel is the location relative to the partner's folder, slash-separated.
func (l location) rel() string {
	switch {
	case l.folder == "":
		return "."
	case l.name == "":
		return l.folder
	}
	return l.folder + "/" + l.name
}

func (l location) String() string { return "/" + strings.TrimPrefix(l.rel(), ".") }

// parsePath cleans p as a slash path rooted at "/" and checks that it is
// one of the places a partner may name: /, /inbound, /outbound or a plain
// file name inside one of them. Anything else is a permission error.
func parsePath(dir, p string) (location, error) {
	clean := path.Clean("/" + p)
	// Belt and braces: the joined host path must stay inside dir.
	host := filepath.Join(dir, filepath.FromSlash(clean))
	if host != dir && !strings.HasPrefix(host, dir+string(filepath.Separator)) {
		return location{}, denied("%s is outside your folder", p)
	}
	if clean == "/" {
		return location{}, nil
	}
	parts := strings.Split(clean[1:], "/")
	if parts[0] != inboundDir && parts[0] != outboundDir || len(parts) > 2 {
		return location{}, denied("%s: only /inbound and /outbound are available", clean)
	}
	l := location{folder: parts[0]}
	if len(parts) == 2 {
		if !validName(parts[1]) {
			return location{}, denied("%q is not an allowed file name", parts[1])
		}
		l.name = parts[1]
	}
	return l, nil
}

// validName accepts plain file names: not hidden (temporary files are),
// no separators, no control characters.
func validName(name string) bool {
	if name == "" || name[0] == '.' || len(name) > 255 {
		return false
	}
	for _, c := range name {
		if c == '/' || c == '\\' || c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// partnerFS serves one SFTP session of one partner, confined to its
// folder through an os.Root.
type partnerFS struct {
	server *Server
	acct   *account
	root   *os.Root
	log    *slog.Logger
	remote string
}

func (f *partnerFS) open() (*os.Root, error) {
	if f.root != nil {
		return f.root, nil
	}
	r, err := os.OpenRoot(f.acct.dir)
	if err != nil {
		f.log.Error("sftp opening partner folder", "err", err)
		return nil, fmt.Errorf("partner folder unavailable: %w", sftp.ErrSSHFxFailure)
	}
	f.root = r
	return r, nil
}

func (f *partnerFS) close() {
	if f.root != nil {
		f.root.Close()
	}
}

// refused logs requests refused for permission, so that probing shows in
// the log with the partner's ID.
func (f *partnerFS) refused(r *sftp.Request, err error) {
	if err != nil && errors.Is(err, errDenied) {
		args := []any{"op", r.Method, "path", r.Filepath, "reason", err.Error()}
		if r.Target != "" {
			args = append(args, "target", r.Target)
		}
		f.log.Warn("sftp request refused", args...)
	}
}

// Fileread opens a file in /outbound for download.
func (f *partnerFS) Fileread(r *sftp.Request) (_ io.ReaderAt, err error) {
	defer func() { f.refused(r, err) }()
	l, err := parsePath(f.acct.dir, r.Filepath)
	if err != nil {
		return nil, err
	}
	if l.isDir() || l.folder != outboundDir {
		return nil, denied("%s cannot be read; files to collect are in /outbound", l)
	}
	root, err := f.open()
	if err != nil {
		return nil, err
	}
	if fi, err := root.Lstat(l.rel()); err != nil {
		return nil, errNotExist
	} else if !fi.Mode().IsRegular() {
		return nil, denied("%s is not a regular file", l)
	}
	file, err := root.Open(l.rel())
	if err != nil {
		return nil, errNotExist
	}
	return &download{File: file, fs: f, name: l.name}, nil
}

type download struct {
	*os.File
	fs   *partnerFS
	name string
	once sync.Once
}

func (d *download) Close() error {
	d.once.Do(func() {
		var size int64
		if fi, err := d.File.Stat(); err == nil {
			size = fi.Size()
		}
		d.fs.log.Info("sftp download", "file", d.name, "size", size)
	})
	return d.File.Close()
}

// Filewrite starts an upload into /inbound.
func (f *partnerFS) Filewrite(r *sftp.Request) (_ io.WriterAt, err error) {
	defer func() { f.refused(r, err) }()
	l, err := parsePath(f.acct.dir, r.Filepath)
	if err != nil {
		return nil, err
	}
	if l.isDir() || l.folder != inboundDir {
		return nil, denied("%s cannot be written; upload into /inbound", l)
	}
	tmp, err := os.CreateTemp(filepath.Join(f.acct.dir, inboundDir), uploadPrefix+"*")
	if err != nil {
		f.log.Error("sftp upload temporary file", "file", l.name, "err", err)
		return nil, fmt.Errorf("cannot store uploads now: %w", sftp.ErrSSHFxFailure)
	}
	return &upload{fs: f, name: l.name, file: tmp, max: f.acct.maxFileSize, started: time.Now()}, nil
}

// upload is one file being uploaded: written to a temporary file, handed
// to Store.Receive when the client closes it, then removed.
type upload struct {
	fs      *partnerFS
	name    string
	file    *os.File
	max     int64
	started time.Time

	mu     sync.Mutex
	size   int64
	failed error
	done   bool
}

func (u *upload) WriteAt(p []byte, off int64) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.failed != nil {
		return 0, u.failed
	}
	if off < 0 || off+int64(len(p)) > u.max {
		u.failed = fmt.Errorf("%s is larger than the limit of %d bytes: %w", u.name, u.max, sftp.ErrSSHFxFailure)
		u.fs.log.Warn("sftp upload refused: too large", "file", u.name, "max_file_size", u.max)
		return 0, u.failed
	}
	n, err := u.file.WriteAt(p, off)
	if end := off + int64(n); end > u.size {
		u.size = end
	}
	if err != nil {
		u.failed = fmt.Errorf("writing %s: %w", u.name, sftp.ErrSSHFxFailure)
		u.fs.log.Error("sftp upload write", "file", u.name, "err", err)
		return n, u.failed
	}
	return n, nil
}

// TransferError is called by the SFTP server when the connection ends
// with the file still open: the upload is incomplete and is dropped.
func (u *upload) TransferError(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.failed == nil {
		u.failed = fmt.Errorf("transfer of %s interrupted: %w", u.name, err)
	}
}

// Close hands the complete file to the store. The client's close returns
// OK only when Receive did, so a partner that saw OK knows the bytes are
// stored durably.
func (u *upload) Close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return nil
	}
	u.done = true
	defer func() {
		u.file.Close()
		os.Remove(u.file.Name())
	}()
	log := u.fs.log.With("file", u.name)
	if u.failed != nil {
		log.Warn("sftp upload dropped", "reason", u.failed.Error(), "size", u.size)
		return u.failed
	}
	if _, err := u.file.Seek(0, io.SeekStart); err != nil {
		log.Error("sftp upload rewind", "err", err)
		return fmt.Errorf("%s not stored: %w", u.name, sftp.ErrSSHFxFailure)
	}
	rc := gateway.Receipt{Partner: u.fs.acct.partner.ID, Transport: gateway.TransportSFTP, Filename: u.name}
	msg, err := u.fs.server.Store.Receive(u.fs.server.ctx, rc, io.LimitReader(u.file, u.size))
	if err != nil {
		log.Error("sftp upload not stored", "size", u.size, "err", err)
		return fmt.Errorf("%s not stored, send it again: %w", u.name, sftp.ErrSSHFxFailure)
	}
	log.Info("sftp upload received", "message_id", msg.ID, "size", u.size, "duration", time.Since(u.started).Round(time.Millisecond))
	return nil
}

// Filecmd handles removes and renames in /outbound; setstat (chmod,
// utime) on the partner's own places is accepted and ignored. Links,
// directories and everything else are refused.
func (f *partnerFS) Filecmd(r *sftp.Request) (err error) {
	defer func() { f.refused(r, err) }()
	switch r.Method {
	case "Setstat":
		_, err := parsePath(f.acct.dir, r.Filepath)
		return err
	case "Remove":
		l, err := parsePath(f.acct.dir, r.Filepath)
		if err != nil {
			return err
		}
		if l.isDir() {
			return denied("%s cannot be removed", l)
		}
		if l.folder != outboundDir {
			return errNotExist
		}
		root, err := f.open()
		if err != nil {
			return err
		}
		if fi, err := root.Lstat(l.rel()); err != nil || !fi.Mode().IsRegular() {
			return errNotExist
		}
		if err := root.Remove(l.rel()); err != nil {
			return errNotExist
		}
		f.log.Info("sftp removed", "file", l.name)
		return nil
	case "Rename", "PosixRename":
		from, err := parsePath(f.acct.dir, r.Filepath)
		if err != nil {
			return err
		}
		to, err := parsePath(f.acct.dir, r.Target)
		if err != nil {
			return err
		}
		if from.isDir() || to.isDir() || from.folder != to.folder {
			return denied("files can be renamed only inside their folder")
		}
		if from.folder != outboundDir {
			return errNotExist // uploads are never kept in /inbound
		}
		root, err := f.open()
		if err != nil {
			return err
		}
		if fi, err := root.Lstat(from.rel()); err != nil || !fi.Mode().IsRegular() {
			return errNotExist
		}
		if _, err := root.Lstat(to.rel()); err == nil && r.Method == "Rename" {
			return fmt.Errorf("%s exists: %w", to, sftp.ErrSSHFxFailure)
		}
		if err := root.Rename(from.rel(), to.rel()); err != nil {
			return fmt.Errorf("renaming %s: %w", from, sftp.ErrSSHFxFailure)
		}
		f.log.Info("sftp renamed", "file", from.name, "to", to.name)
		return nil
	case "Symlink", "Link":
		return denied("links are not allowed")
	case "Mkdir", "Rmdir":
		return denied("folders cannot be created or removed")
	}
	return sftp.ErrSSHFxOpUnsupported
}

// Filelist lists / (inbound and outbound), /inbound and /outbound, and
// stats the places parsePath allows.
func (f *partnerFS) Filelist(r *sftp.Request) (_ sftp.ListerAt, err error) {
	defer func() { f.refused(r, err) }()
	l, err := parsePath(f.acct.dir, r.Filepath)
	if err != nil {
		return nil, err
	}
	root, err := f.open()
	if err != nil {
		return nil, err
	}
	switch r.Method {
	case "List":
		if !l.isDir() {
			return nil, denied("%s is not a folder", l)
		}
		if l.folder == "" {
			var out lister
			for _, d := range []string{inboundDir, outboundDir} {
				fi, err := root.Stat(d)
				if err != nil {
					return nil, errNotExist
				}
				out = append(out, fi)
			}
			return out, nil
		}
		dir, err := root.Open(l.folder)
		if err != nil {
			return nil, errNotExist
		}
		defer dir.Close()
		entries, err := dir.ReadDir(-1)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", l, sftp.ErrSSHFxFailure)
		}
		var out lister
		for _, e := range entries {
			if !e.Type().IsRegular() || !validName(e.Name()) {
				continue
			}
			if fi, err := e.Info(); err == nil {
				out = append(out, fi)
			}
		}
		return out, nil
	case "Stat", "Lstat":
		fi, err := root.Lstat(l.rel())
		if err != nil {
			return nil, errNotExist
		}
		if l.isDir() != fi.IsDir() || !fi.IsDir() && !fi.Mode().IsRegular() {
			return nil, errNotExist
		}
		if l.folder == "" {
			fi = named{fi, "/"}
		}
		return lister{fi}, nil
	}
	return nil, denied("links are not allowed")
}

// Lstat is Stat: nothing a partner can see is a link.
func (f *partnerFS) Lstat(r *sftp.Request) (sftp.ListerAt, error) { return f.Filelist(r) }

type named struct {
	os.FileInfo
	name string
}

func (n named) Name() string { return n.name }

type lister []os.FileInfo

func (l lister) ListAt(out []os.FileInfo, offset int64) (int, error) {
	if offset >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(out, l[offset:])
	if n+int(offset) >= len(l) {
		return n, io.EOF
	}
	return n, nil
}
