#!/usr/bin/env bash
# PostgreSQL for ccbulk's tests and demo, from the installed server binaries.
#
#   scripts/pg.sh run CMD...   run CMD with DATABASE_URL set: the caller's own
#                              DATABASE_URL when set, otherwise a private
#                              throwaway cluster on a socket in a temporary
#                              directory, stopped (and removed) afterwards.
#   scripts/pg.sh up DIR       start (or reuse) a persistent cluster kept in DIR
#                              and print its DATABASE_URL.
#   scripts/pg.sh down DIR     stop the cluster kept in DIR.
#
# PostgreSQL refuses to run as root: as root the server runs as the
# 'postgres' user. Where no server binaries are installed and we are root,
# Debian's 'postgresql' package is installed; otherwise we say what to install.
set -euo pipefail

die() { echo "pg.sh: $*" >&2; exit 1; }

find_bindir() {
	local d
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir 2>/dev/null || true)
		if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
	done
	return 1
}

bindir() {
	local d
	if d=$(find_bindir); then echo "$d"; return 0; fi
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "pg.sh: no PostgreSQL server binaries found; installing Debian's postgresql package" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2 || die "apt-get update failed; install the PostgreSQL server by hand (apt-get install postgresql)"
		apt-get install -y -qq --no-install-recommends postgresql >&2 || die "apt-get install postgresql failed"
		if d=$(find_bindir); then echo "$d"; return 0; fi
	fi
	die "no PostgreSQL server binaries (initdb, pg_ctl) found. Install them: on Debian or Ubuntu 'sudo apt-get install postgresql', on Fedora 'sudo dnf install postgresql-server', on macOS 'brew install postgresql'; or set DATABASE_URL to a server you have."
}

# as_owner CMD...: run CMD as the cluster's owner (postgres when we are root).
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
		if command -v runuser >/dev/null 2>&1; then
			runuser -u postgres -- "$@"
		else
			su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
		fi
	else
		"$@"
	fi
}

# start DATADIR SOCKDIR [fast]
start() {
	local data=$1 sock=$2 fast=${3:-}
	local bin; bin=$(bindir)
	mkdir -p "$sock"
	if [ "$(id -u)" = 0 ]; then chown postgres: "$sock"; fi
	if [ ! -s "$data/PG_VERSION" ]; then
		mkdir -p "$data"
		if [ "$(id -u)" = 0 ]; then chown postgres: "$data"; fi
		chmod 700 "$data"
		as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$data.initdb.log" 2>&1 \
			|| { cat "$data.initdb.log" >&2; die "initdb failed"; }
	fi
	local opts="-c listen_addresses='' -c unix_socket_directories='$sock' -c max_connections=100"
	if [ -n "$fast" ]; then
		# A throwaway cluster keeps nothing worth a crash-safe write. And
		# as the PostgreSQL manual advises for bulk loads ("Populating a
		# Database": increase max_wal_size), checkpoints are not forced
		# every half gigabyte of WAL: with the default 1GB, a million-row
		# import ran two or three of them.
		opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=4GB"
	fi
	if as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		return 0
	fi
	as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -o "$opts" -w -t 60 start >/dev/null \
		|| { cat "$data/server.log" >&2 || true; die "the PostgreSQL server did not start (log above)"; }
}

stop() {
	local data=$1
	local bin; bin=$(bindir)
	as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}

url_for() { echo "postgres:///postgres?host=$1&user=postgres&sslmode=disable"; }

cmd=${1:-}; shift || true
case "$cmd" in
run)
	[ $# -gt 0 ] || die "usage: pg.sh run CMD..."
	if [ -n "${DATABASE_URL:-}" ]; then
		exec "$@"
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/ccbulk-pg.XXXXXX")
	chmod 755 "$tmp"
	if [ "$(id -u)" = 0 ]; then chown postgres: "$tmp"; fi
	cleanup() { stop "$tmp/data"; rm -rf "$tmp"; }
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	start "$tmp/data" "$tmp" fast
	export DATABASE_URL; DATABASE_URL=$(url_for "$tmp")
	echo "pg.sh: throwaway PostgreSQL on $tmp" >&2
	set +e
	"$@"
	status=$?
	set -e
	exit $status
	;;
up)
	dir=${1:?usage: pg.sh up DIR}
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	# The socket path must stay short (about 100 bytes) and reachable by the
	# server's user: keep it under /tmp, named after the data directory.
	sock="/tmp/ccbulk-$(printf '%s' "$dir" | cksum | cut -d' ' -f1)"
	data="$dir/data"
	if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$dir" 2>/dev/null; then
		# The postgres user cannot reach a checkout under a private home:
		# keep the cluster beside the socket and link it here. Not
		# "$sock-data": ccbulk removes /tmp/ccbulk-NUMBER-… directories as
		# the leftovers of its own dead processes (internal/tmpdir).
		alt="$sock.data"
		mkdir -p "$alt"
		ln -sfn "$alt" "$data"
		data="$alt"
	fi
	start "$data" "$sock"
	url_for "$sock"
	;;
down)
	dir=${1:?usage: pg.sh down DIR}
	[ -e "$dir/data" ] || exit 0
	stop "$(cd "$dir" && cd data && pwd -P)"
	;;
bindir)
	bindir
	;;
*)
	die "usage: pg.sh run CMD... | up DIR | down DIR | bindir"
	;;
esac
