package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestChecksOnSyntheticMetrics covers what no server here can produce: a
// vulnerable Lua sandbox, certificates near expiry, and missing inputs.
func TestChecksOnSyntheticMetrics(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	g := func(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
		return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	certDesc := prometheus.NewDesc("redis_security_tls_certificate_not_after_timestamp_seconds", "", []string{"subject", "serial"}, nil)
	tests := []struct {
		name    string
		metrics []prometheus.Metric
		want    map[string]bool // check -> failed; checks not listed must not be evaluated
	}{
		{"lua sandbox open", []prometheus.Metric{g(luaPackageExposedDesc, 1)}, map[string]bool{"lua_sandbox_escape": true}},
		{"lua sandbox closed", []prometheus.Metric{g(luaPackageExposedDesc, 0)}, map[string]bool{"lua_sandbox_escape": false}},
		{"certificate expires in 5 days", []prometheus.Metric{g(certDesc, float64(now.Add(5*24*time.Hour).Unix()), "CN=x", "1")},
			map[string]bool{"tls_certificate_expiring": true}},
		{"certificate expires in 60 days", []prometheus.Metric{g(certDesc, float64(now.Add(60*24*time.Hour).Unix()), "CN=x", "1")},
			map[string]bool{"tls_certificate_expiring": false}},
		{"TLS off: TLS details are not evaluated", []prometheus.Metric{g(tlsEnabledDesc, 0), g(plaintextEnabledDesc, 1),
			g(tlsProtocolDesc, 1, "TLSv1"), g(tlsClientAuthDesc, 1, "no")},
			map[string]bool{}},
		{"TLS on with TLSv1", []prometheus.Metric{g(tlsEnabledDesc, 1), g(plaintextEnabledDesc, 0), g(tlsProtocolDesc, 1, "TLSv1"),
			g(tlsClientAuthDesc, 1, "yes")},
			map[string]bool{"tls_weak_protocol": true, "plaintext_port_with_tls": false, "tls_client_auth_not_required": false}},
		{"TLS on, certificates log in by CN (Valkey 9)", []prometheus.Metric{g(tlsEnabledDesc, 1), g(tlsClientCertUserDesc, 0, "off"), g(tlsClientCertUserDesc, 1, "CN"), g(tlsClientCertUserDesc, 0, "URI")},
			map[string]bool{"tls_certificate_user_login": true}},
		{"TLS on, tls-auth-clients-user off", []prometheus.Metric{g(tlsEnabledDesc, 1), g(tlsClientCertUserDesc, 1, "off"), g(tlsClientCertUserDesc, 0, "CN"), g(tlsClientCertUserDesc, 0, "URI")},
			map[string]bool{"tls_certificate_user_login": false}},
		{"TLS off: certificate login not applicable", []prometheus.Metric{g(tlsEnabledDesc, 0), g(tlsClientCertUserDesc, 1, "URI")},
			map[string]bool{}},
		{"a master is not a writable replica", []prometheus.Metric{g(replicaReadOnlyDesc, 0), g(serverInfoDesc, 1, "redis", "7.0.15", "master", "standalone")},
			map[string]bool{}},
		{"a user may run every command, not on every key", []prometheus.Metric{g(aclUserEnabledDesc, 1, "app"), g(aclUserUnrestrictedDesc, 0, "app", "keys"), g(aclUserUnrestrictedDesc, 1, "app", "commands")},
			map[string]bool{"user_unrestricted": false}},
		{"a user unrestricted in both scopes (commands first)", []prometheus.Metric{g(aclUserEnabledDesc, 1, "app"), g(aclUserUnrestrictedDesc, 1, "app", "commands"), g(aclUserUnrestrictedDesc, 1, "app", "keys")},
			map[string]bool{"user_unrestricted": true}},
		{"default and disabled users unrestricted", []prometheus.Metric{g(aclUserEnabledDesc, 1, "default"), g(aclUserEnabledDesc, 0, "old"),
			g(aclUserUnrestrictedDesc, 1, "default", "keys"), g(aclUserUnrestrictedDesc, 1, "default", "commands"),
			g(aclUserUnrestrictedDesc, 1, "old", "keys"), g(aclUserUnrestrictedDesc, 1, "old", "commands")},
			map[string]bool{"user_unrestricted": false}},
		{"keys of one user, commands of another", []prometheus.Metric{g(aclUserEnabledDesc, 1, "a"), g(aclUserEnabledDesc, 1, "b"),
			g(aclUserUnrestrictedDesc, 1, "a", "keys"), g(aclUserUnrestrictedDesc, 0, "a", "commands"),
			g(aclUserUnrestrictedDesc, 0, "b", "keys"), g(aclUserUnrestrictedDesc, 1, "b", "commands")},
			map[string]bool{"user_unrestricted": false}},
		{"COMMANDLOG logs every type (Valkey 8.1+)", []prometheus.Metric{g(commandLogEnabledDesc, 1, "slow"), g(commandLogEnabledDesc, 1, "large-request"), g(commandLogEnabledDesc, 1, "large-reply")},
			map[string]bool{"commandlog_disabled": false}},
		{"COMMANDLOG large replies off", []prometheus.Metric{g(commandLogEnabledDesc, 1, "slow"), g(commandLogEnabledDesc, 1, "large-request"), g(commandLogEnabledDesc, 0, "large-reply")},
			map[string]bool{"commandlog_disabled": true}},
		{"nothing collected", nil, map[string]bool{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]bool{}
			for _, f := range Evaluate(tc.metrics, now) {
				got[f.ID] = f.Failed
			}
			if len(got) != len(tc.want) {
				t.Errorf("evaluated %v, want %v", got, tc.want)
			}
			for id, failed := range tc.want {
				if g, ok := got[id]; !ok || g != failed {
					t.Errorf("%s: failed=%v evaluated=%v, want failed=%v", id, g, ok, failed)
				}
			}
		})
	}
}

// TestCheckIDsAreUniqueAndComplete: ids are unique, every check has a title
// and a remediation, and every check metrics.md names exists.
func TestCheckIDsAreUniqueAndComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Checks {
		if seen[c.ID] {
			t.Errorf("duplicate check %s", c.ID)
		}
		seen[c.ID] = true
		if c.Title == "" || c.Remediation == "" || c.Severity.Rank() == 0 || c.eval == nil {
			t.Errorf("check %s is incomplete", c.ID)
		}
	}
	// The list of metrics.md (Findings).
	for _, id := range []string{"exposed_without_auth", "default_user_nopass", "bind_all_interfaces", "protected_mode_disabled",
		"tls_disabled", "plaintext_port_with_tls", "tls_client_auth_not_required", "tls_weak_protocol", "tls_certificate_expiring",
		"user_nopass", "user_weak_password", "user_shared_password", "user_unrestricted", "dangerous_command_default_user",
		"dangerous_commands_available", "debug_command_enabled", "module_command_enabled", "protected_configs_enabled",
		"output_buffer_unlimited", "no_idle_timeout", "maxmemory_unlimited", "unixsocket_world_accessible",
		"persistence_path_suspicious", "known_vulnerabilities", "version_end_of_life", "acl_log_disabled", "replica_writable"} {
		if !seen[id] {
			t.Errorf("check %s of the metric contract is missing", id)
		}
	}
}

// TestFindingObjects: every failing check names what it is about, from the
// scrape's own series; passing checks and Evaluate (the /metrics path) name
// nothing.
func TestFindingObjects(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	g := func(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
		return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	certDesc := prometheus.NewDesc("redis_security_tls_certificate_not_after_timestamp_seconds", "", []string{"subject", "serial"}, nil)
	metrics := []prometheus.Metric{
		g(serverInfoDesc, 1, "redis", "7.2.4", "master", "standalone"),
		g(authRequiredDesc, 0),
		g(aclUserEnabledDesc, 1, "default"), g(aclUserEnabledDesc, 1, "app"), g(aclUserEnabledDesc, 1, "ops"), g(aclUserEnabledDesc, 0, "off"),
		g(aclUserNopassDesc, 1, "default"), g(aclUserNopassDesc, 1, "ops"), g(aclUserNopassDesc, 1, "off"), g(aclUserNopassDesc, 0, "app"),
		g(aclUserWeakPasswordDesc, 1, "app"), g(aclUserWeakPasswordDesc, 0, "ops"),
		g(aclUserUnrestrictedDesc, 1, "app", "commands"), g(aclUserUnrestrictedDesc, 1, "app", "keys"),
		g(aclUserUnrestrictedDesc, 1, "ops", "commands"), g(aclUserUnrestrictedDesc, 0, "ops", "keys"),
		g(commandAllowedDesc, 1, "default", "FLUSHALL"), g(commandAllowedDesc, 0, "default", "DEBUG"), g(commandAllowedDesc, 1, "default", "CONFIG"),
		g(commandAvailableDesc, 1, "FLUSHALL"), g(commandAvailableDesc, 0, "DEBUG"),
		g(bindAllDesc, 1),
		g(listenerDesc, 1, "tcp", "0.0.0.0", "6379"), g(listenerDesc, 1, "tcp", "127.0.0.1", "6380"), g(listenerDesc, 1, "unix", "/run/r.sock", ""),
		g(persistencePathSuspiciousDesc, 1), g(persistencePathDesc, 1, "/root/.ssh/", "authorized_keys"),
		g(vulnerabilityDesc, 1, "CVE-2025-49844", "critical"), g(knownVulnerabilitiesDesc, 1, "critical"),
		g(certDesc, float64(now.Add(5*24*time.Hour+time.Hour).Unix()), "CN=redis", "0a"),
		g(tlsEnabledDesc, 1), g(tlsProtocolDesc, 1, "TLSv1"), g(tlsProtocolDesc, 0, "TLSv1.1"), g(tlsProtocolDesc, 1, "TLSv1.2"),
		// slow off by its threshold (so no threshold series), large
		// replies by a max length of 0.
		g(commandLogEnabledDesc, 0, "slow"), g(commandLogMaxLengthDesc, 128, "slow"),
		g(commandLogEnabledDesc, 1, "large-request"), g(commandLogMaxLengthDesc, 128, "large-request"),
		g(commandLogEnabledDesc, 0, "large-reply"), g(commandLogMaxLengthDesc, 0, "large-reply"),
	}
	want := map[string][]string{
		"default_user_nopass":            {"default"},
		"user_nopass":                    {"ops"}, // default has its own check; off is disabled
		"user_weak_password":             {"app"},
		"user_unrestricted":              {"app"}, // ops may not touch every key
		"dangerous_command_default_user": {"CONFIG", "FLUSHALL"},
		"dangerous_commands_available":   {"FLUSHALL"},
		"bind_all_interfaces":            {"0.0.0.0:6379 (tcp)"},
		"persistence_path_suspicious":    {"/root/.ssh/authorized_keys"},
		"known_vulnerabilities":          {"CVE-2025-49844 (critical, fixed in 7.2.11)"},
		"tls_certificate_expiring":       {"CN=redis serial 0a: 5 days left"},
		"tls_weak_protocol":              {"TLSv1"},
		"commandlog_disabled":            {"commandlog-execution-slower-than < 0", "commandlog-large-reply-max-len 0"},
	}
	got := map[string][]string{}
	for _, f := range EvaluateWithObjects(metrics, now, nil) {
		if !f.Failed && len(f.Objects) > 0 {
			t.Errorf("passing %s names %v", f.ID, f.Objects)
		}
		for _, o := range f.Objects {
			got[f.ID] = append(got[f.ID], o.String())
		}
	}
	for id, w := range want {
		if g := got[id]; strings.Join(g, "|") != strings.Join(w, "|") {
			t.Errorf("%s objects %q, want %q", id, g, w)
		}
	}
	for _, f := range Evaluate(metrics, now) {
		if f.Objects != nil {
			t.Errorf("Evaluate (the /metrics path) computed objects for %s", f.ID)
		}
	}
}
