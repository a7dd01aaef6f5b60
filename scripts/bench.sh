#!/usr/bin/env bash
# make bench: the Go benchmarks (go test -bench), then the scripted
# benchmark (scripts/benchrun), which runs the exporter binary against real
# redis-server processes; writes BENCHMARKS.md with both.
#
#   BENCH_SCRAPES=1000        measured scrapes per scenario
#   BENCH_RSS_SCRAPES=10000   length of the RSS series
#   BENCH_ONLY=default,rss    a subset of the scenarios (ids: scripts/benchrun -h)
#   BENCH_PROBE_INTERVAL=15s  scrape interval of the 200 targets through /probe
#   BENCH_PROBE_WARMUP=3      its warm-up intervals (the first: every target's first probe)
#   BENCH_PROBE_INTERVALS=3   its measured intervals, after the warm-up
#   BENCH_GO=0                skip the Go benchmarks
#   BENCH_OUT=BENCHMARKS.md   where to write the report
set -euo pipefail
cd "$(dirname "$0")/.."

go=${GO:-go}
binary=${BINARY:-redis_security_exporter}
out=${BENCH_OUT:-BENCHMARKS.md}
mkdir -p .build

# The 10k-clients scenario holds 10,000 connections in the harness and as
# many in redis-server: both need the soft descriptor limit raised.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 10300 ]; then
	ulimit -n "$hard"
else
	echo "bench: ulimit -Hn is $hard: the 10k clients scenario needs about 10300 descriptors and will fail" >&2
fi

gobench=.build/gobench.txt
if [ "${BENCH_GO:-1}" != 0 ]; then
	echo "bench: go test -run='^\$' -bench=. -benchmem ./..."
	"$go" test -run='^$' -bench=. -benchmem ./... | tee "$gobench"
else
	gobench=
fi

revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# Uncommitted changes (other than the report itself) are named in the report.
if [ -n "$(git status --porcelain -- . ":(exclude)$out" 2>/dev/null)" ]; then
	revision+="-dirty"
fi

"$go" build -o .build/benchrun ./scripts/benchrun
"$go" build -o .build/benchfloor ./scripts/benchfloor
echo "bench: scripted benchmark against redis-server (BENCH_SCRAPES=${BENCH_SCRAPES:-1000}, BENCH_RSS_SCRAPES=${BENCH_RSS_SCRAPES:-10000})"
.build/benchrun -exporter "./$binary" -floor .build/benchfloor ${gobench:+-gobench "$gobench"} -revision "$revision" -out "$out"
# The profile section is measured by hand (pprof): kept across runs.
cat scripts/bench-profiles.md >>"$out"
