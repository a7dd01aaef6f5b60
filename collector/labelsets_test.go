package collector

import (
	"math"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestLabelSetsShared: the same series of two targets' memos share one
// label set; a memoised metric writes what a const metric writes; a set no
// memo holds any more is collected and leaves the table.
func TestLabelSetsShared(t *testing.T) {
	d := prometheus.NewDesc("redis_security_test_shared", "A shared series.", []string{"b_label", "a_label"}, prometheus.Labels{"c": "const"})
	var a, b metricMemo
	ma := a.metric(d, prometheus.GaugeValue, 1, []string{"x", "\xff"}).(*memoMetric)
	mb := b.metric(d, prometheus.CounterValue, math.NaN(), []string{"x", "\xff"}).(*memoMetric)
	if ma.labels != mb.labels {
		t.Error("two memos of the same series built two label sets")
	}
	if other := b.metric(d, prometheus.GaugeValue, 1, []string{"y", "\xff"}).(*memoMetric); other.labels == ma.labels {
		t.Error("another series got the same label set")
	}
	for _, tc := range []struct {
		m   prometheus.Metric
		typ prometheus.ValueType
		v   float64
	}{{ma, prometheus.GaugeValue, 1}, {mb, prometheus.CounterValue, math.NaN()}} {
		var got, want dto.Metric
		if err := tc.m.Write(&got); err != nil {
			t.Fatal(err)
		}
		if err := prometheus.MustNewConstMetric(d, tc.typ, tc.v, labelValues([]string{"x", "\xff"})...).Write(&want); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() || !reflect.DeepEqual(labelStrings(got.Label), labelStrings(want.Label)) {
			t.Errorf("memoised metric writes %v, a const metric %v", got.String(), want.String())
		}
	}
	before := internedLabelSets()
	// Both memos drop the series (two sweeps without the series sent).
	for i := 0; i < 2; i++ {
		a.sweep()
		b.sweep()
	}
	ma, mb = nil, nil
	deadline := time.Now().Add(5 * time.Second)
	for internedLabelSets() > before-2 {
		if time.Now().After(deadline) {
			t.Fatalf("label sets no memo holds stay in the table: %d, was %d", internedLabelSets(), before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

func labelStrings(ls []*dto.LabelPair) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.GetName()+"="+l.GetValue())
	}
	return out
}

// TestIndexReadsMemoMetrics: the findings' index reads the memo's metrics
// directly (without Write); the verdicts are those of the same series as
// const metrics.
func TestIndexReadsMemoMetrics(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	type series struct {
		d      *prometheus.Desc
		v      float64
		labels []string
	}
	for _, tc := range [][]series{
		{{aclUserEnabledDesc, 1, []string{"app"}}, {aclUserNopassDesc, 1, []string{"app"}}},
		{{aclUserEnabledDesc, 0, []string{"app"}}, {aclUserNopassDesc, 1, []string{"app"}}},
		{{tlsEnabledDesc, 1, nil}, {tlsProtocolDesc, 1, []string{"TLSv1"}}, {tlsClientAuthDesc, 1, []string{"no"}}},
		{{luaPackageExposedDesc, 1, nil}, {authRequiredDesc, 0, nil}},
	} {
		var memo metricMemo
		var viaMemo, viaConst []prometheus.Metric
		for _, s := range tc {
			viaMemo = append(viaMemo, memo.metric(s.d, prometheus.GaugeValue, s.v, s.labels))
			viaConst = append(viaConst, prometheus.MustNewConstMetric(s.d, prometheus.GaugeValue, s.v, s.labels...))
		}
		got, want := map[string]bool{}, map[string]bool{}
		for _, f := range Evaluate(viaMemo, now) {
			got[f.ID] = f.Failed
		}
		for _, f := range Evaluate(viaConst, now) {
			want[f.ID] = f.Failed
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("memo metrics give %v, const metrics %v", got, want)
		}
	}
}

// TestSharedGauge: the per-user series the acl and commands collectors keep
// share their label sets with every other target's (and the memo's) same
// series, and their metric object while the value (and type) is the same,
// and write what a const gauge writes.
func TestSharedGauge(t *testing.T) {
	var memo metricMemo
	viaMemo := memo.metric(commandAllowedDesc, prometheus.GaugeValue, 1, []string{"app", "flushall"}).(*memoMetric)
	a := sharedGauge(commandAllowedDesc, 1, "app", "flushall").(*memoMetric)
	b := sharedGauge(commandAllowedDesc, 0, "app", "flushall").(*memoMetric)
	if a.labels != b.labels || a.labels != viaMemo.labels {
		t.Error("the same series of two targets holds two label sets")
	}
	if again := sharedGauge(commandAllowedDesc, 0, "app", "flushall"); again != b {
		t.Error("the same series of the same value is two metric objects")
	}
	var other metricMemo
	if m := other.metric(commandAllowedDesc, prometheus.GaugeValue, 0, []string{"app", "flushall"}); m != b {
		t.Error("a memo's series of the same value is another metric object than a shared gauge's")
	}
	if m := other.metric(commandAllowedDesc, prometheus.CounterValue, 0, []string{"app", "flushall"}); m == b {
		t.Error("a counter of the same value is the gauge's metric object")
	}
	if other := sharedGauge(commandAllowedDesc, 1, "\xff", "flushall").(*memoMetric); other.labels == a.labels {
		t.Error("another user's series got the same label set")
	}
	for _, tc := range []struct {
		v      float64
		labels []string
	}{{1, []string{"app", "flushall"}}, {0, []string{"\xff", "config"}}} {
		var got, want dto.Metric
		if err := sharedGauge(commandAllowedDesc, tc.v, tc.labels...).Write(&got); err != nil {
			t.Fatal(err)
		}
		if err := prometheus.MustNewConstMetric(commandAllowedDesc, prometheus.GaugeValue, tc.v, labelValues(tc.labels)...).Write(&want); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("shared gauge writes %v, a const gauge %v", got.String(), want.String())
		}
	}
}
