package as2

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strings"

	"github.com/smallstep/pkcs7"
)

var (
	oidData              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEnvelopedData     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	oidAuthEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 23}
	oidCompressedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 9}
	oidZlib              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 3, 8}

	oidRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSAOAEP = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}
	oidMGF1    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}

	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidAES128GCM  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 6}
	oidAES192GCM  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 26}
	oidAES256GCM  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}

	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// contentCipher describes a content-encryption algorithm.
type contentCipher struct {
	name   string
	oid    asn1.ObjectIdentifier
	keyLen int
	gcm    bool
	des3   bool
}

var contentCiphers = []contentCipher{
	{"3des", oidDESEDE3CBC, 24, false, true},
	{"aes128-cbc", oidAES128CBC, 16, false, false},
	{"aes192-cbc", oidAES192CBC, 24, false, false},
	{"aes256-cbc", oidAES256CBC, 32, false, false},
	{"aes128-gcm", oidAES128GCM, 16, true, false},
	{"aes192-gcm", oidAES192GCM, 24, true, false},
	{"aes256-gcm", oidAES256GCM, 32, true, false},
}

func cipherByName(name string) (contentCipher, bool) {
	for _, c := range contentCiphers {
		if c.name == name {
			return c, true
		}
	}
	return contentCipher{}, false
}

func cipherByOID(oid asn1.ObjectIdentifier) (contentCipher, bool) {
	for _, c := range contentCiphers {
		if c.oid.Equal(oid) {
			return c, true
		}
	}
	return contentCipher{}, false
}

func hashByOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidSHA1):
		return crypto.SHA1, true
	case oid.Equal(oidSHA224):
		return crypto.SHA224, true
	case oid.Equal(oidSHA256):
		return crypto.SHA256, true
	case oid.Equal(oidSHA384):
		return crypto.SHA384, true
	case oid.Equal(oidSHA512):
		return crypto.SHA512, true
	}
	return 0, false
}

// ---- BER ----

// berToDER rewrites BER (indefinite lengths, constructed OCTET STRINGs) as
// DER-style definite-length encoding that encoding/asn1 accepts.
func berToDER(b []byte) ([]byte, error) {
	out, rest, err := berElem(b, 0)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimRight(rest, "\x00")) != 0 {
		return nil, errors.New("asn1: trailing data")
	}
	return out, nil
}

func berElem(b []byte, depth int) (out, rest []byte, err error) {
	if depth > 64 {
		return nil, nil, errors.New("asn1: nesting too deep")
	}
	if len(b) < 2 {
		return nil, nil, errors.New("asn1: truncated element")
	}
	i := 1
	if b[0]&0x1f == 0x1f {
		// High tag number, base 128: minimal and within an int32, as
		// encoding/asn1 reads it afterwards.
		tag := 0
		for {
			if i >= len(b) {
				return nil, nil, errors.New("asn1: truncated tag")
			}
			c := b[i]
			if i == 1 && c == 0x80 {
				return nil, nil, errors.New("asn1: tag number has leading zeros")
			}
			if i == 6 {
				return nil, nil, errors.New("asn1: tag number too large")
			}
			tag = tag<<7 | int(c&0x7f)
			i++
			if c&0x80 == 0 {
				break
			}
		}
		if tag > math.MaxInt32 {
			return nil, nil, errors.New("asn1: tag number too large")
		}
		if tag < 0x1f {
			return nil, nil, fmt.Errorf("asn1: tag number %d in the long form", tag)
		}
	}
	if i >= len(b) {
		return nil, nil, errors.New("asn1: truncated tag")
	}
	ident := b[:i]
	constructed := b[0]&0x20 != 0
	l := int(b[i])
	i++
	indefinite := false
	var content []byte
	switch {
	case l == 0x80:
		if !constructed {
			return nil, nil, errors.New("asn1: indefinite length on a primitive element")
		}
		indefinite = true
	case l > 0x80:
		n := l & 0x7f
		if n > 4 || i+n > len(b) {
			return nil, nil, errors.New("asn1: bad length")
		}
		l = 0
		for _, c := range b[i : i+n] {
			l = l<<8 | int(c)
		}
		i += n
		fallthrough
	default:
		if l < 0 || i+l > len(b) {
			return nil, nil, errors.New("asn1: length beyond data")
		}
		content, rest = b[i:i+l], b[i+l:]
	}
	if !constructed {
		return appendTLV(nil, ident, content), rest, nil
	}
	var children [][]byte
	if indefinite {
		rest = b[i:]
		for {
			if len(rest) >= 2 && rest[0] == 0 && rest[1] == 0 {
				rest = rest[2:]
				break
			}
			var c []byte
			c, rest, err = berElem(rest, depth+1)
			if err != nil {
				return nil, nil, err
			}
			children = append(children, c)
		}
	} else {
		for len(content) > 0 {
			var c []byte
			c, content, err = berElem(content, depth+1)
			if err != nil {
				return nil, nil, err
			}
			children = append(children, c)
		}
	}
	var body []byte
	if b[0] == 0x24 { // constructed OCTET STRING: join the segments
		for _, c := range children {
			var seg []byte
			if _, err := asn1.Unmarshal(c, &seg); err != nil {
				return nil, nil, err
			}
			body = append(body, seg...)
		}
		return appendTLV(nil, []byte{0x04}, body), rest, nil
	}
	for _, c := range children {
		body = append(body, c...)
	}
	return appendTLV(nil, ident, body), rest, nil
}

func appendTLV(dst, ident, content []byte) []byte {
	dst = append(dst, ident...)
	n := len(content)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	default:
		var lb []byte
		for x := n; x > 0; x >>= 8 {
			lb = append([]byte{byte(x)}, lb...)
		}
		dst = append(dst, 0x80|byte(len(lb)))
		dst = append(dst, lb...)
	}
	return append(dst, content...)
}

// elements returns the elements inside a constructed value.
func elements(b []byte) ([]asn1.RawValue, error) {
	var out []asn1.RawValue
	for len(b) > 0 {
		var rv asn1.RawValue
		rest, err := asn1.Unmarshal(b, &rv)
		if err != nil {
			return nil, err
		}
		out = append(out, rv)
		b = rest
	}
	return out, nil
}

// octets returns the bytes of an OCTET STRING, or of an implicitly tagged
// one in primitive or constructed form.
func octets(rv asn1.RawValue) ([]byte, error) {
	if !rv.IsCompound {
		return rv.Bytes, nil
	}
	els, err := elements(rv.Bytes)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, e := range els {
		o, err := octets(e)
		if err != nil {
			return nil, err
		}
		out = append(out, o...)
	}
	return out, nil
}

// contentInfo splits a CMS ContentInfo into its type and [0] content.
func parseContentInfo(data []byte) (asn1.ObjectIdentifier, []byte, error) {
	der, err := berToDER(data)
	if err != nil {
		return nil, nil, err
	}
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		return nil, nil, err
	}
	els, err := elements(seq.Bytes)
	if err != nil {
		return nil, nil, err
	}
	if len(els) < 2 || els[1].Class != asn1.ClassContextSpecific || els[1].Tag != 0 {
		return nil, nil, errors.New("cms: not a ContentInfo")
	}
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(els[0].FullBytes, &oid); err != nil {
		return nil, nil, err
	}
	return oid, els[1].Bytes, nil
}

// ---- enveloping ----

// ErrNoRecipient means the message was not encrypted for our certificate.
var ErrNoRecipient = errors.New("cms: not encrypted for our certificate")

// decryptEnvelope decrypts CMS EnvelopedData or AuthEnvelopedData.
func decryptEnvelope(data []byte, cert *x509.Certificate, key *rsa.PrivateKey) ([]byte, error) {
	ct, inner, err := parseContentInfo(data)
	if err != nil {
		return nil, err
	}
	auth := ct.Equal(oidAuthEnvelopedData)
	if !auth && !ct.Equal(oidEnvelopedData) {
		return nil, fmt.Errorf("cms: content type %v is not enveloped data", ct)
	}
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(inner, &seq); err != nil {
		return nil, err
	}
	els, err := elements(seq.Bytes)
	if err != nil {
		return nil, err
	}
	i := 1 // after version
	if i < len(els) && els[i].Class == asn1.ClassContextSpecific && els[i].Tag == 0 {
		i++ // originatorInfo
	}
	if i+1 >= len(els) {
		return nil, errors.New("cms: truncated enveloped data")
	}
	recips, err := elements(els[i].Bytes)
	if err != nil {
		return nil, err
	}
	eciEls, err := elements(els[i+1].Bytes)
	if err != nil {
		return nil, err
	}
	var authAttrs, mac []byte
	if auth {
		for _, e := range els[i+2:] {
			switch {
			case e.Class == asn1.ClassContextSpecific && e.Tag == 1:
				// AAD is the DER of the attributes with the SET OF tag.
				authAttrs = append([]byte{0x31}, e.FullBytes[1:]...)
			case e.Class == asn1.ClassUniversal && e.Tag == asn1.TagOctetString:
				mac = e.Bytes
			}
		}
	}
	cek, err := recipientKey(recips, cert, key)
	if err != nil {
		return nil, err
	}
	if len(eciEls) < 3 {
		return nil, errors.New("cms: no encrypted content")
	}
	var alg pkix.AlgorithmIdentifier
	if _, err := asn1.Unmarshal(eciEls[1].FullBytes, &alg); err != nil {
		return nil, err
	}
	ciphertext, err := octets(eciEls[2])
	if err != nil {
		return nil, err
	}
	cc, ok := cipherByOID(alg.Algorithm)
	if !ok {
		return nil, fmt.Errorf("cms: content encryption algorithm %v is not supported", alg.Algorithm)
	}
	if len(cek) != cc.keyLen {
		return nil, errors.New("cms: content key has the wrong length")
	}
	var block cipher.Block
	if cc.des3 {
		block, err = des.NewTripleDESCipher(cek)
	} else {
		block, err = aes.NewCipher(cek)
	}
	if err != nil {
		return nil, err
	}
	if cc.gcm {
		var params struct {
			Nonce  []byte
			ICVLen int `asn1:"optional,default:12"`
		}
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &params); err != nil {
			return nil, fmt.Errorf("cms: gcm parameters: %w", err)
		}
		g, err := cipher.NewGCMWithNonceSize(block, len(params.Nonce))
		if err != nil {
			return nil, err
		}
		if auth {
			ciphertext = append(ciphertext, mac...)
		}
		return g.Open(nil, params.Nonce, ciphertext, authAttrs)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &iv); err != nil || len(iv) != block.BlockSize() {
		return nil, errors.New("cms: bad cbc iv")
	}
	if len(ciphertext) == 0 || len(ciphertext)%block.BlockSize() != 0 {
		return nil, errors.New("cms: ciphertext is not whole blocks")
	}
	plain := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ciphertext)
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > block.BlockSize() {
		return nil, errors.New("cms: bad padding")
	}
	for _, c := range plain[len(plain)-pad:] {
		if int(c) != pad {
			return nil, errors.New("cms: bad padding")
		}
	}
	return plain[:len(plain)-pad], nil
}

// recipientKey finds our KeyTransRecipientInfo and decrypts the content key.
func recipientKey(recips []asn1.RawValue, cert *x509.Certificate, key *rsa.PrivateKey) ([]byte, error) {
	var lastErr error = ErrNoRecipient
	for _, r := range recips {
		if r.Class != asn1.ClassUniversal || r.Tag != asn1.TagSequence {
			continue // not key transport
		}
		f, err := elements(r.Bytes)
		if err != nil || len(f) < 4 {
			continue
		}
		if !ridMatches(f[1], cert) {
			continue
		}
		var kea pkix.AlgorithmIdentifier
		if _, err := asn1.Unmarshal(f[2].FullBytes, &kea); err != nil {
			return nil, err
		}
		ek := f[3].Bytes
		switch {
		case kea.Algorithm.Equal(oidRSA):
			k, err := rsa.DecryptPKCS1v15(nil, key, ek)
			if err != nil {
				lastErr = err
				continue
			}
			return k, nil
		case kea.Algorithm.Equal(oidRSAOAEP):
			h, mh, err := oaepHashes(kea.Parameters.FullBytes)
			if err != nil {
				return nil, err
			}
			k, err := key.Decrypt(nil, ek, &rsa.OAEPOptions{Hash: h, MGFHash: mh})
			if err != nil {
				lastErr = err
				continue
			}
			return k, nil
		default:
			lastErr = fmt.Errorf("cms: key transport %v is not supported", kea.Algorithm)
		}
	}
	return nil, lastErr
}

func ridMatches(rid asn1.RawValue, cert *x509.Certificate) bool {
	if rid.Class == asn1.ClassContextSpecific && rid.Tag == 0 {
		return len(cert.SubjectKeyId) > 0 && bytes.Equal(rid.Bytes, cert.SubjectKeyId)
	}
	var ias struct {
		Issuer asn1.RawValue
		Serial *big.Int
	}
	if _, err := asn1.Unmarshal(rid.FullBytes, &ias); err != nil {
		return false
	}
	return bytes.Equal(ias.Issuer.FullBytes, cert.RawIssuer) && ias.Serial.Cmp(cert.SerialNumber) == 0
}

// oaepHashes reads RSAES-OAEP-params (defaults SHA-1 / MGF1-SHA-1).
func oaepHashes(params []byte) (crypto.Hash, crypto.Hash, error) {
	h, mh := crypto.SHA1, crypto.SHA1
	if len(params) == 0 || bytes.Equal(params, asn1.NullBytes) {
		return h, mh, nil
	}
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(params, &seq); err != nil {
		return 0, 0, err
	}
	els, err := elements(seq.Bytes)
	if err != nil {
		return 0, 0, err
	}
	for _, e := range els {
		if e.Class != asn1.ClassContextSpecific {
			continue
		}
		var alg pkix.AlgorithmIdentifier
		if _, err := asn1.Unmarshal(e.Bytes, &alg); err != nil {
			return 0, 0, err
		}
		switch e.Tag {
		case 0:
			x, ok := hashByOID(alg.Algorithm)
			if !ok {
				return 0, 0, fmt.Errorf("cms: oaep hash %v not supported", alg.Algorithm)
			}
			h = x
		case 1:
			if !alg.Algorithm.Equal(oidMGF1) {
				return 0, 0, fmt.Errorf("cms: mask generation %v not supported", alg.Algorithm)
			}
			var mha pkix.AlgorithmIdentifier
			if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &mha); err != nil {
				return 0, 0, err
			}
			x, ok := hashByOID(mha.Algorithm)
			if !ok {
				return 0, 0, fmt.Errorf("cms: mgf1 hash %v not supported", mha.Algorithm)
			}
			mh = x
		}
	}
	return h, mh, nil
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type keyTransRecipient struct {
	Version      int
	RID          issuerAndSerial
	KEA          pkix.AlgorithmIdentifier
	EncryptedKey []byte
}

type encryptedContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Algorithm   pkix.AlgorithmIdentifier
	Content     asn1.RawValue
}

type envelopedData struct {
	Version    int
	Recipients []keyTransRecipient `asn1:"set"`
	Content    encryptedContentInfo
}

type authEnvelopedData struct {
	Version    int
	Recipients []keyTransRecipient `asn1:"set"`
	Content    encryptedContentInfo
	MAC        []byte
}

// encryptEnvelope encrypts content for the recipient certificate with RSA
// PKCS#1 v1.5 key transport: EnvelopedData for CBC ciphers,
// AuthEnvelopedData (RFC 5083/5084) for AES-GCM.
func encryptEnvelope(content []byte, to *x509.Certificate, algName string) ([]byte, error) {
	cc, ok := cipherByName(algName)
	if !ok {
		return nil, fmt.Errorf("cms: encryption %q is not supported", algName)
	}
	pub, ok := to.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("cms: the recipient certificate has no RSA key")
	}
	cek := make([]byte, cc.keyLen)
	if _, err := io.ReadFull(rand.Reader, cek); err != nil {
		return nil, err
	}
	if cc.des3 {
		fixDESParity(cek)
	}
	ek, err := rsa.EncryptPKCS1v15(rand.Reader, pub, cek)
	if err != nil {
		return nil, err
	}
	recip := keyTransRecipient{
		RID:          issuerAndSerial{Issuer: asn1.RawValue{FullBytes: to.RawIssuer}, Serial: to.SerialNumber},
		KEA:          pkix.AlgorithmIdentifier{Algorithm: oidRSA, Parameters: asn1.NullRawValue},
		EncryptedKey: ek,
	}
	var block cipher.Block
	if cc.des3 {
		block, err = des.NewTripleDESCipher(cek)
	} else {
		block, err = aes.NewCipher(cek)
	}
	if err != nil {
		return nil, err
	}
	var inner []byte
	var ctype asn1.ObjectIdentifier
	if cc.gcm {
		g, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		nonce := make([]byte, g.NonceSize())
		if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
			return nil, err
		}
		params, err := asn1.Marshal(struct {
			Nonce  []byte
			ICVLen int
		}{nonce, g.Overhead()})
		if err != nil {
			return nil, err
		}
		sealed := g.Seal(nil, nonce, content, nil)
		n := len(sealed) - g.Overhead()
		inner, err = asn1.Marshal(authEnvelopedData{
			Recipients: []keyTransRecipient{recip},
			Content: encryptedContentInfo{
				ContentType: oidData,
				Algorithm:   pkix.AlgorithmIdentifier{Algorithm: cc.oid, Parameters: asn1.RawValue{FullBytes: params}},
				Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: sealed[:n]},
			},
			MAC: sealed[n:],
		})
		if err != nil {
			return nil, err
		}
		ctype = oidAuthEnvelopedData
	} else {
		iv := make([]byte, block.BlockSize())
		if _, err := io.ReadFull(rand.Reader, iv); err != nil {
			return nil, err
		}
		pad := block.BlockSize() - len(content)%block.BlockSize()
		buf := make([]byte, len(content)+pad)
		copy(buf, content)
		for i := len(content); i < len(buf); i++ {
			buf[i] = byte(pad)
		}
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
		ivb, _ := asn1.Marshal(iv)
		inner, err = asn1.Marshal(envelopedData{
			Recipients: []keyTransRecipient{recip},
			Content: encryptedContentInfo{
				ContentType: oidData,
				Algorithm:   pkix.AlgorithmIdentifier{Algorithm: cc.oid, Parameters: asn1.RawValue{FullBytes: ivb}},
				Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: buf},
			},
		})
		if err != nil {
			return nil, err
		}
		ctype = oidEnvelopedData
	}
	return marshalContentInfo(ctype, inner)
}

func marshalContentInfo(ct asn1.ObjectIdentifier, inner []byte) ([]byte, error) {
	return asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue
	}{ct, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}})
}

func fixDESParity(k []byte) {
	for i, b := range k {
		b &^= 1
		p := b ^ b>>4
		p ^= p >> 2
		p ^= p >> 1
		if p&1 == 0 {
			b |= 1
		}
		k[i] = b
	}
}

// ---- compression (RFC 3274) ----

type compressedData struct {
	Version   int
	Algorithm pkix.AlgorithmIdentifier
	Encap     struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue // [0] EXPLICIT OCTET STRING
	}
}

// compress wraps data in CMS CompressedData (zlib).
func compress(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	os, err := asn1.Marshal(buf.Bytes())
	if err != nil {
		return nil, err
	}
	var cd compressedData
	cd.Algorithm = pkix.AlgorithmIdentifier{Algorithm: oidZlib}
	cd.Encap.ContentType = oidData
	cd.Encap.Content = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: os}
	inner, err := asn1.Marshal(cd)
	if err != nil {
		return nil, err
	}
	return marshalContentInfo(oidCompressedData, inner)
}

// decompress unwraps CMS CompressedData, refusing more than limit bytes.
func decompress(data []byte, limit int64) ([]byte, error) {
	ct, inner, err := parseContentInfo(data)
	if err != nil {
		return nil, err
	}
	if !ct.Equal(oidCompressedData) {
		return nil, fmt.Errorf("cms: content type %v is not compressed data", ct)
	}
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(inner, &seq); err != nil {
		return nil, err
	}
	els, err := elements(seq.Bytes)
	if err != nil || len(els) < 3 {
		return nil, errors.New("cms: malformed compressed data")
	}
	var alg pkix.AlgorithmIdentifier
	if _, err := asn1.Unmarshal(els[1].FullBytes, &alg); err != nil {
		return nil, err
	}
	if !alg.Algorithm.Equal(oidZlib) {
		return nil, fmt.Errorf("cms: compression %v is not zlib", alg.Algorithm)
	}
	encap, err := elements(els[2].Bytes)
	if err != nil || len(encap) < 2 {
		return nil, errors.New("cms: compressed data has no content")
	}
	wrapped, err := elements(encap[1].Bytes)
	if err != nil || len(wrapped) != 1 {
		return nil, errors.New("cms: malformed compressed content")
	}
	z, err := octets(wrapped[0])
	if err != nil {
		return nil, err
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(out)) > limit {
		return nil, errors.New("cms: compressed content expands beyond the size limit")
	}
	return out, nil
}

// ---- signatures ----

// micAlgs maps AS2 names (RFC 5751 micalg) to hashes and digest OIDs.
var micAlgs = []struct {
	names []string
	hash  crypto.Hash
	oid   asn1.ObjectIdentifier
}{
	{[]string{"sha-256", "sha256", "sha-2-256"}, crypto.SHA256, oidSHA256},
	{[]string{"sha-384", "sha384", "sha-2-384"}, crypto.SHA384, oidSHA384},
	{[]string{"sha-512", "sha512", "sha-2-512"}, crypto.SHA512, oidSHA512},
	{[]string{"sha-1", "sha1", "sha"}, crypto.SHA1, oidSHA1},
}

// micAlg returns the hash and the canonical RFC 5751 name of an algorithm
// named as in micalg or the partner YAML (sha256, sha-256).
func micAlg(name string) (crypto.Hash, string, bool) {
	for _, a := range micAlgs {
		for _, n := range a.names {
			if strings.EqualFold(n, name) {
				return a.hash, a.names[0], true
			}
		}
	}
	return 0, "", false
}

func digestOID(h crypto.Hash) asn1.ObjectIdentifier {
	for _, a := range micAlgs {
		if a.hash == h {
			return a.oid
		}
	}
	return oidSHA256
}

// signDetached makes a detached CMS signature (DER) over data.
func signDetached(data []byte, id *Identity, h crypto.Hash) ([]byte, error) {
	sd, err := pkcs7.NewSignedData(data)
	if err != nil {
		return nil, err
	}
	sd.SetDigestAlgorithm(digestOID(h))
	if err := sd.AddSigner(id.Cert, id.Key, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, err
	}
	sd.Detach()
	return sd.Finish()
}

// errIntegrity marks a signature whose content digest does not match.
var errIntegrity = errors.New("the content digest does not match the signature")

// verifyDetached checks a detached CMS signature over data, made by the
// holder of cert (certificates carried in the signature are not trusted).
func verifyDetached(sig, data []byte, cert *x509.Certificate) error {
	p7, err := pkcs7.Parse(sig)
	if err != nil {
		// pkcs7 reads indefinite lengths but not OCTET STRINGs split into
		// segments, which streaming CMS writers produce: try it as DER.
		if der, derErr := berToDER(sig); derErr == nil {
			if p, derErr := pkcs7.Parse(der); derErr == nil {
				p7, err = p, nil
			}
		}
	}
	if err != nil {
		return fmt.Errorf("reading signature: %w", err)
	}
	if cert == nil {
		return errors.New("no certificate configured for the partner")
	}
	p7.Content = data
	p7.Certificates = []*x509.Certificate{cert}
	if err := p7.Verify(); err != nil {
		var mm *pkcs7.MessageDigestMismatchError
		if errors.As(err, &mm) {
			return fmt.Errorf("%w: %v", errIntegrity, err)
		}
		return err
	}
	return nil
}
