"""The safety controls over HTTP: pool policy, the approval queue, the global switch, overdue tickets."""
from datetime import timedelta

import pytest
from django.utils import timezone

from assets.models import IsolationRequest
import lifecycle
from repairs.models import RepairTicket
from tests.api.helpers import API, assert_error, assert_ok


def critical(asset):
    lifecycle.report_faults(detector="smartd", items=[{"asset": asset.hostname, "component": "disk",
                                                        "severity": "critical", "summary": "SMART"}])


def test_staff_set_a_pools_policy(api, pool):
    body = assert_ok(api("staff").patch(f"{API}/pools/{pool.name}/", {
        "max_unavailable": "5%", "automation": "dry_run", "warning_count": 4, "isolation_action": "webhook",
        "isolation_target": "https://scheduler.example/drain"}, format="json"))
    assert (body["max_unavailable"], body["automation"], body["warning_count"]) == ("5%", "dry_run", 4)


@pytest.mark.parametrize("change, field", [
    ({"max_unavailable": "ten"}, "max_unavailable"), ({"max_unavailable": "150%"}, "max_unavailable"),
    ({"automation": "sometimes"}, "automation"), ({"isolation_action": "command"}, "isolation_target"),
    ({"isolation_action": "webhook", "isolation_target": "drain.sh"}, "isolation_target"),
    ({"warning_count": -1}, "warning_count")])
def test_a_bad_policy_is_refused_naming_the_field(api, pool, change, field):
    assert_error(api("staff").patch(f"{API}/pools/{pool.name}/", change, format="json"), 400, field)


def test_detectors_and_viewers_cannot_change_policy(api, pool):
    for role in ("detector", "viewer"):
        assert_error(api(role).patch(f"{API}/pools/{pool.name}/", {"automation": "paused"}, format="json"), 403)


@pytest.fixture
def waiting(make_asset, pool, eager_jobs):
    """Two machines of a pool allowing one out: the second one waits for approval."""
    pool.max_unavailable = "1"
    pool.save()
    first, second = make_asset("host-a"), make_asset("host-b")
    critical(first)
    critical(second)
    return second


def test_the_approval_queue(api, waiting):
    body = assert_ok(api("viewer").get(f"{API}/isolation-requests/?status=pending"))
    [request] = body["results"]
    assert request["asset"] == waiting.hostname and "budget" in request["reason"]
    asset = assert_ok(api("viewer").get(f"{API}/assets/{waiting.hostname}/"))
    assert asset["pending_isolation"] == request["id"]

    assert_error(api("detector").post(f"{API}/isolation-requests/{request['id']}/approve/", {}), 403)
    approved = assert_ok(api("staff", name="alice").post(f"{API}/isolation-requests/{request['id']}/approve/",
                                                          {"reason": "confirmed"}, format="json"))
    assert (approved["status"], approved["decided_by"]) == ("approved", "alice")
    assert assert_ok(api("viewer").get(f"{API}/assets/{waiting.hostname}/"))["state"] == "in_repair"
    again = assert_error(api("staff").post(f"{API}/isolation-requests/{request['id']}/dismiss/", {}), 409)
    assert again["status"] == "approved"


def test_dismissing_a_request(api, waiting):
    request = IsolationRequest.objects.get(asset=waiting)
    body = assert_ok(api("staff").post(f"{API}/isolation-requests/{request.id}/dismiss/", {"reason": "noise"},
                                       format="json"))
    assert body["status"] == "dismissed"


def test_the_global_switch(api, asset, eager_jobs):
    assert assert_ok(api("viewer").get(f"{API}/automation/"))["paused"] is False
    assert_error(api("viewer").patch(f"{API}/automation/", {"paused": True}, format="json"), 403)
    body = assert_ok(api("staff", name="alice").patch(f"{API}/automation/", {"paused": True, "reason": "DC move"},
                                                      format="json"))
    assert (body["paused"], body["changed_by"]) == (True, "alice")
    critical(asset)
    assert assert_ok(api("viewer").get(f"{API}/assets/{asset.hostname}/"))["state"] == "active"


def test_overdue_tickets_are_flagged_and_filtered(api, asset, eager_jobs):
    critical(asset)
    ticket = RepairTicket.objects.get(asset=asset)
    assert assert_ok(api("viewer").get(f"{API}/tickets/{ticket.id}/"))["overdue"] is False
    RepairTicket.objects.filter(pk=ticket.pk).update(due_at=timezone.now() - timedelta(hours=1))
    assert assert_ok(api("viewer").get(f"{API}/tickets/{ticket.id}/"))["overdue"] is True
    assert [t["id"] for t in assert_ok(api("viewer").get(f"{API}/tickets/?overdue=true"))["results"]] == [ticket.id]
    assert assert_ok(api("viewer").get(f"{API}/tickets/?overdue=false"))["results"] == []


def test_resolve_names_the_rung_performed(api, asset, eager_jobs):
    critical(asset)
    ticket = RepairTicket.objects.get(asset=asset)
    assert_error(api("staff").post(f"{API}/tickets/{ticket.id}/resolve/", {"action_taken": "x", "action": "pray"},
                                   format="json"), 400, "action")
    body = assert_ok(api("staff").post(f"{API}/tickets/{ticket.id}/resolve/",
                                       {"action_taken": "swapped the chassis", "action": "replace"}, format="json"))
    assert body["performed_action"] == "replace" and body["repair_action"] == "hardware_repair"
