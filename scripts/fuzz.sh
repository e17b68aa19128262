#!/usr/bin/env bash
# Runs every fuzz target of the module for the given time each (default 60s):
#   scripts/fuzz.sh 30s
# Targets are found by name (func FuzzXxx in a _test.go file); new inputs
# that fail are written under the package's testdata/fuzz/ by go test.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-60s}
status=0
while IFS=: read -r file name; do
	pkg=./$(dirname "$file")
	echo "== $pkg $name ($time)"
	go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$time" || status=1
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | sed 's/func //' | sort)
exit $status
