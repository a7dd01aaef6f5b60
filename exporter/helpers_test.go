package exporter_test

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/exporter"
)

// testOptions are the collectors' defaults with the bundled weak-password
// list, as the exporter starts by default.
var testOptions = sync.OnceValue(func() collector.Options {
	o := collector.DefaultOptions()
	weak, _, err := collector.LoadWeakPasswords(true, "")
	if err != nil {
		panic(err)
	}
	o.WeakPasswords = weak
	return o
})

// allScrapers returns the collectors enabled by default, as the exporter
// runs without --collect flags (opt-in probes have their own tests).
func allScrapers() []collector.Scraper {
	var s []collector.Scraper
	for _, e := range collector.All(testOptions()) {
		if e.EnabledByDefault {
			s = append(s, e.Scraper)
		}
	}
	return s
}

// scrapersWith returns every collector built with o.
func scrapersWith(o collector.Options) []collector.Scraper {
	var s []collector.Scraper
	for _, e := range collector.All(o) {
		s = append(s, e.Scraper)
	}
	return s
}

type targetOpts struct {
	addr     string
	user     string
	password string
	logger   log.Logger
	scrapers []collector.Scraper
	tls      *exporter.ClientTLS
	// probe enables the certificate probe, every probeInterval.
	probe         bool
	probeInterval time.Duration
	// aclListMaxAge is Options.ACLListMaxAge (0: ACL LIST every scrape).
	aclListMaxAge time.Duration
}

func newTarget(t testing.TB, o targetOpts) *exporter.Target {
	t.Helper()
	addr, err := exporter.ParseAddress(o.addr)
	if err != nil {
		t.Fatal(err)
	}
	var creds exporter.Credentials
	if o.password != "" {
		creds = func(context.Context) (string, string, error) { return o.user, o.password, nil }
	}
	if o.scrapers == nil {
		o.scrapers = allScrapers()
	}
	tg, err := exporter.NewTarget(exporter.Options{Address: addr, Credentials: creds, Scrapers: o.scrapers, Logger: o.logger,
		TLS: o.tls, ProbeCertificate: o.probe, ProbeInterval: o.probeInterval, ACLListMaxAge: o.aclListMaxAge})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

// scrape gathers one scrape through a pedantic registry (every metric must
// have been described) and returns "name{labels}" -> value, labels sorted as
// in the exposition format.
func scrape(t *testing.T, tg *exporter.Target, timeout time.Duration) map[string]float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(tg.Collector(ctx))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	return flatten(mfs)
}

func flatten(mfs []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(labels)
			key := mf.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Untyped != nil:
				out[key] = m.GetUntyped().GetValue()
			}
		}
	}
	return out
}

// expect checks exact values; a key mapped to absent must not exist.
func expect(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		switch {
		case v == absent && ok:
			t.Errorf("%s = %v, want it absent", k, g)
		case v == absent:
		case !ok:
			t.Errorf("%s missing (want %v)", k, v)
		case g != v:
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", dump(got))
	}
}

// absent marks a metric that must not be exported (NaN never equals itself,
// so a sentinel value is used instead).
const absent = -12345.678

func dump(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %v\n", k, m[k])
	}
	return b.String()
}

// logBuffer is a go-kit logger whose output the test can read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() log.Logger { return log.NewLogfmtLogger(l) }

// withPrefix returns the keys of metric family name.
func withPrefix(m map[string]float64, name string) []string {
	var keys []string
	for k := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
