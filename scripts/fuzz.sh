#!/usr/bin/env bash
# Runs every Go fuzz target of the repository (func FuzzXxx in a *_test.go
# file) for FUZZTIME each (default 5s), one `go test -fuzz` per target.
#
#   scripts/fuzz.sh            smoke run, 5s per target
#   FUZZTIME=60s scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-5s}
go=${GO:-go}

# "dir name" pairs, found by grep so a new target needs no registration here.
targets=$(grep -rE --include='*_test.go' --exclude-dir=.git --exclude-dir=vendor --exclude-dir=testdata \
	'^func Fuzz[A-Za-z0-9_]*\(' . |
	sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*#\1 \2#' | sort -u) || true

# None yet: say nothing, so go test's result lines stay the last output of
# make test.
[ -z "$targets" ] && exit 0

n=$(printf '%s\n' "$targets" | wc -l)
echo "fuzz: $n target(s), $fuzztime each"
while read -r dir name; do
	echo "fuzz: $name in $dir"
	"$go" test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$dir" </dev/null
done <<<"$targets"
