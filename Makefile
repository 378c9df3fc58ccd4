# ImageEditApi tasks. `make help` lists them; every target a person runs has a `## comment`.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The toolchain lives at /opt/swift on the project's machines; use it when swift is not on PATH.
ifeq ($(shell command -v swift 2>/dev/null),)
export PATH := /opt/swift/usr/bin:$(PATH)
endif

PYTHON      ?= python3
# Builds share one machine: every `swift build` waits its turn on this lock.
SWIFT_LOCK  ?= /tmp/swiftbuild.lock
SWIFT_BUILD := flock $(SWIFT_LOCK) swift build
# The executable the interop suite starts (Tests/interop/conftest.py reads RPC_INTEROP).
RPC_INTEROP ?= $(CURDIR)/.build/debug/rpc-interop
# The service executable the interop suite starts (Tests/interop reads IMAGEEDIT).
IMAGEEDIT   ?= $(CURDIR)/.build/debug/imageedit
PYTEST_ARGS ?=
# The local S3 (moto) the Swift tests use; scripts/moto.sh prints TEST_S3_* for swift test.
MOTO_PORT   ?= 54340

export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help deps build test test-swift test-interop schemathesis generate openapi run bench fuzz clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "; print "usage: make <target>\n"} /^[a-zA-Z_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Install missing system and Python packages (scripts/install-deps.sh; quick when done)
	@bash scripts/install-deps.sh

build: deps ## Build everything (debug), tests included
	$(SWIFT_BUILD) --build-tests

test: deps ## Everything CI runs: build, start PostgreSQL and a local S3 (moto), Swift tests, the Python interop suite, schemathesis, stop
	@failed=""; \
	$(MAKE) --no-print-directory build || { echo "make test: build failed" >&2; exit 1; }; \
	trap 'bash scripts/pg.sh stop pg-test; bash scripts/moto.sh stop' EXIT; \
	bash scripts/pg.sh start pg-test >/dev/null || { echo "make test: could not start PostgreSQL" >&2; exit 1; }; \
	bash scripts/moto.sh start $(MOTO_PORT) >/dev/null || { echo "make test: could not start moto (S3)" >&2; exit 1; }; \
	$(MAKE) --no-print-directory test-swift SKIP_BUILD=1 || failed="$$failed test-swift"; \
	$(MAKE) --no-print-directory test-interop SKIP_BUILD=1 || failed="$$failed test-interop"; \
	$(MAKE) --no-print-directory schemathesis SKIP_BUILD=1 || failed="$$failed schemathesis"; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed" >&2; exit 1; fi; \
	echo "make test: all parts passed"

# Tests run one at a time (--no-parallel, about a minute): several of them check that a deadline
# cut a slow call short, and on a 2-core machine CPU-heavy tests running beside them would starve
# the clock they measure.
test-swift: ## Swift unit, loopback, PostgreSQL and S3 tests (swift test; starts the test database and moto, leaves them running)
ifndef SKIP_BUILD
	$(SWIFT_BUILD) --build-tests
endif
	database_url=$$(bash scripts/pg.sh start pg-test); s3_variables=$$(bash scripts/moto.sh start $(MOTO_PORT)); \
	env TEST_DATABASE_URL="$$database_url" $$s3_variables swift test --skip-build --no-parallel

test-interop: ## Interop with stock gRPC both ways, and grpcio against auth, storage and edit (pytest Tests/interop; starts the test database)
ifndef SKIP_BUILD
	@bash scripts/install-deps.sh
	$(SWIFT_BUILD) --product rpc-interop
	$(SWIFT_BUILD) --product imageedit
endif
	TEST_DATABASE_URL=$$(bash scripts/pg.sh start pg-test) RPC_INTEROP=$(RPC_INTEROP) IMAGEEDIT=$(IMAGEEDIT) \
		$(PYTHON) -m pytest Tests/interop -p no:cacheprovider -ra $(PYTEST_ARGS)

schemathesis: ## The live gateway against its OpenAPI document (scripts/schemathesis.sh; starts and stops its own PostgreSQL and services)
ifndef SKIP_BUILD
	@bash scripts/install-deps.sh
	$(SWIFT_BUILD) --product imageedit
endif
	IMAGEEDIT=$(IMAGEEDIT) bash scripts/schemathesis.sh

openapi: ## Re-embed Sources/Gateway/OpenAPI/openapi.yaml after editing it (scripts/gen-openapi.py)
	$(PYTHON) scripts/gen-openapi.py

generate: ## Regenerate Swift code from proto/ (scripts/generate.sh)
	@if [ -f scripts/generate.sh ]; then bash scripts/generate.sh; \
	else echo "generate: scripts/generate.sh is not here yet (it comes with the protobuf codec)" >&2; exit 1; fi

run: ## Install, build, start PostgreSQL and the four services; the gateway answers on :8000 (Ctrl-C stops all)
	@bash scripts/run.sh

bench: ## RPC benchmarks (Benchmarks/rpc-bench.sh)
	@if [ -f Benchmarks/rpc-bench.sh ]; then bash Benchmarks/rpc-bench.sh; \
	else echo "bench: Benchmarks/rpc-bench.sh is not here yet" >&2; exit 1; fi

fuzz: ## Fuzz the decoders (scripts/fuzz.sh, when it exists)
	@if [ -f scripts/fuzz.sh ]; then bash scripts/fuzz.sh; \
	else echo "fuzz: no fuzz targets yet (scripts/fuzz.sh does not exist); nothing was fuzzed" >&2; exit 1; fi

clean: ## Remove build products (.build*) and Python caches; keeps .data/
	rm -rf .build .build-* .build_* .swiftpm
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
