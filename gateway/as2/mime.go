package as2

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
)

// entity is a MIME entity: its header and its (still encoded) body.
type entity struct {
	Header textproto.MIMEHeader
	Body   []byte
}

// parseEntity splits raw MIME bytes into header and body.
func parseEntity(raw []byte) (*entity, error) {
	end, sep := -1, 0
	switch {
	case bytes.HasPrefix(raw, []byte("\r\n")):
		end, sep = 0, 2
	case bytes.HasPrefix(raw, []byte("\n")):
		end, sep = 0, 1
	default:
		crlf := bytes.Index(raw, []byte("\r\n\r\n"))
		lf := bytes.Index(raw, []byte("\n\n"))
		switch {
		case crlf >= 0 && (lf < 0 || crlf+1 <= lf):
			end, sep = crlf+2, 2
		case lf >= 0:
			end, sep = lf+1, 1
		}
	}
	if end < 0 {
		return nil, errors.New("mime: no end of headers")
	}
	h := textproto.MIMEHeader{}
	if end > 0 {
		var err error
		r := textproto.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(raw[:end]), strings.NewReader("\r\n"))))
		h, err = r.ReadMIMEHeader()
		if err != nil {
			return nil, fmt.Errorf("mime: reading headers: %w", err)
		}
	}
	return &entity{Header: h, Body: raw[end+sep:]}, nil
}

// mediaType returns the entity's lowercased media type and parameters.
func (e *entity) mediaType() (string, map[string]string, error) {
	ct := e.Header.Get("Content-Type")
	if ct == "" {
		return "text/plain", map[string]string{}, nil
	}
	t, p, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", nil, fmt.Errorf("mime: content type %q: %w", ct, err)
	}
	return strings.ToLower(t), p, nil
}

// decoded returns the body with its Content-Transfer-Encoding undone.
func (e *entity) decoded() ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(e.Header.Get("Content-Transfer-Encoding"))) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, e.Body)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil {
			return nil, fmt.Errorf("mime: base64 body: %w", err)
		}
		return out[:n], nil
	case "quoted-printable":
		return io.ReadAll(quotedprintable.NewReader(bytes.NewReader(e.Body)))
	}
	return e.Body, nil
}

// filename returns the Content-Disposition filename, if any.
func (e *entity) filename() string {
	if cd := e.Header.Get("Content-Disposition"); cd != "" {
		if _, p, err := mime.ParseMediaType(cd); err == nil {
			return p["filename"]
		}
	}
	if _, p, err := e.mediaType(); err == nil {
		return p["name"]
	}
	return ""
}

// splitSigned splits a multipart/signed body into the signed part and the
// signature part (RFC 1847: exactly two); errors begin with what, the
// name of what is read.
func splitSigned(body []byte, boundary, what string) (signed, sig []byte, err error) {
	parts, err := splitMultipart(body, boundary)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(parts) != 2 {
		return nil, nil, fmt.Errorf("%s has %d parts, not two", what, len(parts))
	}
	return parts[0], parts[1], nil
}

// splitMultipart returns the raw bytes of each body part (headers and
// body, without the CRLF that belongs to the next delimiter).
func splitMultipart(body []byte, boundary string) ([][]byte, error) {
	if boundary == "" {
		return nil, errors.New("mime: multipart without boundary")
	}
	delim := []byte("--" + boundary)
	var starts []int // index of each delimiter's "--"
	var ends []int   // where the part before that delimiter ends
	for i := 0; i <= len(body)-len(delim); {
		j := bytes.Index(body[i:], delim)
		if j < 0 {
			break
		}
		k := i + j
		if k == 0 || body[k-1] == '\n' {
			e := k
			if k > 0 {
				e = k - 1
				if e > 0 && body[e-1] == '\r' {
					e--
				}
			}
			starts = append(starts, k)
			ends = append(ends, e)
		}
		i = k + len(delim)
	}
	var parts [][]byte
	for n, k := range starts {
		after := k + len(delim)
		if bytes.HasPrefix(body[after:], []byte("--")) {
			return parts, nil
		}
		nl := bytes.IndexByte(body[after:], '\n')
		if nl < 0 || n+1 >= len(starts) {
			break
		}
		start, end := after+nl+1, ends[n+1]
		if start > end {
			// The delimiter line's own line break is the one that
			// belongs to the next delimiter: the part is empty.
			end = start
		}
		parts = append(parts, body[start:end])
	}
	return nil, errors.New("mime: multipart without closing delimiter")
}

// canonicalCRLF turns bare LF line ends into CRLF.
func canonicalCRLF(b []byte) []byte {
	if !bytes.Contains(b, []byte("\n")) {
		return b
	}
	var out bytes.Buffer
	out.Grow(len(b) + len(b)/40)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out.WriteByte('\r')
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}

// header is one ordered MIME header line.
type header struct{ name, value string }

// part is a MIME entity we build.
type part struct {
	headers []header
	body    []byte
}

func (p part) get(name string) string {
	for _, h := range p.headers {
		if strings.EqualFold(h.name, name) {
			return h.value
		}
	}
	return ""
}

func (p part) bytes() []byte {
	var b bytes.Buffer
	for _, h := range p.headers {
		b.WriteString(h.name + ": " + h.value + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(p.body)
	return b.Bytes()
}

// signedPart wraps p in multipart/signed with a detached signature.
func signedPart(p part, id *Identity, h crypto.Hash, micName string) (part, []byte, error) {
	content := p.bytes()
	sig, err := signDetached(content, id, h)
	if err != nil {
		return part{}, nil, fmt.Errorf("signing: %w", err)
	}
	b := boundary()
	var body bytes.Buffer
	body.WriteString("--" + b + "\r\n")
	body.Write(content)
	body.WriteString("\r\n--" + b + "\r\n")
	body.WriteString("Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n")
	body.WriteString("Content-Transfer-Encoding: base64\r\n")
	body.WriteString("Content-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n")
	body.WriteString(base64Lines(sig))
	body.WriteString("--" + b + "--\r\n")
	return part{
		headers: []header{
			{"MIME-Version", "1.0"},
			{"Content-Type", fmt.Sprintf("multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=%s; boundary=\"%s\"", micName, b)},
		},
		body: body.Bytes(),
	}, content, nil
}

func base64Lines(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	out.WriteString(s + "\r\n")
	return out.String()
}

func boundary() string {
	var b [16]byte
	rand.Read(b[:])
	return "----=_edigate_" + hex.EncodeToString(b[:])
}

// computeMIC returns "base64digest, alg" for data.
func computeMIC(data []byte, h crypto.Hash, name string) string {
	d := h.New()
	d.Write(data)
	return base64.StdEncoding.EncodeToString(d.Sum(nil)) + ", " + name
}

// normalizeMIC makes two MIC values comparable ("abc=, SHA256" == "abc=,sha-256").
func normalizeMIC(s string) (string, string) {
	v, alg, _ := strings.Cut(s, ",")
	alg = strings.TrimSpace(alg)
	if _, n, ok := micAlg(alg); ok {
		alg = n
	}
	return strings.TrimSpace(v), alg
}

// messageID normalizes a Message-ID for comparison (angle brackets off).
func messageID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "<")
	return strings.TrimSuffix(s, ">")
}

// unquoteAS2 reads an AS2-From/AS2-To value (quoted when it has spaces).
func unquoteAS2(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = strings.ReplaceAll(s[1:len(s)-1], `\"`, `"`)
	}
	return s
}

func quoteAS2(s string) string {
	if strings.ContainsAny(s, " \t\"") {
		return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
	}
	return s
}

// dispositionOptions is a parsed Disposition-Notification-Options header.
type dispositionOptions struct {
	signed  bool     // signed-receipt-protocol includes pkcs7-signature
	micalgs []string // signed-receipt-micalg, in preference order
}

func parseDispositionOptions(s string) dispositionOptions {
	var o dispositionOptions
	for _, param := range strings.Split(s, ";") {
		name, val, ok := strings.Cut(param, "=")
		if !ok {
			continue
		}
		vals := strings.Split(val, ",")
		if len(vals) < 2 {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "signed-receipt-protocol":
			for _, v := range vals[1:] {
				if strings.EqualFold(strings.TrimSpace(v), "pkcs7-signature") {
					o.signed = true
				}
			}
		case "signed-receipt-micalg":
			for _, v := range vals[1:] {
				o.micalgs = append(o.micalgs, strings.TrimSpace(v))
			}
		}
	}
	return o
}

// micAlgorithm picks the first supported algorithm of the options, or fallback.
func (o dispositionOptions) micAlgorithm(fallback string) (crypto.Hash, string) {
	for _, a := range o.micalgs {
		if h, n, ok := micAlg(a); ok {
			return h, n
		}
	}
	if h, n, ok := micAlg(fallback); ok {
		return h, n
	}
	return crypto.SHA256, "sha-256"
}
