package exporter_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// seriesKey names a metric by its Desc and label values.
func seriesKey(t *testing.T, m prometheus.Metric) (string, float64) {
	t.Helper()
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(m.Desc().String())
	for _, lp := range pb.GetLabel() {
		b.WriteString("|" + lp.GetName() + "=" + lp.GetValue())
	}
	return b.String(), pb.GetGauge().GetValue() + pb.GetCounter().GetValue()
}

// TestUnchangedSeriesReuseTheirMetric: a scrape of an unchanged server
// sends the previous scrape's metric objects for the series whose value is
// the same (what lets the exposition skip them), and a series whose value
// changed a new metric with the new value.
func TestUnchangedSeriesReuseTheirMetric(t *testing.T) {
	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\n"+leastPrivilegeACL)
	admin := srv.Client("default", "admin-pw")
	ctx := context.Background()
	tg := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw", aclListMaxAge: time.Minute})

	index := func(ms []prometheus.Metric) map[string]prometheus.Metric {
		out := map[string]prometheus.Metric{}
		for _, m := range ms {
			k, _ := seriesKey(t, m)
			out[k] = m
		}
		return out
	}
	tg.Scrape(ctx) // the first scrape plans and reads what is cached later
	prev := index(tg.Scrape(ctx))
	cur := tg.Scrape(ctx)
	reused, total := 0, 0
	for _, m := range cur {
		k, _ := seriesKey(t, m)
		total++
		if prev[k] == m {
			reused++
			continue
		}
		// Only series that measure time or count what this scrape did
		// may be new.
		if !strings.Contains(k, "duration_seconds") && !strings.Contains(k, "redis_security_info_") &&
			!strings.Contains(k, "errors_total") && !strings.Contains(k, "commands_total") {
			t.Logf("rebuilt: %s", k)
		}
	}
	t.Logf("%d of %d series reused their metric", reused, total)
	if reused*10 < total*9 {
		t.Errorf("%d of %d series reused their metric, want at least 90%%", reused, total)
	}

	if err := admin.ConfigSet(ctx, "timeout", "42").Err(); err != nil {
		t.Fatal(err)
	}
	before := index(cur)
	var found bool
	for _, m := range tg.Scrape(ctx) {
		k, v := seriesKey(t, m)
		if !strings.Contains(k, `"redis_security_idle_timeout_seconds"`) {
			continue
		}
		found = true
		if before[k] == m || v != 42 {
			t.Errorf("after CONFIG SET timeout 42: same object %v, value %v", before[k] == m, v)
		}
	}
	if !found {
		t.Fatal("no idle_timeout_seconds series")
	}
}
