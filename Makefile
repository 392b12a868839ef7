# madlake — `make help` lists the targets. On a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The venv is rebuilt only when one of these changes.
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt constraints.txt pyproject.toml | sha1sum | cut -c1-12)
PORT ?= 8080
# The API server listens here; `make airflow HOST=0.0.0.0` to serve other machines.
HOST ?= 127.0.0.1

.PHONY: help venv demo test test-unit test-dags test-integration lint bench airflow clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP) ## create .venv and install everything (reused while the requirements are unchanged)

demo: venv ## run the whole pipeline on the local profile (recorded data) and print where the results are
	$(BIN)/madlake demo

test: venv ## run every test tier: unit, dags (import + policy), integration (local services)
	$(BIN)/python -m pytest tests -p no:cacheprovider

test-unit: venv ## unit tests only
	$(BIN)/python -m pytest tests/unit -p no:cacheprovider

test-dags: venv ## DAG import and policy tests only
	$(BIN)/python -m pytest tests/dags -p no:cacheprovider

test-integration: venv ## integration tests only (moto server, replay servers, Airflow dag.test)
	$(BIN)/python -m pytest tests/integration -p no:cacheprovider

lint: venv ## ruff (lint + format check) and mypy
	$(BIN)/ruff check include dags tests bench
	$(BIN)/ruff format --check include dags tests bench
	$(BIN)/mypy

bench: venv ## benchmarks: print figures and ratios against baselines measured in the same run
	$(BIN)/python -m bench

airflow: venv ## Airflow UI locally: pools/connections set up, `airflow standalone` on http://$(HOST):$(PORT) (Ctrl-C stops it)
	@mkdir -p .madlake/airflow-standalone
	@export PATH="$(CURDIR)/$(BIN):$$PATH" \
	AIRFLOW_HOME="$(CURDIR)/.madlake/airflow-standalone" \
	AIRFLOW__CORE__DAGS_FOLDER="$(CURDIR)/dags" \
	AIRFLOW__CORE__LOAD_EXAMPLES=False \
	AIRFLOW__CORE__PARALLELISM=4 \
	AIRFLOW__API__HOST=$(HOST) \
	AIRFLOW__API__PORT=$(PORT) \
	AIRFLOW__API__BASE_URL="http://127.0.0.1:$(PORT)" \
	AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$(PORT)/execution/" \
	MADLAKE_HOME="$(CURDIR)/.madlake"; \
	$(BIN)/madlake airflow setup && \
	echo "Airflow on http://$(HOST):$(PORT) (user admin, password in $$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated)" && \
	setsid $(BIN)/airflow standalone

clean: ## remove the local lakehouse, caches and build output (keeps .venv; `rm -rf .venv` for a full reset)
	rm -rf .madlake test-artifacts .pytest_cache .mypy_cache .ruff_cache build dist include/*.egg-info
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
