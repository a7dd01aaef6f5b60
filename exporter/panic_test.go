package exporter_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
	"github.com/redis-security/redis_security_exporter/exporter"
)

var partialDesc = prometheus.NewDesc("redis_security_test_partial", "Sent before the panic.", nil, nil)

// panicking is a scraper whose parser meets a reply it did not expect: it
// sends one metric, then panics.
type panicking struct{}

func (panicking) Name() string                        { return "panicking" }
func (panicking) Help() string                        { return "panics after one metric" }
func (panicking) Plan(*collector.Plan)                {}
func (panicking) Describe(ch chan<- *prometheus.Desc) { ch <- partialDesc }
func (panicking) Scrape(_ *collector.Replies, send collector.Send, _ log.Logger) error {
	send(prometheus.MustNewConstMetric(partialDesc, prometheus.GaugeValue, 1))
	var m map[string]int
	m["boom"]++ // a nil map: panics
	return nil
}

// TestPanickingScraperFailsOnlyItself: a scraper that panics in the
// scraping goroutine fails its own collector (success 0, its metrics sent
// before the panic kept); the target stays up, the other collectors report,
// and the next scrape works too.
func TestPanickingScraperFailsOnlyItself(t *testing.T) {
	srv := redistest.Start(t, "")
	tg := newTarget(t, targetOpts{addr: srv.Addr(), scrapers: append(allScrapers(), panicking{})})
	for i := 0; i < 2; i++ {
		got := scrape(t, tg, 10*time.Second)
		expect(t, got, map[string]float64{
			`redis_security_up`: 1,
			`redis_security_scrape_collector_success{collector="panicking"}`: 0,
			`redis_security_scrape_collector_success{collector="info"}`:      1,
			`redis_security_scrape_collector_success{collector="config"}`:    1,
			`redis_security_test_partial`:                                    1,
		})
	}
}

// panickingPlan is a scraper whose Plan panics: outside the per-collector
// recover, as the plan's follow-up and the findings are.
type panickingPlan struct{ panicking }

func (panickingPlan) Name() string { return "panicking_plan" }
func (panickingPlan) Plan(*collector.Plan) {
	var p *collector.Plan
	p.Config("bind") // a nil plan: panics
}

// TestPanicOutsideScrapersFailsTheScrape: a panic outside the scrapers
// fails the scrape as a server error does (up 0, every collector 0, the
// panic and its stack logged) and the response is served; the target
// stays usable.
func TestPanicOutsideScrapersFailsTheScrape(t *testing.T) {
	srv := redistest.Start(t, "")
	var logs logBuffer
	tg := newTarget(t, targetOpts{addr: srv.Addr(), logger: logs.logger(), scrapers: append(allScrapers(), panickingPlan{})})
	h := exporter.MetricsHandler(tg, nil, exporter.HandlerOptions{DefaultTimeout: 5 * time.Second})
	for i := 0; i < 2; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		if w.Code != 200 {
			t.Fatalf("status %d", w.Code)
		}
		for _, want := range []string{"redis_security_up 0\n", `redis_security_scrape_collector_success{collector="info"} 0` + "\n",
			`redis_security_scrape_collector_success{collector="panicking_plan"} 0` + "\n"} {
			if !strings.Contains(w.Body.String(), want) {
				t.Errorf("scrape %d: no %q in\n%s", i, want, w.Body.String())
			}
		}
	}
	if !strings.Contains(logs.String(), "scrape panicked") || !strings.Contains(logs.String(), "stack=") {
		t.Errorf("the panic is not logged with its stack:\n%s", logs.String())
	}
}
