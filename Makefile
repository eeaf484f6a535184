# ShareThings build and test entry points. `make test` is what CI runs.
GO ?= go

.PHONY: run build test test-go test-postgres test-web node-deps vet fmt-check openapi openapi-test web web-fresh

run: ## run the server with embedded defaults (./data, :8080)
	$(GO) run ./cmd/sharethings

build: ## build the sharethings binary into ./bin
	CGO_ENABLED=1 $(GO) build -o bin/sharethings ./cmd/sharethings

test: fmt-check vet test-web web-fresh test-go openapi-test ## every test: formatting, vet, web unit tests, build freshness, Go tests with -race (browser end-to-end included), spec freshness

test-go: node-deps
	$(GO) test -race -count=1 ./...

test-postgres: node-deps ## the server's whole test suite again, every in-process server on PostgreSQL (storage's suite runs on both in test-go)
	SHARETHINGS_TEST_ENGINE=postgres $(GO) test -race -count=1 ./cmd/sharethings

node-deps: ## install web/'s locked npm packages (the app's build and tests, and the Node clients the Go end-to-end tests run)
	cd web && npm ci --no-audit --no-fund

web: node-deps ## rebuild the browser app into web/dist (committed, embedded into the binary) and its API types from openapi/openapi.json
	cd web && npm run gen:api && npm run build

test-web: node-deps ## the web app's type check and unit tests (Vitest)
	cd web && npm run typecheck && npm test

web-fresh: node-deps ## fail if web/dist or the generated API types are not what the sources build
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && cd web && \
	npx openapi-typescript ../openapi/openapi.json -o $$tmp/schema.d.ts >/dev/null && \
	cmp -s $$tmp/schema.d.ts src/api/schema.d.ts || { echo "web/src/api/schema.d.ts is stale: run make web"; exit 1; }; \
	npx vite build --logLevel warn --outDir $$tmp/dist --emptyOutDir && \
	diff -r $$tmp/dist dist >/dev/null || { echo "web/dist is stale: run make web and commit web/dist"; exit 1; }

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

openapi: ## regenerate openapi/swagger.json and openapi/openapi.json from the swag annotations
	cd openapi/gen && $(GO) run . -root ../..

openapi-test: ## fail if the committed specs are stale or invalid
	cd openapi/gen && $(GO) test -count=1 ./...

FUZZTIME ?= 1m
FUZZPKGS ?= ./api ./api/e2ee ./api/client ./handlers ./sse ./storage
SOAK ?= 60s
LOAD ?= 60s

.PHONY: fuzz soak load
fuzz: ## run every fuzz target for FUZZTIME each (default 1m; go test -fuzz takes one target at a time)
	@# A failure counts when go test wrote a failing input into testdata/fuzz: Go 1.26's fuzz
	@# coordinator may also report a bare "context deadline exceeded" as the time runs out
	@# (golang/go#75804, fixed in Go 1.27), which is no finding.
	@failed=; for pkg in $(FUZZPKGS); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$t ($(FUZZTIME))"; \
			corpus=$$pkg/testdata/fuzz/$$t; before=$$(ls $$corpus 2>/dev/null | wc -l); \
			if ! $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$pkg; then \
				if [ $$(ls $$corpus 2>/dev/null | wc -l) -gt $$before ]; then failed="$$failed $$pkg:$$t"; \
				else echo "(no failing input written: the Go 1.26 fuzz deadline race, golang/go#75804)"; fi; \
			fi; \
		done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz failures:$$failed"; exit 1; fi

soak: ## crash-and-restart soak of the real binary for SOAK (default 60s): SIGKILLs under uploads and streams
	SHARETHINGS_SOAK=$(SOAK) $(GO) test -count=1 -run '^TestCrashRestartSoak$$' -timeout 30m -v ./cmd/sharethings

load: ## TestConcurrentLoad for LOAD (default 60s) instead of the 8 s it runs in make test
	SHARETHINGS_LOAD=$(LOAD) $(GO) test -race -count=1 -run '^TestConcurrentLoad$$' -timeout 30m -v ./cmd/sharethings

.PHONY: bench-events
bench-events: ## fan-out benchmark: ShareThings vs bare r3labs at 1..10000 subscribers
	$(GO) run ./cmd/sharethings-load -subscribers 1,100,1000,10000 -events 200 -interval 20ms -in-flight 1 -clients 100
