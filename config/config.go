// Package config reads the exporter's --config.file: the named modules that
// /probe and /discover use to reach many targets. Loading checks syntax and
// everything that can be checked without touching files or the environment;
// the probe package turns a module into credentials, TLS and collectors.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/redis-security/redis_security_exporter/allowlist"
)

// maxFileSize bounds the config file: it is read whole on every reload.
const maxFileSize = 4 << 20

// Config is the content of --config.file.
type Config struct {
	Modules map[string]*Module `yaml:"modules"`
}

// Module is how the exporter reaches a group of targets: which user it
// authenticates as, over which TLS settings, what it collects, and which
// targets it may connect to at all.
type Module struct {
	// Username is the ACL user; empty means the default user.
	Username string `yaml:"username,omitempty"`
	// PasswordFile is read at every new connection, so a rotated password
	// needs no reload.
	PasswordFile string `yaml:"password_file,omitempty"`
	// PasswordEnv names an environment variable holding the password,
	// read when the config is loaded.
	PasswordEnv string `yaml:"password_env,omitempty"`
	TLS         TLS    `yaml:"tls,omitempty"`
	// Collectors turns collectors on or off for this module; those not
	// named keep the command line's setting.
	Collectors map[string]bool `yaml:"collectors,omitempty"`
	// Timeout caps a probe's deadline (Prometheus's scrape timeout, minus
	// --scrape.timeout-offset, applies when shorter). 0: no cap.
	Timeout model.Duration `yaml:"timeout,omitempty"`
	// AllowedTargets are the only servers the module may connect to: see
	// package allowlist for the patterns.
	AllowedTargets []string `yaml:"allowed_targets"`

	// Allowlist is AllowedTargets parsed.
	Allowlist *allowlist.List `yaml:"-"`
}

// TLS mirrors the --tls.* flags.
type TLS struct {
	CAFile             string `yaml:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file,omitempty"`
	ServerName         string `yaml:"server_name,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
	// MinVersion is TLS1.2 (default) or TLS1.3.
	MinVersion string `yaml:"min_version,omitempty"`
	// ProbeCertificate enables the tls-port certificate probe for
	// plaintext targets (default true); the probe's connection must be
	// allowed too.
	ProbeCertificate *bool `yaml:"probe_certificate,omitempty"`
}

// ProbesCertificate reports whether the certificate probe is on.
func (t TLS) ProbesCertificate() bool { return t.ProbeCertificate == nil || *t.ProbeCertificate }

// HasCredentials reports whether the module authenticates with a password.
func (m *Module) HasCredentials() bool { return m.PasswordFile != "" || m.PasswordEnv != "" }

// TimeoutDuration is Timeout as a time.Duration (0: no cap).
func (m *Module) TimeoutDuration() time.Duration { return time.Duration(m.Timeout) }

var (
	moduleName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$`)
	envName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Load reads and checks a config file.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading config file %s: %w", path, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("config file %s is larger than %d bytes", path, maxFileSize)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return c, nil
}

// Parse parses and checks a config. Unknown fields are errors with their
// line number (yaml's strict mode), so a typo never silently drops a
// setting such as allowed_targets.
func Parse(b []byte) (*Config, error) {
	c := &Config{}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := yaml.UnmarshalStrict(b, c); err != nil {
			return nil, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	if len(c.Modules) == 0 {
		return nil, errors.New("no modules: define at least one under modules:")
	}
	for _, name := range c.ModuleNames() {
		if err := c.Modules[name].check(name); err != nil {
			return nil, fmt.Errorf("module %q: %w", name, err)
		}
	}
	return c, nil
}

// ModuleNames returns the module names in order.
func (c *Config) ModuleNames() []string {
	names := make([]string, 0, len(c.Modules))
	for n := range c.Modules {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (m *Module) check(name string) error {
	if !moduleName.MatchString(name) {
		// The name becomes a label value and a URL parameter.
		return errors.New("module names are 1-64 letters, digits, '_', '.' and '-'")
	}
	if m == nil {
		return errors.New("empty module: it needs at least allowed_targets")
	}
	if m.PasswordFile != "" && m.PasswordEnv != "" {
		return errors.New("password_file and password_env are both set: use one")
	}
	if m.PasswordEnv != "" && !envName.MatchString(m.PasswordEnv) {
		return errors.New("password_env must be the name of an environment variable, not a password")
	}
	if m.Username != "" && !m.HasCredentials() {
		return errors.New("username is set without password_file or password_env")
	}
	if len(m.AllowedTargets) == 0 {
		// Without an allowlist anyone who can reach /probe could make the
		// exporter connect anywhere, and send the module's password there.
		return errors.New("allowed_targets is missing: list the host:port patterns and CIDR ranges the module may connect to (0.0.0.0/0 admits every IPv4 address, explicitly)")
	}
	list, err := allowlist.Parse(m.AllowedTargets)
	if err != nil {
		return err
	}
	m.Allowlist = list
	if m.Timeout < 0 {
		return errors.New("timeout must not be negative")
	}
	if (m.TLS.CertFile == "") != (m.TLS.KeyFile == "") {
		return errors.New("tls: cert_file and key_file go together: set both or neither")
	}
	for c := range m.Collectors {
		if c == "" {
			return errors.New("collectors: empty collector name")
		}
	}
	return nil
}
