"""manage.py issue_token NAME --role ROLE: prints a new API token alone on one line; the token acts in that role."""
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from tests.api.helpers import API, assert_error, assert_ok


def issue(name, role) -> str:
    out = StringIO()
    call_command("issue_token", name, role=role, stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, out.getvalue()
    return lines[0]


def client_with(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_prints_one_token_alone_on_a_line(db):
    token = issue("smartd-probe", "detector")
    assert token == token.strip() and " " not in token and len(token) >= 32
    assert User.objects.get(username="smartd-probe").groups.get().name == "detector"


def test_command_line_prints_only_the_token(transactional_db, tmp_path):
    """The real command in its own process, against this test database: stdout is the token and nothing else."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{db['NAME']}"
    else:
        host, port = db["HOST"] or "localhost", db["PORT"] or 5432
        url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{host}:{port}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DAM_DATA_DIR": str(tmp_path)}

    done = subprocess.run([sys.executable, "manage.py", "issue_token", "cli-probe", "--role", "detector"],
                          cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and lines[0] and " " not in lines[0], done.stdout
    assert_ok(client_with(lines[0]).get(f"{API}/faults/"))


def test_each_call_prints_a_new_token_and_both_work(db, asset):
    first, second = issue("alice", "viewer"), issue("alice", "viewer")
    assert first != second
    for token in (first, second):
        assert_ok(client_with(token).get(f"{API}/assets/"))


def test_detector_token_posts_faults_but_does_not_move_assets(db, asset):
    client = client_with(issue("smartd-probe", "detector"))
    assert_ok(client.post(f"{API}/faults/", {"asset": asset.hostname, "component": "cpu", "severity": "info",
                                             "summary": "MCE corrected"}, format="json"), 202)
    assert_error(client.post(f"{API}/assets/{asset.hostname}/transitions/", {"transition": "isolate", "reason": "x"},
                             format="json"), 403)


def test_staff_token_writes(db, hardware_model, pool):
    client = client_with(issue("alice", "staff"))
    assert_ok(client.post(f"{API}/assets/", {"hostname": "host-new", "hardware_model": "test-model",
                                             "pool": "batch"}, format="json"), 201)


def test_agent_token_is_its_hosts(db, asset):
    client = client_with(issue(asset.hostname, "agent"))
    assert client.get(f"{API}/agent/inspections/next/").status_code == 204
    assert_error(client.get(f"{API}/agent/inspections/next/?hostname=other-host"), 403)


def test_another_role_for_an_existing_user_is_refused_naming_its_role(db):
    old = issue("alice", "viewer")

    with pytest.raises(CommandError, match="alice exists with role viewer.*--change-role") as refused:
        call_command("issue_token", "alice", role="staff", stdout=StringIO())

    assert refused.value.returncode == 2
    assert list(User.objects.get(username="alice").groups.values_list("name", flat=True)) == ["viewer"]
    assert User.objects.get(username="alice").auth_token_set.count() == 1
    assert_error(client_with(old).post(f"{API}/pools/", {"name": "web"}, format="json"), 403)


def test_the_command_line_exits_2_for_another_role(transactional_db, tmp_path):
    issue("alice", "viewer")
    db = connection.settings_dict
    if not db["ENGINE"].endswith("sqlite3"):
        pytest.skip("the SQLite path of the test database is enough to run the real command")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db['NAME']}", "DAM_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "manage.py", "issue_token", "alice", "--role", "staff"],
                          cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert "alice exists with role viewer" in done.stderr


def test_change_role_moves_the_user_and_every_token_follows(db, hardware_model, pool):
    old = issue("alice", "viewer")
    create = {"hostname": "host-new", "hardware_model": "test-model", "pool": "batch"}
    assert_error(client_with(old).post(f"{API}/assets/", create, format="json"), 403)

    out = StringIO()
    call_command("issue_token", "alice", role="staff", change_role=True, stdout=out)
    new = out.getvalue().strip()

    assert list(User.objects.get(username="alice").groups.values_list("name", flat=True)) == ["staff"]
    assert_ok(client_with(new).post(f"{API}/assets/", create, format="json"), 201)
    # The role belongs to the user, so the older token acts as staff now too.
    assert_ok(client_with(old).post(f"{API}/pools/", {"name": "web"}, format="json"), 201)


def test_unknown_role_is_refused(db):
    with pytest.raises(CommandError):
        call_command("issue_token", "alice", role="admin", stdout=StringIO())
    assert not User.objects.filter(username="alice").exists()


def test_empty_name_is_refused(db):
    with pytest.raises(CommandError):
        call_command("issue_token", "  ", role="viewer", stdout=StringIO())
