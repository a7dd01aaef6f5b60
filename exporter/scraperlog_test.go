package exporter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// logging is a scraper that logs one line while it runs.
type logging struct{ name string }

func (l logging) Name() string                   { return l.name }
func (logging) Help() string                     { return "logs one line" }
func (logging) Plan(*collector.Plan)             {}
func (logging) Describe(chan<- *prometheus.Desc) {}
func (l logging) Scrape(_ *collector.Replies, _ collector.Send, logger log.Logger) error {
	return level.Warn(logger).Log("msg", "from "+l.name)
}

// TestScraperLogLinesNameTheirCollector: each scraper's log lines carry
// collector=<its name> (the target keeps one logger whose collector value
// is the running scraper) and the caller of the scraper's own Log call, on
// every scrape.
func TestScraperLogLinesNameTheirCollector(t *testing.T) {
	srv := redistest.Start(t, "")
	var sink syncBuffer
	logger := log.With(log.NewLogfmtLogger(&sink), "caller", log.DefaultCaller)
	tg := newTarget(t, targetOpts{addr: srv.Addr(), logger: logger,
		scrapers: []collector.Scraper{logging{"first"}, logging{"second"}}})
	for i := 0; i < 2; i++ {
		scrape(t, tg, 10*time.Second)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(sink.String()), "\n") {
		if strings.Contains(l, `msg="from `) {
			lines = append(lines, l)
		}
	}
	if len(lines) != 4 {
		t.Fatalf("want 4 scraper lines, got %d:\n%s", len(lines), sink.String())
	}
	for i, l := range lines {
		name := []string{"first", "second"}[i%2]
		for _, want := range []string{`msg="from ` + name + `"`, "collector=" + name, "caller=scraperlog_test.go:", "target=redis://" + srv.Addr()} {
			if !strings.Contains(l, want) {
				t.Errorf("line %d lacks %s: %s", i, want, l)
			}
		}
	}
}
