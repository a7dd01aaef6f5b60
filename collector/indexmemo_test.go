package collector

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestIndexMemoAgreesWithEvaluate: a target's findings, evaluated with the
// index memo over scrapes whose series are partly the previous scrape's
// objects (as the metric memo and the per-user caches send them), partly
// new objects, reordered, fewer or more, are at every scrape the findings
// of a fresh evaluation.
func TestIndexMemoAgreesWithEvaluate(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	type user struct {
		enabled, nopass, unrestricted bool
	}
	// series builds a scrape of n users' series; cache holds the metric
	// objects of unchanged users, as the acl collector's cache does.
	cache := map[string][]prometheus.Metric{}
	series := func(users map[string]user, order []string) []prometheus.Metric {
		out := []prometheus.Metric{prometheus.MustNewConstMetric(authRequiredDesc, prometheus.GaugeValue, 1)}
		for _, name := range order {
			u := users[name]
			key := fmt.Sprint(name, u)
			ms, ok := cache[key]
			if !ok {
				g := func(d *prometheus.Desc, b bool, labels ...string) prometheus.Metric {
					return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, boolValue(b), labels...)
				}
				ms = []prometheus.Metric{g(aclUserEnabledDesc, u.enabled, name), g(aclUserNopassDesc, u.nopass, name),
					g(aclUserUnrestrictedDesc, u.unrestricted, name, "keys"), g(aclUserUnrestrictedDesc, u.unrestricted, name, "commands")}
				cache[key] = ms
			}
			out = append(out, ms...)
		}
		return out
	}
	users := map[string]user{}
	var order []string
	for i := 0; i < 400; i++ {
		name := fmt.Sprintf("user%04d", i)
		users[name] = user{enabled: true}
		order = append(order, name)
	}
	verdicts := func(fs []Finding) map[string]bool {
		m := map[string]bool{}
		for _, f := range fs {
			m[f.ID] = f.Failed
		}
		return m
	}
	st := NewState()
	steps := []struct {
		name   string
		change func()
		want   map[string]bool // a few verdicts the step must show
	}{
		{"first scrape", func() {}, map[string]bool{"user_nopass": false, "user_unrestricted": false}},
		{"unchanged", func() {}, map[string]bool{"user_nopass": false}},
		{"a user becomes nopass", func() { users["user0123"] = user{enabled: true, nopass: true} },
			map[string]bool{"user_nopass": true}},
		{"unchanged again", func() {}, map[string]bool{"user_nopass": true}},
		{"that user disabled", func() { users["user0123"] = user{enabled: false, nopass: true} },
			map[string]bool{"user_nopass": false}},
		{"users reordered, one unrestricted", func() {
			order[0], order[399] = order[399], order[0]
			users["user0007"] = user{enabled: true, unrestricted: true}
		}, map[string]bool{"user_unrestricted": true, "user_nopass": false}},
		{"fewer users: the unrestricted one deleted", func() {
			delete(users, "user0007")
			order = append(order[:7:7], order[8:]...)
		}, map[string]bool{"user_unrestricted": false}},
		{"more users, one nopass", func() {
			users["user9999"] = user{enabled: true, nopass: true}
			order = append([]string{"user9999"}, order...)
		}, map[string]bool{"user_nopass": true}},
	}
	for _, step := range steps {
		step.change()
		ms := series(users, order)
		if len(ms) < indexMemoMin {
			t.Fatalf("%d series: below indexMemoMin, the memo is not exercised", len(ms))
		}
		got, want := verdicts(EvaluateScrape(st, ms, now)), verdicts(Evaluate(ms, now))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: with the memo %v, fresh %v", step.name, got, want)
		}
		for id, failed := range step.want {
			if f, ok := got[id]; !ok || f != failed {
				t.Errorf("%s: %s failed=%v (evaluated %v), want %v", step.name, id, f, ok, failed)
			}
		}
		if len(st.index.metrics) != len(ms) {
			t.Errorf("%s: memo holds %d metrics, want %d", step.name, len(st.index.metrics), len(ms))
		}
	}
	// A small scrape drops the memo.
	EvaluateScrape(st, ms(t), now)
	if st.index.metrics != nil {
		t.Error("a scrape below indexMemoMin kept the memo")
	}
}

func ms(t *testing.T) []prometheus.Metric {
	t.Helper()
	return []prometheus.Metric{prometheus.MustNewConstMetric(authRequiredDesc, prometheus.GaugeValue, 1)}
}

// TestFindingsMemo: a scrape whose series the checks read are all the
// previous scrape's objects gets the previous findings without an index
// (the same slice); a replaced series the checks do not read keeps them; a
// replaced one they read, or a certificate entering the warning window
// with the time alone, evaluates again.
func TestFindingsMemo(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	g := func(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
		return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	certDesc := prometheus.NewDesc("redis_security_tls_certificate_not_after_timestamp_seconds", "", []string{"subject", "serial"}, nil)
	unread := prometheus.NewDesc("redis_security_connected_clients", "", nil, nil)
	ms := []prometheus.Metric{g(tlsEnabledDesc, 1), g(unread, 3),
		g(certDesc, float64(now.Add(certificateExpiryWarning+time.Hour).Unix()), "CN=x", "1")}
	for i := 0; i < indexMemoMin; i++ {
		ms = append(ms, g(aclUserEnabledDesc, 1, fmt.Sprintf("u%04d", i)), g(aclUserNopassDesc, 0, fmt.Sprintf("u%04d", i)))
	}
	verdict := func(fs []Finding, id string) (failed, ok bool) {
		for _, f := range fs {
			if f.ID == id {
				return f.Failed, true
			}
		}
		return false, false
	}
	st := NewState()
	first := EvaluateScrape(st, ms, now)
	again := EvaluateScrape(st, ms, now.Add(time.Minute))
	if &again[0] != &first[0] {
		t.Error("unchanged series: the findings were evaluated again")
	}
	ms[1] = g(unread, 4) // a series no check reads
	if fs := EvaluateScrape(st, ms, now.Add(2*time.Minute)); &fs[0] != &first[0] {
		t.Error("a replaced series no check reads: the findings were evaluated again")
	}
	ms[10] = g(aclUserNopassDesc, 1, "u0003") // u0003 is now nopass
	fs := EvaluateScrape(st, ms, now.Add(3*time.Minute))
	if f, _ := verdict(fs, "user_nopass"); !f || &fs[0] == &first[0] {
		t.Errorf("a replaced series the checks read: user_nopass failed=%v, evaluated again %v", f, &fs[0] != &first[0])
	}
	if f, ok := verdict(fs, "tls_certificate_expiring"); !ok || f {
		t.Fatalf("certificate 14 days + 1 hour from expiry: failed=%v evaluated=%v", f, ok)
	}
	fs = EvaluateScrape(st, ms, now.Add(2*time.Hour)) // same series, inside the window now
	if f, _ := verdict(fs, "tls_certificate_expiring"); !f {
		t.Error("the certificate entered the warning window but the old verdict was kept")
	}
	ids := func(fs []Finding) (out []string) {
		for _, f := range fs {
			out = append(out, fmt.Sprint(f.ID, f.Failed))
		}
		return out
	}
	if !reflect.DeepEqual(ids(fs), ids(Evaluate(ms, now.Add(2*time.Hour)))) {
		t.Error("memoised findings differ from a fresh evaluation")
	}
}
