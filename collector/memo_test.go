package collector

import (
	"math"
	"strings"
	"testing"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func writeMetric(t *testing.T, m prometheus.Metric) *dto.Metric {
	t.Helper()
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	return &pb
}

func TestMetricMemo(t *testing.T) {
	d2 := newDesc("memo_test", "test", "a", "b")
	d5 := newDesc("memo_test_wide", "test", "a", "b", "c", "d", "e")
	s := NewState()
	first := s.ConstMetric(d2, prometheus.GaugeValue, 1, "x", "y")

	for _, tc := range []struct {
		name   string
		metric func() prometheus.Metric
		same   bool // the very object first is
		value  float64
		labels []string
	}{
		{"same series, same value: the same object", func() prometheus.Metric { return s.ConstMetric(d2, prometheus.GaugeValue, 1, "x", "y") }, true, 1, []string{"x", "y"}},
		{"other label values: another series", func() prometheus.Metric { return s.ConstMetric(d2, prometheus.GaugeValue, 1, "x", "z") }, false, 1, []string{"x", "z"}},
		{"labels are not concatenated into one key", func() prometheus.Metric { return s.ConstMetric(d2, prometheus.GaugeValue, 1, "xy", "") }, false, 1, []string{"xy", ""}},
		{"same series, other type: a new metric", func() prometheus.Metric { return s.ConstMetric(d2, prometheus.CounterValue, 1, "x", "y") }, false, 1, []string{"x", "y"}},
		{"label values are made exportable", func() prometheus.Metric { return s.ConstMetric(d2, prometheus.GaugeValue, 1, "\xff", `"q`) }, false, 1, []string{`"\xff"`, `"\"q"`}},
		{"more labels than the key holds: built anew", func() prometheus.Metric {
			return s.ConstMetric(d5, prometheus.GaugeValue, 2, "1", "2", "3", "4", "5")
		}, false, 2, []string{"1", "2", "3", "4", "5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.metric()
			if (m == first) != tc.same {
				t.Errorf("same object as the first: %v, want %v", m == first, tc.same)
			}
			pb := writeMetric(t, m)
			var got []string
			for _, lp := range pb.GetLabel() {
				got = append(got, lp.GetValue())
			}
			if strings.Join(got, ",") != strings.Join(tc.labels, ",") {
				t.Errorf("labels %q, want %q", got, tc.labels)
			}
			v := pb.GetGauge().GetValue() + pb.GetCounter().GetValue()
			if v != tc.value {
				t.Errorf("value %v, want %v", v, tc.value)
			}
		})
	}

	// After the type change above, the gauge is a new metric again, and a
	// new value is never served from the memo.
	g := s.ConstMetric(d2, prometheus.GaugeValue, 1, "x", "y")
	if g2 := s.ConstMetric(d2, prometheus.GaugeValue, 2, "x", "y"); g2 == g || writeMetric(t, g2).GetGauge().GetValue() != 2 {
		t.Error("a changed value was served from the memo")
	}
	// NaN is one value (its bits), 0 and -0 are two.
	nan := s.ConstMetric(d2, prometheus.GaugeValue, math.NaN(), "n", "")
	if s.ConstMetric(d2, prometheus.GaugeValue, math.NaN(), "n", "") != nan {
		t.Error("NaN was not memoised")
	}
	zero := s.ConstMetric(d2, prometheus.GaugeValue, 0, "z", "")
	if s.ConstMetric(d2, prometheus.GaugeValue, math.Copysign(0, -1), "z", "") == zero {
		t.Error("-0 was served as 0")
	}
}

func TestMetricMemoSweep(t *testing.T) {
	d := newDesc("memo_test_sweep", "test", "a")
	s := NewState()
	kept := s.ConstMetric(d, prometheus.GaugeValue, 1, "kept")
	s.ConstMetric(d, prometheus.GaugeValue, 1, "dropped")
	s.EndScrape()
	if s.memo.len() != 2 {
		t.Fatalf("%d series after the first scrape, want 2", s.memo.len())
	}
	// The next scrape sends only one of them: the other is forgotten.
	if s.ConstMetric(d, prometheus.GaugeValue, 1, "kept") != kept {
		t.Error("a series sent every scrape was rebuilt")
	}
	s.EndScrape()
	if s.memo.len() != 1 {
		t.Errorf("%d series after a scrape that sent one, want 1", s.memo.len())
	}
	var nilState *State
	if m := nilState.ConstMetric(d, prometheus.GaugeValue, 3, "x"); writeMetric(t, m).GetGauge().GetValue() != 3 {
		t.Error("a nil State does not build the metric")
	}
}

func TestMetricMemoCopiesLabels(t *testing.T) {
	// A label taken from a reply must not keep the reply alive.
	d := newDesc("memo_test_clone", "test", "a")
	s := NewState()
	reply := strings.Repeat("r", 1<<20) + "label"
	label := reply[len(reply)-5:]
	s.ConstMetric(d, prometheus.GaugeValue, 1, label)
	found := false
	for _, m := range s.memo.order {
		k := m.labels.key
		if k.desc != d {
			continue
		}
		found = true
		if k.labels[0] != "label" {
			t.Errorf("key label %q", k.labels[0])
		}
		if unsafe.StringData(k.labels[0]) == unsafe.StringData(label) {
			t.Error("the memo's key shares the reply's bytes")
		}
	}
	if !found {
		t.Fatal("the series is not in the memo")
	}
}

// TestMetricMemoHashCollision: series whose hashes are equal are entries of
// their own (the first in the table, the others in overflow), each keeping
// its metric and value, and all are swept when no longer sent.
func TestMetricMemoHashCollision(t *testing.T) {
	d := newDesc("memo_test_collision", "test", "a")
	mm := metricMemo{hash: func(memoKey) uint64 { return 42 }}
	a := mm.metric(d, prometheus.GaugeValue, 1, []string{"a"}).(*memoMetric)
	b := mm.metric(d, prometheus.GaugeValue, 2, []string{"b"}).(*memoMetric)
	c := mm.metric(d, prometheus.CounterValue, 3, []string{"c"}).(*memoMetric)
	if a == b || b == c || b.labels.key.labels[0] != "b" || b.value != 2 || c.labels.key.labels[0] != "c" {
		t.Fatalf("colliding series mixed up: %v=%v, %v=%v", b.labels.key.labels, b.value, c.labels.key.labels, c.value)
	}
	if len(mm.index) != 1 || len(mm.overflow) != 2 {
		t.Fatalf("%d series in the index, %d in overflow; want 1 and 2", len(mm.index), len(mm.overflow))
	}
	for i := 0; i < 2; i++ { // a scrape later, each is still its memoised self
		mm.sweep()
		for _, tc := range []struct {
			m      *memoMetric
			typ    prometheus.ValueType
			v      float64
			labels string
		}{{a, prometheus.GaugeValue, 1, "a"}, {b, prometheus.GaugeValue, 2, "b"}, {c, prometheus.CounterValue, 3, "c"}} {
			if got := mm.metric(d, tc.typ, tc.v, []string{tc.labels}); got != tc.m {
				t.Errorf("scrape %d: series %s is a new metric", i+2, tc.labels)
			}
		}
		if mm.len() != 3 {
			t.Fatalf("scrape %d: %d series, want 3", i+2, mm.len())
		}
	}
	if got := mm.metric(d, prometheus.GaugeValue, 5, []string{"b"}).(*memoMetric); got == b || got.value != 5 || mm.len() != 3 {
		t.Errorf("a changed value in overflow: %v, %d series", got.value, mm.len())
	}
	mm.sweep()
	mm.sweep()
	if mm.len() != 0 {
		t.Errorf("%d series left after two sweeps without them", mm.len())
	}
}

// TestMetricMemoOrder: a series is its memoised metric whatever the order of
// the calls, and a scrape in the previous scrape's order finds every series
// at its position, without building the index.
func TestMetricMemoOrder(t *testing.T) {
	d := newDesc("memo_test_order", "test", "a")
	call := func(mm *metricMemo, names ...string) []prometheus.Metric {
		var out []prometheus.Metric
		for _, n := range names {
			out = append(out, mm.metric(d, prometheus.GaugeValue, 1, []string{n}))
		}
		return out
	}
	for _, tc := range []struct {
		name string
		next []string
		len  int // series held after the second scrape
	}{
		{"same order", []string{"a", "b", "c"}, 3},
		{"reordered", []string{"c", "a", "b"}, 3},
		{"inserted", []string{"a", "x", "b", "c"}, 4},
		{"deleted", []string{"a", "c"}, 2},
		{"appended", []string{"a", "b", "c", "d"}, 4},
		{"sent twice", []string{"a", "a", "b", "c"}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mm metricMemo
			first := map[string]prometheus.Metric{}
			for i, m := range call(&mm, "a", "b", "c") {
				first[[]string{"a", "b", "c"}[i]] = m
			}
			mm.sweep()
			for i, m := range call(&mm, tc.next...) {
				if want, ok := first[tc.next[i]]; ok && m != want {
					t.Errorf("series %s (call %d) is a new metric", tc.next[i], i+1)
				}
			}
			if tc.name == "same order" && mm.index != nil {
				t.Error("a scrape in the last scrape's order built the index")
			}
			mm.sweep()
			if mm.len() != tc.len {
				t.Errorf("%d series held, want %d", mm.len(), tc.len)
			}
			// A third scrape in the second's order hits every position.
			again := call(&mm, tc.next...)
			if mm.index != nil {
				t.Error("a scrape in the last scrape's order built the index")
			}
			for i, m := range again {
				if want, ok := first[tc.next[i]]; ok && m != want {
					t.Errorf("third scrape: series %s is a new metric", tc.next[i])
				}
			}
		})
	}
}

// TestMetricMemoBounded: scrapes of the same series keep the memo's size,
// and the call order keeps no metric of a series no longer sent.
func TestMetricMemoBounded(t *testing.T) {
	d := newDesc("memo_test_bounded", "test", "a")
	var mm metricMemo
	for i := 0; i < 100; i++ {
		for _, n := range []string{"a", "b", "c"} {
			mm.metric(d, prometheus.GaugeValue, float64(i%3), []string{n})
		}
		mm.sweep()
	}
	if len(mm.order) != 3 || cap(mm.order) > 8 {
		t.Errorf("after 100 scrapes of 3 series: order of length %d, capacity %d", len(mm.order), cap(mm.order))
	}
	mm.metric(d, prometheus.GaugeValue, 1, []string{"a"})
	mm.sweep()
	if full := mm.order[:cap(mm.order)]; full[1] != nil || full[2] != nil {
		t.Error("the call order's backing array keeps the metrics of series no longer sent")
	}
}
