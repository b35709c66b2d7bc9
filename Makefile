GO ?= go

.PHONY: run build test fuzz fmt lint bench crashtest

DATA ?= ./data
ADDR ?= 127.0.0.1:8080

# run starts the whole service in dev mode on the embedded stores.
run:
	$(GO) run ./cmd/beian serve --dev --data $(DATA) --addr $(ADDR)

build:
	$(GO) build -o bin/beian ./cmd/beian

# bench runs the event store benchmarks (appends/s with 1 and 64 writers).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./infra/eventstore/sqlite/

# crashtest kills the server with SIGKILL under load KILLS times (default
# 200) and checks nothing acknowledged was lost or applied twice; `make test`
# runs a short version (TestCrashShort).
KILLS ?= 200
crashtest:
	$(GO) run ./scripts/crashtest -kills $(KILLS)

# test runs every test with the race detector; it is what CI runs.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

# fuzz runs every fuzz target for FUZZTIME each (default 60s).
FUZZTIME ?= 60s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done
