// Command benchrun is the scripted half of `make bench` (scripts/bench.sh
// runs the Go benchmarks first, then this): it runs the exporter binary as a
// real process against real redis-server processes configured for each
// scenario, scrapes /metrics as Prometheus does, and writes BENCHMARKS.md.
//
// It is a main package rather than a test so that `go test ./...` never
// runs it (make test stays as fast as it was) while `go vet ./...` still
// checks it.
//
//	go run ./scripts/benchrun -exporter ./redis_security_exporter -gobench gobench.txt -out BENCHMARKS.md
//
// BENCH_SCRAPES (default 1000) sets the measured scrapes per scenario,
// BENCH_RSS_SCRAPES (default 10000) the length of the RSS series,
// BENCH_ONLY=default,clients-10k,rss,probe runs a subset,
// BENCH_PROBE_INTERVAL (default 15s), BENCH_PROBE_WARMUP (default 3) and
// BENCH_PROBE_INTERVALS (default 3) set the /probe scenario's scrape
// interval, its warm-up intervals and how many are measured after them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	// A signal kills the children before the harness exits: nothing it
	// started may outlive it.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "benchrun: %v: stopping the processes it started\n", s)
		stopAll()
		os.Exit(130)
	}()
	code := func() (code int) {
		defer func() {
			if p := recover(); p != nil {
				stopAll()
				panic(p)
			}
		}()
		defer stopAll()
		return run()
	}()
	os.Exit(code)
}

func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "benchrun: %s=%q is not a positive integer\n", name, v)
			os.Exit(2)
		}
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			fmt.Fprintf(os.Stderr, "benchrun: %s=%q is not a positive duration such as 15s\n", name, v)
			os.Exit(2)
		}
		return d
	}
	return def
}

func run() int {
	var (
		h        harness
		out      = flag.String("out", "BENCHMARKS.md", "report to write (overwritten)")
		goBench  = flag.String("gobench", "", "output of go test -bench to include in the report")
		revision = flag.String("revision", "", "exporter revision to name in the report")
		only     = flag.String("only", os.Getenv("BENCH_ONLY"), "comma-separated scenario ids to run (default: all); ids: default, users-1000, acllog-128, clients-1k, clients-10k, rss, probe")
		keep     = flag.Bool("keep", false, "keep the work directory (server logs and configs)")
	)
	flag.StringVar(&h.exporterBin, "exporter", "./redis_security_exporter", "exporter binary")
	flag.StringVar(&h.floorBin, "floor", "", "scripts/benchfloor binary: measured after the exporter on the /probe scenario's schedule and on the default config's scrapes (empty: not measured)")
	flag.StringVar(&h.redisBin, "redis-server", os.Getenv("REDIS_SERVER_BIN"), "redis-server binary (default: REDIS_SERVER_BIN, else PATH)")
	flag.IntVar(&h.scrapes, "scrapes", envInt("BENCH_SCRAPES", 1000), "measured scrapes per scenario (BENCH_SCRAPES)")
	flag.IntVar(&h.rssScrapes, "rss-scrapes", envInt("BENCH_RSS_SCRAPES", 10000), "scrapes of the RSS series (BENCH_RSS_SCRAPES)")
	flag.IntVar(&h.rssEvery, "rss-every", 1000, "sample RSS every n scrapes")
	flag.IntVar(&h.warmup, "warmup", 20, "scrapes before measuring (first-scrape work: COMMAND INFO, ACL DRYRUN)")
	flag.IntVar(&h.rtScrapes, "rt-scrapes", 100, "steady-state scrapes whose round trips are counted")
	flag.DurationVar(&h.probeInterval, "probe-interval", envDuration("BENCH_PROBE_INTERVAL", 15*time.Second), "scrape interval of the /probe scenario (BENCH_PROBE_INTERVAL)")
	flag.IntVar(&h.probeWarmup, "probe-warmup", envInt("BENCH_PROBE_WARMUP", 3), "warm-up intervals of the /probe scenario: the first has every target's first probe, the others bring the caches to their steady state (BENCH_PROBE_WARMUP)")
	flag.IntVar(&h.probeIntervals, "probe-intervals", envInt("BENCH_PROBE_INTERVALS", 3), "measured intervals of the /probe scenario, after the warm-up (BENCH_PROBE_INTERVALS)")
	flag.Parse()

	h.log = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "benchrun: "+format+"\n", args...)
	}
	if h.redisBin == "" {
		p, err := exec.LookPath("redis-server")
		if err != nil {
			h.log("redis-server not found (make deps installs it): %v", err)
			return 1
		}
		h.redisBin = p
	}
	var err error
	if h.exporterBin, err = filepath.Abs(h.exporterBin); err != nil {
		h.log("%v", err)
		return 1
	}
	if _, err := os.Stat(h.exporterBin); err != nil {
		h.log("exporter binary: %v (make build)", err)
		return 1
	}
	if h.floorBin != "" {
		if h.floorBin, err = filepath.Abs(h.floorBin); err == nil {
			_, err = os.Stat(h.floorBin)
		}
		if err != nil {
			h.log("floor binary: %v (go build ./scripts/benchfloor)", err)
			return 1
		}
	}
	selected := func(id string) bool {
		if *only == "" {
			return true
		}
		for _, s := range strings.Split(*only, ",") {
			if strings.TrimSpace(s) == id {
				return true
			}
		}
		return false
	}

	h.workDir, err = os.MkdirTemp("", "rse-bench-")
	if err != nil {
		h.log("%v", err)
		return 1
	}
	if *keep {
		h.log("work directory: %s", h.workDir)
	} else {
		defer os.RemoveAll(h.workDir)
	}

	m := startMachine(h.redisBin, *revision)
	ctx := context.Background()
	rep := &report{machine: m, h: &h}
	if *goBench != "" {
		b, err := os.ReadFile(*goBench)
		if err != nil {
			h.log("reading the Go benchmarks' output: %v", err)
			return 1
		}
		rep.goBench = string(b)
	}
	failed := false
	for _, sc := range scenarios() {
		if !selected(sc.id) {
			continue
		}
		res, err := h.runScenario(ctx, sc)
		rep.results = append(rep.results, res...)
		if err != nil {
			h.log("%v", err)
			rep.failures = append(rep.failures, err.Error())
			failed = true
		}
	}
	if selected("rss") {
		h.log("rss: %d scrapes of the default config", h.rssScrapes)
		if rep.rss, err = h.runRSS(ctx); err != nil {
			h.log("rss: %v", err)
			rep.failures = append(rep.failures, "RSS series: "+err.Error())
			failed = true
		}
	}
	if selected("probe") {
		h.log("probe: %d servers × %d addresses through /probe every %s", probeServers, probeAddrs, h.probeInterval)
		res, err := h.runProbe200(ctx)
		if res != nil {
			rep.probe = res
			rep.results = append(rep.results, res.result)
		}
		if err != nil {
			h.log("%v", err)
			rep.failures = append(rep.failures, err.Error())
			failed = true
		}
	}
	m.finish()
	if err := os.WriteFile(*out, []byte(rep.markdown()), 0o644); err != nil {
		h.log("%v", err)
		return 1
	}
	h.log("wrote %s", *out)
	if failed {
		return 1
	}
	return 0
}

// machine describes where and when the figures were taken, and how busy the
// (shared) machine was meanwhile.
type machine struct {
	cpuModel, kernel, memTotal string
	cpus                       int
	goVersion, redisVersion    string
	revision                   string
	start                      time.Time
	wall                       time.Duration
	loadStart, loadEnd         string
	// busyCPU is the machine's non-idle time during the run (/proc/stat),
	// ownCPU the harness's and its children's (getrusage), othersCPU the
	// difference: what other work took. stealCPU is time the hypervisor
	// gave to other guests.
	busyCPU, ownCPU, othersCPU, stealCPU time.Duration
	statStart                            cpuStat
	watch                                *foreignWatch
}

func startMachine(redisBin, revision string) *machine {
	m := &machine{start: time.Now(), cpus: runtime.NumCPU(), goVersion: runtime.Version(), revision: revision}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpuModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64); err == nil {
					m.memTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				}
			}
		}
	}
	if out, err := exec.Command(redisBin, "--version").Output(); err == nil {
		m.redisVersion = strings.TrimSpace(string(out))
	}
	m.loadStart = loadAvg()
	m.statStart = readCPUStat()
	m.watch = watchForeign(2 * time.Second)
	return m
}

func (m *machine) finish() {
	m.watch.stop()
	m.wall = time.Since(m.start)
	m.loadEnd = loadAvg()
	end := readCPUStat()
	m.busyCPU = time.Duration(end.busy-m.statStart.busy) * time.Second / userHZ
	m.stealCPU = time.Duration(end.steal-m.statStart.steal) * time.Second / userHZ
	m.ownCPU = ownCPU()
	m.othersCPU = max(0, m.busyCPU-m.ownCPU)
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

type cpuStat struct{ busy, steal int64 }

// readCPUStat reads the machine's CPU time so far from /proc/stat's first
// line: cpu user nice system idle iowait irq softirq steal (guest time is
// already in user). busy leaves out idle, iowait and steal.
func readCPUStat() cpuStat {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuStat{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var st cpuStat
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		switch i {
		case 0, 1, 2, 5, 6:
			st.busy += n
		case 7:
			st.steal += n
		}
	}
	return st
}

// ownCPU is the CPU time of the harness and of every child it waited for.
func ownCPU() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return total
}

// foreignWatch samples the processes the harness did not start, to name
// the other work on a shared machine: the CPU each used while it was seen
// (processes that live less than a sampling interval go unnamed, but are in
// machine.othersCPU), and how many redis-server processes of others ran.
type foreignWatch struct {
	done    chan struct{}
	stopped chan struct{}
	// first and last CPU time seen per pid, and its command name.
	first, last map[int]time.Duration
	comm        map[int]string
	atStart     map[int]bool
}

func watchForeign(every time.Duration) *foreignWatch {
	w := &foreignWatch{done: make(chan struct{}), stopped: make(chan struct{}),
		first: map[int]time.Duration{}, last: map[int]time.Duration{}, comm: map[int]string{}, atStart: map[int]bool{}}
	w.sample(true)
	go func() {
		defer close(w.stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				w.sample(false)
				return
			case <-t.C:
				w.sample(false)
			}
		}
	}()
	return w
}

func (w *foreignWatch) stop() {
	close(w.done)
	<-w.stopped
}

func (w *foreignWatch) sample(start bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	self := os.Getpid()
	children.Lock()
	ours := make(map[int]bool, len(children.m))
	for pid := range children.m {
		ours[pid] = true
	}
	children.Unlock()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self || ours[pid] {
			continue
		}
		cpu, err := procCPU(pid)
		if err != nil {
			continue // gone
		}
		if _, seen := w.first[pid]; !seen {
			// A process first seen after the start started during the
			// run: all its CPU time is the run's.
			if start {
				w.first[pid] = cpu
				w.atStart[pid] = true
			} else {
				w.first[pid] = 0
			}
			if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm")); err == nil {
				w.comm[pid] = strings.TrimSpace(string(b))
			}
		}
		w.last[pid] = cpu
	}
}

// byCommand returns the CPU time other processes used during the run, by
// command name, largest first, and how many redis-server processes of
// others were seen.
func (w *foreignWatch) byCommand() (top []commandCPU, redisServers int) {
	sum := map[string]time.Duration{}
	for pid, last := range w.last {
		if w.comm[pid] == "redis-server" {
			redisServers++
		}
		if d := last - w.first[pid]; d > 0 {
			sum[w.comm[pid]] += d
		}
	}
	for c, d := range sum {
		top = append(top, commandCPU{c, d})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].cpu > top[j].cpu })
	return top, redisServers
}

type commandCPU struct {
	command string
	cpu     time.Duration
}
