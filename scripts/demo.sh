#!/usr/bin/env bash
# make demo: a local PostgreSQL in .demo/, the demo organization from
# fixtures/demo, a real import with findings, its report and an export.
# Running it again starts the demo database afresh on the same cluster,
# and keeps the one it replaces (with whatever you did in it) as
# ccbulk_demo_previous, saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCBULK="$PWD/bin/ccbulk"
out=.demo/out
mkdir -p "$out"

server=$(scripts/pg.sh up .demo)
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

cat <<MSG

Done. What the demo left:
  report of the import:  $out/changes.report.csv   (fix the rows and import it again as it is)
  export of the users:   $out/acme-users.csv and $out/acme-users.xlsx
  the database:          DATABASE_URL='$DATABASE_URL'
Try it yourself (the README's "Using it" steps work as written from 'ccbulk template' on; the demo made the organization already):
  export PATH="$PWD/bin:\$PATH" DATABASE_URL='$DATABASE_URL'
  ccbulk import $out/changes.report.csv --org acme --actor jean.martin@acme.example --dry-run
  ccbulk org show acme
Stop the demo server with 'make demo-down'.
MSG
if [ -n "$kept" ]; then echo "Kept from before: $kept"; fi
