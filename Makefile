# The two commands of the README. Each makes the virtual environment it needs.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: reproduce test

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

# The full reproduction: data, every experiment under every protocol, the report.
reproduce: $(STAMP)
	$(VENV)/bin/snakemake --cores all --workflow-profile workflow/profiles/default
	@echo "report: $(CURDIR)/results/report.html"

test: $(STAMP)
	$(VENV)/bin/python -m pytest
