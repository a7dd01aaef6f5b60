package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

func probeStatus(t *testing.T, base, module, target string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + "/probe?" + url.Values{"module": {module}, "target": {target}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls the exporter's /metrics until it contains want.
func waitFor(t *testing.T, p *exporterProcess, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := get(t, p.url+"/metrics")
		if strings.Contains(m, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never showed %q:\n%s\nlogs:\n%s", want, m, p.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConfigReload: the exporter as a process with --config.file; a changed
// password file and allowlist take effect on SIGHUP; broken YAML keeps the
// old config and flips the reload gauge; POST /-/reload reloads too.
func TestConfigReload(t *testing.T) {
	t.Parallel()
	a := redistest.Start(t, "user default on >admin ~* &* +@all\nuser exporter on >pw-a-canary "+collector.LeastPrivilegeRules+"\n")
	b := redistest.Start(t, "user default on >admin ~* &* +@all\nuser exporter on >pw-a-canary "+collector.LeastPrivilegeRules+"\n")
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	cfgFile := filepath.Join(dir, "config.yml")
	write := func(path, content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	module := func(allowed ...string) string {
		return fmt.Sprintf("modules:\n  m:\n    username: exporter\n    password_file: %s\n    allowed_targets: [%s]\n", pwFile, `"`+strings.Join(allowed, `", "`)+`"`)
	}
	write(pwFile, "wrong-canary\n")
	write(cfgFile, module(a.Addr()))
	p := startExporter(t, nil, "--config.file="+cfgFile)

	// No --redis.addr: /metrics is the exporter's own.
	m := get(t, p.url+"/metrics")
	if strings.Contains(m, "redis_security_up") || !strings.Contains(m, "redis_security_exporter_config_last_reload_successful 1") {
		t.Fatalf("/metrics without --redis.addr:\n%s", m)
	}
	if code, body := probeStatus(t, p.url, "m", a.Addr()); code != 200 || !strings.Contains(body, "redis_security_up 0") {
		t.Fatalf("wrong password: %d\n%s", code, body)
	}
	if code, _ := probeStatus(t, p.url, "m", b.Addr()); code != 403 {
		t.Fatalf("b outside the allowlist: %d, want 403", code)
	}

	// Fix the password, allow b, SIGHUP.
	write(pwFile, "pw-a-canary\n")
	write(cfgFile, module(a.Addr(), b.Addr()))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, `redis_security_exporter_config_last_reload_success_timestamp_seconds`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := probeStatus(t, p.url, "m", b.Addr())
		if code == 200 && strings.Contains(body, "redis_security_up 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b after SIGHUP: %d\n%s\nlogs:\n%s", code, body, p.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := probeStatus(t, p.url, "m", a.Addr()); code != 200 || !strings.Contains(body, "redis_security_up 1") {
		t.Fatalf("a after fixing the password: %d\n%s", code, body)
	}

	// Broken YAML: the old config stays, the gauge says so.
	write(cfgFile, module(a.Addr())+"  oops: [\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "redis_security_exporter_config_last_reload_successful 0")
	if code, body := probeStatus(t, p.url, "m", b.Addr()); code != 200 || !strings.Contains(body, "redis_security_up 1") {
		t.Fatalf("b after a failed reload must still be allowed: %d\n%s", code, body)
	}

	// POST /-/reload with a fixed file; other methods are refused.
	write(cfgFile, module(a.Addr()))
	resp, err := http.Get(p.url + "/-/reload")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %s, want 405", resp.Status)
	}
	resp, err = http.Post(p.url+"/-/reload", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /-/reload: %s\n%s", resp.Status, p.logs())
	}
	waitFor(t, p, "redis_security_exporter_config_last_reload_successful 1")
	if code, _ := probeStatus(t, p.url, "m", b.Addr()); code != 403 {
		t.Errorf("b after removing it from the allowlist: %d, want 403", code)
	}
	for _, canary := range []string{"pw-a-canary", "wrong-canary"} {
		if strings.Contains(p.logs(), canary) || strings.Contains(get(t, p.url+"/metrics"), canary) {
			t.Errorf("%s leaked into the logs or metrics", canary)
		}
	}
}

// TestConfigCheck: --config.check accepts the example and refuses a typo
// with its line number.
func TestConfigCheck(t *testing.T) {
	t.Parallel()
	out, code := runCombined(t, "--config.file=examples/config.yml", "--config.check")
	if code != 0 || !strings.Contains(out, "valid, 3 module(s)") {
		t.Errorf("examples/config.yml: exit %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(bad, []byte("modules:\n  m:\n    allowed_targets: [\"10.0.0.0/8\"]\n    pasword_file: /x\n"), 0o600)
	out, code = runCombined(t, "--config.file="+bad, "--config.check")
	if code != 1 || !strings.Contains(out, "line 4: field pasword_file not found") {
		t.Errorf("typo: exit %d\n%s", code, out)
	}
	noAllow := filepath.Join(t.TempDir(), "noallow.yml")
	os.WriteFile(noAllow, []byte("modules:\n  m:\n    password_file: /x\n"), 0o600)
	out, code = runCombined(t, "--config.file="+noAllow)
	if code != 2 || !strings.Contains(out, "allowed_targets is missing") {
		t.Errorf("start-up with a module without allowlist: exit %d\n%s", code, out)
	}
}

// runCombined runs the exporter binary and returns its combined output and
// exit code.
func runCombined(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = []string{"RSE_TEST_MAIN=1"}
	out, err := cmd.CombinedOutput()
	if exitErr, ok := err.(*exec.ExitError); ok {
		return string(out), exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// TestCheckWithModule: check --module audits through the module's
// credentials and refuses a target outside its allowlist.
func TestCheckWithModule(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, "user default on >admin ~* &* +@all\nuser exporter on >pw "+collector.LeastPrivilegeRules+"\n")
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("pw\n"), 0o600)
	cfgFile := filepath.Join(dir, "config.yml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf("modules:\n  m:\n    username: exporter\n    password_file: %s\n    allowed_targets: [\"%s\"]\n", pwFile, s.Addr())), 0o600)
	out, code := runCombined(t, "check", "--config.file="+cfgFile, "--module=m", "--fail-on=critical", "--output=json", s.Addr())
	if code == 2 || !strings.Contains(out, `"up": true`) {
		t.Errorf("check --module on an allowed target: exit %d\n%s", code, out)
	}
	out, code = runCombined(t, "check", "--config.file="+cfgFile, "--module=m", "127.0.0.1:1")
	if code != 2 || !strings.Contains(out, "not allowed") {
		t.Errorf("check --module outside the allowlist: exit %d\n%s", code, out)
	}
	out, code = runCombined(t, "check", "--config.file="+cfgFile, "--module=nope", s.Addr())
	if code != 2 || !strings.Contains(out, `--module \"nope\" is not a module`) {
		t.Errorf("check with an unknown module: exit %d\n%s", code, out)
	}
}
