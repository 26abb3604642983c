package sftp

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"github.com/edigate/edigate/gateway"
)

func keyYAML(k key) string {
	return "    public_keys:\n      - " + k.pub + "\n"
}

func TestServerUploadListDownload(t *testing.T) {
	requireSFTPClient(t)
	k := MustKey(t, "acme")
	dir := t.TempDir()
	writePartner(t, dir, "acme", "    username: acme-edi\n"+keyYAML(k))
	store := newTestStore(t)
	s := MustStartServer(t, dir, store)

	ob := &Outbox{Root: s.Root, Partners: s.Partners}
	if err := ob.Send(context.Background(), "acme", "po-1001.850", po850); err != nil {
		t.Fatal(err)
	}
	local := writeLocal(t, "order.850", po850)
	got := filepath.Join(t.TempDir(), "got.850")
	out, err := runSFTP(t, s, k, "acme-edi", strings.Join([]string{
		"put " + local + " /inbound/order.850",
		"ls /",
		"ls /inbound",
		"ls -l /outbound",
		"cd outbound",
		"get po-1001.850 " + got,
		"rm po-1001.850",
		"ls",
	}, "\n"))
	if err != nil {
		t.Fatalf("sftp: %v\n%s", err, out)
	}

	receipts, files := store.got()
	if len(receipts) != 1 {
		t.Fatalf("Receive called %d times, want 1", len(receipts))
	}
	want := gateway.Receipt{Partner: "acme", Transport: gateway.TransportSFTP, Filename: "order.850"}
	if receipts[0] != want {
		t.Errorf("receipt = %+v, want %+v", receipts[0], want)
	}
	if !bytes.Equal(files["acme/order.850"], po850) {
		t.Errorf("received %q, want the uploaded bytes", files["acme/order.850"])
	}
	if !strings.Contains(out, "inbound") || !strings.Contains(out, "outbound") || !strings.Contains(out, "po-1001.850") {
		t.Errorf("listings miss inbound, outbound or po-1001.850:\n%s", out)
	}
	if data, err := os.ReadFile(got); err != nil || !bytes.Equal(data, po850) {
		t.Errorf("downloaded %q (%v), want the outbox file", data, err)
	}
	if names := dirEntries(t, filepath.Join(s.Root, "acme", "outbound")); len(names) != 0 {
		t.Errorf("outbound after rm = %v, want empty", names)
	}
	if names := dirEntries(t, filepath.Join(s.Root, "acme", "inbound")); len(names) != 0 {
		t.Errorf("inbound after upload = %v, want empty (temporary file removed)", names)
	}
}

func TestServerUploadFailsWhenReceiveFails(t *testing.T) {
	requireSFTPClient(t)
	k := MustKey(t, "acme")
	dir := t.TempDir()
	writePartner(t, dir, "acme", keyYAML(k))
	store := newTestStore(t)
	store.setFail(errStoreDown)
	s := MustStartServer(t, dir, store)

	out, err := runSFTP(t, s, k, "acme", "put "+writeLocal(t, "order.850", po850)+" /inbound/order.850\n")
	if err == nil {
		t.Fatalf("put succeeded although Receive failed:\n%s", out)
	}
	if names := dirEntries(t, filepath.Join(s.Root, "acme", "inbound")); len(names) != 0 {
		t.Errorf("inbound = %v, want nothing left", names)
	}
	if strings.Contains(out, errStoreDown.Error()) {
		t.Errorf("the store's error leaked to the client:\n%s", out)
	}

	// Once the store is back, the same upload goes through.
	store.setFail(nil)
	if out, err := runSFTP(t, s, k, "acme", "put "+writeLocal(t, "order.850", po850)+" /inbound/order.850\n"); err != nil {
		t.Fatalf("retry: %v\n%s", err, out)
	}
	if r, _ := store.got(); len(r) != 1 {
		t.Errorf("received %d files after the retry, want 1", len(r))
	}
}

func TestServerConfinement(t *testing.T) {
	requireSFTPClient(t)
	ka, kb := MustKey(t, "a"), MustKey(t, "b")
	dir := t.TempDir()
	writePartner(t, dir, "a", keyYAML(ka))
	writePartner(t, dir, "b", keyYAML(kb))
	store := newTestStore(t)
	s := MustStartServer(t, dir, store)
	ob := &Outbox{Root: s.Root}
	ctx := context.Background()
	if err := ob.Send(ctx, "b", "secret.850", []byte("b's secret")); err != nil {
		t.Fatal(err)
	}
	if err := ob.Send(ctx, "a", "mine.850", []byte("a's file")); err != nil {
		t.Fatal(err)
	}
	// A symlink planted in a's outbound (say by an operator's mistake) must
	// not lead out of a's folder.
	if err := os.Symlink(filepath.Join(s.Root, "b", "outbound", "secret.850"), filepath.Join(s.Root, "a", "outbound", "link.850")); err != nil {
		t.Fatal(err)
	}
	local := writeLocal(t, "x.850", po850)
	dl := filepath.Join(t.TempDir(), "stolen")
	bOut := filepath.Join(s.Root, "b", "outbound")

	tests := []struct {
		name, batch string
	}{
		{"list other partner relative", "ls ../b/outbound"},
		{"list other partner dotdot root", "ls /../b"},
		{"list other partner from folder", "cd inbound\nls ../../b/outbound"},
		{"list host path", "ls " + bOut},
		{"list server root", "ls " + s.Root},
		{"read other partner", "get /../b/outbound/secret.850 " + dl},
		{"read other partner deep dotdot", "get /outbound/../../../b/outbound/secret.850 " + dl},
		{"read host path", "get " + filepath.Join(bOut, "secret.850") + " " + dl},
		{"read etc passwd", "get /etc/passwd " + dl},
		{"read through planted symlink", "get /outbound/link.850 " + dl},
		{"write other partner", "put " + local + " /../b/inbound/x.850"},
		{"write host path", "put " + local + " " + filepath.Join(s.Root, "b", "inbound", "x.850")},
		{"write outbound", "put " + local + " /outbound/x.850"},
		{"write root", "put " + local + " /x.850"},
		{"write hidden name", "put " + local + " /inbound/.upload-x"},
		{"read inbound", "get /inbound/x.850 " + dl},
		{"remove other partner", "rm /../b/outbound/secret.850"},
		{"remove folder", "rmdir /outbound"},
		{"mkdir", "mkdir /inbound/sub"},
		{"symlink", "ln -s /outbound/mine.850 /outbound/ln.850"},
		{"symlink out", "ln -s /etc/passwd /outbound/pw"},
		{"hardlink", "ln /outbound/mine.850 /outbound/hl.850"},
		{"rename across folders", "rename /outbound/mine.850 /inbound/mine.850"},
		{"rename to other partner", "rename /outbound/mine.850 /../b/outbound/mine.850"},
		{"chmod outside", "chmod 777 /../b/outbound/secret.850"},
		{"chmod host path", "chmod 777 " + filepath.Join(bOut, "secret.850")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runSFTP(t, s, ka, "a", tt.batch+"\n")
			if err == nil {
				t.Errorf("%q succeeded, want refused:\n%s", tt.batch, out)
			}
			if strings.Contains(out, "secret.850") && strings.HasPrefix(tt.name, "list") {
				t.Errorf("listing showed b's file:\n%s", out)
			}
		})
	}
	if data, err := os.ReadFile(dl); err == nil {
		t.Errorf("a downloaded %q", data)
	}
	if names := dirEntries(t, bOut); !slices.Equal(names, []string{"secret.850"}) {
		t.Errorf("b's outbound = %v, want untouched", names)
	}
	if names := dirEntries(t, filepath.Join(s.Root, "a", "outbound")); !slices.Equal(names, []string{"link.850", "mine.850"}) {
		t.Errorf("a's outbound = %v, want mine.850 and the planted link.850 only", names)
	}
	if r, _ := store.got(); len(r) != 0 {
		t.Errorf("Receive called with %+v, want nothing", r)
	}

	// What is allowed still works, and ls hides the planted symlink.
	out, err := runSFTP(t, s, ka, "a", "ls /outbound\nchmod 600 /outbound/mine.850\nrename /outbound/mine.850 /outbound/renamed.850\nls /outbound\n")
	if err != nil {
		t.Fatalf("allowed commands: %v\n%s", err, out)
	}
	if strings.Contains(out, "link.850") || !strings.Contains(out, "renamed.850") {
		t.Errorf("listing:\n%s", out)
	}
}

func TestServerRefusesWrongCredentials(t *testing.T) {
	requireSFTPClient(t)
	k, wrong := MustKey(t, "acme"), MustKey(t, "wrong")
	dir := t.TempDir()
	writePartner(t, dir, "acme", keyYAML(k))
	writePartner(t, dir, "beta", keyYAML(wrong))
	s := MustStartServer(t, dir, newTestStore(t))

	t.Run("wrong key", func(t *testing.T) {
		if out, err := runSFTP(t, s, wrong, "acme", "ls\n"); err == nil {
			t.Errorf("login with another partner's key succeeded:\n%s", out)
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		if out, err := runSFTP(t, s, k, "nobody", "ls\n"); err == nil {
			t.Errorf("unknown user logged in:\n%s", out)
		}
	})
	t.Run("no password set", func(t *testing.T) {
		if _, _, err := dialServer(s, "acme", ssh.Password("")); err == nil {
			t.Error("password login succeeded for a partner without password_bcrypt")
		}
	})
	t.Run("right key", func(t *testing.T) {
		if out, err := runSFTP(t, s, k, "acme", "ls\n"); err != nil {
			t.Errorf("login: %v\n%s", err, out)
		}
	})
}

func TestServerPasswordLogin(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writePartner(t, dir, "gamma", "    password_bcrypt: "+string(hash)+"\n")
	store := newTestStore(t)
	s := MustStartServer(t, dir, store)

	if _, _, err := dialServer(s, "gamma", ssh.Password("wrong")); err == nil {
		t.Fatal("wrong password accepted")
	}
	_, c := MustDial(t, s, "gamma", ssh.Password("s3cret"))
	f, err := c.Create("/inbound/inv.810")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("invoice")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, files := store.got(); string(files["gamma/inv.810"]) != "invoice" {
		t.Errorf("received %q", files["gamma/inv.810"])
	}
}

func TestServerFileSizeLimit(t *testing.T) {
	requireSFTPClient(t)
	k := MustKey(t, "acme")
	dir := t.TempDir()
	writePartner(t, dir, "acme", keyYAML(k)+"    max_file_size: 1KB\n")
	store := newTestStore(t)
	s := MustStartServer(t, dir, store)

	big := writeLocal(t, "big.850", bytes.Repeat([]byte("x"), 64<<10))
	if out, err := runSFTP(t, s, k, "acme", "put "+big+" /inbound/big.850\n"); err == nil {
		t.Errorf("a 64 KB upload passed the 1 KB limit:\n%s", out)
	}
	exact := writeLocal(t, "exact.850", bytes.Repeat([]byte("y"), 1024))
	if out, err := runSFTP(t, s, k, "acme", "put "+exact+" /inbound/exact.850\n"); err != nil {
		t.Errorf("a 1 KB upload failed: %v\n%s", err, out)
	}
	r, _ := store.got()
	if len(r) != 1 || r[0].Filename != "exact.850" {
		t.Errorf("received %+v, want exact.850 only", r)
	}
	if names := dirEntries(t, filepath.Join(s.Root, "acme", "inbound")); len(names) != 0 {
		t.Errorf("inbound = %v, want empty", names)
	}
}

func TestServerMaxSessions(t *testing.T) {
	requireSFTPClient(t)
	k := MustKey(t, "acme")
	dir := t.TempDir()
	writePartner(t, dir, "acme", keyYAML(k)+"    max_sessions: 1\n")
	s := MustStartServer(t, dir, newTestStore(t))

	held, c, err := dialServer(s, "acme", ssh.PublicKeys(k.signer(t)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadDir("/"); err != nil {
		t.Fatal(err)
	}
	if out, err := runSFTP(t, s, k, "acme", "ls\n"); err == nil {
		t.Errorf("a second session was allowed with max_sessions: 1:\n%s", out)
	}
	c.Close()
	held.Close()
	// The slot is freed once the server notices the connection ended.
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := runSFTP(t, s, k, "acme", "ls\n")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no session after the first one ended: %v\n%s", err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServerDropsPartialUpload(t *testing.T) {
	k := MustKey(t, "acme")
	dir := t.TempDir()
	writePartner(t, dir, "acme", keyYAML(k))
	store := newTestStore(t)
	s := MustStartServer(t, dir, store)

	conn, c, err := dialServer(s, "acme", ssh.PublicKeys(k.signer(t)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Create("/inbound/half.850")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(po850[:40]); err != nil {
		t.Fatal(err)
	}
	// Make sure the write reached the server, then drop the connection
	// without closing the file.
	if _, err := c.ReadDir("/inbound"); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	inbound := filepath.Join(s.Root, "acme", "inbound")
	deadline := time.Now().Add(5 * time.Second)
	for len(dirEntries(t, inbound)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if names := dirEntries(t, inbound); len(names) != 0 {
		t.Errorf("inbound = %v, want the partial upload removed", names)
	}
	if r, _ := store.got(); len(r) != 0 {
		t.Errorf("a partial upload was received: %+v", r)
	}
}

func TestServerHostKeyKept(t *testing.T) {
	dir := t.TempDir()
	writePartner(t, dir, "acme", "    username: acme\n")
	data := t.TempDir()
	var keys []string
	for range 2 {
		s := &Server{Addr: "127.0.0.1:0", DataDir: data, Root: t.TempDir(), Partners: MustLoadPartners(t, dir), Store: newTestStore(t)}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, string(s.HostKey().Marshal()))
		s.Close()
	}
	if keys[0] != keys[1] {
		t.Error("the host key changed between starts")
	}
	fi, err := os.Stat(filepath.Join(data, HostKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("host key mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestOutboxRefusesPaths(t *testing.T) {
	ob := &Outbox{Root: t.TempDir()}
	for _, name := range []string{"", ".", "..", "../x", "a/b", `a\b`, ".hidden", "x\x00y"} {
		if err := ob.Send(context.Background(), "acme", name, []byte("x")); err == nil {
			t.Errorf("Send(%q) succeeded", name)
		}
	}
	if err := ob.Send(context.Background(), "../acme", "x.850", []byte("x")); err == nil {
		t.Error("Send to partner ../acme succeeded")
	}
}

func TestParsePath(t *testing.T) {
	root := "/srv/root/acme"
	tests := []struct {
		in   string
		want string // "" when refused
	}{
		{"/", "/"},
		{".", "/"},
		{"/inbound", "/inbound"},
		{"/inbound/", "/inbound"},
		{"inbound/x.850", "/inbound/x.850"},
		{"/outbound/../inbound/x", "/inbound/x"},
		{"/../../outbound/x", "/outbound/x"},
		{"/../b/outbound", ""},
		{"/etc/passwd", ""},
		{"/inbound/sub/x", ""},
		{"/inbound/.x", ""},
		{"/other", ""},
	}
	for _, tt := range tests {
		l, err := parsePath(root, tt.in)
		got := ""
		if err == nil {
			got = l.String()
		}
		if got != tt.want {
			t.Errorf("parsePath(%q) = %q (%v), want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestServerCloseEndsSessions(t *testing.T) {
	k := MustKey(t, "acme")
	dir := t.TempDir()
	writePartner(t, dir, "acme", keyYAML(k))
	store := newTestStore(t)
	s := MustStartServer(t, dir, store)
	_, c := MustDial(t, s, "acme", ssh.PublicKeys(k.signer(t)))
	f, err := c.Create("/inbound/open.850")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(po850); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with a session open")
	}
	if _, err := c.ReadDir("/"); err == nil {
		t.Error("the session still works after Close")
	}
	if r, _ := store.got(); len(r) != 0 {
		t.Errorf("an upload open at Close was received: %+v", r)
	}
	if _, _, err := dialServer(s, "acme", ssh.PublicKeys(k.signer(t))); err == nil {
		t.Error("a new login succeeded after Close")
	}
}
