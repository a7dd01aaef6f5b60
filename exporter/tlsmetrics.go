package exporter

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector"
)

var (
	tlsCertNotAfterDesc = prometheus.NewDesc("redis_security_tls_certificate_not_after_timestamp_seconds",
		"Expiry (NotAfter) of the certificate the server presented in the exporter's TLS handshake (rediss:// targets), or to the certificate probe of its tls-port (plaintext targets). serial is upper-case hex, as openssl prints it.",
		[]string{"subject", "serial"}, nil)
	tlsConnectionInfoDesc = prometheus.NewDesc("redis_security_tls_connection_info",
		"The exporter's own negotiated TLS session with the server (rediss:// targets). Always 1.",
		[]string{"version", "cipher"}, nil)
)

// probeTimeout bounds a certificate probe; below minProbeTimeout of the
// scrape's time left, the probe waits for another scrape.
const (
	probeTimeout    = 5 * time.Second
	minProbeTimeout = 100 * time.Millisecond
)

// certProbe is the result of the last certificate probe of a target.
type certProbe struct {
	port  int
	runID string
	at    time.Time
	leaf  *x509.Certificate // nil when the probe got no certificate
}

// tlsMetrics reports the TLS session and the server's certificate. For a
// rediss:// target they come from the handshake of the connection in use;
// when this scrape's handshake failed (an expired or untrusted certificate)
// the certificate it showed is still reported, next to up 0. For a plaintext
// target with a tls-port, the certificate comes from the probe.
func (t *Target) tlsMetrics(ctx context.Context, start time.Time, r *collector.Replies, up bool) []prometheus.Metric {
	var out []prometheus.Metric
	cert := func(c *x509.Certificate) {
		if c == nil {
			return
		}
		out = append(out, prometheus.MustNewConstMetric(tlsCertNotAfterDesc, prometheus.GaugeValue,
			float64(c.NotAfter.Unix()), collector.LabelValue(c.Subject.String()), fmt.Sprintf("%X", c.SerialNumber)))
	}
	if t.addr.TLS {
		rec := t.dialer.lastTLS()
		switch {
		case up && rec.state != nil:
			out = append(out, prometheus.MustNewConstMetric(tlsConnectionInfoDesc, prometheus.GaugeValue, 1,
				TLSVersionName(rec.state.Version), tls.CipherSuiteName(rec.state.CipherSuite)))
			cert(rec.leaf)
		case !up && !rec.at.Before(start):
			cert(rec.leaf)
		}
		return out
	}
	if up && t.probeEnabled {
		cert(t.probeCertificate(ctx, r))
	}
	return out
}

// probeCertificate returns the certificate of the server's tls-port, probed
// at most every probeInterval and again when the server restarted (run_id)
// or its tls-port changed: a handshake every scrape would fill the server's
// log when it requires client certificates the exporter lacks.
func (t *Target) probeCertificate(ctx context.Context, r *collector.Replies) *x509.Certificate {
	v, ok, err := r.Config("tls-port")
	if err != nil || !ok {
		return nil
	}
	port, err := strconv.Atoi(v)
	if err != nil || port <= 0 || port > 65535 {
		t.probe = nil
		return nil
	}
	runID := r.Facts().Server.RunID
	if p := t.probe; p != nil && p.port == port && p.runID == runID && time.Since(p.at) < t.probeInterval {
		return p.leaf
	}
	// The probe must not eat the scrape's deadline (a port that drops
	// packets): it gets half of what is left, at most probeTimeout, and
	// waits for the next scrape when that is too little.
	budget := probeTimeout
	if dl, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(dl)/2)
	}
	if budget < minProbeTimeout {
		if t.probe != nil && t.probe.port == port {
			return t.probe.leaf
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	leaf, err := t.probeOnce(ctx, port)
	if err != nil {
		level.Warn(t.logger).Log("msg", "TLS certificate probe failed; next attempt after --tls.probe-interval", "port", port, "err", err)
	} else {
		level.Debug(t.logger).Log("msg", "probed the TLS certificate", "port", port, "not_after", leaf.NotAfter)
	}
	t.probe = &certProbe{port: port, runID: runID, at: time.Now(), leaf: leaf}
	return leaf
}

// probeOnce connects to the target's own host on port, runs a TLS handshake
// only to read the certificate, and closes the connection without sending
// any data. The certificate is recorded as soon as the server presents it,
// so a server that then refuses the exporter (no client certificate under
// tls-auth-clients yes) still shows it.
func (t *Target) probeOnce(ctx context.Context, port int) (*x509.Certificate, error) {
	conn, err := t.dialer.connect(ctx, "tcp", net.JoinHostPort(t.addr.Host, strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	hs := &handshake{}
	tc := tls.Client(conn, t.tls.probeConfig(t.addr.Host, hs))
	herr := tc.HandshakeContext(ctx)
	if herr == nil {
		tc.Close() // close_notify, then close
	} else {
		conn.Close()
	}
	leaf, _ := hs.result()
	if leaf == nil {
		if herr == nil {
			herr = errors.New("the server presented no certificate")
		}
		return nil, fmt.Errorf("TLS handshake with port %d: %w", port, herr)
	}
	return leaf, nil
}
