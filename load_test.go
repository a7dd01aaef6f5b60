package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// loadRequests is how many requests the load test sends at once.
const loadRequests = 1000

// loadMaxSysBytes bounds the memory the exporter's Go runtime obtained from
// the OS (go_memstats_sys_bytes, which keeps the peak: released pages stay
// counted). On the project's machine, with or without -race, it is 13 MiB
// for one request, 59 MiB for 250 at once, 108 MiB for 500 and 190 MiB for
// 1000: about 190 KB per request in flight, because every request gathers
// and encodes its own copy of the series (MetricsHandler's fresh registry)
// while they share one scrape of Redis. The bound is generous, for other
// machines and Go versions; a regression that multiplies the per-request
// cost crosses it.
const loadMaxSysBytes = 512 << 20

// TestConcurrentMetricsRequests: 1000 requests to /metrics at once, from
// 1000 connections, to the exporter as its own process against one real
// redis-server. Every request is answered with redis_security_up 1; the
// exporter holds at most one connection to Redis throughout (concurrent
// requests share the scrape in flight and its connection) and opens none
// for the burst; its memory stays bounded and its goroutines return to what
// they were. Nothing here measures time: the figures are BENCHMARKS.md's.
//
// TestConcurrentProbeRequests is the same burst against /probe.
func TestConcurrentMetricsRequests(t *testing.T) {
	t.Parallel()
	checkFileLimit(t)

	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\nuser exporter on >exporter-pw "+collector.LeastPrivilegeRules)
	p := startExporter(t, []string{"REDIS_USER=exporter", "REDIS_PASSWORD=exporter-pw"}, "--redis.addr="+srv.Addr())
	// One connection of the test's own, opened before the counts are taken.
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: "admin-pw", Protocol: 2, DisableIdentity: true, MaxRetries: -1, PoolSize: 1})
	t.Cleanup(func() { admin.Close() })
	ctx := context.Background()

	defer lockBurst()()

	// The first scrape connects and learns the server; the burst starts
	// from the steady state.
	first := get(t, p.url+"/metrics")
	if !strings.Contains(first, "redis_security_up 1") {
		t.Fatalf("not up before the burst:\n%s", p.logs())
	}
	goroutinesBefore := metricValue(t, first, "go_goroutines")
	connectionsBefore := redisInfoInt(t, admin, "stats", "total_connections_received")
	infoCallsBefore := redisInfoInt(t, admin, "commandstats", "cmdstat_info")

	// Count the exporter's connections to Redis while the burst runs.
	samplerDone := make(chan struct{})
	samplerStopped := make(chan struct{})
	// Stopped after the burst, or at the end of a test the burst failed.
	stopSampler := sync.OnceFunc(func() { close(samplerDone); <-samplerStopped })
	t.Cleanup(stopSampler)
	var maxExporterConns, samples int
	go func() {
		defer close(samplerStopped)
		for {
			list, err := admin.ClientList(ctx).Result()
			if err == nil {
				samples++
				maxExporterConns = max(maxExporterConns, strings.Count(list, " user=exporter "))
			}
			select {
			case <-samplerDone:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	client := burst(t, p, func(int) string { return p.url + "/metrics" })
	stopSampler()

	if maxExporterConns > 1 {
		t.Errorf("the exporter held %d connections to Redis during the burst, want at most 1", maxExporterConns)
	}
	if samples == 0 {
		t.Error("CLIENT LIST was never sampled during the burst")
	}
	// The INFO commandstats that read infoCallsBefore is counted now (Redis
	// counts a command after it ran): take it out.
	scrapes := redisInfoInt(t, admin, "commandstats", "cmdstat_info") - infoCallsBefore - 1
	if opened := redisInfoInt(t, admin, "stats", "total_connections_received") - connectionsBefore; opened != 0 {
		t.Errorf("%d connections to Redis opened during the burst, want 0 (the exporter keeps its connection)", opened)
	}
	t.Logf("%d requests were served by %d scrapes of Redis; at most %d exporter connection(s) in %d samples of CLIENT LIST",
		loadRequests, scrapes, maxExporterConns, samples)

	after := goroutinesBack(t, p, client, goroutinesBefore)
	if !strings.Contains(after, "redis_security_up 1") {
		t.Errorf("not up after the burst:\n%s", p.logs())
	}
	sys := metricValue(t, after, "go_memstats_sys_bytes")
	t.Logf("exporter memory from the OS after the burst: %.1f MiB (go_memstats_sys_bytes)", sys/(1<<20))
	if sys > loadMaxSysBytes {
		t.Errorf("the exporter took %.0f MiB from the OS for %d requests, want at most %d MiB", sys/(1<<20), loadRequests, loadMaxSysBytes>>20)
	}
}

// The /probe burst's targets: loadProbeServers redis-servers, each bound to
// loadProbeAddrs loopback addresses (Linux routes all of 127.0.0.0/8 to lo),
// so that every (address, port) is a target of its own with its own pooled
// connection, without a redis-server per target on a 2-core machine.
const (
	loadProbeServers = 4
	loadProbeAddrs   = 5
)

// loadProbeMaxSysBytes bounds go_memstats_sys_bytes after the /probe burst.
// Unlike /metrics, a probe gathers and encodes its body only while it holds
// one of the --probe.max-concurrent (100) slots; the other requests wait
// with little more than their connection and goroutine. On the project's
// machine it is about 80 MiB for the 1000 requests, with or without -race
// (the /metrics burst: 165 to 235 MiB). Generous for the same reasons as
// loadMaxSysBytes; a probe that kept its body beyond its slot, or slots
// that stopped bounding the work, would cross it.
const loadProbeMaxSysBytes = 256 << 20

// TestConcurrentProbeRequests: 1000 requests to /probe at once, from 1000
// connections, spread over 20 targets (4 real redis-servers, 5 loopback
// addresses each), to the exporter as its own process with --config.file
// and the default --probe.max-concurrent (100). Every request carries
// Prometheus's usual 10 s scrape timeout and is answered with
// redis_security_up 1: the requests beyond the 100 slots wait for one
// instead of failing. The exporter holds at most one connection per target
// throughout (concurrent probes of a target share the scrape in flight and
// its pooled connection) and opens none for the burst; its probes in flight
// never exceed the cap; its memory stays bounded and its goroutines return
// to what they were. Nothing here measures time: the figures are
// BENCHMARKS.md's (runProbe200 in scripts/benchrun).
func TestConcurrentProbeRequests(t *testing.T) {
	t.Parallel()
	checkFileLimit(t)

	var binds []string
	for i := 1; i <= loadProbeAddrs; i++ {
		binds = append(binds, fmt.Sprintf("127.0.0.%d", i))
	}
	password := randomHex(t)
	servers := make([]*redistest.Server, loadProbeServers)
	admins := make([]*redis.Client, loadProbeServers)
	var targets []string
	for i := range servers {
		servers[i] = redistest.Start(t, "bind "+strings.Join(binds, " ")+"\nuser default on >admin-pw ~* &* +@all\nuser exporter on >"+password+" "+collector.LeastPrivilegeRules)
		// One connection of the test's own per server, opened before the
		// counts are taken.
		admins[i] = redis.NewClient(&redis.Options{Addr: servers[i].Addr(), Password: "admin-pw", Protocol: 2, DisableIdentity: true, MaxRetries: -1, PoolSize: 1})
		t.Cleanup(func() { admins[i].Close() })
		for _, b := range binds {
			targets = append(targets, net.JoinHostPort(b, strconv.Itoa(servers[i].Port)))
		}
	}
	dir := t.TempDir()
	pwFile := writeFile(t, dir, "pw", password+"\n")
	cfgFile := writeFile(t, dir, "config.yml", fmt.Sprintf(`modules:
  load:
    username: exporter
    password_file: %s
    allowed_targets: ["127.0.0.0/8"]
`, pwFile))
	p := startExporter(t, nil, "--config.file="+cfgFile)
	probeURL := func(target string) string {
		return p.url + "/probe?" + url.Values{"module": {"load"}, "target": {target}}.Encode()
	}
	ctx := context.Background()

	defer lockBurst()()

	// One probe per target connects it and learns the server; the burst
	// starts from the steady state, every target pooled.
	for _, target := range targets {
		if err := loadRequest(http.DefaultClient, probeURL(target)); err != nil {
			t.Fatalf("probe of %s before the burst: %v\n%s", target, err, p.logs())
		}
	}
	self := get(t, p.url+"/metrics")
	if pooled := metricValue(t, self, "redis_security_exporter_probe_pooled_targets"); pooled != float64(len(targets)) {
		t.Fatalf("%v pooled targets before the burst, want %d", pooled, len(targets))
	}
	goroutinesBefore := metricValue(t, self, "go_goroutines")
	successBefore := metricValue(t, self, `redis_security_exporter_requests_total{endpoint="probe",module="load",result="success"}`)
	connectionsBefore := make([]int64, len(servers))
	infoCallsBefore := make([]int64, len(servers))
	for i, a := range admins {
		connectionsBefore[i] = redisInfoInt(t, a, "stats", "total_connections_received")
		infoCallsBefore[i] = redisInfoInt(t, a, "commandstats", "cmdstat_info")
	}

	// While the burst runs: the exporter's connections on every server,
	// per local address (a target), and its probes in flight.
	samplerDone := make(chan struct{})
	samplerStopped := make(chan struct{})
	// Stopped after the burst, or at the end of a test the burst failed.
	stopSampler := sync.OnceFunc(func() { close(samplerDone); <-samplerStopped })
	t.Cleanup(stopSampler)
	var (
		maxPerTarget, maxPerServer, samples int
		maxInFlight                         float64
		inFlightSamples                     int
	)
	selfClient := &http.Client{Timeout: 30 * time.Second}
	go func() {
		defer close(samplerStopped)
		for {
			for _, a := range admins {
				list, err := a.ClientList(ctx).Result()
				if err != nil {
					continue
				}
				samples++
				perTarget := exporterConnsByLocalAddr(list)
				n := 0
				for _, c := range perTarget {
					maxPerTarget = max(maxPerTarget, c)
					n += c
				}
				maxPerServer = max(maxPerServer, n)
			}
			if v, ok := selfMetric(selfClient, p.url+"/metrics", "redis_security_exporter_probes_in_flight"); ok {
				inFlightSamples++
				maxInFlight = max(maxInFlight, v)
			}
			select {
			case <-samplerDone:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	client := burst(t, p, func(i int) string { return probeURL(targets[i%len(targets)]) })
	stopSampler()

	if maxPerTarget > 1 {
		t.Errorf("the exporter held %d connections to one target during the burst, want at most 1", maxPerTarget)
	}
	if maxPerServer > loadProbeAddrs {
		t.Errorf("the exporter held %d connections to one server during the burst, want at most %d (one per address)", maxPerServer, loadProbeAddrs)
	}
	if samples == 0 {
		t.Error("CLIENT LIST was never sampled during the burst")
	}
	if maxInFlight > 100 {
		t.Errorf("%v probes in flight, above --probe.max-concurrent (100)", maxInFlight)
	}
	scrapes := int64(0)
	for i, a := range admins {
		// As above: the INFO commandstats that read infoCallsBefore is
		// counted now.
		scrapes += redisInfoInt(t, a, "commandstats", "cmdstat_info") - infoCallsBefore[i] - 1
		if opened := redisInfoInt(t, a, "stats", "total_connections_received") - connectionsBefore[i]; opened != 0 {
			t.Errorf("server %s: %d connections opened during the burst, want 0 (the exporter keeps one per target)", servers[i].Addr(), opened)
		}
	}
	t.Logf("%d requests to %d targets were served by %d scrapes of Redis; at most %d exporter connection(s) per target and %d per server in %d samples of CLIENT LIST; "+
		"at most %v probes in flight (the cap is 100) in %d samples",
		loadRequests, len(targets), scrapes, maxPerTarget, maxPerServer, samples, maxInFlight, inFlightSamples)

	after := goroutinesBack(t, p, client, goroutinesBefore)
	// Every request counted as a success, none as busy (no slot before the
	// deadline) and every target still pooled.
	if got := metricValue(t, after, `redis_security_exporter_requests_total{endpoint="probe",module="load",result="success"}`) - successBefore; got != loadRequests {
		t.Errorf("the exporter counts %v successful probes in the burst, want %d", got, loadRequests)
	}
	if strings.Contains(after, `result="busy"`) {
		t.Errorf("some probes found no slot before their deadline:\n%s", after)
	}
	if pooled := metricValue(t, after, "redis_security_exporter_probe_pooled_targets"); pooled != float64(len(targets)) {
		t.Errorf("%v pooled targets after the burst, want %d", pooled, len(targets))
	}
	sys := metricValue(t, after, "go_memstats_sys_bytes")
	t.Logf("exporter memory from the OS after the burst: %.1f MiB (go_memstats_sys_bytes)", sys/(1<<20))
	if sys > loadProbeMaxSysBytes {
		t.Errorf("the exporter took %.0f MiB from the OS for %d probes, want at most %d MiB", sys/(1<<20), loadRequests, loadProbeMaxSysBytes>>20)
	}
}

// burst sends loadRequests requests at once, request i to url(i), one
// connection each (HTTP/1.1), and fails the test unless every one is
// answered with redis_security_up 1. No gzip: compressing 1000 bodies under
// -race would only make the test slower. It returns the client, whose
// connections the caller closes when it wants the exporter's goroutines for
// them gone.
func burst(t *testing.T, p *exporterProcess, url func(i int) string) *http.Client {
	t.Helper()
	client := &http.Client{
		Timeout:   2 * time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: loadRequests, DisableCompression: true},
	}
	start := make(chan struct{})
	errs := make(chan error, loadRequests)
	var wg sync.WaitGroup
	for i := 0; i < loadRequests; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := loadRequest(client, url(i)); err != nil {
				errs <- fmt.Errorf("%s: %w", url(i), err)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if failed < 5 {
			t.Errorf("request failed: %v", err)
		}
		failed++
	}
	if failed > 0 {
		t.Fatalf("%d of %d concurrent requests failed; exporter logs:\n%s", failed, loadRequests, p.logs())
	}
	return client
}

// goroutinesBack closes the burst's connections and waits until the
// exporter's goroutines are back to what they were before it (a few of
// slack: the runtime's and net/http's own come and go); it returns the
// exporter's /metrics at that point.
func goroutinesBack(t *testing.T, p *exporterProcess, client *http.Client, before float64) string {
	t.Helper()
	client.CloseIdleConnections()
	deadline := time.Now().Add(30 * time.Second)
	for {
		after := get(t, p.url+"/metrics")
		if metricValue(t, after, "go_goroutines") <= before+10 {
			return after
		}
		if time.Now().After(deadline) {
			t.Errorf("goroutines: %v before the burst, %v after it, 30 s after its connections closed: a leak",
				before, metricValue(t, after, "go_goroutines"))
			return after
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// exporterConnsByLocalAddr counts the exporter's connections in a CLIENT
// LIST reply by the server's local address (laddr): with one server bound
// to several addresses, each address is a different target.
func exporterConnsByLocalAddr(list string) map[string]int {
	out := map[string]int{}
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " user=exporter ") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "laddr="); ok {
				out[v]++
			}
		}
	}
	return out
}

// selfMetric reads an unlabelled series of the exporter's own /metrics
// without failing the test (for a sampler goroutine).
func selfMetric(client *http.Client, url, name string) (float64, bool) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, false
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// checkFileLimit fails the test when this process and the exporter cannot
// both hold one descriptor per request. Go raises the soft limit to the
// hard one at start-up.
func checkFileLimit(t *testing.T) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur < loadRequests+200 {
		t.Fatalf("open file limit %d is too low for %d concurrent connections: raise ulimit -Hn", lim.Cur, loadRequests)
	}
}

// burstMu runs one burst at a time: the two load tests are parallel to the
// rest of the package, but two bursts at once would need twice the
// descriptors checkFileLimit checks, and on a small machine would only
// compete for the CPU that the probes' 10 s deadline depends on.
var burstMu sync.Mutex

// lockBurst waits for the other burst and returns the unlock.
func lockBurst() func() {
	burstMu.Lock()
	return burstMu.Unlock
}

// loadRequest gets url as Prometheus does, with its default scrape timeout
// (10 s) in the header, and checks the answer is up.
func loadRequest(client *http.Client, url string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", resp.Status)
	}
	if !strings.Contains(string(body), "\nredis_security_up 1\n") {
		return fmt.Errorf("redis_security_up is not 1 (%d bytes)", len(body))
	}
	return nil
}

// metricValue returns an unlabelled series' value from a text-format body.
func metricValue(t *testing.T, body, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics lacks %s", name)
	return 0
}

// redisInfoInt reads an integer INFO field; for commandstats, the calls of
// the command ("cmdstat_info"; 0 when it was never called).
func redisInfoInt(t *testing.T, c *redis.Client, section, field string) int64 {
	t.Helper()
	info, err := c.Info(context.Background(), section).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		v, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		if section == "commandstats" {
			v, _, _ = strings.Cut(strings.TrimPrefix(v, "calls="), ",")
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("INFO %s %s: %v", section, field, err)
		}
		return n
	}
	if section == "commandstats" {
		return 0
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return 0
}
