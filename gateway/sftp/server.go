// Package sftp is edigate's SFTP transport: the SFTP server partners log
// in to (inbound/ for their uploads, outbound/ for what we leave for them),
// the Outbox that fills outbound/, and the Puller and Pusher that fetch
// from and deliver to a partner's own SFTP server.
//
// A partner sees a tiny file system: / holds inbound and outbound; it may
// upload into /inbound (each upload is handed to gateway.Store.Receive when
// the client closes the file, and the close succeeds only once Receive
// did), and read, list and remove files in /outbound. Everything else —
// other folders, links, directories, other partners' files — is refused.
package sftp

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/gateway/internal/fsutil"
	"github.com/edigate/edigate/partners"
)

// Defaults for partners that do not set their own.
const (
	DefaultMaxFileSize = 100 << 20 // 100 MiB
	DefaultMaxSessions = 4
)

// HostKeyFile is the name of the server's host key inside DataDir; the
// public half is written beside it with a .pub suffix.
const HostKeyFile = "ssh_host_ed25519_key"

// handshakeTimeout bounds how long a client may take to log in.
const handshakeTimeout = 30 * time.Second

// Server is the SFTP server partners log in to.
type Server struct {
	// Addr is the address to listen on, such as ":2222" or "127.0.0.1:0".
	Addr string
	// DataDir keeps the host key (generated on first start).
	DataDir string
	// Root holds one folder per partner: Root/<partner>/inbound and
	// Root/<partner>/outbound, created on start.
	Root     string
	Partners *partners.Directory
	// Store receives uploads; only Receive is used.
	Store  gateway.Store
	Logger *slog.Logger
	// MaxFileSize and MaxSessions apply to partners that do not set
	// max_file_size / max_sessions; zero means DefaultMaxFileSize and
	// DefaultMaxSessions.
	MaxFileSize int64
	MaxSessions int

	// serveSFTP, when set (by tests), replaces the confined file system
	// with another SFTP server on the channel.
	serveSFTP func(ch io.ReadWriteCloser, a *account) error

	mu       sync.Mutex
	ln       net.Listener
	accounts map[string]*account // by login name
	conns    map[net.Conn]struct{}
	closed   bool
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	hostKey  ssh.Signer
	config   *ssh.ServerConfig
}

// account is one partner's login on the server.
type account struct {
	partner     *partners.Partner
	user        string
	keys        []ssh.PublicKey
	password    []byte // bcrypt hash, nil when password login is off
	dir         string // Root/<partner>
	maxFileSize int64
	maxSessions int

	mu       sync.Mutex
	sessions int
}

func (a *account) acquire() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sessions >= a.maxSessions {
		return false
	}
	a.sessions++
	return true
}

func (a *account) release() {
	a.mu.Lock()
	a.sessions--
	a.mu.Unlock()
}

// Start loads the host key, creates the partners' folders, listens on
// Addr and serves in the background until Close is called or ctx ends.
func (s *Server) Start(ctx context.Context) error {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Root == "" || s.DataDir == "" {
		return errors.New("sftp server: Root and DataDir are required")
	}
	signer, err := loadOrCreateHostKey(filepath.Join(s.DataDir, HostKeyFile))
	if err != nil {
		return fmt.Errorf("sftp host key: %w", err)
	}
	accounts, err := s.loadAccounts()
	if err != nil {
		return err
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: s.checkPublicKey,
		PasswordCallback:  s.checkPassword,
		ServerVersion:     "SSH-2.0-edigate",
	}
	cfg.AddHostKey(signer)

	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("sftp listen: %w", err)
	}
	s.mu.Lock()
	s.ln, s.accounts, s.hostKey, s.config = ln, accounts, signer, cfg
	s.conns = map[net.Conn]struct{}{}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Unlock()
	s.Logger.Info("sftp server listening", "addr", ln.Addr().String(), "partners", len(accounts))

	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.acceptLoop(ln)
	}()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.ctx.Done():
		}
	}()
	return nil
}

// ListenAddr returns the address the server listens on once started (the
// port chosen when Addr ends in :0). It is not named Addr because the
// field is.
func (s *Server) ListenAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// HostKey returns the server's public host key, once started.
func (s *Server) HostKey() ssh.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hostKey == nil {
		return nil
	}
	return s.hostKey.PublicKey()
}

// Close stops accepting, closes every session and waits for them to end.
// An upload whose Receive had not returned is not confirmed to its client.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed || s.ln == nil {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) loadAccounts() (map[string]*account, error) {
	accounts := map[string]*account{}
	if s.Partners == nil {
		return accounts, nil
	}
	maxSize, maxSessions := s.MaxFileSize, s.MaxSessions
	if maxSize <= 0 {
		maxSize = DefaultMaxFileSize
	}
	if maxSessions <= 0 {
		maxSessions = DefaultMaxSessions
	}
	for _, p := range s.Partners.Partners {
		cfg := p.Transports.SFTP
		if cfg == nil {
			continue
		}
		a := &account{partner: p, user: p.SFTPUser(), dir: filepath.Join(s.Root, p.ID), maxFileSize: maxSize, maxSessions: maxSessions}
		if other, dup := accounts[a.user]; dup {
			return nil, fmt.Errorf("sftp: partners %s and %s both log in as %q", other.partner.ID, p.ID, a.user)
		}
		for i, line := range cfg.PublicKeys {
			k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
			if err != nil {
				return nil, fmt.Errorf("sftp: partner %s: public key %d: %w", p.ID, i+1, err)
			}
			a.keys = append(a.keys, k)
		}
		if cfg.PasswordBcrypt != "" {
			if _, err := bcrypt.Cost([]byte(cfg.PasswordBcrypt)); err != nil {
				return nil, fmt.Errorf("sftp: partner %s: password_bcrypt: %w", p.ID, err)
			}
			a.password = []byte(cfg.PasswordBcrypt)
		}
		if cfg.MaxFileSize != "" {
			n, err := partners.ParseSize(cfg.MaxFileSize)
			if err != nil {
				return nil, fmt.Errorf("sftp: partner %s: %w", p.ID, err)
			}
			a.maxFileSize = n
		}
		if cfg.MaxSessions > 0 {
			a.maxSessions = cfg.MaxSessions
		}
		for _, sub := range []string{inboundDir, outboundDir} {
			if err := os.MkdirAll(filepath.Join(a.dir, sub), 0o750); err != nil {
				return nil, fmt.Errorf("sftp: partner %s: %w", p.ID, err)
			}
		}
		removeStaleUploads(filepath.Join(a.dir, inboundDir), s.Logger)
		accounts[a.user] = a
	}
	return accounts, nil
}

// removeStaleUploads deletes temporary files of uploads a crash
// interrupted; they were never confirmed to their clients.
func removeStaleUploads(dir string, log *slog.Logger) {
	stale, _ := filepath.Glob(filepath.Join(dir, uploadPrefix+"*"))
	for _, f := range stale {
		if err := os.Remove(f); err == nil {
			log.Info("sftp removed unfinished upload", "file", f)
		}
	}
}

const extPartner = "edigate-partner"

func (s *Server) checkPublicKey(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	a := s.accounts[c.User()]
	if a != nil {
		for _, k := range a.keys {
			if k.Type() == key.Type() && string(k.Marshal()) == string(key.Marshal()) {
				return &ssh.Permissions{Extensions: map[string]string{extPartner: c.User(), "method": "publickey"}}, nil
			}
		}
	}
	s.refused(c, "publickey", a, "key "+ssh.FingerprintSHA256(key))
	return nil, errors.New("public key refused")
}

func (s *Server) checkPassword(c ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
	a := s.accounts[c.User()]
	if a != nil && a.password != nil && bcrypt.CompareHashAndPassword(a.password, password) == nil {
		return &ssh.Permissions{Extensions: map[string]string{extPartner: c.User(), "method": "password"}}, nil
	}
	s.refused(c, "password", a, "wrong password")
	return nil, errors.New("password refused")
}

func (s *Server) refused(c ssh.ConnMetadata, method string, a *account, reason string) {
	args := []any{"user", c.User(), "remote", c.RemoteAddr().String(), "method", method}
	if a == nil {
		reason = "unknown user"
	} else {
		args = append(args, "partner_id", a.partner.ID)
	}
	s.Logger.Warn("sftp login refused", append(args, "reason", reason)...)
}

func (s *Server) acceptLoop(ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			s.Logger.Error("sftp accept", "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if !s.track(nc) {
			nc.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(nc)
			s.serveConn(nc)
		}()
	}
}

func (s *Server) track(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[nc] = struct{}{}
	return true
}

func (s *Server) untrack(nc net.Conn) {
	s.mu.Lock()
	delete(s.conns, nc)
	s.mu.Unlock()
	nc.Close()
}

func (s *Server) serveConn(nc net.Conn) {
	remote := nc.RemoteAddr().String()
	nc.SetDeadline(time.Now().Add(handshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.config)
	if err != nil {
		s.Logger.Debug("sftp handshake failed", "remote", remote, "err", err)
		return
	}
	defer sc.Close()
	nc.SetDeadline(time.Time{})
	go ssh.DiscardRequests(reqs)

	a := s.accounts[sc.Permissions.Extensions[extPartner]]
	log := s.Logger.With("partner_id", a.partner.ID, "remote", remote)
	if !a.acquire() {
		log.Warn("sftp session refused: too many sessions", "max_sessions", a.maxSessions)
		t := time.AfterFunc(10*time.Second, func() { sc.Close() })
		defer t.Stop()
		for nch := range chans {
			nch.Reject(ssh.ResourceShortage, fmt.Sprintf("too many sessions for %s (at most %d)", a.user, a.maxSessions))
			sc.Close()
		}
		return
	}
	defer a.release()
	log.Info("sftp login", "user", a.user, "method", sc.Permissions.Extensions["method"], "client", string(sc.ClientVersion()))

	var wg sync.WaitGroup
	defer wg.Wait()
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "only session channels")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			log.Warn("sftp channel", "err", err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveSession(a, log, remote, ch, chReqs)
		}()
	}
}

// serveSession runs the sftp subsystem on a session channel; shells,
// commands and everything else are refused.
func (s *Server) serveSession(a *account, log *slog.Logger, remote string, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	start := make(chan bool, 1)
	go func() {
		granted := false
		for req := range reqs {
			var sub struct{ Name string }
			ok := !granted && req.Type == "subsystem" && ssh.Unmarshal(req.Payload, &sub) == nil && sub.Name == "sftp"
			if req.WantReply {
				req.Reply(ok, nil)
			}
			if ok {
				granted = true
				start <- true
			} else {
				log.Debug("sftp request refused", "type", req.Type)
			}
		}
		if !granted {
			start <- false
		}
	}()
	select {
	case ok := <-start:
		if !ok {
			return
		}
	case <-s.ctx.Done():
		return
	}
	var err error
	if s.serveSFTP != nil {
		err = s.serveSFTP(ch, a)
	} else {
		fs := &partnerFS{server: s, acct: a, log: log, remote: remote}
		rs := sftp.NewRequestServer(ch, sftp.Handlers{FileGet: fs, FilePut: fs, FileCmd: fs, FileList: fs})
		err = rs.Serve()
		fs.close()
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		log.Debug("sftp session ended", "err", err)
	}
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
}

// loadOrCreateHostKey reads an OpenSSH private key, or generates an
// ed25519 key (and its .pub) when the file does not exist yet.
func loadOrCreateHostKey(file string) (ssh.Signer, error) {
	data, err := os.ReadFile(file)
	if err == nil {
		return ssh.ParsePrivateKey(data)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "edigate host key")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
		return nil, err
	}
	if err := fsutil.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	pub := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) + " edigate\n"
	if err := fsutil.WriteFile(file+".pub", []byte(pub), 0o644); err != nil {
		return nil, err
	}
	return signer, nil
}
