# The documented way to do everything. See README.md.
GO      ?= go
BIN     := bin/ccbulk
DEMO    := .demo
PKGS    := ./...

.PHONY: all build demo demo-down test unit lint fuzz bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/ccbulk

# Builds ccbulk, brings up a local PostgreSQL kept in .demo/, loads the demo
# organization from fixtures/demo, imports a sheet with mistakes, and writes
# the report and an export.
demo: build
	scripts/demo.sh

demo-down:
	scripts/pg.sh down $(DEMO)

# Every test against a real PostgreSQL: DATABASE_URL when set, otherwise a
# private throwaway cluster. scripts/test-deps.sh installs LibreOffice for
# the tests that open ccbulk's XLSX files with it (as root; else they skip).
# Each program a test runs is stopped after 4 minutes, failing that test by
# name; -timeout leaves room for that to happen before go test gives up on
# a whole package.
test: lint
	scripts/test-deps.sh
	scripts/pg.sh run $(GO) test -race -count=1 -timeout 30m $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

FUZZTIME ?= 60s
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

bench: build
	scripts/pg.sh run scripts/bench.sh

clean:
	rm -rf bin
