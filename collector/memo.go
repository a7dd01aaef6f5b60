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
// A pooled /probe target keeps a memo of some 260 series, so the memo is
// keyed by a hash of the series (8 bytes) rather than by the series itself
// (a Desc and four strings, 72 bytes a slot): the label set a memoised metric
// points to holds the series' key, which a hit is checked against. Two
// series of one target with the same hash (the hash is seeded per process,
// so no one can choose label values that collide) go to overflow, keyed by
// the series itself.
type metricMemo struct {
	series   map[uint64]*memoEntry
	overflow map[memoKey]*memoEntry
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

type memoEntry struct {
	metric *memoMetric // its labels hold the series' key
	used   bool        // sent since the last sweep
}

// metric returns the series' metric with value v: the previous one when
// the value and type are the same.
func (mm *metricMemo) metric(d *prometheus.Desc, typ prometheus.ValueType, v float64, labels []string) prometheus.Metric {
	if mm == nil || len(labels) > len(memoKey{}.labels) {
		return prometheus.MustNewConstMetric(d, typ, v, labelValues(labels)...)
	}
	k := memoKey{desc: d}
	copy(k.labels[:], labels)
	h := mm.hashOf(k)
	e, ok := mm.series[h]
	if ok && e.metric.labels.key != k {
		e, ok = mm.overflow[k] // another series of the same hash
	}
	if ok && e.metric.typ == typ && math.Float64bits(e.metric.value) == math.Float64bits(v) {
		e.used = true
		return e.metric
	}
	if !ok {
		// A new series. The label values are often substrings of a whole
		// reply (INFO): the memo keeps copies, not the reply. Its label set
		// is shared with the other targets'; built, when none has it, as
		// client_golang builds a const metric's (and checked as
		// NewConstMetric checks it).
		for i := range labels {
			k.labels[i] = strings.Clone(labels[i])
		}
		e = &memoEntry{metric: &memoMetric{labels: sharedLabels(k, typ, v, len(labels))}}
		if _, taken := mm.series[h]; !taken {
			if mm.series == nil {
				mm.series = map[uint64]*memoEntry{}
			}
			mm.series[h] = e
		} else {
			if mm.overflow == nil {
				mm.overflow = map[memoKey]*memoEntry{}
			}
			mm.overflow[k] = e
		}
	}
	e.used = true
	e.metric = e.metric.labels.metric(d, typ, v)
	return e.metric
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

// sweep forgets the series not sent since the last sweep: a setting whose
// value label changed, a user deleted, a check no longer evaluated.
func (mm *metricMemo) sweep() {
	for h, e := range mm.series {
		if !e.used {
			delete(mm.series, h)
			continue
		}
		e.used = false
	}
	for k, e := range mm.overflow {
		if !e.used {
			delete(mm.overflow, k)
			continue
		}
		e.used = false
	}
}

// len is the number of series the memo holds.
func (mm *metricMemo) len() int { return len(mm.series) + len(mm.overflow) }

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
