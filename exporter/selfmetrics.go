package exporter

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// SelfMetrics are the exporter's own metrics (Go runtime, process, build
// info) that /metrics serves beside its target's. It is a
// prometheus.Gatherer, but Target.Serve does not gather it: it collects
// the metrics into the target's family cache, so that a family whose
// samples did not change (go_info, the limits, most of go_memstats between
// two GCs) is neither encoded nor compressed again, and the registry's
// goroutine per collector and its per-scrape checks are not paid (the
// checks that matter, that every metric is described, consistent in help
// and type and not duplicated, are the family cache's own; anything else is
// served by promhttp, which gathers it through the registry).
type SelfMetrics struct {
	reg        *prometheus.Registry
	collectors []prometheus.Collector
	descs      []*prometheus.Desc
}

// NewSelfMetrics registers the collectors; an error is the registry's
// (an inconsistent or duplicate Desc).
func NewSelfMetrics(cs ...prometheus.Collector) (*SelfMetrics, error) {
	s := &SelfMetrics{reg: prometheus.NewRegistry(), collectors: cs}
	for _, c := range cs {
		if err := s.reg.Register(c); err != nil {
			return nil, err
		}
	}
	ch := make(chan *prometheus.Desc)
	go func() {
		defer close(ch)
		for _, c := range cs {
			c.Describe(ch)
		}
	}()
	for d := range ch {
		s.descs = append(s.descs, d)
	}
	return s, nil
}

// Gather gathers the collectors through their registry.
func (s *SelfMetrics) Gather() ([]*dto.MetricFamily, error) { return s.reg.Gather() }

// collect appends the collectors' metrics to out, from one goroutine that
// runs the collectors in turn.
func (s *SelfMetrics) collect(out []prometheus.Metric) []prometheus.Metric {
	ch := make(chan prometheus.Metric, 64)
	go func() {
		defer close(ch)
		for _, c := range s.collectors {
			c.Collect(ch)
		}
	}()
	for m := range ch {
		out = append(out, m)
	}
	return out
}
