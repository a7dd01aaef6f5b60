#!/usr/bin/env bash
# make compat: the live integration tests against every server that
# scripts/servers.sh provides (Debian's redis-server 7.0 and the Redis 8.0,
# Valkey 8.1 and 9.x it builds), one run per server with REDIS_SERVER_BIN
# pointing at it. collector/redistest starts that binary for every test, and
# the tests derive version-dependent expectations from the server's INFO.
#
# COMPAT_PACKAGES overrides the packages; COMPAT_RUN is go test's -run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GO=${GO:-go}
bash scripts/deps.sh redis
bash scripts/servers.sh build

# Every package whose tests start real servers: posture, ACL LOG counting,
# DRYRUN and local rule evaluation, TLS, clients, findings, /probe and
# discovery, and the offline audit's live comparison.
packages=(${COMPAT_PACKAGES:-./exporter/ ./collector/... ./probe/ ./discovery/})
if [ -z "${COMPAT_PACKAGES:-}" ] && [ -d offline ]; then packages+=(./offline/...); fi
run=${COMPAT_RUN:-.}

mapfile -t servers < <(bash scripts/servers.sh list)
[ ${#servers[@]} -gt 0 ] || { echo "compat: no servers" >&2; exit 1; }

failed=()
summary=()
for s in "${servers[@]}"; do
	name=${s%%=*} bin=${s#*=}
	echo "=== compat: $name ($bin)"
	start=$(date +%s)
	if REDIS_SERVER_BIN=$bin "$GO" test -count=1 -timeout 15m -run "$run" "${packages[@]}"; then
		summary+=("$name: ok ($(($(date +%s) - start)) s)")
	else
		summary+=("$name: FAILED ($(($(date +%s) - start)) s)")
		failed+=("$name")
	fi
done
echo "=== compat summary"
printf '%s\n' "${summary[@]}"
[ ${#failed[@]} -eq 0 ] || { echo "compat: failed on ${failed[*]}" >&2; exit 1; }
