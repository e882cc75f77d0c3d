# Tailor. `make run` for the demo, `make test` for the whole suite; see README.md.
GO      ?= go
WASM    := web/static/tailor.wasm
BIN     := bin/tailor
DATA    ?= data
ADDR    ?= 127.0.0.1:8080
# Keep in step with e2e/host.BuildFlags: the tests build the same artifact when TAILOR_WASM is not set.
WASMFLAGS := -buildmode=c-shared -trimpath -ldflags='-s -w' -gcflags=all=-l -gcflags=internal/runtime/...=

.PHONY: all wasm dashboard build run test check bench browser-test npm

all: build

# The engine: one wasip1 module, the same bytes for browsers and for the wazero tests. The size check
# fails over the budget and writes the .br and .gz forms the server embeds and sends.
wasm:
	GOOS=wasip1 GOARCH=wasm $(GO) build $(WASMFLAGS) -o $(WASM) ./wasm
	$(GO) run ./e2e/cmd/wasmsize -write $(WASM)

# The dashboard's chart library, from npm (pinned by web/dashboard/package-lock.json), copied where
# go:embed finds it; web/static/dashboard/vendor/ is not committed.
dashboard:
	cd web/dashboard && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p web/static/dashboard/vendor
	cp web/dashboard/node_modules/chart.js/dist/chart.umd.min.js web/dashboard/node_modules/chart.js/LICENSE.md web/static/dashboard/vendor/

# The server embeds web/, so it is built after the engine and the chart library land there.
build: wasm dashboard
	$(GO) build -o $(BIN) ./server/cmd/tailor

# The operator token is made once per data folder; the dashboard asks for it.
run: build
	@mkdir -p $(DATA)
	@test -s $(DATA)/token || od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > $(DATA)/token
	@echo "Tailor demo:      http://$(ADDR)/"
	@echo "Tailor dashboard: http://$(ADDR)/dashboard  (operator token: $$(cat $(DATA)/token), kept in $(DATA)/token)"
	$(BIN) serve --addr $(ADDR) --data $(DATA) --demo --token-file $(DATA)/token

npm:
	cd e2e && npm ci --no-audit --no-fund --loglevel=error

browser-test: build npm
	cd e2e && TAILOR_BIN=$(CURDIR)/$(BIN) node --test --test-concurrency=1 browser/

test: build npm
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./wasm/... ./shared/...
	TAILOR_WASM=$(CURDIR)/$(WASM) TAILOR_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 ./...
	TAILOR_WASM=$(CURDIR)/$(WASM) TAILOR_BIN=$(CURDIR)/$(BIN) $(GO) run ./e2e/cmd/bench -short -json ""
	$(MAKE) --no-print-directory browser-test

check:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./wasm/... ./shared/...
	$(GO) mod tidy && git diff --exit-code go.mod go.sum

bench: build npm
	TAILOR_WASM=$(CURDIR)/$(WASM) TAILOR_BIN=$(CURDIR)/$(BIN) $(GO) run ./e2e/cmd/bench
