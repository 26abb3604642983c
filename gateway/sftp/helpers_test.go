package sftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/partners"
)

// testStore is the test double of gateway.Store: only Receive exists (the
// embedded nil interface panics on anything else). It keeps what it
// received in a map and in a folder, and fails when told to.
type testStore struct {
	gateway.Store
	dir string

	mu       sync.Mutex
	fail     error
	discard  bool
	receipts []gateway.Receipt
	files    map[string][]byte // by partner/filename
}

func newTestStore(t testing.TB) *testStore {
	return &testStore{dir: t.TempDir(), files: map[string][]byte{}}
}

func (s *testStore) Receive(ctx context.Context, rc gateway.Receipt, payload io.Reader) (*gateway.Message, error) {
	data, err := io.ReadAll(payload)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	id := fmt.Sprintf("msg-%d", len(s.receipts)+1)
	s.receipts = append(s.receipts, rc)
	if s.discard {
		return &gateway.Message{ID: id, Size: int64(len(data))}, nil
	}
	s.files[rc.Partner+"/"+rc.Filename] = data
	if err := os.WriteFile(filepath.Join(s.dir, id), data, 0o600); err != nil {
		return nil, err
	}
	return &gateway.Message{ID: id, Partner: rc.Partner, Transport: rc.Transport, Filename: rc.Filename, Size: int64(len(data))}, nil
}

func (s *testStore) setFail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

func (s *testStore) got() ([]gateway.Receipt, map[string][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	files := map[string][]byte{}
	for k, v := range s.files {
		files[k] = v
	}
	return append([]gateway.Receipt(nil), s.receipts...), files
}

var errStoreDown = errors.New("store is down")

// requireSFTPClient skips a test when the OpenSSH sftp client is missing.
func requireSFTPClient(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"sftp", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH (install openssh-client)", tool)
		}
	}
}

// key is an ed25519 key pair made by ssh-keygen.
type key struct {
	file string // private key
	pub  string // authorized_keys line
}

func MustKey(t testing.TB, name string) key {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen not on PATH (install openssh-client)")
	}
	file := filepath.Join(t.TempDir(), name)
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(file + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return key{file: file, pub: strings.TrimSpace(string(pub))}
}

func (k key) signer(t testing.TB) ssh.Signer {
	t.Helper()
	data, err := os.ReadFile(k.file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writePartner writes partners/<id>.yaml with the given transports.sftp
// body (indented by the caller with four spaces).
func writePartner(t testing.TB, dir, id, sftpYAML string) {
	t.Helper()
	doc := fmt.Sprintf("id: %s\nname: %s test partner\nx12:\n  isa: \"ZZ:%s\"\n  version: \"004010\"\ntransports:\n  sftp:\n%s", id, id, strings.ToUpper(id), sftpYAML)
	if err := os.WriteFile(filepath.Join(dir, id+".yaml"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
}

func MustLoadPartners(t testing.TB, dir string) *partners.Directory {
	t.Helper()
	d, err := partners.LoadDir(dir)
	if err != nil {
		t.Fatalf("loading partners: %v", err)
	}
	return d
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// MustStartServer starts a Server for the partners in dir on 127.0.0.1:0.
func MustStartServer(t testing.TB, partnersDir string, store gateway.Store) *Server {
	t.Helper()
	s := &Server{
		Addr:     "127.0.0.1:0",
		DataDir:  t.TempDir(),
		Root:     t.TempDir(),
		Partners: MustLoadPartners(t, partnersDir),
		Store:    store,
		Logger:   testLogger(t),
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func portOf(s *Server) string {
	_, port, _ := net.SplitHostPort(s.ListenAddr().String())
	return port
}

// hostKeyLine is the server's public key as an authorized_keys line.
func hostKeyLine(t testing.TB, s *Server) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(s.DataDir, HostKeyFile+".pub"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// runSFTP runs the OpenSSH sftp client in batch mode and returns its
// combined output and error (non-nil when a command failed).
func runSFTP(t testing.TB, s *Server, k key, user, batch string) (string, error) {
	t.Helper()
	bf := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(bf, []byte(batch), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sftp", "-b", bf, "-i", k.file, "-P", portOf(s), "-F", "/dev/null",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "LogLevel=ERROR",
		"-o", "ConnectTimeout=10", user+"@127.0.0.1")
	cmd.Stdin = nil
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// MustDial logs in with Go's SSH client and opens an SFTP client.
func MustDial(t testing.TB, s *Server, user string, auth ssh.AuthMethod) (*ssh.Client, *sftp.Client) {
	t.Helper()
	c, sc, err := dialServer(s, user, auth)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close(); c.Close() })
	return c, sc
}

func dialServer(s *Server, user string, auth ssh.AuthMethod) (*ssh.Client, *sftp.Client, error) {
	c, err := ssh.Dial("tcp", s.ListenAddr().String(), &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{auth},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey()),
	})
	if err != nil {
		return nil, nil, err
	}
	sc, err := sftp.NewClient(c)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, sc, nil
}

// dirEntries lists a folder's names (all of them, hidden ones too).
func dirEntries(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func writeLocal(t testing.TB, name string, data []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

var po850 = []byte("ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*EDIGATE        *240101*1200*U*00401*000000001*0*P*:~\n" +
	"GS*PO*ACMESUPPLY*EDIGATE*20240101*1200*1*X*004010~\nST*850*0001~\nBEG*00*SA*PO-1001**20240101~\n" +
	"PO1*1*10*EA*2.50**VP*WIDGET-1~\nCTT*1~\nSE*5*0001~\nGE*1*1~\nIEA*1*000000001~\n")
