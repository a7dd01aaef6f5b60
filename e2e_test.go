package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// rulesFile is the bundled rule file, loaded by Prometheus unmodified.
const rulesFile = "alerts/redis-security.rules.yml"

// TestAlertsEndToEnd runs the bundled alert rules for real: redis-server, the
// exporter (a real process), Prometheus scraping it every second with the
// rules file exactly as shipped, and Alertmanager delivering to a webhook
// served by this test. Everything listens on 127.0.0.1 except Redis, which
// binds every interface as the scenario requires (with protected mode on
// until the last step, and a default user that may only PING).
//
//  1. A brute force (failed AUTHs at about 200/s) -> RedisSecurityAuthFailureSpike
//     firing, critical, for the exporter's instance (within seconds: over
//     5/s the rule pages on the next evaluation).
//  2. The attack stops -> the same alert resolved (about a minute: the
//     failures leave the rule's 1m rate window).
//  3. CONFIG SET protected-mode no on the server bound to all interfaces with
//     an open default user -> RedisSecurityExposedWithoutAuth firing (30s
//     "for").
//
// Finally every rule must have evaluated without error against the real
// series. Missing prometheus or prometheus-alertmanager binaries fail the
// test: make deps installs them.
func TestAlertsEndToEnd(t *testing.T) {
	t.Parallel()
	begin := time.Now()
	promBin := lookBinary(t, "PROMETHEUS_BIN", "prometheus", "Debian package prometheus")
	amBin := lookBinary(t, "ALERTMANAGER_BIN", "prometheus-alertmanager", "Debian package prometheus-alertmanager", "alertmanager")
	rules, err := filepath.Abs(rulesFile)
	if err != nil {
		t.Fatal(err)
	}

	// Redis: bound to every interface, protected mode on. The default user
	// is on with nopass (so exposed_without_auth only waits for protected
	// mode) but may run nothing but PING, so that the few seconds it is
	// really open to the network in step 3 expose nothing.
	appPassword, exporterPassword := randomHex(t), randomHex(t)
	srv := redistest.Start(t, "bind * -::*\nprotected-mode yes\n"+
		"user default on nopass resetchannels -@all +ping\n"+
		"user app on >"+appPassword+" ~* &* +@all\n"+
		"user exporter on >"+exporterPassword+" "+collector.LeastPrivilegeRules+"\n")

	exp := startExporter(t, []string{"REDIS_PASSWORD=" + exporterPassword}, "--redis.addr="+srv.Addr(), "--redis.user=exporter")
	instance := strings.TrimPrefix(exp.url, "http://")

	hook := newWebhook(t)
	am := startAlertmanager(t, amBin, hook.url)
	prom := startPrometheus(t, promBin, rules, instance, am.addr)
	e2e := &e2eEnv{t: t, prom: prom, am: am, hook: hook, exporter: exp}

	// The exporter is scraped and sees the server as reachable beyond
	// loopback, but not exposed (protected mode).
	e2e.waitQuery(60*time.Second, `redis_security_up == 1 and on () redis_security_bind_non_loopback == 1 and on () redis_security_exposed_without_auth == 0`)
	e2e.waitQuery(30*time.Second, `instance:redis_security_auth_failures:rate1m == 0`)
	t.Logf("set-up: %.1fs", time.Since(begin).Seconds())

	// 1. Brute force.
	attackStart := time.Now()
	stop, failures := bruteForce(t, srv.Addr())
	fired := e2e.waitAlert("RedisSecurityAuthFailureSpike", "firing", 90*time.Second)
	firedAfter := time.Since(attackStart)
	for k, want := range map[string]string{"severity": "critical", "instance": instance, "job": "redis_security"} {
		if got := fired.Labels[k]; got != want {
			t.Errorf("RedisSecurityAuthFailureSpike label %s = %q, want %q (labels %v)", k, got, want, fired.Labels)
		}
	}
	if fired.Annotations["summary"] == "" || !strings.Contains(fired.Annotations["description"], instance) || fired.Annotations["runbook_url"] == "" {
		t.Errorf("RedisSecurityAuthFailureSpike annotations: %v", fired.Annotations)
	}

	// 2. The attack stops: resolved.
	stop()
	attackEnd := time.Now()
	t.Logf("brute force: %d failed AUTHs in %.1fs; firing notification after %.1fs", failures(), attackEnd.Sub(attackStart).Seconds(), firedAfter.Seconds())
	resolved := e2e.waitAlert("RedisSecurityAuthFailureSpike", "resolved", 150*time.Second)
	t.Logf("resolved notification %.1fs after the attack stopped", time.Since(attackEnd).Seconds())
	if resolved.Labels["instance"] != instance || resolved.Labels["severity"] != "critical" {
		t.Errorf("resolved alert labels: %v", resolved.Labels)
	}

	// 3. Exposed: protected mode off on a server bound to every interface
	// with an open default user.
	if a, ok := hook.find("RedisSecurityExposedWithoutAuth", "firing"); ok {
		t.Fatalf("RedisSecurityExposedWithoutAuth arrived before the server was exposed: %v", a)
	}
	exposeStart := time.Now()
	srv.Do("app", appPassword, "CONFIG", "SET", "protected-mode", "no")
	exposed := e2e.waitAlert("RedisSecurityExposedWithoutAuth", "firing", 90*time.Second)
	t.Logf("exposed-without-auth notification %.1fs after CONFIG SET protected-mode no", time.Since(exposeStart).Seconds())
	for k, want := range map[string]string{"severity": "critical", "instance": instance, "job": "redis_security"} {
		if got := exposed.Labels[k]; got != want {
			t.Errorf("RedisSecurityExposedWithoutAuth label %s = %q, want %q (labels %v)", k, got, want, exposed.Labels)
		}
	}

	// Every rule evaluated against the real series without error.
	e2e.checkRuleHealth()

	// Every dashboard query parses and returns data from the same server,
	// after an ACL denial of another kind than AUTH (the default user may
	// only PING) has been scraped.
	denied := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	defer denied.Close()
	deny := func() {
		if err := denied.Get(context.Background(), "k").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
			t.Fatalf("GET by the default user: %v, want NOPERM", err)
		}
	}
	// A counter series that appears at 1 has no rate yet (Prometheus never
	// saw it at 0): deny, let it be scraped, deny again.
	deny()
	e2e.waitQuery(30*time.Second, `redis_security_acl_log_events_total{reason="command"} > 0`)
	deny()
	e2e.waitQuery(30*time.Second, `rate(redis_security_acl_log_events_total{reason!="auth"}[1m]) > 0`)
	e2e.checkDashboards(instance)
	t.Logf("end-to-end alert test: %.1fs", time.Since(begin).Seconds())
}

// lookBinary finds a program by environment variable or name; a missing one
// fails the test.
func lookBinary(t *testing.T, env, name, pkg string, alternatives ...string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	for _, n := range append([]string{name}, alternatives...) {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatalf("%s not found (install %s, or run make deps / make test, which do; or set %s)", name, pkg, env)
	return ""
}

func randomHex(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// process is a child process whose output is kept for failure messages. It
// is killed and waited for at the end of the test.
type process struct {
	name string
	addr string
	lockedBuffer
}

func (p *process) logs() string {
	s := p.String()
	if len(s) > 4000 {
		s = "...\n" + s[len(s)-4000:]
	}
	return s
}

func startProcess(t *testing.T, name, addr, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, addr: addr}
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Stdout, cmd.Stderr = p, p
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("%s exited at start-up:\n%s", name, p.logs())
		default:
		}
		if resp, err := http.Get("http://" + addr + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready on %s after 30s:\n%s", name, addr, p.logs())
	return nil
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// startAlertmanager: no clustering, every alert its own group, notified
// within about a second, resolved notifications on.
func startAlertmanager(t *testing.T, bin, webhookURL string) *process {
	t.Helper()
	dir := t.TempDir()
	conf := writeFile(t, dir, "alertmanager.yml", fmt.Sprintf(`route:
  receiver: test
  group_by: ['...']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: %q
        send_resolved: true
`, webhookURL))
	addr := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
	return startProcess(t, "alertmanager", addr, bin,
		"--config.file="+conf,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=",
		"--log.level=warn")
}

// startPrometheus scrapes the exporter every second and evaluates the rule
// file every second, alerting to amAddr.
func startPrometheus(t *testing.T, bin, rules, target, amAddr string) *process {
	t.Helper()
	dir := t.TempDir()
	conf := writeFile(t, dir, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: redis_security
    static_configs:
      - targets: [%q]
`, rules, amAddr, target))
	addr := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
	return startProcess(t, "prometheus", addr, bin,
		"--config.file="+conf,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn")
}

// webhookAlert is one alert of an Alertmanager webhook notification.
type webhookAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

type webhook struct {
	url      string
	mu       sync.Mutex
	received []webhookAlert
}

func newWebhook(t *testing.T) *webhook {
	h := &webhook{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Alerts []webhookAlert `json:"alerts"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &msg); err != nil {
			t.Errorf("webhook: undecodable notification: %v\n%s", err, body)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.received = append(h.received, msg.Alerts...)
		h.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/alerts"
	return h
}

// find returns the first alert received with that name and status.
func (h *webhook) find(alertname, status string) (webhookAlert, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.received {
		if a.Labels["alertname"] == alertname && a.Status == status {
			return a, true
		}
	}
	return webhookAlert{}, false
}

func (h *webhook) summary() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, a := range h.received {
		fmt.Fprintf(&b, "  %s %s %v\n", a.Status, a.Labels["alertname"], a.Labels)
	}
	if b.Len() == 0 {
		return "  (nothing)\n"
	}
	return b.String()
}

// bruteForce sends failed AUTHs for an existing user over one connection,
// 20 pipelined every 100ms, until stop is called; it returns stop and the
// number of failures the server answered with WRONGPASS.
func bruteForce(t *testing.T, addr string) (stop func(), count func() int64) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer conn.Close()
		r := bufio.NewReader(conn)
		batch := strings.Repeat("AUTH app not-the-password\r\n", 20)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := conn.Write([]byte(batch)); err != nil {
				t.Errorf("brute force: %v", err)
				return
			}
			for i := 0; i < 20; i++ {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Errorf("brute force: %v", err)
					return
				}
				if !strings.HasPrefix(line, "-WRONGPASS") {
					t.Errorf("brute force: unexpected reply %q", line)
					return
				}
				n.Add(1)
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop, n.Load
}

type e2eEnv struct {
	t        *testing.T
	prom     *process
	am       *process
	hook     *webhook
	exporter *exporterProcess
	// emptyDashboardQueries counts the dashboard queries that returned no
	// series (allowed for annotations and the metrics of noDataOnTestServer).
	emptyDashboardQueries int
}

// api GETs a Prometheus or Alertmanager API path and returns the body.
func (e *e2eEnv) api(p *process, path string) string {
	resp, err := http.Get("http://" + p.addr + path)
	if err != nil {
		return fmt.Sprintf("(GET %s: %v)", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// query runs an instant query and returns the number of samples.
func (e *e2eEnv) query(q string) (int, error) {
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(e.api(e.prom, "/api/v1/query?query="+url.QueryEscape(q))), &r); err != nil {
		return 0, err
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("query %s: %s", q, r.Error)
	}
	return len(r.Data.Result), nil
}

// diagnostics is what a timed-out wait prints: Prometheus's alerts and
// rules, Alertmanager's alerts, the notifications received, the key series
// and the processes' logs.
func (e *e2eEnv) diagnostics() string {
	var b strings.Builder
	fmt.Fprintf(&b, "webhook received:\n%s", e.hook.summary())
	for _, q := range []string{"redis_security_auth_failures_total", "instance:redis_security_auth_failures:rate1m",
		"redis_security_exposed_without_auth", "redis_security_protected_mode_enabled", "up"} {
		fmt.Fprintf(&b, "query %s:\n  %s\n", q, e.api(e.prom, "/api/v1/query?query="+url.QueryEscape(q)))
	}
	fmt.Fprintf(&b, "prometheus /api/v1/alerts:\n  %s\n", e.api(e.prom, "/api/v1/alerts"))
	fmt.Fprintf(&b, "prometheus /api/v1/rules:\n  %s\n", e.api(e.prom, "/api/v1/rules"))
	fmt.Fprintf(&b, "alertmanager /api/v2/alerts:\n  %s\n", e.api(e.am, "/api/v2/alerts"))
	fmt.Fprintf(&b, "prometheus log:\n%s\nalertmanager log:\n%s\nexporter log:\n%s", e.prom.logs(), e.am.logs(), e.exporter.logs())
	return b.String()
}

// waitQuery waits until q returns at least one sample.
func (e *e2eEnv) waitQuery(timeout time.Duration, q string) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		n, err := e.query(q)
		if err == nil && n > 0 {
			return
		}
		last = err
		time.Sleep(250 * time.Millisecond)
	}
	e.t.Fatalf("no result for %s after %s (last error: %v)\n%s", q, timeout, last, e.diagnostics())
}

// waitAlert waits for a webhook notification of alertname with status.
func (e *e2eEnv) waitAlert(alertname, status string, timeout time.Duration) webhookAlert {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if a, ok := e.hook.find(alertname, status); ok {
			return a
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.t.Fatalf("no %s notification for %s after %s\n%s", status, alertname, timeout, e.diagnostics())
	return webhookAlert{}
}

// checkRuleHealth fails for every rule Prometheus could not evaluate.
func (e *e2eEnv) checkRuleHealth() {
	e.t.Helper()
	var r struct {
		Data struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	body := e.api(e.prom, "/api/v1/rules")
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		e.t.Fatalf("/api/v1/rules: %v\n%s", err, body)
	}
	n := 0
	for _, g := range r.Data.Groups {
		for _, rule := range g.Rules {
			n++
			if rule.Health != "ok" {
				e.t.Errorf("rule %s (group %s): health %q, error %q", rule.Name, g.Name, rule.Health, rule.LastError)
			}
		}
	}
	if n == 0 {
		e.t.Errorf("Prometheus loaded no rules:\n%s", body)
	}
}

// noDataOnTestServer are the metrics this end-to-end server cannot have: a
// dashboard query reading one of them must parse but may return nothing.
var noDataOnTestServer = map[string]string{
	"redis_security_acl_denied_total":                            "INFO acl_access_denied_* exists from Redis 7.2 (the test server is 7.0)",
	"redis_security_acl_log_lost_events_total":                   "ACL LOG entry ids exist from Redis 7.2",
	"redis_security_client_buffer_limit_disconnections_total":    "INFO *_buffer_limit_disconnections exist from Redis 7.4",
	"redis_security_module_info":                                 "no module is loaded",
	"redis_security_replication_source_info":                     "the server is not a replica",
	"redis_security_replica_clients":                             "the server has no replica",
	"redis_security_lua_package_exposed":                         "the lua-sandbox probe is opt-in",
	"redis_security_tls_certificate_not_after_timestamp_seconds": "the server has no TLS port",
	"redis_security_tls_connection_info":                         "the exporter connects in plaintext",
	"redis_security_unixsocket_permissions":                      "the server has no unix socket",
	"redis_security_unixsocket_world_accessible":                 "the server has no unix socket",
	"redis_security_commandlog_entries":                          "COMMANDLOG exists from Valkey 8.1 (the test server is Redis 7.0)",
	"redis_security_commandlog_events_total":                     "COMMANDLOG exists from Valkey 8.1 (the test server is Redis 7.0)",
	"redis_security_commandlog_last_event_timestamp_seconds":     "COMMANDLOG exists from Valkey 8.1 (the test server is Redis 7.0)",
	"redis_security_commandlog_max_length":                       "COMMANDLOG exists from Valkey 8.1 (the test server is Redis 7.0)",
	"redis_security_commandlog_enabled":                          "COMMANDLOG exists from Valkey 8.1 (the test server is Redis 7.0)",
	"redis_security_commandlog_slow_threshold_seconds":           "COMMANDLOG exists from Valkey 8.1 (the test server is Redis 7.0)",
	"redis_security_commandlog_large_threshold_bytes":            "COMMANDLOG exists from Valkey 8.1 (the test server is Redis 7.0)",
}

// emptyWhenHealthy are the metrics whose filtered panels list problems.
var emptyWhenHealthy = map[string]bool{
	"redis_security_scrape_collector_success": true, // "== 0": failing collectors
	"redis_security_scrape_command_denied":    true, // "== 1": commands denied to the exporter
}

var (
	metricToken = regexp.MustCompile(`redis_security_[a-z_]+`)
	labelValues = regexp.MustCompile(`^label_values\((.*),\s*[a-z_]+\)$`)
)

// checkDashboards runs every query of the bundled dashboards (panels,
// variables, annotations) against the live Prometheus, with the dashboard
// variables filled in.
func (e *e2eEnv) checkDashboards(instance string) {
	e.t.Helper()
	files, err := filepath.Glob("dashboards/*.json")
	if err != nil || len(files) == 0 {
		e.t.Fatalf("no dashboards: %v", err)
	}
	fill := strings.NewReplacer("${datasource}", "", "$__rate_interval", "1m", "$__interval", "15s", "$__range", "5m",
		// A plain address is a valid regex matching itself (dots included).
		"${job}", "redis_security", "$job", "redis_security", "${instance}", instance, "$instance", instance)
	var checked, withData int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			e.t.Fatal(err)
		}
		var dash any
		if err := json.Unmarshal(b, &dash); err != nil {
			e.t.Fatalf("%s: %v", f, err)
		}
		var walk func(v any, inAnnotation bool)
		walk = func(v any, inAnnotation bool) {
			switch v := v.(type) {
			case map[string]any:
				for k, c := range v {
					annotation := inAnnotation || k == "annotations"
					if s, ok := c.(string); ok && (k == "expr" || k == "query") && strings.Contains(s, "redis_security_") {
						e.checkDashboardQuery(f, fill.Replace(s), annotation)
						checked++
						continue
					}
					walk(c, annotation)
				}
			case []any:
				for _, c := range v {
					walk(c, inAnnotation)
				}
			}
		}
		walk(dash, false)
	}
	withData = checked - e.emptyDashboardQueries
	e.t.Logf("dashboards: %d queries parsed, %d returned data, %d allowed to be empty", checked, withData, e.emptyDashboardQueries)
}

func (e *e2eEnv) checkDashboardQuery(file, q string, annotation bool) {
	e.t.Helper()
	if m := labelValues.FindStringSubmatch(q); m != nil {
		q = m[1] // a variable: the series it takes its values from
	}
	n, err := e.query(q)
	if err != nil {
		e.t.Errorf("%s: query does not run: %v", file, err)
		return
	}
	if n > 0 {
		return
	}
	e.emptyDashboardQueries++
	if annotation {
		return // events: nothing to show while nothing changes
	}
	for _, m := range metricToken.FindAllString(q, -1) {
		if _, ok := noDataOnTestServer[m]; ok {
			return
		}
		// Lists of problems (failing collectors, denied commands) are
		// empty while the exporter is healthy, as it is here; only their
		// filtered form may be empty.
		if emptyWhenHealthy[m] && (strings.HasSuffix(q, "== 0") || strings.HasSuffix(q, "== 1")) {
			return
		}
	}
	e.t.Errorf("%s: query returns no data from a live exporter: %s", file, q)
}
