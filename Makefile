# Two set-up commands: `make demo` and `make test`. Both create .venv on first use.
# `make docs` builds the documentation site (strict) into site/; the test suite builds it too.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint docs clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e ".[dev,chem]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP)
	$(PY) -m pytest -q

docs: $(STAMP)
	$(PY) -m mkdocs build --strict

lint: $(STAMP)
	$(PY) -m ruff check designloop tests examples benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
