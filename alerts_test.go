package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/exporter"
	"github.com/redis-security/redis_security_exporter/probe"
)

// bundledAlerts are the alerts issue 7 asks for, by exact name.
var bundledAlerts = []string{
	"RedisSecurityAuthFailureSpike", "RedisSecurityUnauthenticatedCommands", "RedisSecurityACLDenialSpike",
	"RedisSecurityExposedWithoutAuth", "RedisSecurityDefaultUserNoPassword", "RedisSecurityBindAllInterfaces",
	"RedisSecurityProtectedModeDisabled", "RedisSecurityPlaintextPortOpen", "RedisSecurityTLSCertificateExpiring",
	"RedisSecurityWeakTLSProtocol", "RedisSecurityWeakPassword", "RedisSecurityDangerousCommandsOpenToDefaultUser",
	"RedisSecuritySuspiciousPersistencePath", "RedisSecurityConfigDrift", "RedisSecurityKnownVulnerabilities",
	"RedisSecurityRejectedConnectionsSpike", "RedisSecurityExporterBlindSpot", "RedisSecurityTargetDown",
	"RedisSecurityVulnerabilityTableStale", // issue 14
}

// TestAlertRulesUseExistingMetrics: every redis_security_* metric the rule
// file queries is one the exporter describes (or a planned one), so a renamed
// metric cannot silently disable an alert.
func TestAlertRulesUseExistingMetrics(t *testing.T) {
	t.Parallel()
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := exporter.NewTarget(exporter.Options{Address: exporter.Address{Network: "tcp", Addr: "127.0.0.1:1"}, Scrapers: allScrapers()})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	known := map[string]bool{}
	ch := make(chan *prometheus.Desc, 256)
	cfgFile := filepath.Join(t.TempDir(), "config.yml")
	os.WriteFile(cfgFile, []byte("modules:\n  m:\n    allowed_targets: [\"127.0.0.1:1\"]\n"), 0o600)
	reloader, err := probe.NewReloader(cfgFile, probe.Defaults{Options: collector.DefaultOptions(), Enabled: map[string]bool{"info": true}}, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reloader.Prober().Close()
	go func() {
		tg.Describe(ch)
		newBuildInfo().Describe(ch)
		reloader.Describe(ch)
		collector.NewVulnerabilityTableCollector(nil, "").Describe(ch)
		close(ch)
	}()
	for d := range ch {
		known[descName(d)] = true
	}
	// Metric names outside comments, not recording rule names
	// (instance:redis_security_...) nor the repository name in runbook URLs
	// (/redis_security_exporter/).
	used := map[string]bool{}
	metricName := regexp.MustCompile(`(^|[^a-zA-Z0-9_:/])(redis_security_[a-z0-9_]+)`)
	for _, line := range strings.Split(string(rules), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, m := range metricName.FindAllStringSubmatch(line, -1) {
			used[m[2]] = true
		}
	}
	if len(used) < 20 {
		t.Fatalf("found only %d metric names in %s: the pattern is wrong", len(used), rulesFile)
	}
	for name := range used {
		if !known[name] {
			t.Errorf("%s queries %s, which the exporter does not emit", rulesFile, name)
		}
	}
}

// TestAlertRulesNamesAndRunbooks: every alert the issue lists is defined,
// every alert has a severity and a runbook_url that points at a heading of
// its own name in docs/runbooks.md.
func TestAlertRulesNamesAndRunbooks(t *testing.T) {
	t.Parallel()
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	runbooks, err := os.ReadFile("docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(runbooks), "\n") {
		if strings.HasPrefix(line, "#") {
			anchors[githubAnchor(strings.TrimLeft(line, "# "))] = true
		}
	}
	defined := map[string]bool{}
	for _, rule := range strings.Split(string(rules), "- alert: ")[1:] {
		name := strings.TrimSpace(strings.SplitN(rule, "\n", 2)[0])
		defined[name] = true
		if !regexp.MustCompile(`\n\s+severity: (critical|warning|info)\n`).MatchString(rule) {
			t.Errorf("%s: no severity critical, warning or info", name)
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if !strings.Contains(rule, "\n          "+a+": ") {
				t.Errorf("%s: no %s annotation", name, a)
			}
		}
		m := regexp.MustCompile(`runbook_url: https://github.com/redis-security/redis_security_exporter/blob/main/docs/runbooks.md#(\S+)`).FindStringSubmatch(rule)
		if m == nil {
			t.Errorf("%s: runbook_url is not https://github.com/redis-security/redis_security_exporter/blob/main/docs/runbooks.md#%s", name, strings.ToLower(name))
			continue
		}
		if m[1] != strings.ToLower(name) {
			t.Errorf("%s: runbook_url points at #%s, not at its own section", name, m[1])
		}
		if !anchors[m[1]] {
			t.Errorf("%s: docs/runbooks.md has no heading for #%s: add a section \"## %s\" (Meaning, Investigate, Fix) to docs/runbooks.md", name, m[1], name)
		}
	}
	var missing []string
	for _, name := range bundledAlerts {
		if !defined[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%s lacks %v", rulesFile, missing)
	}
}

// githubAnchor is the fragment GitHub gives a heading: lower case, spaces to
// hyphens, punctuation other than hyphens and underscores dropped.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}
