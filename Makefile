# redis_security_exporter
#
#   make build    ./redis_security_exporter with version information
#   make test     deps, gofmt, go vet, alert rule tests, go test -race, fuzz smoke
#   make demo     a deliberately weak throwaway Redis and the exporter against it
#   make help     all targets

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
# test runs its steps in order (deps first, go test output last).
.NOTPARALLEL:

GO       ?= go
BINARY   ?= redis_security_exporter
VERSION_PKG := github.com/prometheus/common/version

VERSION    := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
REVISION   := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH     := $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILD_USER := $(shell id -un 2>/dev/null || echo unknown)@$(shell uname -n 2>/dev/null || echo unknown)
BUILD_DATE := $(shell date -u +%Y%m%d-%H:%M:%S)

LDFLAGS := -X $(VERSION_PKG).Version=$(VERSION) \
	-X $(VERSION_PKG).Revision=$(REVISION) \
	-X $(VERSION_PKG).Branch=$(BRANCH) \
	-X $(VERSION_PKG).BuildUser=$(BUILD_USER) \
	-X $(VERSION_PKG).BuildDate=$(BUILD_DATE)

TEST_TIMEOUT    ?= 10m
FUZZ_SMOKE_TIME ?= 5s
FUZZTIME        ?= 60s
DOCKER          ?= docker
DOCKER_IMAGE    ?= redis_security_exporter

.PHONY: all help deps build test compat servers unit-test lint fmt-check vet alerts-test fuzz-smoke fuzz bench demo docker clean

all: lint test build

help:
	@echo "targets:"
	@echo "  build       CGO_ENABLED=0 build of ./$(BINARY) with version $(VERSION)"
	@echo "  deps        install redis-server, prometheus (promtool), alertmanager (amtool) when missing"
	@echo "  test        deps + lint + promtool rule tests + go test -race + fuzz smoke ($(FUZZ_SMOKE_TIME) per target)"
	@echo "  lint        gofmt -l and go vet"
	@echo "  servers     build Redis 8.0, Valkey 8.1 and 9.x from Debian's source packages (cached; scripts/servers.sh)"
	@echo "  compat      the live integration tests against Redis 7.0, 8.0 and Valkey 8.1, 9.x (builds them first)"
	@echo "  fuzz        every fuzz target for FUZZTIME=$(FUZZTIME)"
	@echo "  bench       go benchmarks + the exporter binary against redis-server per scenario; writes BENCHMARKS.md (BENCH_SCRAPES=1000)"
	@echo "  demo        weak throwaway Redis + exporter, prints the findings (DEMO_NO_WAIT=1 to stop right after)"
	@echo "  docker      docker build -t $(DOCKER_IMAGE):$(VERSION) ."
	@echo "  clean       remove build output"

deps:
	@bash scripts/deps.sh all

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY) .

test: deps lint alerts-test unit-test fuzz-smoke

fmt-check:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt: these files need gofmt -w:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint: fmt-check vet

# promtool check rules / test rules on alerts/, silent while there is none.
alerts-test:
	@bash scripts/check-alerts.sh

unit-test:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

# Redis 8.0 and Valkey 8.1/9.x from Debian's source packages, cached outside
# the repository (about 80 s a server on 2 cores the first time).
servers:
	@bash scripts/servers.sh build

# The live integration tests once per server (see scripts/compat.sh).
compat:
	@GO=$(GO) bash scripts/compat.sh

fuzz-smoke:
	@FUZZTIME=$(FUZZ_SMOKE_TIME) GO=$(GO) bash scripts/fuzz.sh

fuzz:
	@FUZZTIME=$(FUZZTIME) GO=$(GO) bash scripts/fuzz.sh

# Go benchmarks, then scripts/benchrun against real redis-server processes;
# writes BENCHMARKS.md (about 4 minutes).
bench: build
	@GO=$(GO) BINARY=$(BINARY) bash scripts/bench.sh

demo:
	@bash scripts/demo.sh

docker:
	$(DOCKER) build \
		--build-arg VERSION=$(VERSION) \
		--build-arg REVISION=$(REVISION) \
		--build-arg BRANCH=$(BRANCH) \
		-t $(DOCKER_IMAGE):$(VERSION) .

clean:
	rm -f $(BINARY) coverage.out
	rm -rf .build
