#!/usr/bin/env bash
# make fuzz: run every fuzz target of ccbulk for FUZZTIME each (default 60s).
#
#   scripts/fuzz.sh [FUZZTIME] [PATTERN]
#
# FUZZTIME is a go test -fuzztime value (60s, 5m, or 100000x). PATTERN, when
# given, runs only the targets whose name matches it (a regular expression).
# FUZZPARALLEL sets the number of fuzzing workers (default: GOMAXPROCS).
# FUZZMINIMIZETIME bounds the minimizing of each new input (default 10s; go
# test's own 60s stalls the XLSX targets, whose inputs are whole workbooks).
# A crasher is saved under PKG/testdata/fuzz/TARGET/ by go test: commit it
# with the fix, and 'make test' keeps replaying it as a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-60s}
pattern=${2:-.}
GO=${GO:-go}
parallel=()
if [ -n "${FUZZPARALLEL:-}" ]; then parallel=(-parallel "$FUZZPARALLEL"); fi
minimize=${FUZZMINIMIZETIME:-10s}

failed=()
for pkg in $($GO list ./...); do
	targets=$($GO test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
	for target in $targets; do
		[[ $target =~ $pattern ]] || continue
		echo "== $pkg $target ($fuzztime)"
		if ! $GO test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "${parallel[@]}" "$pkg"; then
			failed+=("$pkg $target")
		fi
	done
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: failures (the crashing inputs are under testdata/fuzz/ of each package):" >&2
	printf '  %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "fuzz: every target ran for $fuzztime without a failure"
