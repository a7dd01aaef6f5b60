package probe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/redis-security/redis_security_exporter/allowlist"
	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/config"
	"github.com/redis-security/redis_security_exporter/exporter"
)

// Defaults are the exporter-wide settings a module starts from: the
// command line's collector options and --collect.* choices, and the
// certificate probe interval.
type Defaults struct {
	// Options are the collector options (command list, weak passwords...).
	Options collector.Options
	// Enabled is the --collect.<name> setting of every collector.
	Enabled map[string]bool
	// ProbeInterval is --tls.probe-interval.
	ProbeInterval time.Duration
	// ACLListMaxAge is --acl.list-max-age.
	ACLListMaxAge time.Duration
	// Getenv reads password_env variables (os.Getenv when nil).
	Getenv func(string) string
}

// Module is a config module made ready to use: its credentials, TLS
// configuration, collectors and allowlist.
type Module struct {
	Name   string
	Config *config.Module
	// Credentials is nil when the module sends no AUTH.
	Credentials exporter.Credentials
	TLS         *exporter.ClientTLS
	Scrapers    []collector.Scraper
	Allowlist   *allowlist.List
	Dialer      *allowlist.Dialer
	// ProbeInterval is how long a probed certificate is reused.
	ProbeInterval time.Duration
	// ACLListMaxAge is how long an unchanged ACL LIST reply is reused.
	ACLListMaxAge time.Duration
}

// BuildModules prepares every module of c. Password files, password
// environment variables and TLS files are read once here, so a module that
// cannot work stops start-up (or is refused by a reload) with an error
// naming the module and the field, never a secret.
func BuildModules(c *config.Config, d Defaults) (map[string]*Module, error) {
	return buildModules(c, d, true)
}

// CheckModules checks what BuildModules checks except the files and the
// environment, which exist where the exporter runs, not necessarily where
// the config is checked. It returns one warning per file or variable that is
// not usable here.
func CheckModules(c *config.Config, d Defaults) (warnings []string, err error) {
	if _, err := buildModules(c, d, false); err != nil {
		return nil, err
	}
	getenv := d.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	for _, name := range c.ModuleNames() {
		m := c.Modules[name]
		if m.PasswordFile != "" {
			if _, err := exporter.ReadPasswordFile(m.PasswordFile); err != nil {
				warnings = append(warnings, fmt.Sprintf("module %q: password_file: %v", name, err))
			}
		}
		if m.PasswordEnv != "" && getenv(m.PasswordEnv) == "" {
			// Not named: a password written where its variable's name
			// belongs would be printed (see buildModule).
			warnings = append(warnings, fmt.Sprintf("module %q: password_env: the variable it names is not set here", name))
		}
		if _, err := exporter.NewClientTLS(tlsOptions(m.TLS, 0)); err != nil {
			warnings = append(warnings, fmt.Sprintf("module %q: tls: %v", name, err))
		}
	}
	return warnings, nil
}

func buildModules(c *config.Config, d Defaults, load bool) (map[string]*Module, error) {
	getenv := d.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	known := map[string]collector.Entry{}
	var order []string
	for _, e := range collector.All(d.Options) {
		known[e.Scraper.Name()] = e
		order = append(order, e.Scraper.Name())
	}
	out := map[string]*Module{}
	for _, name := range c.ModuleNames() {
		m := c.Modules[name]
		mod, err := buildModule(name, m, d, known, order, getenv, load)
		if err != nil {
			return nil, fmt.Errorf("module %q: %w", name, err)
		}
		out[name] = mod
	}
	return out, nil
}

func buildModule(name string, m *config.Module, d Defaults, known map[string]collector.Entry, order []string,
	getenv func(string) string, load bool) (*Module, error) {
	minVersion, err := parseMinVersion(m.TLS.MinVersion)
	if err != nil {
		return nil, err
	}
	for c := range m.Collectors {
		if _, ok := known[c]; !ok {
			return nil, fmt.Errorf("collectors: unknown collector %q (known: %v)", c, order)
		}
	}
	mod := &Module{
		Name:          name,
		Config:        m,
		Allowlist:     m.Allowlist,
		Dialer:        &allowlist.Dialer{List: m.Allowlist},
		ProbeInterval: d.ProbeInterval,
		ACLListMaxAge: d.ACLListMaxAge,
	}
	for _, c := range order {
		on, set := m.Collectors[c]
		if !set {
			on = d.Enabled[c]
		}
		if on {
			mod.Scrapers = append(mod.Scrapers, known[c].Scraper)
		}
	}
	if len(mod.Scrapers) == 0 {
		return nil, errors.New("collectors: every collector is off")
	}
	if !load {
		return mod, nil
	}
	if mod.TLS, err = exporter.NewClientTLS(tlsOptions(m.TLS, minVersion)); err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	user := m.Username
	switch {
	case m.PasswordFile != "":
		path := m.PasswordFile
		if _, err := exporter.ReadPasswordFile(path); err != nil {
			return nil, fmt.Errorf("password_file: %w", err)
		}
		mod.Credentials = func(context.Context) (string, string, error) {
			pw, err := exporter.ReadPasswordFile(path)
			return user, pw, err
		}
	case m.PasswordEnv != "":
		pw := getenv(m.PasswordEnv)
		if pw == "" {
			// The variable is not named: when a password was written where
			// its name belongs (hunter2 looks like a variable name too),
			// the error would print it in the log, in --config.check's
			// output and in the answer to POST /-/reload.
			return nil, errors.New("password_env: the environment variable it names is not set or empty (is password_env a password instead of a variable name?)")
		}
		mod.Credentials = func(context.Context) (string, string, error) { return user, pw, nil }
	}
	return mod, nil
}

func parseMinVersion(s string) (uint16, error) {
	if s == "" {
		return 0, nil
	}
	v, err := exporter.ParseTLSVersion(s)
	if err != nil {
		return 0, fmt.Errorf("tls: min_version: %w", err)
	}
	return v, nil
}

func tlsOptions(t config.TLS, minVersion uint16) exporter.TLSOptions {
	return exporter.TLSOptions{
		CAFile:             t.CAFile,
		CertFile:           t.CertFile,
		KeyFile:            t.KeyFile,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify,
		MinVersion:         minVersion,
		FieldNames:         exporter.TLSFieldNames{CAFile: "ca_file", CertFile: "cert_file", KeyFile: "key_file", MinVersion: "min_version"},
	}
}

// sameModule reports whether two builds of a module connect the same way,
// so pooled connections (and the collectors' memory of each target) survive
// a reload that did not change the module.
func sameModule(a, b *Module) bool {
	if a == nil || b == nil {
		return false
	}
	ca, cb := *a.Config, *b.Config
	ca.Allowlist, cb.Allowlist = nil, nil
	return ca.Username == cb.Username && ca.PasswordFile == cb.PasswordFile && ca.PasswordEnv == cb.PasswordEnv &&
		ca.TLS.CAFile == cb.TLS.CAFile && ca.TLS.CertFile == cb.TLS.CertFile && ca.TLS.KeyFile == cb.TLS.KeyFile &&
		ca.TLS.ServerName == cb.TLS.ServerName && ca.TLS.InsecureSkipVerify == cb.TLS.InsecureSkipVerify &&
		ca.TLS.MinVersion == cb.TLS.MinVersion && ca.TLS.ProbesCertificate() == cb.TLS.ProbesCertificate() &&
		slices.Equal(ca.AllowedTargets, cb.AllowedTargets) && sameScrapers(a.Scrapers, b.Scrapers) &&
		samePassword(a, b)
}

func sameScrapers(a, b []collector.Scraper) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name() != b[i].Name() {
			return false
		}
	}
	return true
}

// samePassword compares env passwords (file passwords are read per
// connection anyway).
func samePassword(a, b *Module) bool {
	if a.Config.PasswordEnv == "" {
		return true
	}
	_, pa, _ := a.Credentials(context.Background())
	_, pb, _ := b.Credentials(context.Background())
	return pa == pb
}
