"""`make run`'s supervisor (dam/run.py) leaves nothing behind: killed even by SIGKILL, its web server, worker and beat
(and their own workers) end with it; a second one on a data directory in use refuses to start naming the first; a
child that exits stops the others; SIGTERM stops them all, killing the one that does not listen."""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from django.conf import settings

from dam.run import EXIT_IN_USE
from tests.e2e.conftest import _database_url
from tests.e2e.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)
    return result


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those still running (an exited process its new parent has not reaped yet has ended all the same)."""
    running = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
        except psutil.NoSuchProcess:
            pass
    return running


def ended(pid: int) -> bool:
    try:
        return not alive([psutil.Process(pid)])
    except psutil.NoSuchProcess:
        return True


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def dam_env(transactional_db, tmp_path):
    """The supervisor's environment: this test run's database (migrated, so beat finds its tables), a data
    directory of its own (the lock, the secret key, the embedded broker's folders) and a queue of its own."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DAM_", "CELERY_"))}
    env.update({"DATABASE_URL": _database_url(), "DAM_DATA_DIR": str(tmp_path / "data"),
                "DAM_QUEUE": f"{settings.CELERY_TASK_DEFAULT_QUEUE}-run", "DAM_INSPECTION_RUNNER": "local"})
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    return env


def test_nothing_outlives_a_killed_supervisor_and_a_second_one_is_refused(dam_env, tmp_path):
    port = free_port()
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        supervisor = subprocess.Popen([sys.executable, "-m", "dam.run", "--port", str(port)], cwd=ROOT,
                                      env=dam_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz") or supervisor.poll() is not None, 60,
                 "the web server")
        assert supervisor.poll() is None, log.read_text()
        # web, worker, beat, gunicorn's 2 workers and the worker's pool of 2
        tree = wait_for(lambda: (lambda found: found if len(found) >= 7 else None)(
            psutil.Process(supervisor.pid).children(recursive=True)), 60, f"all processes:\n{log.read_text()}")

        second = subprocess.run([sys.executable, "-m", "dam.run", "--port", str(free_port())], cwd=ROOT,
                                env=dam_env, capture_output=True, text=True, timeout=60)
        assert second.returncode == EXIT_IN_USE
        assert f"already running on the data directory {dam_env['DAM_DATA_DIR']} (process {supervisor.pid})" \
            in second.stderr
        assert len(alive(tree)) == len(tree)  # the refused start touched nothing of the running one

        started = time.monotonic()
        supervisor.send_signal(signal.SIGKILL)
        supervisor.wait()
        deadline = time.monotonic() + 10
        while alive(tree) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(tree), [" ".join(p.cmdline()[:6]) for p in alive(tree)]
        print(f"all {len(tree)} processes ended {time.monotonic() - started:.1f} s after the supervisor was killed")
    finally:
        for process in alive([psutil.Process(supervisor.pid)] if supervisor.poll() is None else []):
            process.kill()
        print(log.read_text()[-5000:])


SUPERVISE = """
import sys
from dam.run import Supervisor
python = sys.executable
commands = {name: [python, "-c", code] for name, code in %r.items()}
sys.exit(Supervisor(commands, stop_seconds=1).run())
"""
SLEEPER = "import time; print('ready', flush=True); time.sleep(60)"


def supervise(children: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-c", SUPERVISE % children], cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)


def pids(log: Path) -> dict[str, int]:
    return {name: int(pid) for name, pid in re.findall(r"started (\w+) \(process (\d+)\)", log.read_text())}


def test_a_child_that_exits_stops_the_others_and_the_supervisor_fails(tmp_path):
    log = tmp_path / "run.log"
    supervisor = supervise({"steady": SLEEPER, "crashing": "import time, sys; time.sleep(0.5); sys.exit(3)"}, log)
    assert supervisor.wait(timeout=30) == 1, log.read_text()
    output = log.read_text()
    assert "crashing exited with status 3: stopping steady" in output
    assert ended(pids(log)["steady"])
    assert re.search(r"^steady +\| ready$", output, re.M)  # each child's output, named


POLITE = ("import signal, sys, time\n"
          "signal.signal(signal.SIGTERM, lambda *_: (print('bye', flush=True), sys.exit(0)))\n"
          "print('ready', flush=True)\n"
          "time.sleep(60)")
# Ignores SIGTERM and has a child of its own, which must not survive it.
STUBBORN = ("import signal, subprocess, sys, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
            "print('ready', child.pid, flush=True)\n"
            "time.sleep(60)")


def test_sigterm_stops_every_child_and_kills_the_one_that_does_not_listen(tmp_path):
    log = tmp_path / "run.log"
    supervisor = supervise({"polite": POLITE, "stubborn": STUBBORN}, log)
    wait_for(lambda: log.read_text().count("| ready") == 2, 30, "the children")
    grandchild = int(re.search(r"stubborn \| ready (\d+)", log.read_text()).group(1))
    processes = [psutil.Process(pid) for pid in [*pids(log).values(), grandchild]]

    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=30) == 0
    output = log.read_text()
    assert "asked to stop (SIGTERM): stopping polite, stubborn" in output
    assert re.search(r"^polite +\| bye$", output, re.M)
    assert "stubborn is still running: killing it" in output
    wait_for(lambda: not alive(processes), 5, "every process to end")
