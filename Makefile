# The two commands a newcomer needs: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# axe-core for the browser tests, pinned in package.json / package-lock.json (npm ci)
NODE_STAMP := node_modules/.installed-$(shell cksum package-lock.json | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install serve test lint system-deps bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

## serve: install, load the embedded London catalogue on first run, serve it at http://localhost:8000
serve: install
	$(BIN)/dfl serve --host $(HOST) --port $(PORT)

## system-deps: Debian packages the tests need (headless Chromium for browser tests, Virtuoso for the remote store)
system-deps:
	@bash scripts/install-system-deps

## test: install, lint, and run the whole suite (real store, real HTTP servers, real browser with axe-core)
test: install system-deps $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n 2 --dist loadgroup

## bench: the benchmarks of docs/benchmarks.md (installs the peers it compares against)
bench: install
	bash scripts/bench

clean:
	rm -rf $(VENV) var .pytest_cache node_modules
