package collector_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/redis-security/redis_security_exporter/collector"
)

// TestVulnerabilityTableCollector: the table's date as a described gauge
// (pedantic registry), labelled with where the table came from.
func TestVulnerabilityTableCollector(t *testing.T) {
	embedded := collector.EmbeddedVulnerabilityTable()
	path := filepath.Join(t.TempDir(), "table.json")
	b, err := os.ReadFile("internal/vuln/vulnerabilities.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), `"as_of": "`+embedded.AsOf()+`"`, `"as_of": "2027-03-01"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	file, err := collector.LoadVulnerabilityTable(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		table  *collector.VulnerabilityTable
		source string
		want   string
	}{
		{embedded, collector.VulnerabilityTableEmbedded, `{source="embedded"} ` + formatUnix(embedded.AsOfTime().Unix())},
		{file, collector.VulnerabilityTableFile, `{source="file"} 1.8038592e+09`}, // 2027-03-01
		{nil, "ignored", `{source="embedded"} ` + formatUnix(embedded.AsOfTime().Unix())},
	} {
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(collector.NewVulnerabilityTableCollector(tc.table, tc.source))
		want := "# HELP redis_security_exporter_vulnerability_table_timestamp_seconds " +
			"Date the vulnerability table (CVE fixed-in versions and branch end of life) was last checked against the advisories, as a Unix time (midnight UTC). source is embedded (shipped in the binary) or file (--vuln.file). Alert when it is months old: newer CVEs are then not reported.\n" +
			"# TYPE redis_security_exporter_vulnerability_table_timestamp_seconds gauge\n" +
			"redis_security_exporter_vulnerability_table_timestamp_seconds" + tc.want + "\n"
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
			t.Errorf("%s: %v", tc.source, err)
		}
	}
}

func formatUnix(s int64) string { return strconv.FormatFloat(float64(s), 'g', -1, 64) }
