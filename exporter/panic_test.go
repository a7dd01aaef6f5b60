package exporter_test

import (
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
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
