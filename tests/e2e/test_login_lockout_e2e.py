"""The login lockout holds across web processes: failures counted by one DAM process (the test's live server) lock
the login in another (a real gunicorn on the same database), as behind a load balancer with several web servers."""
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import Group, User

from console.groups import HARDWARE_STAFF
from console.lockout import REFUSED
from reliability.models import StaffAction
from tests.e2e.conftest import ROOT, _database_url

PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def second_web_process(transactional_db, tmp_path):
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    env = {**os.environ, "DATABASE_URL": _database_url(), "DAM_DATA_DIR": str(settings.DATA_DIR),
           "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "DAM_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE}
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "dam.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                break
        except requests.RequestException:  # not listening yet, or its workers still importing Django
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"gunicorn did not start:\n{log_path.read_text()}")
        time.sleep(0.2)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def log_in(base_url: str, username: str, password: str) -> requests.Response:
    session = requests.Session()
    form = session.get(f"{base_url}/admin/login/", timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
    return session.post(f"{base_url}/admin/login/", timeout=30, allow_redirects=False, data={
        "csrfmiddlewaretoken": csrf, "username": username, "password": password, "next": "/admin/"})


def test_failures_on_one_web_process_lock_the_login_on_another(live_server, second_web_process):
    User.objects.create_user("kim", password=PASSWORD, is_staff=True).groups.add(Group.objects.get(name=HARDWARE_STAFF))
    assert log_in(second_web_process, "kim", PASSWORD).status_code == 302  # the other process works

    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(live_server.url, "kim", "wrong")

    refused = log_in(second_web_process, "kim", PASSWORD)
    assert refused.status_code == 429 and "Logins are refused until" in refused.text
    assert "sessionid" not in refused.cookies
    assert StaffAction.objects.filter(target=REFUSED, actor="kim").count() == 2  # the 5th try, and this one
