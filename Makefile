# edigate — see README.md. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/edigate
FUZZTIME ?= 10s

.PHONY: help build run test unit fuzz bench lint fmt

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build bin/edigate
	$(GO) build -o $(BIN) ./gateway/cmd/edigate

run: build ## run the gateway on its defaults with the demo partners: SFTP :2222, HTTP :8080, data in ./data
	./$(BIN) serve

test: lint unit fuzz ## every test: vet and gofmt, the unit and integration tests, then each fuzz target briefly

unit: ## go test with the race detector
	$(GO) test -race -count=1 ./...

fuzz: ## run each fuzz target for $(FUZZTIME); findings stay in testdata/fuzz
	$(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME) ./translators/x12
	$(GO) test -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME) ./translators/x12
	$(GO) test -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime $(FUZZTIME) ./translators/mapping
	$(GO) test -run '^$$' -fuzz '^FuzzInbound$$' -fuzztime $(FUZZTIME) ./gateway/translate
	$(GO) test -run '^$$' -fuzz '^FuzzOutbound$$' -fuzztime $(FUZZTIME) ./gateway/translate
	for t in FuzzBERToDER FuzzDecompress FuzzDecryptEnvelope FuzzVerifyDetached FuzzMIME FuzzReadMDN FuzzServeHTTP; do \
		$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) ./gateway/as2 || exit 1; done

bench: ## benchmarks (compare runs with benchstat) and the 1 GB bounded-memory check
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./translators/x12/... | tee bench.txt
	EDIGATE_RSS_BYTES=1073741824 $(GO) test -count=1 -run TestValidateBoundedMemory -v ./translators/x12/x12gen/
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./translators/mapping/... ./gateway/translate/ ./gateway/recon/ | tee -a bench.txt
	$(GO) test -run '^$$' -bench . -benchtime 2x ./gateway/purchasing/ | tee -a bench.txt  # a full pass over 1,000,000 PO lines

lint: ## go vet and gofmt
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
