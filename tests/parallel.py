"""Each pytest-xdist worker (`pytest -n 2`, as `make test` runs) gets a DAM of its own: its own data directory (SQLite
test database, filesystem broker, cache, secret key), its own Celery queues and its own Redis database.

The settings read the environment once, at import, and pytest-django imports them before any conftest: so the
environment is set for each worker process by the controller, before the worker starts (`pytest_xdist_setupnodes`
in tests/conftest.py), not patched into the settings. The real worker, web and beat processes the end-to-end tests
start inherit it. pytest-django already gives each worker its own test database (`test_<name>_gw0`,
`test.sqlite3_gw0`); without xdist nothing here runs.
"""
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worker_environment(worker: str, environ=os.environ) -> dict[str, str]:
    """The variables that make worker `worker` ("gw0", "gw1", …) a DAM of its own."""
    index = int(worker.removeprefix("gw"))
    data_dir = Path(environ.get("DAM_DATA_DIR") or ROOT / "var") / worker
    env = {
        "DAM_DATA_DIR": str(data_dir),
        # Two workers on one queue would run each other's jobs (against the other's test database).
        "DAM_QUEUE": f"{environ.get('DAM_QUEUE') or 'dam'}-{worker}",
    }
    # Redis: database N + the worker's index. A test's cache.clear() is a FLUSHDB: it must not empty the queue or the
    # cache of a test running beside it. `make test` starts from database 14, so two workers use 14 and 15.
    for name in ("CELERY_BROKER_URL", "DAM_CACHE_URL"):
        if match := re.fullmatch(r"(rediss?://[^/]*)(?:/(\d+))?/?", environ.get(name, "")):
            env[name] = f"{match[1]}/{int(match[2] or 0) + index}"
    return env
