#!/usr/bin/env bash
# The static checks, each tool pinned in tools/go.mod and built by the go
# command itself (nothing is installed by hand):
#
#   scripts/lint.sh         what `make lint` (and so `make test`) runs:
#                           gofmt, go vet, go mod tidy (no diff, in both
#                           modules), golangci-lint with .golangci.yaml,
#                           govulncheck through internal/vulngate
#   scripts/lint.sh quick   gofmt and go vet only
#   scripts/lint.sh vuln    govulncheck only (`make vuln`)
#
# govulncheck runs against the Go vulnerability database of the pinned
# golang.org/x/vulndb module, indexed locally (the database's web service
# is not needed, so it runs the same without a network). Its findings go
# through internal/vulngate, which fails on a vulnerable function of a
# required module that the code calls, and only names the standard
# library's (fixed by building with a newer Go patch release, which no
# change to the code can do: they would fail every machine whose Go is not
# the newest) and the modules' that the code does not call. Build releases
# with the newest Go patch release.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

step() { printf 'lint: %s\n' "$*" >&2; }

vuln() {
	step govulncheck
	# The database: the OSV files of the pinned golang.org/x/vulndb module,
	# indexed once per version into the user's cache directory.
	local vulndb dir db
	vulndb=$($GO -C tools list -m -f '{{.Version}}' golang.org/x/vulndb)
	dir=$($GO -C tools mod download -json golang.org/x/vulndb | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	db=${XDG_CACHE_HOME:-$HOME/.cache}/ccbulk/vulndb-$vulndb
	if [ ! -s "$db/index/db.json" ]; then
		rm -rf "$db.tmp"
		$GO tool -modfile=tools/go.mod indexdb -vulns "$dir/data/osv" -out "$db.tmp"
		mv "$db.tmp" "$db"
	fi
	$GO tool -modfile=tools/go.mod govulncheck -db "file://$db" -format json ./... | $GO run ./internal/vulngate
}

case "${1:-}" in
vuln) vuln; exit ;;
quick | "") ;;
*) echo "usage: scripts/lint.sh [quick|vuln]" >&2; exit 2 ;;
esac

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

vuln
