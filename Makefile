# Needs only Python 3.11+ (and make): everything else comes from pyproject.toml into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-unit browser bench lint clean chaos

run: $(STAMP)
	$(BIN)/genting up --demo $(ARGS)

# The dashboard's browser test needs a Chromium: found, or obtained, first (scripts/ensure-browser).
test: $(STAMP) browser
	scripts/ensure-promtool
	$(BIN)/pytest $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/pytest -m "not integration and not e2e" $(PYTEST_ARGS)

browser: $(STAMP)
	scripts/ensure-browser

# The deployment files (deploy/, docker-compose.yml) checked with real tools: hadolint, docker
# compose config, kubectl kustomize, strict schema validation (core kinds and the operators' CRDs),
# NATS permissions, nats-server on every NATS config (-t, and the three-node cluster started),
# promtool on the alert rules. Part of `make test` too.
.PHONY: check-deploy
check-deploy: $(STAMP)
	scripts/ensure-promtool
	$(BIN)/pytest tests/deploy -q $(PYTEST_ARGS)

# The long chaos run: `genting simulate` (500 families, 210 days) on `genting up --replicas 2` while
# service replicas, nats-server and PostgreSQL are SIGKILLed in turn; prints what it killed and when.
# The short variant (60 families, 40 days) is tests/e2e/test_chaos.py inside `make test`.
chaos: $(STAMP)
	GENTING_CHAOS_FAMILIES=$${GENTING_CHAOS_FAMILIES:-500} GENTING_CHAOS_DAYS=$${GENTING_CHAOS_DAYS:-210} \
		GENTING_CHAOS_KILLS=$${GENTING_CHAOS_KILLS:-0} \
		$(BIN)/pytest tests/e2e/test_chaos.py -s -p no:cacheprovider $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/bench.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services genting
	MYPY=$(BIN)/mypy scripts/typecheck-tests

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Genting needs Python 3.11 or newer (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependencies may have changed; the code itself is an editable install.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[embedded,dev]"
	touch $(STAMP)

# Leaves .venv and the data in .genting/ alone; remove those by hand if you mean to.
clean:
	rm -rf build *.egg-info .pytest_cache .ruff_cache .mypy_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
