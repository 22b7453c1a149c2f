# One command for the demo, one for the tests; each creates the environment it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
# Test files are spread over this many processes (pytest-xdist); each file stays in one.
TEST_WORKERS ?= 2

.PHONY: demo test majors lint docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all,test,docs]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/agentotel demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples docs/hooks.py noxfile.py
	$(BIN)/ruff format --check src tests benchmarks examples docs/hooks.py noxfile.py
	$(BIN)/mypy --strict src
	$(BIN)/lint-imports  # the layers of docs/architecture.md, no import cycles ([tool.importlinter])

# The manual (docs/, mkdocs.yml): a broken link, anchor or missing page fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

test: lint docs
	command -v promtool >/dev/null && command -v prometheus >/dev/null && command -v hey >/dev/null && command -v valgrind >/dev/null || (apt-get update -qq && apt-get install -y -qq prometheus hey valgrind >/dev/null)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile
	$(MAKE) majors

# The tests that drive openai/anthropic again on the older SDK majors (noxfile.py: openai 2.x with
# anthropic 1.x, openai 1.x with anthropic 0.x, and the oldest supported versions), each in .nox/.
majors: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/nox -s majors

bench: $(STAMP)
	command -v valgrind >/dev/null || (apt-get update && apt-get install -y valgrind)
	$(BIN)/python benchmarks/overhead.py

clean:
	rm -rf $(VENV) .nox .mypy_cache .ruff_cache .pytest_cache site .import_linter_cache
