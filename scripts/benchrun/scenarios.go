package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// scenario is one redis-server configuration; each of its variants runs a
// fresh exporter (different flags) against the same server.
type scenario struct {
	id    string
	title string
	// conf is appended to the server's redis.conf.
	conf string
	// prepare fills the server (users, ACL LOG entries, idle clients); the
	// returned release runs after the last variant.
	prepare  func(ctx context.Context, s *redisServer) (release func(), err error)
	variants []variant
}

type variant struct {
	title string
	args  []string
	// noGzip scrapes without compression, to show what gzip costs the
	// exporter (Prometheus always asks for gzip).
	noGzip bool
	// clientList says what the cost guard should decide; the harness checks
	// redis_security_client_list_skipped against it so that a row never
	// claims a CLIENT LIST that was not sent (or the reverse).
	clientList clientListExpectation
	// floor also measures scripts/benchfloor on this variant's schedule
	// (-floor): what any Go exporter pays for the same scrapes.
	floor bool
}

type clientListExpectation int

const (
	clientListSent clientListExpectation = iota
	clientListSkipped
)

func scenarios() []scenario {
	noRelease := func() {}
	defaultVariant := []variant{{title: "default flags"}}
	return []scenario{
		{
			id:    "default",
			title: "default config",
			variants: []variant{
				{title: "default flags", floor: true},
				{title: "default flags, scraped without gzip", noGzip: true},
			},
		},
		{
			id:    "users-1000",
			title: "1000 ACL users",
			prepare: func(ctx context.Context, s *redisServer) (func(), error) {
				return noRelease, redistest.AddUsers(ctx, s.admin, 1000)
			},
			variants: defaultVariant,
		},
		{
			id:    "acllog-128",
			title: "full ACL LOG (128 entries)",
			conf:  "acllog-max-len 128",
			prepare: func(ctx context.Context, s *redisServer) (func(), error) {
				return noRelease, s.fillACLLog(ctx, 128)
			},
			variants: defaultVariant,
		},
		{
			id:    "clients-1k",
			title: "1k connected clients",
			prepare: func(ctx context.Context, s *redisServer) (func(), error) {
				conns, err := s.holdClients(ctx, 1000)
				return func() { closeAll(conns) }, err
			},
			// 1000 < --clients.max (5000): the default already sends CLIENT
			// LIST, so "forced on" would be the same run.
			variants: []variant{{title: "default flags (CLIENT LIST sent: 1000 < --clients.max 5000)"}},
		},
		{
			id:    "clients-10k",
			title: "10k connected clients",
			// Room for the held connections, the harness's admin connection
			// and the exporter's; redis-server raises its own file limit to
			// maxclients + 32 when the hard limit allows.
			conf: "maxclients 10200",
			prepare: func(ctx context.Context, s *redisServer) (func(), error) {
				conns, err := s.holdClients(ctx, 10000)
				return func() { closeAll(conns) }, err
			},
			variants: []variant{
				{title: "default flags (CLIENT LIST skipped: 10000 > --clients.max 5000)", clientList: clientListSkipped},
				{title: "--clients.max=0 (CLIENT LIST forced on)", args: []string{"--clients.max=0"}},
			},
		},
	}
}

// result is what one variant measured.
type result struct {
	scenario, variant string

	scrapes  int // measured scrapes
	errors   int
	firstErr string

	lat latencyStats

	// Round trips, from the counting proxy.
	firstRT, firstConns int64 // first scrape of a new exporter, handshake included
	rtScrapes           int
	steadyRT            float64 // mean per steady-state scrape
	steadyRTMax         int64
	steadyConns         int64 // connections opened during the steady state (want 0)
	requestBytes        float64
	replyBytes          float64

	// Server time, from INFO commandstats deltas, per scrape.
	perCmd         map[string]cmdStatPerScrape
	serverUsec     float64
	serverUsecNoCL float64

	cpu        time.Duration // exporter CPU per scrape
	mallocs    float64       // per scrape
	allocBytes float64       // per scrape
	rss, hwm   int64
	bodyBytes  int
	series     int

	// The floor (variant.floor): what scripts/benchfloor cost on the same
	// scrapes, replaying steadyRequest (a steady scrape's pipeline, as the
	// counting proxy saw it) and answering lastBody.
	floor         *floorResult
	steadyRequest []byte
	lastBody      []byte
}

type cmdStatPerScrape struct{ calls, usec float64 }

type latencyStats struct {
	p50, p99, max, mean time.Duration
}

func latencies(d []time.Duration) latencyStats {
	if len(d) == 0 {
		return latencyStats{}
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var sum time.Duration
	for _, v := range s {
		sum += v
	}
	// Nearest rank: the smallest value with at least p of the samples at or
	// below it.
	rank := func(p float64) time.Duration {
		i := int(float64(len(s))*p+0.999999) - 1
		if i < 0 {
			i = 0
		}
		return s[i]
	}
	return latencyStats{p50: rank(0.50), p99: rank(0.99), max: s[len(s)-1], mean: sum / time.Duration(len(s))}
}

type harness struct {
	exporterBin string
	// floorBin is scripts/benchfloor, the /probe scenario's floor ("": not
	// measured).
	floorBin   string
	redisBin   string
	workDir    string
	scrapes    int
	warmup     int
	rtScrapes  int
	rssScrapes int
	rssEvery   int
	// The /probe scenario: the scrape interval and how many of them are
	// measured after the warm-up interval.
	probeInterval  time.Duration
	probeIntervals int
	probeWarmup    int
	log            func(format string, args ...any)
}

func (h *harness) runScenario(ctx context.Context, sc scenario) ([]*result, error) {
	srv, err := startRedis(h.redisBin, filepath.Join(h.workDir, sc.id), sc.conf)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	if sc.prepare != nil {
		release, err := sc.prepare(ctx, srv)
		if err != nil {
			return nil, fmt.Errorf("preparing %s: %w", sc.id, err)
		}
		defer release()
	}
	var out []*result
	for _, v := range sc.variants {
		h.log("scenario %s: %s", sc.title, v.title)
		r, err := h.runVariant(ctx, sc, v, srv)
		if err != nil {
			return out, fmt.Errorf("%s, %s: %w", sc.title, v.title, err)
		}
		if v.floor && h.floorBin != "" {
			h.log("scenario %s: %s: the floor (%s) on the same scrapes", sc.title, v.title, filepath.Base(h.floorBin))
			if r.floor, err = h.metricsFloor(srv, r); err != nil {
				return out, fmt.Errorf("%s, %s: floor: %w", sc.title, v.title, err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func (h *harness) runVariant(ctx context.Context, sc scenario, v variant, srv *redisServer) (*result, error) {
	r := &result{scenario: sc.title, variant: v.title}
	if err := h.countRoundTrips(srv, v, r); err != nil {
		return nil, fmt.Errorf("round trips: %w", err)
	}

	// The measured exporter talks to Redis directly: the proxy's extra hop
	// would add to the latency.
	e, err := startExporter(h.exporterBin, srv.addr, v.args...)
	if err != nil {
		return nil, err
	}
	defer e.stop()
	e.noGzip = v.noGzip
	var last []byte
	// Warm-up: the first scrapes send COMMAND INFO and spread ACL DRYRUN
	// over a few scrapes; the figures are for the steady state.
	for i := 0; i < h.warmup; i++ {
		if _, last, err = e.scrape(); err != nil {
			return nil, fmt.Errorf("warm-up scrape %d: %w\n%s", i+1, err, e.proc.out.String())
		}
	}
	if err := checkClientList(last, v.clientList); err != nil {
		return nil, err
	}
	mallocs0, ok1 := metricValue(last, "go_memstats_mallocs_total")
	allocBytes0, ok2 := metricValue(last, "go_memstats_alloc_bytes_total")
	if !ok1 || !ok2 {
		return nil, errors.New("the exporter's /metrics lacks go_memstats_mallocs_total or go_memstats_alloc_bytes_total")
	}
	infoUsec, before, err := srv.infoCost(ctx)
	if err != nil {
		return nil, err
	}
	cpu0, err := procCPU(e.proc.pid())
	if err != nil {
		return nil, err
	}
	lat := make([]time.Duration, 0, h.scrapes)
	for i := 0; i < h.scrapes; i++ {
		d, body, err := e.scrape()
		if err != nil {
			r.errors++
			if r.firstErr == "" {
				r.firstErr = err.Error()
			}
			continue
		}
		lat = append(lat, d)
		last = body
	}
	cpu1, err := procCPU(e.proc.pid())
	if err != nil {
		return nil, err
	}
	after, err := srv.commandStats(ctx)
	if err != nil {
		return nil, err
	}
	r.rss, r.hwm, err = procMem(e.proc.pid())
	if err != nil {
		return nil, err
	}
	if err := checkClientList(last, v.clientList); err != nil {
		return nil, err
	}

	n := float64(h.scrapes)
	r.scrapes = h.scrapes
	r.lat = latencies(lat)
	r.cpu = (cpu1 - cpu0) / time.Duration(h.scrapes)
	mallocs1, _ := metricValue(last, "go_memstats_mallocs_total")
	allocBytes1, _ := metricValue(last, "go_memstats_alloc_bytes_total")
	r.mallocs = (mallocs1 - mallocs0) / n
	r.allocBytes = (allocBytes1 - allocBytes0) / n
	r.bodyBytes = len(last)
	r.lastBody = last
	r.series = countSeries(last)

	// The harness's INFO commandstats that took "before" is counted in
	// "after": take it out.
	st := before["info"]
	st.calls++
	st.usec += infoUsec
	before["info"] = st
	r.perCmd = map[string]cmdStatPerScrape{}
	for _, name := range exporterCommands {
		d := cmdStatPerScrape{
			calls: float64(after[name].calls-before[name].calls) / n,
			usec:  (after[name].usec - before[name].usec) / n,
		}
		if d.calls == 0 {
			continue
		}
		r.perCmd[name] = d
		r.serverUsec += d.usec
		if name != "client|list" {
			r.serverUsecNoCL += d.usec
		}
	}
	return r, nil
}

// countRoundTrips runs a fresh exporter through the counting proxy: its
// first scrape (connection handshake included), the warm-up, then
// rtScrapes steady-state scrapes counted one by one.
func (h *harness) countRoundTrips(srv *redisServer, v variant, r *result) error {
	px, err := newCountingProxy(srv.addr)
	if err != nil {
		return err
	}
	defer px.close()
	e, err := startExporter(h.exporterBin, px.addr(), v.args...)
	if err != nil {
		return err
	}
	defer e.stop()
	if _, _, err := e.scrape(); err != nil {
		return fmt.Errorf("first scrape: %w\n%s", err, e.proc.out.String())
	}
	r.firstRT, r.firstConns = px.roundTrips.Load(), px.conns.Load()
	for i := 1; i < h.warmup; i++ {
		if _, _, err := e.scrape(); err != nil {
			return fmt.Errorf("warm-up scrape %d: %w", i+1, err)
		}
	}
	conns0, toServer0, toClient0 := px.conns.Load(), px.toServer.Load(), px.toClient.Load()
	var total int64
	for i := 0; i < h.rtScrapes; i++ {
		rt0 := px.roundTrips.Load()
		if _, _, err := e.scrape(); err != nil {
			return fmt.Errorf("steady scrape %d: %w", i+1, err)
		}
		d := px.roundTrips.Load() - rt0
		total += d
		r.steadyRTMax = max(r.steadyRTMax, d)
	}
	n := float64(h.rtScrapes)
	r.rtScrapes = h.rtScrapes
	r.steadyRT = float64(total) / n
	r.steadyConns = px.conns.Load() - conns0
	r.steadyRequest = px.lastRequest()
	r.requestBytes = float64(px.toServer.Load()-toServer0) / n
	r.replyBytes = float64(px.toClient.Load()-toClient0) / n
	return nil
}

func checkClientList(body []byte, want clientListExpectation) error {
	v, ok := metricValue(body, "redis_security_client_list_skipped")
	if !ok {
		return errors.New("redis_security_client_list_skipped is missing")
	}
	if (v == 1) != (want == clientListSkipped) {
		return fmt.Errorf("redis_security_client_list_skipped = %v, not what the scenario is about", v)
	}
	return nil
}

// countSeries counts the sample lines of a text-format body.
func countSeries(body []byte) int {
	n := 0
	for _, line := range bytes.Split(body, []byte("\n")) {
		if len(line) > 0 && line[0] != '#' {
			n++
		}
	}
	return n
}

// rssSample is the exporter's memory after a number of scrapes.
type rssSample struct {
	scrapes    int
	rss        int64
	heapInuse  float64
	goroutines float64
}

type rssResult struct {
	scrapes int
	errors  int
	samples []rssSample
	lat     latencyStats
}

// runRSS scrapes a fresh exporter rssScrapes times (default config) and
// samples its RSS (VmRSS), heap and goroutines every rssEvery scrapes: a
// leak per scrape shows as growth between the first and last sample.
func (h *harness) runRSS(ctx context.Context) (*rssResult, error) {
	srv, err := startRedis(h.redisBin, filepath.Join(h.workDir, "rss"), "")
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	e, err := startExporter(h.exporterBin, srv.addr)
	if err != nil {
		return nil, err
	}
	defer e.stop()
	res := &rssResult{scrapes: h.rssScrapes}
	lat := make([]time.Duration, 0, h.rssScrapes)
	for i := 1; i <= h.rssScrapes; i++ {
		d, body, err := e.scrape()
		if err != nil {
			res.errors++
			continue
		}
		lat = append(lat, d)
		if i == 1 || i%h.rssEvery == 0 || i == h.rssScrapes {
			rss, _, err := procMem(e.proc.pid())
			if err != nil {
				return nil, err
			}
			heap, _ := metricValue(body, "go_memstats_heap_inuse_bytes")
			gr, _ := metricValue(body, "go_goroutines")
			res.samples = append(res.samples, rssSample{scrapes: i, rss: rss, heapInuse: heap, goroutines: gr})
		}
		if i%h.rssEvery == 0 {
			h.log("rss: %d/%d scrapes", i, h.rssScrapes)
		}
	}
	res.lat = latencies(lat)
	return res, nil
}

// metricsFloor measures scripts/benchfloor on a variant's schedule: as
// many warm-up and measured scrapes of /metrics, sequential, each sending
// the commands of the exporter's steady scrape (r.steadyRequest) in one
// pipeline and answering the exporter's last body (compressed once).
func (h *harness) metricsFloor(srv *redisServer, r *result) (*floorResult, error) {
	if r.steadyRTMax > 1 {
		return nil, fmt.Errorf("a steady scrape took up to %d round trips, the floor replays one", r.steadyRTMax)
	}
	pwFile := filepath.Join(h.workDir, "metrics-floor-password")
	if err := os.WriteFile(pwFile, []byte(exporterPassword), 0o600); err != nil {
		return nil, err
	}
	scrapes := func(what string, n int) func(*exporterProc) error {
		return func(f *exporterProc) error {
			for i := 0; i < n; i++ {
				if _, _, err := f.scrape(); err != nil {
					return fmt.Errorf("%s scrape %d: %w", what, i+1, err)
				}
			}
			return nil
		}
	}
	return h.measureFloor("metrics-floor", r.steadyRequest, r.lastBody, pwFile, []string{"--target=" + srv.addr},
		scrapes("warm-up", h.warmup),
		func(f *exporterProc) (int, error) { return h.scrapes, scrapes("measured", h.scrapes)(f) })
}
