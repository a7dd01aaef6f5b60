#!/usr/bin/env bash
# Checks the Prometheus alerting rules in alerts/ with promtool, and runs their
# unit tests (alerts/*_test.yml, alerts/tests/*.yml). Silent when there are
# none.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob

rules=(alerts/*.rules.yml)
tests=(alerts/*_test.yml alerts/tests/*.yml)
[ ${#rules[@]} -eq 0 ] && [ ${#tests[@]} -eq 0 ] && exit 0

if ! command -v promtool >/dev/null 2>&1; then
	echo "check-alerts: promtool not found (make deps installs Debian's prometheus package)" >&2
	exit 1
fi
if [ ${#rules[@]} -gt 0 ]; then
	promtool check rules "${rules[@]}"
fi
if [ ${#tests[@]} -gt 0 ]; then
	promtool test rules "${tests[@]}"
fi
