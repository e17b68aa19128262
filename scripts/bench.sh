#!/usr/bin/env bash
# make bench: measures ccbulk against PostgreSQL's COPY, a bare excelize and
# pgloader on generated sheets, and writes docs/PERFORMANCE.md. Run it as
# 'scripts/pg.sh run scripts/bench.sh' (DATABASE_URL names the server).
# BENCH_ROWS=20000 BENCH_RUNS=1 make bench is a quick run; see
# internal/bench/main.go for every setting.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?run this through scripts/pg.sh run, or set DATABASE_URL}"

if ! command -v pgloader >/dev/null 2>&1 && [[ ",${BENCH_SKIP:-}," != *,pgloader,* ]]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "bench.sh: installing Debian's pgloader package (the peer row)" >&2
		export DEBIAN_FRONTEND=noninteractive
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends pgloader; } >&2 \
			|| echo "bench.sh: could not install pgloader; its row is skipped" >&2
	else
		echo "bench.sh: pgloader is not installed and we are not root: its row is skipped (apt-get install pgloader)" >&2
	fi
fi

go build -o bin/ccbulk ./cmd/ccbulk
mkdir -p .bench
go build -o .bench/bench ./internal/bench
# The server may run as another user (postgres, when we are root): psql and
# pgloader read the sheets as this user, but keep the tree readable anyway.
exec .bench/bench
