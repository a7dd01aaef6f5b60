#!/usr/bin/env bash
# Demo: a throwaway redis-server with a deliberately WEAK configuration and
# the exporter pointed at it, then a summary of what the exporter finds.
#
#   make demo                 (or scripts/demo.sh) serve until Ctrl-C
#   DEMO_NO_WAIT=1 make demo  print the summary, then stop and clean up
#
# Everything runs from a temp dir: nothing is left behind, and the system
# redis (if any, on 6379) is neither used nor touched.
#
# Environment:
#   DEMO_NO_WAIT=1      stop after the summary
#   DEMO_REDIS_PORT     first port to try for redis-server (default 16379)
#   DEMO_EXPORTER_PORT  first port to try for the exporter (default 9379)
#   DEMO_REDIS_BIND     redis "bind" line (default "* -::*": every interface,
#                       as the weak configuration is meant to show)
#   DEMO_UNSAFE=1       protected-mode no: the demo server then really is open
#                       to the network without a password while it runs. By
#                       default protected mode stays on, and Redis refuses
#                       every non-loopback client while the default user has
#                       no password, so the demo opens no hole on your machine.
# shellcheck disable=SC2001 # sed indents multi-line output more readably
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$(pwd)

no_wait=${DEMO_NO_WAIT:-}
redis_bind=${DEMO_REDIS_BIND:-* -::*}
protected_mode=yes
if [ "${DEMO_UNSAFE:-}" = 1 ]; then protected_mode=no; fi
exporter_pw=demo-exporter-pw

if [ -t 1 ]; then
	bold=$'\e[1m' red=$'\e[31m' green=$'\e[32m' dim=$'\e[2m' off=$'\e[0m'
else
	bold='' red='' green='' dim='' off=''
fi
say() { printf '%s==>%s %s\n' "$bold" "$off" "$*"; }
die() {
	printf '%sdemo: %s%s\n' "$red" "$*" "$off" >&2
	exit 1
}

# --- what we need ------------------------------------------------------------
bash scripts/deps.sh redis

# --- clean-up ----------------------------------------------------------------
tmp=
redis_pid=
exporter_pid=
sleep_pid=
stop_pid() { # pid: TERM, wait up to 5s, then KILL
	local pid=$1 _
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	local rc=$?
	set +e # clean up as much as possible, whatever fails
	trap - EXIT INT TERM HUP
	[ -n "$sleep_pid" ] && kill "$sleep_pid" 2>/dev/null
	stop_pid "$exporter_pid"
	stop_pid "$redis_pid"
	if [ -n "$tmp" ]; then
		rm -rf "$tmp"
		say "stopped redis-server and the exporter, removed $tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- helpers -----------------------------------------------------------------
# in_use port: something answers on 127.0.0.1:port or [::1]:port.
in_use() {
	local p=$1
	if command -v ss >/dev/null 2>&1; then
		ss -Hltn "sport = :$p" 2>/dev/null | grep -q . && return 0
	fi
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
	(exec 3<>"/dev/tcp/::1/$p") 2>/dev/null && return 0
	return 1
}
# free_port start: the first port from start on that nothing listens on.
free_port() {
	local p=$1 end=$(($1 + 200))
	while [ "$p" -lt "$end" ]; do
		in_use "$p" || {
			echo "$p"
			return 0
		}
		p=$((p + 1))
	done
	return 1
}
# http_get url-path port: the body of GET http://127.0.0.1:port/path.
http_get() {
	local path=$1 port=$2
	if command -v curl >/dev/null 2>&1; then
		curl -fsS --max-time 10 "http://127.0.0.1:$port$path"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -T 10 -O - "http://127.0.0.1:$port$path"
	else # bash alone: HTTP/1.0, the server closes the connection after the body
		local reply
		reply=$(
			exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
			printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$path" "$port" >&3
			timeout 10 cat <&3
		) || return 1
		case "${reply%%$'\r'*}" in
		"HTTP/1."?" 200"*) ;;
		*) return 1 ;;
		esac
		printf '%s\n' "${reply#*$'\r\n\r\n'}"
	fi
}
rcli() { redis-cli -h 127.0.0.1 -p "$redis_port" "$@" </dev/null; }

# --- build -------------------------------------------------------------------
say "building the exporter"
if command -v make >/dev/null 2>&1; then
	make --no-print-directory -s build >/dev/null
else
	CGO_ENABLED=0 go build -o redis_security_exporter .
fi
[ -x "$repo/redis_security_exporter" ] || die "build produced no ./redis_security_exporter"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/redis-security-demo.XXXXXX")
chmod 0755 "$tmp"

# --- a deliberately weak redis-server ----------------------------------------
start_redis() { # port
	local port=$1
	cat >"$tmp/redis.conf" <<EOF
# Deliberately WEAK configuration for the redis_security_exporter demo.
# Do not copy any of this into a real server.
port $port
bind $redis_bind
protected-mode $protected_mode
daemonize no
dir $tmp
logfile $tmp/redis.log
save ""
appendonly no
timeout 0
unixsocket $tmp/redis.sock
unixsocketperm 777
enable-debug-command yes

# the default user: no password, every command
user default on nopass ~* &* +@all
# a weak password
user app on >password ~* +@all
# no password at all
user legacy on nopass ~* +@all
# what the exporter should use: the least privilege it needs
user redis_security_exporter on >$exporter_pw -@all +info +config|get +acl|list +acl|log +acl|dryrun +command|info +client|list +client|id
EOF
	redis-server "$tmp/redis.conf" </dev/null >/dev/null 2>&1 &
	redis_pid=$!
	local _
	for _ in $(seq 100); do
		if ! kill -0 "$redis_pid" 2>/dev/null; then
			wait "$redis_pid" 2>/dev/null || true
			redis_pid=
			return 1
		fi
		if [ "$(redis-cli -h 127.0.0.1 -p "$port" PING </dev/null 2>/dev/null)" = PONG ] &&
			grep -q 'Ready to accept connections' "$tmp/redis.log" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	stop_pid "$redis_pid"
	redis_pid=
	return 1
}

redis_port=${DEMO_REDIS_PORT:-16379}
started=
for _ in 1 2 3 4 5; do
	redis_port=$(free_port "$redis_port") || die "no free port for redis-server"
	if start_redis "$redis_port"; then
		started=1
		break
	fi
	redis_port=$((redis_port + 1))
done
if [ -z "$started" ]; then
	[ -f "$tmp/redis.log" ] && tail -n 20 "$tmp/redis.log" >&2
	die "redis-server did not start"
fi
say "weak redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on port $redis_port (bind $redis_bind), pid $redis_pid"
if [ "$protected_mode" = no ]; then
	printf '    %sDEMO_UNSAFE=1: no password and no protected mode: open to your network while the demo runs%s\n' "$red" "$off"
else
	printf '    %sprotected mode is on: remote clients are refused while the default user has no password%s\n' "$dim" "$off"
	printf '    %s(DEMO_UNSAFE=1 turns it off to show a server exposed without auth)%s\n' "$dim" "$off"
fi

# Some security events for the counters: failed AUTHs, and a command the
# exporter's user may not run.
for _ in 1 2 3; do
	rcli AUTH app wrong >/dev/null 2>&1 || true
done
REDISCLI_AUTH=$exporter_pw rcli --no-auth-warning --user redis_security_exporter GET demo >/dev/null 2>&1 || true

# --- the exporter ------------------------------------------------------------
exporter_port=$(free_port "${DEMO_EXPORTER_PORT:-9379}") || die "no free port for the exporter"
REDIS_PASSWORD=$exporter_pw "$repo/redis_security_exporter" \
	--redis.addr="redis://127.0.0.1:$redis_port" \
	--redis.user=redis_security_exporter \
	--web.listen-address="127.0.0.1:$exporter_port" \
	</dev/null >"$tmp/exporter.log" 2>&1 &
exporter_pid=$!

metrics=
for _ in $(seq 100); do
	kill -0 "$exporter_pid" 2>/dev/null || {
		cat "$tmp/exporter.log" >&2
		die "the exporter exited"
	}
	if metrics=$(http_get /metrics "$exporter_port" 2>/dev/null) && grep -q '^redis_security_up' <<<"$metrics"; then
		break
	fi
	metrics=
	sleep 0.1
done
if [ -z "$metrics" ]; then
	cat "$tmp/exporter.log" >&2
	die "no metrics from the exporter on port $exporter_port"
fi
say "exporter on http://127.0.0.1:$exporter_port, pid $exporter_pid, as ACL user redis_security_exporter"

# --- the findings ------------------------------------------------------------
findings=$(grep -E '^redis_security_(up|server_info|exposed_without_auth|auth_required|bind_all_interfaces|bind_non_loopback|protected_mode_enabled|acl_user_nopass|acl_user_weak_password|acl_user_shared_password|unixsocket_world_accessible|unixsocket_permissions|idle_timeout_seconds|scrape_command_denied|auth_failures_total|acl_denied_total|error_replies_total|clients)[{ ]|^redis_security_enable_config\{.*value="yes"|^redis_security_acl_user_unrestricted\{.*scope="commands"' <<<"$metrics" || true)
echo
printf '%sWhat the exporter found%s %s(1 = yes; %s of its %s redis_security_* lines)%s\n' "$bold" "$off" "$dim" \
	"$(grep -c . <<<"$findings")" "$(grep -c '^redis_security_' <<<"$metrics")" "$off"
sed 's/^/    /' <<<"$findings"
echo
value() { # metric-regex: the first value
	grep -E "^$1[{ ]" <<<"$metrics" | head -n 1 | awk '{print $NF}'
}
printf '%sFindings%s %s(redis_security_exporter check: every failing check with what it is about; the landing page shows the same)%s\n' "$bold" "$off" "$dim" "$off"
# --fail-on=critical: the demo server fails high checks on purpose, and
# check's exit code 1 would stop the script.
report=$(REDIS_PASSWORD=$exporter_pw "$repo/redis_security_exporter" check \
	--redis.user=redis_security_exporter --fail-on=critical --log.level=error \
	"redis://127.0.0.1:$redis_port" 2>&1) || {
	sed 's/^/    /' <<<"$report" >&2
	die "check could not audit the demo server"
}
sed 's/^/    /' <<<"$report"
echo
printf '%sSecurity events%s\n' "$bold" "$off"
events=$(grep -E '^redis_security_acl_log_events_total\{' <<<"$metrics" | sed -n 's/.*reason="\([^"]*\)",username="\([^"]*\)"} \(.*\)/\3 \1 as \2/p' | paste -sd';' - || true)
[ -n "$events" ] && printf '    %s!%s ACL LOG events (count reason as user): %s\n' "$red" "$off" "$events"
fails=$(grep -E '^redis_security_auth_failures_total[{ ]' <<<"$metrics" | awk '{s+=$NF} END {print s+0}')
[ "$fails" != 0 ] && printf '    %s!%s %s\n' "$red" "$off" "$fails failed AUTH attempt(s) so far (this script made 3)"
noperm=$(value 'redis_security_error_replies_total\{error="NOPERM"\}')
[ -n "$noperm" ] && [ "$noperm" != 0 ] && printf '    %s!%s %s\n' "$red" "$off" "$noperm command(s) refused by ACL (NOPERM; this script made 1)"
denied=$(grep -E '^redis_security_scrape_command_denied[{ ]' <<<"$metrics" | grep -vE ' 0$' || true)
if [ -n "$denied" ]; then
	printf '    %s!%s the exporter was denied commands:\n' "$red" "$off"
	sed 's/^/        /' <<<"$denied"
else
	printf '    %sok%s the exporter ran every command it needs with its least-privileged ACL user\n' "$green" "$off"
fi
echo

if [ -n "$no_wait" ]; then
	say "DEMO_NO_WAIT is set: stopping"
	exit 0
fi

cat <<EOF
Open ${bold}http://127.0.0.1:$exporter_port/metrics${off} (landing page: http://127.0.0.1:$exporter_port/),
or try: redis-cli -p $redis_port AUTH app wrong   and scrape again.
Press ${bold}Ctrl-C${off} to stop redis-server and the exporter and remove $tmp.
EOF

while kill -0 "$redis_pid" 2>/dev/null && kill -0 "$exporter_pid" 2>/dev/null; do
	sleep 1 &
	sleep_pid=$!
	wait "$sleep_pid" || true
	sleep_pid=
done
kill -0 "$redis_pid" 2>/dev/null || echo "demo: redis-server exited" >&2
kill -0 "$exporter_pid" 2>/dev/null || {
	echo "demo: the exporter exited; its log:" >&2
	cat "$tmp/exporter.log" >&2
}
exit 1
