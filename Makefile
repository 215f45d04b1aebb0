# Two commands do everything on a fresh machine with only python3: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS ?= dev,cli,speedups

.PHONY: install demo test pytest lint typecheck fmt sim bench bench-quick clean test-all docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	# compat: a plain path in a .pth, so mypy (here and in a user's project) sees the package
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]" --config-settings editable_mode=compat
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m aiodji.demo

test: lint typecheck pytest

pytest: $(STAMP)
	command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || ! command -v apt-get >/dev/null \
		|| { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
	$(BIN)/python -m pytest -q

# Every Python the package claims (requires-python >= 3.11): the full check on the oldest
# (`make test`), the suite on the others, each in its own venv (.venv-3.12, ...).
PYENV_ROOT ?= /root/.pyenv
OTHER_PYTHONS ?= 3.12 3.13

test-all: test $(addprefix test-py,$(OTHER_PYTHONS))

test-py%:
	@py=$$(ls -d $(PYENV_ROOT)/versions/$*.*/bin/python 2>/dev/null | tail -1); \
	py=$${py:-$$(command -v python$* || true)}; \
	[ -n "$$py" ] || { echo "no Python $* found"; exit 1; }; \
	[ -x .venv-$*/bin/python ] || $$py -m venv .venv-$*; \
	[ .venv-$*/.installed -nt pyproject.toml ] || { \
		.venv-$*/bin/python -m pip install --quiet --upgrade pip && \
		.venv-$*/bin/python -m pip install --quiet -e ".[dev,cli,speedups]" \
			--config-settings editable_mode=compat && touch .venv-$*/.installed; }; \
	.venv-$*/bin/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check aiodji tests benchmarks scripts
	$(BIN)/ruff format --check aiodji tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format aiodji tests benchmarks scripts
	$(BIN)/ruff check --fix aiodji tests benchmarks scripts

# benchmarks: the bench extra (httpx, requests, psutil, uvloop) and nginx from Debian when apt is there
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS),bench]" --config-settings editable_mode=compat
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || ! command -v apt-get >/dev/null \
		|| { apt-get update -qq && apt-get install -y -qq nginx >/dev/null; } \
		|| echo "nginx not installed: the fixed-reply server falls back to aiohttp.web"
	command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || ! command -v apt-get >/dev/null \
		|| { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.scale

bench-quick: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run --quick
	$(BIN)/python -m benchmarks.scale --quick

# the documentation site into site/ (strict: a broken link, reference or docstring fails)
DOCS_STAMP := $(VENV)/.docs-installed

$(DOCS_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS),docs]" --config-settings editable_mode=compat
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

sim: $(STAMP)
	$(BIN)/python -m aiodji.sim --port 8080

clean:
	rm -rf $(VENV) build dist site *.egg-info .mypy_cache .ruff_cache
