package as2

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/textproto"
	"strings"
)

// Dispositions (RFC 4130 §7.4.3 and §7.5.3, RFC 5402 §4).
const (
	DispositionProcessed = "processed"

	FailDecryption     = "decryption-failed"
	FailAuthentication = "authentication-failed"
	FailIntegrity      = "integrity-check-failed"
	FailUnexpected     = "unexpected-processing-error"
	FailInsufficient   = "insufficient-message-security"
	FailDecompression  = "decompression-failed"
)

// mdnFields is what a receipt says.
type mdnFields struct {
	reportingUA       string
	recipient         string // our AS2 id
	originalMessageID string
	mic               string // "base64, alg", or ""
	failure           string // "" when processed
	text              string // human-readable explanation
}

func (f mdnFields) disposition() string {
	d := "automatic-action/MDN-sent-automatically; processed"
	if f.failure != "" {
		d += "/error: " + f.failure
	}
	return d
}

// buildMDN makes an MDN entity (multipart/report), signed when id is not nil.
func buildMDN(f mdnFields, id *Identity, sign bool, micName string) ([]byte, error) {
	b := boundary()
	var body bytes.Buffer
	body.WriteString("--" + b + "\r\n")
	body.WriteString("Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
	body.WriteString(strings.ReplaceAll(f.text, "\n", "\r\n") + "\r\n")
	body.WriteString("--" + b + "\r\n")
	body.WriteString("Content-Type: message/disposition-notification\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
	body.WriteString("Reporting-UA: " + f.reportingUA + "\r\n")
	body.WriteString("Original-Recipient: rfc822; " + f.recipient + "\r\n")
	body.WriteString("Final-Recipient: rfc822; " + f.recipient + "\r\n")
	body.WriteString("Original-Message-ID: <" + f.originalMessageID + ">\r\n")
	if f.mic != "" {
		body.WriteString("Received-Content-MIC: " + f.mic + "\r\n")
	}
	body.WriteString("Disposition: " + f.disposition() + "\r\n")
	body.WriteString("\r\n--" + b + "--\r\n")
	report := part{
		headers: []header{{"Content-Type", fmt.Sprintf("multipart/report; report-type=disposition-notification; boundary=\"%s\"", b)}},
		body:    body.Bytes(),
	}
	if !sign {
		report.headers = append([]header{{"MIME-Version", "1.0"}}, report.headers...)
		return report.bytes(), nil
	}
	h, _, _ := micAlg(micName)
	signed, _, err := signedPart(report, id, h, micName)
	if err != nil {
		return nil, err
	}
	return signed.bytes(), nil
}

// MDN is a receipt as read by the sender.
type MDN struct {
	OriginalMessageID string
	Disposition       string
	MIC               string // Received-Content-MIC
	Signed            bool
	Text              string
}

// Processed says whether the disposition is processed without error.
func (m *MDN) Processed() bool {
	_, d, _ := strings.Cut(m.Disposition, ";")
	d = strings.ToLower(strings.TrimSpace(d))
	return d == "processed" || strings.HasPrefix(d, "processed/warning")
}

// Leniency names. Each is accepted only for partners it is enabled for,
// and logged every time it is used.
const (
	// LeniencyLibAS2MDNCRLF accepts an MDN signature computed over the
	// signed part less its final CRLF, as libas2 0.8.x signs its MDNs.
	LeniencyLibAS2MDNCRLF = "libas2-mdn-crlf"
	// QuirkBase64Body sends the HTTP body base64-encoded
	// (Content-Transfer-Encoding: base64) instead of binary, for receivers
	// such as libas2 0.8.x that read the body as text.
	QuirkBase64Body = "base64-body"
)

// readMDN parses (and, when cert is given, verifies) an MDN entity.
// requireSigned refuses unsigned MDNs.
func readMDN(raw []byte, cert *x509.Certificate, requireSigned bool, lenient []string, log *slog.Logger, partnerID string) (*MDN, error) {
	ent, err := parseEntity(raw)
	if err != nil {
		return nil, err
	}
	mt, params, err := ent.mediaType()
	if err != nil {
		return nil, err
	}
	m := &MDN{}
	if mt == "multipart/signed" {
		signed, sigPart, err := splitSigned(ent.Body, params["boundary"], "signed MDN")
		if err != nil {
			return nil, fmt.Errorf("mdn: %w", err)
		}
		sigEnt, err := parseEntity(sigPart)
		if err != nil {
			return nil, err
		}
		sig, err := sigEnt.decoded()
		if err != nil {
			return nil, err
		}
		if cert != nil {
			verr := verifyDetached(sig, signed, cert)
			if verr != nil && hasLeniency(lenient, LeniencyLibAS2MDNCRLF) {
				if c := bytes.TrimSuffix(signed, []byte("\r\n")); len(c) < len(signed) && verifyDetached(sig, c, cert) == nil {
					log.Warn("as2: accepting an MDN signed over one CRLF fewer than sent", "partner_id", partnerID, "leniency", LeniencyLibAS2MDNCRLF)
					verr = nil
				}
			}
			if verr != nil {
				return nil, fmt.Errorf("mdn: signature: %w", verr)
			}
		}
		m.Signed = true
		if ent, err = parseEntity(signed); err != nil {
			return nil, err
		}
		if mt, params, err = ent.mediaType(); err != nil {
			return nil, err
		}
	} else if requireSigned {
		return nil, errors.New("mdn: a signed MDN was asked for, but it is not signed")
	}
	if mt != "multipart/report" {
		return nil, fmt.Errorf("mdn: content type %s is not multipart/report", mt)
	}
	parts, err := splitMultipart(ent.Body, params["boundary"])
	if err != nil {
		return nil, err
	}
	found := false
	for _, p := range parts {
		pe, err := parseEntity(p)
		if err != nil {
			return nil, err
		}
		pt, _, _ := pe.mediaType()
		body, err := pe.decoded()
		if err != nil {
			return nil, err
		}
		switch pt {
		case "message/disposition-notification":
			r := textproto.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(bytes.TrimLeft(body, "\r\n")), strings.NewReader("\r\n\r\n"))))
			h, err := r.ReadMIMEHeader()
			if err != nil {
				return nil, fmt.Errorf("mdn: disposition fields: %w", err)
			}
			m.OriginalMessageID = messageID(h.Get("Original-Message-ID"))
			m.Disposition = strings.TrimSpace(h.Get("Disposition"))
			m.MIC = strings.TrimSpace(h.Get("Received-Content-MIC"))
			found = true
		case "text/plain":
			m.Text = string(body)
		}
	}
	if !found {
		return nil, errors.New("mdn: no message/disposition-notification part")
	}
	return m, nil
}

func hasLeniency(l []string, name string) bool {
	for _, x := range l {
		if x == name {
			return true
		}
	}
	return false
}

// isMDN tells an MDN from a message by its content type.
func isMDN(contentType string, body []byte) bool {
	ct := strings.ToLower(contentType)
	if strings.HasPrefix(ct, "multipart/report") {
		return true
	}
	if strings.HasPrefix(ct, "multipart/signed") {
		head := body
		if len(head) > 2048 {
			head = head[:2048]
		}
		return bytes.Contains(bytes.ToLower(head), []byte("content-type: multipart/report"))
	}
	return false
}
