# sofpipe — make run: the main job on the bundled fixtures; make test: the tests.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
BIN       := bin/sofpipe
RUN_DIR   ?= build/run
export CGO_ENABLED := 1

.PHONY: test-faults run-unprivileged all build run test test-short test-integration fuzz bench fixtures vet fmt clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/sofpipe

# A fresh workspace with the bundled fixtures in its inbox, one batch, then the verdicts.
run: build
	rm -rf $(RUN_DIR)
	mkdir -p $(RUN_DIR)
	cp -R fixtures/sof/inbox $(RUN_DIR)/inbox
	$(BIN) run --workspace $(RUN_DIR)
	@echo
	@echo "Scale-up candidates:"
	@$(BIN) query --workspace $(RUN_DIR) --max-width 110 \
	  "SELECT project_id, band, score, reasons FROM scale_up_candidates"
	@echo
	@echo "Open the warehouse:  duckdb -readonly $(RUN_DIR)/warehouse/sof.duckdb"

test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# Fault tests: a batch meets a full disk at every step (a size-limited tmpfs; needs root,
# skipped with the reason otherwise). Not part of make test; CI runs it.
test-faults:
	$(GO) test -tags faults -count=1 -run 'TestDiskFull|TestDiskFills' -v ./pipeline/batch/

test-short:
	$(GO) test -short -count=1 ./...

# Fuzz each target for FUZZTIME (default 30s); new corpus entries land in testdata/fuzz/.
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./pipeline/csvscan -run '^$$' -fuzz '^FuzzChunker$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pipeline/csvscan -run '^$$' -fuzz '^FuzzDecoder$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pipeline/coerce -run '^$$' -fuzz '^FuzzMoney$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pipeline/coerce -run '^$$' -fuzz '^FuzzDate$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pipeline/coerce -run '^$$' -fuzz '^FuzzMoneyRounded$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pipeline/coerce -run '^$$' -fuzz '^FuzzExcelSerial$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pipeline/ingest -run '^$$' -fuzz '^FuzzHeaderSearch$$' -fuzztime $(FUZZTIME)

# Benchmarks (never part of make test). Generated CSVs and outputs go to BENCH_DIR, outside
# the git tree's tracked files; reports go to bench/results/. Each contender is timed as its
# own process; the driver waits for an otherwise idle machine before each run.
BENCH_ROWS           ?= 5000000
BENCH_ROUNDS         ?= 3
BENCH_DIR            ?= build/bench
BENCH_RSS_ROWS       ?= 1000000,5000000,20000000
BENCH_WAREHOUSE_ROWS ?= 1000000
BENCH_FULL_ROWS      ?= 1000000,5000000,20000000
BENCH_RESULTS        ?= bench/results
bench: build
	$(GO) build -o bin/duckcopy ./bench/cmd/duckcopy
	$(GO) build -o bin/ingestbench ./bench/cmd/ingestbench
	$(GO) build -o bin/duckjob ./bench/cmd/duckjob
	bin/ingestbench -mode compare -rows $(BENCH_ROWS) -rounds $(BENCH_ROUNDS) -dir $(BENCH_DIR) \
	  -report $(BENCH_RESULTS)/ingest-vs-duckdb.txt
	bin/ingestbench -mode rss -rss-rows $(BENCH_RSS_ROWS) -dir $(BENCH_DIR) -report $(BENCH_RESULTS)/ingest-rss.txt
	bin/ingestbench -mode incremental -rows $(BENCH_ROWS) -dir $(BENCH_DIR) -report $(BENCH_RESULTS)/incremental.txt
	bin/ingestbench -mode fullrun -full-rows $(BENCH_FULL_ROWS) -rounds $(BENCH_ROUNDS) -dir $(BENCH_DIR) \
	  -report $(BENCH_RESULTS)/full-run.txt
	{ bin/ingestbench -mode machine; echo "spend rows: $(BENCH_WAREHOUSE_ROWS)"; \
	  SOFPIPE_BENCH_ROWS=$(BENCH_WAREHOUSE_ROWS) $(GO) test -run '^$$' -bench . -benchtime 3x ./bench/; } \
	  | tee $(BENCH_RESULTS)/warehouse.txt

# Regenerate the bundled fixtures (deterministic: the same bytes every time).
fixtures:
	$(GO) run ./fixtures/gen -out fixtures/sof

vet:
	$(GO) vet ./...

fmt:
	gofmt -w cmd pipeline sql fixtures

clean:
	rm -rf bin build

.PHONY: check-ops soak

# Operations checks (never part of make test; CI runs them): promtool on a scrape of the
# daemon's /metrics and on a `run --metrics-file` output, systemd-analyze verify on the serve
# unit with its binary path pointed at the built binary. Installs nothing: each step is
# skipped, saying why, when its tool is absent.
OPS_DIR ?= build/check-ops
check-ops: build
	@rm -rf $(OPS_DIR) && mkdir -p $(OPS_DIR)/ws && cp -R fixtures/sof/inbox $(OPS_DIR)/ws/inbox
	$(BIN) run --workspace $(OPS_DIR)/ws --metrics-file $(OPS_DIR)/sofpipe.prom > /dev/null
	@port=$$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'); \
	printf '{"workspace": "%s", "serve": {"schedules": [], "catch_up": false, "listen": "127.0.0.1:%s", "log_format": "json"}}' \
	  "$(OPS_DIR)/ws" "$$port" > $(OPS_DIR)/serve.json; \
	$(BIN) serve --config $(OPS_DIR)/serve.json 2> $(OPS_DIR)/serve.log & pid=$$!; \
	for i in $$(seq 1 50); do curl -sf "http://127.0.0.1:$$port/metrics" > $(OPS_DIR)/scrape.prom && break; sleep 0.2; done; \
	kill -TERM $$pid; wait $$pid || { echo "check-ops: serve did not exit 0"; exit 1; }; \
	test -s $(OPS_DIR)/scrape.prom || { echo "check-ops: no scrape of /metrics"; cat $(OPS_DIR)/serve.log; exit 1; }
	@if command -v promtool > /dev/null; then \
	  echo "promtool check metrics: /metrics"; promtool check metrics < $(OPS_DIR)/scrape.prom && \
	  echo "promtool check metrics: --metrics-file"; promtool check metrics < $(OPS_DIR)/sofpipe.prom; \
	else echo "check-ops: SKIPPED promtool check metrics: promtool not installed (Debian: apt-get install prometheus)"; fi
	@if command -v systemd-analyze > /dev/null; then \
	  sed "s|/usr/local/bin/sofpipe|$(CURDIR)/$(BIN)|" deploy/systemd/sofpipe-serve.service > $(OPS_DIR)/sofpipe-serve.service && \
	  echo "systemd-analyze verify sofpipe-serve.service" && systemd-analyze verify $(OPS_DIR)/sofpipe-serve.service; \
	else echo "check-ops: SKIPPED systemd-analyze verify: systemd-analyze not installed"; fi

# A soak of the daemon (never part of make test): SOAK_BATCHES scheduled batches at one a
# second, a new file before every SOAK_EVERY-th; RSS and open fds after the 10th and the
# last must be within 10%. Report: bench/results/soak.txt.
SOAK_BATCHES ?= 300
SOAK_EVERY   ?= 30
soak: build
	$(GO) build -o bin/soak ./bench/cmd/soak
	bin/soak -bin $(BIN) -batches $(SOAK_BATCHES) -every $(SOAK_EVERY) -dir build/soak -report $(BENCH_RESULTS)/soak.txt

# make run's flow as an unprivileged service user, as a real server runs sofpipe (CI runs it
# as root, which hides permission faults): a workspace owned by RUN_USER, the fixtures
# delivered into it, one batch, and a query, all through setpriv. Needs root; skipped with
# the reason otherwise.
RUN_USER ?= nobody
run-unprivileged: build
	@if [ "$$(id -u)" != 0 ]; then echo "run-unprivileged: SKIPPED: needs root to switch to $(RUN_USER) (you are already unprivileged: use make run)"; exit 0; fi; \
	set -e; top=$$(mktemp -d); trap 'rm -rf "$$top"' EXIT; chmod 755 "$$top"; \
	cp $(BIN) "$$top/sofpipe"; mkdir "$$top/ws"; cp -R fixtures/sof/inbox "$$top/ws/inbox"; \
	chown -R $(RUN_USER): "$$top/ws"; \
	as_user="setpriv --reuid=$(RUN_USER) --regid=$$(id -g $(RUN_USER)) --clear-groups"; \
	cd "$$top"; \
	$$as_user ./sofpipe run --workspace ws; \
	$$as_user ./sofpipe query --workspace ws --max-width 110 "SELECT project_id, band, score FROM scale_up_candidates"; \
	test -s ws/exports/scale_up_candidates.parquet; \
	echo "run-unprivileged: published as $(RUN_USER)"

.PHONY: report-check

# The report in a real browser (never part of make test; CI runs it): Debian's chromium is
# installed when missing (as root, with apt-get; otherwise the check is skipped, saying
# why), the fixtures are run through a batch, and tools/reportcheck opens the published
# page headless over the DevTools protocol. It fails on a console error or exception, on
# any network request (the page must be self-contained), on a chart with nothing drawn or
# a fill with no pattern, and leaves a PNG screenshot and an A4 PDF in REPORT_DIR.
REPORT_DIR ?= build/report-check
CHROMIUM   ?= chromium
report-check: build
	@if ! command -v $(CHROMIUM) > /dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null 2>&1; then \
	    echo "report-check: installing Debian's chromium"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null || exit 1; \
	  else \
	    echo "report-check: SKIPPED: $(CHROMIUM) is not installed, and installing it needs root and apt-get (apt-get install chromium)"; exit 0; \
	  fi; \
	fi; \
	set -e; rm -rf $(REPORT_DIR); mkdir -p $(REPORT_DIR)/ws; cp -R fixtures/sof/inbox $(REPORT_DIR)/ws/inbox; \
	$(BIN) run --workspace $(REPORT_DIR)/ws > /dev/null; \
	(cd tools/reportcheck && $(GO) build -o $(CURDIR)/bin/reportcheck .); \
	bin/reportcheck -chrome "$$(command -v $(CHROMIUM))" -page $(REPORT_DIR)/ws/reports/latest/index.html \
	  -png $(REPORT_DIR)/report.png -pdf $(REPORT_DIR)/report.pdf; \
	test -s $(REPORT_DIR)/report.png && test -s $(REPORT_DIR)/report.pdf; \
	echo "report-check: $(REPORT_DIR)/report.png, $(REPORT_DIR)/report.pdf"
