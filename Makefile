# faceterm: `make run` (the demo) and `make test` set up everything they need on Debian 12.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SYSDEPS_STAMP := .cache/sysdeps.stamp

.PHONY: run test lint bench models pi-check sysdeps venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml | $(SYSDEPS_STAMP)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

sysdeps: $(SYSDEPS_STAMP)

$(SYSDEPS_STAMP): scripts/install-deps.sh
	bash scripts/install-deps.sh
	mkdir -p .cache && touch $@

test: venv
	$(PY) -m pytest -q tests

lint: venv
	$(VENV)/bin/ruff check device tests scripts
	$(VENV)/bin/mypy device

run: venv
	$(PY) scripts/demo.py

bench: venv
	$(PY) scripts/bench.py
	bash scripts/bench_baseline.sh
	$(PY) scripts/bench_fleet_load.py

# aarch64 parity under qemu-user (slow: kept out of `make test`); see docs/raspberry-pi.md
pi-check: venv sysdeps
	VENV_PY=$(PY) bash scripts/pi_check.sh

models:
	bash scripts/build_models.sh

clean:
	rm -rf $(VENV) .cache
