package redistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TLSFiles are PEM files generated for a test: a CA, a server certificate for
// 127.0.0.1/localhost signed by it, and a client certificate.
type TLSFiles struct {
	CA, ServerCert, ServerKey, ClientCert, ClientKey string
	// ServerNotAfter is the server certificate's expiry (second precision).
	ServerNotAfter time.Time
	// ServerSerial is the server certificate's serial number.
	ServerSerial *big.Int
}

// GenerateTLS writes a fresh CA, server and client certificate into dir.
func GenerateTLS(tb testing.TB, dir string, serverValidity time.Duration) TLSFiles {
	tb.Helper()
	now := time.Now().Truncate(time.Second)
	caKey := newKey(tb)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "redistest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)

	f := TLSFiles{
		CA:             filepath.Join(dir, "ca.crt"),
		ServerCert:     filepath.Join(dir, "server.crt"),
		ServerKey:      filepath.Join(dir, "server.key"),
		ClientCert:     filepath.Join(dir, "client.crt"),
		ClientKey:      filepath.Join(dir, "client.key"),
		ServerNotAfter: now.Add(serverValidity),
		ServerSerial:   randomSerial(tb),
	}
	writePEM(tb, f.CA, "CERTIFICATE", caDER)

	issue := func(certPath, keyPath string, tmpl *x509.Certificate) {
		key := newKey(tb)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			tb.Fatal(err)
		}
		writePEM(tb, certPath, "CERTIFICATE", der)
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			tb.Fatal(err)
		}
		writePEM(tb, keyPath, "EC PRIVATE KEY", keyDER)
	}
	issue(f.ServerCert, f.ServerKey, &x509.Certificate{
		SerialNumber: f.ServerSerial,
		Subject:      pkix.Name{CommonName: "redistest server"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     f.ServerNotAfter,
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	})
	issue(f.ClientCert, f.ClientKey, &x509.Certificate{
		SerialNumber: randomSerial(tb),
		Subject:      pkix.Name{CommonName: "redistest client"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	return f
}

// ServerConfig returns redis.conf lines that load the server certificate.
func (f TLSFiles) ServerConfig() string {
	return "tls-cert-file " + f.ServerCert + "\ntls-key-file " + f.ServerKey + "\ntls-ca-cert-file " + f.CA + "\n"
}

// ClientConfig is a TLS client configuration trusting the CA and presenting
// the client certificate, for the tests' own clients.
func (f TLSFiles) ClientConfig(tb testing.TB) *tls.Config {
	tb.Helper()
	pair, err := tls.LoadX509KeyPair(f.ClientCert, f.ClientKey)
	if err != nil {
		tb.Fatal(err)
	}
	ca, err := os.ReadFile(f.CA)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		tb.Fatal("no CA certificate in " + f.CA)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// randomSerial is a random positive 63-bit serial number: two sets generated
// in the same second must not share their certificates' serials.
func randomSerial(tb testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		tb.Fatal(err)
	}
	return n.Add(n, big.NewInt(1<<62))
}

func newKey(tb testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func writePEM(tb testing.TB, path, typ string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
}
