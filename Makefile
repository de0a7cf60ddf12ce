# The two commands of the README. Each makes the virtual environment it needs.
PYTHON ?= python3
VENV := .venv
HASH := $(shell sha256sum pyproject.toml | cut -c1-12)
STAMP := $(VENV)/.installed-$(HASH)
# the extras only the slow tier (Keras, TensorFlow) and the documentation site need, installed on first use
ORACLE_STAMP := $(VENV)/.oracle-$(HASH)
DOCS_STAMP := $(VENV)/.docs-$(HASH)

.PHONY: reproduce reproduce-full test test-slow test-all docs seed-check

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

$(ORACLE_STAMP): $(STAMP)
	$(VENV)/bin/pip install --quiet -e '.[test,oracle]'
	rm -f $(VENV)/.oracle-* && touch $@

$(DOCS_STAMP): $(STAMP)
	$(VENV)/bin/pip install --quiet -e '.[test,docs]'
	rm -f $(VENV)/.docs-* && touch $@

# Before each run: a lock left by a run killed with kill -9 is lifted (and the
# temporaries of its killed jobs removed) when no snakemake process works in the
# folder; a run in progress is named by its PID and the new one refused.
STALE_LOCK = $(VENV)/bin/python workflow/stale_lock.py

# The full reproduction: data, every experiment under every protocol, the report.
# The config is checked first (YAML errors with line and column, schema errors
# with the key).
reproduce: $(STAMP)
	@$(VENV)/bin/python -m overfit.checks config/config.yaml
	@$(STALE_LOCK) .
	@$(VENV)/bin/snakemake --cores all --workflow-profile workflow/profiles/default
	@echo "report: $(CURDIR)/results/report.html"

# The `full` switch: the same run with the finer sweep grids of config/full.yaml merged over
# config/config.yaml (after `make reproduce`, only the points it adds train; README for its cost).
reproduce-full: $(STAMP)
	@$(VENV)/bin/python -m overfit.checks config/config.yaml config/full.yaml
	@$(STALE_LOCK) .
	@$(VENV)/bin/snakemake --cores all --workflow-profile workflow/profiles/default --configfile config/full.yaml
	@echo "report: $(CURDIR)/results/report.html"

# The fast tier: every test but the slow ones (pyproject.toml's markers), minutes on 2 cores.
test: $(STAMP)
	$(VENV)/bin/python -m pytest -m "not slow"

# The slow tier alone (Keras oracles, SLURM, whole pipelines, the browser; pyproject.toml's markers).
test-slow: $(ORACLE_STAMP)
	$(VENV)/bin/python -m pytest -m slow

# Every test: the fast tier, then the slow one. CI runs this (as `make test`, then `make test-slow`).
test-all: test test-slow

# The documentation site, built strictly (a broken link or a missing page fails), into results/site.
docs: $(DOCS_STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir results/site

# Do the verdicts survive a change of seed? The pipeline again with seed 1 (every
# fold, initialisation and batch order re-drawn) up to its claims, in runs/seed-1,
# compared with results/claims.csv (run `make reproduce` first; a table of other
# code or config is refused). Then the claims and the report again, with each
# row's seed-1 verdict beside its own.
seed-check: $(STAMP)
	@$(STALE_LOCK) runs/seed-1
	$(if $(OVERFIT_DATA_MIRROR),OVERFIT_DATA_MIRROR=$(abspath $(OVERFIT_DATA_MIRROR))) \
		$(VENV)/bin/snakemake --cores all --workflow-profile workflow/profiles/default --configfile $(CURDIR)/config/config.yaml \
		--config seed=1 --directory runs/seed-1 results/claims.csv
	@$(VENV)/bin/python -m overfit.report.compare results/claims.csv runs/seed-1/results/claims.csv; status=$$?; \
	  $(STALE_LOCK) . && $(VENV)/bin/snakemake --cores all --workflow-profile workflow/profiles/default results/report.html; \
	  exit $$status
