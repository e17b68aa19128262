#!/usr/bin/env bash
# make demo-down: stops the 'ccbulk serve' that make demo left running (its
# pid in DIR/serve.pid) and the demo's PostgreSQL kept in DIR.
#
#   scripts/demo-down.sh [--server-only] [DIR]   (DIR: DEMO_DIR, default .demo)
set -euo pipefail
cd "$(dirname "$0")/.."
server_only=
if [ "${1:-}" = --server-only ]; then server_only=1; shift; fi
demo=${1:-${DEMO_DIR:-.demo}}
pidfile=$demo/serve.pid

# is_serve PID: the process is still a 'ccbulk serve' (a pid left in the file
# after a reboot may name another program by now).
is_serve() {
	local cmd
	cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	[[ $cmd == *ccbulk*serve* ]]
}

if [ -s "$pidfile" ]; then
	pid=$(cat "$pidfile")
	if [[ $pid =~ ^[0-9]+$ ]] && is_serve "$pid"; then
		# SIGTERM: runs in flight are rolled back, then it exits.
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do is_serve "$pid" || break; sleep 0.1; done
		if is_serve "$pid"; then
			echo "demo-down: ccbulk serve (pid $pid) did not stop within 10 s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
			for _ in $(seq 1 50); do is_serve "$pid" || break; sleep 0.1; done
		fi
		echo "stopped ccbulk serve (pid $pid)"
	fi
	rm -f "$pidfile"
fi
[ -n "$server_only" ] || scripts/pg.sh down "$demo"
