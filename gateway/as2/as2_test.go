package as2

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/partners"
)

// memStore is the part of gateway.Store the AS2 server uses.
type memStore struct {
	gateway.Store
	mu       sync.Mutex
	msgs     map[string]*gateway.Message
	payloads map[string][]byte
	mdns     map[string][]byte
	byAS2    map[string]*gateway.Message
	receives int
}

func newMemStore() *memStore {
	return &memStore{msgs: map[string]*gateway.Message{}, payloads: map[string][]byte{}, mdns: map[string][]byte{}, byAS2: map[string]*gateway.Message{}}
}

func (s *memStore) Receive(ctx context.Context, rc gateway.Receipt, r io.Reader) (*gateway.Message, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.receives++
	m := &gateway.Message{ID: fmt.Sprintf("m%d", len(s.msgs)+1), Partner: rc.Partner, Transport: rc.Transport, Filename: rc.Filename, AS2MessageID: rc.AS2MessageID, Size: int64(len(b)), State: gateway.StateReceived}
	s.msgs[m.ID] = m
	s.byAS2[rc.Partner+"\x00"+rc.AS2MessageID] = m
	s.payloads[m.ID] = b
	return m, nil
}

func (s *memStore) MessageByAS2ID(ctx context.Context, partner, id string) (*gateway.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.byAS2[partner+"\x00"+id]; ok {
		return m, nil
	}
	return nil, gateway.ErrNotFound
}

func (s *memStore) SaveMDN(ctx context.Context, id string, mdn []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mdns[id] = append([]byte(nil), mdn...)
	return nil
}

func (s *memStore) MDN(ctx context.Context, id string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.mdns[id]; ok {
		return b, nil
	}
	return nil, gateway.ErrNotFound
}

func (s *memStore) last() (*gateway.Message, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := fmt.Sprintf("m%d", len(s.msgs))
	return s.msgs[id], s.payloads[id]
}

// peer is a partner's key pair, written as PEM files.
type peer struct {
	key      *rsa.PrivateKey
	cert     *x509.Certificate
	keyPath  string
	certPath string
	id       *Identity
}

func newPeer(t testing.TB, dir, name string) *peer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := SelfSigned(key, name, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return peerFiles(t, dir, name, key, cert)
}

// peerFiles makes a peer of key and cert, written to dir as name.key and
// name.pem for partner files to name.
func peerFiles(t testing.TB, dir, name string, key *rsa.PrivateKey, cert *x509.Certificate) *peer {
	t.Helper()
	p := &peer{key: key, cert: cert, keyPath: filepath.Join(dir, name+".key"), certPath: filepath.Join(dir, name+".pem")}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, p.keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
	mustWrite(t, p.certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
	p.id = &Identity{AS2ID: name, Key: key, Cert: cert}
	return p
}

func mustWrite(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// partnerYAML is one partner file's AS2 transport.
type partnerYAML struct {
	id, as2ID, url, cert, sign, encrypt, mdnMode         string
	compress, mdnSigned, requireSigned, requireEncrypted bool
}

var isaCounter int

func writePartners(t testing.TB, dir string, ps ...partnerYAML) *partners.Directory {
	t.Helper()
	for _, p := range ps {
		isaCounter++
		y := fmt.Sprintf(`id: %s
x12:
  isa: "ZZ:P%d"
  version: "004010"
transports:
  as2:
    id: %q
    url: %q
    certificate: %q
    sign: %q
    encrypt: %q
    compress: %v
    mdn:
      mode: %q
      signed: %v
    require_signed: %v
    require_encrypted: %v
`, p.id, isaCounter, p.as2ID, p.url, p.cert, p.sign, p.encrypt, p.compress, p.mdnMode, p.mdnSigned, p.requireSigned, p.requireEncrypted)
		mustWrite(t, filepath.Join(dir, p.id+".yaml"), []byte(y))
	}
	d, err := partners.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func run(t testing.TB, dir string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

const sampleX12 = "ISA*00*          *00*          *ZZ*P1             *ZZ*EDIGATE        *240101*1200*U*00401*000000001*0*P*>~\n" +
	"GS*PO*P1*EDIGATE*20240101*1200*1*X*004010~\nST*850*0001~\nBEG*00*SA*PO123**20240101~\nSE*3*0001~\nGE*1*1~\nIEA*1*000000001~\n"

// TestIdentity covers LoadOrCreateIdentity and GET /as2/certificate.
func TestIdentity(t *testing.T) {
	dir := t.TempDir()
	id, err := LoadOrCreateIdentity(dir, "EDIGATE")
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateIdentity(dir, "EDIGATE")
	if err != nil {
		t.Fatal(err)
	}
	if !again.Cert.Equal(id.Cert) {
		t.Fatal("second load made a new certificate")
	}
	if d := id.Cert.NotAfter.Sub(id.Cert.NotBefore); d < 9*365*24*time.Hour {
		t.Fatalf("certificate valid only %v", d)
	}
	if k := id.Key.(*rsa.PrivateKey); k.N.BitLen() != 2048 {
		t.Fatalf("key has %d bits", k.N.BitLen())
	}
	srv := httptest.NewServer(&Server{Identity: id})
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/as2/certificate")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(b, id.CertificatePEM()) {
		t.Fatalf("certificate endpoint served %q", b)
	}
}

// TestRoundTrip sends with our Client to our Server for every option.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	us := newPeer(t, dir, "EDIGATE")
	them := newPeer(t, dir, "PARTNER")
	store := newMemStore()
	srv := &Server{Identity: them.id, Store: store, Logger: testLogger(t)}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var async []*Result
	var amu sync.Mutex
	client := &Client{Identity: us.id, Logger: testLogger(t), Backoff: 10 * time.Millisecond}
	client.OnMDN = func(r *Result) { amu.Lock(); async = append(async, r); amu.Unlock() }
	mdnSrv := httptest.NewServer(http.HandlerFunc(client.ReceiveMDN))
	defer mdnSrv.Close()
	client.AsyncURL = mdnSrv.URL

	cases := []partnerYAML{
		{sign: "none", encrypt: "none", mdnMode: "sync"},
		{sign: "sha256", encrypt: "none", mdnMode: "sync", mdnSigned: true},
		{sign: "sha1", encrypt: "3des", mdnMode: "sync", mdnSigned: true},
		{sign: "sha384", encrypt: "aes128-cbc", mdnMode: "sync", mdnSigned: true},
		{sign: "sha512", encrypt: "aes192-cbc", mdnMode: "sync", mdnSigned: true, compress: true},
		{sign: "sha256", encrypt: "aes256-cbc", mdnMode: "async", mdnSigned: true},
		{sign: "none", encrypt: "aes128-gcm", mdnMode: "sync", mdnSigned: true},
		{sign: "sha256", encrypt: "aes256-gcm", mdnMode: "sync", mdnSigned: true, compress: true},
		{sign: "none", encrypt: "none", mdnMode: "none", compress: true},
	}
	for i, c := range cases {
		name := fmt.Sprintf("sign=%s,encrypt=%s,compress=%v,mdn=%s", c.sign, c.encrypt, c.compress, c.mdnMode)
		t.Run(name, func(t *testing.T) {
			pd := filepath.Join(t.TempDir())
			// Our view of them and their view of us.
			c.id, c.as2ID, c.url, c.cert = "them", "PARTNER", ts.URL+"/as2", them.certPath
			client.Partners = writePartners(t, pd, c)
			sd := t.TempDir()
			srv.Partners = writePartners(t, sd, partnerYAML{id: "us", as2ID: "EDIGATE", cert: us.certPath, sign: "sha256", mdnMode: "sync"})
			payload := []byte(sampleX12 + strings.Repeat("x", i*1000))
			res, err := client.SendMessage(context.Background(), "them", "po.edi", payload)
			if err != nil {
				t.Fatal(err)
			}
			if c.mdnMode == "async" {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				for {
					amu.Lock()
					n := len(async)
					amu.Unlock()
					if n > 0 {
						break
					}
					if ctx.Err() != nil {
						t.Fatal("no async MDN")
					}
					time.Sleep(10 * time.Millisecond)
				}
				if async[0].Err != nil || async[0].MessageID != res.MessageID {
					t.Fatalf("async MDN: %+v", async[0])
				}
			}
			m, got := store.last()
			if !bytes.Equal(got, payload) || m.Filename != "po.edi" || m.Partner != "us" {
				t.Fatalf("stored %+v %q", m, got)
			}
		})
	}
}

// count returns how often Receive was called, safely for the race detector.
func (s *memStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.receives
}
