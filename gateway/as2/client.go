package as2

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/edigate/edigate/partners"
)

// Client sends files to partners over AS2; it implements gateway.Sender.
type Client struct {
	Identity   *Identity
	Partners   *partners.Directory
	HTTPClient *http.Client // default: 5 minute timeout
	Logger     *slog.Logger
	// AsyncURL is where partners with mdn.mode async post their MDNs
	// (Receipt-Delivery-Option); ReceiveMDN handles them there.
	AsyncURL string
	// Attempts bounds tries on network errors and 5xx answers (default 4);
	// Backoff is the first delay, doubled each time (default 2s).
	Attempts int
	Backoff  time.Duration
	// Lenient lists leniencies per partner ID (see LeniencyLibAS2MDNCRLF).
	Lenient map[string][]string
	// OnMDN, when set, is called with each async MDN that arrives.
	OnMDN func(*Result)

	mu      sync.Mutex
	pending map[string]*pendingMDN
}

// Result is the outcome of one sent message.
type Result struct {
	MessageID string
	Partner   string
	MIC       string // what we expect back: "base64, alg"
	MDN       *MDN   // nil when no MDN was asked for, or an async one is due
	Err       error  // for async results: why the MDN is not acceptable
}

type pendingMDN struct {
	partner  *partners.Partner
	mics     map[string]string // alg name -> mic
	signed   bool
	received bool
	done     chan *Result
}

// MDNError is a receipt that says the message was not processed, or one
// that cannot be trusted. It is permanent: sending again will not help.
type MDNError struct {
	MessageID string
	Reason    string
}

func (e *MDNError) Error() string { return "as2 message " + e.MessageID + ": " + e.Reason }

// RetryableError is a failure that may pass on a later try (network
// errors, 5xx answers) after the client's own attempts ran out.
type RetryableError struct{ Err error }

func (e *RetryableError) Error() string { return "as2 send (retryable): " + e.Err.Error() }
func (e *RetryableError) Unwrap() error { return e.Err }

func (c *Client) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// Send implements gateway.Sender.
func (c *Client) Send(ctx context.Context, partner, filename string, payload []byte) error {
	_, err := c.SendMessage(ctx, partner, filename, payload)
	return err
}

// SendMessage sends payload to a partner and, for sync MDNs, checks the
// receipt: its signature, its MIC and its disposition.
func (c *Client) SendMessage(ctx context.Context, partnerID, filename string, payload []byte) (*Result, error) {
	p, ok := c.Partners.ByID(partnerID)
	if !ok {
		return nil, fmt.Errorf("as2 send: unknown partner %q", partnerID)
	}
	a := p.Transports.AS2
	if a == nil || a.URL == "" {
		return nil, fmt.Errorf("as2 send: partner %s has no transports.as2.url", partnerID)
	}
	msgID := newMessageID()
	res := &Result{MessageID: msgID, Partner: p.ID}
	log := c.log().With("partner_id", p.ID, "as2_message_id", msgID)

	ctype := "application/octet-stream"
	if bytes.HasPrefix(bytes.TrimLeft(payload, "\xef\xbb\xbf \r\n"), []byte("ISA")) {
		ctype = "application/edi-x12"
	}
	fn := filepath.Base(filename)
	ent := part{headers: []header{
		{"Content-Type", ctype},
		{"Content-Transfer-Encoding", "binary"},
		{"Content-Disposition", fmt.Sprintf("attachment; filename=%q", fn)},
	}, body: payload}
	if a.Compress {
		z, err := compress(ent.bytes())
		if err != nil {
			return nil, fmt.Errorf("as2 send: compressing: %w", err)
		}
		ent = part{headers: []header{
			{"Content-Type", `application/pkcs7-mime; smime-type=compressed-data; name="smime.p7z"`},
			{"Content-Transfer-Encoding", "binary"},
			{"Content-Disposition", `attachment; filename="smime.p7z"`},
		}, body: z}
	}
	var micInput []byte
	signed := a.Sign != "" && a.Sign != "none"
	signName := "sha-256"
	if signed {
		h, name, ok := micAlg(a.Sign)
		if !ok {
			return nil, fmt.Errorf("as2 send: sign %q is not supported", a.Sign)
		}
		signName = name
		sp, content, err := signedPart(ent, c.Identity, h, name)
		if err != nil {
			return nil, fmt.Errorf("as2 send: %w", err)
		}
		micInput, ent = content, sp
	}
	if enc := a.Encrypt; enc != "" && enc != "none" {
		cert, err := partnerCert(p)
		if err != nil {
			return nil, fmt.Errorf("as2 send: %w", err)
		}
		inner := ent.bytes()
		if !signed {
			micInput = inner
		}
		env, err := encryptEnvelope(inner, cert, enc)
		if err != nil {
			return nil, fmt.Errorf("as2 send: encrypting: %w", err)
		}
		st := "enveloped-data"
		if strings.HasSuffix(enc, "-gcm") {
			st = "authEnveloped-data"
		}
		ent = part{headers: []header{
			{"Content-Type", `application/pkcs7-mime; smime-type=` + st + `; name="smime.p7m"`},
			{"Content-Transfer-Encoding", "binary"},
			{"Content-Disposition", `attachment; filename="smime.p7m"`},
		}, body: env}
	}
	if micInput == nil {
		micInput = ent.body
	}
	if hasLeniency(c.Lenient[p.ID], QuirkBase64Body) {
		for i, h := range ent.headers {
			if strings.EqualFold(h.name, "Content-Transfer-Encoding") {
				ent.headers = append(ent.headers[:i:i], ent.headers[i+1:]...)
				break
			}
		}
		ent.headers = append(ent.headers, header{"Content-Transfer-Encoding", "base64"})
		ent.body = []byte(base64Lines(ent.body))
	}
	mics := map[string]string{}
	for _, alg := range []string{"sha-256", "sha-1", "sha-384", "sha-512"} {
		h, n, _ := micAlg(alg)
		mics[n] = computeMIC(micInput, h, n)
	}
	res.MIC = mics[signName]

	mode := a.MDN.Mode
	if mode == "" {
		mode = "sync"
	}
	hdr := http.Header{}
	hdr.Set("AS2-Version", "1.2")
	hdr.Set("AS2-From", quoteAS2(c.Identity.AS2ID))
	hdr.Set("AS2-To", quoteAS2(a.ID))
	hdr.Set("Message-ID", "<"+msgID+">")
	hdr.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	hdr.Set("Subject", "EDI "+fn)
	hdr.Set("MIME-Version", "1.0")
	hdr.Set("User-Agent", "edigate")
	for _, h := range ent.headers {
		if !strings.EqualFold(h.name, "MIME-Version") {
			hdr.Set(h.name, h.value)
		}
	}
	var pend *pendingMDN
	if mode != "none" {
		hdr.Set("Disposition-Notification-To", c.Identity.AS2ID)
		if a.MDN.Signed {
			algs := []string{signName}
			for _, x := range []string{"sha-256", "sha-1"} {
				if x != signName {
					algs = append(algs, x)
				}
			}
			hdr.Set("Disposition-Notification-Options", "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, "+strings.Join(algs, ", "))
		}
		if mode == "async" {
			if c.AsyncURL == "" {
				return nil, errors.New("as2 send: partner wants async MDNs but the client has no AsyncURL")
			}
			hdr.Set("Receipt-Delivery-Option", c.AsyncURL)
			pend = &pendingMDN{partner: p, mics: mics, signed: a.MDN.Signed, done: make(chan *Result, 1)}
			c.mu.Lock()
			if c.pending == nil {
				c.pending = map[string]*pendingMDN{}
			}
			c.pending[msgID] = pend
			c.mu.Unlock()
		}
	}
	resp, body, err := c.post(ctx, a.URL, hdr, ent.body, log)
	if err != nil {
		if pend != nil {
			c.mu.Lock()
			delete(c.pending, msgID)
			c.mu.Unlock()
		}
		return res, err
	}
	if mode != "sync" {
		log.Info("as2: message sent", "mdn", mode)
		return res, nil
	}
	var raw bytes.Buffer
	fmt.Fprintf(&raw, "Content-Type: %s\r\n\r\n", resp.Header.Get("Content-Type"))
	raw.Write(body)
	mdn, err := c.checkMDN(p, raw.Bytes(), msgID, mics, a.MDN.Signed, log)
	res.MDN = mdn
	if err != nil {
		return res, err
	}
	log.Info("as2: message sent and confirmed", "mic", res.MIC)
	return res, nil
}

// post sends with retries on network errors and 5xx answers.
func (c *Client) post(ctx context.Context, url string, hdr http.Header, body []byte, log *slog.Logger) (*http.Response, []byte, error) {
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Minute}
	}
	attempts, backoff := c.Attempts, c.Backoff
	if attempts <= 0 {
		attempts = 4
	}
	if backoff <= 0 {
		backoff = 2 * time.Second
	}
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			log.Warn("as2: send failed, retrying", "attempt", i+1, "in", backoff, "err", last)
			select {
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			case <-time.After(backoff):
			}
			backoff *= 2
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return nil, nil, fmt.Errorf("as2 send: %w", err)
		}
		req.Header = hdr.Clone()
		req.ContentLength = int64(len(body))
		resp, err := hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			last = err
			continue
		}
		rb, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		resp.Body.Close()
		if err != nil {
			last = err
			continue
		}
		switch {
		case resp.StatusCode >= 500:
			last = fmt.Errorf("%s answered %s", url, resp.Status)
			continue
		case resp.StatusCode >= 300:
			return nil, nil, fmt.Errorf("as2 send: %s refused the message: %s: %s", url, resp.Status, strings.TrimSpace(string(rb)))
		}
		return resp, rb, nil
	}
	return nil, nil, &RetryableError{Err: last}
}

// checkMDN verifies a receipt for msgID.
func (c *Client) checkMDN(p *partners.Partner, raw []byte, msgID string, mics map[string]string, wantSigned bool, log *slog.Logger) (*MDN, error) {
	cert, err := partnerCert(p)
	if err != nil && wantSigned {
		return nil, &MDNError{msgID, "cannot verify the MDN: " + err.Error()}
	}
	mdn, err := readMDN(raw, cert, wantSigned, c.Lenient[p.ID], log, p.ID)
	if err != nil {
		return nil, &MDNError{msgID, err.Error()}
	}
	if mdn.OriginalMessageID != msgID {
		return mdn, &MDNError{msgID, "the MDN is for message " + mdn.OriginalMessageID}
	}
	if !mdn.Processed() {
		return mdn, &MDNError{msgID, "the partner answered " + mdn.Disposition}
	}
	got, alg := normalizeMIC(mdn.MIC)
	want, ok := mics[alg]
	if !ok {
		return mdn, &MDNError{msgID, fmt.Sprintf("the MDN's MIC %q uses an unknown algorithm", mdn.MIC)}
	}
	if w, _ := normalizeMIC(want); w != got {
		return mdn, &MDNError{msgID, fmt.Sprintf("the MDN's MIC %q is not ours %q", mdn.MIC, want)}
	}
	return mdn, nil
}

// ReceiveMDN is the http.Handler for async MDNs (mount it at AsyncURL, or
// set it as Server.MDNReceiver).
func (c *Client) ReceiveMDN(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		http.Error(w, "reading MDN", http.StatusBadRequest)
		return
	}
	raw := append([]byte("Content-Type: "+r.Header.Get("Content-Type")+"\r\n\r\n"), body...)
	// Read it unverified to find the message, then verify it with the
	// certificate of the partner the message was sent to.
	peek, err := readMDN(raw, nil, false, nil, c.log(), "")
	if err != nil {
		http.Error(w, "not an MDN: "+err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	pend := c.pending[peek.OriginalMessageID]
	if pend != nil && (c.OnMDN != nil || pend.received) {
		delete(c.pending, peek.OriginalMessageID) // WaitMDN removes it otherwise
	}
	if pend != nil && pend.received {
		pend = nil
	}
	if pend != nil {
		pend.received = true
	}
	c.mu.Unlock()
	if pend == nil {
		c.log().Warn("as2: async MDN for no message we are waiting on", "as2_message_id", peek.OriginalMessageID)
		http.Error(w, "unknown Original-Message-ID", http.StatusNotFound)
		return
	}
	log := c.log().With("partner_id", pend.partner.ID, "as2_message_id", peek.OriginalMessageID)
	mdn, err := c.checkMDN(pend.partner, raw, peek.OriginalMessageID, pend.mics, pend.signed, log)
	res := &Result{MessageID: peek.OriginalMessageID, Partner: pend.partner.ID, MDN: mdn, Err: err}
	if err != nil {
		log.Warn("as2: async MDN not accepted", "err", err)
	} else {
		log.Info("as2: async MDN confirmed")
	}
	pend.done <- res
	if c.OnMDN != nil {
		c.OnMDN(res)
	}
	w.WriteHeader(http.StatusOK)
}

// WaitMDN waits for the async MDN of a message sent by this client.
func (c *Client) WaitMDN(ctx context.Context, msgID string) (*Result, error) {
	c.mu.Lock()
	pend := c.pending[msgID]
	c.mu.Unlock()
	if pend == nil {
		return nil, fmt.Errorf("as2: no async MDN pending for %s", msgID)
	}
	select {
	case r := <-pend.done:
		c.mu.Lock()
		delete(c.pending, msgID)
		c.mu.Unlock()
		return r, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
