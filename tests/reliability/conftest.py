"""Fixtures of the failure tests: a fleet whose pool lets automation act on every machine, tokens, and a registry
of real processes (web, worker, beat, redis) that are always stopped and whose logs are shown when a test fails."""
import pytest
from django.conf import settings
from django.core.management import call_command

from tests.e2e.conftest import _database_url
from tests.reliability import processes


@pytest.fixture
def fleet(make_asset, pool):
    """fleet(n) → n assets host-001 … in a pool whose budget lets automation isolate all of them at once."""
    pool.max_unavailable = "100%"
    pool.save()

    def make(count: int):
        return [make_asset(f"host-{i:03d}") for i in range(1, count + 1)]
    return make


@pytest.fixture
def token(db, capsys):
    """token(name, role) → a new API token, as `issue_token` prints it."""
    def issue(name: str, role: str, **options) -> str:
        call_command("issue_token", name, role=role, **options)
        return capsys.readouterr().out.strip()
    return issue


class Processes:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.all: list[processes.Process] = []

    def add(self, process):
        self.all.append(process)
        return process

    def env(self, *, broker_url: str | None = None, database_url: str | None = None, **extra) -> dict:
        """A DAM process on this test run's database, and its broker unless another is given."""
        return processes.dam_env(
            database_url=database_url or _database_url(), broker_url=broker_url or settings.CELERY_BROKER_URL,
            data_dir=settings.DATA_DIR, queue=f"{settings.CELERY_TASK_DEFAULT_QUEUE}-{self.tmp_path.name}",
            **{"DAM_SCRATCH_DIR": str(self.tmp_path / "scratch"), **extra})

    def web(self, env) -> str:
        process, url = processes.web_server(env, self.tmp_path)
        self.add(process)
        return url

    def worker(self, env, **kwargs) -> processes.Process:
        name = kwargs.pop("name", None) or f"worker-{sum(p.name.startswith('worker') for p in self.all) + 1}"
        return self.add(processes.celery("worker", env, self.tmp_path, name=name, **kwargs))

    def beat(self, env) -> processes.Process:
        return self.add(processes.celery("beat", env, self.tmp_path, schedule=self.tmp_path / "beat-schedule"))

    def stop_all(self):
        """Killed, not stopped: the test has judged them already, and a graceful stop costs seconds a process (a
        Celery worker's warm shutdown takes 3–6 s)."""
        for process in self.all:
            process.kill()


@pytest.fixture
def procs(transactional_db, tmp_path, request):
    """Real processes on this test's database (committed data: the test is not wrapped in a transaction)."""
    registry = Processes(tmp_path)
    try:
        yield registry
    finally:
        registry.stop_all()
        report = getattr(request.node, "rep_call", None)
        if report is None or report.failed:
            for process in registry.all:
                print(f"--- {process.name} log ---\n{process.log()}")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
