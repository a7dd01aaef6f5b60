package offline

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/check"
	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
	"github.com/redis-security/redis_security_exporter/exporter"
)

// exporterUser is the least-privileged user the live audit connects as in
// every case; the offline audit sees it too (it is in the same file).
const exporterUser = "user rse on >rse-exporter-password-0123456789 " + collector.LeastPrivilegeRules

func options(t *testing.T) collector.Options {
	t.Helper()
	o := collector.DefaultOptions()
	weak, _, err := collector.LoadWeakPasswords(true, "")
	if err != nil {
		t.Fatal(err)
	}
	o.WeakPasswords = weak
	return o
}

// offlineCase is one configuration started live and audited offline.
type offlineCase struct {
	name string
	// config is appended to redistest's base config (port, dir, logfile,
	// bind 127.0.0.1 unless set); DIR is replaced by the server's directory.
	config string
	// files are written into the server's directory before it starts.
	files map[string]string
	tls   bool
	// valkey9 cases use directives older servers refuse: they run only
	// against Valkey 9+ (make compat).
	valkey9 bool
	// wantFail must fail in both audits: the case tests what it claims.
	wantFail []string
	// wantPass must be evaluated and pass in both.
	wantPass []string
}

var offlineCases = []offlineCase{
	{name: "defaults", config: exporterUser,
		wantFail: []string{"default_user_nopass", "dangerous_command_default_user", "dangerous_commands_available", "no_idle_timeout", "maxmemory_unlimited", "output_buffer_unlimited"},
		wantPass: []string{"exposed_without_auth", "bind_all_interfaces", "protected_mode_disabled", "tls_disabled", "debug_command_enabled", "module_command_enabled", "protected_configs_enabled", "acl_log_disabled", "persistence_path_suspicious", "user_nopass", "user_weak_password", "user_shared_password", "user_unrestricted"}},
	{name: "weak", config: exporterUser + `
bind * -::*
protected-mode no
user default on nopass ~* &* +@all
user app on >foobared ~* &* +@all
user ops on >Sh4red-0ps-Passw0rd ~ops:* +@read
user ops2 on >Sh4red-0ps-Passw0rd ~ops:* +@read
user batch on nopass ~batch:* +@write
enable-debug-command yes
enable-module-command yes
timeout 0
dbfilename "shell.php"
client-output-buffer-limit normal 0 0 0 replica 0 0 0
`,
		wantFail: []string{"exposed_without_auth", "bind_all_interfaces", "protected_mode_disabled", "tls_disabled", "default_user_nopass", "user_nopass", "user_weak_password",
			"user_shared_password", "user_unrestricted", "debug_command_enabled", "module_command_enabled", "persistence_path_suspicious", "output_buffer_unlimited"}},
	{name: "hardened", config: exporterUser + `
user default off
user app on >4pp-Uniq-Passw0rd-7f3a9c ~app:* &app:* -@all +@read +@write -@dangerous
user admin on >Adm1n-Uniq-Passw0rd-8e2b1d ~* &* +@all -@dangerous (~audit:* +get)
rename-command FLUSHALL ""
rename-command KEYS ""
rename-command MONITOR "mon"
timeout 300
maxmemory 64mb
maxmemory-clients 5%
client-output-buffer-limit normal 256mb 128mb 60
acllog-max-len 512
enable-protected-configs no
`,
		wantFail: []string{"dangerous_commands_available"},
		wantPass: []string{"default_user_nopass", "dangerous_command_default_user", "user_nopass", "user_weak_password", "user_shared_password", "user_unrestricted", "no_idle_timeout", "maxmemory_unlimited", "output_buffer_unlimited", "acl_log_disabled"}},
	{name: "requirepass and gates", config: exporterUser + `
requirepass foobared
enable-protected-configs yes
enable-module-command local
acllog-max-len 0
maxmemory 1gb
`,
		wantFail: []string{"user_weak_password", "protected_configs_enabled", "acl_log_disabled"},
		wantPass: []string{"default_user_nopass", "module_command_enabled", "maxmemory_unlimited"}},
	{name: "requirepass overridden by a user default line", config: exporterUser + `
requirepass Str0ng-Requirepass-Value-91xq
user default on nopass ~* +get +set
`,
		wantFail: []string{"default_user_nopass"},
		wantPass: []string{"dangerous_command_default_user"}},
	{name: "aclfile and include", config: "aclfile DIR/users.acl\ninclude DIR/extra.conf\n",
		files: map[string]string{
			"users.acl":  exporterUser + "\nuser default on nopass ~* &* +@all\nuser app on >password ~* &* +@all\n\nuser app2 on >Uniq-App2-Pw-4411 ~* +@read\n",
			"extra.conf": "unixsocket DIR/r.sock\nunixsocketperm 777\ntimeout 60\nslave-read-only no\n",
		},
		wantFail: []string{"default_user_nopass", "user_weak_password", "user_unrestricted", "unixsocket_world_accessible"},
		wantPass: []string{"no_idle_timeout", "user_shared_password"}},
	{name: "replica", config: exporterUser + "\nreplicaof 127.0.0.1 1\nreplica-read-only no\n",
		wantFail: []string{"replica_writable"}},
	{name: "tls", tls: true, config: exporterUser + "\ntls-auth-clients optional\ntls-protocols \"TLSv1.2 TLSv1.3\"\ntls-replication yes\n",
		wantFail: []string{"tls_client_auth_not_required", "plaintext_port_with_tls"},
		wantPass: []string{"tls_weak_protocol", "tls_disabled"}},
	{name: "tls certificate login (Valkey 9)", tls: true, valkey9: true, config: exporterUser + "\ntls-auth-clients-user URI\n",
		wantFail: []string{"tls_certificate_user_login"},
		wantPass: []string{"tls_client_auth_not_required"}},
}

// TestOfflineMatchesLive starts a real server per configuration and audits
// it twice: live, through the exporter, and offline, from the file the
// server was started with. Every check both audits evaluate must have the
// same outcome; with REDIS_SERVER_BIN (make compat) it runs against every
// server tested live.
func TestOfflineMatchesLive(t *testing.T) {
	opts := options(t)
	server := redistest.Start(t, "").Identity("", "")
	for _, tc := range offlineCases {
		if tc.valkey9 && !(server.Flavor == "valkey" && server.Version.AtLeast(9, 0)) {
			t.Logf("%s: Valkey 9+ only; this is %s %s", tc.name, server.Flavor, server.Version)
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, content := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.ReplaceAll(content, "DIR", dir)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			o := redistest.Options{Dir: dir, Config: strings.ReplaceAll(tc.config, "DIR", dir)}
			if tc.tls {
				f := redistest.GenerateTLS(t, t.TempDir(), 48*time.Hour)
				o.TLS = &f
			}
			srv := redistest.StartWith(t, o)
			id := srv.Identity("rse", "rse-exporter-password-0123456789")

			live := liveAudit(t, srv, opts)
			if !live.Up {
				t.Fatalf("live audit failed: %s", live.Error)
			}
			off := Audit(Options{ConfigFile: srv.ConfigFile, ServerVersion: string(id.Flavor) + ":" + id.Version.String(), Collector: opts, Now: time.Now()})
			if !off.Up {
				t.Fatalf("offline audit failed: %s", off.Error)
			}
			if len(off.Warnings) > 0 {
				t.Errorf("offline warnings: %q", off.Warnings)
			}
			liveBy, offBy := byCheck(live), byCheck(off)
			both := 0
			for id, lf := range liveBy {
				of, ok := offBy[id]
				if !ok {
					continue
				}
				both++
				if lf.Failed != of.Failed {
					t.Errorf("%s: live failed=%v (objects %v), offline failed=%v (objects %v)", id, lf.Failed, lf.Objects, of.Failed, of.Objects)
				}
			}
			for id := range offBy {
				if _, ok := liveBy[id]; !ok {
					t.Errorf("%s: evaluated offline but not live", id)
				}
			}
			for _, id := range tc.wantFail {
				if f, ok := offBy[id]; !ok || !f.Failed {
					t.Errorf("%s: want failing offline, got evaluated=%v", id, ok)
				}
				if f := liveBy[id]; !f.Failed {
					t.Errorf("%s: want failing live", id)
				}
			}
			for _, id := range tc.wantPass {
				if f, ok := offBy[id]; !ok || f.Failed {
					t.Errorf("%s: want passing offline, got evaluated=%v", id, ok)
				}
			}
			if both < 15 {
				t.Errorf("only %d checks evaluated by both audits", both)
			}
			for _, f := range off.Findings {
				if f.Failed && (f.Location == nil || f.Location.File == "") {
					t.Errorf("%s: failing offline without a location", f.Check)
				}
			}
			t.Logf("%s %s: %d checks compared, offline failing %v", id.Flavor, id.Version, both, failing(off))
		})
	}
}

func liveAudit(t *testing.T, srv *redistest.Server, opts collector.Options) check.TargetReport {
	t.Helper()
	addr, err := exporter.ParseAddress(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	var scrapers []collector.Scraper
	for _, e := range collector.All(opts) {
		if e.EnabledByDefault {
			scrapers = append(scrapers, e.Scraper)
		}
	}
	creds := func(context.Context) (string, string, error) { return "rse", "rse-exporter-password-0123456789", nil }
	tg, err := exporter.NewTarget(exporter.Options{Address: addr, Credentials: creds, Scrapers: scrapers})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The first scrape reads COMMAND INFO and evaluates users in its
	// follow-up round; audit the second, the steady state.
	tg.Audit(ctx)
	return check.FromAudit(tg.Audit(ctx))
}

func byCheck(t check.TargetReport) map[string]check.Finding {
	out := map[string]check.Finding{}
	for _, f := range t.Findings {
		out[f.Check] = f
	}
	return out
}

func failing(t check.TargetReport) []string {
	var out []string
	for _, f := range t.Findings {
		if f.Failed {
			out = append(out, f.Check)
		}
	}
	sort.Strings(out)
	return out
}
