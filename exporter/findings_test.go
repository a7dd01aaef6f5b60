package exporter_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
	"github.com/redis-security/redis_security_exporter/exporter"
)

// failingChecks returns the ids of the failing checks, sorted, and of every
// evaluated check.
func failingChecks(got map[string]float64) (failing, evaluated []string) {
	for k, v := range got {
		rest, ok := strings.CutPrefix(k, `redis_security_check_failed{check="`)
		if !ok {
			continue
		}
		id := rest[:strings.IndexByte(rest, '"')]
		evaluated = append(evaluated, id)
		if v == 1 {
			failing = append(failing, id)
		}
	}
	sort.Strings(failing)
	sort.Strings(evaluated)
	return failing, evaluated
}

// baseline are the low findings of Redis's defaults, present in most
// scenarios: FLUSHALL and friends exist, normal clients have no output
// buffer limit, no idle timeout, no maxmemory.
var baseline = []string{"dangerous_commands_available", "maxmemory_unlimited", "no_idle_timeout", "output_buffer_unlimited"}

// hardening removes the baseline's resource findings.
const hardening = "timeout 300\nmaxmemory 100mb\nclient-output-buffer-limit normal 64mb 32mb 60\n"

// TestFindingScenarios: real servers, each with the exact set of failing
// checks it must produce.
func TestFindingScenarios(t *testing.T) {
	t.Parallel()
	admin := "user default off\nuser admin on >Adm1n-very-long-random ~* &* +@all\n" + leastPrivilegeACL + "\n"
	tests := []struct {
		name     string
		config   string
		user     string
		password string
		tls      bool // connect over TLS with the test's client certificate
		// certValidity is the server certificate's lifetime (default 90 days).
		certValidity time.Duration
		setup        func(t *testing.T, srv *redistest.Server)
		want         []string
	}{
		{
			name:   "the exposed open default user",
			config: "bind * -::*\nprotected-mode no",
			want: append([]string{"bind_all_interfaces", "dangerous_command_default_user", "default_user_nopass",
				"exposed_without_auth", "protected_mode_disabled", "tls_disabled"}, baseline...),
		},
		{
			name:   "open default user saved by protected mode",
			config: "bind * -::*\nprotected-mode yes",
			want:   append([]string{"bind_all_interfaces", "dangerous_command_default_user", "default_user_nopass", "tls_disabled"}, baseline...),
		},
		{
			name: "hardened TLS-only server with ACL users: no posture finding above low",
			config: "port 0\ntls-port TLSPORT\nTLSCONFIG\ntls-auth-clients yes\ntls-protocols \"TLSv1.2 TLSv1.3\"\n" + hardening + admin +
				"user app on >App-very-long-random-1 ~app:* resetchannels -@all +get +set",
			user: "exporter", password: "exporter-pw", tls: true,
			want: []string{"dangerous_commands_available", "user_unrestricted"},
		},
		{
			name: "TLS-only server whose certificate expires in 5 days",
			config: "port 0\ntls-port TLSPORT\nTLSCONFIG\ntls-auth-clients yes\ntls-protocols \"TLSv1.2 TLSv1.3\"\n" + hardening + admin +
				"user app on >App-very-long-random-1 ~app:* resetchannels -@all +get +set",
			user: "exporter", password: "exporter-pw", tls: true, certValidity: 5 * 24 * time.Hour,
			want: []string{"dangerous_commands_available", "tls_certificate_expiring", "user_unrestricted"},
		},
		{
			name:   "loopback server with a password and limits",
			config: hardening + admin,
			user:   "exporter", password: "exporter-pw",
			want: []string{"dangerous_commands_available", "user_unrestricted"},
		},
		{
			name:   "renamed dangerous commands",
			config: hardening + admin + renameAllButConfig(),
			user:   "exporter", password: "exporter-pw",
			// CONFIG and ACL stay (the exporter needs them): still available.
			want: []string{"dangerous_commands_available", "user_unrestricted"},
		},
		{
			name:   "weak, shared and missing passwords",
			config: hardening + admin + "user app on >password ~app:* -@all +get\nuser app2 on >Shared-long-pw-1 ~* -@all +get\nuser app3 on >Shared-long-pw-1 ~* -@all +get\nuser legacy on nopass ~* -@all +get",
			user:   "exporter", password: "exporter-pw",
			want: []string{"dangerous_commands_available", "user_nopass", "user_shared_password", "user_unrestricted", "user_weak_password"},
		},
		{
			name:   "world-writable unix socket",
			config: hardening + admin + "unixsocket UNIXSOCKET\nunixsocketperm 777",
			user:   "exporter", password: "exporter-pw",
			want: []string{"dangerous_commands_available", "unixsocket_world_accessible", "user_unrestricted"},
		},
		{
			name:   "suspicious dir set at run time",
			config: hardening + admin + "enable-protected-configs yes",
			user:   "exporter", password: "exporter-pw",
			setup: func(t *testing.T, srv *redistest.Server) {
				dir := filepath.Join(srv.Dir, "home", ".ssh")
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				srv.Do("admin", "Adm1n-very-long-random", "CONFIG", "SET", "dir", dir)
			},
			want: []string{"dangerous_commands_available", "persistence_path_suspicious", "protected_configs_enabled", "user_unrestricted"},
		},
		{
			name:   "DEBUG and MODULE open to every connection, ACL LOG off",
			config: hardening + admin + "enable-debug-command yes\nenable-module-command yes\nacllog-max-len 0",
			user:   "exporter", password: "exporter-pw",
			want: []string{"acl_log_disabled", "dangerous_commands_available", "debug_command_enabled", "module_command_enabled", "user_unrestricted"},
		},
		{
			name:   "a replica that accepts writes",
			config: hardening + admin + "replica-read-only no\nreplicaof 127.0.0.1 MASTERPORT\nmasteruser admin\nmasterauth Adm1n-very-long-random",
			user:   "exporter", password: "exporter-pw",
			want: []string{"dangerous_commands_available", "replica_writable", "user_unrestricted"},
		},
		{
			name:   "weak TLS: old protocols, plaintext port still open, no client certificates",
			config: "tls-port TLSPORT\nTLSCONFIG\ntls-auth-clients no\ntls-protocols \"TLSv1.1 TLSv1.2\"\n" + hardening + admin,
			user:   "exporter", password: "exporter-pw",
			want: []string{"dangerous_commands_available", "plaintext_port_with_tls", "tls_client_auth_not_required", "tls_weak_protocol", "user_unrestricted"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			validity := 90 * 24 * time.Hour
			if tc.certValidity != 0 {
				validity = tc.certValidity
			}
			certs := redistest.GenerateTLS(t, tmp, validity)
			tlsPort := redistest.FreePort(t)
			vars := map[string]string{
				"TLSPORT": strconv.Itoa(tlsPort), "TLSCONFIG": certs.ServerConfig(), "UNIXSOCKET": filepath.Join(tmp, "r.sock"),
			}
			if strings.Contains(tc.config, "MASTERPORT") {
				master := redistest.Start(t, admin)
				vars["MASTERPORT"] = strconv.Itoa(master.Port)
			}
			conf := replace(tc.config, vars)
			srv := redistest.StartWith(t, redistest.Options{Config: conf, NoWait: strings.Contains(conf, "port 0\n")})
			if tc.setup != nil {
				tc.setup(t, srv)
			}
			var tg *exporter.Target
			if tc.tls {
				tg = tlsTarget(t, fmt.Sprintf("rediss://127.0.0.1:%d", tlsPort), certs, tc.user, tc.password)
			} else {
				tg = newTarget(t, targetOpts{addr: srv.Addr(), user: tc.user, password: tc.password})
			}
			got := scrape(t, tg, 5*time.Second)
			if got["redis_security_up"] != 1 {
				t.Fatalf("not up:\n%s", dump(got))
			}
			failing, evaluated := failingChecks(got)
			want := append([]string(nil), tc.want...)
			// The version checks depend on the installed redis-server, not on
			// the scenario: Debian's 7.0.15 is end of life upstream and has
			// known CVEs by version (an upper bound: Debian backports fixes).
			// Expect them exactly when the server's own metrics say so; the
			// CVE table itself is tested in collector/internal/vuln.
			var cves float64
			for _, s := range collector.Severities {
				cves += got[fmt.Sprintf(`redis_security_known_vulnerabilities{severity=%q}`, s)]
			}
			if cves > 0 {
				want = append(want, "known_vulnerabilities")
			}
			if got["redis_security_version_end_of_life"] == 1 {
				want = append(want, "version_end_of_life")
			}
			sort.Strings(want)
			if strings.Join(failing, " ") != strings.Join(want, " ") {
				t.Errorf("failing checks:\n got %v\nwant %v\n(evaluated: %v)", failing, want, evaluated)
			}
			// Every failing check is counted in findings{severity}.
			counts := map[collector.Severity]float64{}
			for _, c := range collector.Checks {
				for _, f := range failing {
					if f == c.ID {
						counts[c.Severity]++
					}
				}
			}
			for _, s := range collector.Severities {
				if g := got[fmt.Sprintf(`redis_security_findings{severity=%q}`, s)]; g != counts[s] {
					t.Errorf("findings{severity=%q} = %v, want %v", s, g, counts[s])
				}
			}
		})
	}
}

// renameAllButConfig renames every default dangerous command except the
// two the exporter needs (CONFIG GET; ACL LIST, LOG and DRYRUN).
func renameAllButConfig() string {
	var b strings.Builder
	for _, c := range collector.DefaultDangerousCommands {
		if c != "CONFIG" && c != "ACL" {
			fmt.Fprintf(&b, "rename-command %s \"\"\n", c)
		}
	}
	return b.String()
}

// tlsTarget connects over TLS with the test's CA and client certificate.
func tlsTarget(t *testing.T, addr string, certs redistest.TLSFiles, user, password string) *exporter.Target {
	t.Helper()
	ctls, err := exporter.NewClientTLS(exporter.TLSOptions{CAFile: certs.CA, CertFile: certs.ClientCert, KeyFile: certs.ClientKey})
	if err != nil {
		t.Fatal(err)
	}
	a, err := exporter.ParseAddress(addr)
	if err != nil {
		t.Fatal(err)
	}
	var creds exporter.Credentials
	if password != "" {
		creds = func(ctx context.Context) (string, string, error) { return user, password, nil }
	}
	tg, err := exporter.NewTarget(exporter.Options{Address: a, Credentials: creds, Scrapers: allScrapers(), TLS: ctls})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}
