package sftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/edigate/edigate/gateway"
)

// theirServer starts a Server playing the partner's own SFTP server, with
// an account "edigate" for our pull key. With plain set, the account's
// folder is served by pkg/sftp's ordinary server (any sub-folder, files
// kept as uploaded) instead of edigate's confined one.
func theirServer(t *testing.T, pullKey key, plain bool) (*Server, *testStore) {
	t.Helper()
	dir := t.TempDir()
	writePartner(t, dir, "edigate", keyYAML(pullKey))
	store := newTestStore(t)
	s := &Server{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), Root: t.TempDir(),
		Partners: MustLoadPartners(t, dir), Store: store, Logger: testLogger(t),
	}
	if plain {
		s.serveSFTP = func(ch io.ReadWriteCloser, a *account) error {
			srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(a.dir))
			if err != nil {
				return err
			}
			return srv.Serve()
		}
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, store
}

// writeGamma writes partner gamma, whose files we pull from (and push to)
// their server, into a new partners folder and returns the folder.
func writeGamma(t *testing.T, their *Server, pullKey key, hostKey, remoteDir, extra string) string {
	t.Helper()
	dir := t.TempDir()
	writePartner(t, dir, "gamma", fmt.Sprintf(`    pull:
      address: %s
      username: edigate
      private_key: %s
      host_key: %q
      remote_dir: %s
      schedule: "*/15 * * * *"
%s`, their.ListenAddr(), pullKey.file, hostKey, remoteDir, extra))
	return dir
}

func TestPullOnceDeletes(t *testing.T) {
	k := MustKey(t, "pull")
	their, theirStore := theirServer(t, k, false)
	// The partner leaves files for us in the outbound folder of our account.
	ob := &Outbox{Root: their.Root}
	files := map[string]string{"inv-1.810": "invoice one", "inv-2.810": "invoice two"}
	for name, body := range files {
		if err := ob.Send(context.Background(), "edigate", name, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	dir := writeGamma(t, their, k, hostKeyLine(t, their), "/outbound", "")
	p, _ := MustLoadPartners(t, dir).ByID("gamma")
	store := newTestStore(t)
	pu := &Puller{Store: store, Logger: testLogger(t)}

	n, err := pu.PullOnce(context.Background(), p)
	if err != nil || n != 2 {
		t.Fatalf("PullOnce = %d, %v; want 2, nil", n, err)
	}
	receipts, got := store.got()
	for _, rc := range receipts {
		if rc.Partner != "gamma" || rc.Transport != gateway.TransportSFTPPull {
			t.Errorf("receipt %+v", rc)
		}
	}
	for name, body := range files {
		if string(got["gamma/"+name]) != body {
			t.Errorf("%s: received %q, want %q", name, got["gamma/"+name], body)
		}
	}
	if names := dirEntries(t, filepath.Join(their.Root, "edigate", "outbound")); len(names) != 0 {
		t.Errorf("their outbound = %v, want the pulled files deleted", names)
	}
	if r, _ := theirStore.got(); len(r) != 0 {
		t.Errorf("their server received %+v", r)
	}

	// Nothing left: a second pull receives nothing.
	if n, err := pu.PullOnce(context.Background(), p); err != nil || n != 0 {
		t.Errorf("second PullOnce = %d, %v; want 0, nil", n, err)
	}
}

func TestPullOnceKeepsFilesWhenReceiveFails(t *testing.T) {
	k := MustKey(t, "pull")
	their, _ := theirServer(t, k, false)
	if err := (&Outbox{Root: their.Root}).Send(context.Background(), "edigate", "inv-1.810", []byte("x")); err != nil {
		t.Fatal(err)
	}
	p, _ := MustLoadPartners(t, writeGamma(t, their, k, hostKeyLine(t, their), "/outbound", "")).ByID("gamma")
	store := newTestStore(t)
	store.setFail(errStoreDown)
	n, err := (&Puller{Store: store}).PullOnce(context.Background(), p)
	if err == nil || n != 0 {
		t.Fatalf("PullOnce = %d, %v; want an error", n, err)
	}
	if names := dirEntries(t, filepath.Join(their.Root, "edigate", "outbound")); !slices.Equal(names, []string{"inv-1.810"}) {
		t.Errorf("their outbound = %v, want inv-1.810 kept", names)
	}
}

func TestPullOnceMoves(t *testing.T) {
	k := MustKey(t, "pull")
	their, _ := theirServer(t, k, true)
	home := filepath.Join(their.Root, "edigate")
	if err := os.MkdirAll(filepath.Join(home, "outbound", "archive"), 0o750); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"inv-1.810", "inv-2.810.part", ".hidden"} {
		if err := os.WriteFile(filepath.Join(home, "outbound", name), []byte(name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dir := writeGamma(t, their, k, hostKeyLine(t, their), "outbound", "      after: move\n      move_to: outbound/archive\n")
	p, _ := MustLoadPartners(t, dir).ByID("gamma")
	store := newTestStore(t)

	n, err := (&Puller{Store: store}).PullOnce(context.Background(), p)
	if err != nil || n != 1 {
		t.Fatalf("PullOnce = %d, %v; want 1, nil", n, err)
	}
	if _, got := store.got(); string(got["gamma/inv-1.810"]) != "inv-1.810" {
		t.Errorf("received %v", got)
	}
	if names := dirEntries(t, filepath.Join(home, "outbound", "archive")); !slices.Equal(names, []string{"inv-1.810"}) {
		t.Errorf("archive = %v, want inv-1.810", names)
	}
	if names := dirEntries(t, filepath.Join(home, "outbound")); !slices.Equal(names, []string{".hidden", "archive", "inv-2.810.part"}) {
		t.Errorf("outbound = %v, want the in-progress and hidden files left", names)
	}
}

func TestPullOnceRefusesWrongHostKey(t *testing.T) {
	k, other := MustKey(t, "pull"), MustKey(t, "other")
	their, _ := theirServer(t, k, false)
	if err := (&Outbox{Root: their.Root}).Send(context.Background(), "edigate", "inv-1.810", []byte("x")); err != nil {
		t.Fatal(err)
	}
	for name, hostKey := range map[string]string{
		"authorized_keys line": other.pub,
		"known_hosts line":     "sftp.partner.example " + other.pub,
	} {
		t.Run(name, func(t *testing.T) {
			p, _ := MustLoadPartners(t, writeGamma(t, their, k, hostKey, "/outbound", "")).ByID("gamma")
			store := newTestStore(t)
			n, err := (&Puller{Store: store}).PullOnce(context.Background(), p)
			if err == nil || n != 0 {
				t.Fatalf("PullOnce = %d, %v; want a host key error", n, err)
			}
			if !strings.Contains(err.Error(), "host key") {
				t.Errorf("error %q does not name the host key", err)
			}
			if r, _ := store.got(); len(r) != 0 {
				t.Errorf("received %+v", r)
			}
		})
	}
	if names := dirEntries(t, filepath.Join(their.Root, "edigate", "outbound")); len(names) != 1 {
		t.Errorf("their outbound = %v, want the file kept", names)
	}
	// And a known_hosts line with the right key works.
	p, _ := MustLoadPartners(t, writeGamma(t, their, k, "[127.0.0.1]:2222 "+hostKeyLine(t, their), "/outbound", "")).ByID("gamma")
	if n, err := (&Puller{Store: newTestStore(t)}).PullOnce(context.Background(), p); err != nil || n != 1 {
		t.Errorf("PullOnce with a known_hosts line = %d, %v", n, err)
	}
}

func TestPusher(t *testing.T) {
	k := MustKey(t, "pull")
	their, _ := theirServer(t, k, true)
	home := filepath.Join(their.Root, "edigate")
	dir := writeGamma(t, their, k, hostKeyLine(t, their), "outbound", "    push:\n      remote_dir: inbound\n")
	pu := &Pusher{Partners: MustLoadPartners(t, dir), Logger: testLogger(t)}

	if err := pu.Send(context.Background(), "gamma", "po-1001.850", po850); err != nil {
		t.Fatal(err)
	}
	if names := dirEntries(t, filepath.Join(home, "inbound")); !slices.Equal(names, []string{"po-1001.850"}) {
		t.Errorf("their inbound = %v, want po-1001.850 only", names)
	}
	if data, _ := os.ReadFile(filepath.Join(home, "inbound", "po-1001.850")); string(data) != string(po850) {
		t.Errorf("pushed %q", data)
	}
	// Sending again replaces the file.
	if err := pu.Send(context.Background(), "gamma", "po-1001.850", []byte("second")); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(home, "inbound", "po-1001.850")); string(data) != "second" {
		t.Errorf("after the second push: %q", data)
	}
	for _, bad := range []string{"../x", "a/b", ".x"} {
		if err := pu.Send(context.Background(), "gamma", bad, []byte("x")); err == nil {
			t.Errorf("Send(%q) succeeded", bad)
		}
	}
	if err := pu.Send(context.Background(), "nobody", "x", []byte("x")); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("Send to an unknown partner: %v", err)
	}
}

// TestServerConfinementGoClient sends the requests the OpenSSH client
// might never send (it checks some paths itself first) straight to the
// server.
func TestServerConfinementGoClient(t *testing.T) {
	ka := MustKey(t, "a")
	dir := t.TempDir()
	writePartner(t, dir, "a", keyYAML(ka))
	writePartner(t, dir, "b", keyYAML(MustKey(t, "b")))
	store := newTestStore(t)
	s := MustStartServer(t, dir, store)
	if err := (&Outbox{Root: s.Root}).Send(context.Background(), "b", "secret.850", []byte("b")); err != nil {
		t.Fatal(err)
	}
	if err := (&Outbox{Root: s.Root}).Send(context.Background(), "a", "mine.850", []byte("a")); err != nil {
		t.Fatal(err)
	}
	_, c := MustDial(t, s, "a", ssh.PublicKeys(ka.signer(t)))
	bFile := filepath.Join(s.Root, "b", "outbound", "secret.850")
	paths := []string{"/../b/outbound/secret.850", "../b/outbound/secret.850", "/b/outbound/secret.850", bFile, "/outbound/../../b/outbound/secret.850"}
	for _, p := range paths {
		if f, err := c.Open(p); err == nil {
			f.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
		if _, err := c.Stat(p); err == nil {
			t.Errorf("Stat(%q) succeeded", p)
		}
		if _, err := c.ReadDir(filepath.Dir(p)); err == nil {
			t.Errorf("ReadDir(%q) succeeded", filepath.Dir(p))
		}
		if err := c.Remove(p); err == nil {
			t.Errorf("Remove(%q) succeeded", p)
		}
		if err := c.Chmod(p, 0o777); err == nil {
			t.Errorf("Chmod(%q) succeeded", p)
		}
		if err := c.Rename(p, "/outbound/stolen.850"); err == nil {
			t.Errorf("Rename(%q) succeeded", p)
		}
		if f, err := c.Create(strings.Replace(p, "outbound/secret.850", "inbound/x.850", 1)); err == nil {
			f.Close()
			t.Errorf("Create beside %q succeeded", p)
		}
	}
	checks := map[string]error{
		"symlink":        c.Symlink("/outbound/mine.850", "/outbound/l.850"),
		"symlink out":    c.Symlink(bFile, "/outbound/l.850"),
		"hardlink":       c.Link("/outbound/mine.850", "/outbound/h.850"),
		"mkdir":          c.Mkdir("/outbound/sub"),
		"rmdir":          c.RemoveDirectory("/inbound"),
		"posix rename":   c.PosixRename("/outbound/mine.850", "/inbound/mine.850"),
		"write outbound": func() error { _, err := c.Create("/outbound/new.850"); return err }(),
		"read inbound":   func() error { _, err := c.Open("/inbound"); return err }(),
	}
	for name, err := range checks {
		if err == nil {
			t.Errorf("%s succeeded", name)
		} else if name != "read inbound" && !errors.Is(err, os.ErrPermission) {
			var se *sftp.StatusError
			if !errors.As(err, &se) || se.FxCode() != sftp.ErrSSHFxPermissionDenied {
				t.Errorf("%s: %v, want a permission error", name, err)
			}
		}
	}
	if r, _ := store.got(); len(r) != 0 {
		t.Errorf("received %+v", r)
	}
	if names := dirEntries(t, filepath.Join(s.Root, "a", "outbound")); !slices.Equal(names, []string{"mine.850"}) {
		t.Errorf("a's outbound = %v", names)
	}
}
