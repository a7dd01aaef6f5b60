package collector

import (
	"hash/maphash"
	"math"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// A scrape's series are mostly the previous scrape's, value for value: the
// settings, the command availability, the CVEs, the checks' verdicts. A
// const metric is immutable, so a series whose value did not change is sent
// as the very metric object of the previous scrape instead of a new one.
// That saves the allocations of NewConstMetric (about half of a default
// scrape's), and the exposition serves a family whose objects are the
// previous scrape's from the bytes it encoded then, without writing a
// single series again.

// metricMemo is a target's last metric per series. It lives in the State,
// which one scrape at a time uses, so it needs no lock.
//
// The collectors send a target's series in the same order every scrape, so
// the memo keeps the last scrape's metrics in call order (order) and checks
// each call against the metric at its position first: a steady scrape finds
// every series there, without hashing its key or touching a map (hashing
// and the map lookups of some 260 series from cold caches were a tenth of a
// /probe request's CPU), and a pooled /probe target keeps one pointer per
// series instead of a map slot and an entry.
//
// The first call of a scrape that is not the series at its position (a new
// series, one gone, an order that changed) builds index, which finds every
// series of the last scrape and of this one by a hash of its key; it is
// dropped when the scrape ends. The hash is seeded per process, so no one
// can choose label values that collide; two series of the same hash go to
// overflow, keyed by the series itself. A hit is always checked against the
// key the metric's label set holds.
type metricMemo struct {
	order    []*memoMetric
	pos      int // calls this scrape: order[:pos] are this scrape's metrics
	index    map[uint64]*memoMetric
	overflow map[memoKey]*memoMetric
	// hash replaces the seeded hash in tests (nil: maphash).
	hash func(memoKey) uint64
}

func (mm *metricMemo) hashOf(k memoKey) uint64 {
	if mm.hash != nil {
		return mm.hash(k)
	}
	return maphash.Comparable(memoSeed, k)
}

// memoKey identifies a series: its Desc and label values. Series of more
// labels than the key holds are not memoised (none of the collectors'
// today).
type memoKey struct {
	desc   *prometheus.Desc
	labels [4]string
}

// memoSeed keys the memo's hashes of memoKeys.
var memoSeed = maphash.MakeSeed()

// metric returns the series' metric with value v: the previous one when
// the value and type are the same.
func (mm *metricMemo) metric(d *prometheus.Desc, typ prometheus.ValueType, v float64, labels []string) prometheus.Metric {
	if mm == nil || len(labels) > len(memoKey{}.labels) {
		return prometheus.MustNewConstMetric(d, typ, v, labelValues(labels)...)
	}
	k := memoKey{desc: d}
	copy(k.labels[:], labels)
	var m *memoMetric
	if mm.pos < len(mm.order) && mm.order[mm.pos].labels.key == k {
		m = mm.order[mm.pos]
	} else {
		m = mm.lookup(k)
	}
	switch {
	case m != nil && m.typ == typ && math.Float64bits(m.value) == math.Float64bits(v):
		// the previous scrape's metric
	case m != nil:
		m = m.labels.metric(d, typ, v)
		mm.put(k, m)
	default:
		// A new series. The label values are often substrings of a whole
		// reply (INFO): the memo keeps copies, not the reply. Its label set
		// is shared with the other targets'; built, when none has it, as
		// client_golang builds a const metric's (and checked as
		// NewConstMetric checks it).
		for i := range labels {
			k.labels[i] = strings.Clone(labels[i])
		}
		m = sharedLabels(k, typ, v, len(labels)).metric(d, typ, v)
		mm.put(k, m)
	}
	if mm.pos < len(mm.order) {
		mm.order[mm.pos] = m
	} else {
		mm.order = append(mm.order, m)
	}
	mm.pos++
	return m
}

// lookup finds series k among the last scrape's and this scrape's metrics,
// building the index on the first call of a scrape that needs it.
func (mm *metricMemo) lookup(k memoKey) *memoMetric {
	if mm.index == nil {
		mm.index = make(map[uint64]*memoMetric, len(mm.order))
		for _, m := range mm.order {
			mm.put(m.labels.key, m)
		}
	}
	m := mm.index[mm.hashOf(k)]
	if m != nil && m.labels.key != k {
		m = mm.overflow[k] // another series of the same hash
	}
	return m
}

// put records m as series k's metric in the index, if this scrape built one
// (a new series or a new value found at its position needs none: the next
// scrape finds it there too).
func (mm *metricMemo) put(k memoKey, m *memoMetric) {
	if mm.index == nil {
		return
	}
	h := mm.hashOf(k)
	if o, taken := mm.index[h]; !taken || o.labels.key == k {
		mm.index[h] = m
		return
	}
	if mm.overflow == nil {
		mm.overflow = map[memoKey]*memoMetric{}
	}
	mm.overflow[k] = m
}

// sharedLabels returns the label set of series k (of n label values, which
// must not reference a reply: the table may keep k) that the targets share,
// built as client_golang builds a const metric's and checked as
// NewConstMetric checks it when no target has it yet.
func sharedLabels(k memoKey, typ prometheus.ValueType, v float64, n int) *labelSet {
	return internLabels(k, func() []*dto.LabelPair {
		var pb dto.Metric
		_ = prometheus.MustNewConstMetric(k.desc, typ, v, labelValues(k.labels[:n])...).Write(&pb)
		return pb.Label
	})
}

// sharedGauge builds a gauge whose label pairs are shared with the other
// targets' same series, for collectors that keep their own per-user series
// between scrapes (acl, commands): a pooled /probe target keeps dozens of
// them per user, each of which would otherwise hold its own label pairs.
func sharedGauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	if len(labels) > len(memoKey{}.labels) {
		return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labelValues(labels)...)
	}
	k := memoKey{desc: d}
	for i := range labels {
		k.labels[i] = strings.Clone(labels[i])
	}
	return sharedLabels(k, prometheus.GaugeValue, v, len(labels)).metric(d, prometheus.GaugeValue, v)
}

// sweep ends a scrape: the memo keeps this scrape's metrics, in its call
// order, and forgets the series not sent (a setting whose value label
// changed, a user deleted, a check no longer evaluated).
func (mm *metricMemo) sweep() {
	clear(mm.order[mm.pos:]) // the backing array must not keep them
	mm.order = mm.order[:mm.pos]
	mm.pos = 0
	mm.index, mm.overflow = nil, nil
}

// len is the number of series the memo holds: those of the last scrape
// (or, during a scrape that built the index, those of the last scrape and
// this one's so far). A series sent twice in a scrape counts twice after it.
func (mm *metricMemo) len() int {
	if mm.index != nil {
		return len(mm.index) + len(mm.overflow)
	}
	return len(mm.order)
}

// ConstMetric returns a gauge or counter of the target's series, reusing the
// previous scrape's metric when its value is the same (see metricMemo).
// Label values go through LabelValue. A nil State builds a new metric.
func (s *State) ConstMetric(d *prometheus.Desc, typ prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	if s == nil {
		return prometheus.MustNewConstMetric(d, typ, v, labelValues(labels)...)
	}
	return s.memo.metric(d, typ, v, labels)
}

// EndScrape is called once a scrape's metrics are all built: series not
// sent since the previous call are forgotten, so the memo holds one
// scrape's series.
func (s *State) EndScrape() { s.memo.sweep() }

// emitter sends a scraper's metrics through the target's memo.
type emitter struct {
	send Send
	memo *metricMemo
}

func (r *Replies) emitter(send Send) emitter {
	e := emitter{send: send}
	if r.state != nil {
		e.memo = &r.state.memo
	}
	return e
}

func (e emitter) gauge(d *prometheus.Desc, v float64, labels ...string) {
	e.send(e.memo.metric(d, prometheus.GaugeValue, v, labels))
}

func (e emitter) counter(d *prometheus.Desc, v float64, labels ...string) {
	e.send(e.memo.metric(d, prometheus.CounterValue, v, labels))
}
