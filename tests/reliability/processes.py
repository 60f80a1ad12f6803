"""Real processes for the failure tests: DAM's web server, Celery worker and beat, a Redis of the test's own and a
throwaway PostgreSQL, each on a free port, each stopped (or killed) by the test and always cleaned up."""
from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1:] or [""]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:g} s")
        time.sleep(interval)


class Process:
    """One child process in its own session (so it can be killed with all its children), logging to a file."""

    def __init__(self, name: str, argv: list[str], *, env: dict, log_dir: Path, cwd: Path = ROOT):
        self.name, self.argv, self.env, self.cwd = name, argv, env, cwd
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        with open(self.log_path, "a") as log:
            self.popen = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True)
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to the process and all its children (even those that outlived it): nothing gets to clean up."""
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:  # the whole session is gone already
            pass
        self.popen.wait(timeout=10)

    def terminate(self) -> None:
        if self.running:
            os.killpg(self.popen.pid, signal.SIGTERM)

    def stop(self, timeout: float = 5) -> None:
        """SIGTERM, and SIGKILL if it has not exited after `timeout` seconds."""
        self.terminate()
        if self.popen is None:
            return
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else ""


class Redis(Process):
    def __init__(self, log_dir: Path, port: int | None = None):
        self.port = port or free_port()
        super().__init__(f"redis-{self.port}", ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                                "--save", "", "--appendonly", "no"], env=dict(os.environ),
                         log_dir=log_dir)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "Redis":
        super().start()
        wait_until(self._answers, timeout=10, what="redis-server")
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


class Postgres:
    """A PostgreSQL cluster of the test's own in a temporary directory; stop() and start() as often as needed.
    initdb refuses to run as root, so as root the cluster belongs to the postgres user."""

    def __init__(self):
        self.bin = Path(PG_BIN[0])
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="dam-pg-"))
        self.data = self.dir / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")

    @classmethod
    def available(cls) -> bool:
        return bool(PG_BIN[0]) and (os.geteuid() != 0 or shutil.which("runuser") is not None)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv):
        subprocess.run(self.as_user + list(argv), check=True, capture_output=True, timeout=60)

    def init(self) -> "Postgres":
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-N",
                  "-E", "UTF8", "--locale=C")
        return self

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off -c synchronous_commit=off")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w",
                  "-t", "30", "-o", options, "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.dir, ignore_errors=True)


def dam_env(*, database_url: str, broker_url: str, data_dir: Path, queue: str, **extra: str) -> dict:
    """The environment of a DAM process in these tests: fast checks, fast beat jobs, no throttling."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "DAM_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "dam.settings",
        "DATABASE_URL": database_url, "CELERY_BROKER_URL": broker_url, "DAM_DATA_DIR": str(data_dir),
        "DAM_QUEUE": queue, "DAM_INSPECTION_RUNNER": "local", "DAM_CHECK_SECONDS": "0.1", "DAM_FULL_CHECK_SECONDS": "0.1",
        # The suite runs on a busy machine: these tests judge the lifecycle, not the machine's calm (tests/conftest.py).
        "DAM_DISTURBANCE_LIMITS": "{}",
        "DAM_DISK_SCRATCH_BYTES": str(4 * 1024 * 1024), "DAM_SCRATCH_DIR": str(data_dir / "scratch"),
        "DAM_THROTTLE_RATE": "off", "DAM_DB_CONN_MAX_AGE": "60",
    })
    env.update(extra)
    return env


def web_server(env: dict, log_dir: Path) -> tuple[Process, str]:
    port = free_port()
    process = Process("web", [sys.executable, "-m", "gunicorn", "dam.wsgi", "--bind", f"127.0.0.1:{port}",
                              "--workers", "1", "--threads", "4", "--timeout", "60"], env=env, log_dir=log_dir)
    process.start()
    url = f"http://127.0.0.1:{port}"

    def up():
        if not process.running:
            raise RuntimeError(f"the web server exited:\n{process.log()}")
        try:
            return request(url, "GET", "/healthz")[0] == 200
        except OSError:
            return False
    wait_until(up, timeout=30, what="the web server")
    return process, url


def celery(kind: str, env: dict, log_dir: Path, *, name: str | None = None, argv_prefix: list[str] | None = None,
           schedule: Path | None = None) -> Process:
    """`celery worker` (prefork, 2 children) or `celery beat`, started and ready."""
    base = argv_prefix or [sys.executable, "-m", "celery"]
    if kind == "worker":
        argv = base + ["-A", "dam", "worker", "--concurrency", "2", "--loglevel", "INFO", "--without-gossip",
                       "--without-mingle", "--without-heartbeat"]
        ready = "ready."
    else:
        argv = base + ["-A", "dam", "beat", "--loglevel", "INFO", "--scheduler", "celery.beat:PersistentScheduler",
                       "--schedule", str(schedule)]
        ready = "beat: Starting"
    process = Process(name or kind, argv, env=env, log_dir=log_dir)
    start = len(process.log(tail=10**9))
    process.start()

    def up():
        if not process.running:
            raise RuntimeError(f"{process.name} exited:\n{process.log()}")
        return ready in process.log(tail=10**9)[start:]
    wait_until(up, timeout=60, what=process.name, interval=0.2)
    return process


def request(base_url: str, method: str, path: str, body=None, *, token: str | None = None,
            headers: dict | None = None, timeout: float = 30) -> tuple[int, dict, dict]:
    """(status, JSON body, headers) of one HTTP request."""
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Token {token}"
    req = urllib.request.Request(base_url + path, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {"non_json_body": raw[:500].decode(errors="replace")}
        return error.code, parsed, dict(error.headers)
