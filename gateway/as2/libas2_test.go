package as2

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// libas2Dir is the npm project with the libas2 peer scripts.
func libas2Dir(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("libas2 interop skipped in -short mode")
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; the libas2 interop tests need Node.js and npm (see testdata/libas2/package.json)", tool)
		}
	}
	dir, err := filepath.Abs("testdata/libas2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "libas2")); err != nil {
		args := []string{"ci", "--no-audit", "--no-fund"}
		if _, err := os.Stat(filepath.Join(dir, "package-lock.json")); err != nil {
			args[0] = "install"
		}
		cmd := exec.Command("npm", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
		}
	}
	return dir
}

// nodeArgs adds the flag Node 20 needs to let libas2 decrypt PKCS#1 v1.5
// key transport.
func nodeArgs(t *testing.T, script string, receiver bool) []string {
	if !receiver {
		return []string{script}
	}
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(strings.TrimSpace(string(out)), "v20.") {
		return []string{"--security-revert=CVE-2023-46809", script}
	}
	return []string{script}
}

type libas2Notification struct {
	OriginalMessageID  string `json:"originalMessageId"`
	ReceivedContentMic struct {
		Mic       string `json:"mic"`
		Algorithm string `json:"algorithm"`
	} `json:"receivedContentMic"`
	Disposition struct {
		Processed   bool `json:"processed"`
		Description *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"description"`
	} `json:"disposition"`
}

// TestLibAS2SendsToServer: libas2 composes, signs and encrypts; our Server
// answers with a signed MDN that libas2 verifies.
func TestLibAS2SendsToServer(t *testing.T) {
	ndir := libas2Dir(t)
	dir := t.TempDir()
	us, them := newPeer(t, dir, "EDIGATE"), newPeer(t, dir, "LIBAS2")
	store := newMemStore()
	srv := &Server{Identity: us.id, Store: store, Logger: testLogger(t)}
	srv.Partners = writePartners(t, filepath.Join(dir), partnerYAML{id: "libas2", as2ID: "LIBAS2", cert: them.certPath, sign: "sha256", mdnMode: "sync", mdnSigned: true, requireSigned: true, requireEncrypted: true})
	ts := newLoopbackServer(t, srv)
	payload := filepath.Join(dir, "po.edi")
	mustWrite(t, payload, []byte(sampleX12))
	for _, enc := range []string{"aes256-CBC", "des-EDE3-CBC", "aes128-CBC", "aes192-CBC"} {
		t.Run(enc, func(t *testing.T) {
			before := store.count()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "node", nodeArgs(t, "client.js", false)...)
			cmd.Dir = ndir
			cmd.Env = append(os.Environ(), "URL="+ts+"/as2", "HOST_CERT="+them.certPath, "HOST_KEY="+them.keyPath,
				"PARTNER_CERT="+us.certPath, "ENCRYPT="+enc, "SIGN=sha-256", "PAYLOAD="+payload)
			out, err := cmd.Output()
			if err != nil {
				var stderr string
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = string(ee.Stderr)
				}
				t.Fatalf("libas2 client: %v\n%s\n%s", err, out, stderr)
			}
			var res struct {
				Status       int                `json:"status"`
				MessageID    string             `json:"messageId"`
				Notification libas2Notification `json:"notification"`
			}
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("libas2 client said %s", out)
			}
			if res.Status != 200 || !res.Notification.Disposition.Processed || res.Notification.Disposition.Description != nil {
				t.Fatalf("libas2 got %s", out)
			}
			if store.count() != before+1 {
				t.Fatal("not stored")
			}
			m, got := store.last()
			if string(got) != sampleX12 || messageID(res.MessageID) != m.AS2MessageID {
				t.Fatalf("stored %+v %q", m, got)
			}
			if res.Notification.ReceivedContentMic.Mic == "" {
				t.Fatalf("no MIC in %s", out)
			}
		})
	}
}

// TestClientSendsToLibAS2: our Client signs and encrypts; libas2 decrypts,
// verifies and answers with a signed MDN that our Client checks.
func TestClientSendsToLibAS2(t *testing.T) {
	ndir := libas2Dir(t)
	dir := t.TempDir()
	us, them := newPeer(t, dir, "EDIGATE"), newPeer(t, dir, "LIBAS2")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", nodeArgs(t, "server.js", true)...)
	cmd.Dir = ndir
	cmd.Env = append(os.Environ(), "HOST_CERT="+them.certPath, "HOST_KEY="+them.keyPath, "PARTNER_CERT="+us.certPath, "MDN_SIGNING=sha-256")
	cmd.Stderr = testWriter{t}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var next func() string
	next = func() string {
		select {
		case l := <-lines:
			if !strings.HasPrefix(l, "{") {
				t.Log("libas2 server:", l) // e.g. Node's security-revert warning
				return next()
			}
			return l
		case <-time.After(30 * time.Second):
			t.Fatal("libas2 server said nothing")
		}
		return ""
	}
	var hello struct{ Port int }
	if err := json.Unmarshal([]byte(next()), &hello); err != nil || hello.Port == 0 {
		t.Fatalf("libas2 server did not start: %v", err)
	}
	url := "http://127.0.0.1:" + itoa(hello.Port) + "/"
	client := &Client{Identity: us.id, Logger: testLogger(t), Backoff: 10 * time.Millisecond, Attempts: 2,
		Lenient: map[string][]string{"libas2": {LeniencyLibAS2MDNCRLF, QuirkBase64Body}}}
	for _, enc := range []string{"aes256-cbc", "3des", "aes128-cbc", "aes192-cbc"} {
		t.Run(enc, func(t *testing.T) {
			client.Partners = writePartners(t, t.TempDir(), partnerYAML{id: "libas2", as2ID: "LIBAS2", url: url, cert: them.certPath, sign: "sha256", encrypt: enc, mdnMode: "sync", mdnSigned: true})
			res, err := client.SendMessage(context.Background(), "libas2", "po.edi", []byte(sampleX12))
			line := next()
			if err != nil {
				t.Fatalf("%v\nlibas2 server: %s", err, line)
			}
			if res.MDN == nil || !res.MDN.Signed || !res.MDN.Processed() {
				t.Fatalf("MDN %+v", res.MDN)
			}
			var got struct {
				MessageID string `json:"messageId"`
				Content   string `json:"content"`
				Error     string `json:"error"`
			}
			json.Unmarshal([]byte(line), &got)
			if got.Error != "" || messageID(got.MessageID) != res.MessageID || !strings.Contains(got.Content, "BEG*00*SA*PO123") {
				t.Fatalf("libas2 received %+v", got)
			}
		})
	}
	t.Run("without the named leniency the MDN is refused", func(t *testing.T) {
		strict := &Client{Identity: us.id, Logger: testLogger(t), Attempts: 1, Partners: client.Partners,
			Lenient: map[string][]string{"libas2": {QuirkBase64Body}}}
		_, err := strict.SendMessage(context.Background(), "libas2", "po.edi", []byte(sampleX12))
		next()
		var me *MDNError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), "signature") {
			t.Fatalf("got %v, want an MDN signature error", err)
		}
	})
}
