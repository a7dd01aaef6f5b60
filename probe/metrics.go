package probe

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Request results, the values of the result label.
const (
	resultSuccess = "success" // the target was up / discovery listed nodes
	resultFailure = "failure" // the target was down or refused the exporter
	resultDenied  = "denied"  // outside the module's allowed_targets (403)
	resultInvalid = "invalid" // bad parameters or method (400, 405)
	resultBusy    = "busy"    // no probe slot or pool room before the deadline (503)
)

var (
	requestsDesc = prometheus.NewDesc("redis_security_exporter_requests_total",
		"Requests to the multi-target endpoints, by endpoint (probe, discover_cluster, discover_sentinel), module (empty when unknown: request parameters never become labels) and result (success, failure, denied, invalid, busy).",
		[]string{"endpoint", "module", "result"}, nil)
	discoveryDeniedDesc = prometheus.NewDesc("redis_security_exporter_discovery_nodes_denied_total",
		"Nodes a Cluster or Sentinel announced that the module's allowed_targets do not admit, left out of the discovery answer.",
		[]string{"endpoint", "module"}, nil)
)

// selfMetrics are the Prober's counters. Label values are only endpoint
// names, configured module names and fixed results.
type selfMetrics struct {
	mu       sync.Mutex
	requests map[[3]string]float64
	denied   map[[2]string]float64
	inFlight prometheus.Gauge
	duration *prometheus.HistogramVec
}

func newSelfMetrics() *selfMetrics {
	return &selfMetrics{
		requests: map[[3]string]float64{},
		denied:   map[[2]string]float64{},
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "redis_security_exporter_probes_in_flight",
			Help: "Probes and discoveries holding a slot of --probe.max-concurrent.",
		}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "redis_security_exporter_request_duration_seconds",
			Help:    "Duration of the multi-target requests that reached a target.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint"}),
	}
}

func (m *selfMetrics) request(endpoint, module, result string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[3]string{endpoint, module, result}]++
}

func (m *selfMetrics) deniedNodes(endpoint, module string, n int) {
	if n == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.denied[[2]string{endpoint, module}] += float64(n)
}

func (m *selfMetrics) describe(ch chan<- *prometheus.Desc) {
	ch <- requestsDesc
	ch <- discoveryDeniedDesc
	m.inFlight.Describe(ch)
	m.duration.Describe(ch)
}

func (m *selfMetrics) collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	for k, v := range m.requests {
		ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.CounterValue, v, k[0], k[1], k[2])
	}
	for k, v := range m.denied {
		ch <- prometheus.MustNewConstMetric(discoveryDeniedDesc, prometheus.CounterValue, v, k[0], k[1])
	}
	m.mu.Unlock()
	m.inFlight.Collect(ch)
	m.duration.Collect(ch)
}
