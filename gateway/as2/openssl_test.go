package as2

import (
	"bytes"
	"compress/zlib"
	"encoding/asn1"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func needTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; the openssl/curl interop tests need openssl and curl", tool)
		}
	}
}

// testCompressedData builds RFC 3274 CompressedData independently of the
// package's own compress (Debian's openssl has no zlib).
func testCompressedData(t testing.TB, data []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	oct, _ := asn1.Marshal(z.Bytes())
	zlibAlg, _ := asn1.Marshal(struct{ Alg asn1.ObjectIdentifier }{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 3, 8}})
	encap, _ := asn1.Marshal(struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}, asn1.RawValue{Class: 2, Tag: 0, IsCompound: true, Bytes: oct}})
	cd, _ := asn1.Marshal(struct {
		Version int
		Alg     asn1.RawValue
		Encap   asn1.RawValue
	}{0, asn1.RawValue{FullBytes: zlibAlg}, asn1.RawValue{FullBytes: encap}})
	out, err := asn1.Marshal(struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 9}, asn1.RawValue{Class: 2, Tag: 0, IsCompound: true, Bytes: cd}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// opensslMessage is a message built with openssl cms, sent with curl.
type opensslMessage struct {
	sign, compress, compressAfterSign bool
	encrypt                           string // openssl cipher flag, "" for none
	oaep                              bool
	signer                            *peer // default: the partner
	tamper                            bool
	encryptTo                         string // certificate path; default ours
}

type opensslEnv struct {
	dir     string
	us      *peer // the gateway
	partner *peer
	url     string
}

// build returns the HTTP content type, body and the MIC we expect back.
func (e *opensslEnv) build(t *testing.T, m opensslMessage, tag string) (string, []byte, string) {
	t.Helper()
	dir := filepath.Join(e.dir, tag)
	os.MkdirAll(dir, 0o700)
	ct, body := "application/edi-x12", []byte(sampleX12)
	cur := []byte("Content-Type: application/edi-x12\r\nContent-Disposition: attachment; filename=\"po.edi\"\r\n\r\n" + sampleX12)
	mic := computeMIC(body, micHashSHA256(), "sha-256")
	wrapCompressed := func() {
		cur = append([]byte("Content-Type: application/pkcs7-mime; smime-type=compressed-data; name=\"smime.p7z\"\r\nContent-Transfer-Encoding: binary\r\n\r\n"), testCompressedData(t, cur)...)
		ct, body = "application/pkcs7-mime; smime-type=compressed-data; name=\"smime.p7z\"", cur[bytes.Index(cur, []byte("\r\n\r\n"))+4:]
		mic = computeMIC(body, micHashSHA256(), "sha-256")
	}
	if m.compress {
		wrapCompressed()
	}
	if m.sign {
		signer := m.signer
		if signer == nil {
			signer = e.partner
		}
		in := filepath.Join(dir, "content.mime")
		mustWrite(t, in, cur)
		out := run(t, dir, "openssl", "cms", "-sign", "-binary", "-crlfeol", "-in", in, "-signer", signer.certPath, "-inkey", signer.keyPath, "-md", "sha256")
		ent, err := parseEntity(out)
		if err != nil {
			t.Fatal(err)
		}
		_, params, _ := ent.mediaType()
		parts, err := splitMultipart(ent.Body, params["boundary"])
		if err != nil {
			t.Fatal(err)
		}
		mic = computeMIC(parts[0], micHashSHA256(), "sha-256")
		if m.tamper {
			out = bytes.Replace(out, []byte("PO123"), []byte("PO999"), 1)
		}
		cur, ct, body = out, ent.Header.Get("Content-Type"), out[len(out)-len(ent.Body):]
		if m.compressAfterSign {
			wrapCompressed()
			mic = computeMIC(parts[0], micHashSHA256(), "sha-256")
		}
	}
	if m.encrypt != "" {
		in := filepath.Join(dir, "plain.mime")
		mustWrite(t, in, cur)
		to := m.encryptTo
		if to == "" {
			to = e.us.certPath
		}
		args := []string{"cms", "-encrypt", "-binary", "-in", in, "-outform", "DER", "-" + m.encrypt}
		if m.oaep {
			args = append(args, "-recip", to, "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha512", "-keyopt", "rsa_mgf1_md:sha512")
		} else {
			args = append(args, to)
		}
		body = run(t, dir, "openssl", args...)
		if !m.sign {
			mic = computeMIC(cur, micHashSHA256(), "sha-256")
		}
		ct = "application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\""
		if strings.Contains(m.encrypt, "gcm") {
			ct = "application/pkcs7-mime; smime-type=authEnveloped-data; name=\"smime.p7m\""
		}
	}
	return ct, body, mic
}

// post sends with curl; it returns the status, the response headers and body.
func (e *opensslEnv) post(t *testing.T, tag, from, msgID, ct string, body []byte, extra ...string) (int, http.Header, []byte) {
	t.Helper()
	dir := filepath.Join(e.dir, tag)
	os.MkdirAll(dir, 0o700)
	bodyFile := filepath.Join(dir, "body.bin")
	mustWrite(t, bodyFile, body)
	args := []string{"-sS", "-X", "POST", "--data-binary", "@" + bodyFile,
		"-H", "Content-Type: " + ct, "-H", "AS2-Version: 1.2", "-H", "AS2-From: " + from, "-H", "AS2-To: EDIGATE",
		"-H", "Message-ID: <" + msgID + ">", "-H", "MIME-Version: 1.0",
		"-D", filepath.Join(dir, "resp.headers"), "-o", filepath.Join(dir, "resp.body"), "-w", "%{http_code}"}
	for _, h := range extra {
		args = append(args, "-H", h)
	}
	args = append(args, e.url)
	code := run(t, dir, "curl", args...)
	var status int
	fmt.Sscan(string(code), &status)
	rh, _ := os.ReadFile(filepath.Join(dir, "resp.headers"))
	hdr := http.Header{}
	for _, line := range strings.Split(string(rh), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			hdr.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	rb, _ := os.ReadFile(filepath.Join(dir, "resp.body"))
	return status, hdr, rb
}

// verifyWithOpenSSL checks a signed MDN with openssl cms -verify.
func (e *opensslEnv) verifyWithOpenSSL(t *testing.T, tag, ct string, body []byte) {
	t.Helper()
	dir := filepath.Join(e.dir, tag)
	f := filepath.Join(dir, "mdn.eml")
	mustWrite(t, f, append([]byte("MIME-Version: 1.0\r\nContent-Type: "+ct+"\r\n\r\n"), body...))
	run(t, dir, "openssl", "cms", "-verify", "-in", f, "-CAfile", e.us.certPath, "-purpose", "any", "-out", filepath.Join(dir, "mdn.report"))
}

const signedOpts = "Disposition-Notification-Options: signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256, sha-1"

func TestOpenSSLInterop(t *testing.T) {
	needTools(t, "openssl", "curl")
	dir := t.TempDir()
	env := &opensslEnv{dir: dir, us: newPeer(t, dir, "EDIGATE"), partner: newPeer(t, dir, "PARTNER")}
	stranger := newPeer(t, dir, "STRANGER")
	store := newMemStore()
	pd := filepath.Join(dir, "partners")
	os.MkdirAll(pd, 0o700)
	srv := &Server{Identity: env.us.id, Store: store, Logger: testLogger(t), FailedDir: filepath.Join(dir, "failed"), MaxBody: 1 << 20}
	srv.Partners = writePartners(t, pd,
		partnerYAML{id: "acme", as2ID: "PARTNER", cert: env.partner.certPath, sign: "sha256", mdnMode: "sync"},
		partnerYAML{id: "strict", as2ID: "STRICT", cert: env.partner.certPath, sign: "sha256", mdnMode: "sync", requireSigned: true, requireEncrypted: true},
	)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	env.url = ts.URL + "/as2"

	type asyncMDN struct {
		hdr  http.Header
		body []byte
	}
	asyncCh := make(chan asyncMDN, 4)
	asyncSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		asyncCh <- asyncMDN{r.Header.Clone(), b}
	}))
	defer asyncSrv.Close()

	cases := []struct {
		name  string
		from  string
		msg   opensslMessage
		async bool
		want  string // failure modifier, "" for processed
	}{
		{name: "plain", msg: opensslMessage{}},
		{name: "signed", msg: opensslMessage{sign: true}},
		{name: "encrypted", msg: opensslMessage{encrypt: "aes-256-cbc"}},
		{name: "signed+encrypted 3des", msg: opensslMessage{sign: true, encrypt: "des3"}},
		{name: "signed+encrypted+compressed", msg: opensslMessage{sign: true, encrypt: "aes-128-cbc", compress: true}},
		{name: "compressed after signing", msg: opensslMessage{sign: true, encrypt: "aes-192-cbc", compressAfterSign: true}},
		{name: "oaep sha512 aes-192", msg: opensslMessage{sign: true, encrypt: "aes-192-cbc", oaep: true}},
		{name: "aes-128-gcm authenveloped", msg: opensslMessage{sign: true, encrypt: "aes-128-gcm"}},
		{name: "async MDN", msg: opensslMessage{sign: true, encrypt: "aes-256-cbc"}, async: true},
		{name: "tampered content", msg: opensslMessage{sign: true, tamper: true}, want: FailIntegrity},
		{name: "signed by a stranger", msg: opensslMessage{sign: true, signer: stranger}, want: FailAuthentication},
		{name: "encrypted for someone else", msg: opensslMessage{sign: true, encrypt: "aes-128-cbc", encryptTo: stranger.certPath}, want: FailDecryption},
		{name: "unsigned where signing is required", from: "STRICT", msg: opensslMessage{encrypt: "aes-128-cbc"}, want: FailInsufficient},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tag := fmt.Sprintf("case%d", i)
			from := c.from
			if from == "" {
				from = "PARTNER"
			}
			before := store.count()
			ct, body, mic := env.build(t, c.msg, tag)
			msgID := fmt.Sprintf("openssl-%d-%d@partner", i, time.Now().UnixNano())
			extra := []string{"Disposition-Notification-To: edi@partner.example", signedOpts}
			if c.async {
				extra = append(extra, "Receipt-Delivery-Option: "+asyncSrv.URL)
			}
			status, hdr, rb := env.post(t, tag, from, msgID, ct, body, extra...)
			if status != 200 {
				t.Fatalf("status %d: %s", status, rb)
			}
			mct := hdr.Get("Content-Type")
			if c.async {
				if len(rb) != 0 {
					t.Fatalf("async request answered with a body: %q", rb)
				}
				select {
				case a := <-asyncCh:
					mct, rb = a.hdr.Get("Content-Type"), a.body
					if a.hdr.Get("AS2-To") != "PARTNER" || a.hdr.Get("AS2-From") != "EDIGATE" {
						t.Fatalf("async MDN headers %v", a.hdr)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("no async MDN")
				}
			}
			env.verifyWithOpenSSL(t, tag, mct, rb)
			mdn, err := readMDN(append([]byte("Content-Type: "+mct+"\r\n\r\n"), rb...), env.us.cert, true, nil, testLogger(t), "")
			if err != nil {
				t.Fatal(err)
			}
			if mdn.OriginalMessageID != msgID {
				t.Fatalf("MDN for %q", mdn.OriginalMessageID)
			}
			if c.want != "" {
				if !strings.HasSuffix(mdn.Disposition, "processed/error: "+c.want) {
					t.Fatalf("disposition %q, want error %s", mdn.Disposition, c.want)
				}
				if store.count() != before {
					t.Fatal("a refused message was stored")
				}
				return
			}
			if !mdn.Processed() {
				t.Fatalf("disposition %q", mdn.Disposition)
			}
			if mdn.MIC != mic {
				t.Fatalf("MIC %q, want %q", mdn.MIC, mic)
			}
			m, payload := store.last()
			if string(payload) != sampleX12 || m.AS2MessageID != msgID || m.Partner != "acme" {
				t.Fatalf("stored %+v %q", m, payload)
			}
			if !c.msg.sign && !c.msg.compress && m.Filename != "" && c.msg.encrypt == "" {
				t.Fatalf("filename %q", m.Filename)
			}
		})
	}

	t.Run("failed messages are kept per partner", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(dir, "failed", "acme", "*.txt"))
		if len(files) < 3 {
			t.Fatalf("kept %d failed messages", len(files))
		}
	})

	t.Run("duplicate Message-ID gets the same MDN", func(t *testing.T) {
		ct, body, _ := env.build(t, opensslMessage{sign: true, encrypt: "aes-128-cbc"}, "dup")
		before := store.count()
		_, _, first := env.post(t, "dup", "PARTNER", "dup-1@partner", ct, body, "Disposition-Notification-To: x", signedOpts)
		_, _, second := env.post(t, "dup", "PARTNER", "dup-1@partner", ct, body, "Disposition-Notification-To: x", signedOpts)
		if !bytes.Equal(first, second) {
			t.Fatal("the duplicate got a different MDN")
		}
		if store.count() != before+1 {
			t.Fatalf("Receive called %d times", store.count()-before)
		}
	})

	t.Run("unknown partner refused", func(t *testing.T) {
		ct, body, _ := env.build(t, opensslMessage{sign: true}, "unknown")
		before := store.count()
		status, _, _ := env.post(t, "unknown", "NOBODY", "u-1@x", ct, body, "Disposition-Notification-To: x")
		if status != http.StatusForbidden || store.count() != before {
			t.Fatalf("status %d, receives %d", status, store.count()-before)
		}
		if _, err := os.Stat(filepath.Join(dir, "failed", "NOBODY")); err == nil {
			t.Fatal("an unknown partner's message was kept")
		}
	})

	t.Run("oversize refused", func(t *testing.T) {
		before := store.count()
		status, _, _ := env.post(t, "big", "PARTNER", "big-1@x", "application/edi-x12", bytes.Repeat([]byte("x"), 2<<20), "Disposition-Notification-To: x")
		if status != http.StatusRequestEntityTooLarge || store.count() != before {
			t.Fatalf("status %d", status)
		}
	})
}
