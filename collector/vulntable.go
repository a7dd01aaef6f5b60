package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector/internal/vuln"
)

// VulnerabilityTable is the table of known CVEs and branch end-of-life data
// the info collector matches server versions against (see
// collector/internal/vuln for the schema).
type VulnerabilityTable = vuln.Table

// Where a table comes from: the source label of
// redis_security_exporter_vulnerability_table_timestamp_seconds.
const (
	VulnerabilityTableEmbedded = "embedded"
	VulnerabilityTableFile     = "file"
)

// EmbeddedVulnerabilityTable is the table compiled into the binary.
func EmbeddedVulnerabilityTable() *VulnerabilityTable { return vuln.Embedded() }

// LoadVulnerabilityTable reads and strictly validates a table file (the
// schema of the embedded one, which it replaces whole: CVE rows and
// end-of-life data). Errors name the file and what is wrong where.
func LoadVulnerabilityTable(path string) (*VulnerabilityTable, error) {
	return vuln.Load(path)
}

var vulnerabilityTableTimestampDesc = prometheus.NewDesc(
	"redis_security_exporter_vulnerability_table_timestamp_seconds",
	"Date the vulnerability table (CVE fixed-in versions and branch end of life) was last checked against the advisories, as a Unix time (midnight UTC). source is embedded (shipped in the binary) or file (--vuln.file). Alert when it is months old: newer CVEs are then not reported.",
	[]string{"source"}, nil)

// tableInfo exports the date of the table in use, for the exporter's own
// registry (it is not a per-target metric).
type tableInfo struct {
	metric prometheus.Metric
}

// NewVulnerabilityTableCollector exports the date of table, labelled with
// where it came from (VulnerabilityTableEmbedded or VulnerabilityTableFile).
func NewVulnerabilityTableCollector(table *VulnerabilityTable, source string) prometheus.Collector {
	if table == nil {
		table, source = vuln.Embedded(), VulnerabilityTableEmbedded
	}
	return tableInfo{metric: prometheus.MustNewConstMetric(vulnerabilityTableTimestampDesc,
		prometheus.GaugeValue, float64(table.AsOfTime().Unix()), source)}
}

func (c tableInfo) Describe(ch chan<- *prometheus.Desc) { ch <- vulnerabilityTableTimestampDesc }

func (c tableInfo) Collect(ch chan<- prometheus.Metric) { ch <- c.metric }
