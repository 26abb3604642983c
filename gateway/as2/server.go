package as2

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/partners"
)

// DefaultMaxBody is the largest AS2 request body accepted by default.
const DefaultMaxBody = 100 << 20

// Server receives AS2 messages (POST) and serves our certificate
// (GET …/certificate). It is mounted at /as2.
type Server struct {
	Identity *Identity
	Partners *partners.Directory
	Store    gateway.Store
	Logger   *slog.Logger
	// MaxBody bounds a request body (and what compressed content may
	// expand to); DefaultMaxBody when 0.
	MaxBody int64
	// HTTPClient posts async MDNs; a client with a 60s timeout when nil.
	HTTPClient *http.Client
	// FailedDir keeps messages that failed (raw request and the reason),
	// one folder per partner, for inspection; nothing is kept when "".
	FailedDir string
	// MDNReceiver, when set, gets requests that are MDNs rather than
	// messages (async MDNs for what we sent, e.g. Client.ReceiveMDN).
	MDNReceiver http.Handler
	// Lenient lists leniencies per partner ID (see LeniencyLibAS2MDNCRLF).
	Lenient map[string][]string
	// AsyncRetries is how often an async MDN post is tried (default 3).
	AsyncRetries int
	AsyncBackoff time.Duration // first retry delay, doubled (default 2s)

	wg sync.WaitGroup
}

// Wait blocks until async MDNs being posted are done.
func (s *Server) Wait() { s.wg.Wait() }

func (s *Server) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) maxBody() int64 {
	if s.MaxBody > 0 {
		return s.MaxBody
	}
	return DefaultMaxBody
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if strings.HasSuffix(r.URL.Path, "/certificate") {
			w.Header().Set("Content-Type", "application/x-pem-file")
			w.Header().Set("Content-Disposition", `attachment; filename="`+s.Identity.AS2ID+`.pem"`)
			w.Write(s.Identity.CertificatePEM())
			return
		}
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.ContentLength > s.maxBody() {
		http.Error(w, "message too large", http.StatusRequestEntityTooLarge)
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody()))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "message too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading message: "+err.Error(), http.StatusBadRequest)
		return
	}
	if s.MDNReceiver != nil && isMDN(r.Header.Get("Content-Type"), raw) {
		r.Body = io.NopCloser(bytes.NewReader(raw))
		s.MDNReceiver.ServeHTTP(w, r)
		return
	}
	from, to := unquoteAS2(r.Header.Get("AS2-From")), unquoteAS2(r.Header.Get("AS2-To"))
	msgID := messageID(r.Header.Get("Message-ID"))
	log := s.log().With("as2_from", from, "as2_message_id", msgID)
	if to != s.Identity.AS2ID {
		log.Warn("as2: refused a message for another AS2 id", "as2_to", to)
		http.Error(w, "AS2-To is not this gateway", http.StatusForbidden)
		return
	}
	p := s.partner(from)
	if p == nil {
		log.Warn("as2: refused a message from an unknown partner")
		http.Error(w, "unknown AS2-From", http.StatusForbidden)
		return
	}
	if msgID == "" {
		http.Error(w, "Message-ID missing", http.StatusBadRequest)
		return
	}
	log = log.With("partner_id", p.ID)
	req := &inbound{
		partner:  p,
		msgID:    msgID,
		wantMDN:  r.Header.Get("Disposition-Notification-To") != "",
		opts:     parseDispositionOptions(r.Header.Get("Disposition-Notification-Options")),
		asyncURL: strings.TrimSpace(r.Header.Get("Receipt-Delivery-Option")),
		header:   r.Header,
		raw:      raw,
	}
	ctx := r.Context()

	// A duplicate Message-ID gets the MDN it got the first time.
	if m, err := s.Store.MessageByAS2ID(ctx, p.ID, msgID); err == nil {
		if mdn, err := s.Store.MDN(ctx, m.ID); err == nil {
			log.Info("as2: duplicate message, sending its MDN again", "message_id", m.ID)
			s.deliver(w, req, mdn, log)
			return
		}
	}

	u, fail := s.unpack(p, req, log)
	fields := mdnFields{
		reportingUA:       "edigate AS2",
		recipient:         s.Identity.AS2ID,
		originalMessageID: msgID,
	}
	var msg *gateway.Message
	if fail == nil {
		fields.mic = u.mic
		m, err := s.Store.Receive(ctx, gateway.Receipt{
			Partner:      p.ID,
			Transport:    gateway.TransportAS2,
			Filename:     u.filename,
			AS2MessageID: msgID,
		}, bytes.NewReader(u.payload))
		if err != nil {
			fail = &failure{FailUnexpected, "the message could not be stored", err}
		} else {
			msg = m
		}
	}
	if fail != nil {
		fields.failure = fail.disposition
		fields.text = fmt.Sprintf("The AS2 message %s could not be processed: %s.", msgID, fail.text)
		log.Warn("as2: message failed", "disposition", fail.disposition, "err", fail.err)
		s.keepFailed(p.ID, msgID, r, raw, fail)
	} else {
		fields.text = fmt.Sprintf("The AS2 message %s has been received and stored.", msgID)
		log.Info("as2: message received", "message_id", msg.ID, "size", len(u.payload), "signed", u.signed, "encrypted", u.encrypted, "compressed", u.compressed)
	}
	if !req.wantMDN {
		if fail != nil {
			http.Error(w, fail.disposition, http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	_, micName := req.opts.micAlgorithm(u.fallbackAlg())
	mdn, err := buildMDN(fields, s.Identity, req.opts.signed, micName)
	if err != nil {
		log.Error("as2: building MDN", "err", err)
		http.Error(w, "building MDN failed", http.StatusInternalServerError)
		return
	}
	if msg != nil {
		if err := s.Store.SaveMDN(ctx, msg.ID, mdn); err != nil {
			log.Error("as2: saving MDN", "message_id", msg.ID, "err", err)
		}
	}
	s.deliver(w, req, mdn, log)
}

// inbound is one request being handled.
type inbound struct {
	partner  *partners.Partner
	msgID    string
	wantMDN  bool
	opts     dispositionOptions
	asyncURL string
	header   http.Header
	raw      []byte
}

type failure struct {
	disposition string
	text        string
	err         error
}

type unpacked struct {
	payload                       []byte
	filename                      string
	mic                           string
	signAlg                       string
	signed, encrypted, compressed bool
}

func (u *unpacked) fallbackAlg() string {
	if u != nil && u.signAlg != "" {
		return u.signAlg
	}
	return "sha-256"
}

func (s *Server) partner(as2ID string) *partners.Partner {
	if s.Partners == nil || as2ID == "" {
		return nil
	}
	for _, p := range s.Partners.Partners {
		if a := p.Transports.AS2; a != nil && a.ID == as2ID {
			return p
		}
	}
	return nil
}

// unpack undoes encryption, signing and compression in whatever order they
// were applied, checks the partner's requirements and computes the MIC.
func (s *Server) unpack(p *partners.Partner, req *inbound, log *slog.Logger) (*unpacked, *failure) {
	u := &unpacked{}
	ent := &entity{Header: mimeHeader(req.header), Body: req.raw}
	var micInput []byte
	var micHash crypto.Hash
	var micName string
	for depth := 0; ; depth++ {
		if depth > 8 {
			return u, &failure{FailUnexpected, "the message is nested too deeply", nil}
		}
		mt, params, err := ent.mediaType()
		if err != nil {
			return u, &failure{FailUnexpected, "its content type cannot be read", err}
		}
		switch mt {
		case "application/pkcs7-mime", "application/x-pkcs7-mime":
			data, err := ent.decoded()
			if err != nil {
				return u, &failure{FailUnexpected, "its body cannot be decoded", err}
			}
			ct, _, err := parseContentInfo(data)
			if err != nil {
				return u, &failure{FailUnexpected, "its CMS content cannot be read", err}
			}
			var inner []byte
			switch {
			case ct.Equal(oidEnvelopedData) || ct.Equal(oidAuthEnvelopedData):
				if u.encrypted {
					return u, &failure{FailUnexpected, "it is encrypted twice", nil}
				}
				key, err := s.Identity.rsaKey()
				if err != nil {
					return u, &failure{FailDecryption, "our key cannot decrypt", err}
				}
				inner, err = decryptEnvelope(data, s.Identity.Cert, key)
				if err != nil {
					return u, &failure{FailDecryption, "it cannot be decrypted", err}
				}
				u.encrypted = true
				if !u.signed {
					micInput = inner
				}
			case ct.Equal(oidCompressedData):
				inner, err = decompress(data, s.maxBody())
				if err != nil {
					return u, &failure{FailDecompression, "it cannot be decompressed", err}
				}
				u.compressed = true
			default:
				return u, &failure{FailUnexpected, "its CMS content type " + oidName(ct) + " is not supported", nil}
			}
			if ent, err = parseEntity(inner); err != nil {
				return u, &failure{FailUnexpected, "its inner MIME part cannot be read", err}
			}
		case "multipart/signed":
			if u.signed {
				return u, &failure{FailUnexpected, "it is signed twice", nil}
			}
			signed, sigPart, err := splitSigned(ent.Body, params["boundary"], "multipart/signed")
			if err != nil {
				return u, &failure{FailIntegrity, "its multipart/signed structure is broken", err}
			}
			sigEnt, err := parseEntity(sigPart)
			if err != nil {
				return u, &failure{FailIntegrity, "its signature part cannot be read", err}
			}
			sig, err := sigEnt.decoded()
			if err != nil {
				return u, &failure{FailIntegrity, "its signature cannot be decoded", err}
			}
			cert, err := partnerCert(p)
			if err != nil {
				return u, &failure{FailAuthentication, "no certificate is configured for the partner", err}
			}
			verr := verifyDetached(sig, signed, cert)
			if verr != nil && !bytes.Contains(signed, []byte("\r\n")) {
				// Sent with bare LF line ends; signed over canonical CRLF.
				if verifyDetached(sig, canonicalCRLF(signed), cert) == nil {
					verr = nil
				}
			}
			if verr != nil {
				if errors.Is(verr, errIntegrity) {
					return u, &failure{FailIntegrity, "its content does not match its signature", verr}
				}
				return u, &failure{FailAuthentication, "its signature cannot be verified with the partner's certificate", verr}
			}
			u.signed = true
			u.signAlg = params["micalg"]
			micInput = signed
			if ent, err = parseEntity(signed); err != nil {
				return u, &failure{FailUnexpected, "its signed MIME part cannot be read", err}
			}
		default:
			data, err := ent.decoded()
			if err != nil {
				return u, &failure{FailUnexpected, "its body cannot be decoded", err}
			}
			u.payload = data
			u.filename = filepath.Base(ent.filename())
			if u.filename == "." || u.filename == "/" {
				u.filename = ""
			}
			if !u.signed && !u.encrypted {
				micInput = data
			}
			a := p.Transports.AS2
			if a.RequireSigned && !u.signed {
				return u, &failure{FailInsufficient, "the partner must sign its messages", nil}
			}
			if a.RequireEncrypted && !u.encrypted {
				return u, &failure{FailInsufficient, "the partner must encrypt its messages", nil}
			}
			micHash, micName = req.opts.micAlgorithm(u.fallbackAlg())
			u.mic = computeMIC(micInput, micHash, micName)
			return u, nil
		}
	}
}

func oidName(o asn1.ObjectIdentifier) string { return o.String() }

// mimeHeader keeps the MIME headers of the HTTP request for the outer entity.
func mimeHeader(h http.Header) map[string][]string {
	out := map[string][]string{}
	for _, k := range []string{"Content-Type", "Content-Transfer-Encoding", "Content-Disposition"} {
		if v := h.Values(k); len(v) > 0 {
			out[k] = v
		}
	}
	return out
}

// certCache keeps partner certificates by path and modification time.
var certCache sync.Map // path -> cachedCert

type cachedCert struct {
	mod  time.Time
	cert *x509.Certificate
}

func partnerCert(p *partners.Partner) (*x509.Certificate, error) {
	a := p.Transports.AS2
	if a == nil || a.Certificate == "" {
		return nil, fmt.Errorf("partner %s has no transports.as2.certificate", p.ID)
	}
	path := p.Path(a.Certificate)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if c, ok := certCache.Load(path); ok && c.(cachedCert).mod.Equal(fi.ModTime()) {
		return c.(cachedCert).cert, nil
	}
	cert, err := LoadCertificate(path)
	if err != nil {
		return nil, err
	}
	certCache.Store(path, cachedCert{fi.ModTime(), cert})
	return cert, nil
}

// deliver answers with the MDN: in the response (sync) or posted to the
// Receipt-Delivery-Option URL (async).
func (s *Server) deliver(w http.ResponseWriter, req *inbound, mdn []byte, log *slog.Logger) {
	if !req.wantMDN {
		w.WriteHeader(http.StatusOK)
		return
	}
	ent, err := parseEntity(mdn)
	if err != nil {
		http.Error(w, "stored MDN unreadable", http.StatusInternalServerError)
		return
	}
	if req.asyncURL != "" {
		u, err := url.Parse(req.asyncURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			log.Warn("as2: async MDN URL not usable; answering synchronously", "url", req.asyncURL)
		} else {
			w.WriteHeader(http.StatusOK)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.postAsync(req.asyncURL, req.partner.Transports.AS2.ID, ent, log)
			}()
			return
		}
	}
	h := w.Header()
	h.Set("AS2-Version", "1.2")
	h.Set("AS2-From", quoteAS2(s.Identity.AS2ID))
	h.Set("AS2-To", quoteAS2(req.partner.Transports.AS2.ID))
	h.Set("Message-ID", "<"+newMessageID()+">")
	h.Set("MIME-Version", "1.0")
	h.Set("Content-Type", ent.Header.Get("Content-Type"))
	h.Set("Content-Length", fmt.Sprint(len(ent.Body)))
	w.WriteHeader(http.StatusOK)
	w.Write(ent.Body)
}

func (s *Server) postAsync(target, partnerAS2 string, ent *entity, log *slog.Logger) {
	c := s.HTTPClient
	if c == nil {
		c = &http.Client{Timeout: 60 * time.Second}
	}
	tries, backoff := s.AsyncRetries, s.AsyncBackoff
	if tries <= 0 {
		tries = 3
	}
	if backoff <= 0 {
		backoff = 2 * time.Second
	}
	var last error
	for i := 0; i < tries; i++ {
		if i > 0 {
			time.Sleep(backoff)
			backoff *= 2
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(ent.Body))
		if err != nil {
			cancel()
			log.Error("as2: async MDN", "err", err)
			return
		}
		req.Header.Set("AS2-Version", "1.2")
		req.Header.Set("AS2-From", quoteAS2(s.Identity.AS2ID))
		req.Header.Set("AS2-To", quoteAS2(partnerAS2))
		req.Header.Set("Message-ID", "<"+newMessageID()+">")
		req.Header.Set("MIME-Version", "1.0")
		req.Header.Set("Content-Type", ent.Header.Get("Content-Type"))
		resp, err := c.Do(req)
		if err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if resp.StatusCode < 300 {
				cancel()
				log.Info("as2: async MDN delivered", "url", target)
				return
			}
			err = fmt.Errorf("status %s", resp.Status)
			if resp.StatusCode < 500 {
				cancel()
				log.Error("as2: async MDN refused", "url", target, "err", err)
				return
			}
		}
		cancel()
		last = err
	}
	log.Error("as2: async MDN not delivered", "url", target, "err", last)
}

// keepFailed writes a failed message and its reason under FailedDir/<partner>/.
func (s *Server) keepFailed(partnerID, msgID string, r *http.Request, raw []byte, f *failure) {
	if s.FailedDir == "" {
		return
	}
	dir := filepath.Join(s.FailedDir, partnerID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		s.log().Error("as2: keeping failed message", "err", err)
		return
	}
	sum := sha256.Sum256([]byte(msgID))
	base := filepath.Join(dir, time.Now().UTC().Format("20060102T150405.000000000Z")+"-"+hex.EncodeToString(sum[:6]))
	var head bytes.Buffer
	r.Header.Write(&head)
	head.WriteString("\r\n")
	head.Write(raw)
	reason := fmt.Sprintf("message-id: %s\ndisposition: %s\nreason: %s\nerror: %v\n", msgID, f.disposition, f.text, f.err)
	if err := os.WriteFile(base+".msg", head.Bytes(), 0o640); err != nil {
		s.log().Error("as2: keeping failed message", "err", err)
	}
	os.WriteFile(base+".txt", []byte(reason), 0o640)
}

func newMessageID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:]) + "@edigate"
}
