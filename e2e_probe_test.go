package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// docYAML returns the yaml code block of docs/multi-target.md that contains
// marker: the documented configuration is the one the test runs.
func docYAML(t *testing.T, marker string) string {
	t.Helper()
	readme, err := os.ReadFile("docs/multi-target.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		if strings.Contains(m[1], marker) {
			return m[1]
		}
	}
	t.Fatalf("docs/multi-target.md has no yaml block containing %q", marker)
	return ""
}

// TestProbeWithPrometheus: a real Prometheus with the documented http_sd
// configuration discovers every node of a real Redis Cluster through the
// exporter and scrapes each one through /probe, with the documented
// relabelling; and a Sentinel's servers through the same pattern.
func TestProbeWithPrometheus(t *testing.T) {
	t.Parallel()
	promBin := lookBinary(t, "PROMETHEUS_BIN", "prometheus", "Debian package prometheus")
	password := randomHex(t)
	nodes := redistest.StartClusterWith(t, redistest.ClusterOptions{Masters: 3,
		Config: "user exporter on >" + password + " " + collector.LeastPrivilegeRules + " +cluster|shards +cluster|nodes\n"})

	dir := t.TempDir()
	pwFile := writeFile(t, dir, "pw", password+"\n")
	cfgFile := writeFile(t, dir, "config.yml", fmt.Sprintf(`modules:
  prod:
    username: exporter
    password_file: %s
    allowed_targets: ["127.0.0.1/32"]
`, pwFile))
	exp := startExporter(t, nil, "--config.file="+cfgFile)
	exporterAddr := strings.TrimPrefix(exp.url, "http://")

	// The documented configuration, pointed at this exporter and seed.
	scrape := docYAML(t, "/discover/cluster")
	scrape = strings.ReplaceAll(scrape, "redis-security-exporter:9379", exporterAddr)
	scrape = strings.ReplaceAll(scrape, "10.20.1.7:7000", nodes[1].Addr())
	scrape = strings.ReplaceAll(scrape, "refresh_interval: 60s", "refresh_interval: 1s")
	scrape = strings.ReplaceAll(scrape, "scrape_interval: 15s", "scrape_interval: 1s")
	scrape = regexp.MustCompile(`(?m)^#.*\n`).ReplaceAllString(scrape, "")
	conf := writeFile(t, dir, "prometheus.yml", "global:\n  scrape_timeout: 1s\n"+scrape)
	addr := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
	prom := startProcess(t, "prometheus", addr, promBin,
		"--config.file="+conf,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn")
	e := &e2eEnv{t: t, prom: prom, exporter: exp, hook: &webhook{}}
	e.am = prom // diagnostics only
	for _, n := range nodes {
		e.waitQuery(60*time.Second, fmt.Sprintf(`redis_security_up{job="redis_security",instance=%q,role="master",shard!=""} == 1`, n.Addr()))
	}
	e.waitQuery(30*time.Second, `count(up{job="redis_security"} == 1) == 3`)
	e.waitQuery(30*time.Second, `count(count by (shard) (redis_security_server_info{mode="cluster"})) == 3`)
	// The probes count as successes on the exporter's own /metrics.
	if m := get(t, exp.url+"/metrics"); !strings.Contains(m, `redis_security_exporter_requests_total{endpoint="discover_cluster",module="prod",result="success"}`) ||
		!strings.Contains(m, `redis_security_exporter_requests_total{endpoint="probe",module="prod",result="success"}`) {
		t.Errorf("the exporter's /metrics does not count the discoveries and probes:\n%s", m)
	}
}
