"""End-to-end fixtures: DAM served over HTTP (live_server) and a real Celery worker process on the same database
and broker as the test run (SQLite + filesystem broker, or PostgreSQL + Redis)."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from dam.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def purge_stale_jobs() -> None:
    """Empty this test run's queues before a test's first worker starts. The earlier tests of this pytest worker
    committed faults and transitions without a worker running, and the outbox sent their jobs to these queues: a
    worker started later would first chew through hundreds of jobs of machines long deleted (50 s of a test's time,
    at the filesystem broker's pace)."""
    with celery_app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.DAM_ISOLATE_QUEUE):
            channel.queue_purge(queue)


def start_worker(name: str, log_path: Path, scratch: Path, concurrency: int = 2,
                 queues: list[str] | None = None, extra_env: dict | None = None) -> subprocess.Popen:
    """A real `celery worker` process on this test run's database, broker and queues (all of them, or `queues`);
    returns once it is ready."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "DAM_DATA_DIR": str(settings.DATA_DIR),
        "DAM_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "DAM_INSPECTION_RUNNER": "local",
        "DAM_CHECK_SECONDS": "0.1",
        "DAM_FULL_CHECK_SECONDS": "0.1",
        # As in the tests' own process (tests/conftest.py): the suite runs on a busy machine (two backends side by
        # side, several workers each), and these tests judge the lifecycle, not how disturbed the machine is right
        # now; a curve measured again and again for the load of the tests beside it only slows them. The test of an
        # inconclusive verification sets limits of its own (extra_env).
        "DAM_DISTURBANCE_LIMITS": "{}",
        "DAM_DISK_SCRATCH_BYTES": str(4 * 1024 * 1024),
        "DAM_SCRATCH_DIR": str(scratch),
        **(extra_env or {}),
    }
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "dam", "worker", "--concurrency", str(concurrency),
             "--loglevel", "INFO", "--hostname", f"{name}@%h", "--without-gossip", "--without-mingle",
             "--without-heartbeat", *(["-Q", ",".join(queues)] if queues else [])],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            _kill(process)
            pytest.fail(f"the worker did not start:\n{log_path.read_text()}")
        time.sleep(0.2)
    return process


def _kill(process: subprocess.Popen) -> None:
    """SIGKILL to the worker's session: the main process and its pool's children."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # all of them gone already
        pass


def stop_worker(process: subprocess.Popen, log_path: Path) -> None:
    """The worker and its pool's children, killed at once: a warm shutdown takes 3–6 s (closing the pool, the
    broker's polling) and proves nothing here, where the test has already judged what the worker did; a job still
    in flight is simply lost with the test's database, which is emptied next."""
    _kill(process)
    process.wait(timeout=20)
    print(f"--- {log_path.name} ---\n{log_path.read_text()[-5000:]}")


@pytest.fixture
def worker(transactional_db, live_server, tmp_path):
    """One worker process (prefork, 2 children) consuming this test run's queue."""
    celery_app.conf.task_always_eager = False
    log_path = tmp_path / "worker.log"
    purge_stale_jobs()
    process = start_worker("w1", log_path, tmp_path / "worker-scratch")
    try:
        yield process
    finally:
        stop_worker(process, log_path)


@pytest.fixture
def two_workers(transactional_db, live_server, tmp_path):
    """Two separate worker processes, as on two machines, competing for the same queue."""
    celery_app.conf.task_always_eager = False
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    purge_stale_jobs()
    processes = [start_worker(f"w{n}", log, tmp_path / f"scratch-{n}") for n, log in enumerate(logs, 1)]
    try:
        yield processes
    finally:
        for process, log in zip(processes, logs):
            stop_worker(process, log)


class Http:
    """A client of the running server, as a detector, technician or script would be: JSON over HTTP."""

    def __init__(self, base_url: str, token: str):
        self.base_url, self.token = base_url.rstrip("/"), token

    def request(self, method: str, path: str, body=None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers={
            "Authorization": f"Token {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body):
        return self.request("POST", path, body)


def issue_token(name: str, role: str, capsys) -> str:
    call_command("issue_token", name, role=role)
    return capsys.readouterr().out.strip()


@pytest.fixture
def http(live_server, capsys):
    def client(role: str, name: str | None = None) -> Http:
        return Http(live_server.url, issue_token(name or f"{role}-e2e", role, capsys))
    return client


def wait_for_state(client: Http, hostname: str, *states: str, timeout: float = 60) -> dict:
    """Poll the asset until it is in one of `states`; fail with its history if it never gets there."""
    deadline = time.monotonic() + timeout
    while True:
        status, asset = client.get(f"/api/v1/assets/{hostname}/")
        assert status == 200, asset
        if asset["state"] in states:
            return asset
        if time.monotonic() > deadline:
            _, history = client.get(f"/api/v1/assets/{hostname}/history/")
            pytest.fail(f"{hostname} stayed {asset['state']}, expected {states}; history: {history}")
        time.sleep(0.2)
