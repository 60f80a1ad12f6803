# DAM: `make run` starts everything on this machine; `make test` runs the whole suite.
PORT ?= 8000
PY := .venv/bin/python
# The test database commits without waiting for its WAL to reach the disk (synchronous_commit=off): a throwaway
# database loses nothing that matters in a crash, and commits, locks and isolation are PostgreSQL's own as ever; the
# transactional tests' thousands of small commits no longer each wait on the disk of a machine several runs share.
PG_URL ?= postgres://postgres@127.0.0.1:5432/dam_test_$(shell echo $$$$)?options=-c%20synchronous_commit%3Doff
# Each xdist worker takes the next database (tests/parallel.py): 14 and 15 with two workers.
REDIS_URL ?= redis://127.0.0.1:6379/14

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

# SQLite always; PostgreSQL + Redis when they answer (required when CI=true). The two runs go side by side, each
# over TEST_WORKERS pytest-xdist workers (each worker a DAM of its own: tests/parallel.py); most of a run's time is
# spent waiting on real processes (workers, servers, browsers), so 2 + 2 workers keep the 2 cores busy. Each run
# writes its own log, printed whole when both are done; `make test` fails if either fails. worksteal: an idle worker
# takes tests another has queued (with `load`, one worker sat idle for the last 60 % of a run).
TEST_WORKERS ?= 2
XDIST = $(if $(filter-out 0 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist worksteal,)
test: venv
	@logs=$$(mktemp -d); \
	if [ "$$CI" = "true" ] || $(PY) tests/services_up.py; then postgres=yes; else postgres=; fi; \
	( $(MAKE) --no-print-directory test-sqlite > $$logs/sqlite.log 2>&1; echo $$? > $$logs/sqlite.rc ) & \
	if [ -n "$$postgres" ]; then \
		( $(MAKE) --no-print-directory test-postgres > $$logs/postgres.log 2>&1; echo $$? > $$logs/postgres.rc ) & \
	fi; \
	echo "tests running side by side on SQLite$${postgres:+ and on PostgreSQL + Redis} (logs in $$logs) ..."; \
	wait; \
	cat $$logs/sqlite.log; \
	if [ -n "$$postgres" ]; then cat $$logs/postgres.log; else \
		echo "PostgreSQL or Redis not answering: skipped the PostgreSQL + Redis run (CI=true makes it required)."; fi; \
	status=0; for run in sqlite $${postgres:+postgres}; do \
		rc=$$(cat $$logs/$$run.rc); echo "== $$run: $$([ "$$rc" = 0 ] && echo passed || echo "FAILED (exit $$rc)")"; \
		[ "$$rc" = 0 ] || status=1; done; \
	exit $$status

test-sqlite: venv
	@echo "== tests on SQLite + filesystem broker =="
	env -u DATABASE_URL -u CELERY_BROKER_URL DAM_QUEUE=dam-test-$$$$ DAM_DATA_DIR=$$(mktemp -d) $(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

# Tests marked one_backend (pytest.ini) touch neither database nor broker: the SQLite run has done them already.
test-postgres: venv
	@echo "== tests on PostgreSQL + Redis (not the one_backend tests: the SQLite run has them) =="
	DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(REDIS_URL) DAM_QUEUE=dam-test-$$$$ DAM_DATA_DIR=$$(mktemp -d) $(PY) -m pytest $(XDIST) -m "not one_backend" $(PYTEST_ARGS)

# A real DAM under steady load for SOAK_SECONDS (default 10 minutes): 0 errors, memory flat. Not part of `make test`.
soak: venv
	SOAK_SECONDS=$(SOAK_SECONDS) $(PY) bench/soak.py

# The performance suite on PostgreSQL + Redis (its own database dam_bench, dropped after), side by side with pgbench;
# prints one table and writes bench/results.json. BENCH_QUICK=1: the quick mode (under 3 minutes). Not part of `make test`.
bench: venv
	$(PY) bench/suite.py
