package collector

import (
	"hash/maphash"
	"math"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/redis-security/redis_security_exporter/internal/weakset"
)

// The label pairs of a memoised series are the same for every target that
// has the series ({collector="info"}, {setting="protected-mode"},
// {check="..."}): one set of them serves all, instead of each target keeping
// its own (a dto.LabelPair and its two strings are about a hundred bytes,
// and a pooled /probe target has some 250 such series, which the garbage
// collector marks on every cycle). A set lives as long as some target's
// memo holds it (internal/weakset, as the other shared values): a set no
// target uses is collected and its entry removed.

type labelSet struct {
	pairs []*dto.LabelPair
	// key is the series the set is of (the memo checks its hits with it).
	key memoKey
	// last is the series' metric that a target built last. The targets
	// whose series has the same value (a setting, a verdict, a CVE of the
	// same version) share that metric object instead of each keeping its
	// own: a metric is immutable, and the same object means the same
	// text to the exposition and the findings.
	last atomic.Pointer[memoMetric]
}

// metric returns the series' metric of value v and type typ: the last one
// built, by any target, when it has them.
func (ls *labelSet) metric(d *prometheus.Desc, typ prometheus.ValueType, v float64) *memoMetric {
	if m := ls.last.Load(); m != nil && m.typ == typ && math.Float64bits(m.value) == math.Float64bits(v) {
		return m
	}
	m := &memoMetric{desc: d, labels: ls, value: v, typ: typ}
	ls.last.Store(m)
	return m
}

// labelSets are the shared sets, keyed by the memo's hash of their series.
var labelSets weakset.Set[labelSet]

// internLabels returns the shared label set of series k, building it with
// build when no target holds one.
func internLabels(k memoKey, build func() []*dto.LabelPair) *labelSet {
	return labelSets.Share(maphash.Comparable(memoSeed, k),
		func(ls *labelSet) bool { return ls.key == k },
		func() *labelSet { return &labelSet{pairs: build(), key: k} })
}

// internedLabelSets is the table's size, for tests.
func internedLabelSets() int { return labelSets.Len() }

// memoMetric is a memoised gauge or counter: a const metric whose label
// pairs are a shared set. Write is constMetric's (client_golang's
// populateMetric without exemplar and created timestamp): the label slice
// itself, which readers must not modify, and the value.
type memoMetric struct {
	desc   *prometheus.Desc
	labels *labelSet
	value  float64
	typ    prometheus.ValueType
}

func (m *memoMetric) Desc() *prometheus.Desc { return m.desc }

// Sample returns what Write writes, for a writer that keeps dto values of
// its own (the exposition's scratch; Write allocates two per series): the
// label pairs, shared and read only, the type and the value.
func (m *memoMetric) Sample() ([]*dto.LabelPair, prometheus.ValueType, float64) {
	return m.labels.pairs, m.typ, m.value
}

func (m *memoMetric) Write(out *dto.Metric) error {
	out.Label = m.labels.pairs
	switch m.typ {
	case prometheus.CounterValue:
		out.Counter = &dto.Counter{Value: proto.Float64(m.value)}
	case prometheus.GaugeValue:
		out.Gauge = &dto.Gauge{Value: proto.Float64(m.value)}
	default:
		out.Untyped = &dto.Untyped{Value: proto.Float64(m.value)}
	}
	return nil
}
