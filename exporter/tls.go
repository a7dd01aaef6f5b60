package exporter

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// TLSFieldNames name the settings in TLS errors, so that a log line says
// which setting to fix: the --tls.* flags by default, a config file's
// fields for a module.
type TLSFieldNames struct {
	CAFile, CertFile, KeyFile, MinVersion string
}

var flagNames = TLSFieldNames{
	CAFile:     "--tls.ca-file",
	CertFile:   "--tls.cert-file",
	KeyFile:    "--tls.key-file",
	MinVersion: "--tls.min-version",
}

// TLSOptions configure the exporter as a TLS client (rediss:// targets) and
// the client certificate the certificate probe presents.
type TLSOptions struct {
	// CAFile holds the PEM certificates that verify the server; empty means
	// the system's roots.
	CAFile string
	// CertFile and KeyFile are the exporter's client certificate and its
	// unencrypted private key (PEM), both or neither.
	CertFile, KeyFile string
	// ServerName is the name the server certificate must carry (and the
	// SNI); empty means the target's host.
	ServerName string
	// InsecureSkipVerify accepts any server certificate.
	InsecureSkipVerify bool
	// MinVersion is the lowest TLS version accepted; 0 means TLS 1.2.
	MinVersion uint16
	// FieldNames name the settings in errors (zero: the flags).
	FieldNames TLSFieldNames
}

// ParseTLSVersion parses a minimum TLS version: TLS1.2 or TLS1.3, also
// written TLSv1.2, TLS12, 1.2 (any case). Older versions are refused.
func ParseTLSVersion(s string) (uint16, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	v = strings.TrimPrefix(v, "tls")
	v = strings.TrimPrefix(v, "v")
	v = strings.TrimPrefix(v, " ")
	switch v {
	case "1.2", "12":
		return tls.VersionTLS12, nil
	case "1.3", "13":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("%q is not a supported minimum TLS version: want TLS1.2 or TLS1.3", s)
}

// TLSVersionName names a TLS version the way Redis's tls-protocols does
// (TLSv1.2), the style of the protocol label.
func TLSVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

// ClientTLS makes the TLS configuration of each new connection. The CA file
// and the key pair are read again at every handshake and parsed again when
// their content changed, so rotated files are used by the next connection
// without a restart. Handshakes are rare (the connection is kept between
// scrapes), so reading a few kilobytes each time costs nothing, and comparing
// contents cannot miss a change the way comparing modification times can
// (coarse timestamps, files replaced with their old mtime).
type ClientTLS struct {
	opts TLSOptions
	ca   *fileCache // nil: system roots
	pair *pairCache // nil: no client certificate
}

// NewClientTLS checks the options and reads every file once: a missing or
// invalid file stops start-up with an error naming its flag, never quoting
// its content.
func NewClientTLS(o TLSOptions) (*ClientTLS, error) {
	if o.MinVersion == 0 {
		o.MinVersion = tls.VersionTLS12
	}
	if o.FieldNames == (TLSFieldNames{}) {
		o.FieldNames = flagNames
	}
	names := o.FieldNames
	if o.MinVersion < tls.VersionTLS12 {
		return nil, fmt.Errorf("%s: TLS versions before 1.2 are not supported", names.MinVersion)
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, fmt.Errorf("%s and %s go together: set both or neither", names.CertFile, names.KeyFile)
	}
	c := &ClientTLS{opts: o}
	if o.CAFile != "" {
		c.ca = &fileCache{flag: names.CAFile, path: o.CAFile, parse: parseCAPool}
		if _, err := c.ca.load(); err != nil {
			return nil, err
		}
	}
	if o.CertFile != "" {
		c.pair = &pairCache{certPath: o.CertFile, keyPath: o.KeyFile, names: names}
		if _, err := c.pair.load(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// HasClientCertificate reports whether a client certificate is configured.
func (c *ClientTLS) HasClientCertificate() bool { return c != nil && c.pair != nil }

// handshake is what one TLS handshake showed: the certificate the server
// presented (even when it failed verification or the handshake failed
// later) and whether the server asked for a client certificate the exporter
// did not have.
type handshake struct {
	mu        sync.Mutex
	leaf      *x509.Certificate
	requested bool // the server asked for a client certificate
	sent      bool // and one was sent
}

func (h *handshake) setLeaf(certs []*x509.Certificate) {
	if len(certs) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.leaf = certs[0]
}

func (h *handshake) result() (leaf *x509.Certificate, missingClientCert bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.leaf, h.requested && !h.sent
}

// config returns the configuration of one connection to host. The server's
// certificate is verified by crypto/tls itself against the current CA pool
// (or the system roots) and ServerName; VerifyConnection, which runs after
// that verification, only records what the server presented.
func (c *ClientTLS) config(host string, hs *handshake) (*tls.Config, error) {
	o := TLSOptions{MinVersion: tls.VersionTLS12}
	if c != nil {
		o = c.opts
	}
	cfg := &tls.Config{
		MinVersion:         o.MinVersion,
		ServerName:         o.ServerName,
		InsecureSkipVerify: o.InsecureSkipVerify, //nolint:gosec // only when the operator asked for it, with a warning at start-up
		VerifyConnection: func(cs tls.ConnectionState) error {
			hs.setLeaf(cs.PeerCertificates)
			return nil
		},
		GetClientCertificate: c.clientCertificate(hs),
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if c != nil && c.ca != nil {
		pool, err := c.ca.load()
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool.(*x509.CertPool)
	}
	return cfg, nil
}

// probeConfig returns the configuration of a certificate probe: any server
// certificate is accepted (the probe only reads it and sends no data), any
// version the server offers, and the client certificate when one is
// configured, so that a server requiring one completes the handshake
// without logging an error.
func (c *ClientTLS) probeConfig(host string, hs *handshake) *tls.Config {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS10,
		InsecureSkipVerify: true, //nolint:gosec // the probe reads the certificate only, and sends nothing
		VerifyConnection: func(cs tls.ConnectionState) error {
			hs.setLeaf(cs.PeerCertificates)
			return nil
		},
		GetClientCertificate: c.clientCertificate(hs),
		ServerName:           host,
	}
	if c != nil && c.opts.ServerName != "" {
		cfg.ServerName = c.opts.ServerName
	}
	return cfg
}

func (c *ClientTLS) clientCertificate(hs *handshake) func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		hs.mu.Lock()
		hs.requested = true
		hs.mu.Unlock()
		if c == nil || c.pair == nil {
			return &tls.Certificate{}, nil // none: the server decides
		}
		cert, err := c.pair.load()
		if err != nil {
			return nil, err
		}
		hs.mu.Lock()
		hs.sent = true
		hs.mu.Unlock()
		return cert, nil
	}
}

// fileCache reads a file and keeps its parsed form until the content changes.
type fileCache struct {
	flag, path string
	parse      func([]byte) (any, error)

	mu     sync.Mutex
	raw    []byte
	parsed any
}

func (f *fileCache) load() (any, error) {
	b, err := os.ReadFile(f.path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.flag, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.parsed != nil && bytes.Equal(b, f.raw) {
		return f.parsed, nil
	}
	v, err := f.parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", f.flag, f.path, err)
	}
	f.raw, f.parsed = b, v
	return v, nil
}

func parseCAPool(b []byte) (any, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, errors.New("no PEM certificate found")
	}
	return pool, nil
}

// pairCache is fileCache for a certificate and its key, which change together.
type pairCache struct {
	certPath, keyPath string
	names             TLSFieldNames

	mu        sync.Mutex
	cert, key []byte
	pair      *tls.Certificate
}

func (p *pairCache) load() (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(p.certPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.names.CertFile, err)
	}
	keyPEM, err := os.ReadFile(p.keyPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.names.KeyFile, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pair != nil && bytes.Equal(certPEM, p.cert) && bytes.Equal(keyPEM, p.key) {
		return p.pair, nil
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// crypto/tls's messages name PEM block types and mismatches,
		// never key material.
		return nil, fmt.Errorf("%s %s / %s %s: %w", p.names.CertFile, p.certPath, p.names.KeyFile, p.keyPath, err)
	}
	if pair.Leaf == nil && len(pair.Certificate) > 0 {
		pair.Leaf, _ = x509.ParseCertificate(pair.Certificate[0])
	}
	p.cert, p.key, p.pair = certPEM, keyPEM, &pair
	return p.pair, nil
}
