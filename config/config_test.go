package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/allowlist"
)

func TestParse(t *testing.T) {
	c, err := Parse([]byte(`
modules:
  prod:
    username: exporter
    password_file: /run/secrets/redis-prod
    tls:
      ca_file: /etc/redis/ca.pem
      min_version: TLS1.3
      probe_certificate: false
    collectors:
      clients: false
      lua-sandbox: true
    timeout: 5s
    allowed_targets:
      - 10.0.0.0/8:6379
      - redis-*.prod.internal:6379
  open:
    allowed_targets: ["127.0.0.1:6379"]
`))
	if err != nil {
		t.Fatal(err)
	}
	prod := c.Modules["prod"]
	if prod.Username != "exporter" || prod.PasswordFile != "/run/secrets/redis-prod" || prod.TimeoutDuration() != 5*time.Second ||
		prod.TLS.MinVersion != "TLS1.3" || prod.TLS.ProbesCertificate() || !prod.Collectors["lua-sandbox"] || prod.Collectors["clients"] {
		t.Errorf("prod parsed as %+v", prod)
	}
	if prod.Allowlist.Decide("10.1.1.1", 6379) != allowlist.Allowed || prod.Allowlist.Decide("10.1.1.1", 6380) != allowlist.Denied {
		t.Error("prod's allowlist was not parsed")
	}
	if !c.Modules["open"].TLS.ProbesCertificate() || c.Modules["open"].HasCredentials() {
		t.Error("defaults of module open")
	}
	if got := strings.Join(c.ModuleNames(), ","); got != "open,prod" {
		t.Errorf("ModuleNames = %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"empty", ``, "no modules"},
		{"unknown top-level field", "modulez:\n  a: {}\n", "line 1: field modulez not found"},
		{"unknown module field with its line", "modules:\n  a:\n    allowed_targets: [\"10.0.0.0/8\"]\n    pasword_file: /x\n", "line 4: field pasword_file not found"},
		{"unknown tls field", "modules:\n  a:\n    allowed_targets: [\"10.0.0.0/8\"]\n    tls:\n      ca: /x\n", "line 5: field ca not found"},
		{"inline password is not a field", "modules:\n  a:\n    password: hunter2\n    allowed_targets: [\"10.0.0.0/8\"]\n", "line 3: field password not found"},
		{"duplicate key", "modules:\n  a:\n    allowed_targets: [\"10.0.0.0/8\"]\n    allowed_targets: [\"0.0.0.0/0\"]\n", "already set"},
		{"credentials without allowlist", "modules:\n  a:\n    password_file: /x\n", "allowed_targets is missing"},
		{"no allowlist at all", "modules:\n  a:\n    timeout: 1s\n", "allowed_targets is missing"},
		{"null module", "modules:\n  a:\n", "empty module"},
		{"both password sources", "modules:\n  a:\n    password_file: /x\n    password_env: X\n    allowed_targets: [\"10.0.0.0/8\"]\n", "both set"},
		{"password_env holding a password", "modules:\n  a:\n    password_env: \"s3cr3t!\"\n    allowed_targets: [\"10.0.0.0/8\"]\n", "name of an environment variable"},
		{"user without password", "modules:\n  a:\n    username: u\n    allowed_targets: [\"10.0.0.0/8\"]\n", "without password_file"},
		{"bad pattern", "modules:\n  a:\n    allowed_targets: [\"redis.internal\"]\n", "needs a port"},
		{"bad module name", "modules:\n  \"a b\":\n    allowed_targets: [\"10.0.0.0/8\"]\n", "module names"},
		{"bad timeout", "modules:\n  a:\n    timeout: soon\n    allowed_targets: [\"10.0.0.0/8\"]\n", "not a valid duration"},
		{"cert without key", "modules:\n  a:\n    tls: {cert_file: /c}\n    allowed_targets: [\"10.0.0.0/8\"]\n", "go together"},
		{"not yaml", "modules: [", "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.yml")); err == nil {
		t.Error("a missing file must be an error")
	}
	big := filepath.Join(dir, "big.yml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", maxFileSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: %v", err)
	}
	// The example shipped in the repository loads.
	if _, err := Load(filepath.Join("..", "examples", "config.yml")); err != nil {
		t.Errorf("examples/config.yml: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("modules:\n  a:\n    allowed_targets: [\"10.0.0.0/8\"]\n"))
	f.Add([]byte("modules:\n  a:\n    password_file: /x\n    tls: {min_version: TLS1.3}\n    allowed_targets: [\"x-*.y:1-2\"]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		for name, m := range c.Modules {
			if m == nil || m.Allowlist == nil || m.Allowlist.Empty() {
				t.Fatalf("module %q accepted without an allowlist", name)
			}
		}
	})
}
