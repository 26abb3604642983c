package as2

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// The fuzz targets below cover what the receive side reads from the
// network: CMS (BER/DER, enveloped, compressed, signed), MIME, MDNs and the
// whole Server.ServeHTTP. Each is seeded with messages our own Client and
// Server build, plus a few made by hand.
//
// Fuzzing runs the setup in several worker processes, so the identities are
// fixed (keys below, certificates with a fixed serial and validity): a seed
// encrypted in one process decrypts in every other. 1024-bit keys keep the
// RSA operations cheap enough for fuzzing.

const fuzzKeyGateway = `-----BEGIN PRIVATE KEY-----
MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAN7yWfpMoZS8GGut
R34fVQBaEDGlqR4H6Ba/9CIwDwXBrBZ9tFNMvBELFY9+P1Q8iwif/t5vAw6FGlGh
V1NS5SfTrwochyT8jR2tnksdAMA9+ngdIa3aabU9qmTp+3NARfxgedRPTLa4Dqz8
kXkh+Ib4lnYSNxqOxqzE9gtIICyFAgMBAAECgYAM9uTalEg1IPb+k/X7VJEZ0yLr
8Ck0cNtDL2hf8JF/ETMTn72ztludVhqr3HiMSnT/TGaCwsvXtU/BfXNZihF/Mpwg
0dl07+AS4W6P5RJQvTSdLJ1gL++8tfAVyEAAXL/c5t3F/UvsGynmPMrGEBs0PDDw
Hn/W9/5WJ4TPwG5aBQJBAO8w1vHZSY7KPp6KIB8iwkBrq9RH/PL559ExRDMMHXuu
Z8RUqhM6RNfp4YJ8u4boxafOmbjYS+/5FDqkMqVA5DcCQQDunUXGgREC4v8zhkZJ
9g2bZJZUGUA7efgrDzaXPkpddwZJV2u5feVotUJUD08uBS+WsnqDsVUdIwf93Hmi
zE8jAkBh3AyE5E5pAiu+d2qO8oyhCKxDbLR7wGzstIhfjjxdxswjkjQHK9bQs5qU
5W1f08pSTn+sFapz4uc42sbxv2vfAkAiwoBmoWij/gNlMxtMLO7ggy+vApqrz2HK
jAXM1IMqyGr/BiAoPmHL9hO6gRxsvM6o6kkUpCGdA/xnC9YgVBj3AkEAh53fdoIW
m6bZKOvhUL4Y2dO7mANh31Zn+QF1ojdnGFkqZA3S03aZtoYTGllc+KfRdVrgluCo
mj3CVFjrAseY8g==
-----END PRIVATE KEY-----
`

const fuzzKeyPartner = `-----BEGIN PRIVATE KEY-----
MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAM4qSD99gG22ZG9w
MiCgzf2S/xq8mFdXtoDsFvFNdB566JVZaNpojxcP6StzwB/oCcQIQJtrjw9eKQdP
aGZrCIoAqTMVU43OU16HBTJ2ZsR/NuJwjZnEhq8tXCsGzbvWx3lMo4/acBGMIBvt
faYKFk7b8JIqeHKu3HPJIEMNfMHPAgMBAAECgYAyCJ7qEao2dhpf1SnFM2Fqld8l
fPm30Miw9xsGStbQguGpRT6mKtP3M9xRuFC7LZQZKCuNzIe2ohJw/LuIh5dVfqUG
o/OMLIsFNRW0Eq2iZStxXV//hKdclJzjWw5Y6hCdOVcz1T/jeOTTNp5zHFAeBwMs
E46Y8foR5TTttv5QOQJBAPub4TMY+upnnggpMRYMrTZIDNteOKzsVv9mGBJ4ZEyI
obSarBntK0K2vLMz8lT1ZUgvnW7iG7vLJ4amHomunK0CQQDRw19Kq3+O3mmohCMb
RkKRq+JdlcwNh22q4zHHQSR6bl4jMKzTnwoBnt82ZfAeNn23+00Nsi1I7+rxARKy
xYvrAkBqz2CJXYhe67/FfR8OWjFJwspacaQjnGzOHNwJMzx41OO4lJSMqQbdWk++
z0WHVWk6fKQbhzb4wKQ1391E23A9AkEAsag5AvLxXD1/W1xep3EAXIQpen2ujx7O
gVdfB5ViodbsH/3PwoQGY4z9HAOGNPCN1c8fWaQ4uneIkooIHiU19QJAabgSdJnW
CBQu96I1wSvkjI+NPmWecFzmFswM1q7pNSlH4nBJ4+ybtOgHBkPFCASvYOnWgzb6
mG6/uaOXxdh9Rg==
-----END PRIVATE KEY-----
`

// fixedPeer is a peer whose key and certificate are the same on every run.
func fixedPeer(tb testing.TB, dir, name, keyPEM string, serial int64) *peer {
	tb.Helper()
	key, err := ParsePrivateKeyPEM([]byte(keyPEM))
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := selfSigned(key, name, big.NewInt(serial), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		tb.Fatal(err)
	}
	return peerFiles(tb, dir, name, key, cert)
}

// fuzzEnv is the gateway (EDIGATE) and one partner (PARTNER) that sends to it.
type fuzzEnv struct {
	us, partner *peer
	dir         string
}

func newFuzzEnv(tb testing.TB) *fuzzEnv {
	tb.Helper()
	dir := tb.TempDir()
	return &fuzzEnv{
		us:      fixedPeer(tb, dir, "EDIGATE", fuzzKeyGateway, 1001),
		partner: fixedPeer(tb, dir, "PARTNER", fuzzKeyPartner, 1002),
		dir:     dir,
	}
}

// server is the gateway's AS2 server with the partner configured.
func (e *fuzzEnv) server(tb testing.TB) *Server {
	tb.Helper()
	return &Server{
		Identity: e.us.id,
		Partners: writePartners(tb, tb.TempDir(), partnerYAML{id: "them", as2ID: "PARTNER", cert: e.partner.certPath, sign: "sha256", mdnMode: "sync"}),
		Logger:   slog.New(slog.DiscardHandler),
		MaxBody:  1 << 20,
	}
}

// sentMessage is an AS2 request as our Client sends it.
type sentMessage struct {
	contentType string
	body        []byte
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// sentMessages returns what the partner's Client (this package's) sends to
// the gateway for a range of partner settings.
func (e *fuzzEnv) sentMessages(tb testing.TB) []sentMessage {
	tb.Helper()
	var sent []sentMessage
	client := &Client{
		Identity: e.partner.id,
		Logger:   slog.New(slog.DiscardHandler),
		HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, err
			}
			sent = append(sent, sentMessage{r.Header.Get("Content-Type"), b})
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
		})},
	}
	cases := []partnerYAML{
		{sign: "none", encrypt: "none"},
		{sign: "sha256", encrypt: "none"},
		{sign: "sha1", encrypt: "none", compress: true},
		{sign: "none", encrypt: "3des"},
		{sign: "sha256", encrypt: "aes128-cbc"},
		{sign: "sha512", encrypt: "aes256-cbc", compress: true},
		{sign: "none", encrypt: "aes128-gcm", compress: true},
		{sign: "sha256", encrypt: "aes256-gcm"},
		{sign: "none", encrypt: "none", compress: true},
	}
	for i, c := range cases {
		c.id, c.as2ID, c.url, c.cert, c.mdnMode = "gw", "EDIGATE", "http://edigate.invalid/as2", e.us.certPath, "none"
		client.Partners = writePartners(tb, tb.TempDir(), c)
		client.Lenient = nil
		if i == 4 {
			client.Lenient = map[string][]string{"gw": {QuirkBase64Body}}
		}
		if _, err := client.SendMessage(tb.Context(), "gw", "po.edi", []byte(sampleX12)); err != nil {
			tb.Fatal(err)
		}
	}
	return sent
}

// derToBER rewrites DER the way openssl writes CMS: constructed elements
// with indefinite lengths, OCTET STRINGs as constructed 4-byte segments.
func derToBER(der []byte) []byte {
	var out []byte
	for len(der) > 0 {
		var rv asn1.RawValue
		rest, err := asn1.Unmarshal(der, &rv)
		if err != nil {
			return append(out, der...)
		}
		ident := rv.FullBytes[:len(rv.FullBytes)-len(rv.Bytes)]
		switch {
		case rv.IsCompound:
			out = append(out, ident[0])
			out = append(out, 0x80)
			out = append(out, derToBER(rv.Bytes)...)
			out = append(out, 0, 0)
		case rv.Class == asn1.ClassUniversal && rv.Tag == asn1.TagOctetString && len(rv.Bytes) > 4:
			out = append(out, 0x24, 0x80)
			for b := rv.Bytes; len(b) > 0; {
				n := min(4, len(b))
				out = appendTLV(out, []byte{0x04}, b[:n])
				b = b[n:]
			}
			out = append(out, 0, 0)
		default:
			out = append(out, rv.FullBytes...)
		}
		der = rest
	}
	return out
}

// berSeeds are handmade BER oddities.
func berSeeds() [][]byte {
	nested := bytes.Repeat([]byte{0x30, 0x80}, 70)
	nested = append(nested, 0x04, 0x01, 'x')
	nested = append(nested, bytes.Repeat([]byte{0, 0}, 70)...)
	return [][]byte{
		nil,
		{0x30},
		{0x30, 0x80},
		{0x30, 0x80, 0x00},
		{0x30, 0x80, 0x30, 0x80, 0x04, 0x01, 'x', 0x00, 0x00, 0x00, 0x00},
		{0x24, 0x80, 0x04, 0x02, 'a', 'b', 0x24, 0x80, 0x04, 0x01, 'c', 0x00, 0x00, 0x00, 0x00},
		{0x24, 0x80, 0x30, 0x00, 0x00, 0x00},
		{0x30, 0x84, 0xff, 0xff, 0xff, 0xff},
		{0x30, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00},
		{0x1f, 0x81, 0x80, 0x00, 0x00},
		{0x9f, 0x05, 0x00},
		{0x04, 0x80},
		nested[:len(nested)/2],
		nested,
	}
}

// oaepEnvelope is EnvelopedData with RSAES-OAEP (SHA-256) key transport,
// which encryptEnvelope does not make.
func oaepEnvelope(tb testing.TB, content []byte, to *x509.Certificate) []byte {
	tb.Helper()
	cek := make([]byte, 16)
	iv := make([]byte, aes.BlockSize)
	rand.Read(cek)
	rand.Read(iv)
	ek, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, to.PublicKey.(*rsa.PublicKey), cek, nil)
	if err != nil {
		tb.Fatal(err)
	}
	sha := pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue}
	shaDER, _ := asn1.Marshal(sha)
	mgf, _ := asn1.Marshal(pkix.AlgorithmIdentifier{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: shaDER}})
	params, _ := asn1.Marshal(struct {
		Hash asn1.RawValue
		MGF  asn1.RawValue
	}{
		asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: shaDER},
		asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: mgf},
	})
	block, _ := aes.NewCipher(cek)
	pad := aes.BlockSize - len(content)%aes.BlockSize
	buf := append(append([]byte(nil), content...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
	ivb, _ := asn1.Marshal(iv)
	inner, err := asn1.Marshal(envelopedData{
		Recipients: []keyTransRecipient{{
			RID:          issuerAndSerial{Issuer: asn1.RawValue{FullBytes: to.RawIssuer}, Serial: to.SerialNumber},
			KEA:          pkix.AlgorithmIdentifier{Algorithm: oidRSAOAEP, Parameters: asn1.RawValue{FullBytes: params}},
			EncryptedKey: ek,
		}},
		Content: encryptedContentInfo{
			ContentType: oidData,
			Algorithm:   pkix.AlgorithmIdentifier{Algorithm: oidAES128CBC, Parameters: asn1.RawValue{FullBytes: ivb}},
			Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: buf},
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	out, err := marshalContentInfo(oidEnvelopedData, inner)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// cmsSeeds returns real CMS messages: compressed, enveloped for the gateway
// with every cipher, and a detached signature by the partner.
func (e *fuzzEnv) cmsSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	content := []byte("Content-Type: application/edi-x12\r\n\r\n" + sampleX12)
	var out [][]byte
	z, err := compress(content)
	if err != nil {
		tb.Fatal(err)
	}
	out = append(out, z, testCompressedData(tb, content))
	for _, c := range contentCiphers {
		env, err := encryptEnvelope(content, e.us.cert, c.name)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, env)
	}
	out = append(out, oaepEnvelope(tb, content, e.us.cert))
	sig, err := signDetached(content, e.partner.id, micHashSHA256())
	if err != nil {
		tb.Fatal(err)
	}
	out = append(out, sig)
	for _, b := range out[:len(out):len(out)] {
		out = append(out, derToBER(b), b[:len(b)/2])
	}
	return out
}

// FuzzBERToDER checks berToDER and parseContentInfo on any bytes: no
// panic, and what berToDER accepts is DER that encoding/asn1 reads
// throughout and that berToDER leaves as it is.
func FuzzBERToDER(f *testing.F) {
	e := newFuzzEnv(f)
	for _, s := range append(e.cmsSeeds(f), berSeeds()...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, err := parseContentInfo(data)
		checkErr(t, err)
		der, err := berToDER(data)
		if err != nil {
			checkErr(t, err)
			return
		}
		if err := checkDER(der, 0); err != nil {
			t.Fatalf("berToDER output does not parse: %v\nin:  %x\nout: %x", err, data, der)
		}
		again, err := berToDER(der)
		if err != nil || !bytes.Equal(again, der) {
			t.Fatalf("berToDER is not stable on its own output: %v\nin:  %x\nout: %x", err, der, again)
		}
	})
}

// checkErr fails when an error does not say what is wrong: empty, or
// formatting a nil error or a bad verb.
func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if msg := err.Error(); strings.TrimSpace(msg) == "" || strings.HasSuffix(msg, ": <nil>") || strings.Contains(msg, "%!") {
		t.Fatalf("error %q does not say what is wrong", msg)
	}
}

// checkDER parses one element and, recursively, the elements inside
// constructed ones.
func checkDER(b []byte, depth int) error {
	var rv asn1.RawValue
	rest, err := asn1.Unmarshal(b, &rv)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%d bytes after the element", len(rest))
	}
	if !rv.IsCompound {
		return nil
	}
	for c := rv.Bytes; len(c) > 0; {
		var child asn1.RawValue
		next, err := asn1.Unmarshal(c, &child)
		if err != nil {
			return fmt.Errorf("depth %d: %w", depth+1, err)
		}
		if err := checkDER(child.FullBytes, depth+1); err != nil {
			return err
		}
		c = next
	}
	return nil
}

// FuzzDecompress checks that decompress never panics and never returns
// more than its limit.
func FuzzDecompress(f *testing.F) {
	e := newFuzzEnv(f)
	for _, s := range append(e.cmsSeeds(f), berSeeds()...) {
		f.Add(s)
	}
	big, err := compress(bytes.Repeat([]byte("ISA*"), 4096))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(big)
	f.Add(derToBER(big))
	const limit = 4096
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := decompress(data, limit)
		if err != nil {
			checkErr(t, err)
			if out != nil {
				t.Fatalf("error %q with %d bytes", err, len(out))
			}
			return
		}
		if len(out) > limit {
			t.Fatalf("decompress returned %d bytes, limit %d", len(out), limit)
		}
	})
}

// FuzzDecryptEnvelope decrypts any bytes with the gateway's key: no panic,
// and an error or content, never both.
func FuzzDecryptEnvelope(f *testing.F) {
	e := newFuzzEnv(f)
	for _, s := range append(e.cmsSeeds(f), berSeeds()...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := decryptEnvelope(data, e.us.cert, e.us.key)
		checkErr(t, err)
		if err != nil && out != nil {
			t.Fatalf("error %q with %d bytes", err, len(out))
		}
	})
}

// FuzzVerifyDetached checks any signature over any content against the
// partner's certificate: no panic, and an unsigned nil certificate is an
// error.
func FuzzVerifyDetached(f *testing.F) {
	e := newFuzzEnv(f)
	content := []byte("Content-Type: application/edi-x12\r\n\r\n" + sampleX12)
	for _, s := range append(e.cmsSeeds(f), berSeeds()...) {
		f.Add(s, content)
	}
	f.Fuzz(func(t *testing.T, sig, data []byte) {
		checkErr(t, verifyDetached(sig, data, e.partner.cert))
		if err := verifyDetached(sig, data, nil); err == nil {
			t.Fatal("verified without a certificate")
		}
	})
}

// mimeSeeds are MIME entities as the gateway receives them: each message
// the Client sends (HTTP headers as MIME headers), and MDNs.
func (e *fuzzEnv) mimeSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, m := range e.sentMessages(tb) {
		out = append(out, append([]byte("Content-Type: "+m.contentType+"\r\nDisposition-Notification-Options: signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256, sha-1\r\n\r\n"), m.body...))
	}
	for _, signed := range []bool{false, true} {
		for _, fail := range []string{"", FailDecryption} {
			mdn, err := buildMDN(mdnFields{reportingUA: "edigate AS2", recipient: "EDIGATE", originalMessageID: "1@partner", mic: "abc=, sha-256", failure: fail, text: "Text\nmore"}, e.us.id, signed, "sha-256")
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, mdn, bytes.ReplaceAll(mdn, []byte("\r\n"), []byte("\n")))
		}
	}
	out = append(out,
		nil,
		[]byte("\r\n"),
		[]byte("Content-Type: text/plain\n\nbody"),
		[]byte("Content-Type: multipart/signed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b\r\n\r\ny\r\n--b--\r\n"),
		[]byte("Content-Type: multipart/report; boundary=\"\"\r\n\r\n--\r\n--\r\n"),
		[]byte("Content-Transfer-Encoding: base64\r\n\r\nQUJD\r\nRA==\r\n"),
		[]byte("Content-Transfer-Encoding: quoted-printable\r\n\r\na=3Db=\r\nc"),
	)
	return out
}

// FuzzMIME reads any bytes as a MIME entity the way the server and
// readMDN do: no panic, no endless loop, parts within the body.
func FuzzMIME(f *testing.F) {
	e := newFuzzEnv(f)
	for _, s := range e.mimeSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		o := parseDispositionOptions(string(raw))
		o.micAlgorithm(string(raw))
		ent, err := parseEntity(raw)
		if err != nil {
			return
		}
		if len(ent.Body) > len(raw) {
			t.Fatalf("body of %d bytes from %d", len(ent.Body), len(raw))
		}
		isMDN(ent.Header.Get("Content-Type"), ent.Body)
		o = parseDispositionOptions(ent.Header.Get("Disposition-Notification-Options"))
		o.micAlgorithm("sha1")
		ent.filename()
		if b, err := ent.decoded(); err == nil && len(b) > len(ent.Body) {
			t.Fatalf("decoded %d bytes from %d", len(b), len(ent.Body))
		}
		_, params, err := ent.mediaType()
		if err != nil {
			checkErr(t, err)
			return
		}
		parts, err := splitMultipart(ent.Body, params["boundary"])
		if err != nil {
			checkErr(t, err)
			return
		}
		n := 0
		for _, p := range parts {
			n += len(p)
			if pe, err := parseEntity(p); err == nil {
				pe.decoded()
				pe.mediaType()
			}
		}
		if n > len(ent.Body) {
			t.Fatalf("parts of %d bytes from a body of %d", n, len(ent.Body))
		}
	})
}

// FuzzReadMDN reads any bytes as an MDN, unverified and verified against
// the gateway's certificate: no panic, and an MDN read as signed is signed.
func FuzzReadMDN(f *testing.F) {
	e := newFuzzEnv(f)
	for _, s := range e.mimeSeeds(f) {
		f.Add(s)
	}
	log := slog.New(slog.DiscardHandler)
	lenient := []string{LeniencyLibAS2MDNCRLF}
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, err := readMDN(raw, nil, false, nil, log, "them")
		checkErr(t, err)
		m, err := readMDN(raw, e.us.cert, true, lenient, log, "them")
		if err != nil {
			checkErr(t, err)
			if m != nil {
				t.Fatalf("error %q with an MDN", err)
			}
			return
		}
		if !m.Signed {
			t.Fatal("unsigned MDN accepted as signed")
		}
	})
}

// FuzzServeHTTP posts any Content-Type and body from the partner, asking
// for a signed sync MDN. The server must not panic and must answer with an
// MDN the partner can read and verify (a failure one when the message is
// not usable), or refuse a message too large.
func FuzzServeHTTP(f *testing.F) {
	e := newFuzzEnv(f)
	for _, m := range e.sentMessages(f) {
		f.Add(m.contentType, m.body)
	}
	f.Add("", []byte(nil))
	f.Add("text/plain", []byte(sampleX12))
	f.Add("multipart/signed; boundary=b", []byte("--b\r\n\r\nx\r\n--b\r\n\r\ny\r\n--b--\r\n"))
	f.Add("application/pkcs7-mime; smime-type=enveloped-data", []byte{0x30, 0x80, 0x00, 0x00})
	srv := e.server(f)
	const msgID = "fuzz@partner"
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		if strings.ContainsAny(contentType, "\r\n\x00") {
			return // net/http refuses such header values
		}
		store := newMemStore()
		srv.Store = store
		r := httptest.NewRequest(http.MethodPost, "/as2", bytes.NewReader(body))
		r.Header.Set("AS2-Version", "1.2")
		r.Header.Set("AS2-From", "PARTNER")
		r.Header.Set("AS2-To", "EDIGATE")
		r.Header.Set("Message-ID", "<"+msgID+">")
		r.Header.Set("Content-Type", contentType)
		r.Header.Set("Disposition-Notification-To", "PARTNER")
		r.Header.Set("Disposition-Notification-Options", "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code == http.StatusRequestEntityTooLarge && len(body) > int(srv.MaxBody) {
			return
		}
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body.Bytes())
		}
		raw := append([]byte("Content-Type: "+w.Header().Get("Content-Type")+"\r\n\r\n"), w.Body.Bytes()...)
		m, err := readMDN(raw, e.us.cert, true, nil, slog.New(slog.DiscardHandler), "them")
		if err != nil {
			t.Fatalf("the MDN cannot be read: %v\n%s", err, raw)
		}
		if m.OriginalMessageID != msgID {
			t.Fatalf("MDN for %q", m.OriginalMessageID)
		}
		if stored := store.count() == 1; stored != m.Processed() {
			t.Fatalf("stored %v, but the MDN says %q", stored, m.Disposition)
		}
	})
}

// TestSignedMDNPartsError: a multipart/signed MDN without two parts says
// how many it has (it said "without two parts: <nil>").
func TestSignedMDNPartsError(t *testing.T) {
	_, err := readMDN([]byte("Content-Type: multipart/signed; boundary=b\r\n\r\n--b--\r\n"), nil, false, nil, slog.New(slog.DiscardHandler), "them")
	if err == nil || err.Error() != "mdn: signed MDN has 0 parts, not two" {
		t.Fatalf("err = %v", err)
	}
}

// TestVerifyDetachedBER: a signature written as BER with its OCTET STRINGs
// in segments, as streaming CMS writers do, verifies as its DER does.
func TestVerifyDetachedBER(t *testing.T) {
	e := newFuzzEnv(t)
	data := []byte("Content-Type: application/edi-x12\r\n\r\n" + sampleX12)
	der, err := signDetached(data, e.partner.id, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	ber := derToBER(der)
	if bytes.Equal(ber, der) {
		t.Fatal("derToBER changed nothing")
	}
	if _, err := pkcs7.Parse(ber); err == nil {
		t.Log("pkcs7 reads this BER itself now; the fallback is not needed for it")
	}
	for name, sig := range map[string][]byte{"DER": der, "BER": ber} {
		if err := verifyDetached(sig, data, e.partner.cert); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := verifyDetached(sig, append(bytes.Clone(data), 'x'), e.partner.cert); !errors.Is(err, errIntegrity) {
			t.Errorf("%s, data changed: %v, want an integrity error", name, err)
		}
	}
}
