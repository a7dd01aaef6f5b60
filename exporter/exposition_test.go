package exporter_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
	"github.com/redis-security/redis_security_exporter/exporter"
)

// metricsOf serves one scrape's metrics the way the exporter did before its
// own exposition path: promhttp over a registry checked against Describe.
func promhttpBody(t *testing.T, tg *exporter.Target, metrics []prometheus.Metric, extra prometheus.Gatherer, accept string) (string, http.Header) {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(described{tg, metrics})
	g := prometheus.Gatherers{reg}
	if extra != nil {
		g = append(g, extra)
	}
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	w := httptest.NewRecorder()
	promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, r)
	return w.Body.String(), w.Header()
}

type described struct {
	tg      *exporter.Target
	metrics []prometheus.Metric
}

func (d described) Describe(ch chan<- *prometheus.Desc) { d.tg.Describe(ch) }
func (d described) Collect(ch chan<- prometheus.Metric) {
	for _, m := range d.metrics {
		ch <- m
	}
}

// serve calls Target.Serve and returns the decoded body.
func serve(t *testing.T, tg *exporter.Target, metrics []prometheus.Metric, extra prometheus.Gatherer, acceptEncoding, accept string) (string, http.Header) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if acceptEncoding != "" {
		r.Header.Set("Accept-Encoding", acceptEncoding)
	}
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	w := httptest.NewRecorder()
	tg.Serve(w, r, metrics, extra, nil, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var body io.Reader = w.Body
	switch enc := w.Header().Get("Content-Encoding"); enc {
	case "gzip":
		zr, err := gzip.NewReader(w.Body)
		if err != nil {
			t.Fatal(err)
		}
		body = zr
	case "zstd":
		zr, err := zstd.NewReader(w.Body)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		body = zr
	case "":
	default:
		t.Fatalf("Content-Encoding %q", enc)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("decoding %s: %v", w.Header().Get("Content-Encoding"), err)
	}
	return string(b), w.Header()
}

// The exporter's exposition is byte for byte promhttp's, on the first
// request (nothing cached), on a second request for the same scrape (all
// cached) and after further scrapes (some families changed), with user
// names that need escaping, and with the exporter's own Go and process
// metrics merged in.
func TestExpositionMatchesPromhttp(t *testing.T) {
	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\n"+leastPrivilegeACL)
	admin := srv.Client("default", "admin-pw")
	ctx := context.Background()
	if err := redistest.AddUsers(ctx, admin, 30); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{`we"ird`, `back\slash`, "\xff\xfe", "ünï", `"quoted`} {
		if err := admin.Do(ctx, "ACL", "SETUSER", name, "on", ">x-pw", "+@all").Err(); err != nil {
			t.Fatal(err)
		}
	}
	durations := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "redis_security_exporter_test_seconds", Help: "A histogram."}, []string{"module"})
	live := []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), durations}
	self := prometheus.NewRegistry()
	self.MustRegister(live...)
	tg := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw"})
	for i := 0; i < 4; i++ {
		// The exporter's own metrics as served by SelfMetrics, and as a
		// plain Gatherer: frozen per scrape, so both sides see the same
		// samples; between scrapes some change (memory, a new histogram
		// observation), others do not.
		durations.WithLabelValues("m" + fmt.Sprint(i%2)).Observe(float64(i) / 10)
		frozen := frozenGatherer(t, self)
		own, err := exporter.NewSelfMetrics(frozenCollectors(t, live))
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if err := admin.Do(ctx, "ACL", "SETUSER", "user0003", "nopass").Err(); err != nil {
				t.Fatal(err)
			}
			if err := admin.Do(ctx, "ACL", "DELUSER", "user0004").Err(); err != nil {
				t.Fatal(err)
			}
		}
		metrics := tg.Scrape(ctx)
		for _, extra := range []prometheus.Gatherer{nil, frozen, own} {
			want, wantHeader := promhttpBody(t, tg, metrics, extra, "")
			for _, enc := range []string{"", "gzip", "zstd", "gzip;q=0.5, zstd"} {
				for pass := 0; pass < 2; pass++ {
					got, h := serve(t, tg, metrics, extra, enc, "")
					if got != want {
						t.Fatalf("scrape %d, encoding %q, pass %d, extra %T: body differs from promhttp's\n%s", i, enc, pass, extra, diffLines(want, got))
					}
					if h.Get("Content-Type") != wantHeader.Get("Content-Type") {
						t.Errorf("Content-Type %q, promhttp %q", h.Get("Content-Type"), wantHeader.Get("Content-Type"))
					}
					if v := h.Values("Vary"); len(v) != 2 || v[0] != "Accept" || v[1] != "Accept-Encoding" {
						t.Errorf("Vary %q", v)
					}
				}
			}
		}
		// Protocol buffers are served by promhttp itself.
		proto := `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`
		want, wantHeader := promhttpBody(t, tg, metrics, frozen, proto)
		got, h := serve(t, tg, metrics, frozen, "gzip", proto)
		if got != want || h.Get("Content-Type") != wantHeader.Get("Content-Type") {
			t.Fatalf("protobuf exposition differs (Content-Type %q, want %q)", h.Get("Content-Type"), wantHeader.Get("Content-Type"))
		}
	}
}

// frozenCollectors collects cs once and replays those metrics, described
// as cs describe them.
func frozenCollectors(t *testing.T, cs []prometheus.Collector) prometheus.Collector {
	t.Helper()
	var f frozenCollector
	for _, c := range cs {
		ch := make(chan prometheus.Metric, 1000)
		c.Collect(ch)
		close(ch)
		for m := range ch {
			f.metrics = append(f.metrics, m)
		}
		dch := make(chan *prometheus.Desc, 1000)
		c.Describe(dch)
		close(dch)
		for d := range dch {
			f.descs = append(f.descs, d)
		}
	}
	return f
}

type frozenCollector struct {
	descs   []*prometheus.Desc
	metrics []prometheus.Metric
}

func (f frozenCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range f.descs {
		ch <- d
	}
}

func (f frozenCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range f.metrics {
		ch <- m
	}
}

// frozenGatherer gathers g once and serves that, so two handlers see the
// same Go and process metrics.
func frozenGatherer(t *testing.T, g prometheus.Gatherer) prometheus.Gatherer {
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, nil })
}

// A collector error keeps promhttp's semantics: the duplicate series is
// dropped and logged, everything else is served.
func TestExpositionDuplicateFallsBack(t *testing.T) {
	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\n"+leastPrivilegeACL)
	tg := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw"})
	metrics := tg.Scrape(context.Background())
	metrics = append(metrics, metrics[len(metrics)-1]) // the same series twice
	want, _ := promhttpBody(t, tg, metrics, nil, "")
	got, _ := serve(t, tg, metrics, nil, "gzip", "")
	if got != want {
		t.Fatalf("body differs from promhttp's\n%s", diffLines(want, got))
	}
	if !bytes.Contains([]byte(got), []byte("redis_security_up 1")) {
		t.Fatal("the other series are missing")
	}
}

func TestNegotiateEncoding(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"", ""},
		{"gzip", "gzip"},
		{"GZIP", "gzip"},
		{"zstd", "zstd"},
		{"gzip, zstd", "gzip"},
		{"zstd, gzip", "gzip"},
		{"gzip;q=0.5, zstd", "zstd"},
		{"gzip;q=0.5, zstd;q=0.8", "zstd"},
		{"gzip;q=0, zstd;q=0", ""},
		{"gzip;q=0", ""},
		{"*", "gzip"},
		{"*;q=0.2, gzip;q=0", "zstd"},
		{"deflate, br", ""},
		{"identity", ""},
		{"gzip;q=bogus", ""},
		{"x-gzip", ""},
	} {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if tc.header != "" {
			r.Header.Set("Accept-Encoding", tc.header)
		}
		w := httptest.NewRecorder()
		tg, _ := exporter.NewTarget(exporter.Options{Address: exporter.Address{Network: "tcp", Addr: "127.0.0.1:1"}})
		tg.Serve(w, r, []prometheus.Metric{prometheus.MustNewConstMetric(
			prometheus.NewDesc("redis_security_up", "x", nil, nil), prometheus.GaugeValue, 1)}, nil, nil, nil)
		if got := w.Header().Get("Content-Encoding"); got != tc.want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.header, got, tc.want)
		}
	}
}

// diffLines shows the first lines where two expositions differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant %q\ngot  %q", i+1, a, b)
		}
	}
	return "equal lines"
}
