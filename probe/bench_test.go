package probe_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
	"github.com/redis-security/redis_security_exporter/config"
	"github.com/redis-security/redis_security_exporter/exporter"
	"github.com/redis-security/redis_security_exporter/probe"
)

// BenchmarkProbe is one steady-state /probe request as Prometheus sends it
// (Accept-Encoding: gzip, its Accept header), round robin over 200 pooled targets (20 servers,
// each at 10 loopback addresses: the scripted benchmark's fleet), with the
// exporter's default settings: exporter CPU and allocations per probe, and
// the heap each pooled target keeps (heap-KiB/target, after two GCs, so
// that pooled buffers are gone too, without what targets share).
// prometheusAccept is the Accept header Prometheus 2 sends by default (the
// exporter negotiates it once per handler, see exporter.FormatCache).
const prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

func BenchmarkProbe(b *testing.B) {
	var targets []string
	for i := 0; i < 20; i++ {
		srv := redistest.StartWith(b, redistest.Options{Config: "bind 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.7 127.0.0.8 127.0.0.9 127.0.0.10\n" +
			fmt.Sprintf("user default on >admin-pw ~* &* +@all\n"+exporterACL, "exporter-pw")})
		for a := 1; a <= 10; a++ {
			targets = append(targets, fmt.Sprintf("127.0.0.%d:%d", a, srv.Port))
		}
	}
	c, err := config.Parse([]byte(`
modules:
  default:
    username: exporter
    password_env: PW
    allowed_targets: ["127.0.0.0/8"]
`))
	if err != nil {
		b.Fatal(err)
	}
	d := defaults(map[string]string{"PW": "exporter-pw"})
	d.ACLListMaxAge = exporter.DefaultACLListMaxAge
	modules, err := probe.BuildModules(c, d)
	if err != nil {
		b.Fatal(err)
	}
	p := probe.New(modules, probe.Options{Handler: exporter.HandlerOptions{DefaultTimeout: 10 * time.Second}})
	b.Cleanup(p.Close)
	probeOnce := func(target string) {
		r := httptest.NewRequest(http.MethodGet, "/probe?"+url.Values{"module": {"default"}, "target": {target}}.Encode(), nil)
		r.Header.Set("Accept-Encoding", "gzip")
		r.Header.Set("Accept", prometheusAccept)
		w := httptest.NewRecorder()
		p.ServeProbe(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: status %d: %s", target, w.Code, w.Body)
		}
	}
	// The heap of a pooled target: with all targets warm, minus with one
	// (which holds what every target shares: encoder pools, Descs).
	for i := 0; i < 10; i++ {
		probeOnce(targets[0])
	}
	var heapBefore runtime.MemStats
	runtime.GC()
	runtime.GC() // the first leaves sync.Pools in their victim caches
	runtime.ReadMemStats(&heapBefore)
	for i := 0; i < 10; i++ { // warm every target's caches
		for _, t := range targets {
			probeOnce(t)
		}
	}
	var heapAfter runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&heapAfter)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		probeOnce(targets[i%len(targets)])
	}
	b.StopTimer()
	b.ReportMetric(float64(heapAfter.HeapAlloc-heapBefore.HeapAlloc)/1024/float64(len(targets)-1), "heap-KiB/target")
}
