#!/usr/bin/env bash
# make demo: a local PostgreSQL in .demo/, the demo organization from
# fixtures/demo, a real import with findings, its report and an export.
# Running it again starts the demo database afresh on the same cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCBULK="$PWD/bin/ccbulk"
out=.demo/out
mkdir -p "$out"

server=$(scripts/pg.sh up .demo)
psql "$server" -qX -v ON_ERROR_STOP=1 -c 'DROP DATABASE IF EXISTS ccbulk_demo' -c 'CREATE DATABASE ccbulk_demo' >/dev/null
export DATABASE_URL=${server/postgres:\/\/\/postgres/postgres:\/\/\/ccbulk_demo}

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
Try it yourself:
  export DATABASE_URL='$DATABASE_URL'
  bin/ccbulk import $out/changes.report.csv --org acme --actor jean.martin@acme.example --dry-run
Stop the demo server with 'make demo-down'.
MSG
