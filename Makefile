# onestop: `make run` runs the whole system on its embedded default; `make test` runs the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
export PYTHONDONTWRITEBYTECODE := 1
# mypy with django-stubs ([tool.mypy] in pyproject.toml; `make lint`, `make test`, `make types`): the
# plugin imports the settings, read in the development profile so that no secret or service is needed.
MYPY := ONESTOP_ENV=development $(BIN)/mypy
# import-linter's contracts ([tool.importlinter] in pyproject.toml, docs/architecture.md).
IMPORTS := $(BIN)/lint-imports

.PHONY: run test test-embedded lint types format bench bench-scale install migrate messages clean browser promtool pcsc screenshots mutation

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "  onestop is starting at http://127.0.0.1:$${ONESTOP_PORT:-8000}/  (Ctrl-C stops everything)"
	@echo "  Logins above; the auditor also reads everything at /admin/."
	@echo ""
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -f Procfile

test: install browser promtool pcsc
	$(BIN)/ruff check .
	$(IMPORTS)
	$(MYPY)
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory test-embedded

# The same tests again on the embedded default (SQLite: what `make run` runs) when the run above
# used PostgreSQL, so a defect only SQLite shows is caught too (a JSON lookup, a trigger, a bulk
# write). What needs PostgreSQL, Redis or a worker skips here with its reason: the run above ran it.
EMBEDDED_DB := $(abspath var/test-embedded.sqlite3)
test-embedded: install
	@if ONESTOP_ENV=test $(BIN)/python -c 'import os, django; os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onestop.settings"); django.setup(); from django.conf import settings; raise SystemExit(0 if settings.USING_POSTGRES else 1)'; then \
	  echo "The tests on the embedded default (SQLite):"; \
	  DATABASE_URL=sqlite:///$(EMBEDDED_DB) REDIS_URL= ONESTOP_PROBE_SERVICES=0 ONESTOP_REQUIRE_SERVICES= $(BIN)/python -m pytest $(PYTEST_ARGS); \
	else echo "The tests ran on the embedded default already (SQLite)."; fi

# The end-to-end tests drive Debian's chromium (Playwright's own browser download does not work
# here) and inject axe-core from the npm registry. Installed when missing and possible.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "chromium is not installed and cannot be installed here: the e2e tests will say so"; fi; }
	@test -f tests/e2e/node_modules/axe-core/axe.min.js || { \
	  if command -v npm >/dev/null; then npm ci --prefix tests/e2e --no-audit --no-fund --silent; \
	  else echo "npm is missing: the accessibility checks will say so"; fi; }

# The alert rules (docs/prometheus/) are checked and unit-tested with Prometheus's promtool,
# from Debian's prometheus package. Installed when missing and possible.
promtool:
	@command -v promtool >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	  else echo "promtool is not installed and cannot be installed here: the alert tests will say so"; fi; }

# The counter terminal's card tests run a private pcscd with the vsmartcard virtual reader and a
# virtual JPKI card, cross-checked by OpenSC; pyscard (the `terminal` extra) builds against
# pcsc-lite with swig. All Debian's, installed when missing and possible.
PCSC_PACKAGES := pcscd vsmartcard-vpcd opensc swig libpcsclite-dev
pcsc: install
	@dpkg-query -W -f='$${Status}\n' $(PCSC_PACKAGES) 2>/dev/null | grep -c '^install ok installed' | grep -qx 5 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(PCSC_PACKAGES) >/dev/null; \
	  else echo "pcscd, vsmartcard-vpcd, opensc, swig or libpcsclite-dev is missing and cannot be installed here: the card tests will say so"; fi; }
	@$(BIN)/python -c 'import smartcard' 2>/dev/null || { \
	  if command -v swig >/dev/null && [ -f /usr/include/PCSC/winscard.h ]; then $(BIN)/python -m pip install --quiet -e '.[dev,terminal]'; \
	  else echo "pyscard cannot be built here (no swig or pcsc-lite headers): the card tests will say so"; fi; }

# Refreshes docs/screenshots/ from the end-to-end journeys.
screenshots: install browser
	ONESTOP_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(IMPORTS)
	$(MYPY)

types: install
	$(MYPY)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks need PostgreSQL: the local one unless DATABASE_URL names another (each benchmark
# makes its own scratch database next to it and drops it). `make bench BENCH="B1 B3"` runs some.
bench: install
	DATABASE_URL="$${DATABASE_URL:-postgresql://127.0.0.1:5432/onestop}" $(BIN)/python -m bench $(BENCH)

# B6, the scale curve: B1, B3 and B4 on 1,000,000 and on 10,000,000 records (10 to 30 minutes on 2 cores;
# `make bench` skips it). ONESTOP_BENCH_SCALE="SMALL,LARGE" picks other sizes.
bench-scale: install
	DATABASE_URL="$${DATABASE_URL:-postgresql://127.0.0.1:5432/onestop}" \
		ONESTOP_BENCH_SCALE="$${ONESTOP_BENCH_SCALE:-1000000,10000000}" $(BIN)/python -m bench B6

# Mutation testing of the rule modules with the tests that target them ([tool.mutmut] in
# pyproject.toml, docs/mutation.md); prints the score and the surviving mutants. Each mutant's
# tests run on an in-memory SQLite database of their own (so children can run side by side):
# PostgreSQL-only tests skip. MUTATION_CHILDREN sets how many run at once.
mutation: install
	rm -rf mutants
	DATABASE_URL= REDIS_URL= ONESTOP_PROBE_SERVICES=0 ONESTOP_VAR_DIR=$(abspath mutants)/var \
		$(BIN)/mutmut run --max-children $${MUTATION_CHILDREN:-2}
	$(BIN)/python tools/mutation_score.py

# Each app keeps its own catalogue (app/locale); locale/ holds onestop/ and templates/.
APPS := driver_records consents jlis_gateway safeguards operations terminal
messages: install
	$(BIN)/python manage.py makemessages -l ja --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' \
		--ignore 'bench/*' $(foreach app,$(APPS),--ignore '$(app)/*')
	for app in $(APPS); do (cd $$app && ../$(BIN)/python ../manage.py makemessages -l ja); done
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) var staticfiles mutants .mypy_cache
