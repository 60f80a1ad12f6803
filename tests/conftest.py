"""Shared fixtures: a small fleet of this machine's hardware model, and API clients for each role."""
import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from assets.models import Asset, HardwareModel, Pool
from dam.celery import app as celery_app
from inspection.demo import demo_model_spec
from inspection.models import Baseline
from tests.parallel import worker_environment


def pytest_configure(config):
    """Passwords hashed at one PBKDF2 iteration (tests/hashers.py): before any test makes a user."""
    settings.PASSWORD_HASHERS = ["tests.hashers.QuickPBKDF2PasswordHasher", *settings.PASSWORD_HASHERS]
    # The SQLite test database lives in the data directory (per xdist worker, tests/parallel.py): nothing made it
    # when no test of this worker happened to start DAM's own commands first ("unable to open database file").
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        from django.db.backends.postgresql.operations import DatabaseOperations
        DatabaseOperations.sql_flush = _emptied_by_delete(DatabaseOperations.sql_flush)


def _emptied_by_delete(truncate):
    """After each transactional test (live server, real workers, eager jobs) Django empties every table. On
    PostgreSQL it does that with one TRUNCATE of all of them, which gives each table and index a new file and drops
    the old ones at commit: about a second a test on this shared machine, minutes of the PostgreSQL run. DELETE
    empties the same tables, just as well, in a few milliseconds (the foreign keys Django makes are checked at the
    commit of the flush's one transaction, when every table is empty). Sequences are left as TRUNCATE without
    RESTART IDENTITY leaves them; a flush that resets them still goes through TRUNCATE."""
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return [f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};" for table in tables]
    return sql_flush


@pytest.fixture(autouse=True)
def fast_checks(settings, tmp_path):
    """Short measurements and a private scratch directory: the checks are real, just brief."""
    settings.DAM_CHECK_SECONDS = 0.02  # per curve: seven curves, about 0.3 s a run
    settings.DAM_FULL_CHECK_SECONDS = 0.02
    settings.DAM_DISK_SCRATCH_BYTES = 4 * 1024 * 1024
    settings.DAM_SCRATCH_DIR = tmp_path / "scratch"
    settings.DAM_INSPECTION_RUNNER = "local"
    # The tests share a busy machine: they judge what they are about, not how disturbed it is right now (the
    # disturbance tests set limits of their own).
    settings.DAM_DISTURBANCE_LIMITS = {}


@pytest.fixture
def eager_jobs(transactional_db):
    """Run the lifecycle's jobs in this process, right when their transaction commits (real commits: the test
    is not wrapped in a transaction). Unit and API tests use this; the end-to-end tests run a real worker instead.
    """
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def hardware_model(db):
    """This machine's own spec, with baselines set well below what it measures, so a healthy run passes (the disk's
    very low: its throughput counts every stall, and a 4 KiB point of a test's few milliseconds may hold one)."""
    model = HardwareModel.objects.create(name="test-model", **demo_model_spec())
    for metric, unit, better in [("cpu.sha256_mb_per_s", "MB/s", True), ("memory.copy_mb_per_s", "MB/s", True),
                                 ("disk.seq_write_mb_per_s", "MB/s", True), ("disk.fsync_p50_ms", "ms", False)]:
        Baseline.objects.create(hardware_model=model, metric=metric, unit=unit, higher_is_better=better,
                                expected=(0.05 if metric.startswith("disk.") else 1.0) if better else 1000.0,
                                tolerance_pct=50, source="tests")
    return model


@pytest.fixture
def pool(db):
    return Pool.objects.create(name="batch", probation_hours=24)


@pytest.fixture
def make_asset(hardware_model, pool):
    def make(hostname="host-001", **fields):
        return Asset.objects.create(hostname=hostname, hardware_model=hardware_model, pool=pool, **fields)
    return make


@pytest.fixture
def asset(make_asset):
    return make_asset()


def _client_for(name: str, role: str, capsys) -> APIClient:
    call_command("issue_token", name, role=role)
    token = capsys.readouterr().out.strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def api(db, capsys):
    """api("staff") → an APIClient with a fresh token of that role (owner named after the role)."""
    def client(role: str, name: str | None = None) -> APIClient:
        return _client_for(name or f"{role}-user", role, capsys)
    return client


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config, specs):
    """Under pytest-xdist, each worker process starts with an environment of its own (tests/parallel.py)."""
    for spec in specs:
        spec.env.update(worker_environment(spec.id))


# Tests that start real processes (workers, servers, a browser) and wait on them, and schemathesis's hundreds of
# generated requests (dam_schema): the longest of the suite.
SLOW_FIXTURES = {"live_server", "procs", "worker", "two_workers", "browser", "dam_schema"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """The slow tests first: under pytest-xdist a long test started last keeps one worker busy while the others
    have nothing left. pytest-django then sorts the tests, stably, into plain-database, transactional and
    no-database ones (as Django orders them), so within each group the slow ones still come first."""
    items.sort(key=lambda item: not (item.get_closest_marker("e2e")
                                     or SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ()))))
