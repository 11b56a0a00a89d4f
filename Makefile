# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Each creates .venv and installs the package with its extras on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A local wheel folder (this workplace keeps torch's CPU build there) is used
# when present; elsewhere pip reads the registry, still held by constraints.txt.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels)
PIP := $(BIN)/python -m pip install -q -c constraints.txt $(FIND_LINKS)

.PHONY: demo test lint bench docs clean sdv-venv sf-venv hi-venv

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[dev]'
	touch $@

$(BIN)/.docs-installed: $(BIN)/.installed
	$(PIP) -e '.[dev,docs]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/probmodels demo

test: $(BIN)/.installed
	$(BIN)/ruff check probmodels tests examples benchmarks docs
	$(BIN)/python -m pytest -q

# Every benchmark (ONLY=ar,gmm: these; the others' stored results are kept),
# then benchmarks/RESULTS.md and results.png from benchmarks/results/.
# QUICK=1: small sizes, under 3 minutes (CI runs it).
bench: $(BIN)/.installed
	$(BIN)/python benchmarks/report.py $(if $(QUICK),--quick) $(if $(ONLY),--only $(ONLY))

# SDV, the peer of benchmarks/bench_tables.py, in an environment of its own
# (SDV 2.0 needs pandas < 3); then: make bench ... or
# .venv/bin/python benchmarks/bench_tables.py --peer-python .venv-sdv/bin/python
sdv-venv:
	$(PYTHON) -m venv .venv-sdv
	.venv-sdv/bin/python -m pip install -q $(FIND_LINKS) "sdv==2.0.0" "torch==2.13.0" "pandas<3"

# statsforecast, the peer of benchmarks/bench_panels.py, in its own environment
# (numba's pins); then: .venv/bin/python benchmarks/bench_panels.py
sf-venv:
	$(PYTHON) -m venv .venv-sf
	.venv-sf/bin/python -m pip install -q $(FIND_LINKS) "statsforecast==2.1.1"

# HyperImpute, the imputation peer of benchmarks/bench_impute.py, in its own
# environment (its pins: pandas 3 turns its chained assignments into no-ops,
# scikit-learn 1.8 dropped an argument it passes).
hi-venv:
	$(PYTHON) -m venv .venv-hi
	.venv-hi/bin/python -m pip install -q $(FIND_LINKS) "hyperimpute==0.1.17" "torch==2.13.0" "pandas<3" "scikit-learn<1.7"

docs: $(BIN)/.docs-installed
	$(BIN)/sphinx-build -q -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) docs/_build docs/auto_examples docs/gen_modules
