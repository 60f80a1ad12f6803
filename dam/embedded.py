"""The embedded installation's files under DAM_DATA_DIR (./var by default): the directory itself and the secret key.

Settings only read them (dam/settings.py); the commands that start DAM make them, before Django's settings are
loaded: manage.py, the WSGI application (gunicorn), the Celery app's configuration (worker, beat) and `make run`
(dam/run.py). The embedded broker makes its own folders when it first connects (dam/broker.py). Nothing here imports
Django: it runs before the settings exist.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE = "secret_key"


def data_dir() -> Path:
    return Path(os.environ.get("DAM_DATA_DIR", BASE_DIR / "var")).resolve()


def _production() -> bool:
    # The same reading as settings.env_bool, which cannot be imported from here (it would load the settings).
    return os.environ.get("DAM_PRODUCTION", "").strip().lower() in {"1", "true", "yes", "on"}


def read_secret_key() -> str | None:
    """The embedded default's secret key, if `prepare()` has made it."""
    try:
        return (data_dir() / SECRET_KEY_FILE).read_text().strip() or None
    except FileNotFoundError:
        return None


def prepare() -> Path:
    """Make the data directory and, unless the secret key comes from the environment (always in production), the
    secret-key file; returns the data directory. Safe to call from several processes starting at once: the key is
    written whole to a private file and linked into place, so the first one made is the one every process reads."""
    directory = data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    if os.environ.get("DJANGO_SECRET_KEY") or _production():
        return directory  # production never keeps a key of its own (the settings refuse to start without one)
    write_once(directory / SECRET_KEY_FILE, lambda: secrets.token_urlsafe(50).encode())
    return directory


def write_once(path: Path, make) -> None:
    """Write make()'s bytes to a private file at `path` unless it exists. Safe when several processes start at once:
    each writes a file of its own and links it into place, so the first one made is the one every process reads."""
    if path.exists():
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(make())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process made it first: theirs is the key
    finally:
        tmp.unlink()
