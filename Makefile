# Two commands on a fresh machine: `make run` and `make test`.
# Everything installs into .venv; versions are pinned by requirements.lock.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: run test lint typecheck unit bench install lock clean-workspace

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet -c requirements.lock -e '.[dev]'
	@touch $@

install: $(STAMP)

run: install
	$(BIN)/govern demo
	$(BIN)/govern serve

test: install lint typecheck unit

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest

# Re-pin every dependency (run after changing pyproject.toml).
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra dev --quiet -o requirements.lock

clean-workspace:
	rm -rf var
