#!/usr/bin/env bash
# Runs every fuzz target of the module for the given time each (default 60s):
#   scripts/fuzz.sh 30s
#   scripts/fuzz.sh 5m 'FuzzXLSX'    only the targets whose name matches
# Targets are found by name (func FuzzXxx in a _test.go file); new inputs
# that fail are written under the package's testdata/fuzz/ by go test:
# commit them with the fix, and 'make test' replays them as regression tests.
# FUZZPARALLEL sets the number of fuzzing workers (default: GOMAXPROCS).
# FUZZMINIMIZETIME bounds the minimizing of each new input (default 10s; go
# test's own 60s stalls the XLSX targets, whose inputs are whole workbooks).
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-60s}
pattern=${2:-.}
flags=(-fuzzminimizetime "${FUZZMINIMIZETIME:-10s}")
if [ -n "${FUZZPARALLEL:-}" ]; then flags+=(-parallel "$FUZZPARALLEL"); fi
status=0
while IFS=: read -r file name; do
	[[ $name =~ $pattern ]] || continue
	pkg=./$(dirname "$file")
	echo "== $pkg $name ($time)"
	go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$time" "${flags[@]}" || status=1
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | sed 's/func //' | sort)
exit $status
