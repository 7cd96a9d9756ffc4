# Tanhui 碳汇 — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-unit fuzz lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## start PostgreSQL, Tansu and the four services; Ctrl-C stops everything
	$(BIN)/tanhui run

test: $(STAMP)  ## unit, integration, end-to-end and browser tests against the real stack, then the fuzzer
	bash tests/browser_setup.sh
	$(BIN)/pytest tests
	$(MAKE) fuzz

fuzz: $(STAMP)  ## schemathesis over every service's OpenAPI (FUZZ_SECONDS per service and identity)
	$(BIN)/python -m tests.fuzz.run

test-unit: $(STAMP)
	$(BIN)/pytest tests/unit

lint: $(STAMP)  ## ruff + mypy --strict on libs/ and every domain/
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy libs services/registry/domain services/issuance/domain services/matching/domain services/disclosure/domain

bench: $(STAMP)  ## benchmarks print JSON; see bench/README.md
	$(BIN)/python bench/events_append.py
	$(BIN)/python bench/quantify.py

clean:
	rm -rf $(VENV) .tanhui .pytest_cache .mypy_cache .ruff_cache
