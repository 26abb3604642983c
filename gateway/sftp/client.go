package sftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/partners"
)

// dialTimeout bounds connecting to and logging in on a partner's server.
const dialTimeout = 30 * time.Second

// remote is an open SFTP connection to a partner's server.
type remote struct {
	ssh  *ssh.Client
	sftp *sftp.Client
	stop func() bool
}

func (r *remote) Close() error {
	r.stop()
	err := r.sftp.Close()
	if err2 := r.ssh.Close(); err == nil {
		err = err2
	}
	return err
}

// rename moves from to to, replacing to when the server can do that.
func (r *remote) rename(from, to string) error {
	if _, ok := r.sftp.HasExtension("posix-rename@openssh.com"); ok {
		return r.sftp.PosixRename(from, to)
	}
	return r.sftp.Rename(from, to)
}

// ParseHostKey reads a server's public key from an authorized_keys line
// ("ssh-ed25519 AAAA… comment") or a known_hosts line ("host ssh-ed25519
// AAAA…").
func ParseHostKey(line string) (ssh.PublicKey, error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil, errors.New("host_key is missing: the partner server's public key is required")
	}
	if _, _, key, _, _, err := ssh.ParseKnownHosts([]byte(line)); err == nil {
		return key, nil
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, fmt.Errorf("host_key is not a known_hosts or authorized_keys line: %w", err)
	}
	return key, nil
}

// dial logs in to the partner's server named by its pull settings, checking
// the server's key against pull.host_key.
func dial(ctx context.Context, p *partners.Partner) (*remote, error) {
	cfg := p.Transports.SFTP
	if cfg == nil || cfg.Pull == nil {
		return nil, gateway.Errorf(gateway.EINVALID, "partner %s has no transports.sftp.pull", p.ID)
	}
	pl := cfg.Pull
	hostKey, err := ParseHostKey(pl.HostKey)
	if err != nil {
		return nil, gateway.Errorf(gateway.EINVALID, "partner %s: %v", p.ID, err)
	}
	keyData, err := os.ReadFile(p.Path(pl.PrivateKey))
	if err != nil {
		return nil, fmt.Errorf("reading partner %s's pull key: %w", p.ID, err)
	}
	signer, err := ssh.ParsePrivateKey(keyData)
	if err != nil {
		return nil, fmt.Errorf("parsing partner %s's pull key %s: %w", p.ID, pl.PrivateKey, err)
	}
	user := pl.Username
	if user == "" {
		user = "edigate"
	}
	conf := &ssh.ClientConfig{
		User:              user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   ssh.FixedHostKey(hostKey),
		HostKeyAlgorithms: []string{hostKey.Type()},
		Timeout:           dialTimeout,
	}
	d := net.Dialer{Timeout: dialTimeout}
	nc, err := d.DialContext(ctx, "tcp", pl.Address)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", pl.Address, err)
	}
	nc.SetDeadline(time.Now().Add(dialTimeout))
	c, chans, reqs, err := ssh.NewClientConn(nc, pl.Address, conf)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("logging in to %s as %s: %w", pl.Address, user, err)
	}
	nc.SetDeadline(time.Time{})
	client := ssh.NewClient(c, chans, reqs)
	sc, err := sftp.NewClient(client)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("starting sftp on %s: %w", pl.Address, err)
	}
	// Closing the connection makes blocked calls return when ctx ends.
	stop := context.AfterFunc(ctx, func() { client.Close() })
	return &remote{ssh: client, sftp: sc, stop: stop}, nil
}

// Puller fetches files from partners' own SFTP servers.
type Puller struct {
	Store  gateway.Store // only Receive is used
	Logger *slog.Logger
	// MaxFileSize refuses larger remote files when the partner sets no
	// max_file_size; zero means DefaultMaxFileSize.
	MaxFileSize int64
}

// PullOnce downloads every regular file in the partner's pull.remote_dir,
// hands each to Store.Receive and, once Receive succeeded, deletes it on
// the server (after: delete, the default) or moves it into pull.move_to
// (after: move). It returns how many files were received; a file that
// fails is left on the server for the next pull and reported in the error.
// Hidden files and names ending in .part (uploads in progress) are skipped.
func (pu *Puller) PullOnce(ctx context.Context, p *partners.Partner) (int, error) {
	log := pu.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r, err := dial(ctx, p)
	if err != nil {
		log.Warn("sftp pull: connect failed", "partner_id", p.ID, "err", err)
		return 0, err
	}
	defer r.Close()
	pl := p.Transports.SFTP.Pull
	log = log.With("partner_id", p.ID, "remote", pl.Address)
	limit := pu.MaxFileSize
	if limit <= 0 {
		limit = DefaultMaxFileSize
	}
	if s := p.Transports.SFTP.MaxFileSize; s != "" {
		if n, err := partners.ParseSize(s); err == nil {
			limit = n
		}
	}

	entries, err := r.sftp.ReadDir(pl.RemoteDir)
	if err != nil {
		return 0, fmt.Errorf("listing %s on %s: %w", pl.RemoteDir, pl.Address, err)
	}
	var n int
	var errs []error
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		name := e.Name()
		if !e.Mode().IsRegular() || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".part") {
			continue
		}
		if e.Size() > limit {
			log.Warn("sftp pull: file too large, left on the server", "file", name, "size", e.Size(), "max_file_size", limit)
			errs = append(errs, fmt.Errorf("%s: %d bytes is over the limit of %d", name, e.Size(), limit))
			continue
		}
		file := path.Join(pl.RemoteDir, name)
		msg, err := pu.fetch(ctx, r, p.ID, file, name, limit)
		if err != nil {
			log.Error("sftp pull: file not received", "file", name, "err", err)
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		n++
		log.Info("sftp pull received", "file", name, "message_id", msg.ID, "size", msg.Size)
		if pl.After == "move" {
			err = r.rename(file, path.Join(pl.MoveTo, name))
		} else {
			err = r.sftp.Remove(file)
		}
		if err != nil {
			// Received already: the next pull fetches it again and the store
			// marks the repeat a duplicate.
			log.Error("sftp pull: received file not cleared on the server", "file", name, "after", pl.After, "err", err)
			errs = append(errs, fmt.Errorf("clearing %s: %w", name, err))
		}
	}
	return n, errors.Join(errs...)
}

func (pu *Puller) fetch(ctx context.Context, r *remote, partner, file, name string, limit int64) (*gateway.Message, error) {
	f, err := r.sftp.Open(file)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", file, err)
	}
	defer f.Close()
	rc := gateway.Receipt{Partner: partner, Transport: gateway.TransportSFTPPull, Filename: name}
	return pu.Store.Receive(ctx, rc, &limitedReader{r: f, left: limit})
}

// limitedReader fails (rather than truncating) past its limit.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, errors.New("file grew over the size limit while being read")
	}
	return n, err
}

// Pusher is the gateway.Sender for partners with transports.sftp.push: it
// uploads to push.remote_dir on the partner's server (the pull address and
// credentials) as <name>.part and renames it to <name> once complete.
type Pusher struct {
	Partners *partners.Directory
	Logger   *slog.Logger
}

var _ gateway.Sender = (*Pusher)(nil)

// Send uploads one file.
func (pu *Pusher) Send(ctx context.Context, partner, filename string, payload []byte) error {
	if !validName(filename) {
		return gateway.Errorf(gateway.EINVALID, "outbound file name %q must be a plain name (no folders, not hidden)", filename)
	}
	p, ok := pu.Partners.ByID(partner)
	if !ok {
		return gateway.Errorf(gateway.ENOTFOUND, "partner %q not found", partner)
	}
	if p.Transports.SFTP == nil || p.Transports.SFTP.Push == nil {
		return gateway.Errorf(gateway.EINVALID, "partner %s has no transports.sftp.push", partner)
	}
	r, err := dial(ctx, p)
	if err != nil {
		return err
	}
	defer r.Close()
	dir := p.Transports.SFTP.Push.RemoteDir
	final := path.Join(dir, filename)
	part := final + ".part"
	f, err := r.sftp.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return fmt.Errorf("creating %s on %s: %w", part, p.Transports.SFTP.Pull.Address, err)
	}
	if _, err := f.Write(payload); err != nil {
		f.Close()
		r.sftp.Remove(part)
		return fmt.Errorf("writing %s: %w", part, err)
	}
	if err := f.Close(); err != nil {
		r.sftp.Remove(part)
		return fmt.Errorf("closing %s: %w", part, err)
	}
	if err := r.rename(part, final); err != nil {
		r.sftp.Remove(part)
		return fmt.Errorf("renaming %s to %s: %w", part, final, err)
	}
	if pu.Logger != nil {
		pu.Logger.Info("sftp push sent", "partner_id", partner, "file", filename, "remote", p.Transports.SFTP.Pull.Address, "size", len(payload))
	}
	return nil
}
