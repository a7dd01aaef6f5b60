#!/usr/bin/env bash
# Builds the redis-server / valkey-server versions that `make compat` tests
# live, from Debian's source packages, and caches the binaries outside the
# repository. Idempotent: a cached binary is reused.
#
#   scripts/servers.sh build        build (or reuse) every server below
#   scripts/servers.sh list         print NAME=PATH of every server, one a line
#                                   (Debian's installed redis-server first)
#
# Servers: Debian's installed redis-server (bookworm: 7.0), and built from
# source: Redis 8.0 (trixie and sid) and Valkey 8.1 (trixie) and 9.x (sid).
# The build is the upstream one, `make BUILD_TLS=yes MALLOC=libc`, of the
# orig tarball, without Debian's patches: what a user building the same
# release gets. Redis 8's optional modules (search, JSON, time series,
# probabilistic) are not built: their build fetches code over the network.
#
# SERVERS_CACHE (default /var/cache/redis_security_exporter/servers) holds
# <package>-<version>/bin/<binary>. SERVERS_JOBS is make's -j (default: nproc).
set -euo pipefail

cache=${SERVERS_CACHE:-/var/cache/redis_security_exporter/servers}
jobs=${SERVERS_JOBS:-$(nproc)}
# package/suite pairs, as apt-get source takes them.
specs=(redis/trixie redis/sid valkey/trixie valkey/sid)

log() { echo "servers: $*" >&2; }

sudo=()
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo=(sudo)

# deb-src entries for trixie and sid with the URI and keyring of the
# machine's own Debian sources; source entries only, so nothing installed
# on the host changes.
setup_sources() {
	local list=/etc/apt/sources.list.d/redis-security-exporter-src.sources
	[ -e "$list" ] && return 0
	local uri=http://deb.debian.org/debian keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	if [ -r /etc/apt/sources.list.d/debian.sources ]; then
		local u k
		u=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
		k=$(awk '/^Signed-By:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
		[ -n "$u" ] && uri=$u
		[ -n "$k" ] && keyring=$k
	fi
	log "adding deb-src entries for trixie and sid ($uri) in $list"
	printf 'Types: deb-src\nURIs: %s\nSuites: trixie sid\nComponents: main\nSigned-By: %s\n' "$uri" "$keyring" |
		"${sudo[@]}" tee "$list" >/dev/null
	"${sudo[@]}" apt-get -q -o DPkg::Lock::Timeout=300 update >/dev/null
}

build_deps() {
	local missing=()
	for p in build-essential pkg-config libssl-dev xz-utils; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}" >/dev/null
}

# version of package in suite, from the source index (epoch dropped).
source_version() {
	local pkg=$1 suite=$2
	apt-get source --print-uris --download-only "$pkg/$suite" 2>/dev/null |
		sed -n "s/^'[^']*' ${pkg}_\([^ ]*\)\.dsc .*/\1/p" | head -1
}

build_one() {
	local pkg=${1%/*} suite=${1#*/}
	local full upstream dir bin
	full=$(source_version "$pkg" "$suite")
	if [ -z "$full" ]; then
		log "no source package $pkg in $suite"
		return 1
	fi
	upstream=${full%-*}        # 8.1.1+dfsg1-3+deb13u3 -> 8.1.1+dfsg1
	upstream=${upstream%%+*}   # -> 8.1.1
	dir="$cache/$pkg-$upstream"
	bin="$dir/bin/$pkg-server"
	if [ -x "$bin" ]; then
		log "$pkg $upstream ($suite): cached at $bin"
		return 0
	fi
	log "$pkg $upstream ($suite): downloading and building (a few minutes)"
	local work
	work=$(mktemp -d)
	(
		cd "$work"
		# Only the orig tarball is needed: apt may fail to fetch the Debian
		# part of a point release and still have fetched the tarball.
		apt-get source --download-only -q "$pkg/$suite" >download.log 2>&1 || true
		local tarball
		tarball=$(ls "${pkg}"_*.orig.tar.* 2>/dev/null | head -1)
		if [ -z "$tarball" ]; then
			cat download.log >&2
			exit 1
		fi
		mkdir src
		tar -xf "$tarball" -C src --strip-components=1
		cd src
		start=$(date +%s)
		nice -n 10 make -j"$jobs" BUILD_TLS=yes MALLOC=libc >"$work/build.log" 2>&1 || {
			tail -30 "$work/build.log" >&2
			exit 1
		}
		mkdir -p "$dir/bin"
		cp "src/$pkg-server" "$dir/bin/" 2>/dev/null || cp src/redis-server "$dir/bin/$pkg-server"
		if [ -x "src/$pkg-cli" ]; then cp "src/$pkg-cli" "$dir/bin/"; fi
		if [ -x src/redis-cli ] && [ ! -e "$dir/bin/$pkg-cli" ]; then cp src/redis-cli "$dir/bin/$pkg-cli"; fi
		echo "$pkg $full from Debian $suite, make BUILD_TLS=yes MALLOC=libc, $(($(date +%s) - start)) s on $(nproc) cores, $(date -u +%F)" >"$dir/BUILD"
	)
	local rc=$?
	rm -rf "$work"
	[ $rc -eq 0 ] || return $rc
	log "$pkg $upstream: built $bin ($(cat "$dir/BUILD"))"
}

list() {
	if command -v redis-server >/dev/null 2>&1; then
		echo "redis-$(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')=$(command -v redis-server)"
	fi
	local b
	for b in "$cache"/*/bin/*-server; do
		[ -x "$b" ] || continue
		echo "$(basename "$(dirname "$(dirname "$b")")")=$b"
	done
}

case "${1:-build}" in
build)
	setup_sources
	build_deps
	mkdir -p "$cache"
	failed=0
	for s in "${specs[@]}"; do build_one "$s" || failed=1; done
	exit $failed
	;;
list) list ;;
*)
	echo "usage: $0 [build|list]" >&2
	exit 2
	;;
esac
