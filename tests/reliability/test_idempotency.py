"""Idempotency-Key: a whole run of the lifecycle over the API, every POST with a key; then every request is sent
again. Each replay answers exactly what the first answered (status and body), and nothing in the database moves."""
import itertools

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from assets.models import Asset, AssetTransition, Fault, HardwareModel, Pool
from inspection.models import Inspection
from reliability.models import IdempotentRequest
from repairs.models import RepairTicket
from tests.api.helpers import API, assert_error

keys = itertools.count(1)


class Recorder:
    """An API client that sends every POST with a fresh Idempotency-Key and remembers it and its answer."""

    def __init__(self, token: str, log: list):
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        self.log = log

    def post(self, path, body=None):
        key = f"key-{next(keys)}"
        response = self.client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        self.log.append((self, path, body, key, response.status_code, response.content))
        return response

    def get(self, path):
        return self.client.get(path)


def database_snapshot() -> dict:
    return {
        "models": list(HardwareModel.objects.values_list("name", flat=True)),
        "pools": list(Pool.objects.values_list("name", flat=True)),
        "assets": list(Asset.objects.order_by("hostname").values_list("hostname", "state")),
        "faults": list(Fault.objects.order_by("id").values_list("id", "event_id")),
        "transitions": AssetTransition.objects.count(),
        "tickets": list(RepairTicket.objects.order_by("id").values_list("id", "status", "reopen_count")),
        "inspections": list(Inspection.objects.order_by("id").values_list("id", "verdict")),
    }


def test_replaying_every_request_of_a_run_changes_nothing_and_answers_the_same(token, eager_jobs, settings,
                                                                             hardware_model):
    log = []
    staff, detector = Recorder(token("alice", "staff"), log), Recorder(token("smartd", "detector"), log)

    # A run: the fleet is set up, faults arrive, machines are isolated, repaired, verified — by job and by hand.
    assert staff.post(f"{API}/hardware-models/", {"name": "r740", "vendor": "Dell", "cpu_logical_cores": 1,
                                                   "memory_bytes": 1}).status_code == 201
    assert staff.post(f"{API}/pools/", {"name": "web", "max_unavailable": "100%"}).status_code == 201
    for host in ("web-1", "web-2", "web-3"):
        assert staff.post(f"{API}/assets/", {"hostname": host, "hardware_model": hardware_model.name,
                                             "pool": "web"}).status_code == 201
    assert staff.post(f"{API}/assets/", {"hostname": "web-1", "hardware_model": "r740", "pool": "web"}
                      ).status_code == 400  # a refusal is an answer too
    faults = [{"asset": "web-1", "component": "disk", "severity": "critical", "summary": "SMART", "event_id": "e1"},
              {"asset": "web-2", "component": "cpu", "severity": "info", "summary": "MCE corrected"},
              {"asset": "nowhere", "component": "cpu", "severity": "info", "summary": "?"}]
    assert detector.post(f"{API}/faults/", faults).status_code == 202
    assert detector.post(f"{API}/faults/", faults[0]).json()["duplicates"] == 1  # the same event_id, a new key
    assert staff.post(f"{API}/assets/web-3/transitions/", {"transition": "isolate", "reason": "fans"}
                      ).status_code == 200
    assert staff.post(f"{API}/assets/web-2/transitions/", {"transition": "dismiss", "reason": "no"}
                      ).status_code == 409
    ticket = RepairTicket.objects.get(asset__hostname="web-1")
    assert staff.post(f"{API}/tickets/{ticket.id}/resolve/", {"action_taken": "replaced disk"}).status_code == 200
    assert Asset.objects.get(hostname="web-1").state == "returned"

    # web-3 is verified by its host's agent, which also posts with keys.
    settings.DAM_INSPECTION_RUNNER = "agent"
    ticket = RepairTicket.objects.get(asset__hostname="web-3")
    assert staff.post(f"{API}/tickets/{ticket.id}/resolve/", {"action_taken": "new fans"}).status_code == 200
    agent = Recorder(token("web-3", "agent"), log)
    inspection = agent.get(f"{API}/agent/inspections/next/").json()
    assert agent.post(f"{API}/agent/inspections/{inspection['id']}/start/").status_code == 200
    report = {"error": "fio: cannot open /dev/sdb"}
    assert agent.post(f"{API}/agent/inspections/{inspection['id']}/report/", report).status_code == 200
    assert Asset.objects.get(hostname="web-3").state == "in_repair"

    before = database_snapshot()
    assert IdempotentRequest.objects.count() == len(log) == 14

    # Every request again, same key, same body: the same answer, replayed, and nothing done.
    for client, path, body, key, status, content in log:
        replay = client.client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert (replay.status_code, replay.content) == (status, content), path
        assert replay["Idempotent-Replayed"] == "true"
    assert database_snapshot() == before


def test_the_same_key_with_another_body_is_409_and_does_nothing(token, fleet):
    fleet(1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token('alice', 'staff')}")
    isolate = {"transition": "isolate", "reason": "fans"}
    assert client.post(f"{API}/assets/host-001/transitions/", isolate, format="json",
                       HTTP_IDEMPOTENCY_KEY="k").status_code == 200

    body = assert_error(client.post(f"{API}/assets/host-001/transitions/", {**isolate, "reason": "other"},
                                    format="json", HTTP_IDEMPOTENCY_KEY="k"), 409, "idempotency_key")
    assert "different request" in body["detail"]
    assert_error(client.post(f"{API}/pools/", {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k"), 409)
    assert not Pool.objects.filter(name="x").exists()
    assert AssetTransition.objects.count() == 1


def test_the_same_body_in_another_key_order_is_the_same_request(token, fleet):
    fleet(1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token('alice', 'staff')}")
    path = f"{API}/assets/host-001/transitions/"
    first = client.post(path, '{"transition": "isolate", "reason": "fans"}', content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="k")
    again = client.post(path, '{"reason":"fans","transition":"isolate"}', content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="k")
    assert (again.status_code, again.content) == (first.status_code, first.content) == (200, first.content)
    assert again["Idempotent-Replayed"] == "true"


def test_keys_belong_to_their_token_owner(token, fleet):
    fleet(1)
    fault = {"asset": "host-001", "component": "disk", "severity": "info", "summary": "x"}
    for name in ("smartd-a", "smartd-b"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token(name, 'detector')}")
        assert client.post(f"{API}/faults/", fault, format="json", HTTP_IDEMPOTENCY_KEY="shared").json()[
            "accepted"] == 1
    assert Fault.objects.count() == 2
    owners = set(IdempotentRequest.objects.values_list("owner__username", flat=True))
    assert owners == {"smartd-a", "smartd-b"}


def test_a_retry_while_the_first_is_still_running_is_409_with_retry_after(token, fleet):
    fleet(1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token('alice', 'staff')}")
    body = {"transition": "isolate", "reason": "fans"}
    path = f"{API}/assets/host-001/transitions/"
    # The first request claimed the key and has not answered yet (its row has no status).
    from rest_framework.test import APIRequestFactory
    from reliability.idempotency import fingerprint
    request = APIRequestFactory().post(path, body, format="json")
    IdempotentRequest.objects.create(owner=User.objects.get(username="alice"), key="k", method="POST", path=path,
                                     fingerprint=fingerprint(request))
    response = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert_error(response, 409)
    assert response["Retry-After"] == "1"
    assert Asset.objects.get().state == "active"


def test_a_5xx_answer_is_not_kept_so_the_retry_runs(token, fleet, monkeypatch):
    fleet(1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token('alice', 'staff')}")
    client.raise_request_exception = False
    body = {"transition": "isolate", "reason": "fans"}
    path = f"{API}/assets/host-001/transitions/"
    with monkeypatch.context() as patched:
        patched.setattr("lifecycle.request_transition", lambda **kw: 1 / 0)
        assert client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 500
    assert not IdempotentRequest.objects.exists()
    assert client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 200
    assert Asset.objects.get().state == "isolated"


@pytest.mark.parametrize("key", ["", " ", "k" * 256])
def test_an_unusable_key_is_400(token, fleet, key):
    fleet(1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token('alice', 'staff')}")
    assert_error(client.post(f"{API}/pools/", {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY=key), 400)


def test_without_a_valid_token_the_key_changes_nothing(client, fleet):
    fleet(1)
    assert_error(client.post(f"{API}/pools/", {"name": "x"}, content_type="application/json",
                             HTTP_IDEMPOTENCY_KEY="k"), 401)
    assert_error(client.post(f"{API}/pools/", {"name": "x"}, content_type="application/json",
                             HTTP_IDEMPOTENCY_KEY="k", HTTP_AUTHORIZATION="Token nope"), 401)
    assert not IdempotentRequest.objects.exists()
