"""Production settings: with the documented production environment (DAM_PRODUCTION=1, DJANGO_SECRET_KEY,
DAM_ALLOWED_HOSTS) `manage.py check --deploy` is clean, HTTP is redirected to HTTPS (health checks excepted), HSTS
and secure cookies are on, and the secret comes only from the environment. Without the switch the embedded
`make run` keeps serving plain HTTP on 127.0.0.1."""
import json
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

from tests.reliability.processes import ROOT

PRODUCTION = {"DAM_PRODUCTION": "1", "DAM_ALLOWED_HOSTS": "dam.example", "DAM_BMC_KEY": Fernet.generate_key().decode()}

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="dam.example")
answers = {
    "http_api": client.get("/api/v1/assets/"),
    "http_healthz": client.get("/healthz"),
    "https_healthz": client.get("/healthz", secure=True),
    "https_login": client.get("/admin/login/", secure=True),
}
print(json.dumps({
    "debug": settings.DEBUG, "secret_key": settings.SECRET_KEY,
    "status": {k: r.status_code for k, r in answers.items()},
    "location": answers["http_api"].get("Location"),
    "hsts": answers["https_healthz"].get("Strict-Transport-Security"),
    "cookies_secure": {name: bool(c["secure"]) for name, c in answers["https_login"].cookies.items()},
}))
"""


# These run DAM in a process with an environment of their own (no DATABASE_URL: SQLite in tmp_path), whichever
# backend the test run has: the same work on both runs (pytest.ini: one_backend).
one_backend = pytest.mark.one_backend


def run(argv, tmp_path, **environment):
    env = {"PATH": "/usr/bin:/bin", "DAM_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "dam.settings",
           **environment}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@one_backend
def test_check_deploy_is_clean_with_the_production_environment(tmp_path):
    done = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path,
               **PRODUCTION, DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


@one_backend
def test_without_the_switch_check_deploy_names_what_production_would_fix(tmp_path):
    done = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path)
    assert done.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in done.stderr + done.stdout, check


@one_backend
def test_production_refuses_to_start_without_a_secret_from_the_environment(tmp_path):
    done = run([sys.executable, "manage.py", "check"], tmp_path, **PRODUCTION)
    assert done.returncode != 0 and "DJANGO_SECRET_KEY" in done.stderr
    assert not (tmp_path / "secret_key").exists()


@one_backend
def test_production_serves_https_only_with_hsts_and_secure_cookies(tmp_path):
    key = secrets.token_urlsafe(50)
    done = run([sys.executable, "-c", PROBE], tmp_path, **PRODUCTION, DJANGO_SECRET_KEY=key)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["debug"] is False and seen["secret_key"] == key
    assert seen["status"]["http_api"] == 301 and seen["location"].startswith("https://dam.example/")
    assert seen["status"]["http_healthz"] == 200  # load balancers probe over plain HTTP
    assert seen["hsts"].startswith("max-age=31536000")
    assert seen["cookies_secure"] and all(seen["cookies_secure"].values()), seen["cookies_secure"]
    assert not (tmp_path / "secret_key").exists()


def test_the_embedded_default_serves_plain_http_without_debug(client, db):
    assert settings.DEBUG is False and not getattr(settings, "SECURE_SSL_REDIRECT", False)
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/assets/").status_code == 401  # not a redirect to https


@one_backend
def test_production_refuses_to_start_without_the_bmc_key(tmp_path):
    environment = {k: v for k, v in PRODUCTION.items() if k != "DAM_BMC_KEY"}
    done = run([sys.executable, "manage.py", "check"], tmp_path, **environment,
               DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    assert done.returncode != 0 and "DAM_BMC_KEY" in done.stderr
    assert not (tmp_path / "bmc_key").exists()  # production never makes a key of its own


@one_backend
def test_production_refuses_a_bmc_key_that_is_not_a_fernet_key(tmp_path):
    done = run([sys.executable, "manage.py", "check"], tmp_path, **{**PRODUCTION, "DAM_BMC_KEY": "hunter2"},
               DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    assert done.returncode != 0 and "DAM_BMC_KEY is not a Fernet key" in done.stderr
