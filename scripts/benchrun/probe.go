package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The /probe scenario's fleet: probeServers redis-servers, each bound to
// probeAddrs loopback addresses. Every (address, port) is a target of its
// own for the exporter (its own pooled connection, its own collectors'
// state), as 200 hosts would be, without 200 redis-server processes on a
// 2-core machine. redis-server binds at most 16 addresses; Linux routes all
// of 127.0.0.0/8 to lo, so 127.0.0.2 ... need no set-up.
const (
	probeServers = 20
	probeAddrs   = 10
	probeModule  = "bench"
	// probeRTTargets targets get a counting proxy in the round-trip pass.
	probeRTTargets = 5
)

// probeResult is what the /probe scenario measured: the row of the main
// table (result) and what only this scenario has.
type probeResult struct {
	*result
	targets   int
	interval  time.Duration
	intervals int
	warmup    int // intervals
	// wall is the measured phase's duration, snapshot to snapshot.
	wall time.Duration
	// firstLat is the latency of every target's first probe (the warm-up
	// interval): connection, AUTH, HELLO and the first plan included.
	firstLat latencyStats
	// cpuShare is the exporter's CPU time over the measured phase's wall
	// time (1 = one core busy).
	cpuShare float64
	// maxOutstanding is the most probes the harness had waiting for an
	// answer at once.
	maxOutstanding int64

	// The exporter's established connections to the servers, from /proc
	// (its sockets), sampled during the measured phase.
	connSamples                        int
	connPerTargetMax                   int
	connPerServerMin, connPerServerMax int
	connTotalMin, connTotalMax         int
	// newConns is how many connections the servers accepted during the
	// measured phase (INFO stats total_connections_received).
	newConns int64
	// CLIENT LIST of every server after the measured phase: the exporter
	// user's connections per server, and how many distinct local addresses
	// (targets) they are on.
	clientListMin, clientListMax int
	laddrsMin, laddrsMax         int

	pooledTargets float64
	// requests are the deltas of
	// redis_security_exporter_requests_total{endpoint="probe"} over the
	// measured phase, by result.
	requests   map[string]float64
	goroutines float64
	// The exporter's memory: RSS right after start-up (no target yet),
	// then RSS and heap in use before and after the measured intervals.
	rssStart              int64
	rssBefore             int64
	heapBefore, heapAfter float64

	// floor is scripts/benchfloor on the same schedule (nil: not measured).
	floor *floorResult
}

// floorResult is what the floor cost on the /probe scenario's schedule.
type floorResult struct {
	commands      int // per probe, in one pipeline
	scrapes       int
	cpu           time.Duration // per probe
	cpuShare      float64
	rssStart, rss int64
}

func (h *harness) runProbe200(ctx context.Context) (*probeResult, error) {
	pr := &probeResult{interval: h.probeInterval, intervals: h.probeIntervals, warmup: h.probeWarmup,
		result: &result{variant: fmt.Sprintf("--config.file: one module, allowed_targets 127.0.0.0/8; default --probe.* flags; %d servers × %d addresses", probeServers, probeAddrs)}}
	binds := make([]string, probeAddrs)
	for i := range binds {
		binds[i] = fmt.Sprintf("127.0.0.%d", i+1)
	}
	var servers []*redisServer
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	// targets[i] is on servers[serverOf[i]].
	var (
		targets  []string
		serverOf []int
	)
	for i := 0; i < probeServers; i++ {
		s, err := startRedis(h.redisBin, filepath.Join(h.workDir, fmt.Sprintf("probe-%02d", i)), "bind "+strings.Join(binds, " "))
		if err != nil {
			return nil, err
		}
		servers = append(servers, s)
		_, port, _ := net.SplitHostPort(s.addr)
		for _, b := range binds {
			targets = append(targets, net.JoinHostPort(b, port))
			serverOf = append(serverOf, i)
		}
	}
	pr.targets = len(targets)
	pr.scenario = fmt.Sprintf("%d targets through /probe, %s interval", len(targets), fmtInterval(h.probeInterval))

	pwFile := filepath.Join(h.workDir, "probe-password")
	cfgFile := filepath.Join(h.workDir, "probe-config.yml")
	if err := os.WriteFile(pwFile, []byte(exporterPassword+"\n"), 0o600); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf("modules:\n  %s:\n    username: %s\n    password_file: %s\n    allowed_targets: [\"127.0.0.0/8\"]\n", probeModule, exporterUser, pwFile)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return nil, err
	}

	h.log("probe: round trips through counting proxies in front of %d targets", probeRTTargets)
	steadyRequest, err := h.countProbeRoundTrips(cfgFile, servers, binds, pr.result)
	if err != nil {
		return nil, fmt.Errorf("probe round trips: %w", err)
	}

	e, err := startExporterWith(h.exporterBin, nil, "--config.file="+cfgFile)
	if err != nil {
		return nil, err
	}
	defer e.stop()
	if pr.rssStart, _, err = procMem(e.proc.pid()); err != nil {
		return nil, err
	}
	// One client for every target, as a Prometheus scrape pool shares one:
	// kept-alive connections, as many as probes overlap.
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: len(targets)}}
	defer client.CloseIdleConnections()

	// Prometheus starts each target's scrapes at an offset within the
	// interval taken from a hash of the target, so that a pool's scrapes
	// spread over the interval instead of starting together: the same
	// here, with FNV-1a of host:port.
	offsets := make([]time.Duration, len(targets))
	for i, t := range targets {
		f := fnv.New64a()
		f.Write([]byte(t))
		offsets[i] = time.Duration(f.Sum64() % uint64(h.probeInterval))
	}

	// Warm-up: the first interval has every target's first probe (the
	// exporter connects, authenticates and learns the server); the next
	// ones bring each target to its steady state, as the /metrics
	// scenarios' warm-up scrapes do (the second scrape still differs from
	// the first: COMMAND INFO and ACL DRYRUN are done, buffers have been
	// seen, and the exposition keeps compressed chunks only of text that
	// was reused once).
	h.log("probe: %d warm-up intervals (%s), %d targets", h.probeWarmup, h.probeInterval, len(targets))
	warm := h.probeRounds(e, client, targets, offsets, 1, nil)
	if warm.errors > 0 {
		return nil, fmt.Errorf("warm-up: %d of %d probes failed, the first: %s\n%s", warm.errors, len(targets), warm.firstErr, e.proc.out.String())
	}
	pr.firstLat = latencies(warm.lat)
	if h.probeWarmup > 1 {
		if more := h.probeRounds(e, client, targets, offsets, h.probeWarmup-1, nil); more.errors > 0 {
			return nil, fmt.Errorf("warm-up: %d probes failed, the first: %s\n%s", more.errors, more.firstErr, e.proc.out.String())
		}
	}

	// The "before" snapshots; nothing probes meanwhile.
	type serverSnap struct {
		cmds     map[string]cmdStat
		conns    int64
		infoUsec float64
	}
	before := make([]serverSnap, len(servers))
	for i, s := range servers {
		if before[i].infoUsec, before[i].cmds, before[i].conns, err = s.statsCost(ctx); err != nil {
			return nil, err
		}
	}
	self0, selfCost, err := e.selfMetricsCost(client)
	if err != nil {
		return nil, err
	}
	cpu0, err := procCPU(e.proc.pid())
	if err != nil {
		return nil, err
	}
	if pr.rssBefore, _, err = procMem(e.proc.pid()); err != nil {
		return nil, err
	}
	measuredStart := time.Now()

	// The exporter's connections, from its sockets: no command to Redis
	// (CLIENT LIST would count in commandstats) and no request to the
	// exporter (it would count in its CPU and allocations).
	port := make(map[string]int, len(servers)) // server port -> index
	for i, s := range servers {
		_, p, _ := net.SplitHostPort(s.addr)
		port[p] = i
	}
	sampler := func() {
		conns, err := tcpConnsByRemote(e.proc.pid())
		if err != nil {
			return
		}
		perServer := make([]int, len(servers))
		total := 0
		for addr, n := range conns {
			_, p, _ := net.SplitHostPort(addr)
			i, ok := port[p]
			if !ok {
				continue
			}
			perServer[i] += n
			total += n
			pr.connPerTargetMax = max(pr.connPerTargetMax, n)
		}
		lo, hi := perServer[0], perServer[0]
		for _, n := range perServer {
			lo, hi = min(lo, n), max(hi, n)
		}
		if pr.connSamples == 0 {
			pr.connPerServerMin, pr.connTotalMin = lo, total
		}
		pr.connSamples++
		pr.connPerServerMin, pr.connPerServerMax = min(pr.connPerServerMin, lo), max(pr.connPerServerMax, hi)
		pr.connTotalMin, pr.connTotalMax = min(pr.connTotalMin, total), max(pr.connTotalMax, total)
	}

	h.log("probe: %d measured intervals of %s", h.probeIntervals, h.probeInterval)
	measured := h.probeRounds(e, client, targets, offsets, h.probeIntervals, sampler)

	cpu1, err := procCPU(e.proc.pid())
	if err != nil {
		return nil, err
	}
	pr.wall = time.Since(measuredStart)
	_, self1, err := e.get(client, "/metrics")
	if err != nil {
		return nil, err
	}
	n := float64(len(measured.lat) + measured.errors)
	pr.scrapes = int(n)
	pr.errors, pr.firstErr = measured.errors, measured.firstErr
	pr.lat = latencies(measured.lat)
	pr.maxOutstanding = measured.maxOutstanding
	pr.cpu = (cpu1 - cpu0) / time.Duration(n)
	pr.cpuShare = (cpu1 - cpu0).Seconds() / pr.wall.Seconds()
	for _, name := range []string{"go_memstats_mallocs_total", "go_memstats_alloc_bytes_total"} {
		v0, ok0 := metricValue(self0, name)
		v1, ok1 := metricValue(self1, name)
		if !ok0 || !ok1 {
			return nil, fmt.Errorf("the exporter's own /metrics lacks %s", name)
		}
		per := (v1 - v0 - selfCost[name]) / n
		if name == "go_memstats_mallocs_total" {
			pr.mallocs = per
		} else {
			pr.allocBytes = per
		}
	}
	pr.requests = map[string]float64{}
	for _, res := range []string{"success", "failure", "denied", "invalid", "busy"} {
		series := fmt.Sprintf("redis_security_exporter_requests_total{endpoint=\"probe\",module=%q,result=%q}", probeModule, res)
		v0, _ := metricValue(self0, series)
		v1, _ := metricValue(self1, series)
		if v1 != v0 {
			pr.requests[res] = v1 - v0
		}
	}
	pr.pooledTargets, _ = metricValue(self1, "redis_security_exporter_probe_pooled_targets")
	pr.goroutines, _ = metricValue(self1, "go_goroutines")
	pr.heapBefore, _ = metricValue(self0, "go_memstats_heap_inuse_bytes")
	pr.heapAfter, _ = metricValue(self1, "go_memstats_heap_inuse_bytes")
	pr.bodyBytes = len(measured.body)
	pr.series = countSeries(measured.body)

	pr.perCmd = map[string]cmdStatPerScrape{}
	for i, s := range servers {
		after, conns, err := s.stats(ctx)
		if err != nil {
			return nil, err
		}
		pr.newConns += conns - before[i].conns
		// The harness's INFO that took "before" is counted in "after".
		b := before[i].cmds
		st := b["info"]
		st.calls++
		st.usec += before[i].infoUsec
		b["info"] = st
		for _, name := range exporterCommands {
			d := pr.perCmd[name]
			d.calls += float64(after[name].calls - b[name].calls)
			d.usec += after[name].usec - b[name].usec
			pr.perCmd[name] = d
		}
	}
	for _, name := range exporterCommands {
		d := pr.perCmd[name]
		if d.calls == 0 {
			delete(pr.perCmd, name)
			continue
		}
		d.calls /= n
		d.usec /= n
		pr.perCmd[name] = d
		pr.serverUsec += d.usec
		if name != "client|list" {
			pr.serverUsecNoCL += d.usec
		}
	}
	if pr.rss, pr.hwm, err = procMem(e.proc.pid()); err != nil {
		return nil, err
	}

	// The servers' own view, now that commandstats are taken.
	for i, s := range servers {
		list, err := s.admin.ClientList(ctx).Result()
		if err != nil {
			return nil, err
		}
		conns, laddrs := exporterClients(list)
		if i == 0 {
			pr.clientListMin, pr.laddrsMin = conns, laddrs
		}
		pr.clientListMin, pr.clientListMax = min(pr.clientListMin, conns), max(pr.clientListMax, conns)
		pr.laddrsMin, pr.laddrsMax = min(pr.laddrsMin, laddrs), max(pr.laddrsMax, laddrs)
	}

	if h.floorBin != "" {
		// The floor replays one steady round trip: it is the exporter's
		// whole probe only while a steady probe is one.
		if pr.steadyRTMax != 1 {
			return nil, fmt.Errorf("probe floor: a steady probe took up to %d round trips, the floor replays one", pr.steadyRTMax)
		}
		h.log("probe: the floor (%s) on the same schedule", filepath.Base(h.floorBin))
		if pr.floor, err = h.probeFloor(client, steadyRequest, targets, offsets, measured.body, pwFile); err != nil {
			return nil, fmt.Errorf("probe floor: %w", err)
		}
	}

	var problems []string
	if pr.errors > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d probes failed, the first: %s", pr.errors, pr.scrapes, pr.firstErr))
	}
	if pr.connPerTargetMax > 1 || pr.clientListMax > probeAddrs || pr.laddrsMin != probeAddrs {
		problems = append(problems, fmt.Sprintf("connections: at most %d per target (sockets), %d to %d per server on %d to %d addresses (CLIENT LIST); want 1 per target, %d per server",
			pr.connPerTargetMax, pr.clientListMin, pr.clientListMax, pr.laddrsMin, pr.laddrsMax, probeAddrs))
	}
	if pr.pooledTargets != float64(len(targets)) {
		problems = append(problems, fmt.Sprintf("redis_security_exporter_probe_pooled_targets is %v, want %d", pr.pooledTargets, len(targets)))
	}
	if len(problems) > 0 {
		return pr, errors.New(pr.scenario + ": " + strings.Join(problems, "; "))
	}
	return pr, nil
}

// probeRun is what probeRounds saw.
type probeRun struct {
	lat            []time.Duration
	errors         int
	firstErr       string
	body           []byte // the last answer
	maxOutstanding int64
}

// probeRounds probes every target rounds times, the i-th target at
// offsets[i] into each interval, as Prometheus's scrape loops do, and
// returns when every probe has been answered. sample (if not nil) runs
// every second meanwhile.
func (h *harness) probeRounds(e *exporterProc, client *http.Client, targets []string, offsets []time.Duration, rounds int, sample func()) *probeRun {
	run := &probeRun{}
	var (
		mu          sync.Mutex
		wg          sync.WaitGroup
		outstanding atomic.Int64
	)
	start := time.Now()
	for i, target := range targets {
		path := "/probe?" + url.Values{"module": {probeModule}, "target": {target}}.Encode()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < rounds; k++ {
				time.Sleep(time.Until(start.Add(offsets[i] + time.Duration(k)*h.probeInterval)))
				o := outstanding.Add(1)
				d, body, err := e.get(client, path)
				outstanding.Add(-1)
				if err == nil {
					if v, ok := metricValue(body, "redis_security_up"); !ok || v != 1 {
						err = errNotUp
					}
				}
				mu.Lock()
				run.maxOutstanding = max(run.maxOutstanding, o)
				if err != nil {
					run.errors++
					if run.firstErr == "" {
						run.firstErr = target + ": " + err.Error()
					}
				} else {
					run.lat = append(run.lat, d)
					run.body = body
				}
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return run
		case <-tick.C:
			if sample != nil {
				sample()
			}
		}
	}
}

// countProbeRoundTrips runs a fresh exporter with the same config against
// probeRTTargets targets, each behind its own counting proxy: every
// target's first probe (connection handshake included), then its steady
// probes counted one by one. As in the measured run, the first probe is the
// only warm-up.
func (h *harness) countProbeRoundTrips(cfgFile string, servers []*redisServer, binds []string, r *result) (steadyRequest []byte, err error) {
	e, err := startExporterWith(h.exporterBin, nil, "--config.file="+cfgFile)
	if err != nil {
		return nil, err
	}
	defer e.stop()
	steady := max(1, h.rtScrapes/probeRTTargets)
	var total, conns, toServer, toClient int64
	for k := 0; k < probeRTTargets; k++ {
		s := servers[k%len(servers)]
		_, port, _ := net.SplitHostPort(s.addr)
		px, err := newCountingProxy(net.JoinHostPort(binds[k%len(binds)], port))
		if err != nil {
			return nil, err
		}
		path := "/probe?" + url.Values{"module": {probeModule}, "target": {px.addr()}}.Encode()
		probe := func() error {
			_, body, err := e.get(e.client, path)
			if err == nil {
				if v, ok := metricValue(body, "redis_security_up"); !ok || v != 1 {
					err = errNotUp
				}
			}
			return err
		}
		if err := probe(); err != nil {
			px.close()
			return nil, fmt.Errorf("first probe: %w\n%s", err, e.proc.out.String())
		}
		r.firstRT = max(r.firstRT, px.roundTrips.Load())
		r.firstConns = max(r.firstConns, px.conns.Load())
		conns0, toServer0, toClient0 := px.conns.Load(), px.toServer.Load(), px.toClient.Load()
		for i := 0; i < steady; i++ {
			rt0 := px.roundTrips.Load()
			if err := probe(); err != nil {
				px.close()
				return nil, fmt.Errorf("steady probe %d: %w", i+1, err)
			}
			d := px.roundTrips.Load() - rt0
			total += d
			r.steadyRTMax = max(r.steadyRTMax, d)
		}
		if k == 0 {
			steadyRequest = px.lastRequest()
		}
		conns += px.conns.Load() - conns0
		toServer += px.toServer.Load() - toServer0
		toClient += px.toClient.Load() - toClient0
		px.close()
	}
	n := float64(steady * probeRTTargets)
	r.rtScrapes = steady * probeRTTargets
	r.steadyRT = float64(total) / n
	r.steadyConns = conns
	r.requestBytes = float64(toServer) / n
	r.replyBytes = float64(toClient) / n
	return steadyRequest, nil
}

// selfMetricsCost reads the exporter's own /metrics twice in a row and
// returns the second body and what one read of it allocates, so that the
// read that closes a measurement can be taken out of its deltas.
func (e *exporterProc) selfMetricsCost(client *http.Client) ([]byte, map[string]float64, error) {
	_, a, err := e.get(client, "/metrics")
	if err != nil {
		return nil, nil, err
	}
	_, b, err := e.get(client, "/metrics")
	if err != nil {
		return nil, nil, err
	}
	cost := map[string]float64{}
	for _, name := range []string{"go_memstats_mallocs_total", "go_memstats_alloc_bytes_total"} {
		va, _ := metricValue(a, name)
		vb, _ := metricValue(b, name)
		cost[name] = vb - va
	}
	return b, cost, nil
}

// stats reads INFO stats and commandstats in one call: the commands'
// counters and the connections the server has accepted so far.
func (s *redisServer) stats(ctx context.Context) (map[string]cmdStat, int64, error) {
	info, err := s.admin.Info(ctx, "stats", "commandstats").Result()
	if err != nil {
		return nil, 0, err
	}
	var conns int64
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "total_connections_received:"); ok {
			fmt.Sscan(v, &conns)
		}
	}
	return parseCommandStats(info), conns, nil
}

// statsCost is stats twice in a row: the second reading, and the server
// time of one such INFO (as infoCost).
func (s *redisServer) statsCost(ctx context.Context) (float64, map[string]cmdStat, int64, error) {
	a, _, err := s.stats(ctx)
	if err != nil {
		return 0, nil, 0, err
	}
	b, conns, err := s.stats(ctx)
	if err != nil {
		return 0, nil, 0, err
	}
	return b["info"].usec - a["info"].usec, b, conns, nil
}

// exporterClients counts the exporter user's connections in a CLIENT LIST
// reply, and the distinct local addresses (laddr) they are on: one server
// bound to several addresses is several targets.
func exporterClients(list string) (conns, laddrs int) {
	seen := map[string]bool{}
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " user="+exporterUser+" ") {
			continue
		}
		conns++
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "laddr="); ok {
				seen[v] = true
			}
		}
	}
	return conns, len(seen)
}

// fmtInterval writes 15s as "15 s".
func fmtInterval(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return d.String()
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// probeFloor measures scripts/benchfloor on the exporter's schedule: it
// sends each probe the commands the exporter sends in its steady state
// (request: a steady probe's pipeline, as the counting proxy saw it), in one
// pipeline over one pooled connection per target,
// and answers with the exporter's last body. One warm-up interval (the
// connections), then the exporter's measured intervals.
func (h *harness) probeFloor(client *http.Client, request []byte, targets []string, offsets []time.Duration, body []byte, pwFile string) (*floorResult, error) {
	return h.measureFloor("floor", request, body, pwFile, nil,
		func(f *exporterProc) error {
			if warm := h.probeRounds(f, client, targets, offsets, 1, nil); warm.errors > 0 {
				return fmt.Errorf("warm-up: %d probes failed, the first: %s", warm.errors, warm.firstErr)
			}
			return nil
		},
		func(f *exporterProc) (int, error) {
			run := h.probeRounds(f, client, targets, offsets, h.probeIntervals, nil)
			if run.errors > 0 {
				return 0, fmt.Errorf("%d probes failed, the first: %s", run.errors, run.firstErr)
			}
			return len(run.lat), nil
		})
}

// measureFloor starts scripts/benchfloor replaying request (a steady
// pipeline of the exporter, as its counting proxy saw it) and answering body,
// as the exporter's user (pwFile), with extra flags; runs warm, then run
// (which returns how many requests it made) and measures the floor's CPU
// and RSS over run. name prefixes the floor's files in the work directory.
func (h *harness) measureFloor(name string, request, body []byte, pwFile string, extra []string,
	warm func(*exporterProc) error, run func(*exporterProc) (int, error)) (*floorResult, error) {
	cmds, err := floorCommands(request)
	if err != nil {
		return nil, err
	}
	cmdsFile := filepath.Join(h.workDir, name+"-commands.json")
	bodyFile := filepath.Join(h.workDir, name+"-body.txt")
	js, _ := json.Marshal(cmds)
	if err := os.WriteFile(cmdsFile, js, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		return nil, err
	}
	args := append([]string{"--user=" + exporterUser, "--password-file=" + pwFile, "--commands=" + cmdsFile, "--body=" + bodyFile}, extra...)
	f, err := startExporterWith(h.floorBin, nil, args...)
	if err != nil {
		return nil, err
	}
	defer f.stop()
	fr := &floorResult{commands: len(cmds)}
	if fr.rssStart, _, err = procMem(f.proc.pid()); err != nil {
		return nil, err
	}
	if err := warm(f); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, f.proc.out.String())
	}
	cpu0, err := procCPU(f.proc.pid())
	if err != nil {
		return nil, err
	}
	start := time.Now()
	n, err := run(f)
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, f.proc.out.String())
	}
	cpu1, err := procCPU(f.proc.pid())
	if err != nil {
		return nil, err
	}
	fr.scrapes = n
	fr.cpu = (cpu1 - cpu0) / time.Duration(n)
	fr.cpuShare = (cpu1 - cpu0).Seconds() / time.Since(start).Seconds()
	if fr.rss, _, err = procMem(f.proc.pid()); err != nil {
		return nil, err
	}
	return fr, nil
}

// floorCommands returns the commands of a steady request for the floor's
// command file.
func floorCommands(request []byte) ([][]string, error) {
	cmds, err := parseRequest(request)
	if err != nil || len(cmds) == 0 {
		return nil, fmt.Errorf("the exporter's steady request (%d bytes) does not parse", len(request))
	}
	// A steady scrape does not authenticate; if one did, its password must
	// not go into the floor's command file.
	for _, c := range cmds {
		if len(c) > 0 && (strings.EqualFold(c[0], "auth") || strings.EqualFold(c[0], "hello")) {
			return nil, fmt.Errorf("the exporter's steady request has %s: not a steady scrape", strings.ToUpper(c[0]))
		}
	}
	return cmds, nil
}

// parseRequest reads a pipeline as a client sends it (RESP arrays of bulk
// strings) into its commands.
func parseRequest(b []byte) ([][]string, error) {
	rd := bufio.NewReader(bytes.NewReader(b))
	header := func(kind byte) (int, error) {
		l, err := rd.ReadString('\n')
		if err != nil || len(l) < 4 || l[0] != kind || !strings.HasSuffix(l, "\r\n") {
			return 0, fmt.Errorf("want a %c header", kind) // not the line: it may be an argument
		}
		return strconv.Atoi(l[1 : len(l)-2])
	}
	var cmds [][]string
	for {
		if _, err := rd.Peek(1); err == io.EOF {
			return cmds, nil
		}
		n, err := header('*')
		if err != nil {
			return nil, err
		}
		cmd := make([]string, n)
		for i := range cmd {
			size, err := header('$')
			if err != nil {
				return nil, err
			}
			arg := make([]byte, size+2)
			if _, err := io.ReadFull(rd, arg); err != nil || string(arg[size:]) != "\r\n" {
				return nil, fmt.Errorf("bulk string of %d bytes: %v", size, err)
			}
			cmd[i] = string(arg[:size])
		}
		cmds = append(cmds, cmd)
	}
}
