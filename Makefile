# customer-portfolio — `make help` lists the targets.
#
# Everything runs from the project's own pinned, locked dependencies:
# `make setup` bootstraps uv (pinned) into .tools/ and syncs .venv from uv.lock.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON_BOOTSTRAP ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

export DBT_PROFILES_DIR := $(CURDIR)/profiles
export DBT_PROJECT_DIR := $(CURDIR)
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON_DOWNLOADS := never
export PORTFOLIO_LANDING_DIR ?= $(CURDIR)/data/landing
export PORTFOLIO_WAREHOUSE ?= $(CURDIR)/warehouse/portfolio.duckdb

# Dagster (orchestration/README.md): instance folder, and the dbt manifest it loads,
# re-parsed whenever a dbt file changes. The code location is [tool.dagster] in pyproject.toml.
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export PORTFOLIO_DAGSTER_TARGET_DIR ?= $(CURDIR)/target/dagster
DAGSTER := $(BIN)/dagster
DAGSTER_MANIFEST := $(PORTFOLIO_DAGSTER_TARGET_DIR)/manifest.json
DBT_INPUTS := dbt_project.yml packages.yml profiles/profiles.yml \
	$(shell find models macros seeds tests/dbt 2>/dev/null)
DAGSTER_READY := setup $(DAGSTER_HOME)/dagster.yaml $(DAGSTER_MANIFEST)

# Apache Spark (README, "Apache Spark"): the `spark` dbt target runs a local PySpark, installed into
# .venv by `make setup-spark` (the lock's optional group `spark`; Java 17). Its Parquet tables
# and metastore live in PORTFOLIO_SPARK_DIR.
export PORTFOLIO_SPARK_DIR ?= $(CURDIR)/warehouse/spark
export SPARK_LOCAL_IP ?= 127.0.0.1
SPARK_BUILD_DIR := $(CURDIR)/target/spark-build

# Demo data: `make run DEMO_CUSTOMERS=1000 DEMO_MONTHS=24`. The demo ends at a fixed month, so
# its figures are the same whatever day it is built; the build takes its months from the data.
DEMO_CUSTOMERS ?= 300
DEMO_MONTHS ?= 36
DEMO_END_MONTH ?= 2026-10
DEMO_SEED ?= 42
DEMO_FORMAT ?= csv
DOCS_PORT ?= 8080

# pytest workers (pytest-xdist): the end-to-end tests spend most of their time in dbt and
# Dagster subprocesses, whose start-up and file writes leave a core idle now and then; three
# workers on two cores ran `make test` in 496 s against 563 s with two (fresh clones, one
# after the other, 2026-11-30). PYTEST_WORKERS=0 runs in one process. With --dist loadfile,
# xdist hands out whole modules, those with most tests first; keeping the collection order
# instead (--no-loadscope-reorder, the long few-test modules first) ran slower: 12 min 18 s
# against 11 min 12 s (fresh clones, 2026-12-01), three dbt builds at once on two cores.
PYTEST_WORKERS ?= 3

# Scratch space of `make test` and `make test-fast` (ignored by git).
TEST_DIR := $(CURDIR)/target/make-test
FAST_DIR := $(CURDIR)/target/make-test-fast

.PHONY: help setup demo-data load build month run summary test test-fast lint lint-sql lint-python \
	dbt-test dbt-unit-test pytest unit-test format docs docs-serve clean dev validate clean-runs bench \
	report browser setup-spark build-spark test-spark bench-spark

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON_BOOTSTRAP) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: every dbt, Dagster and pytest process imports ~1,300 modules; without
# .pyc files (PYTHONDONTWRITEBYTECODE, or a read-only environment) each process compiles them
# again: a dbt build of the 42 models and 2 seeds on 40 customers took 10.6 s, 7.3 s with them
# (2026-11-30). Compiling once at install takes ~16 s.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock packages.yml
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON_BOOTSTRAP)
	$(BIN)/dbt deps --quiet
	touch $@

setup: $(VENV)/.synced ## Create .venv from the lock file and install dbt packages (idempotent)

# PySpark and dbt-spark join the same environment; `make setup` after a lock change syncs it
# back without them, and this target adds them again.
$(VENV)/.synced-spark: $(VENV)/.synced
	$(UV) sync --frozen --compile-bytecode --group spark --python $(PYTHON_BOOTSTRAP)
	touch $@

setup-spark: $(VENV)/.synced-spark ## Add PySpark and dbt-spark (the lock's group spark) to .venv

demo-data: setup ## Generate the demo landing files into $PORTFOLIO_LANDING_DIR
	$(PY) -m orchestration.demo --customers $(DEMO_CUSTOMERS) --months $(DEMO_MONTHS) \
		--end-month $(DEMO_END_MONTH) --seed $(DEMO_SEED) --format $(DEMO_FORMAT) \
		--output $(PORTFOLIO_LANDING_DIR)

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	@mkdir -p $(@D) && cp $< $@

$(DAGSTER_MANIFEST): $(VENV)/.synced $(DBT_INPUTS)
	@echo "==> dbt parse: manifest for Dagster in $(@D)"
	@$(BIN)/dbt parse --quiet --target-path $(@D) --log-path $(@D)

load: $(DAGSTER_READY) ## Load $PORTFOLIO_LANDING_DIR into the warehouse (Dagster run, landing only)
	$(PY) -m orchestration.commands.run --select group:landing

build: $(DAGSTER_READY) ## Full build of every month of the exports into $PORTFOLIO_WAREHOUSE
	$(PY) -m orchestration.commands.run --all-months --full-refresh

month: $(DAGSTER_READY) ## One month-end run: MONTH=YYYY-MM, default the latest closed month in the data
	$(PY) -m orchestration.commands.run $(if $(MONTH),--month $(MONTH))

clean-runs: setup $(DAGSTER_HOME)/dagster.yaml ## Remove the candidates of dead or failed runs; mark dead runs failed
	$(PY) -m orchestration.commands.run --clean-only

dev: $(DAGSTER_READY) ## Dagster UI and daemon (schedule, sensor, backfills) on localhost:3000
	PATH="$(CURDIR)/$(BIN):$$PATH" $(DAGSTER) dev

validate: $(DAGSTER_READY) ## Check that the Dagster definitions load (dagster definitions validate)
	$(DAGSTER) definitions validate

summary: setup ## Print the warehouse location and the latest month's headline figures
	$(PY) -m orchestration.commands.summary

run: demo-data build summary ## The main job: demo data, full build, summary

lint-sql: setup ## sqlfluff on models and singular tests
	$(BIN)/sqlfluff lint models tests/dbt --disable-progress-bar --processes 2

lint-python: setup ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lint: lint-sql lint-python ## All linters

dbt-test: setup ## dbt build (models, data tests, unit tests, contracts) on generated data
	rm -rf $(TEST_DIR) && mkdir -p $(TEST_DIR)
	$(PY) -m orchestration.demo --customers 300 --months 36 --seed 7 \
		--output $(TEST_DIR)/landing --quiet
	PORTFOLIO_WAREHOUSE=$(TEST_DIR)/portfolio.duckdb \
		$(PY) -m orchestration.landing load --landing-dir $(TEST_DIR)/landing
	PORTFOLIO_WAREHOUSE=$(TEST_DIR)/portfolio.duckdb \
		$(BIN)/dbt build --target-path $(TEST_DIR)/dbt-target

dbt-unit-test: setup ## dbt unit tests and contracts on empty models (dbt build --empty, no data tests)
	@# The dbt target folder is kept between runs, so dbt re-parses only what changed.
	rm -rf $(FAST_DIR)/landing $(FAST_DIR)/portfolio.duckdb && mkdir -p $(FAST_DIR)
	$(PY) -m orchestration.demo --customers 20 --months 13 --seed 7 \
		--output $(FAST_DIR)/landing --quiet > /dev/null
	PORTFOLIO_WAREHOUSE=$(FAST_DIR)/portfolio.duckdb \
		$(PY) -m orchestration.landing load --landing-dir $(FAST_DIR)/landing > /dev/null
	PORTFOLIO_WAREHOUSE=$(FAST_DIR)/portfolio.duckdb \
		$(BIN)/dbt build --empty --exclude test_type:data --target-path $(FAST_DIR)/dbt-target

unit-test: setup ## pytest on tests/unit only (pure Python: scoring maths, contract, months, layout)
	@# Two workers: the unit tests use the CPU throughout, a third would only add imports.
	$(BIN)/pytest tests/unit -n 2 --dist loadfile -q

test-fast: lint unit-test dbt-unit-test ## The fast lane (under 2 minutes): linters, Python unit tests, dbt unit tests

pytest: setup ## pytest: unit, orchestration and end-to-end tests
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=15

test: setup browser ## Everything CI checks: linters, dbt unit tests and contracts, pytest (data tests in e2e)
	@# sqlfluff beside the dbt unit tests (each part's output printed whole when it ends),
	@# then pytest, whose end-to-end builds run every data test on generated and broken data.
	$(MAKE) --no-print-directory -j2 --output-sync=target lint-sql lint-python dbt-unit-test
	$(MAKE) --no-print-directory pytest

build-spark: setup-spark ## Generated portfolio (DEMO_CUSTOMERS, DEMO_MONTHS) built on local Spark
	rm -rf $(SPARK_BUILD_DIR) && mkdir -p $(SPARK_BUILD_DIR)
	$(PY) -m orchestration.demo --customers $(DEMO_CUSTOMERS) --months $(DEMO_MONTHS) \
		--end-month $(DEMO_END_MONTH) --seed $(DEMO_SEED) --output $(SPARK_BUILD_DIR)/landing
	PORTFOLIO_DBT_TARGET=spark $(PY) -m orchestration.landing load --engine spark \
		--landing-dir $(SPARK_BUILD_DIR)/landing
	PORTFOLIO_DBT_TARGET=spark $(BIN)/dbt build --full-refresh \
		--target-path $(SPARK_BUILD_DIR)/dbt-target --log-path $(SPARK_BUILD_DIR)/dbt-logs

test-spark: setup-spark ## The same generated portfolio on DuckDB and on Spark: every mart equal
	$(BIN)/pytest tests/spark -p no:xdist -q --durations=5

bench-spark: setup-spark ## DuckDB vs local Spark: load and dbt build per size (BENCH_SIZES, default "10000 100000")
	$(PY) -m orchestration.benchmark.engines --sizes $(or $(BENCH_SIZES),10000 100000) --reuse-landing

format: setup ## Format Python (ruff) and fix SQL (sqlfluff)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/sqlfluff fix models tests/dbt --disable-progress-bar

# The month-end report (orchestration/reports): REPORT_MONTH=YYYY-MM, default the latest
# as_of_month of the served warehouse; written to $PORTFOLIO_REPORT_DIR (default reports/).
report: setup ## Month-end HTML report of $PORTFOLIO_WAREHOUSE (REPORT_MONTH=YYYY-MM, default the latest month)
	$(PY) -m orchestration.reports $(if $(REPORT_MONTH),--month $(REPORT_MONTH))

# Headless Chromium, driven by Selenium through its driver, renders the report in
# tests/orchestration/test_month_end_report.py. Debian's packages (the driver matches the
# browser's version), installed only when missing; the package lists are refreshed only when
# the install fails without them (a fresh image has none, or stale ones).
APT_GET := $(if $(filter 0,$(shell id -u)),,sudo )apt-get
BROWSER_PACKAGES := chromium chromium-driver
browser: ## Install Debian's chromium and chromium-driver (apt-get) when missing; make test needs them
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 \
		&& { echo "chromium: $$(chromium --version)"; exit 0; }; \
	export DEBIAN_FRONTEND=noninteractive; \
	$(APT_GET) install -y -q --no-install-recommends $(BROWSER_PACKAGES) \
		|| { $(APT_GET) update -q \
			&& $(APT_GET) install -y -q --no-install-recommends $(BROWSER_PACKAGES); }

DOCS_DIR := $(CURDIR)/target/docs

docs: setup ## dbt docs site of the served warehouse into target/docs (reads it read-only, builds nothing)
	@test -f "$(PORTFOLIO_WAREHOUSE)" || { echo "no served warehouse at $(PORTFOLIO_WAREHOUSE): run make run or make build first" >&2; exit 1; }
	$(BIN)/dbt docs generate --target served --target-path $(DOCS_DIR)

docs-serve: docs ## Serve the docs site on http://localhost:$(DOCS_PORT) (DOCS_PORT, default 8080)
	$(BIN)/dbt docs serve --target served --target-path $(DOCS_DIR) --port $(DOCS_PORT) --no-browser

# The semantic layer (models/semantic) through MetricFlow's `mf`, against the served warehouse
# read-only (target `served`, as make docs): `make metrics QUERY='--metrics mrr,nrr --group-by
# metric_time__month'`. mf reads only target/semantic_manifest.json: dbt parses in a folder of
# its own (its partial parse kept there) and the semantic manifest is copied. mf asks PyPI for a
# newer version at every start and has no switch for it: a closed port as the proxy makes that
# check fail at once, so nothing leaves the machine (DO_NOT_TRACK for dbt).
QUERY ?= --metrics mrr,arr,nrr,grr --group-by metric_time__month --order metric_time__month
METRICS_DIR := $(CURDIR)/target/metrics
.PHONY: metrics
metrics: setup ## MetricFlow query of the served warehouse, read-only (QUERY='--metrics mrr --group-by metric_time__month')
	@test -f "$(PORTFOLIO_WAREHOUSE)" || { echo "no served warehouse at $(PORTFOLIO_WAREHOUSE): run make run or make build first" >&2; exit 1; }
	$(BIN)/dbt parse --quiet --target served --target-path $(METRICS_DIR) --log-path $(METRICS_DIR)
	cp $(METRICS_DIR)/semantic_manifest.json target/semantic_manifest.json
	PORTFOLIO_DBT_TARGET=served DO_NOT_TRACK=1 HTTPS_PROXY=http://127.0.0.1:9 \
		HTTP_PROXY=http://127.0.0.1:9 NO_PROXY= $(BIN)/mf query $(QUERY)

# Superset (superset/README.md) in an environment of its own, from superset/uv.lock (its pins
# never meet the warehouse's); metadata DB and secret key in $SUPERSET_HOME (.superset/home).
# The dashboard reads $PORTFOLIO_WAREHOUSE read-only, a new connection per query.
SUPERSET_VENV := $(CURDIR)/.superset/venv
SUPERSET_PORT ?= 8088

.PHONY: superset superset-setup

# --compile-bytecode: 27 s once at install; each Superset process then starts in ~6 s instead of
# ~14 s where .pyc files are not written (PYTHONDONTWRITEBYTECODE), as setup and the server do.
$(SUPERSET_VENV)/.synced: $(UV) superset/pyproject.toml superset/uv.lock
	UV_PROJECT_ENVIRONMENT=$(SUPERSET_VENV) $(UV) sync --frozen --compile-bytecode \
		--project superset --python $(PYTHON_BOOTSTRAP) --quiet
	touch $@

superset-setup: $(SUPERSET_VENV)/.synced ## Superset's environment, metadata DB, admin user and dashboard (no server)
	$(SUPERSET_VENV)/bin/python superset/manage.py setup

superset: superset-setup ## Superset on http://127.0.0.1:$(SUPERSET_PORT) with the portfolio dashboard (SUPERSET_PORT, default 8088)
	$(SUPERSET_VENV)/bin/python superset/manage.py serve --port $(SUPERSET_PORT)

bench: setup ## Benchmark: full build, one-month run and plain SQL per size (BENCH_SIZES="10000", BENCH_FORMAT=csv|parquet)
	$(PY) -m orchestration.benchmark --sizes $(or $(BENCH_SIZES),10000 30000 100000) \
		--format $(or $(BENCH_FORMAT),csv)

clean: ## Remove build artefacts (not the virtualenv)
	rm -rf target logs dbt_packages warehouse
