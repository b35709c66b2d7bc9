GO ?= go

.PHONY: run build test fuzz fmt lint bench bench-store crashtest

DATA ?= ./data
ADDR ?= 127.0.0.1:8080

# run starts the whole service in dev mode on the embedded stores.
run:
	$(GO) run ./cmd/beian serve --dev --data $(DATA) --addr $(ADDR)

build:
	$(GO) build -o bin/beian ./cmd/beian

# bench drives filing lives over GraphQL against an in-process server on a
# temporary directory for BENCH_DURATION at BENCH_RATE commands/s, then the
# raw event-store appends and a projection rebuild; it prints the table
# (docs/performance.md). BENCH_FLAGS adds flags, e.g. --json bench.json.
BENCH_RATE ?= 500
BENCH_DURATION ?= 10s
BENCH_FLAGS ?=
bench:
	$(GO) run ./cmd/beian bench --rate $(BENCH_RATE) --duration $(BENCH_DURATION) --raw-append --rebuild $(BENCH_FLAGS)

# bench-store runs the event store's Go benchmarks (appends/s with 1 and 64 writers).
bench-store:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./infra/eventstore/sqlite/

# crashtest kills the server with SIGKILL under load KILLS times (default
# 200) and checks nothing acknowledged was lost or applied twice; `make test`
# runs a short version (TestCrashShort).
KILLS ?= 200
crashtest:
	$(GO) run ./scripts/crashtest -kills $(KILLS)

# test runs every test with the race detector; it is what CI runs.
# The end-to-end package runs many servers; 30m per package leaves room on
# a slow machine (go test's default is 10m). One package at a time (-p 1):
# watermill's conformance suite waits a fixed 15 s for a consumer-group
# rebalance on the in-process Kafka, which the end-to-end package's servers
# running beside it on 2 cores could starve.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -p 1 -timeout 30m ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

# fuzz runs every fuzz target of every package, one target at a time, for
# FUZZTIME each (default 5m): `go test -fuzz` takes one target per run, so
# packages with several are run once per target. A failing target does not
# stop the others; the failures are listed at the end, and the inputs that
# failed are in the package's testdata/fuzz/<target>/ to commit as seeds.
FUZZTIME ?= 5m
fuzz:
	@failed=""; \
	for pkg in $$($(GO) list ./...); do \
	  list=$$($(GO) test -list '^Fuzz' $$pkg) || { echo "$$list"; exit 1; }; \
	  for target in $$(echo "$$list" | grep '^Fuzz'); do \
	    echo "== $$pkg $$target ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg || failed="$$failed $$pkg.$$target"; \
	  done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz failures:$$failed"; exit 1; fi
