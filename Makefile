# ShareThings build and test entry points. `make test` is what CI runs.
GO ?= go

.PHONY: run build test test-go node-deps vet fmt-check openapi openapi-test

run: ## run the server with embedded defaults (./data, :8080)
	$(GO) run ./cmd/sharethings

build: ## build the sharethings binary into ./bin
	CGO_ENABLED=1 $(GO) build -o bin/sharethings ./cmd/sharethings

test: fmt-check vet test-go openapi-test ## every test: formatting, vet, Go tests with -race, spec freshness

test-go: node-deps
	$(GO) test -race -count=1 ./...

node-deps: ## install web/'s locked npm packages (the tus end-to-end tests run tus-js-client)
	cd web && npm ci --no-audit --no-fund

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

openapi: ## regenerate openapi/swagger.json and openapi/openapi.json from the swag annotations
	cd openapi/gen && $(GO) run . -root ../..

openapi-test: ## fail if the committed specs are stale or invalid
	cd openapi/gen && $(GO) test -count=1 ./...

.PHONY: bench-events
bench-events: ## fan-out benchmark: ShareThings vs bare r3labs at 1..10000 subscribers
	$(GO) run ./cmd/sharethings-load -subscribers 1,100,1000,10000 -events 200 -interval 20ms -in-flight 1 -clients 100
