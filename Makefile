# The documented way to do everything. See README.md.
GO      ?= go
BIN     := bin/ccbulk
DEMO    := .demo
PKGS    := ./...

# The version a build reports (ccbulk --version): the nearest git tag, the
# commit, and -dirty for uncommitted changes; VERSION=v1.2.3 for a release.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/ccbulk/ccbulk/internal/version.version=$(VERSION)

.PHONY: all build man completions install dist image demo demo-down test unit lint vuln fuzz bench clean FORCE

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ccbulk

# The manual page, ccbulk(1), from the commands' help: man -l bin/ccbulk.1
man: build
	$(BIN) man > bin/ccbulk.1

completions: build
	mkdir -p bin/completion
	$(BIN) completion bash > bin/completion/ccbulk
	$(BIN) completion zsh > bin/completion/_ccbulk
	$(BIN) completion fish > bin/completion/ccbulk.fish

# Installs the binary, the manual page and the shell completions under
# PREFIX (DESTDIR for packaging).
PREFIX ?= /usr/local
DESTDIR ?=
install: build man completions
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/ccbulk
	install -m 644 bin/ccbulk.1 $(DESTDIR)$(PREFIX)/share/man/man1/ccbulk.1
	install -m 644 bin/completion/ccbulk $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ccbulk
	install -m 644 bin/completion/_ccbulk $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_ccbulk
	install -m 644 bin/completion/ccbulk.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/ccbulk.fish

# Release binaries: static (no cgo), without local paths or symbols, with
# the version; and dist/SHA256SUMS (check with: cd dist && sha256sum -c SHA256SUMS).
DIST := dist/ccbulk-linux-amd64 dist/ccbulk-linux-arm64 dist/ccbulk-darwin-arm64 dist/ccbulk-windows-amd64.exe
dist: $(DIST)
	cd dist && sha256sum $(notdir $(DIST)) > SHA256SUMS

dist/ccbulk-%: FORCE
	@mkdir -p dist
	p=$(basename $*); CGO_ENABLED=0 GOOS=$${p%-*} GOARCH=$${p#*-} \
		$(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o $@ ./cmd/ccbulk

# A minimal image (see Containerfile): FROM scratch, the static Linux
# binary, the host's CA certificates, a non-root user. PODMAN_FLAGS passes
# global options to podman (e.g. --storage-driver vfs).
ARCH   ?= $(shell $(GO) env GOARCH)
IMAGE  ?= ccbulk:$(subst +,-,$(VERSION))
PODMAN ?= podman
image: dist/ccbulk-linux-$(ARCH)
	rm -rf dist/image && mkdir -p dist/image/tmp
	cp dist/ccbulk-linux-$(ARCH) dist/image/ccbulk
	cp /etc/ssl/certs/ca-certificates.crt dist/image/
	printf 'root:x:0:0:root:/root:/sbin/nologin\nccbulk:x:65532:65532:ccbulk:/tmp:/sbin/nologin\n' > dist/image/passwd
	printf 'root:x:0:\nccbulk:x:65532:\n' > dist/image/group
	$(PODMAN) $(PODMAN_FLAGS) build --arch $(ARCH) -f Containerfile -t $(IMAGE) dist/image
	@echo "built $(IMAGE)"

# Builds ccbulk, brings up a local PostgreSQL kept in .demo/, loads the demo
# organization from fixtures/demo, imports a sheet with mistakes, writes
# the report and an export, leaves 'ccbulk serve' running in the background
# (127.0.0.1, port 8080 or the next free one; log and pid in .demo/) and
# prints a one-time sign-in link. demo-down stops the server and PostgreSQL.
demo: build
	DEMO_DIR=$(DEMO) scripts/demo.sh

demo-down:
	DEMO_DIR=$(DEMO) scripts/demo-down.sh

# Every test against a real PostgreSQL: DATABASE_URL when set, otherwise a
# private throwaway cluster. scripts/test-deps.sh installs LibreOffice for
# the tests that open ccbulk's XLSX files with it (as root; else they skip).
# Each program a test runs is stopped after 4 minutes, failing that test by
# name; -timeout leaves room for that to happen before go test gives up on
# a whole package.
test: lint
	scripts/test-deps.sh
	scripts/pg.sh run $(GO) test -race -count=1 -timeout 30m $(PKGS)

# gofmt, go vet, go mod tidy with no diff (both modules) and golangci-lint
# (.golangci.yaml), the linter pinned in tools/go.mod and built by the go
# command on first use (14 minutes with an empty build cache on two busy
# cores, then under a minute: CONTRIBUTING.md). See scripts/lint.sh.
lint:
	GO=$(GO) scripts/lint.sh

# govulncheck alone (also part of make lint), against the pinned Go
# vulnerability database, offline; see scripts/lint.sh.
vuln:
	GO=$(GO) scripts/lint.sh vuln

FUZZTIME ?= 60s
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

bench: build
	scripts/pg.sh run scripts/bench.sh

clean:
	rm -rf bin dist
