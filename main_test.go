package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"golang.org/x/crypto/bcrypt"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// TestMain lets the tests run the exporter as a real process: the test binary
// re-executes itself with RSE_TEST_MAIN=1 and becomes the exporter.
func TestMain(m *testing.M) {
	if os.Getenv("RSE_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestInvalidConfigurationStopsStartup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	emptyFile := filepath.Join(dir, "empty")
	os.WriteFile(emptyFile, nil, 0o600)
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("pw\n"), 0o600)
	tlsFiles := redistest.GenerateTLS(t, dir, time.Hour)
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello\n"), 0o600)
	badKey := filepath.Join(dir, "bad.key")
	os.WriteFile(badKey, []byte("-----BEGIN EC PRIVATE KEY-----\nhunter2\n-----END EC PRIVATE KEY-----\n"), 0o600)
	badWebConfig := filepath.Join(dir, "web.yml")
	os.WriteFile(badWebConfig, []byte("tls_server_config:\n  cert_file: /nonexistent.crt\n  key_file: /nonexistent.key\nbogus: 1\n"), 0o600)

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"password in the address", []string{"--redis.addr=redis://u:hunter2@localhost:6379"}, nil, "must not contain credentials"},
		{"unknown scheme", []string{"--redis.addr=http://localhost"}, nil, "is not one of redis, rediss, unix"},
		{"unix without path", []string{"--redis.addr=unix://"}, nil, "unix:///absolute/path"},
		{"missing password file", []string{"--redis.password-file=" + filepath.Join(dir, "nope")}, nil, "--redis.password-file: reading password file"},
		{"empty password file", []string{"--redis.password-file=" + emptyFile}, nil, "is empty"},
		{"password file and REDIS_PASSWORD", []string{"--redis.password-file=" + pwFile}, map[string]string{"REDIS_PASSWORD": "x"}, "use one"},
		{"user without password", []string{"--redis.user=bob"}, nil, "without a password"},
		{"bad log level", []string{"--log.level=loud"}, nil, "--log.level"},
		{"bad log format", []string{"--log.format=xml"}, nil, "--log.format"},
		{"bad duration", []string{"--scrape.timeout=soon"}, nil, "--scrape.timeout"},
		{"unknown flag", []string{"--redis.password=x"}, nil, "unknown long flag"},
		{"bad web config", []string{"--web.config.file=" + badWebConfig}, nil, "--web.config.file"},
		{"telemetry path without slash", []string{"--web.telemetry-path=metrics"}, nil, "must start with /"},
		{"telemetry path of the health endpoint", []string{"--web.telemetry-path=/-/healthy"}, nil, "one of the exporter's own endpoints"},
		{"telemetry path of /probe", []string{"--web.telemetry-path=/probe"}, nil, "one of the exporter's own endpoints"},
		{"telemetry path with a wildcard", []string{"--web.telemetry-path=/{x}"}, nil, "without spaces, control characters, { or }"},
		{"telemetry path with a broken wildcard", []string{"--web.telemetry-path=/{x"}, nil, "without spaces, control characters, { or }"},
		{"telemetry path with a method", []string{"--web.telemetry-path=/metrics {"}, nil, "without spaces"},
		{"telemetry path of /probe, escaped", []string{"--web.telemetry-path=/%70robe"}, nil, `--web.telemetry-path "/%70robe": pattern`},
		{"fractional integer flag", []string{"--clients.max=2.7"}, nil, `--clients.max: "2.7" is not a whole number`},
		{"exponent integer flag", []string{"--commands.max-users=1e2"}, nil, `--commands.max-users: "1e2" is not a whole number`},
		{"hex integer flag", []string{"--probe.max-concurrent=0x10"}, nil, `--probe.max-concurrent: "0x10" is not a whole number`},
		{"integer flag out of range", []string{"--clients.every-n-scrapes=99999999999999999999"}, nil, `--clients.every-n-scrapes: "99999999999999999999" is out of range`},
		{"port out of range", []string{"--redis.addr=redis://127.0.0.1:99999"}, nil, "the port must be 1 to 65535"},
		{"port 0", []string{"--redis.addr=h:0"}, nil, "the port must be 1 to 65535"},
		{"missing weak passwords file", []string{"--acl.weak-passwords-file=" + filepath.Join(dir, "weak-nope")}, nil, "--acl.weak-passwords-file: open " + filepath.Join(dir, "weak-nope") + ": no such file"},
		{"weak passwords file is a directory", []string{"--acl.weak-passwords-file=" + dir, "--no-acl.bundled-weak-passwords"}, nil, "--acl.weak-passwords-file: reading " + dir},
		{"TLS 1.0", []string{"--tls.min-version=TLS1.0"}, nil, `--tls.min-version: "TLS1.0" is not a supported minimum TLS version: want TLS1.2 or TLS1.3`},
		{"SSLv3", []string{"--tls.min-version=SSLv3"}, nil, "--tls.min-version"},
		{"certificate without key", []string{"--tls.cert-file=" + tlsFiles.ClientCert}, nil, "--tls.cert-file and --tls.key-file go together"},
		{"key without certificate", []string{"--tls.key-file=" + tlsFiles.ClientKey}, nil, "--tls.cert-file and --tls.key-file go together"},
		{"missing CA file", []string{"--tls.ca-file=" + filepath.Join(dir, "nope.crt")}, nil, "--tls.ca-file: open " + filepath.Join(dir, "nope.crt")},
		{"CA file without certificates", []string{"--tls.ca-file=" + notPEM}, nil, "--tls.ca-file " + notPEM + ": no PEM certificate found"},
		{"invalid key", []string{"--tls.cert-file=" + tlsFiles.ClientCert, "--tls.key-file=" + badKey}, nil, "--tls.key-file " + badKey},
		{"key of another certificate", []string{"--tls.cert-file=" + tlsFiles.ServerCert, "--tls.key-file=" + tlsFiles.ClientKey}, nil, "private key does not match public key"},
		{"missing key file", []string{"--tls.cert-file=" + tlsFiles.ClientCert, "--tls.key-file=" + filepath.Join(dir, "nope.key")}, nil, "--tls.key-file: open"},
		{"probe interval", []string{"--tls.probe-interval=0s"}, nil, "--tls.probe-interval"},
		{"negative clients.max", []string{"--clients.max=-1"}, nil, "--clients.max -1"},
		{"every 0 scrapes", []string{"--clients.every-n-scrapes=0"}, nil, "--clients.every-n-scrapes 0"},
		{"negative ACL LIST age", []string{"--acl.list-max-age=-1m"}, nil, `--acl.list-max-age "-1m": want 0 (every scrape) or a positive duration`},
		{"ACL LIST age not a duration", []string{"--acl.list-max-age=often"}, nil, "acl.list-max-age"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(append(tc.args, "--web.listen-address=127.0.0.1:0"), &stderr, func(k string) string { return tc.env[k] })
			if code != 2 {
				t.Errorf("exit code %d, want 2; stderr:\n%s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr does not name the problem (%q):\n%s", tc.want, stderr.String())
			}
			if strings.Contains(stderr.String(), "hunter2") {
				t.Errorf("stderr leaks the password:\n%s", stderr.String())
			}
		})
	}
}

// TestEnvironmentVariables: flags can be set from the environment, and the
// process exits 2 on bad values (a real process: kingpin reads os.Environ).
func TestEnvironmentVariables(t *testing.T) {
	t.Parallel()
	for env, want := range map[string]string{
		"REDIS_ADDR=ftp://x":                                                    "is not one of redis, rediss, unix",
		"REDIS_SECURITY_EXPORTER_LOG_LEVEL=chatty":                              "--log.level",
		"REDIS_SECURITY_EXPORTER_COLLECT_ACL=maybe":                             "collect.acl",
		"REDIS_SECURITY_EXPORTER_ACL_WEAK_PASSWORDS_FILE=/nonexistent/weak.txt": "--acl.weak-passwords-file: open /nonexistent/weak.txt",
		"REDIS_SECURITY_EXPORTER_ACL_BUNDLED_WEAK_PASSWORDS=maybe":              "acl.bundled-weak-passwords",
		"REDIS_SECURITY_EXPORTER_TLS_MIN_VERSION=TLS1.1":                        "--tls.min-version",
		"REDIS_SECURITY_EXPORTER_TLS_CA_FILE=/nonexistent/ca.crt":               "--tls.ca-file: open /nonexistent/ca.crt",
		"REDIS_SECURITY_EXPORTER_TLS_INSECURE_SKIP_VERIFY=perhaps":              "tls.insecure-skip-verify",
		"REDIS_SECURITY_EXPORTER_CLIENTS_MAX=-5":                                "--clients.max",
		"REDIS_SECURITY_EXPORTER_CLIENTS_MAX=abc":                               `--clients.max: "abc" is not a whole number`,
	} {
		cmd := exec.Command(os.Args[0], "--web.listen-address=127.0.0.1:0")
		cmd.Env = []string{"RSE_TEST_MAIN=1", env}
		out, err := cmd.CombinedOutput()
		if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != 2 {
			t.Errorf("%s: want exit code 2, got %v\n%s", env, err, out)
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("%s: output does not name the problem (%q):\n%s", env, want, out)
		}
	}
}

// exporterProcess is the exporter running as its own process.
type exporterProcess struct {
	url string
	cmd *exec.Cmd
	lockedBuffer
}

func (p *exporterProcess) logs() string { return p.String() }

// lockedBuffer collects a child process's output, which the process writes
// while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startExporter(t *testing.T, env []string, args ...string) *exporterProcess {
	t.Helper()
	port := redistest.FreePort(t)
	p := &exporterProcess{url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	cmd := exec.Command(os.Args[0], append([]string{fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port)}, args...)...)
	cmd.Env = append([]string{"RSE_TEST_MAIN=1", "PATH=" + os.Getenv("PATH")}, env...)
	cmd.Stdout, cmd.Stderr = p, p
	p.cmd = cmd
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(p.url + "/-/healthy"); err == nil {
			resp.Body.Close()
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("exporter did not start; logs:\n%s", p.logs())
	return nil
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return string(b)
}

// TestCanariesNeverLeak sets every secret the exporter could come across to a
// unique canary and checks that neither the canary nor its SHA-256 (the form
// ACL LIST shows) appears in /metrics, the landing page or debug logs, on the
// success path and on the error paths.
func TestCanariesNeverLeak(t *testing.T) {
	t.Parallel()
	canaries := map[string]string{
		"requirepass":       "canary-requirepass-7f3a",
		"masterauth":        "canary-masterauth-91bc",
		"exporter password": "canary-exporter-pw-55d2",
		"user password":     "canary-user-pw-0e77",
		"tls key pass":      "canary-tls-key-pass-c4a1",
		"wrong password":    "canary-wrong-pw-3b9e",
		"weak list entry":   "canary-weak-list-6d0f",
	}
	tlsFiles := redistest.GenerateTLS(t, t.TempDir(), 24*time.Hour)
	srv := redistest.Start(t, fmt.Sprintf("requirepass %s\nmasterauth %s\nmasteruser nobody\ntls-key-file-pass %s\n%s"+
		"user exporter on >%s "+collector.LeastPrivilegeRules+"\nuser app on >%s ~* +@all\n",
		canaries["requirepass"], canaries["masterauth"], canaries["tls key pass"], tlsFiles.ServerConfig(),
		canaries["exporter password"], canaries["user password"]))

	// The operator's weak list holds a canary of its own and app's password.
	weakFile := filepath.Join(t.TempDir(), "weak.txt")
	os.WriteFile(weakFile, []byte(canaries["weak list entry"]+"\n"+canaries["user password"]+"\n"), 0o600)
	good := startExporter(t, []string{"REDIS_ADDR=" + srv.Addr(), "REDIS_USER=exporter", "REDIS_PASSWORD=" + canaries["exporter password"]},
		"--log.level=debug", "--acl.weak-passwords-file="+weakFile)
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte(canaries["wrong password"]), 0o600)
	bad := startExporter(t, []string{"REDIS_ADDR=" + srv.Addr(), "REDIS_USER=exporter"}, "--log.level=debug", "--redis.password-file="+pwFile)
	noAuth := startExporter(t, []string{"REDIS_ADDR=" + srv.Addr()}, "--log.level=debug", "--log.format=json")

	var outputs []string
	for _, p := range []*exporterProcess{good, bad, noAuth} {
		for i := 0; i < 2; i++ {
			outputs = append(outputs, get(t, p.url+"/metrics"), get(t, p.url+"/"))
		}
	}
	if !strings.Contains(outputs[0], "redis_security_up 1") {
		t.Fatalf("good exporter is not up:\n%s\nlogs:\n%s", outputs[0], good.logs())
	}
	if !strings.Contains(outputs[0], `redis_security_acl_user_weak_password{user="app"} 1`) {
		t.Errorf("app's password, listed in the weak passwords file, is not flagged")
	}
	for _, p := range []*exporterProcess{bad, noAuth} {
		if m := get(t, p.url+"/metrics"); !strings.Contains(m, "redis_security_up 0") {
			t.Errorf("exporter with bad credentials is not down:\n%s", m)
		}
	}
	// Multi-target mode: a module with the right password (from the
	// environment), one with the wrong one (from a file), every endpoint,
	// and a reload of a file where the password was typed as the name of
	// the environment variable.
	cfgFile := filepath.Join(t.TempDir(), "config.yml")
	writeConfig := func(env string) {
		os.WriteFile(cfgFile, []byte(fmt.Sprintf(`modules:
  good:
    username: exporter
    password_env: %s
    allowed_targets: ["127.0.0.1/32"]
  wrong:
    username: exporter
    password_file: %s
    allowed_targets: ["127.0.0.1/32"]
`, env, pwFile)), 0o600)
	}
	writeConfig("EXPORTER_PW")
	multi := startExporter(t, []string{"EXPORTER_PW=" + canaries["exporter password"]}, "--config.file="+cfgFile, "--log.level=debug")
	for _, path := range []string{
		"/probe?module=good&target=" + srv.Addr(),
		"/probe?module=wrong&target=" + srv.Addr(),
		"/discover/cluster?module=good&target=" + srv.Addr(),
		"/discover/sentinel?module=wrong&target=" + srv.Addr(),
		"/metrics", "/",
	} {
		resp, err := http.Get(multi.url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		outputs = append(outputs, string(b))
	}
	if !strings.Contains(outputs[len(outputs)-6], "redis_security_up 1") || !strings.Contains(outputs[len(outputs)-5], "redis_security_up 0") {
		t.Errorf("/probe with the good and the wrong module:\n%s\n%s\nlogs:\n%s", outputs[len(outputs)-6], outputs[len(outputs)-5], multi.logs())
	}
	writeConfig(strings.ReplaceAll(canaries["user password"], "-", "_"))
	resp, err := http.Post(multi.url+"/-/reload", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	outputs = append(outputs, string(b))
	canaries["password typed as an environment variable"] = strings.ReplaceAll(canaries["user password"], "-", "_")

	outputs = append(outputs, good.logs(), bad.logs(), noAuth.logs(), multi.logs())
	if !strings.Contains(bad.logs(), "WRONGPASS") {
		t.Errorf("the failed authentication was not logged:\n%s", bad.logs())
	}
	for what, canary := range canaries {
		sum := sha256.Sum256([]byte(canary))
		for _, needle := range []string{canary, hex.EncodeToString(sum[:])} {
			for i, out := range outputs {
				if strings.Contains(strings.ToLower(out), needle) {
					t.Errorf("the %s (%s) leaked into output %d:\n%s", what, needle, i, out)
				}
			}
		}
	}
}

// TestMetricsEndpoint: the whole /metrics output passes promlint, carries
// the exporter's own metrics, and the other endpoints answer.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "")
	p := startExporter(t, nil, "--redis.addr="+srv.Addr())
	body := get(t, p.url+"/metrics")
	for _, want := range []string{"redis_security_up 1", "redis_security_exporter_build_info{", "go_goroutines ", "process_resident_memory_bytes "} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range problems {
		t.Errorf("promlint: %s: %s", pr.Metric, pr.Text)
	}
	if landing := get(t, p.url+"/"); !strings.Contains(landing, "/metrics") {
		t.Errorf("landing page does not link /metrics:\n%s", landing)
	}
	if h := get(t, p.url+"/-/healthy"); !strings.Contains(h, "Healthy") {
		t.Errorf("/-/healthy: %q", h)
	}
}

// TestPasswordFileIsReread: a rotated password file is used for the next
// connection without restarting the exporter.
func TestPasswordFileIsReread(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "user exporter on >first-pw "+collector.LeastPrivilegeRules)
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("first-pw\n"), 0o600)
	p := startExporter(t, nil, "--redis.addr="+srv.Addr(), "--redis.user=exporter", "--redis.password-file="+pwFile)
	if m := get(t, p.url+"/metrics"); !strings.Contains(m, "redis_security_up 1") {
		t.Fatalf("not up with the first password:\n%s", p.logs())
	}
	// Rotate: new password on the server and in the file, drop the old connection.
	admin := srv.Client("", "")
	ctx := context.Background()
	if err := admin.Do(ctx, "ACL", "SETUSER", "exporter", "resetpass", ">second-pw").Err(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(pwFile, []byte("second-pw\n"), 0o600)
	if err := admin.Do(ctx, "CLIENT", "KILL", "USER", "exporter").Err(); err != nil {
		t.Fatal(err)
	}
	var m string
	for i := 0; i < 3; i++ { // the first scrape may meet the killed connection
		if m = get(t, p.url+"/metrics"); strings.Contains(m, "redis_security_up 1") {
			return
		}
	}
	t.Fatalf("not up after rotating the password file:\n%s\nlogs:\n%s", m, p.logs())
}

// TestScrapeTimeoutHeader: Prometheus's timeout header bounds the scrape of
// a server that never answers.
func TestScrapeTimeoutHeader(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		var held []net.Conn
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	p := startExporter(t, nil, "--redis.addr="+l.Addr().String(), "--scrape.timeout=1m")
	req, _ := http.NewRequest(http.MethodGet, p.url+"/metrics", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "1.5")
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("the 1.5 s header was not honoured (the 1 m default applied?): %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "redis_security_up 0") {
		t.Errorf("want up 0:\n%s", b)
	}
}

func allScrapers() []collector.Scraper {
	var s []collector.Scraper
	for _, e := range collector.All(collector.DefaultOptions()) {
		s = append(s, e.Scraper)
	}
	return s
}

// descName extracts fqName from a Desc's String(), the only public way.
func descName(d *prometheus.Desc) string {
	s := d.String()
	i := strings.Index(s, `fqName: "`)
	if i < 0 {
		return s
	}
	s = s[i+len(`fqName: "`):]
	return s[:strings.IndexByte(s, '"')]
}

// TestREADMEShowsTheLeastPrivilegedUser: the documented ACL rules are the ones
// the tests prove sufficient.
func TestREADMEShowsTheLeastPrivilegedUser(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ACL SETUSER redis_security_exporter on >CHANGE-ME " + collector.LeastPrivilegeRules,
		"user redis_security_exporter on >CHANGE-ME " + collector.LeastPrivilegeRules,
		// Valkey 8.1+ (redistest adds CommandLogRules there, so the tests
		// prove this line too).
		"ACL SETUSER redis_security_exporter on >CHANGE-ME " + collector.LeastPrivilegeRules + " " + collector.CommandLogRules,
	} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README lacks %q", want)
		}
	}
}

// TestWebConfigTLSAndBasicAuth: the exporter's own endpoint serves TLS and
// bcrypt basic auth through exporter-toolkit's --web.config.file.
func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "")
	dir := t.TempDir()
	certs := redistest.GenerateTLS(t, dir, 24*time.Hour)
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	os.WriteFile(webConfig, []byte(fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\n  min_version: TLS13\nbasic_auth_users:\n  prometheus: %s\n",
		certs.ServerCert, certs.ServerKey, hash)), 0o600)

	port := redistest.FreePort(t)
	cmd := exec.Command(os.Args[0], fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--web.config.file="+webConfig, "--redis.addr="+srv.Addr())
	cmd.Env = []string{"RSE_TEST_MAIN=1"}
	var logs lockedBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	pool := x509.NewCertPool()
	ca, _ := os.ReadFile(certs.CA)
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	url := fmt.Sprintf("https://127.0.0.1:%d/metrics", port)
	do := func(user, pass string) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		return client.Do(req)
	}
	var resp *http.Response
	waitUntil := time.Now().Add(10 * time.Second)
	for {
		if resp, err = do("prometheus", "scrape-secret"); err == nil || time.Now().After(waitUntil) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("https with basic auth: %v\nlogs:\n%s", err, logs.String())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "redis_security_up 1") {
		t.Fatalf("authorized scrape: %s\n%s", resp.Status, body)
	}
	for _, c := range []struct{ user, pass string }{{"prometheus", "wrong"}, {"", ""}, {"other", "scrape-secret"}} {
		resp, err := do(c.user, c.pass)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("user %q password %q: %s, want 401", c.user, c.pass, resp.Status)
		}
	}
	// min_version TLS13 is honoured.
	tls12 := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12}}}
	if resp, err := tls12.Get(url); err == nil {
		resp.Body.Close()
		t.Error("a TLS 1.2 client was served despite min_version TLS13")
	}
	// Plain HTTP is not served.
	if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port)); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP served metrics")
		}
		resp.Body.Close()
	}
	if strings.Contains(logs.String(), "scrape-secret") || strings.Contains(logs.String(), string(hash)) {
		t.Error("the basic auth secret leaked into the logs")
	}
}

// runMain runs the exporter binary (this test binary) with args and returns
// stdout and the exit code.
func runMain(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append([]string{"RSE_TEST_MAIN=1"}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code == 2 {
		t.Logf("stderr:\n%s", stderr.String())
	}
	return stdout.String(), code
}

// TestCheckCommand: exit codes by --fail-on, the JSON schema, and a target
// that cannot be audited.
func TestCheckCommand(t *testing.T) {
	t.Parallel()
	open := redistest.Start(t, "") // default user without password: high findings
	hardened := redistest.Start(t, "user default off\nuser admin on >Adm1n-very-long-random ~* &* +@all\n"+
		"user exporter on >exporter-pw "+collector.LeastPrivilegeRules+"\ntimeout 300\nmaxmemory 100mb\nclient-output-buffer-limit normal 64mb 32mb 60")
	creds := []string{"REDIS_USER=exporter", "REDIS_PASSWORD=exporter-pw"}

	out, code := runMain(t, nil, "check", open.Addr())
	if code != 1 || !strings.Contains(out, "default_user_nopass") || !strings.Contains(out, "FAIL") {
		t.Errorf("open server, default --fail-on high: exit %d, want 1\n%s", code, out)
	}
	if _, code := runMain(t, nil, "check", "--fail-on", "critical", open.Addr()); code != 0 {
		t.Errorf("open server on loopback has no critical finding: exit %d, want 0", code)
	}
	// Debian's 7.0.15 has known CVEs by version (high): the hardened
	// server's only findings above low are those.
	out, code = runMain(t, creds, "check", hardened.Addr())
	if code != 1 || !strings.Contains(out, "known_vulnerabilities") {
		t.Errorf("hardened server, --fail-on high: exit %d, want 1 (known_vulnerabilities)\n%s", code, out)
	}
	if _, code := runMain(t, creds, "check", "--fail-on", "critical", hardened.Addr()); code != 0 {
		t.Errorf("hardened server, --fail-on critical: exit %d, want 0", code)
	}
	if _, code := runMain(t, creds, "check", "--fail-on", "low", hardened.Addr()); code != 1 {
		t.Errorf("hardened server still has low findings: exit %d, want 1", code)
	}
	down := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
	out, code = runMain(t, nil, "check", "--output", "json", open.Addr(), down)
	if code != 2 {
		t.Errorf("a target that cannot be audited: exit %d, want 2", code)
	}
	var report struct {
		Targets []struct {
			Target   string `json:"target"`
			Kind     string `json:"kind"`
			Server   string `json:"server"`
			Up       bool   `json:"up"`
			Error    string `json:"error"`
			Findings []struct {
				Check       string `json:"check"`
				Severity    string `json:"severity"`
				Failed      bool   `json:"failed"`
				Title       string `json:"title"`
				Remediation string `json:"remediation"`
				Objects     []struct {
					Kind      string `json:"kind"`
					Name      string `json:"name"`
					Severity  string `json:"severity"`
					FixedIn   string `json:"fixed_in"`
					Transport string `json:"transport"`
				} `json:"objects"`
			} `json:"findings"`
			NotEvaluated []struct {
				Check  string `json:"check"`
				Reason string `json:"reason"`
			} `json:"not_evaluated"`
		} `json:"targets"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&report); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, out)
	}
	if len(report.Targets) != 2 || !report.Targets[0].Up || report.Targets[1].Up || report.Targets[1].Error == "" {
		t.Fatalf("targets: %+v", report.Targets)
	}
	known := map[string]collector.Check{}
	for _, c := range collector.Checks {
		known[c.ID] = c
	}
	seen := map[string]bool{}
	for _, f := range report.Targets[0].Findings {
		c, ok := known[f.Check]
		if !ok || string(c.Severity) != f.Severity || f.Title == "" || f.Remediation == "" {
			t.Errorf("finding %+v does not match check %+v", f, c)
		}
		seen[f.Check] = true
	}
	for _, n := range report.Targets[0].NotEvaluated {
		if n.Reason == "" {
			t.Errorf("not evaluated %s without a reason", n.Check)
		}
		seen[n.Check] = true
	}
	// Findings name their objects: the open server's default user, and the
	// CVEs of its version with severity and fixed-in release.
	objects := map[string][]string{}
	for _, f := range report.Targets[0].Findings {
		for _, o := range f.Objects {
			objects[f.Check] = append(objects[f.Check], o.Kind+":"+o.Name)
			if o.Kind == "cve" && (o.Severity == "" || !strings.HasPrefix(o.Name, "CVE-")) {
				t.Errorf("CVE object %+v", o)
			}
		}
		if !f.Failed && len(f.Objects) > 0 {
			t.Errorf("passing check %s has objects %+v", f.Check, f.Objects)
		}
	}
	if got := objects["default_user_nopass"]; !slices.Equal(got, []string{"user:default"}) {
		t.Errorf("default_user_nopass objects %v, want [user:default]", got)
	}
	if len(objects["known_vulnerabilities"]) == 0 || len(objects["dangerous_command_default_user"]) == 0 {
		t.Errorf("known_vulnerabilities / dangerous_command_default_user name no objects: %v", objects)
	}
	if report.Targets[0].Kind != "live" || !strings.HasPrefix(report.Targets[0].Server, "redis ") && !strings.HasPrefix(report.Targets[0].Server, "valkey ") {
		t.Errorf("kind %q server %q", report.Targets[0].Kind, report.Targets[0].Server)
	}
	if len(seen) != len(collector.Checks) {
		t.Errorf("findings + not_evaluated cover %d checks, want all %d", len(seen), len(collector.Checks))
	}
	if strings.Contains(out, `\u003e`) {
		t.Error("JSON escapes '>' in remediations")
	}
	if _, code := runMain(t, nil, "check", "--fail-on", "severe", open.Addr()); code != 2 {
		t.Errorf("bad --fail-on: exit %d, want 2", code)
	}
	// Every output format keeps --fail-on's exit codes.
	for _, format := range []string{"sarif", "junit"} {
		out, code := runMain(t, nil, "check", "--output", format, open.Addr())
		if code != 1 || !strings.Contains(out, "default_user_nopass") {
			t.Errorf("--output %s: exit %d, want 1\n%s", format, code, out)
		}
		if _, code := runMain(t, nil, "check", "--output", format, "--fail-on", "critical", open.Addr()); code != 0 {
			t.Errorf("--output %s --fail-on critical: exit %d, want 0", format, code)
		}
	}
	if _, code := runMain(t, nil, "check", "--output", "yaml", open.Addr()); code != 2 {
		t.Errorf("--output yaml: exit %d, want 2", code)
	}
}

// TestLandingPageInBrowser: the landing page shows the default target's
// findings table, rendered by a real browser (headless Chromium, installed
// by make deps), which also takes a screenshot.
func TestLandingPageInBrowser(t *testing.T) {
	t.Parallel()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found (make deps installs Debian's chromium): %v", err)
	}
	srv := redistest.Start(t, "") // default user without password
	p := startExporter(t, nil, "--redis.addr="+srv.Addr())
	browse := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir(), "--window-size=1400,1800"}
		out, err := exec.CommandContext(ctx, chromium, append(base, args...)...).Output()
		if err != nil {
			t.Fatalf("chromium %v: %v", args, err)
		}
		return out
	}
	dom := string(browse("--dump-dom", p.url+"/"))
	for _, want := range []string{"Findings for redis://" + srv.Addr(), `class="rse-findings"`, "<code>default_user_nopass</code>", "FAIL", "ACL SETUSER default resetpass",
		`<td class="rse-objects"><code>default</code></td>`, "<code>FLUSHALL</code>"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	if strings.Contains(dom, "debug/pprof") {
		t.Error("the page links /debug/pprof, which is not served")
	}
	shot := filepath.Join(t.TempDir(), "landing.png")
	browse("--screenshot="+shot, p.url+"/")
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if len(png) < 10000 || string(png[1:4]) != "PNG" {
		t.Errorf("screenshot is not a plausible PNG (%d bytes)", len(png))
	}
}

// TestTLSFlags: the exporter as a process, against a TLS-only server that
// requires client certificates, configured by flags and by environment
// variables; --tls.insecure-skip-verify warns loudly.
func TestTLSFlags(t *testing.T) {
	t.Parallel()
	f := redistest.GenerateTLS(t, t.TempDir(), 48*time.Hour)
	srv := redistest.StartWith(t, redistest.Options{TLS: &f, NoPlaintext: true, Config: "tls-auth-clients yes"})
	addr := fmt.Sprintf("rediss://127.0.0.1:%d", srv.TLSPort)
	byFlags := startExporter(t, nil, "--redis.addr="+addr, "--tls.ca-file="+f.CA, "--tls.cert-file="+f.ClientCert, "--tls.key-file="+f.ClientKey, "--tls.min-version=TLS1.3")
	byEnv := startExporter(t, []string{"REDIS_ADDR=" + addr, "REDIS_SECURITY_EXPORTER_TLS_CA_FILE=" + f.CA,
		"REDIS_SECURITY_EXPORTER_TLS_CERT_FILE=" + f.ClientCert, "REDIS_SECURITY_EXPORTER_TLS_KEY_FILE=" + f.ClientKey,
		"REDIS_SECURITY_EXPORTER_TLS_SERVER_NAME=localhost"})
	insecure := startExporter(t, nil, "--redis.addr="+addr, "--tls.insecure-skip-verify", "--tls.cert-file="+f.ClientCert, "--tls.key-file="+f.ClientKey)
	for name, p := range map[string]*exporterProcess{"flags": byFlags, "environment": byEnv, "insecure": insecure} {
		m := get(t, p.url+"/metrics")
		for _, want := range []string{"redis_security_up 1", `redis_security_tls_connection_info{cipher="TLS_AES_128_GCM_SHA256",version="TLSv1.3"} 1`,
			fmt.Sprintf(`redis_security_tls_certificate_not_after_timestamp_seconds{serial="%X",subject="CN=redistest server"} %s`, f.ServerSerial,
				strconv.FormatFloat(float64(f.ServerNotAfter.Unix()), 'g', -1, 64))} {
			if !strings.Contains(m, want) {
				t.Errorf("%s: /metrics lacks %s\nlogs:\n%s", name, want, p.logs())
			}
		}
	}
	if !strings.Contains(insecure.logs(), "TLS CERTIFICATE VERIFICATION IS DISABLED") {
		t.Errorf("no warning for --tls.insecure-skip-verify:\n%s", insecure.logs())
	}
	if strings.Contains(byFlags.logs(), "DISABLED") {
		t.Errorf("warning without --tls.insecure-skip-verify:\n%s", byFlags.logs())
	}
}

// TestProbeGCPercent: with --config.file the exporter lowers GOGC to 50
// unless the environment sets GOGC, whatever its value.
func TestProbeGCPercent(t *testing.T) {
	for _, tc := range []struct {
		gogc    string
		percent int
		apply   bool
	}{{"", 50, true}, {"100", 0, false}, {"off", 0, false}, {"200", 0, false}} {
		percent, apply := probeGCPercent(func(k string) string {
			if k == "GOGC" {
				return tc.gogc
			}
			return ""
		})
		if percent != tc.percent || apply != tc.apply {
			t.Errorf("GOGC=%q: %d, %v; want %d, %v", tc.gogc, percent, apply, tc.percent, tc.apply)
		}
	}
}
