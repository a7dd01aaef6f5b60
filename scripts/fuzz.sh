#!/usr/bin/env bash
# Runs every Go fuzz target of the repository (func FuzzXxx in a *_test.go
# file) for FUZZTIME each (default 5s), one `go test -fuzz` per target.
#
#   scripts/fuzz.sh            smoke run, 5s per target
#   FUZZTIME=60s scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-5s}
# How long a worker may spend minimising a new interesting input (Go's
# default is 60s). A minimising worker reports nothing to the coordinator,
# so with a few KB of RESP as input (FuzzParseClusterShards) a short run
# could spend its whole time minimising instead of fuzzing. A crasher is
# still reported, only less minimised.
minimizetime=${FUZZMINIMIZETIME:-1s}
go=${GO:-go}

# "dir name" pairs, found by grep so a new target needs no registration here.
targets=$(grep -rE --include='*_test.go' --exclude-dir=.git --exclude-dir=vendor --exclude-dir=testdata \
	'^func Fuzz[A-Za-z0-9_]*\(' . |
	sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*#\1 \2#' | sort -u) || true

# None yet: say nothing, so go test's result lines stay the last output of
# make test.
[ -z "$targets" ] && exit 0

# corpus lists the failing inputs go test has written for a target.
corpus() { ls "$1/testdata/fuzz/$2" 2>/dev/null | sort || true; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
n=$(printf '%s\n' "$targets" | wc -l)
echo "fuzz: $n target(s), $fuzztime each"
while read -r dir name; do
	echo "fuzz: $name in $dir"
	before=$(corpus "$dir" "$name")
	rc=0
	"$go" test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" -fuzzminimizetime="$minimizetime" "$dir" </dev/null 2>&1 |
		tee "$out" || rc=$?
	[ "$rc" -eq 0 ] && continue
	# Go 1.26's fuzz coordinator can report the end of -fuzztime itself as
	# a failure, "context deadline exceeded", with no failing input
	# (go.dev/issue/75804, fixed in Go 1.27). A real failure writes its
	# input to testdata/fuzz/<name>/: only that, or any other error, fails.
	if grep -q '^    context deadline exceeded$' "$out" && ! grep -q 'Failing input written' "$out" &&
		[ "$(corpus "$dir" "$name")" = "$before" ]; then
		echo "fuzz: $name: the coordinator's end-of-fuzztime race (go.dev/issue/75804), no failing input: not a failure"
		continue
	fi
	exit "$rc"
done <<<"$targets"
