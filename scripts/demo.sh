#!/usr/bin/env bash
# make demo: a local PostgreSQL in .demo/, the demo organization from
# fixtures/demo, a real import with findings, its report and an export,
# then 'ccbulk serve' left running in the background on 127.0.0.1 (port
# 8080, or the next free one) and a one-time sign-in link for the
# organization's primary administrator. Running it again stops the
# server it started before, starts the demo database afresh on the same
# cluster, and keeps the one it replaces (with whatever you did in it) as
# ccbulk_demo_previous, saying so. 'make demo-down' (scripts/demo-down.sh)
# stops the server and the cluster.
#
#   DEMO_DIR   where the cluster, the server's log and pid are kept (default .demo)
#   DEMO_PORT  the first port tried for the server (default 8080)
set -euo pipefail
cd "$(dirname "$0")/.."
export CCBULK="$PWD/bin/ccbulk"
demo=${DEMO_DIR:-.demo}
out=$demo/out
mkdir -p "$out"

# The server of the last demo holds sessions on the database renamed below.
scripts/demo-down.sh --server-only "$demo"

server=$(scripts/pg.sh up "$demo")
demo_url() { echo "${server/postgres:\/\/\/postgres/postgres:\/\/\/$1}"; }
kept=
if [ "$(psql "$server" -qXAtc "SELECT count(*) FROM pg_database WHERE datname = 'ccbulk_demo'")" = 1 ]; then
	# What the last demo left, and what was done in it since: kept, not dropped.
	held=$(psql "$(demo_url ccbulk_demo)" -qXAtc "SELECT (SELECT count(*) FROM batches) || ' batches, ' || (SELECT count(*) FROM users) || ' users'" 2>/dev/null || echo "an older schema")
	psql "$server" -qX -v ON_ERROR_STOP=1 -c 'SET client_min_messages TO warning' -c 'DROP DATABASE IF EXISTS ccbulk_demo_previous' \
		-c 'ALTER DATABASE ccbulk_demo RENAME TO ccbulk_demo_previous' >/dev/null
	kept="the demo database you had ($held) is kept as ccbulk_demo_previous:
  DATABASE_URL='$(demo_url ccbulk_demo_previous)'"
	echo "make demo starts the demo database afresh; $kept"
fi
psql "$server" -qX -v ON_ERROR_STOP=1 -c 'CREATE DATABASE ccbulk_demo' >/dev/null
export DATABASE_URL=$(demo_url ccbulk_demo)

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
say() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }

say ccbulk migrate
"$CCBULK" migrate
say fixtures/demo/org.sh
fixtures/demo/org.sh
say ccbulk import fixtures/demo/users.csv --org acme --actor marie.dubois@acme.example
"$CCBULK" import fixtures/demo/users.csv --org acme --actor marie.dubois@acme.example

say ccbulk import fixtures/demo/changes.csv --org acme --actor jean.martin@acme.example --report $out/changes.report.csv
status=0
"$CCBULK" import fixtures/demo/changes.csv --org acme --actor jean.martin@acme.example --report "$out/changes.report.csv" || status=$?
echo "(exit code $status: 3 means done, some rows rejected)"
[ "$status" = 3 ] || { echo "demo: expected exit code 3" >&2; exit 1; }

say ccbulk export --org acme --actor jean.martin@acme.example -o $out/acme-users.csv
"$CCBULK" export --org acme --actor jean.martin@acme.example -o "$out/acme-users.csv"
"$CCBULK" export --org acme --actor jean.martin@acme.example -o "$out/acme-users.xlsx"
say ccbulk batches --org acme
"$CCBULK" batches --org acme

# The server, in the background, on the first free port from DEMO_PORT.
port=${DEMO_PORT:-8080}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 1 50); do listening "$port" || break; port=$((port + 1)); done
listening "$port" && { echo "demo: no free port from ${DEMO_PORT:-8080} to $port for ccbulk serve" >&2; exit 1; }
base=http://127.0.0.1:$port
log=$demo/serve.log
say ccbulk serve --listen 127.0.0.1:$port --base-url $base "(in the background, log in $log)"
# Its own session, its output in the log, no terminal: it outlives make
# and holds no pipe of whoever ran make demo.
setsid "$CCBULK" serve --listen "127.0.0.1:$port" --base-url "$base" </dev/null >"$log" 2>&1 &
pid=$!
echo "$pid" >"$demo/serve.pid"
for _ in $(seq 1 300); do
	listening "$port" && break
	if ! kill -0 "$pid" 2>/dev/null; then
		tail -n 20 "$log" >&2 || true
		echo "demo: ccbulk serve stopped before it listened (its log above, in $log)" >&2
		rm -f "$demo/serve.pid"
		exit 1
	fi
	sleep 0.1
done
listening "$port" || { echo "demo: ccbulk serve did not listen on $port within 30 s (log: $log)" >&2; exit 1; }
say ccbulk serve link --org acme --actor marie.dubois@acme.example --base-url $base
link=$("$CCBULK" serve link --org acme --actor marie.dubois@acme.example --base-url "$base")

cat <<MSG

Done. What the demo left:
  report of the import:  $out/changes.report.csv   (fix the rows and import it again as it is)
  export of the users:   $out/acme-users.csv and $out/acme-users.xlsx
  the database:          DATABASE_URL='$DATABASE_URL'
Try it yourself (the README's "Using it" steps work as written from 'ccbulk template' on; the demo made the organization already):
  export PATH="$PWD/bin:\$PATH" DATABASE_URL='$DATABASE_URL'
  ccbulk import $out/changes.report.csv --org acme --actor jean.martin@acme.example --dry-run
  ccbulk org show acme
The web front end runs on $base (pid $pid, log $log). Sign in as the primary administrator,
marie.dubois@acme.example, with this link (it works once, for 15 minutes):

  $link

Another link: ccbulk serve link --org acme --actor marie.dubois@acme.example --base-url $base
Stop the server and the demo's PostgreSQL with 'make demo-down'.
MSG
if [ -n "$kept" ]; then echo "Kept from before: $kept"; fi
