# ClipCart developer commands. Needs only python3 and make; everything else goes in .venv.
#
#   make demo      install if needed, then seed and serve the demo on http://127.0.0.1:8000
#   make test      lint (ruff check, ruff format --check, mypy), then pytest
#   make bench     every benchmark in bench/, then bench/results/SUMMARY.md
#
# Dependencies are pinned in requirements.lock (ranges stay in pyproject.toml). The venv is
# brought in line with the lock whenever requirements.lock or pyproject.toml changes.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.clipcart-installed
PYTEST_ARGS ?=
# Benchmarks: every bench/NAME.py except helpers (names starting with "_") and the summary.
BENCHES := $(filter-out summary,$(basename $(notdir $(filter-out bench/_%,$(wildcard bench/*.py)))))

.PHONY: help venv install lock demo serve worker migrate lint format test pytest bench clean

help: ## Show the commands
	@grep -hE '^[a-z -]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

venv install: $(STAMP) ## Create .venv with the pinned dependencies

$(STAMP): requirements.lock pyproject.toml
	@if [ ! -x $(BIN)/python ]; then echo "Creating $(VENV)"; $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@# Remove whatever the lock does not name, so the venv is exactly the lock.
	@extra=$$(comm -23 \
	    <($(BIN)/python -m pip freeze --exclude-editable | sed -E 's/[=@ ].*//; s/[_.]/-/g' | tr '[:upper:]' '[:lower:]' | sort -u) \
	    <(grep -vE '^\s*(#|$$)' requirements.lock | sed -E 's/[=@ ].*//; s/[_.]/-/g' | tr '[:upper:]' '[:lower:]' | sort -u)); \
	if [ -n "$$extra" ]; then \
	    echo "Removing packages not in requirements.lock:" $$extra; \
	    $(BIN)/python -m pip uninstall --quiet -y $$extra; \
	fi
	@$(BIN)/python -m pip check >/dev/null || { $(BIN)/python -m pip check; exit 1; }
	@$(BIN)/python .ci/check_lock.py
	@touch $@

lock: ## Re-resolve pyproject.toml's ranges into requirements.lock (newest allowed versions)
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	{ echo "# Exact pins of every dependency (runtime + dev) for Python 3.11 on Linux x86_64."; \
	  echo "# Ranges live in pyproject.toml; regenerate this file with \`make lock\`."; \
	  echo "# Installed by \`make venv\`: pip install -r requirements.lock && pip install --no-deps -e ."; \
	  .venv-lock/bin/python -m pip freeze --exclude-editable; } > requirements.lock
	rm -rf .venv-lock
	@echo "requirements.lock updated; run 'make venv' to install it"

demo: $(STAMP) ## Seed a demo world and serve it on http://127.0.0.1:8000 (SQLite in ./var)
	$(BIN)/clipcart demo

serve: $(STAMP) ## Migrate, then serve with Granian (CLIPCART_* variables configure it)
	$(BIN)/clipcart migrate
	$(BIN)/clipcart serve

worker: $(STAMP) ## Run the background job worker (Huey consumer)
	$(BIN)/clipcart worker

migrate: $(STAMP) ## Bring the configured database up to the newest migration
	$(BIN)/clipcart migrate

# All three checks always run, so one pass reports every problem.
lint: $(STAMP) ## ruff check, ruff format --check, mypy
	@rc=0; \
	echo "ruff check ."; $(BIN)/ruff check . || rc=1; \
	echo "ruff format --check ."; $(BIN)/ruff format --check . || rc=1; \
	echo "mypy -p clipcart -p bench -p tests"; $(BIN)/mypy -p clipcart -p bench -p tests || rc=1; \
	exit $$rc

format: $(STAMP) ## Format and auto-fix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint pytest ## Lint, then run the whole test suite

# pytest's exit code 5 means it ran no test at all: say so instead of passing it on quietly.
pytest: $(STAMP) ## Only the tests (PYTEST_ARGS='-m "not browser"' and the like pass through)
	@rc=0; $(BIN)/python -m pytest -ra $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests (exit code 5): that is a failure"; fi; \
	exit $$rc

# One failing benchmark does not stop the others; the run fails at the end, naming it.
bench: $(STAMP) ## Run every benchmark, then write bench/results/SUMMARY.md
	@started=$$SECONDS; failed=""; skipped=""; \
	for name in $(BENCHES); do \
	    echo "== bench.$$name"; \
	    began=$$SECONDS; \
	    code=0; $(BIN)/python -m bench.$$name || code=$$?; \
	    if [ $$code -eq 0 ]; then \
	        echo "== bench.$$name: $$((SECONDS - began)) s"; \
	    elif [ $$code -eq 77 ]; then \
	        echo "== bench.$$name SKIPPED after $$((SECONDS - began)) s"; \
	        skipped="$$skipped $$name"; \
	    else \
	        echo "== bench.$$name FAILED (exit code $$code) after $$((SECONDS - began)) s"; \
	        failed="$$failed $$name"; \
	    fi; \
	done; \
	$(BIN)/python -m bench.summary --failed "$$failed" --skipped "$$skipped" \
	    --seconds $$((SECONDS - started)); \
	if [ -n "$$skipped" ]; then echo "== skipped:$$skipped"; fi; \
	echo "== make bench: $$((SECONDS - started)) s in all"; \
	if [ -n "$$failed" ]; then echo "== failed:$$failed"; exit 1; fi

clean: ## Remove caches and test artefacts (keeps .venv and var/)
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis test-artifacts bench/results
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
