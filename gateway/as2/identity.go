// Package as2 is the AS2 transport (RFC 4130): a Server (an http.Handler
// mounted at POST /as2) that receives signed, encrypted and compressed
// messages from partners and answers with MDNs, and a Client
// (a gateway.Sender) that sends files to partners and checks their MDNs.
//
// CMS enveloping (EnvelopedData and AuthEnvelopedData), compression
// (RFC 3274) and BER handling are implemented here on encoding/asn1, so no
// package-level algorithm variables are involved and partners can use
// different algorithms concurrently; CMS signatures use
// github.com/smallstep/pkcs7.
package as2

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Identity is the gateway's own AS2 identity.
type Identity struct {
	AS2ID string
	Key   crypto.Signer // *rsa.PrivateKey
	Cert  *x509.Certificate
}

// CertificatePEM returns the public certificate, PEM-encoded.
func (id *Identity) CertificatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Cert.Raw})
}

func (id *Identity) rsaKey() (*rsa.PrivateKey, error) {
	k, ok := id.Key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("as2 identity key is %T, not an RSA key", id.Key)
	}
	return k, nil
}

// Identity files under the data directory.
const (
	keyFile  = "as2/key.pem"
	certFile = "as2/cert.pem"
)

// LoadOrCreateIdentity loads the key and certificate from dataDir/as2/, or
// generates an RSA-2048 key and a self-signed certificate valid for 10
// years there when neither exists yet.
func LoadOrCreateIdentity(dataDir, as2ID string) (*Identity, error) {
	kp, cp := filepath.Join(dataDir, keyFile), filepath.Join(dataDir, certFile)
	_, kerr := os.Stat(kp)
	_, cerr := os.Stat(cp)
	switch {
	case kerr == nil && cerr == nil:
		return LoadIdentity(as2ID, kp, cp)
	case errors.Is(kerr, os.ErrNotExist) && errors.Is(cerr, os.ErrNotExist):
	default:
		return nil, fmt.Errorf("as2 identity: need both %s and %s (remove both to generate new ones)", kp, cp)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	cert, err := SelfSigned(key, as2ID, 10*365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(kp), 0o700); err != nil {
		return nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := writeFileSync(kp, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return nil, err
	}
	if err := writeFileSync(cp, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
		return nil, err
	}
	return &Identity{AS2ID: as2ID, Key: key, Cert: cert}, nil
}

// LoadIdentity reads a PEM private key (PKCS#8 or PKCS#1) and certificate.
func LoadIdentity(as2ID, keyPath, certPath string) (*Identity, error) {
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("reading as2 key: %w", err)
	}
	key, err := ParsePrivateKeyPEM(kb)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", keyPath, err)
	}
	cert, err := LoadCertificate(certPath)
	if err != nil {
		return nil, err
	}
	return &Identity{AS2ID: as2ID, Key: key, Cert: cert}, nil
}

// ParsePrivateKeyPEM reads an RSA private key in PKCS#8 or PKCS#1 PEM.
func ParsePrivateKeyPEM(b []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, not RSA", k)
	}
	return rk, nil
}

// LoadCertificate reads the first certificate of a PEM (or DER) file.
func LoadCertificate(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading certificate: %w", err)
	}
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return c, nil
}

// SelfSigned makes a self-signed certificate for key, named cn.
func SelfSigned(key *rsa.PrivateKey, cn string, validity time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	now := time.Now().Add(-time.Hour)
	return selfSigned(key, cn, serial, now, now.Add(validity))
}

// selfSigned makes a self-signed certificate for key with the given serial
// number and validity, fit for signing and encrypting AS2 messages.
func selfSigned(key *rsa.PrivateKey, cn string, serial *big.Int, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"edigate"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func writeFileSync(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
