# preopen lab: one-command set-up, the main job, the tests.
#   make report   the whole investigation: every notebook executed, HTML reports in reports/
#   make test     the test suite (installs Debian's chromium for the browser test if it can)
# Both create .venv and fetch the adapter builds first; every target is idempotent.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.test-installed-stamp
REPORTS := reports

.PHONY: setup test-setup adapters browser test report bench guests lab clean

setup: $(STAMP) adapters

# What the report needs (Playwright drives chromium for the page check and the PDFs); the tests
# add their own tools (pytest, zig for the C guest).
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed: set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(TEST_STAMP)

test-setup: $(TEST_STAMP) adapters

adapters: $(STAMP)
	@command -v npm >/dev/null || { echo "npm is needed to fetch adapter builds: install Node.js with npm"; exit 2; }
	$(PY) -m analysis fetch

# Test files run on one worker per CPU (pytest-xdist), each file whole on one worker.
test: test-setup browser
	$(PY) -m pytest -n auto --dist loadfile

report: setup browser
	$(PY) -m analysis report --out $(REPORTS)
	@echo "open $(REPORTS)/index.html"

# Headless Chromium for the report (live explorer check, PDFs) and the browser tests
# (Debian's package; needs root or sudo).
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  if command -v apt-get >/dev/null && { [ -z "$$SUDO" ] || command -v sudo >/dev/null; }; then \
	    echo "installing Debian's chromium for the browser test"; \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; \
	  else echo "no apt-get or sudo: without chromium the report skips its browser steps and says so, the browser tests are skipped"; fi; }

bench: test-setup browser report
	$(PY) -m analysis bench
	$(PY) -m analysis bench --scan
	$(PY) -m analysis bench --report
	$(PY) -m analysis bench --browser
	$(PY) -m analysis bench --live
	$(PY) -m analysis bench --page-scan

# Rebuild the committed guest binaries: C with zig (from PyPI), Rust with Debian's rustc.
guests: $(TEST_STAMP)
	@test -x /usr/bin/rustc && test -d /usr/lib/rustlib/wasm32-wasi || { \
	  echo "installing Debian's rustc and libstd-rust-dev-wasm32"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq rustc libstd-rust-dev-wasm32; }
	$(PY) -m analysis build-guests opener keeper conformance rust-open

# As root (a container), JupyterLab refuses to start without --allow-root.
lab: setup
	$(VENV)/bin/jupyter lab notebooks/ $$([ "$$(id -u)" = 0 ] && echo --allow-root)

clean:
	rm -rf $(VENV) .cache $(REPORTS)
