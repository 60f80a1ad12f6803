"""Access: every endpoint needs a token except /healthz and /readyz; the roles of the contract; tokens stored hashed,
expiring and revocable; throttling per token in the shared cache."""
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from knox.models import AuthToken
from rest_framework.test import APIClient

import lifecycle
from reliability.tasks import purge_expired
from tests.api.helpers import API, assert_error, assert_ok
from tests.reliability.processes import ROOT

SAMPLE = {"hostname": "host-001", "name": "batch", "id": "1"}


def operations():
    """(method, path) of every operation the API serves, with sample path parameters."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, ops in schema["paths"].items():
        for method in ops:
            if method in ("get", "post", "patch", "put", "delete"):
                yield method, path.format(**SAMPLE)


def client_with(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


# Every endpoint needs a token ---------------------------------------------------------------------------------
def test_every_api_operation_without_a_token_is_401(client, fleet):
    fleet(1)
    seen = 0
    for method, path in operations():
        response = getattr(client, method)(path, {}, content_type="application/json")
        assert_error(response, 401)
        seen += 1
    assert seen >= 20
    for path in (f"{API}/schema/", f"{API}/docs/", f"{API}/"):
        assert client.get(path).status_code == 401, path


def test_the_admin_needs_a_login(client):
    for path in ("/admin/", "/admin/assets/asset/", "/admin/reliability/staffaction/"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], path


def test_only_the_health_checks_answer_without_a_token(client, db):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


# Roles --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["viewer", "detector", "agent"])
def test_no_role_but_staff_writes_anything_but_its_own_endpoints(api, fleet, role):
    fleet(1)
    client = api(role, name="host-001" if role == "agent" else None)
    own = {"detector": {f"{API}/faults/", f"{API}/integrations/alertmanager/"},
           # an agent posts faults about its own host (the watch): `{}` names none, so it passes the role check
           "agent": {p for _, p in operations() if "/agent/" in p} | {f"{API}/faults/"}}.get(role, set())
    for method, path in operations():
        if method == "get" or path in own:
            continue
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code in (403, 404), (role, method, path, response.status_code)
        if response.status_code == 404:  # an agent does not even see another host's objects
            assert role == "agent", (method, path)


def test_a_console_viewer_cannot_write_through_the_api_with_its_login(client, fleet):
    from django.contrib.auth.models import Group, User
    fleet(1)
    viewer = User.objects.create_user("vera", password="pw", is_staff=True)
    viewer.groups.add(Group.objects.get_or_create(name="viewer")[0])
    client.force_login(viewer)
    assert_ok(client.get(f"{API}/assets/"))
    assert_error(client.post(f"{API}/assets/host-001/transitions/", {"transition": "isolate", "reason": "x"},
                             content_type="application/json"), 403)


def test_a_detector_cannot_transition_assets_or_touch_tickets(api, fleet):
    asset = fleet(1)[0]
    lifecycle.isolate(asset_id=asset.id, actor="tests", reason="x")
    ticket = lifecycle.start_repair(asset_id=asset.id, actor="tests")
    detector = api("detector")
    assert_error(detector.post(f"{API}/assets/host-001/transitions/", {"transition": "dismiss", "reason": "x"},
                               format="json"), 403)
    assert_error(detector.patch(f"{API}/tickets/{ticket.id}/", {"assignee": "me"}, format="json"), 403)
    assert_error(detector.post(f"{API}/tickets/{ticket.id}/resolve/", {"action_taken": "x"}, format="json"), 403)
    asset.refresh_from_db()
    ticket.refresh_from_db()
    assert (asset.state, ticket.assignee, ticket.status) == ("in_repair", "", "open")


def test_an_agent_sees_only_its_own_host(api, fleet):
    mine, other = fleet(2)
    for asset in (mine, other):
        lifecycle.isolate(asset_id=asset.id, actor="tests", reason="x")
        lifecycle.start_repair(asset_id=asset.id, actor="tests")
        lifecycle.resolve_ticket(ticket_id=asset.repair_tickets.get().id, actor="tests", action_taken="fixed")
    api("detector").post(f"{API}/faults/", [{"asset": a.hostname, "component": "cpu", "severity": "info",
                                             "summary": "x"} for a in (mine, other)], format="json")
    agent = api("agent", name=mine.hostname)

    for listing in ("assets/", "faults/", "tickets/", "inspections/"):
        rows = assert_ok(agent.get(f"{API}/{listing}"))["results"]
        assert rows and {row.get("hostname", row.get("asset")) for row in rows} == {mine.hostname}, listing
    assert_ok(agent.get(f"{API}/assets/{mine.hostname}/"))
    assert_ok(agent.get(f"{API}/assets/{mine.hostname}/history/"))
    assert_error(agent.get(f"{API}/assets/{other.hostname}/"), 404)
    assert_error(agent.get(f"{API}/assets/{other.hostname}/history/"), 404)
    assert_error(agent.get(f"{API}/tickets/{other.repair_tickets.get().id}/"), 404)
    assert_error(agent.get(f"{API}/inspections/{other.inspections.get().id}/"), 404)
    assert_ok(agent.get(f"{API}/pools/"))  # not about one host


# Tokens -------------------------------------------------------------------------------------------------------
def issue(name, role, **options) -> str:
    out = StringIO()
    call_command("issue_token", name, role=role, stdout=out, **options)
    return out.getvalue().strip()


def test_tokens_are_stored_hashed(db):
    token = issue("alice", "viewer")
    row = AuthToken.objects.get()
    stored = [str(value) for value in AuthToken.objects.values_list().get()]
    assert token not in stored and row.digest != token and len(row.digest) == 128
    assert token.startswith(row.token_key) and len(row.token_key) < len(token) / 4  # a lookup prefix only


def test_an_expired_token_is_refused(db, fleet):
    fleet(1)
    token = issue("alice", "viewer", expires_in="90d")
    row = AuthToken.objects.get()
    assert abs(row.expiry - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    client = client_with(token)
    assert_ok(client.get(f"{API}/assets/"))

    later = timezone.now() + timedelta(days=90, seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):  # 90 days later (the cached copy too)
        assert_error(client.get(f"{API}/assets/"), 401)
    assert not AuthToken.objects.exists()


# The token cache (dam/auth.py): revocation and role changes still apply on the very next request -------------
def test_a_cached_token_costs_no_query_for_itself_or_its_roles(db, fleet, settings):
    fleet(1)
    settings.DAM_TOKEN_CACHE_SECONDS = 60
    client = client_with(issue("alice", "viewer"))
    with CaptureQueriesContext(connection) as first:
        assert_ok(client.get(f"{API}/pools/"))
    assert sum("knox_authtoken" in q["sql"] for q in first.captured_queries) == 1  # token, owner, roles at once
    assert not any("auth_group" in q["sql"] and "EXISTS" not in q["sql"] for q in first.captured_queries)
    with CaptureQueriesContext(connection) as second:
        assert_ok(client.get(f"{API}/pools/"))
    assert not any("knox_authtoken" in q["sql"] or "auth_group" in q["sql"] for q in second.captured_queries)


def test_a_revoked_token_is_refused_on_the_next_request_despite_the_cache(db, fleet, settings):
    fleet(1)
    settings.DAM_TOKEN_CACHE_SECONDS = 3600
    token = issue("alice", "viewer")
    client = client_with(token)
    assert_ok(client.get(f"{API}/assets/"))  # now cached
    call_command("revoke_token", token=token, stdout=StringIO())
    assert_error(client.get(f"{API}/assets/"), 401)


@pytest.mark.parametrize("change", ["deactivated", "role taken", "role taken from the group"])
def test_an_owner_changed_is_seen_on_the_next_request_despite_the_cache(db, fleet, settings, change):
    fleet(1)
    settings.DAM_TOKEN_CACHE_SECONDS = 3600
    client = client_with(issue("alice", "staff"))
    assert_ok(client.get(f"{API}/assets/"))  # now cached
    user = AuthToken.objects.get().user
    if change == "deactivated":
        user.is_active = False
        user.save()
    elif change == "role taken":
        user.groups.clear()
    else:
        user.groups.get().user_set.remove(user)
    assert_error(client.get(f"{API}/assets/"), 401 if change == "deactivated" else 403)


def test_a_token_expires_by_itself(db, fleet):
    fleet(1)
    client = client_with(issue("alice", "viewer", expires_in="1s"))
    assert_ok(client.get(f"{API}/assets/"))
    time.sleep(1.1)
    assert_error(client.get(f"{API}/assets/"), 401)


def test_other_expired_tokens_go_with_the_hourly_purge_not_with_each_request(db, fleet):
    # given alice's live token and an older one of hers that has expired
    fleet(1)
    live = issue("alice", "viewer")
    issue("alice", "viewer", expires_in="90d")
    AuthToken.objects.filter(expiry__isnull=False).update(expiry=timezone.now() - timedelta(seconds=1))

    # when she uses the live one, nothing else is swept (knox would query and sweep on every request)
    with CaptureQueriesContext(connection) as queries:
        assert_ok(client_with(live).get(f"{API}/pools/"))
    assert AuthToken.objects.count() == 2
    assert sum("knox_authtoken" in q["sql"] for q in queries.captured_queries) == 1

    # then the hourly purge deletes the expired one and keeps the live one
    assert purge_expired()["api_tokens"] == 1
    assert client_with(live).get(f"{API}/pools/").status_code == 200
    assert AuthToken.objects.get().expiry is None


@pytest.mark.parametrize("text", ["0", "ten", "5w", "-1d", "99999999999d"])
def test_an_unreadable_expiry_is_refused(db, text):
    with pytest.raises(CommandError):
        issue("alice", "viewer", expires_in=text)
    assert not AuthToken.objects.exists()


def test_revoke_one_token_or_all_of_a_user(db, fleet):
    fleet(1)
    first, second, other = issue("alice", "staff"), issue("alice", "staff"), issue("bob", "staff")
    out = StringIO()
    call_command("revoke_token", first, stdout=out)
    assert out.getvalue().strip() == "revoked 1 token"
    assert_error(client_with(first).get(f"{API}/assets/"), 401)
    assert_ok(client_with(second).get(f"{API}/assets/"))

    call_command("revoke_token", user="alice", stdout=out)
    assert_error(client_with(second).get(f"{API}/assets/"), 401)
    assert_ok(client_with(other).get(f"{API}/assets/"))
    with pytest.raises(CommandError):
        call_command("revoke_token", first, stdout=out)  # already gone
    with pytest.raises(CommandError):
        call_command("revoke_token", stdout=out)


# Throttling ---------------------------------------------------------------------------------------------------
def test_throttling_counts_each_token_in_the_shared_cache(db, fleet, settings):
    fleet(1)
    settings.DAM_THROTTLE_RATE = "3/min"
    cache.clear()
    if time.time() % 60 > 50:  # the requests and the check below fall in one minute's window
        time.sleep(60 - time.time() % 60)
    first, second = client_with(issue("alice", "viewer")), client_with(issue("alice", "viewer"))
    for _ in range(3):
        assert_ok(first.get(f"{API}/assets/"))
    response = first.get(f"{API}/assets/")
    body = assert_error(response, 429)
    assert int(response["Retry-After"]) > 0 and "throttled" in body["detail"]
    assert_ok(second.get(f"{API}/assets/"))  # another token of the same user has its own count
    digest = AuthToken.objects.order_by("created").first().digest
    window = int(time.time() // 60)
    assert cache.get(f"throttle_token_token:{digest[:32]}:{window}") == 4  # counted where every process sees it


def test_the_throttle_window_ends_and_retry_after_says_when(db, fleet, settings):
    fleet(1)
    settings.DAM_THROTTLE_RATE = "2/s"
    client = client_with(issue("alice", "viewer"))
    time.sleep(1 - time.time() % 1)  # at the start of a window: the three requests fall in one
    for _ in range(2):
        assert_ok(client.get(f"{API}/pools/"))
    response = client.get(f"{API}/pools/")
    assert_error(response, 429)
    assert response["Retry-After"] == "1"
    time.sleep(1 - time.time() % 1 + 0.05)  # the next window
    assert_ok(client.get(f"{API}/pools/"))


def test_throttling_lets_requests_through_when_the_cache_is_down(db, fleet, settings):
    fleet(1)
    settings.DAM_THROTTLE_RATE = "3/min"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    client = client_with(issue("alice", "viewer"))
    for _ in range(5):
        assert_ok(client.get(f"{API}/assets/"))


@pytest.mark.one_backend  # settings read in a process with an environment of its own: the same on both runs
@pytest.mark.parametrize("environment, backend", [
    ({}, "FileBasedCache"),
    ({"DATABASE_URL": "postgres://db.example/dam"}, "DatabaseCache"),
    ({"DATABASE_URL": "postgres://db.example/dam", "CELERY_BROKER_URL": "redis://redis.example:6379/0"},
     "RedisCache"),
    ({"CELERY_BROKER_URL": "amqp://mq.example//", "DAM_CACHE_URL": "redis://cache.example:6379/1"}, "RedisCache"),
])
def test_the_shared_cache_follows_the_environment(environment, backend, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DAM_DATA_DIR": str(tmp_path), **environment}
    done = subprocess.run([sys.executable, "-c", "from django.conf import settings; import dam.settings as s; "
                                                 "print(s.CACHES['default']['BACKEND'])"],
                          cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "dam.settings"}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(backend)
