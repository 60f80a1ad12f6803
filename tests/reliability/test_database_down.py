"""The database goes down: the API answers 503 with Retry-After and a JSON body — whether the failure happens in a
DRF view, in the idempotency middleware or in the admin's session lookup — /readyz names the database, /healthz
still answers, and the service resumes by itself once the database is back, without a restart.

A PostgreSQL cluster of the test's own (throwaway, on a free port) that the test stops and starts, under a real
gunicorn serving DAM."""
import http.cookiejar
import json
import re
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest

from tests.reliability.processes import ROOT, Postgres, dam_env, request, wait_until, web_server

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Postgres.available(), reason="PostgreSQL server binaries are not installed")]

SETUP = """
import django
django.setup()
from django.contrib.auth.models import User
from django.core.management import call_command
call_command("migrate", verbosity=0)
User.objects.create_superuser("root", password="root-password-for-tests")
from assets.models import Asset, HardwareModel, Pool
model = HardwareModel.objects.create(name="m", vendor="v", cpu_logical_cores=1, memory_bytes=1)
Asset.objects.create(hostname="host-001", hardware_model=model, pool=Pool.objects.create(name="p"))
call_command("issue_token", "alice", role="staff")
"""


class Browser:
    """A person in the admin: a cookie jar, a login with its CSRF token."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path):
        try:
            with self.opener.open(self.base_url + path, timeout=30) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def login(self, username, password):
        _, page, _ = self.get("/admin/login/")
        csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1].decode()
        form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": csrf,
                                       "next": "/admin/"}).encode()
        req = urllib.request.Request(self.base_url + "/admin/login/", data=form,
                                     headers={"Referer": self.base_url + "/admin/login/"})
        with self.opener.open(req, timeout=30) as response:
            assert response.url.endswith("/admin/"), response.url


def assert_503_json(status, body, headers, where):
    assert status == 503, (where, status, body)
    assert headers.get("Content-Type", "").startswith("application/json"), (where, headers)
    assert headers.get("Retry-After") == "5", (where, headers)
    assert "database" in body["detail"], (where, body)


@pytest.fixture
def postgres():
    server = Postgres().init()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


def test_database_down_answers_503_and_service_resumes_by_itself(postgres, tmp_path):
    env = dam_env(database_url=postgres.url, broker_url="filesystem://localhost//", data_dir=tmp_path,
                  queue="dam-db-down", DAM_DB_CONNECT_TIMEOUT="2")
    done = subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    staff = done.stdout.strip().splitlines()[-1]
    web, url = web_server(env, tmp_path)
    try:
        browser = Browser(url)
        browser.login("root", "root-password-for-tests")
        assert request(url, "GET", "/api/v1/assets/", token=staff)[0] == 200
        assert browser.get("/admin/")[0] == 200

        postgres.stop()

        # A DRF view (the token is looked up in the database first).
        assert_503_json(*request(url, "GET", "/api/v1/assets/", token=staff), "DRF view")
        # Middleware, before any view: the Idempotency-Key is claimed in the database.
        fault = {"asset": "host-001", "component": "disk", "severity": "warning", "summary": "slow"}
        assert_503_json(*request(url, "POST", "/api/v1/faults/", fault, token=staff,
                                 headers={"Idempotency-Key": "k-1"}), "idempotency middleware")
        # The admin: the session and its user are read by middleware.
        status, raw, headers = browser.get("/admin/")
        assert_503_json(status, json.loads(raw), headers, "admin session")
        # Health: alive, not ready, and it says why.
        assert request(url, "GET", "/healthz")[0] == 200
        status, body, _ = request(url, "GET", "/readyz")
        assert status == 503 and body["checks"]["database"].startswith("unavailable"), body
        assert body["checks"]["broker"] == "ok"

        postgres.start()

        wait_until(lambda: request(url, "GET", "/api/v1/assets/", token=staff)[0] == 200, timeout=20,
                   what="the API to answer again")
        status, body, _ = request(url, "POST", "/api/v1/faults/", fault, token=staff,
                                  headers={"Idempotency-Key": "k-1"})
        assert status == 202 and body["accepted"] == 1, body  # the key was not used up by the failed attempt
        assert request(url, "GET", "/readyz")[0] == 200
        assert browser.get("/admin/")[0] == 200
        assert web.running, "the web server did not survive"
    finally:
        web.stop()
        print(f"--- web log ---\n{web.log()}")
