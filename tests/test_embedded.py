"""Settings only read the environment: loading them (and setting Django up) writes nothing and patches no library;
the commands that start DAM make the data directory and the secret key (dam/embedded.py), the Celery app points
"filesystem://" at DAM's own transport, and that transport makes its folders when it connects."""
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python(code: str, data_dir: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DAM_", "CELERY_", "DATABASE_URL", "DJANGO_"))}
    env.update({"DAM_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "dam.settings"})
    done = subprocess.run([sys.executable, *(["-c", code] if code else []), *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


SETUP = """
import json, django
django.setup()
from django.conf import settings
from kombu.transport import TRANSPORT_ALIASES
print(json.dumps({"key": bool(settings.SECRET_KEY), "alias": TRANSPORT_ALIASES["filesystem"]}))
"""


def test_loading_the_settings_writes_nothing_and_patches_nothing(tmp_path):
    data_dir = tmp_path / "fresh"
    seen = json.loads(python(SETUP, data_dir).stdout.strip().splitlines()[-1])
    assert seen == {"key": True, "alias": "kombu.transport.filesystem:Transport"}
    assert not data_dir.exists()


def test_manage_py_makes_the_data_directory_and_one_private_secret_key(tmp_path):
    data_dir = tmp_path / "fresh"
    show_key = ["manage.py", "shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)"]
    first = python("", data_dir, *show_key).stdout.strip().splitlines()[-1]
    key_file = data_dir / "secret_key"
    assert first == key_file.read_text().strip() and len(first) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert python("", data_dir, *show_key).stdout.strip().splitlines()[-1] == first  # kept, not made again


CELERY = """
import json
from dam.celery import app
with app.connection_for_write() as connection:
    connection.default_channel
from django.conf import settings
from kombu.transport import TRANSPORT_ALIASES
print(json.dumps({"key": settings.SECRET_KEY, "alias": TRANSPORT_ALIASES["filesystem"],
                  "transport": type(connection.transport).__module__}))
"""


def test_the_celery_app_prepares_before_the_settings_and_its_broker_makes_its_folders(tmp_path):
    data_dir = tmp_path / "fresh"
    seen = json.loads(python(CELERY, data_dir).stdout.strip().splitlines()[-1])
    # A worker or beat reads the key every other process of this data directory reads.
    assert seen["key"] == (data_dir / "secret_key").read_text().strip()
    assert seen["alias"] == "dam.broker:Transport" and seen["transport"] == "dam.broker"
    assert all((data_dir / "broker" / name).is_dir() for name in ("queue", "processed", "control"))
