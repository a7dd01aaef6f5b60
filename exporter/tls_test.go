package exporter_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
	"github.com/redis-security/redis_security_exporter/exporter"
)

func clientTLS(t *testing.T, o exporter.TLSOptions) *exporter.ClientTLS {
	t.Helper()
	c, err := exporter.NewClientTLS(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// certKey is the not_after series of a generated server certificate.
func certKey(f redistest.TLSFiles) string {
	return fmt.Sprintf(`redis_security_tls_certificate_not_after_timestamp_seconds{serial=%q,subject="CN=redistest server"}`, fmt.Sprintf("%X", f.ServerSerial))
}

func rediss(port int) string { return "rediss://127.0.0.1:" + strconv.Itoa(port) }

// infoField reads one numeric field of INFO.
func infoField(t *testing.T, c *redis.Client, section, field string) int {
	t.Helper()
	info, err := c.Info(context.Background(), section).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("%s: %v", field, err)
			}
			return n
		}
	}
	t.Fatalf("no %s in INFO %s", field, section)
	return 0
}

// TestTLSOnlyServerRequiringClientCertificates: port 0, tls-auth-clients yes.
// With its client certificate the exporter is up and reports the TLS
// posture, its session and the server certificate's expiry; without one it
// is down, says why in the log, still reports the certificate it was shown,
// and does not retry in the background.
func TestTLSOnlyServerRequiringClientCertificates(t *testing.T) {
	t.Parallel()
	f := redistest.GenerateTLS(t, t.TempDir(), 50*time.Hour)
	srv := redistest.StartWith(t, redistest.Options{TLS: &f, NoPlaintext: true, Config: "tls-auth-clients yes"})

	tg := newTarget(t, targetOpts{addr: rediss(srv.TLSPort), tls: clientTLS(t, exporter.TLSOptions{CAFile: f.CA, CertFile: f.ClientCert, KeyFile: f.ClientKey})})
	got := scrape(t, tg, 5*time.Second)
	expect(t, got, map[string]float64{
		"redis_security_up":                                       1,
		"redis_security_tls_enabled":                              1,
		"redis_security_plaintext_enabled":                        0,
		`redis_security_tls_client_auth{mode="yes"}`:              1,
		`redis_security_tls_client_auth{mode="optional"}`:         0,
		`redis_security_tls_protocol_enabled{protocol="TLSv1.3"}`: 1,
		certKey(f): float64(f.ServerNotAfter.Unix()),
		`redis_security_tls_connection_info{cipher="TLS_AES_128_GCM_SHA256",version="TLSv1.3"}`: 1,
		`redis_security_scrape_collector_success{collector="clients"}`:                          1,
		"redis_security_client_list_skipped":                                                    0,
	})
	// The exporter's own TLS connection is the only client: not counted.
	if keys := withPrefix(got, "redis_security_clients"); len(keys) != 0 {
		t.Errorf("own connection counted: %v", keys)
	}
	if keys := withPrefix(got, "redis_security_tls_certificate_not_after_timestamp_seconds"); len(keys) != 1 {
		t.Errorf("certificate series: %v", keys)
	}

	// Without a client certificate.
	var logs logBuffer
	noCert := newTarget(t, targetOpts{addr: rediss(srv.TLSPort), tls: clientTLS(t, exporter.TLSOptions{CAFile: f.CA}), logger: logs.logger()})
	got = scrape(t, noCert, 5*time.Second)
	expect(t, got, map[string]float64{
		"redis_security_up":                  0,
		certKey(f):                           float64(f.ServerNotAfter.Unix()),
		`redis_security_tls_enabled`:         absent,
		"redis_security_tls_connection_info": absent,
	})
	if keys := withPrefix(got, "redis_security_tls_connection_info"); len(keys) != 0 {
		t.Errorf("session reported for a refused connection: %v", keys)
	}
	if !strings.Contains(logs.String(), "the server asked for a client certificate and none is configured") {
		t.Errorf("the log does not say why:\n%s", logs.String())
	}
	// One attempt per scrape, no background re-dial: the server logs each
	// refused handshake (connections it refuses are not in its INFO stats).
	time.Sleep(2500 * time.Millisecond)
	if n := refusedHandshakes(t, srv); n != 1 {
		t.Errorf("%d refused handshakes for one failed scrape, want 1", n)
	}
}

// TestMissingClientCertificateWithPassword: under TLS 1.3 the refusal of a
// client without a certificate reaches the exporter while it reads the AUTH
// reply: explained, one attempt, no background retry.
func TestMissingClientCertificateWithPassword(t *testing.T) {
	t.Parallel()
	f := redistest.GenerateTLS(t, t.TempDir(), 50*time.Hour)
	srv := redistest.StartWith(t, redistest.Options{TLS: &f, NoPlaintext: true, Config: "tls-auth-clients yes\nrequirepass s3cret-pw"})
	var logs logBuffer
	tg := newTarget(t, targetOpts{addr: rediss(srv.TLSPort), password: "s3cret-pw", tls: clientTLS(t, exporter.TLSOptions{CAFile: f.CA}), logger: logs.logger()})
	expect(t, scrape(t, tg, 5*time.Second), map[string]float64{"redis_security_up": 0, certKey(f): float64(f.ServerNotAfter.Unix())})
	if !strings.Contains(logs.String(), "the server asked for a client certificate and none is configured") {
		t.Errorf("the log does not say why:\n%s", logs.String())
	}
	time.Sleep(2500 * time.Millisecond)
	if n := refusedHandshakes(t, srv); n != 1 {
		t.Errorf("%d refused handshakes for one failed scrape, want 1", n)
	}
	// With the certificate: up, and the password was accepted.
	ok := newTarget(t, targetOpts{addr: rediss(srv.TLSPort), password: "s3cret-pw", tls: clientTLS(t, exporter.TLSOptions{CAFile: f.CA, CertFile: f.ClientCert, KeyFile: f.ClientKey})})
	expect(t, scrape(t, ok, 5*time.Second), map[string]float64{"redis_security_up": 1})
}

// refusedHandshakes counts the TLS connections the server refused.
func refusedHandshakes(t *testing.T, srv *redistest.Server) int {
	t.Helper()
	b, err := os.ReadFile(srv.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "Error accepting a client connection")
}

// TestTLS12: tls-protocols "TLSv1.2": the protocol gauges say so, the
// exporter's session is TLS 1.2, and without a client certificate the
// refusal (during the handshake under TLS 1.2) is explained too.
func TestTLS12(t *testing.T) {
	t.Parallel()
	f := redistest.GenerateTLS(t, t.TempDir(), 30*time.Hour)
	srv := redistest.StartWith(t, redistest.Options{TLS: &f, Config: `tls-protocols "TLSv1.2"` + "\ntls-auth-clients yes"})
	tg := newTarget(t, targetOpts{addr: rediss(srv.TLSPort), tls: clientTLS(t, exporter.TLSOptions{CAFile: f.CA, CertFile: f.ClientCert, KeyFile: f.ClientKey})})
	got := scrape(t, tg, 5*time.Second)
	expect(t, got, map[string]float64{
		"redis_security_up": 1,
		`redis_security_tls_protocol_enabled{protocol="TLSv1"}`:   0,
		`redis_security_tls_protocol_enabled{protocol="TLSv1.1"}`: 0,
		`redis_security_tls_protocol_enabled{protocol="TLSv1.2"}`: 1,
		`redis_security_tls_protocol_enabled{protocol="TLSv1.3"}`: 0,
		"redis_security_plaintext_enabled":                        1,
		certKey(f):                                                float64(f.ServerNotAfter.Unix()),
	})
	if keys := withPrefix(got, "redis_security_tls_connection_info"); len(keys) != 1 || !strings.Contains(keys[0], `version="TLSv1.2"`) {
		t.Errorf("session: %v", keys)
	}

	// --tls.min-version TLS1.3 against a TLS 1.2 server: refused.
	var logs logBuffer
	strict := newTarget(t, targetOpts{addr: rediss(srv.TLSPort), logger: logs.logger(),
		tls: clientTLS(t, exporter.TLSOptions{CAFile: f.CA, CertFile: f.ClientCert, KeyFile: f.ClientKey, MinVersion: tls.VersionTLS13})})
	expect(t, scrape(t, strict, 5*time.Second), map[string]float64{"redis_security_up": 0})
	if !strings.Contains(logs.String(), "protocol version") {
		t.Errorf("the log does not name the version problem:\n%s", logs.String())
	}

	logs = logBuffer{}
	noCert := newTarget(t, targetOpts{addr: rediss(srv.TLSPort), tls: clientTLS(t, exporter.TLSOptions{CAFile: f.CA}), logger: logs.logger()})
	expect(t, scrape(t, noCert, 5*time.Second), map[string]float64{"redis_security_up": 0, certKey(f): float64(f.ServerNotAfter.Unix())})
	if !strings.Contains(logs.String(), "the server asked for a client certificate and none is configured") {
		t.Errorf("the log does not say why:\n%s", logs.String())
	}
}

// TestTLSVerification: a server certificate from another CA, or for another
// name, is refused (and its expiry still reported); --tls.server-name and
// --tls.insecure-skip-verify behave as documented.
func TestTLSVerification(t *testing.T) {
	t.Parallel()
	f := redistest.GenerateTLS(t, t.TempDir(), 40*time.Hour)
	other := redistest.GenerateTLS(t, t.TempDir(), 40*time.Hour)
	srv := redistest.StartWith(t, redistest.Options{TLS: &f, Config: "tls-auth-clients no"})
	for _, tc := range []struct {
		name string
		addr string
		opts exporter.TLSOptions
		up   float64
		log  string
	}{
		{"right CA", rediss(srv.TLSPort), exporter.TLSOptions{CAFile: f.CA}, 1, ""},
		{"localhost is in the certificate", "rediss://localhost:" + strconv.Itoa(srv.TLSPort), exporter.TLSOptions{CAFile: f.CA}, 1, ""},
		{"other CA", rediss(srv.TLSPort), exporter.TLSOptions{CAFile: other.CA}, 0, "certificate signed by unknown authority"},
		{"system roots", rediss(srv.TLSPort), exporter.TLSOptions{}, 0, "certificate signed by unknown authority"},
		{"wrong server name", rediss(srv.TLSPort), exporter.TLSOptions{CAFile: f.CA, ServerName: "redis.example.com"}, 0, "redis.example.com"},
		{"server name in the certificate", rediss(srv.TLSPort), exporter.TLSOptions{CAFile: f.CA, ServerName: "localhost"}, 1, ""},
		{"insecure", rediss(srv.TLSPort), exporter.TLSOptions{InsecureSkipVerify: true}, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			tg := newTarget(t, targetOpts{addr: tc.addr, tls: clientTLS(t, tc.opts), logger: logs.logger()})
			expect(t, scrape(t, tg, 5*time.Second), map[string]float64{
				"redis_security_up": tc.up,
				certKey(f):          float64(f.ServerNotAfter.Unix()),
			})
			if tc.log != "" && !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log lacks %q:\n%s", tc.log, logs.String())
			}
		})
	}
}

// TestClientsByTransportAndNetwork: a server with a plaintext port, a TLS
// port and a unix socket; clients over each, one bound to 127.0.0.2, and a
// replica. The exporter (plaintext, default user) does not count itself and
// reads the TLS certificate with its probe.
func TestClientsByTransportAndNetwork(t *testing.T) {
	t.Parallel()
	f := redistest.GenerateTLS(t, t.TempDir(), 20*time.Hour)
	sock := filepath.Join(t.TempDir(), "r.sock")
	srv := redistest.StartWith(t, redistest.Options{TLS: &f, Config: "unixsocket " + sock + "\nunixsocketperm 700\nuser app on >app-pw ~* +@all\n" +
		// Protected mode admits only 127.0.0.1 and ::1, not 127.0.0.2.
		"protected-mode no"})
	ctx := context.Background()
	ping := func(c *redis.Client) {
		t.Helper()
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	tcp := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2, DisableIdentity: true})
	other := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2, DisableIdentity: true,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
			return d.DialContext(ctx, network, addr)
		}})
	unix := redis.NewClient(&redis.Options{Network: "unix", Addr: sock, Username: "app", Password: "app-pw", Protocol: 2, DisableIdentity: true})
	for _, c := range []*redis.Client{tcp, other, unix} {
		t.Cleanup(func() { c.Close() })
		ping(c)
	}
	ping(srv.TLSClient("app", "app-pw"))
	redistest.Start(t, "replicaof 127.0.0.1 "+strconv.Itoa(srv.Port))
	// Wait for the end of the full sync: Redis 8.0 transfers the RDB
	// through a second replica connection (flags=SC, the "rdb channel")
	// while INFO shows state=send_bulk_and_stream, and the exporter counts
	// both, as CLIENT LIST shows them. Online, one connection is left.
	waitFor(t, 10*time.Second, func() bool {
		repl := tcp.Info(ctx, "replication").Val()
		replicas := strings.Count(strings.TrimSpace(tcp.Do(ctx, "CLIENT", "LIST", "TYPE", "replica").String()), "id=")
		return infoField(t, tcp, "replication", "connected_slaves") == 1 && strings.Contains(repl, "state=online") && replicas == 1
	})

	tg := newTarget(t, targetOpts{addr: srv.Addr(), probe: true})
	for i := 0; i < 2; i++ { // the first scrape lists in its follow-up round, the second in the plan
		if i > 0 {
			// The first scrape's certificate probe (after its CLIENT LIST)
			// left a connection the server frees within milliseconds; a
			// scrape right after it could still list it. Wait for the
			// four test clients and the exporter only.
			waitFor(t, 5*time.Second, func() bool { return infoField(t, tcp, "clients", "connected_clients") == 5 })
		}
		got := scrape(t, tg, 5*time.Second)
		expect(t, got, map[string]float64{
			"redis_security_up":                1,
			"redis_security_plaintext_enabled": 1,
			"redis_security_tls_enabled":       1,
			`redis_security_clients{network="loopback",transport="tcp",user="default"}`:         2,
			`redis_security_clients{network="loopback",transport="tls",user="app"}`:             1,
			`redis_security_clients{network="loopback",transport="unix",user="app"}`:            1,
			`redis_security_replica_clients{network="loopback",transport="tcp",user="default"}`: 1,
			"redis_security_client_list_skipped":                                                0,
			certKey(f):                                                                          float64(f.ServerNotAfter.Unix()),
			"redis_security_tls_connection_info":                                                absent,
		})
		if n := len(withPrefix(got, "redis_security_clients")); n != 3 {
			t.Errorf("%d clients series, want 3:\n%s", n, dump(got))
		}
	}
	// 127.0.0.2 really was the source address.
	list, err := tcp.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list, "addr=127.0.0.2:") {
		t.Errorf("no client from 127.0.0.2:\n%s", list)
	}
}

// TestCertificateProbe: the probe reads the certificate of a server that
// requires client certificates the exporter does not have, under TLS 1.2
// (refused during the handshake) and TLS 1.3 (refused after it); it is not
// repeated within the interval, is repeated after a restart, and with a
// client certificate it completes without a refusal in the server's log.
func TestCertificateProbe(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{"TLSv1.2", "TLSv1.3"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			f := redistest.GenerateTLS(t, t.TempDir(), 60*time.Hour)
			srv := redistest.StartWith(t, redistest.Options{TLS: &f, Config: "tls-auth-clients yes\ntls-protocols " + proto})
			tg := newTarget(t, targetOpts{addr: srv.Addr(), probe: true, probeInterval: time.Hour})
			for i := 0; i < 4; i++ {
				expect(t, scrape(t, tg, 5*time.Second), map[string]float64{
					"redis_security_up": 1,
					certKey(f):          float64(f.ServerNotAfter.Unix()),
					`redis_security_tls_client_auth{mode="yes"}`: 1,
					"redis_security_tls_connection_info":         absent,
				})
			}
			if n := refusedHandshakes(t, srv); n != 1 {
				t.Errorf("%d probes in 4 scrapes within the interval, want 1", n)
			}
			// A restart (new run_id) is probed again at once, once.
			srv = srv.Restart()
			waitFor(t, 10*time.Second, func() bool { return scrape(t, tg, 3*time.Second)["redis_security_up"] == 1 })
			expect(t, scrape(t, tg, 5*time.Second), map[string]float64{certKey(f): float64(f.ServerNotAfter.Unix())})
			if n := refusedHandshakes(t, srv); n != 1 {
				t.Errorf("%d probes after the restart, want 1", n)
			}
			// With a client certificate the probe's handshake completes.
			withCert := newTarget(t, targetOpts{addr: srv.Addr(), probe: true,
				tls: clientTLS(t, exporter.TLSOptions{CertFile: f.ClientCert, KeyFile: f.ClientKey})})
			expect(t, scrape(t, withCert, 5*time.Second), map[string]float64{certKey(f): float64(f.ServerNotAfter.Unix())})
			time.Sleep(100 * time.Millisecond)
			if n := refusedHandshakes(t, srv); n != 1 {
				t.Errorf("the probe with a client certificate was refused")
			}
			// Disabled: no certificate.
			off := newTarget(t, targetOpts{addr: srv.Addr()})
			if keys := withPrefix(scrape(t, off, 5*time.Second), "redis_security_tls_certificate_not_after_timestamp_seconds"); len(keys) != 0 {
				t.Errorf("probe off, still %v", keys)
			}
		})
	}
}

// copyFile overwrites dst with src's content, as a rotation does.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCertificateRotation: the server moves to a new CA (its certificate,
// and the CA that verifies clients); the exporter's old files no longer
// work; once its CA, certificate and key files are replaced in place, it
// reconnects with them without a restart.
func TestCertificateRotation(t *testing.T) {
	t.Parallel()
	old := redistest.GenerateTLS(t, t.TempDir(), 10*time.Hour)
	rotated := redistest.GenerateTLS(t, t.TempDir(), 70*time.Hour)
	srv := redistest.StartWith(t, redistest.Options{TLS: &old, NoPlaintext: true, Config: "tls-auth-clients yes"})

	// The exporter's own copies of its files.
	dir := t.TempDir()
	ca, cert, key := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	copyFile(t, old.CA, ca)
	copyFile(t, old.ClientCert, cert)
	copyFile(t, old.ClientKey, key)
	var logs logBuffer
	tg := newTarget(t, targetOpts{addr: rediss(srv.TLSPort), logger: logs.logger(),
		tls: clientTLS(t, exporter.TLSOptions{CAFile: ca, CertFile: cert, KeyFile: key})})
	expect(t, scrape(t, tg, 5*time.Second), map[string]float64{"redis_security_up": 1, certKey(old): float64(old.ServerNotAfter.Unix())})

	admin := srv.Client("", "")
	ctx := context.Background()
	if err := admin.Do(ctx, "CONFIG", "SET", "tls-cert-file", rotated.ServerCert, "tls-key-file", rotated.ServerKey, "tls-ca-cert-file", rotated.CA).Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal").Err(); err != nil {
		t.Fatal(err)
	}
	// The first scrape may meet the killed connection; then the old files
	// are refused.
	scrape(t, tg, 5*time.Second)
	expect(t, scrape(t, tg, 5*time.Second), map[string]float64{"redis_security_up": 0, certKey(rotated): float64(rotated.ServerNotAfter.Unix())})
	if !strings.Contains(logs.String(), "certificate signed by unknown authority") {
		t.Errorf("log:\n%s", logs.String())
	}

	// Replace the client certificate alone: the server certificate is
	// still untrusted.
	copyFile(t, rotated.ClientCert, cert)
	copyFile(t, rotated.ClientKey, key)
	expect(t, scrape(t, tg, 5*time.Second), map[string]float64{"redis_security_up": 0})
	// And the CA: up again, with the new certificate's expiry.
	copyFile(t, rotated.CA, ca)
	got := scrape(t, tg, 5*time.Second)
	expect(t, got, map[string]float64{"redis_security_up": 1, certKey(rotated): float64(rotated.ServerNotAfter.Unix()), certKey(old): absent})

	// Only the client certificate rotated back to an untrusted one: the
	// server refuses it.
	copyFile(t, old.ClientCert, cert)
	copyFile(t, old.ClientKey, key)
	if err := admin.Do(ctx, "CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal").Err(); err != nil {
		t.Fatal(err)
	}
	scrape(t, tg, 5*time.Second)
	expect(t, scrape(t, tg, 5*time.Second), map[string]float64{"redis_security_up": 0})
	// A half-written key (rotation in progress) fails the connection with
	// the flag's name, never the key.
	os.WriteFile(key, []byte("-----BEGIN EC PRIVATE KEY-----\nsecret-key-canary\n"), 0o600)
	logs = logBuffer{}
	scrape(t, tg, 5*time.Second)
	if l := logs.String(); !strings.Contains(l, "--tls.cert-file") || strings.Contains(l, "secret-key-canary") {
		t.Errorf("log:\n%s", l)
	}
}

// TestProbedCertificateFollowsRotation: the server's certificate is replaced
// with CONFIG SET (no restart); the probe shows the new expiry once its
// interval has passed.
func TestProbedCertificateFollowsRotation(t *testing.T) {
	t.Parallel()
	old := redistest.GenerateTLS(t, t.TempDir(), 10*time.Hour)
	rotated := redistest.GenerateTLS(t, t.TempDir(), 80*time.Hour)
	srv := redistest.StartWith(t, redistest.Options{TLS: &old})
	tg := newTarget(t, targetOpts{addr: srv.Addr(), probe: true, probeInterval: 300 * time.Millisecond})
	expect(t, scrape(t, tg, 5*time.Second), map[string]float64{certKey(old): float64(old.ServerNotAfter.Unix())})
	if err := srv.Client("", "").Do(context.Background(), "CONFIG", "SET", "tls-cert-file", rotated.ServerCert, "tls-key-file", rotated.ServerKey).Err(); err != nil {
		t.Fatal(err)
	}
	// Within the interval the cached certificate is reported.
	expect(t, scrape(t, tg, 5*time.Second), map[string]float64{certKey(old): float64(old.ServerNotAfter.Unix())})
	time.Sleep(400 * time.Millisecond)
	expect(t, scrape(t, tg, 5*time.Second), map[string]float64{
		certKey(rotated): float64(rotated.ServerNotAfter.Unix()),
		certKey(old):     absent,
	})
}

// TestClientListCostGuard: with more connected clients than --clients.max,
// CLIENT LIST is never sent (the server's commandstats), client_list_skipped
// is 1; below the limit it is sent again.
func TestClientListCostGuard(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "")
	admin := srv.Client("", "")
	ctx := context.Background()
	var extra []*redis.Client
	for i := 0; i < 5; i++ {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2, DisableIdentity: true})
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		extra = append(extra, c)
	}
	if err := admin.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	opts := collector.DefaultOptions()
	opts.ClientsMax = 4
	tg := newTarget(t, targetOpts{addr: srv.Addr(), scrapers: scrapersWith(opts)})
	for i := 0; i < 3; i++ {
		got := scrape(t, tg, 5*time.Second)
		expect(t, got, map[string]float64{
			"redis_security_up":                                            1,
			"redis_security_client_list_skipped":                           1,
			`redis_security_scrape_collector_success{collector="clients"}`: 1,
		})
		if keys := withPrefix(got, "redis_security_clients"); len(keys) != 0 {
			t.Errorf("clients reported while skipped: %v", keys)
		}
	}
	stats := admin.Info(ctx, "commandstats").Val()
	if n := cmdstatCalls(stats, "client|list") + cmdstatCalls(stats, "client|id"); n != 0 {
		t.Errorf("CLIENT LIST/ID sent %d times above the limit:\n%s", n, stats)
	}
	// Down to 3 clients (admin, exporter, one more): listed again, at once.
	for _, c := range extra[1:] {
		c.Close()
	}
	waitFor(t, 5*time.Second, func() bool { return infoField(t, admin, "clients", "connected_clients") <= 3 })
	got := scrape(t, tg, 5*time.Second)
	expect(t, got, map[string]float64{
		"redis_security_client_list_skipped":                                        0,
		`redis_security_clients{network="loopback",transport="tcp",user="default"}`: 2,
	})
	if n := cmdstatCalls(admin.Info(ctx, "commandstats").Val(), "client|list"); n != 2 {
		t.Errorf("CLIENT LIST calls = %d, want 2 (normal and replica)", n)
	}
	extra[0].Close()
}
