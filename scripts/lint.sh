#!/usr/bin/env bash
# Every static check of `make lint`, each tool pinned in tools/go.mod and
# built by the go command itself (nothing is installed by hand):
#
#   gofmt, go vet, go mod tidy (no diff, in both modules),
#   golangci-lint with the linters of .golangci.yaml,
#   govulncheck against the Go vulnerability database of the pinned
#   golang.org/x/vulndb module, indexed locally (the database's web service
#   is not needed, so it runs the same without a network).
#
#   scripts/lint.sh           all of them
#   scripts/lint.sh quick     gofmt and go vet only
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

step() { printf 'lint: %s\n' "$*" >&2; }

step gofmt
out=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './tools/*'))
if [ -n "$out" ]; then echo "gofmt would change:"; echo "$out"; exit 1; fi

step "go vet"
$GO vet ./...

[ "${1:-}" = quick ] && exit 0

step "go mod tidy"
$GO mod tidy -diff
$GO -C tools mod tidy -diff

step golangci-lint
$GO tool -modfile=tools/go.mod golangci-lint run ./...

step govulncheck
# The database: the OSV files of the pinned golang.org/x/vulndb module,
# indexed once per version into the module cache's neighbour.
vulndb=$($GO -C tools list -m -f '{{.Version}}' golang.org/x/vulndb)
dir=$($GO -C tools mod download -json golang.org/x/vulndb | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
db=${XDG_CACHE_HOME:-$HOME/.cache}/ccbulk/vulndb-$vulndb
if [ ! -s "$db/index/db.json" ]; then
	rm -rf "$db.tmp"
	$GO tool -modfile=tools/go.mod indexdb -vulns "$dir/data/osv" -out "$db.tmp"
	mv "$db.tmp" "$db"
fi
$GO tool -modfile=tools/go.mod govulncheck -db "file://$db" ./...
