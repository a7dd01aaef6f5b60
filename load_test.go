package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
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
// TODO(probe): the same burst against GET /probe?target=...&module=... (200
// targets: every request answered, at most one in-flight scrape and one
// connection per target, bounded memory) once the /probe endpoint, written
// on another branch, is merged; the benchmark's half is runProbe200 in
// scripts/benchrun.
func TestConcurrentMetricsRequests(t *testing.T) {
	t.Parallel()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	// Go raises the soft limit to the hard one at start-up; both this
	// process and the exporter hold one descriptor per request.
	if lim.Cur < loadRequests+200 {
		t.Fatalf("open file limit %d is too low for %d concurrent connections: raise ulimit -Hn", lim.Cur, loadRequests)
	}

	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\nuser exporter on >exporter-pw "+collector.LeastPrivilegeRules)
	p := startExporter(t, []string{"REDIS_USER=exporter", "REDIS_PASSWORD=exporter-pw"}, "--redis.addr="+srv.Addr())
	// One connection of the test's own, opened before the counts are taken.
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: "admin-pw", Protocol: 2, DisableIdentity: true, MaxRetries: -1, PoolSize: 1})
	t.Cleanup(func() { admin.Close() })
	ctx := context.Background()

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

	// One connection per request (HTTP/1.1), all sent together. No gzip:
	// compressing 1000 bodies under -race would only make the test slower.
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
			errs <- loadRequest(client, p.url+"/metrics")
		}()
	}
	close(start)
	wg.Wait()
	close(samplerDone)
	<-samplerStopped
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			if failed < 5 {
				t.Errorf("request failed: %v", err)
			}
			failed++
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d concurrent requests failed; exporter logs:\n%s", failed, loadRequests, p.logs())
	}

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

	// The client's connections closed, the exporter's goroutines for them
	// end; what remains must be what was there before the burst.
	client.CloseIdleConnections()
	var after string
	deadline := time.Now().Add(30 * time.Second)
	for {
		after = get(t, p.url+"/metrics")
		// A few goroutines of slack: the runtime's and net/http's own come
		// and go.
		if metricValue(t, after, "go_goroutines") <= goroutinesBefore+10 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("goroutines: %v before the burst, %v after it, 30 s after its connections closed: a leak",
				goroutinesBefore, metricValue(t, after, "go_goroutines"))
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(after, "redis_security_up 1") {
		t.Errorf("not up after the burst:\n%s", p.logs())
	}
	sys := metricValue(t, after, "go_memstats_sys_bytes")
	t.Logf("exporter memory from the OS after the burst: %.1f MiB (go_memstats_sys_bytes)", sys/(1<<20))
	if sys > loadMaxSysBytes {
		t.Errorf("the exporter took %.0f MiB from the OS for %d requests, want at most %d MiB", sys/(1<<20), loadRequests, loadMaxSysBytes>>20)
	}
}

func loadRequest(client *http.Client, url string) error {
	resp, err := client.Get(url)
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
