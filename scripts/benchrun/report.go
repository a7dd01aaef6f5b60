package main

import (
	"fmt"
	"strings"
	"time"
)

type report struct {
	machine  *machine
	h        *harness
	results  []*result
	rss      *rssResult
	probe    *probeResult
	goBench  string
	failures []string
}

// rssFlatLimit is the growth between the sample at rssEvery scrapes and the
// last one that still counts as flat: chosen before the measurements, as a
// margin for the Go runtime's heap sizing and scavenger, not for a leak (a
// leak of even 100 bytes per scrape would be 1 MB over 10,000 scrapes).
const rssFlatLimit = 0.05

func (r *report) markdown() string {
	var b strings.Builder
	m := r.machine
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("# Benchmarks\n\n")
	p("Written by `make bench` (`scripts/bench.sh`: `go test -bench` and `scripts/benchrun`), overwritten on every run. ")
	p("Figures depend on the machine: compare runs on the same machine only.\n\n")
	if len(r.failures) > 0 {
		p("**This run had failures** (figures below are incomplete):\n\n")
		for _, f := range r.failures {
			p("- %s\n", oneLine(f))
		}
		p("\n")
	}

	p("## Machine\n\n")
	p("| | |\n|---|---|\n")
	p("| CPU | %s, %d cores |\n", orUnknown(m.cpuModel), m.cpus)
	p("| memory | %s |\n", orUnknown(m.memTotal))
	p("| kernel | Linux %s |\n", orUnknown(m.kernel))
	p("| Go | %s |\n", m.goVersion)
	p("| Redis | %s |\n", orUnknown(m.redisVersion))
	if m.revision != "" {
		p("| exporter | revision %s |\n", m.revision)
	}
	p("| date | %s (scripted run: %s) |\n", m.start.UTC().Format("2006-01-02 15:04 MST"), m.wall.Round(time.Second))
	share := 0.0
	if m.wall > 0 && m.cpus > 0 {
		share = m.othersCPU.Seconds() / (m.wall.Seconds() * float64(m.cpus))
	}
	top, redisServers := m.watch.byCommand()
	var named []string
	for _, c := range top {
		if c.cpu < 500*time.Millisecond || len(named) == 6 {
			break
		}
		named = append(named, fmt.Sprintf("%s %.0f s", c.command, c.cpu.Seconds()))
	}
	p("| other load | load average %s at the start, %s at the end. During the scripted run the machine was busy for %.0f CPU-seconds, ",
		m.loadStart, m.loadEnd, m.busyCPU.Seconds())
	p("%.0f of them the harness's and its processes': other work took %.0f (%.0f%% of the machine's %d cores)",
		m.ownCPU.Seconds(), m.othersCPU.Seconds(), 100*share, m.cpus)
	if len(named) > 0 {
		p(", among it %s", strings.Join(named, ", "))
	}
	p("; %d redis-server processes of others were seen", redisServers)
	if m.stealCPU >= time.Second {
		p("; the hypervisor stole %.0f CPU-seconds", m.stealCPU.Seconds())
	}
	p(" |\n\n")
	if share > 0.05 || redisServers > 0 || m.stealCPU.Seconds() > 0.05*m.wall.Seconds()*float64(m.cpus) {
		p("**Shared machine:** other work ran while these figures were taken (see \"other load\"): latencies (p99 above all), ")
		p("CPU times and Redis's time per command (the wall time inside the command, which grows when Redis is descheduled) ")
		p("may be inflated by it; round trips, commands per scrape, bytes and allocations are not affected.\n\n")
	}

	p("## Scripted benchmark: the exporter process against redis-server\n\n")
	p("Each scenario starts a redis-server on loopback configured for it, then the exporter binary as its own process ")
	p("(default flags unless stated, authenticating as the README's least-privileged user), and scrapes `/metrics` ")
	p("sequentially as Prometheus does: %d warm-up scrapes, then %d measured scrapes. See [how it is measured](#how-it-is-measured).",
		r.h.warmup, r.h.scrapes)
	if r.probe != nil {
		p(" The /probe row is one exporter and %d targets, probed on a schedule: see [its section](#%d-targets-through-probe); a scrape there is a probe.",
			r.probe.targets, r.probe.targets)
	}
	p("\n\n")
	p("| scenario | exporter | scrapes (errors) | latency p50 | latency p99 | round trips / scrape: steady (max) · first scrape | Redis time / scrape | without CLIENT LIST | exporter CPU / scrape | allocations / scrape | RSS (peak) |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, res := range r.results {
		p("| %s | %s | %d (%d) | %s | %s | %.2f (%d) · %d | %s | %s | %s | %s (%s) | %s (%s) |\n",
			res.scenario, res.variant, res.scrapes, res.errors, fmtDur(res.lat.p50), fmtDur(res.lat.p99),
			res.steadyRT, res.steadyRTMax, res.firstRT, fmtUsec(res.serverUsec), fmtUsec(res.serverUsecNoCL),
			fmtDur(res.cpu), fmtCount(res.mallocs), fmtBytes(res.allocBytes), fmtBytes(float64(res.rss)), fmtBytes(float64(res.hwm)))
	}
	p("\n")
	for _, res := range r.results {
		if fl := res.floor; fl != nil {
			p("The floor of the row \"%s, %s\": `scripts/benchfloor` (net/http, one go-redis connection, the %d commands of the exporter's steady scrape in one pipeline, ",
				res.scenario, res.variant, fl.commands)
			p("the exporter's last body compressed once) scraped the same way right after it: %s CPU per scrape over %d scrapes. ", fmtDur(fl.cpu), fl.scrapes)
			p("The exporter's own share (parsing, collectors, findings, exposition, compressing what changed, its Go and process metrics) is %s.\n\n", fmtDur(res.cpu-fl.cpu))
		}
	}
	for _, res := range r.results {
		if res.errors > 0 {
			p("- %s, %s: %d failed scrapes, the first: %s\n", res.scenario, res.variant, res.errors, oneLine(res.firstErr))
		}
	}

	p("### What a scrape carries\n\n")
	p("| scenario | exporter | series / scrape | /metrics body (uncompressed) | sent to Redis / scrape | received from Redis / scrape | new connections to Redis in %d steady scrapes |\n", r.h.rtScrapes)
	p("|---|---|---|---|---|---|---|\n")
	for _, res := range r.results {
		p("| %s | %s | %s | %s | %s | %s | %d |\n", res.scenario, res.variant, fmtCount(float64(res.series)), fmtBytes(float64(res.bodyBytes)),
			fmtBytes(res.requestBytes), fmtBytes(res.replyBytes), res.steadyConns)
	}
	p("\n")

	p("### Redis's time per scrape, by command\n\n")
	p("Calls and server time (INFO commandstats `usec`) per measured scrape; commands the exporter did not send are left out.\n\n")
	var cmds []string
	for _, name := range exporterCommands {
		for _, res := range r.results {
			if _, ok := res.perCmd[name]; ok {
				cmds = append(cmds, name)
				break
			}
		}
	}
	p("| scenario | exporter |")
	for _, c := range cmds {
		// A "|" splits a table cell even inside a code span.
		p(" `%s` |", strings.ReplaceAll(c, "|", "\\|"))
	}
	p("\n|---|---|%s\n", strings.Repeat("---|", len(cmds)))
	for _, res := range r.results {
		p("| %s | %s |", res.scenario, res.variant)
		for _, c := range cmds {
			st, ok := res.perCmd[c]
			if !ok {
				p(" |")
				continue
			}
			p(" %s × %s |", trimFloat(st.calls), fmtUsec(st.usec/st.calls))
		}
		p("\n")
	}
	p("\n(calls per scrape × Redis time per call)\n\n")

	r.rssSection(&b)
	r.targets(&b)

	r.probeSection(&b)

	r.method(&b)

	p("## Go benchmarks\n\n")
	if r.goBench == "" {
		p("Not run in this invocation.\n\n")
	} else {
		p("`go test -run='^$' -bench=. -benchmem ./...`. `BenchmarkScrape` scrapes a real redis-server through every collector ")
		p("in-process: its ns/op and allocations are the scrape alone (round trip, parsing, findings), without the HTTP request, ")
		p("the text encoding, gzip and the Go and process collectors that the scripted figures above include; `server-us/op` ")
		p("is Redis's time for the exporter's commands per scrape.\n\n```\n")
		for _, line := range strings.Split(r.goBench, "\n") {
			for _, prefix := range []string{"goos:", "goarch:", "pkg:", "cpu:", "Benchmark"} {
				if strings.HasPrefix(line, prefix) {
					p("%s\n", strings.TrimRight(line, " \t"))
					break
				}
			}
		}
		p("```\n")
	}
	return b.String()
}

func (r *report) rssSection(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	if r.rss == nil {
		return
	}
	p("## RSS over %s scrapes\n\n", fmtCount(float64(r.rss.scrapes)))
	p("A fresh exporter, default config, %s sequential scrapes (%d failed; latency p50 %s, p99 %s); its RSS (VmRSS), ",
		fmtCount(float64(r.rss.scrapes)), r.rss.errors, fmtDur(r.rss.lat.p50), fmtDur(r.rss.lat.p99))
	p("heap in use and goroutines (from its own `/metrics`) every %s scrapes.\n\n", fmtCount(float64(r.h.rssEvery)))
	p("| scrapes | RSS | heap in use | goroutines |\n|---|---|---|---|\n")
	for _, s := range r.rss.samples {
		p("| %s | %s | %s | %.0f |\n", fmtCount(float64(s.scrapes)), fmtBytes(float64(s.rss)), fmtBytes(s.heapInuse), s.goroutines)
	}
	if g, ok := r.rssGrowth(); ok {
		p("\nGrowth from scrape %s to scrape %s: %s (%+.1f%%); heap in use %s.", fmtCount(float64(g.from.scrapes)), fmtCount(float64(g.to.scrapes)),
			fmtSignedBytes(float64(g.to.rss-g.from.rss)), 100*g.frac, fmtSignedBytes(g.to.heapInuse-g.from.heapInuse))
		// Two samples are at the mercy of where the GC cycle stands; the
		// trend over all of them is what a leak would show in.
		rss, heap := r.rssTrend(g.from.scrapes)
		p(" Least-squares trend over the samples from scrape %s on: RSS %s, heap in use %s per 1,000 scrapes.\n\n",
			fmtCount(float64(g.from.scrapes)), fmtSignedBytes(rss*1000), fmtSignedBytes(heap*1000))
	}
}

// rssTrend returns the least-squares slopes (bytes per scrape) of RSS and
// heap in use over the samples taken at or after scrape from.
func (r *report) rssTrend(from int) (rss, heap float64) {
	var xs, ys, hs []float64
	for _, s := range r.rss.samples {
		if s.scrapes >= from {
			xs = append(xs, float64(s.scrapes))
			ys = append(ys, float64(s.rss))
			hs = append(hs, s.heapInuse)
		}
	}
	return slope(xs, ys), slope(xs, hs)
}

func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

type growth struct {
	from, to rssSample
	frac     float64
}

// rssGrowth compares the sample at rssEvery scrapes (the first one after
// start-up allocations settle) with the last.
func (r *report) rssGrowth() (growth, bool) {
	if r.rss == nil {
		return growth{}, false
	}
	var from *rssSample
	for i := range r.rss.samples {
		if r.rss.samples[i].scrapes == r.h.rssEvery {
			from = &r.rss.samples[i]
		}
	}
	if from == nil || len(r.rss.samples) == 0 || from.rss == 0 {
		return growth{}, false
	}
	to := r.rss.samples[len(r.rss.samples)-1]
	if to.scrapes == from.scrapes {
		return growth{}, false
	}
	return growth{from: *from, to: to, frac: float64(to.rss-from.rss) / float64(from.rss)}, true
}

func (r *report) targets(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Targets\n\n")
	p("| target | measured | met |\n|---|---|---|\n")
	verdict := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	var def *result
	for _, res := range r.results {
		if res.scenario == "default config" && res.variant == "default flags" {
			def = res
			break
		}
	}
	if def != nil {
		p("| a steady-state scrape is one round trip (default config) | %.2f round trips per scrape (max %d) over %d scrapes | %s |\n",
			def.steadyRT, def.steadyRTMax, def.rtScrapes, verdict(def.steadyRTMax == 1 && def.steadyRT == 1))
		p("| Redis's time per scrape without CLIENT LIST < 200 µs (default config) | %s | %s |\n",
			fmtUsec(def.serverUsecNoCL), verdict(def.serverUsecNoCL < 200))
	}
	all := true
	var rts []string
	for _, res := range r.results {
		if res.steadyRTMax != 1 {
			all = false
			rts = append(rts, fmt.Sprintf("%s, %s: max %d", res.scenario, res.variant, res.steadyRTMax))
		}
	}
	if len(r.results) > 1 {
		m := "one round trip in every steady-state scrape of every scenario"
		if !all {
			m = strings.Join(rts, "; ")
		}
		p("| (every scenario) a steady-state scrape is one round trip | %s | %s |\n", m, verdict(all))
	}
	for _, res := range r.results {
		ratio := "n/a"
		if res.serverUsec > 0 {
			ratio = fmt.Sprintf("%.1f×", float64(res.cpu.Microseconds())/res.serverUsec)
		}
		p("| exporter CPU per scrape below Redis's time for the same scrape: %s, %s | %s vs %s (%s) | %s |\n",
			res.scenario, res.variant, fmtDur(res.cpu), fmtUsec(res.serverUsec), ratio, verdict(float64(res.cpu.Microseconds()) < res.serverUsec))
	}
	r.issue12Targets(p, verdict)
	if g, ok := r.rssGrowth(); ok {
		p("| RSS flat over %s scrapes (growth from scrape %s < %.0f%%) | %s → %s (%+.1f%%) | %s |\n",
			fmtCount(float64(g.to.scrapes)), fmtCount(float64(g.from.scrapes)), 100*rssFlatLimit,
			fmtBytes(float64(g.from.rss)), fmtBytes(float64(g.to.rss)), 100*g.frac, verdict(g.frac < rssFlatLimit))
	}
	if pr := r.probe; pr != nil {
		p("| %s: one exporter connection per target (%d per server), none opened after the warm-up | at most %d per target (its sockets, %d samples); %s per server on %s addresses (CLIENT LIST); %d opened | %s |\n",
			pr.scenario, probeAddrs, pr.connPerTargetMax, pr.connSamples, fmtRange(pr.clientListMin, pr.clientListMax),
			fmtRange(pr.laddrsMin, pr.laddrsMax), pr.newConns,
			verdict(pr.connPerTargetMax == 1 && pr.clientListMin == probeAddrs && pr.clientListMax == probeAddrs &&
				pr.laddrsMin == probeAddrs && pr.laddrsMax == probeAddrs && pr.newConns == 0))
		p("| %s: `redis_security_exporter_probe_pooled_targets` = %d | %.0f | %s |\n", pr.scenario, pr.targets, pr.pooledTargets,
			verdict(pr.pooledTargets == float64(pr.targets)))
	}
	p("| 1000 concurrent requests to /metrics: bounded connections to Redis, no errors, bounded memory | a test, not a figure: `TestConcurrentMetricsRequests` (`load_test.go`, part of `make test`) | see `make test` |\n")
	p("| the same for /probe: 1000 concurrent requests over 20 targets, every one up with the default --probe.max-concurrent (100) and a 10 s timeout, at most one connection per target, bounded memory | a test, not a figure: `TestConcurrentProbeRequests` (`load_test.go`, part of `make test`) | see `make test` |\n\n")
}

// issue12Targets writes the goals of issue 12 that these scenarios measure.
// The CPU goals were set on another machine; the floor (-floor) says what
// any Go exporter pays for the same requests on this one, so a row gives
// the exporter's own share beside the absolute figure.
func (r *report) issue12Targets(p func(string, ...any), verdict func(bool) string) {
	find := func(scenario, variant string) *result {
		for _, res := range r.results {
			if res.scenario == scenario && res.variant == variant {
				return res
			}
		}
		return nil
	}
	withFloor := func(cpu time.Duration, fl *floorResult) string {
		if fl == nil {
			return fmtDur(cpu)
		}
		if cpu < fl.cpu { // the machine's noise: the floor ran after the exporter
			return fmt.Sprintf("%s (floor %s: above the exporter's in this run, the machine was disturbed)", fmtDur(cpu), fmtDur(fl.cpu))
		}
		return fmt.Sprintf("%s (floor %s, the exporter's own share %s)", fmtDur(cpu), fmtDur(fl.cpu), fmtDur(cpu-fl.cpu))
	}
	if def := find("default config", "default flags"); def != nil {
		p("| issue 12: default config, exporter CPU per scrape with gzip ≤ 800 µs | %s | %s |\n", withFloor(def.cpu, def.floor), verdict(def.cpu <= 800*time.Microsecond))
		p("| issue 12: default config, allocations per scrape ≤ 800 | %s | %s |\n", fmtCount(def.mallocs), verdict(def.mallocs <= 800))
	}
	if u := find("1000 ACL users", "default flags"); u != nil {
		p("| issue 12: 1000 ACL users, exporter CPU per scrape ≤ 5 ms | %s | %s |\n", fmtDur(u.cpu), verdict(u.cpu <= 5*time.Millisecond))
		p("| issue 12: 1000 ACL users, latency p50 ≤ 6 ms | %s | %s |\n", fmtDur(u.lat.p50), verdict(u.lat.p50 <= 6*time.Millisecond))
		p("| issue 12: 1000 ACL users, Redis time per scrape ≤ 150 µs | %s | %s |\n", fmtUsec(u.serverUsec), verdict(u.serverUsec <= 150))
	}
	if pr := r.probe; pr != nil {
		p("| issue 12: %s, exporter CPU per probe ≤ 1 ms | %s | %s |\n", pr.scenario, withFloor(pr.cpu, pr.floor), verdict(pr.cpu <= time.Millisecond))
		perTarget := float64(pr.rss-pr.rssStart) / float64(pr.targets)
		p("| issue 12: %s, RSS per pooled target ≤ 150 KiB | %s | %s |\n", pr.scenario, fmtBytes(perTarget), verdict(perTarget <= 150<<10))
	}
}

func (r *report) method(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## How it is measured\n\n")
	p("- **Servers.** redis-server on 127.0.0.1 with no persistence, the default user (with a password) for the harness, and the ")
	p("exporter's user with exactly the README's rules (`collector.LeastPrivilegeRules`). 1000 ACL users: four kinds of rules, ")
	p("as `BenchmarkScrape`; `--commands.max-users` (200) bounds how many are evaluated. Full ACL LOG: `acllog-max-len 128` and 128 ")
	p("failed AUTHs for 128 different user names (distinct entries; Redis merges only identical ones). 1k / 10k clients: idle TCP ")
	p("connections held open by the harness (`maxclients 10200` for 10k); `--clients.max` (default 5000) decides whether CLIENT ")
	p("LIST is sent, and the harness checks `redis_security_client_list_skipped` against what the row claims.\n")
	p("- **Scrapes.** `GET /metrics` with `X-Prometheus-Scrape-Timeout-Seconds: 10`, the text format and gzip (as Prometheus), on ")
	p("one kept-alive HTTP connection, one after another. A scrape that is not HTTP 200 with `redis_security_up 1` counts as an error. ")
	p("The first %d scrapes of each exporter are a warm-up (COMMAND INFO, ACL DRYRUN spread over the first scrapes) and not measured.\n", r.h.warmup)
	p("- **Latency** is the harness's, from sending the request to the last byte of the body as the exporter sent it, compressed (nearest-rank percentiles); ")
	p("the harness decompresses after that. Until 2026-12-07 it ended after Go's transport had decompressed the body, which put the harness's own ")
	p("decompression in the figure: some 3 ms of the 1000-user scrape's p50 (5.6 ms then, 2.3-2.7 ms now for the same binary), on the 2 cores it shares with the exporter.\n")
	p("- **Round trips** are counted by a TCP proxy in the harness between a second, fresh exporter process and Redis: a round ")
	p("trip starts whenever the exporter sends after Redis has answered (a pipeline of any length is one). \"First scrape\" is ")
	p("a new exporter's first scrape: AUTH, HELLO, then the first plan (the server's version not yet known) and what depends on its replies; \"steady\" is the mean over %d scrapes after the ", r.h.rtScrapes)
	p("warm-up, with the largest in parentheses. The measured exporter talks to Redis directly, so the proxy adds nothing to ")
	p("the other figures.\n")
	p("- **Redis time** is the delta of INFO commandstats `usec` over the measured scrapes, summed over the exporter's commands ")
	p("(%s), divided by the scrapes; the harness's own INFO commandstats is taken out. It is Redis's time executing the commands, ", "`"+strings.Join(exporterCommands, "`, `")+"`")
	p("not its network I/O. \"Without CLIENT LIST\" leaves `client|list` out.\n")
	p("- **Exporter CPU** is the exporter process's utime + stime (`/proc/<pid>/stat`, 10 ms resolution) over the measured scrapes, ")
	p("divided by them: everything the process does for a scrape (HTTP, the Redis round trip, parsing, findings, text encoding, gzip, ")
	p("its Go and process collectors).\n")
	p("- **Allocations** are the delta of the exporter's own `go_memstats_mallocs_total` and `go_memstats_alloc_bytes_total`, ")
	p("read from the body of the last warm-up scrape and of the last measured one.\n")
	p("- **RSS** is VmRSS of the exporter process after the measured scrapes, VmHWM (peak) in parentheses.\n")
	p("- **Other load** is the machine's busy time in `/proc/stat` during the scripted run minus the CPU time of the harness ")
	p("and of the processes it started (getrusage); the Go benchmarks ran before it.\n\n")
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
}

func fmtUsec(us float64) string {
	if us >= 1000 {
		return fmtDur(time.Duration(us * float64(time.Microsecond)))
	}
	if us < 10 {
		return fmt.Sprintf("%.1f µs", us)
	}
	return fmt.Sprintf("%.0f µs", us)
}

func fmtBytes(n float64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", n/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", n)
	}
}

func fmtSignedBytes(n float64) string {
	if n < 0 {
		return "−" + fmtBytes(-n)
	}
	return "+" + fmtBytes(n)
}

// fmtCount writes n rounded, with thousands separators.
func fmtCount(n float64) string {
	s := fmt.Sprintf("%.0f", n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.ReplaceAll(s, "|", "\\|")
}

func (r *report) probeSection(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	pr := r.probe
	if pr == nil {
		return
	}
	p("## %d targets through /probe\n\n", pr.targets)
	p("One exporter process with `--config.file`: one module (`%s`: the README's least-privileged user, `password_file`, ", probeModule)
	p("`allowed_targets: [\"127.0.0.0/8\"]`) and the default `--probe.*` flags (100 probes at once, idle timeout 10m). ")
	p("The %d targets are %d redis-servers, each bound to the %d loopback addresses 127.0.0.1 … 127.0.0.%d (Linux routes all of 127.0.0.0/8 to lo): ",
		pr.targets, probeServers, probeAddrs, probeAddrs)
	p("every (address, port) is a target of its own, with its own pooled connection, without %d redis-server processes on the machine. ", pr.targets)
	p("The harness probes every target every %s as Prometheus does (`GET /probe?module=%s&target=host:port`, the scrape-timeout header, gzip, ",
		fmtInterval(pr.interval), probeModule)
	p("kept-alive connections shared by the targets), each target at its own offset within the interval, from a hash of the target, as Prometheus ")
	p("spreads a scrape pool. %d intervals of warm-up (in the first, every target's first probe: connection, AUTH, HELLO, the first plan; ", pr.warmup)
	p("the others bring each target to its steady state, as the warm-up scrapes of the other scenarios do), then %d measured ", pr.intervals)
	p("intervals: the row \"%s\" in the tables above, per probe, where they say per scrape.\n\n", pr.scenario)
	p("| | |\n|---|---|\n")
	var counted []string
	for _, k := range sortedKeys(pr.requests) {
		counted = append(counted, fmt.Sprintf("%s %.0f", k, pr.requests[k]))
	}
	p("| probes measured (errors) | %d (%d) in %.1f s; the exporter counts %s |\n", pr.scrapes, pr.errors, pr.wall.Seconds(), strings.Join(counted, ", "))
	p("| latency p50 / p99 / max | %s / %s / %s |\n", fmtDur(pr.lat.p50), fmtDur(pr.lat.p99), fmtDur(pr.lat.max))
	p("| latency of a target's first probe (warm-up), p50 / p99 | %s / %s |\n", fmtDur(pr.firstLat.p50), fmtDur(pr.firstLat.p99))
	p("| probes outstanding at once (harness) | at most %d |\n", pr.maxOutstanding)
	p("| round trips to Redis per probe | steady %.2f (max %d) over %d probes of %d targets behind counting proxies (a second exporter); a target's first probe %d |\n",
		pr.steadyRT, pr.steadyRTMax, pr.rtScrapes, probeRTTargets, pr.firstRT)
	p("| Redis time per probe | %s (without CLIENT LIST %s), over the %d servers' commandstats |\n", fmtUsec(pr.serverUsec), fmtUsec(pr.serverUsecNoCL), probeServers)
	p("| exporter CPU | %s per probe; %.1f%% of one core over the measured intervals (%.1f probes/s) |\n",
		fmtDur(pr.cpu), 100*pr.cpuShare, float64(pr.scrapes)/pr.wall.Seconds())
	p("| exporter allocations per probe | %s (%s) |\n", fmtCount(pr.mallocs), fmtBytes(pr.allocBytes))
	p("| exporter memory | RSS %s at start-up (no target), %s before the measured intervals, %s after (peak %s): about %s per pooled target; ",
		fmtBytes(float64(pr.rssStart)), fmtBytes(float64(pr.rssBefore)), fmtBytes(float64(pr.rss)), fmtBytes(float64(pr.hwm)),
		fmtBytes(float64(pr.rss-pr.rssStart)/float64(pr.targets)))
	p("heap in use %s before, %s after; %.0f goroutines |\n", fmtBytes(pr.heapBefore), fmtBytes(pr.heapAfter), pr.goroutines)
	p("| `redis_security_exporter_probe_pooled_targets` | %.0f |\n", pr.pooledTargets)
	p("| exporter connections to the servers (its sockets, every second of the measured intervals, %d samples) | %s in all, %s per server, at most %d per target |\n",
		pr.connSamples, fmtRange(pr.connTotalMin, pr.connTotalMax), fmtRange(pr.connPerServerMin, pr.connPerServerMax), pr.connPerTargetMax)
	p("| CLIENT LIST of every server after the measured intervals | %s connections of the exporter's user per server, on %s local addresses |\n",
		fmtRange(pr.clientListMin, pr.clientListMax), fmtRange(pr.laddrsMin, pr.laddrsMax))
	p("| connections the servers accepted during the measured intervals | %d |\n", pr.newConns)
	if fl := pr.floor; fl != nil {
		p("| the floor: `scripts/benchfloor` on the same schedule and targets | %s CPU per probe (%.1f%% of one core, %d probes), RSS %s at start-up, %s after: about %s per pooled target |\n",
			fmtDur(fl.cpu), 100*fl.cpuShare, fl.scrapes, fmtBytes(float64(fl.rssStart)), fmtBytes(float64(fl.rss)), fmtBytes(float64(fl.rss-fl.rssStart)/float64(pr.targets)))
		p("| the exporter's own share (exporter less floor) | %s CPU per probe, %s RSS per pooled target |\n",
			fmtDur(pr.cpu-fl.cpu), fmtBytes(float64(pr.rss-pr.rssStart)/float64(pr.targets)-float64(fl.rss-fl.rssStart)/float64(pr.targets)))
	}
	p("\n")
	if fl := pr.floor; fl != nil {
		p("The floor is what any Go exporter pays per probe on this machine, at this rate: `scripts/benchfloor` serves /probe with net/http, ")
		p("keeps one go-redis connection per target (authenticated as the exporter's user), sends each probe the %d commands of a steady probe of the exporter ", fl.commands)
		p("(as its counting proxy saw them), in one pipeline, discards the replies and answers with the exporter's last body, compressed ")
		p("once at start-up. It ran after the exporter, on the same targets and schedule: one interval of warm-up, then %d measured. ", pr.intervals)
		p("Most of its CPU is the Go runtime waking from idle for each probe (the scheduler, its monitor thread, the network poller) and the ")
		p("system calls of two sockets; the exporter's own share is parsing, collectors, findings, exposition and compressing what changed.\n\n")
	}
	p("Each probe sends the same commands as a `/metrics` scrape of the default config (see the by-command table). Redis's time per call ")
	p("need not be the same: there one server answers scrapes back to back, here each of the %d servers answers a probe now and then, between ", probeServers)
	p("the others' (the time is the wall time inside the command, caches and scheduling included), and `CLIENT LIST` lists %d clients ", probeAddrs+1)
	p("(the exporter's %d connections and the harness's) instead of 2.\n\n", probeAddrs)
	p("The connections are counted from the exporter's sockets (`/proc/<pid>/fd` and `/proc/<pid>/net/tcp`) while probes run, and with CLIENT LIST ")
	p("only after the servers' commandstats are read, so that neither adds to the exporter's CPU and allocations nor to Redis's time. ")
	p("Allocations are the delta of the exporter's own `go_memstats_*` on its `/metrics` (no `--redis.addr`: the exporter's metrics only), ")
	p("less what one read of that page allocates (measured by two reads in a row).\n\n")
}

// fmtRange writes "10" or "9–10".
func fmtRange(lo, hi int) string {
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d–%d", lo, hi)
}
