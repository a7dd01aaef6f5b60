package collector_test

import (
	"sync"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// samplesDir holds replies recorded from real servers (see
// testdata/samples and the design notes' samples README).
const samplesDir = "testdata/samples"

var sampleVersions = []string{"redis-6.2", "redis-7.0", "redis-7.2", "redis-7.4", "valkey-8.0", "redis-8.0", "valkey-8.1", "valkey-9.1"}

// scrapers are the collectors under test, in the exporter's order.
func scrapers() []collector.Scraper {
	var out []collector.Scraper
	for _, e := range collector.All(collector.DefaultOptions()) {
		// The recordings hold COMMAND INFO for a few commands only: the
		// commands collector has its own sample test (commands_test.go).
		// The recorded-sample harness leaves out: commands (COMMAND INFO
		// recorded for a few commands only; commands_test.go), clients (it
		// needs the follow-up round on a first scrape; clients_test.go) and
		// the opt-in lua-sandbox probe (no recording; tested against a real
		// server in exporter/findings_test.go).
		if n := e.Scraper.Name(); n != "commands" && n != "clients" && n != "lua-sandbox" {
			out = append(out, e.Scraper)
		}
	}
	return out
}

// testCollector runs scrapers over fixed replies, as the exporter's target
// collector does. The scrapers share one collector because Info and Config
// both describe listener and maxclients (each emits them only when the other
// cannot): as separate collectors, a registry would refuse the second one.
// The pedantic registry then checks every metric against the Descs and that
// no two scrapers emit the same series.
type testCollector struct {
	scrapers []collector.Scraper
	replies  *collector.Replies

	mu   sync.Mutex
	errs map[string]error
}

func newTestCollector(r *collector.Replies, ss ...collector.Scraper) *testCollector {
	return &testCollector{scrapers: ss, replies: r, errs: map[string]error{}}
}

func (c *testCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, s := range c.scrapers {
		s.Describe(ch)
	}
}

func (c *testCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.scrapers {
		err := s.Scrape(c.replies, func(m prometheus.Metric) { ch <- m }, log.NewNopLogger())
		c.mu.Lock()
		c.errs[s.Name()] = err
		c.mu.Unlock()
	}
}

// err returns the error of the named scraper's last Scrape.
func (c *testCollector) err(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.errs[name]
}

func (c *testCollector) registry(tb testing.TB) *prometheus.Registry {
	tb.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		tb.Fatal(err)
	}
	return reg
}

// readSample reads a recorded reply; the test fails if it does not parse.
func readSample(tb testing.TB, version, name string) collector.Result {
	tb.Helper()
	res, err := redistest.ReadSample(samplesDir, version, name)
	if err != nil {
		tb.Fatalf("%s/%s: %v", version, name, err)
	}
	return res
}

// planFor builds the plan every scraper makes for a server whose INFO the
// exporter has already seen (Facts.Known): the encoding is then the one the
// server's version needs.
func planFor(tb testing.TB, info collector.Result) *collector.Plan {
	tb.Helper()
	facts := collector.Facts{}
	if s, ok := info.Value.(string); ok {
		if srv, err := redisinfo.Parse(s).Server(); err == nil {
			facts = collector.Facts{Known: true, Server: srv}
		}
	}
	p := collector.NewPlan(facts)
	for _, s := range scrapers() {
		s.Plan(p)
	}
	if err := p.Err(); err != nil {
		tb.Fatalf("plan refused a request: %v", err)
	}
	return p
}

// replay runs a scraper's plan against answer, then its follow-up round when
// it has one, as the exporter does, and returns the merged replies.
func replay(tb testing.TB, s collector.Scraper, st *collector.State, facts collector.Facts, answer func(collector.Call) collector.Result) *collector.Replies {
	tb.Helper()
	exec := func(p *collector.Plan, calls []collector.Call) *collector.Replies {
		results := make([]collector.Result, len(calls))
		for i, c := range calls {
			results[i] = answer(c)
		}
		r, err := collector.NewReplies(p, calls, results)
		if err != nil {
			tb.Fatal(err)
		}
		return r
	}
	p := collector.NewPlan(facts)
	p.UseState(st)
	s.Plan(p)
	r := exec(p, p.Calls())
	if f, ok := s.(collector.FollowUpPlanner); ok {
		fp := r.NewFollowUpPlan()
		f.FollowUp(r, fp)
		if !fp.Empty() {
			r.Merge(exec(fp, fp.FollowUpCalls()))
		}
	}
	return r
}

// scrapeMap runs s over r and returns "name{labels}" -> value, the name
// without the namespace.
func scrapeMap(tb testing.TB, s collector.Scraper, r *collector.Replies) (map[string]float64, error) {
	tb.Helper()
	got := map[string]float64{}
	err := s.Scrape(r, func(m prometheus.Metric) { got[metricKey(tb, m)] = metricValue(tb, m) }, log.NewNopLogger())
	return got, err
}
