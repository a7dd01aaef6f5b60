#!/usr/bin/env bash
# Installs, from Debian's packages, what the tests and the demo need when it
# is missing. Quiet and quick when everything is already there.
#
#   scripts/deps.sh          everything `make test` needs: redis-server,
#                            redis-cli, prometheus/promtool, alertmanager/amtool,
#                            chromium (the landing page's browser test) and a
#                            C compiler for `go test -race`
#   scripts/deps.sh redis    only redis-server and redis-cli (for the demo)
#
# Installing Debian's redis-server (and prometheus, prometheus-alertmanager)
# normally starts system services. Nothing here depends on them; where no
# policy-rc.d exists, a temporary one that refuses service starts is put in
# place for the duration of the install so the machine stays quiet.
set -euo pipefail

mode=${1:-all}

have() { command -v "$1" >/dev/null 2>&1; }

missing=()
case "$mode" in
redis)
	for c in redis-server redis-cli; do have "$c" || missing+=("$c"); done
	packages=(redis-server)
	;;
all)
	for c in redis-server redis-cli promtool prometheus amtool chromium; do have "$c" || missing+=("$c"); done
	have prometheus-alertmanager || have alertmanager || missing+=(alertmanager)
	packages=(redis-server prometheus prometheus-alertmanager chromium)
	# go test -race needs cgo, hence a C compiler.
	if ! have gcc && ! have cc; then
		missing+=(gcc)
		packages+=(gcc libc6-dev)
	fi
	;;
*)
	echo "usage: $0 [all|redis]" >&2
	exit 2
	;;
esac

[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: missing ${missing[*]}; installing ${packages[*]} from Debian's packages" >&2

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if have sudo; then
		sudo=(sudo)
	else
		echo "deps: not root and no sudo: install ${packages[*]} by hand" >&2
		exit 1
	fi
fi
if ! have apt-get; then
	echo "deps: apt-get not found: install ${packages[*]} (or the equivalents) by hand" >&2
	exit 1
fi

# Keep the packages' init scripts from starting system services during the
# install (invoke-rc.d and deb-systemd-invoke honour policy-rc.d).
policy=/usr/sbin/policy-rc.d
made_policy=
cleanup() {
	if [ -n "$made_policy" ]; then
		"${sudo[@]}" rm -f "$policy"
	fi
}
trap cleanup EXIT
if [ ! -e "$policy" ] && [ -d "$(dirname "$policy")" ]; then
	if printf '#!/bin/sh\n# temporary, from redis_security_exporter scripts/deps.sh\nexit 101\n' |
		"${sudo[@]}" tee "$policy" >/dev/null && "${sudo[@]}" chmod 0755 "$policy"; then
		made_policy=1
	fi
fi

apt_opts=(-q -o DPkg::Lock::Timeout=300)
"${sudo[@]}" apt-get "${apt_opts[@]}" update >/dev/null
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get "${apt_opts[@]}" install -y --no-install-recommends "${packages[@]}" >/dev/null

still=()
for c in "${missing[@]}"; do
	case "$c" in
	alertmanager) have prometheus-alertmanager || have alertmanager || still+=("$c") ;;
	*) have "$c" || still+=("$c") ;;
	esac
done
if [ ${#still[@]} -gt 0 ]; then
	echo "deps: still missing after the install: ${still[*]}" >&2
	exit 1
fi
echo "deps: installed ${packages[*]}" >&2
