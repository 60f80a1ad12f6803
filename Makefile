# DAM: `make run` starts everything on this machine; `make test` runs the whole suite.
PORT ?= 8000
PY := .venv/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/dam_test_$(shell echo $$$$)
REDIS_URL ?= redis://127.0.0.1:6379/15

SOAK_SECONDS ?= 600

.PHONY: run test test-sqlite test-postgres venv migrate soak bench

venv: .venv/installed

.venv/installed: requirements.txt
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

migrate: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

# Embedded default: SQLite and a filesystem broker under ./var (DAM_DATA_DIR); web + worker + beat under one
# supervisor (dam/run.py): Ctrl-C stops all, none of them outlives it, and a second `make run` on the same data refuses.
run: migrate
	$(PY) manage.py load_demo_fleet --if-empty
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "DAM serves http://127.0.0.1:$(PORT)  (API: /api/v1/, docs: /api/v1/docs/, console: /admin/)"
	DAM_PORT=$(PORT) exec $(PY) -m dam.run

# A Redfish BMC for the demo fleet (OpenStack's sushy-emulator, fake driver) on port $(DEMO_BMC_PORT): gives demo-001 …
# demo-020 their BMC fields and pool demo automatic reboot. Beside `make run`, in a second terminal; Ctrl-C stops it.
DEMO_BMC_PORT ?= 8100
.PHONY: demo-bmc
demo-bmc: migrate
	$(PY) manage.py demo_bmc --port $(DEMO_BMC_PORT)

# SQLite always; PostgreSQL + Redis when they answer (required when CI=true).
test: venv
	$(MAKE) --no-print-directory test-sqlite
	@if [ "$$CI" = "true" ] || $(PY) tests/services_up.py; then \
		$(MAKE) --no-print-directory test-postgres; \
	else \
		echo "PostgreSQL or Redis not answering: skipped the PostgreSQL + Redis run (CI=true makes it required)."; \
	fi

test-sqlite: venv
	@echo "== tests on SQLite + filesystem broker =="
	env -u DATABASE_URL -u CELERY_BROKER_URL DAM_QUEUE=dam-test-$$$$ DAM_DATA_DIR=$$(mktemp -d) $(PY) -m pytest $(PYTEST_ARGS)

test-postgres: venv
	@echo "== tests on PostgreSQL + Redis =="
	DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(REDIS_URL) DAM_QUEUE=dam-test-$$$$ DAM_DATA_DIR=$$(mktemp -d) $(PY) -m pytest $(PYTEST_ARGS)

# A real DAM under steady load for SOAK_SECONDS (default 10 minutes): 0 errors, memory flat. Not part of `make test`.
soak: venv
	SOAK_SECONDS=$(SOAK_SECONDS) $(PY) bench/soak.py

# The performance suite on PostgreSQL + Redis (its own database dam_bench, dropped after), side by side with pgbench;
# prints one table and writes bench/results.json. BENCH_QUICK=1: the quick mode (under 3 minutes). Not part of `make test`.
bench: venv
	$(PY) bench/suite.py
