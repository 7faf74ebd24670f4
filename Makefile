# preopen lab: one-command set-up, the main job, the tests.
#   make report   the whole investigation (for now: the reproduction and the verdicts)
#   make test     the test suite
# Both create .venv and fetch the adapter builds first; every target is idempotent.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
REPORTS := reports

.PHONY: setup adapters test test-all report bench guests lab clean

setup: $(STAMP) adapters

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed: set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

adapters: $(STAMP)
	@command -v npm >/dev/null || { echo "npm is needed to fetch adapter builds: install Node.js with npm"; exit 2; }
	$(PY) -m analysis fetch

test: setup
	$(PY) -m pytest

report: setup
	@mkdir -p $(REPORTS)
	$(PY) -m analysis run --native /a /b /c /d /e | tee $(REPORTS)/reproduce.txt
	$(PY) -m analysis run --adapter jco-1.8.1 /a /b /c /d /e | tee -a $(REPORTS)/reproduce.txt
	$(PY) -m analysis run --adapter jco-1.8.1 --guest rust-open /a /b /c /d /e | tee -a $(REPORTS)/reproduce.txt
	$(PY) -m analysis run --adapter jco-1.10.0 /a /b /c /d /e | tee -a $(REPORTS)/reproduce.txt
	$(PY) -m analysis verdicts | tee $(REPORTS)/verdicts.txt
	$(PY) -m analysis verdicts --json > $(REPORTS)/verdicts.json

bench: setup
	$(PY) -m analysis bench

# Rebuild the committed guest binaries: C with zig (from PyPI), Rust with Debian's rustc.
guests: $(STAMP)
	@test -x /usr/bin/rustc && test -d /usr/lib/rustlib/wasm32-wasi || { \
	  echo "installing Debian's rustc and libstd-rust-dev-wasm32"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq rustc libstd-rust-dev-wasm32; }
	$(PY) -m analysis build-guests opener rust-open

lab: setup
	$(VENV)/bin/jupyter lab notebooks/

clean:
	rm -rf $(VENV) .cache $(REPORTS)
