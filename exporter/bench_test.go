package exporter_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
	"github.com/redis-security/redis_security_exporter/exporter"
	"github.com/redis-security/redis_security_exporter/processmetrics"
)

// serverUsec sums the server-side time (INFO commandstats usec) of the
// commands the exporter sends.
func serverUsec(tb testing.TB, srv *redistest.Server) float64 {
	tb.Helper()
	info := srv.Do("default", "admin-pw", "INFO", "commandstats").(string)
	var total float64
	for _, line := range strings.Split(info, "\r\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":")
		if !ok || !strings.HasPrefix(line, "cmdstat_") {
			continue
		}
		switch name {
		case "info", "config|get", "acl|list", "acl|log", "acl|dryrun", "command|info", "client|list", "client|id", "auth", "hello":
		default:
			continue
		}
		for _, f := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(f, "usec="); ok {
				n, _ := strconv.ParseFloat(v, 64)
				total += n
			}
		}
	}
	return total
}

// benchServer starts a server with n ACL users besides default and the
// exporter's, each with its own rules and password.
func benchServer(b *testing.B, n int) *redistest.Server {
	srv := redistest.Start(b, "user default on >admin-pw ~* &* +@all\n"+leastPrivilegeACL)
	if err := redistest.AddUsers(context.Background(), srv.Client("default", "admin-pw"), n); err != nil {
		b.Fatal(err)
	}
	return srv
}

// BenchmarkScrape measures a whole scrape (one target, every collector,
// default settings) against a real server: steady state (caches warm, ACL
// LIST reused while unchanged) and the first scrape of
// a fresh exporter (COMMAND INFO and ACL DRYRUN for every evaluated user).
// server-us/op is the server's own time for the exporter's commands.
func BenchmarkScrape(b *testing.B) {
	for _, users := range []int{0, 1000} {
		srv := benchServer(b, users)
		b.Run(fmt.Sprintf("users=%d/steady", users), func(b *testing.B) {
			tg := newTarget(b, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw", aclListMaxAge: exporter.DefaultACLListMaxAge})
			ctx := ctxTimeout(b)
			for i := 0; i < 20; i++ { // warm every cache (DRYRUN budget spreads the first evaluation)
				tg.Scrape(ctx)
			}
			before := serverUsec(b, srv)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tg.Scrape(ctx)
			}
			b.StopTimer()
			b.ReportMetric((serverUsec(b, srv)-before)/float64(b.N), "server-us/op")
		})
		b.Run(fmt.Sprintf("users=%d/cold", users), func(b *testing.B) {
			ctx := ctxTimeout(b)
			before := serverUsec(b, srv)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				tg := newTarget(b, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw"})
				tg.Scrape(ctx)
				tg.Close()
			}
			b.StopTimer()
			b.ReportMetric((serverUsec(b, srv)-before)/float64(b.N), "server-us/op")
		})
	}
}

func ctxTimeout(b *testing.B) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	b.Cleanup(cancel)
	return ctx
}

// prebuilt serves a fixed set of metrics.
type prebuilt []prometheus.Metric

func (p prebuilt) Describe(chan<- *prometheus.Desc) {} // unchecked: the metrics are the exporter's own
func (p prebuilt) Collect(ch chan<- prometheus.Metric) {
	for _, m := range p {
		ch <- m
	}
}

// BenchmarkExpositionFloor is what client_golang alone costs to serve the
// metrics of one default-config scrape, already built: the floor of the
// exporter's CPU per scrape, whatever the collectors do. Compared with
// server-us/op of BenchmarkScrape it shows why the exporter's CPU per
// scrape cannot drop below Redis's own time for the scrape.
func BenchmarkExpositionFloor(b *testing.B) {
	srv := benchServer(b, 0)
	tg := newTarget(b, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw"})
	ctx := ctxTimeout(b)
	for i := 0; i < 3; i++ {
		tg.Scrape(ctx)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prebuilt(tg.Scrape(ctx)))
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	for _, gzip := range []bool{false, true} {
		b.Run(fmt.Sprintf("gzip=%v", gzip), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				if gzip {
					r.Header.Set("Accept-Encoding", "gzip")
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

// BenchmarkMetricsHandler is one steady-state /metrics request as
// Prometheus sends it (Accept-Encoding: gzip, prometheusAccept), scrape, exposition and
// compression, with the exporter's own Go and process metrics: through the
// exporter's handler, and through promhttp as the handler was before it
// had its own exposition path (the "before" of BENCHMARKS.md).
func BenchmarkMetricsHandler(b *testing.B) {
	// The exporter's own metrics as main.go registers them; before, the
	// process collector was client_golang's.
	self, err := exporter.NewSelfMetrics(collectors.NewGoCollector(), processmetrics.New())
	if err != nil {
		b.Fatal(err)
	}
	before := prometheus.NewRegistry()
	before.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, users := range []int{0, 1000} {
		srv := benchServer(b, users)
		for _, path := range []string{"exporter", "promhttp"} {
			b.Run(fmt.Sprintf("users=%d/path=%s", users, path), func(b *testing.B) {
				// The exporter as it starts by default; promhttp as it was
				// before (ACL LIST every scrape).
				tg := newTarget(b, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw", aclListMaxAge: exporter.DefaultACLListMaxAge})
				if path == "promhttp" {
					tg = newTarget(b, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw"})
				}
				h := exporter.MetricsHandler(tg, self, exporter.HandlerOptions{DefaultTimeout: 30 * time.Second})
				if path == "promhttp" {
					h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						reg := prometheus.NewRegistry()
						reg.MustRegister(tg.Collector(r.Context()))
						promhttp.HandlerFor(prometheus.Gatherers{reg, before}, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, r)
					})
				}
				serveOnce := func() int {
					r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
					r.Header.Set("Accept-Encoding", "gzip")
					r.Header.Set("Accept", prometheusAccept)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
					return w.Body.Len()
				}
				for i := 0; i < 20; i++ { // warm every cache
					serveOnce()
				}
				before := serverUsec(b, srv)
				b.ReportAllocs()
				b.ResetTimer()
				size := 0
				for i := 0; i < b.N; i++ {
					size = serveOnce()
				}
				b.StopTimer()
				b.ReportMetric((serverUsec(b, srv)-before)/float64(b.N), "server-us/op")
				b.ReportMetric(float64(size), "gzip-bytes")
			})
		}
	}
}

// prometheusAccept is the Accept header Prometheus 2 sends by default.
const prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
