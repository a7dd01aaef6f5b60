package probe_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
	"github.com/redis-security/redis_security_exporter/config"
	"github.com/redis-security/redis_security_exporter/exporter"
	"github.com/redis-security/redis_security_exporter/probe"
)

const exporterACL = "user exporter on >%s " + collector.LeastPrivilegeRules + "\n"

// startServer starts a redis-server whose default user has password admin
// and whose exporter user has password pw.
func startServer(t *testing.T, admin, pw string) *redistest.Server {
	t.Helper()
	return redistest.Start(t, fmt.Sprintf("user default on >%s ~* &* +@all\n"+exporterACL, admin, pw))
}

func defaults(env map[string]string) probe.Defaults {
	enabled := map[string]bool{}
	for _, e := range collector.All(collector.DefaultOptions()) {
		enabled[e.Scraper.Name()] = e.EnabledByDefault
	}
	return probe.Defaults{
		Options:       collector.DefaultOptions(),
		Enabled:       enabled,
		ProbeInterval: time.Minute,
		Getenv:        func(k string) string { return env[k] },
	}
}

// newProber builds a Prober from YAML and serves /probe on a test server.
func newProber(t *testing.T, yaml string, env map[string]string, o probe.Options) (*probe.Prober, *httptest.Server) {
	t.Helper()
	c, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	modules, err := probe.BuildModules(c, defaults(env))
	if err != nil {
		t.Fatal(err)
	}
	if o.Handler.DefaultTimeout == 0 {
		o.Handler.DefaultTimeout = 5 * time.Second
	}
	p := probe.New(modules, o)
	t.Cleanup(p.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("/probe", p.ServeProbe)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return p, srv
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func probeURL(base, module, target string) string {
	return base + "/probe?" + url.Values{"module": {module}, "target": {target}}.Encode()
}

func fetch(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestProbeModules: two servers with different users and passwords, two
// modules; each module reaches its server, and module a against server b
// fails authentication cleanly.
func TestProbeModules(t *testing.T) {
	t.Parallel()
	a := startServer(t, "admin-a-canary", "pw-a-canary")
	b := startServer(t, "admin-b-canary", "pw-b-canary")
	b.Do("default", "admin-b-canary", "ACL", "SETUSER", "only-on-b", "on", ">x", "+get")
	yaml := fmt.Sprintf(`
modules:
  a:
    username: exporter
    password_file: %s
    allowed_targets: ["127.0.0.1:%d", "127.0.0.1:%d"]
  b:
    username: exporter
    password_env: PW_B
    collectors: {clients: false}
    allowed_targets: ["127.0.0.0/8"]
`, writeFile(t, "pw-a-canary\n"), a.Port, b.Port)
	_, srv := newProber(t, yaml, map[string]string{"PW_B": "pw-b-canary"}, probe.Options{})

	code, body := fetch(t, probeURL(srv.URL, "a", a.Addr()))
	if code != 200 || !strings.Contains(body, "redis_security_up 1") {
		t.Fatalf("module a on server a: %d\n%s", code, body)
	}
	if strings.Contains(body, "only-on-b") || !strings.Contains(body, `redis_security_scrape_collector_success{collector="clients"} 1`) {
		t.Errorf("module a on server a: wrong server or collectors\n%s", body)
	}
	for _, self := range []string{"go_goroutines", "process_", "redis_security_exporter_"} {
		if strings.Contains(body, self) {
			t.Errorf("/probe must not carry the exporter's own metrics (%s)", self)
		}
	}

	code, body = fetch(t, probeURL(srv.URL, "b", "redis://"+b.Addr()))
	if code != 200 || !strings.Contains(body, "redis_security_up 1") || !strings.Contains(body, `user="only-on-b"`) {
		t.Fatalf("module b on server b: %d\n%s", code, body)
	}
	if strings.Contains(body, `collector="clients"`) {
		t.Error("module b turned the clients collector off")
	}

	before := authFailures(t, b)
	code, body = fetch(t, probeURL(srv.URL, "a", b.Addr()))
	if code != 200 || !strings.Contains(body, "redis_security_up 0") {
		t.Fatalf("module a on server b: want up 0, got %d\n%s", code, body)
	}
	if after := authFailures(t, b); after != before+1 {
		t.Errorf("module a on server b: %d failed AUTHs on the server, want exactly 1", after-before)
	}
	for _, secret := range []string{"pw-a-canary", "pw-b-canary", "admin-a-canary", "admin-b-canary"} {
		if strings.Contains(body, secret) {
			t.Errorf("probe output leaks %s", secret)
		}
	}
}

// authFailures is the server's count of refused AUTHs (ACL LOG's auth
// entries, each with its count).
func authFailures(t *testing.T, s *redistest.Server) int64 {
	t.Helper()
	var n int64
	for _, e := range s.Do("default", adminOf(s), "ACL", "LOG").([]any) {
		fields := e.([]any)
		var reason string
		var count int64
		for i := 0; i+1 < len(fields); i += 2 {
			switch fields[i] {
			case "reason":
				reason, _ = fields[i+1].(string)
			case "count":
				count, _ = fields[i+1].(int64)
			}
		}
		if reason == "auth" {
			n += count
		}
	}
	return n
}

func adminOf(s *redistest.Server) string {
	b, err := os.ReadFile(s.ConfigFile)
	if err != nil {
		panic(err)
	}
	_, rest, _ := strings.Cut(string(b), "user default on >")
	pw, _, _ := strings.Cut(rest, " ")
	return pw
}

// TestProbeAllowlist: a listener outside the allowlist sees no connection,
// whatever form the target takes; refused forms get 400/403 without
// connecting, looking anything up, or echoing the request.
func TestProbeAllowlist(t *testing.T) {
	t.Parallel()
	tlsFiles := redistest.GenerateTLS(t, t.TempDir(), time.Hour)
	allowed := redistest.StartWith(t, redistest.Options{
		Config: fmt.Sprintf("user default on >admin ~* &* +@all\n"+exporterACL, "pw"),
		TLS:    &tlsFiles,
	})
	port, accepted := redistest.CountingListener(t)
	resolver := &redistest.Resolver{Answers: map[string][]netip.Addr{"outside.test": {netip.MustParseAddr("127.0.0.1")}}}
	yaml := fmt.Sprintf(`
modules:
  m:
    username: exporter
    password_file: %s
    allowed_targets: ["127.0.0.1:%d", "redis-*.test:%d"]
  withcert:
    username: exporter
    password_file: %[1]s
    allowed_targets: ["127.0.0.1:%[2]d", "127.0.0.1:%[4]d"]
`, writeFile(t, "pw"), allowed.Port, allowed.Port, allowed.TLSPort)
	p, srv := newProber(t, yaml, nil, probe.Options{Resolver: resolver})

	for _, tc := range []struct {
		target string
		code   int
	}{
		{fmt.Sprintf("127.0.0.1:%d", port), 403},
		{fmt.Sprintf("redis://127.0.0.1:%d", port), 403},
		{fmt.Sprintf("rediss://127.0.0.1:%d", port), 403},
		{fmt.Sprintf("localhost:%d", port), 403},
		{fmt.Sprintf("outside.test:%d", port), 403},
		{fmt.Sprintf("redis-1.test:%d", port), 403},
		{fmt.Sprintf("[::ffff:127.0.0.1]:%d", port), 403},
		{"127.0.0.1:1", 403},
		{"unix:///tmp/redis.sock", 400},
		{fmt.Sprintf("redis://user:hunter2@127.0.0.1:%d", allowed.Port), 400},
		{fmt.Sprintf("redis://:hunter2@127.0.0.1:%d", allowed.Port), 400},
		{fmt.Sprintf("redis://127.0.0.1:%d?password=hunter2", allowed.Port), 400},
		{"http://127.0.0.1:80", 400},
		{"", 400},
	} {
		code, body := fetch(t, probeURL(srv.URL, "m", tc.target))
		if code != tc.code {
			t.Errorf("target %q: status %d, want %d (%s)", tc.target, code, tc.code, body)
		}
		if strings.Contains(body, "hunter2") || strings.Contains(body, fmt.Sprint(port)) {
			t.Errorf("target %q: the error echoes the request: %s", tc.target, body)
		}
	}
	for _, u := range []string{
		srv.URL + "/probe?target=" + allowed.Addr(),
		probeURL(srv.URL, "nope", allowed.Addr()),
	} {
		if code, _ := fetch(t, u); code != 400 {
			t.Errorf("%s: status %d, want 400", u, code)
		}
	}
	resp, err := http.Post(probeURL(srv.URL, "m", allowed.Addr()), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /probe: %s, want 405", resp.Status)
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("the listener outside the allowlist accepted %d connections", n)
	}
	// Only "outside.test" needed a lookup? No: no range rule admits the
	// listener's port, so nothing needed DNS at all.
	if n := resolver.Lookups(); n != 0 {
		t.Errorf("%d DNS lookups for targets the patterns decide", n)
	}
	if n := p.PooledTargets(); n != 0 {
		t.Errorf("%d targets pooled after refused probes", n)
	}

	// The certificate probe of the tls-port is a connection too: module m
	// does not allow it, module withcert does.
	code, body := fetch(t, probeURL(srv.URL, "m", allowed.Addr()))
	if code != 200 || !strings.Contains(body, "redis_security_up 1") {
		t.Fatalf("allowed target: %d\n%s", code, body)
	}
	if strings.Contains(body, "redis_security_tls_certificate_not_after_timestamp_seconds") {
		t.Error("module m read the certificate of a port outside its allowlist")
	}
	_, body = fetch(t, probeURL(srv.URL, "withcert", allowed.Addr()))
	if !strings.Contains(body, "redis_security_tls_certificate_not_after_timestamp_seconds") {
		t.Errorf("module withcert allows the tls-port: want the certificate metric\n%s", body)
	}
}

// TestProbeConcurrency: 200 concurrent probes over 20 targets all succeed,
// with one connection per target on each server.
func TestProbeConcurrency(t *testing.T) {
	t.Parallel()
	const targets, probes = 20, 200
	servers := make([]*redistest.Server, targets)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i] = startServer(t, "admin", "pw")
		}()
	}
	wg.Wait()
	yaml := fmt.Sprintf("modules:\n  m:\n    username: exporter\n    password_file: %s\n    allowed_targets: [\"127.0.0.1/32\"]\n", writeFile(t, "pw"))
	p, srv := newProber(t, yaml, nil, probe.Options{MaxConcurrent: 16, Handler: exporter.HandlerOptions{DefaultTimeout: 30 * time.Second}})

	var failures atomic.Int32
	errs := make(chan string, probes)
	for i := 0; i < probes; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(probeURL(srv.URL, "m", servers[i%targets].Addr()))
			if err != nil {
				failures.Add(1)
				errs <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(b), "redis_security_up 1") {
				failures.Add(1)
				errs <- fmt.Sprintf("%s: %.200s", resp.Status, b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := p.PooledTargets(); n != targets {
		t.Errorf("%d pooled targets, want %d", n, targets)
	}
	for _, s := range servers {
		if n := exporterConnections(t, s); n != 1 {
			t.Errorf("server %s: %d connections of the exporter's user, want 1", s.Addr(), n)
		}
	}
	// The exporter's own metrics count the probes.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.Collector())
	if err := testutil.GatherAndCompare(reg, strings.NewReader(fmt.Sprintf(`
# HELP redis_security_exporter_probe_pooled_targets Targets with a pooled connection (or a pooled attempt) for /probe and /discover.
# TYPE redis_security_exporter_probe_pooled_targets gauge
redis_security_exporter_probe_pooled_targets %d
`, targets)), "redis_security_exporter_probe_pooled_targets"); err != nil {
		t.Error(err)
	}
	if got := requests(t, reg, "probe", "m", "success"); got != probes {
		t.Errorf("requests_total{result=success} = %v, want %d", got, probes)
	}
}

// TestProbeSpellingsShareOneConnection: every spelling of one server (case,
// leading zeros in the port, IPv4-mapped IPv6, a trailing slash) is one
// pooled target with one connection; otherwise a caller could open a
// connection per spelling and exhaust the server's maxclients through one
// allowed target.
func TestProbeSpellingsShareOneConnection(t *testing.T) {
	t.Parallel()
	s := startServer(t, "admin", "pw")
	yaml := fmt.Sprintf("modules:\n  m:\n    username: exporter\n    password_file: %s\n    allowed_targets: [\"127.0.0.1:%d\", \"localhost:%[2]d\"]\n",
		writeFile(t, "pw"), s.Port)
	p, srv := newProber(t, yaml, nil, probe.Options{})
	for _, f := range []string{
		"127.0.0.1:%d", "redis://127.0.0.1:0%d", "127.0.0.1:000%d", "[::ffff:127.0.0.1]:%d", "redis://[::ffff:7f00:1]:%d/",
		"localhost:%d", "LOCALHOST:%d", "redis://LocalHost:00%d/0",
	} {
		target := fmt.Sprintf(f, s.Port)
		if code, body := fetch(t, probeURL(srv.URL, "m", target)); code != 200 || !strings.Contains(body, "redis_security_up 1") {
			t.Fatalf("%s: %d\n%s", target, code, body)
		}
	}
	if n := p.PooledTargets(); n != 2 {
		t.Errorf("%d pooled targets, want 2 (the address and the name)", n)
	}
	if n := exporterConnections(t, s); n != 2 {
		t.Errorf("%d connections of the exporter's user, want 2", n)
	}
}

// requests is the value of one redis_security_exporter_requests_total
// series (0 when absent).
func requests(t *testing.T, g prometheus.Gatherer, endpoint, module, result string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "redis_security_exporter_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["endpoint"] == endpoint && labels["module"] == module && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// exporterConnections counts the server's clients authenticated as the
// exporter's user.
func exporterConnections(t *testing.T, s *redistest.Server) int {
	t.Helper()
	n := 0
	for _, line := range strings.Split(s.Do("default", "admin", "CLIENT", "LIST").(string), "\n") {
		if strings.Contains(line, " user=exporter ") {
			n++
		}
	}
	return n
}

// TestProbeIdleTargetsClose: a target not probed for the idle timeout loses
// its pooled connection.
func TestProbeIdleTargetsClose(t *testing.T) {
	t.Parallel()
	s := startServer(t, "admin", "pw")
	yaml := fmt.Sprintf("modules:\n  m:\n    username: exporter\n    password_file: %s\n    allowed_targets: [\"127.0.0.1:%d\"]\n", writeFile(t, "pw"), s.Port)
	p, srv := newProber(t, yaml, nil, probe.Options{IdleTimeout: time.Second})
	if code, body := fetch(t, probeURL(srv.URL, "m", s.Addr())); code != 200 || !strings.Contains(body, "redis_security_up 1") {
		t.Fatalf("%d\n%s", code, body)
	}
	if n := exporterConnections(t, s); n != 1 {
		t.Fatalf("%d exporter connections after a probe, want 1", n)
	}
	deadline := time.Now().Add(15 * time.Second)
	for exporterConnections(t, s) != 0 || p.PooledTargets() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the idle target was not closed: %d connections, %d pooled", exporterConnections(t, s), p.PooledTargets())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// And it comes back on the next probe.
	if code, body := fetch(t, probeURL(srv.URL, "m", s.Addr())); code != 200 || !strings.Contains(body, "redis_security_up 1") {
		t.Fatalf("%d\n%s", code, body)
	}
}

// TestProbeDeadlines: a module's timeout caps the probe's deadline, and so
// does Prometheus's X-Prometheus-Scrape-Timeout-Seconds header.
func TestProbeDeadlines(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, "user default on >admin ~* &* +@all\nenable-debug-command yes\n"+fmt.Sprintf(exporterACL, "pw"))
	pw := writeFile(t, "pw")
	yaml := fmt.Sprintf(`
modules:
  capped:
    username: exporter
    password_file: %s
    timeout: 300ms
    allowed_targets: ["127.0.0.1:%d"]
  uncapped:
    username: exporter
    password_file: %[1]s
    allowed_targets: ["127.0.0.1:%[2]d"]
`, pw, s.Port)
	_, srv := newProber(t, yaml, nil, probe.Options{Handler: exporter.HandlerOptions{DefaultTimeout: 30 * time.Second, TimeoutOffset: 100 * time.Millisecond}})
	for _, m := range []string{"capped", "uncapped"} {
		if _, body := fetch(t, probeURL(srv.URL, m, s.Addr())); !strings.Contains(body, "redis_security_up 1") {
			t.Fatalf("first probe with %s:\n%s", m, body)
		}
	}
	sleep := func() {
		go s.Client("default", "admin").Do(context.Background(), "DEBUG", "SLEEP", "2")
		time.Sleep(100 * time.Millisecond)
	}
	// Without a cap either probe would wait out the 2 s sleep within its
	// 30 s default deadline and report up 1.
	sleep()
	if _, body := fetch(t, probeURL(srv.URL, "capped", s.Addr())); !strings.Contains(body, "redis_security_up 0") {
		t.Errorf("a probe of a sleeping server with a 300ms module timeout:\n%s", body)
	}
	time.Sleep(2 * time.Second)
	sleep()
	req, _ := http.NewRequest(http.MethodGet, probeURL(srv.URL, "uncapped", s.Addr()), nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "0.5")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "redis_security_up 0") {
		t.Errorf("a probe with a 0.5 s Prometheus timeout of a sleeping server:\n%s", body)
	}
}
