# Two commands on a fresh machine: `make run` and `make test`.
# Everything installs into .venv; versions are pinned by requirements.lock.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: run test lint typecheck unit bench install lock clean-workspace chromium

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -c requirements.lock -e '.[dev]'
	@touch $@

install: $(STAMP)

run: install
	$(BIN)/govern demo
	$(BIN)/govern serve

test: install chromium lint typecheck unit

# Browser tests drive Debian's Chromium (never a browser download of Playwright's own).
chromium:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
		echo "note: /usr/bin/chromium is missing and cannot be installed here; browser tests will be skipped"; }

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

# In parallel on the machine's cores (pytest-xdist); `pytest tests/test_x.py` alone runs serially.
unit: install
	$(BIN)/pytest -n auto

# Speed, measured: writes benchmarks/RESULTS.md (a few minutes).
bench: install
	$(BIN)/python -m benchmarks.run

# Re-pin every dependency (run after changing pyproject.toml).
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra dev --quiet --python-version 3.11 -o requirements.lock

clean-workspace:
	rm -rf var
