package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/gateway/as2"
	"github.com/edigate/edigate/partners"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// edigateBinary builds the command once per test run.
func edigateBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "edigate-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "edigate")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// world is a project folder with one test partner that can use SFTP and AS2.
type world struct {
	dir, data, partners string
	sshKey              string // the partner's private key file
	partnerAS2          *as2.Identity
	http, sftp          string
	env                 []string
}

const testerYAML = `id: tester
name: Tester Supply
x12:
  isa: "ZZ:TESTER"
  version: "004010"
transports:
  sftp:
    public_keys: ["%s"]
  as2:
    id: TESTER-AS2
    certificate: tester/as2.pem
    sign: sha256
    encrypt: aes256-cbc
    mdn: {mode: sync, signed: true}
    require_signed: true
    require_encrypted: true
sla:
  retry: {attempts: 5, backoff: 1s}
`

func newWorld(t *testing.T) *world {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen is not installed (CI installs openssh-client)")
	}
	w := &world{dir: t.TempDir()}
	w.data, w.partners = filepath.Join(w.dir, "data"), filepath.Join(w.dir, "partners")
	os.MkdirAll(filepath.Join(w.partners, "tester"), 0o755)
	w.sshKey = filepath.Join(w.dir, "tester_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", w.sshKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	pub, _ := os.ReadFile(w.sshKey + ".pub")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := as2.SelfSigned(key, "TESTER-AS2", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	w.partnerAS2 = &as2.Identity{AS2ID: "TESTER-AS2", Key: key, Cert: cert}
	os.WriteFile(filepath.Join(w.partners, "tester", "as2.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644)
	os.WriteFile(filepath.Join(w.partners, "tester.yaml"), []byte(fmt.Sprintf(testerYAML, strings.TrimSpace(string(pub)))), 0o644)
	w.http, w.sftp = freeAddr(t), freeAddr(t)
	w.env = append(os.Environ(), "EDIGATE_DATA="+w.data, "EDIGATE_PARTNERS="+w.partners,
		"EDIGATE_MAPPINGS="+repo(t, "mappings"), "EDIGATE_HTTP_ADDR="+w.http, "EDIGATE_SFTP_ADDR="+w.sftp,
		"EDIGATE_ISA_ID=ZZ:EDIGATE", "EDIGATE_AS2_ID=EDIGATE")
	return w
}

// start runs `edigate serve` and waits until it says it is serving.
func (w *world) start(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(edigateBinary(t), "serve")
	cmd.Env = w.env
	stdout, _ := cmd.StdoutPipe()
	logf, _ := os.OpenFile(filepath.Join(w.dir, "serve.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "edigate serving") {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			log, _ := os.ReadFile(filepath.Join(w.dir, "serve.log"))
			t.Fatalf("edigate serve stopped before serving:\n%s", log)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("edigate serve did not start in 30 s")
	}
	return cmd
}

func (w *world) token(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(edigateBinary(t), "token", "create", "tests")
	cmd.Env = w.env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// interchange is an 855 from the tester with a given ISA13.
func interchange(control int) []byte {
	ctl := fmt.Sprintf("%09d", control)
	return []byte("ISA*00*          *00*          *ZZ*TESTER         *ZZ*EDIGATE        *261126*1200*U*00401*" + ctl + "*0*P*>~\n" +
		fmt.Sprintf("GS*PR*TESTER*EDIGATE*20261126*1200*%d*X*004010~\n", control) +
		"ST*855*0001~\nBAK*00*AC*PO" + ctl + "*20261125~\nPO1*1*10*EA*2.50**VP*T-1~\nACK*IA*10*EA*068*20261201~\nCTT*1~\nSE*6*0001~\n" +
		fmt.Sprintf("GE*1*%d~\n", control) + "IEA*1*" + ctl + "~\n")
}

func (w *world) api(t *testing.T, tok, method, path string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+w.http+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// sftpBatch runs OpenSSH's sftp client with a batch of commands.
func (w *world) sftpBatch(t *testing.T, batch string) ([]byte, error) {
	t.Helper()
	host, port, _ := net.SplitHostPort(w.sftp)
	f := filepath.Join(t.TempDir(), "batch")
	os.WriteFile(f, []byte(batch), 0o644)
	cmd := exec.Command("sftp", "-b", f, "-i", w.sshKey, "-P", port, "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "tester@"+host)
	return cmd.CombinedOutput()
}

// partnerClient is the tester's own AS2 client, sending to our gateway.
func (w *world) partnerClient(t *testing.T) *as2.Client {
	t.Helper()
	resp, err := http.Get("http://" + w.http + "/as2/certificate")
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	dir := filepath.Join(t.TempDir(), "their-partners")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "edigate.pem"), pemBytes, 0o644)
	os.WriteFile(filepath.Join(dir, "edigate.yaml"), []byte(`id: edigate
x12: {isa: "ZZ:EDIGATE", version: "004010"}
transports:
  as2:
    id: EDIGATE
    url: http://`+w.http+`/as2
    certificate: edigate.pem
    sign: sha256
    encrypt: aes256-cbc
    mdn: {mode: sync, signed: true}
`), 0o644)
	d, err := partners.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &as2.Client{Identity: w.partnerAS2, Partners: d, Attempts: 1}
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *world) messages(t *testing.T, tok string) []gateway.Message {
	t.Helper()
	var out struct{ Messages []gateway.Message }
	_, b := w.api(t, tok, "GET", "/api/v1/messages?limit=1000", nil)
	json.Unmarshal(b, &out)
	return out.Messages
}

// TestServeEndToEnd: a partner sends over SFTP, AS2 and the API; each file
// is acknowledged in its SFTP outbound folder and translated.
func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the gateway")
	}
	if _, err := exec.LookPath("sftp"); err != nil {
		t.Skip("sftp is not installed (CI installs openssh-client)")
	}
	w := newWorld(t)
	w.start(t)
	tok := w.token(t)

	// SFTP upload.
	f := filepath.Join(t.TempDir(), "855-1.edi")
	os.WriteFile(f, interchange(101), 0o644)
	if out, err := w.sftpBatch(t, "put "+f+" inbound/855-1.edi\n"); err != nil {
		t.Fatalf("sftp put: %v\n%s", err, out)
	}
	// AS2 upload, signed and encrypted, with a signed sync MDN.
	res, err := w.partnerClient(t).SendMessage(context.Background(), "edigate", "855-2.edi", interchange(102))
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(w.dir, "serve.log"))
		t.Fatalf("AS2 send: %v\n%s", err, log)
	}
	if res.MDN == nil || !res.MDN.Processed() || !res.MDN.Signed {
		t.Errorf("the MDN does not say processed, signed: %+v", res.MDN)
	}
	// API upload, the partner found from the ISA.
	if code, b := w.api(t, tok, "POST", "/api/v1/messages?filename=855-3.edi", interchange(103)); code != http.StatusCreated {
		t.Fatalf("API upload: %d %s", code, b)
	}
	// A sender no partner file knows is refused with the reason.
	unknown := bytes.ReplaceAll(interchange(104), []byte("ZZ*TESTER         "), []byte("ZZ*STRANGER       "))
	if code, b := w.api(t, tok, "POST", "/api/v1/messages", unknown); code != http.StatusUnprocessableEntity || !strings.Contains(string(b), "ZZ:STRANGER") {
		t.Errorf("unknown sender: %d %s", code, b)
	}
	// No token, no upload.
	if code, _ := w.api(t, "nope", "POST", "/api/v1/messages", interchange(105)); code != http.StatusUnauthorized {
		t.Errorf("a bad token: %d", code)
	}
	waitFor(t, "three translated messages", 20*time.Second, func() bool {
		n := 0
		for _, m := range w.messages(t, tok) {
			if m.State == gateway.StateTranslated {
				n++
			}
		}
		return n == 3
	})
	// Each got its 997 in the partner's outbound folder, to download.
	out, err := w.sftpBatch(t, "ls -1 outbound\n")
	if err != nil {
		t.Fatal(err, string(out))
	}
	for _, ctl := range []string{"000000101", "000000102", "000000103"} {
		if !strings.Contains(string(out), "997_"+ctl+"_") {
			t.Errorf("no 997 for %s in outbound:\n%s", ctl, out)
		}
	}
	// The documents are there, with their correlation ids.
	_, b := w.api(t, tok, "GET", "/api/v1/documents?kind=po_acknowledgement&po_number=PO000000102", nil)
	if !strings.Contains(string(b), `"po_number":"PO000000102"`) || !strings.Contains(string(b), `"partner":"tester"`) {
		t.Errorf("documents: %s", b)
	}
	// The same file again is a duplicate, not processed twice.
	os.WriteFile(f, interchange(101), 0o644)
	w.sftpBatch(t, "put "+f+" inbound/855-1-again.edi\n")
	waitFor(t, "the duplicate", 10*time.Second, func() bool {
		for _, m := range w.messages(t, tok) {
			if m.Filename == "855-1-again.edi" && m.State == gateway.StateDuplicate {
				return true
			}
		}
		return false
	})
	// Replay runs a stored message again: same documents, no new ones.
	var first gateway.Message
	for _, m := range w.messages(t, tok) {
		if m.Filename == "855-1.edi" {
			first = m
		}
	}
	replay := exec.Command(edigateBinary(t), "replay", first.ID)
	replay.Env = w.env
	if out, err := replay.CombinedOutput(); err != nil || !strings.Contains(string(out), "queued again") {
		t.Fatalf("edigate replay: %v %s", err, out)
	}
	waitFor(t, "the replayed message", 10*time.Second, func() bool {
		_, b := w.api(t, tok, "GET", "/api/v1/messages/"+first.ID, nil)
		var m gateway.Message
		json.Unmarshal(b, &m)
		return m.State == gateway.StateTranslated && m.UpdatedAt.After(first.UpdatedAt)
	})
	_, b = w.api(t, tok, "GET", "/api/v1/documents?po_number=PO000000101", nil)
	if n := strings.Count(string(b), `"kind":"po_acknowledgement"`); n != 1 {
		t.Errorf("after replay, %d documents for PO000000101, want 1", n)
	}
	// Health and metrics.
	resp, err := http.Get("http://" + w.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`edigate_messages_received_total\{partner="tester",transport="sftp"\} 2`).Match(mb) {
		t.Errorf("metrics lack the SFTP receipts:\n%s", grepLines(mb, "edigate_"))
	}
}

func grepLines(b []byte, s string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestServeCrash sends a burst over SFTP, AS2 and the API while the
// gateway is killed with SIGKILL and restarted. Every upload whose receipt
// was confirmed must be processed exactly once: translated to exactly one
// document, acknowledged by exactly one file.
func TestServeCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the gateway")
	}
	if _, err := exec.LookPath("sftp"); err != nil {
		t.Skip("sftp is not installed (CI installs openssh-client)")
	}
	w := newWorld(t)
	cmd := w.start(t)
	tok := w.token(t)
	client := w.partnerClient(t)

	var mu sync.Mutex
	confirmed := map[int]string{} // ISA13 -> transport
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	burst := func(transport string, first int, send func(ctl int) error) {
		defer wg.Done()
		for ctl := first; ctx.Err() == nil && ctl < first+1000; ctl++ {
			if send(ctl) == nil {
				mu.Lock()
				confirmed[ctl] = transport
				mu.Unlock()
			}
		}
	}
	wg.Add(3)
	go burst("api", 10000, func(ctl int) error {
		code, _ := w.api(t, tok, "POST", fmt.Sprintf("/api/v1/messages?filename=%d.edi", ctl), interchange(ctl))
		if code != http.StatusCreated {
			return fmt.Errorf("%d", code)
		}
		return nil
	})
	go burst("as2", 20000, func(ctl int) error {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		res, err := client.SendMessage(sctx, "edigate", fmt.Sprintf("%d.edi", ctl), interchange(ctl))
		if err != nil || res.MDN == nil || !res.MDN.Processed() {
			return fmt.Errorf("not processed: %v", err)
		}
		return nil
	})
	go burst("sftp", 30000, func(ctl int) error {
		f := filepath.Join(w.dir, fmt.Sprintf("up-%d.edi", ctl))
		os.WriteFile(f, interchange(ctl), 0o644)
		_, err := w.sftpBatch(t, fmt.Sprintf("put %s inbound/%d.edi\n", f, ctl))
		return err
	})
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	time.Sleep(300 * time.Millisecond) // uploads in flight fail
	stop()
	wg.Wait()
	mu.Lock()
	n := len(confirmed)
	mu.Unlock()
	if n == 0 {
		t.Fatal("no upload was confirmed before the kill")
	}
	w.start(t)
	// Everything confirmed is processed after the restart.
	var ms []gateway.Message
	deadline := time.Now().Add(90 * time.Second)
	for {
		ms = w.messages(t, tok)
		pending := 0
		for _, m := range ms {
			if m.State == gateway.StateReceived || m.State == gateway.StateAcknowledged {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(w.dir, "serve.log"))
			t.Fatalf("%d of %d messages still unprocessed after the restart; log tail:\n%s", pending, len(ms), tail(log, 3000))
		}
		time.Sleep(200 * time.Millisecond)
	}
	byCtl := map[string][]gateway.Message{}
	for _, m := range ms {
		if len(m.Interchanges) > 0 {
			byCtl[m.Interchanges[0]] = append(byCtl[m.Interchanges[0]], m)
		}
	}
	outbound, _ := os.ReadDir(filepath.Join(w.data, "sftp", "tester", "outbound"))
	acks := map[string]int{}
	for _, e := range outbound {
		// What the partner sees: a write a SIGKILL cut short leaves a
		// hidden temporary file, which SFTP never lists.
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if parts := strings.Split(e.Name(), "_"); len(parts) > 1 {
			acks[parts[1]]++
		}
	}
	for ctl, transport := range confirmed {
		key := fmt.Sprintf("%09d", ctl)
		got := byCtl[key]
		translated := 0
		for _, m := range got {
			if m.State == gateway.StateTranslated {
				translated++
			}
		}
		if translated != 1 {
			t.Errorf("%s upload %s: %d translated messages, want exactly 1: %+v", transport, key, translated, got)
		}
		if acks[key] != 1 {
			t.Errorf("%s upload %s: %d acknowledgements in outbound, want 1", transport, key, acks[key])
		}
		_, b := w.api(t, tok, "GET", "/api/v1/documents?po_number=PO"+key, nil)
		var docs struct{ Documents []json.RawMessage }
		json.Unmarshal(b, &docs)
		if len(docs.Documents) != 1 {
			t.Errorf("%s upload %s: %d documents, want 1", transport, key, len(docs.Documents))
		}
	}
	t.Logf("%d uploads confirmed before SIGKILL (%v); %d messages stored; all processed exactly once", n, countBy(confirmed), len(ms))
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func countBy(m map[int]string) map[string]int {
	out := map[string]int{}
	for _, v := range m {
		out[v]++
	}
	return out
}

// TestServeStopsOnSIGTERM: SIGTERM drains and exits cleanly.
func TestServeStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the gateway")
	}
	w := newWorld(t)
	cmd := w.start(t)
	tok := w.token(t)
	if code, b := w.api(t, tok, "POST", "/api/v1/messages", interchange(301)); code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, b)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("edigate serve exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("edigate serve did not stop within 30 s of SIGTERM")
	}
	log, _ := os.ReadFile(filepath.Join(w.dir, "serve.log"))
	if !strings.Contains(string(log), "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", tail(log, 2000))
	}
}
