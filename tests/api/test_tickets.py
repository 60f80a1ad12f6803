"""tickets/: the technicians' queue. Staff assign and annotate tickets and resolve them, which starts verification."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import lifecycle
from assets.models import Asset
from repairs.api.views import RepairTicketViewSet
from repairs.models import RepairTicket
from tests.api.helpers import API, assert_error, assert_ok

TICKETS = f"{API}/tickets/"


def resolve(client, ticket_id, action_taken="replaced the disk"):
    return client.post(f"{TICKETS}{ticket_id}/resolve/", {"action_taken": action_taken}, format="json")


# Roles ------------------------------------------------------------------------------------------------------
def test_no_token_is_401(client, repair_ticket):
    assert_error(client.get(TICKETS), 401)
    assert_error(client.get(f"{TICKETS}{repair_ticket.id}/"), 401)
    assert_error(client.patch(f"{TICKETS}{repair_ticket.id}/", {"assignee": "bob"},
                              content_type="application/json"), 401)
    assert_error(client.post(f"{TICKETS}{repair_ticket.id}/resolve/", {"action_taken": "x"},
                             content_type="application/json"), 401)


@pytest.mark.parametrize("role", ["viewer", "agent", "detector", "staff"])
def test_every_role_reads_tickets(api, repair_ticket, role):
    # An agent token sees only its own host's tickets (another host's agent: tests/reliability/test_access.py).
    client = api(role, name=repair_ticket.asset.hostname if role == "agent" else None)
    assert [t["id"] for t in assert_ok(client.get(TICKETS))["results"]] == [repair_ticket.id]
    assert assert_ok(client.get(f"{TICKETS}{repair_ticket.id}/"))["id"] == repair_ticket.id


@pytest.mark.parametrize("role", ["viewer", "agent", "detector"])
def test_only_staff_change_or_resolve_tickets(api, repair_ticket, asset, role):
    client = api(role)
    assert_error(client.patch(f"{TICKETS}{repair_ticket.id}/", {"assignee": "bob"}, format="json"), 403)
    assert_error(resolve(client, repair_ticket.id), 403)
    repair_ticket.refresh_from_db()
    assert (repair_ticket.assignee, repair_ticket.status) == ("", "open")
    assert Asset.objects.get(pk=asset.pk).state == "in_repair"


def test_tickets_are_not_created_or_deleted_through_the_api(api, repair_ticket):
    staff = api("staff")
    assert_error(staff.post(TICKETS, {"summary": "x"}, format="json"), 405)
    assert_error(staff.delete(f"{TICKETS}{repair_ticket.id}/"), 405)


# GET --------------------------------------------------------------------------------------------------------
def test_detail_shape(api, repair_ticket, asset):
    body = assert_ok(api("viewer").get(f"{TICKETS}{repair_ticket.id}/"))
    assert body["asset"] == asset.hostname and body["asset_state"] == "in_repair"
    assert body["status"] == "open" and body["faults"] == [] and body["reopen_count"] == 0
    assert {"summary", "assignee", "notes", "action_taken", "opened_by", "opened_at", "resolved_at",
            "closed_at"} <= set(body)


@pytest.fixture
def queue(make_asset):
    tickets = {}
    for hostname, status in [("host-a", "open"), ("host-b", "in_progress"), ("host-c", "cancelled")]:
        asset = make_asset(hostname, state="in_repair" if status != "cancelled" else "active")
        tickets[hostname] = RepairTicket.objects.create(asset=asset, status=status, summary="disk", opened_by="t")
    return tickets


@pytest.mark.parametrize("query, expected", [
    ("", ["host-c", "host-b", "host-a"]),
    ("?status=open", ["host-a"]),
    ("?status=in_progress", ["host-b"]),
    ("?asset=host-c", ["host-c"]),
    ("?asset=host-a&status=in_progress", []),
])
def test_list_filters(api, queue, query, expected):
    body = assert_ok(api("viewer").get(TICKETS + query))
    assert set(body) == {"next", "previous", "results"}
    assert [t["asset"] for t in body["results"]] == expected


def test_invalid_status_filter_is_400(api, queue):
    assert_error(api("viewer").get(f"{TICKETS}?status=done"), 400, "status")


@pytest.mark.parametrize("path", ["999999/", "abc/", "999999/resolve/"])
def test_unknown_ticket_is_404(api, path):
    staff = api("staff")
    response = staff.post(TICKETS + path, {"action_taken": "x"}, format="json") if "resolve" in path \
        else staff.get(TICKETS + path)
    assert_error(response, 404)


# PATCH ------------------------------------------------------------------------------------------------------
def test_staff_assign_and_annotate(api, repair_ticket):
    body = assert_ok(api("staff").patch(f"{TICKETS}{repair_ticket.id}/", {"assignee": "bob", "notes": "parts ordered"},
                                        format="json"))
    assert (body["assignee"], body["notes"]) == ("bob", "parts ordered")
    repair_ticket.refresh_from_db()
    assert (repair_ticket.assignee, repair_ticket.notes) == ("bob", "parts ordered")


def test_status_moves_between_open_and_in_progress(api, repair_ticket):
    staff = api("staff")
    url = f"{TICKETS}{repair_ticket.id}/"
    assert assert_ok(staff.patch(url, {"status": "in_progress"}, format="json"))["status"] == "in_progress"
    assert assert_ok(staff.patch(url, {"status": "open"}, format="json"))["status"] == "open"


@pytest.mark.parametrize("status", ["resolved", "cancelled", "closed"])
def test_patch_cannot_resolve_or_cancel(api, repair_ticket, asset, status):
    assert_error(api("staff").patch(f"{TICKETS}{repair_ticket.id}/", {"status": status}, format="json"), 400,
                 "status")
    repair_ticket.refresh_from_db()
    assert repair_ticket.status == "open"
    assert Asset.objects.get(pk=asset.pk).state == "in_repair"


def test_patch_refuses_read_only_fields_naming_them(api, repair_ticket):
    assert_error(api("staff").patch(f"{TICKETS}{repair_ticket.id}/",
                                    {"summary": "rewritten", "action_taken": "nothing", "reopen_count": 9},
                                    format="json"), 400, "summary", "action_taken", "reopen_count")
    repair_ticket.refresh_from_db()
    assert (repair_ticket.action_taken, repair_ticket.reopen_count) == ("", 0)


def test_status_of_a_resolved_ticket_cannot_be_changed_by_hand(api, repair_ticket):
    staff = api("staff")
    assert_ok(resolve(staff, repair_ticket.id))
    assert_error(staff.patch(f"{TICKETS}{repair_ticket.id}/", {"status": "open"}, format="json"), 400, "status")


@pytest.fixture
def resolved_while_the_patch_is_on_its_way(monkeypatch):
    """The lifecycle resolves the ticket after the PATCH loaded it and before it writes: the race a plain full
    save loses (it would write the old status and notes back)."""
    load = RepairTicketViewSet.get_object

    def load_then_someone_resolves(view):
        ticket = load(view)
        lifecycle.resolve_ticket(ticket_id=ticket.id, actor="tech", action_taken="replaced sda")
        return ticket

    monkeypatch.setattr(RepairTicketViewSet, "get_object", load_then_someone_resolves)


def test_patch_keeps_a_resolve_that_happened_meanwhile(api, repair_ticket, asset,
                                                       resolved_while_the_patch_is_on_its_way):
    body = assert_ok(api("staff").patch(f"{TICKETS}{repair_ticket.id}/", {"assignee": "bob"}, format="json"))

    repair_ticket.refresh_from_db()
    assert (repair_ticket.status, repair_ticket.assignee, repair_ticket.action_taken) == (
        "resolved", "bob", "replaced sda")
    assert repair_ticket.resolved_at and "Resolved by tech" in repair_ticket.notes
    assert (body["status"], body["assignee"]) == ("resolved", "bob")  # the answer is the ticket as it is now
    assert Asset.objects.get(pk=asset.pk).state == "verifying"


def test_patch_of_the_status_after_a_resolve_meanwhile_is_409_and_saves_nothing(
        api, repair_ticket, resolved_while_the_patch_is_on_its_way):
    body = assert_error(api("staff").patch(f"{TICKETS}{repair_ticket.id}/",
                                           {"status": "in_progress", "assignee": "bob"}, format="json"), 409, "status")

    assert body["status"] == "resolved" and "resolved" in body["detail"]
    repair_ticket.refresh_from_db()
    assert (repair_ticket.status, repair_ticket.assignee) == ("resolved", "")


def test_patch_writes_only_the_fields_that_changed(api, repair_ticket):
    staff = api("staff")
    url = f"{TICKETS}{repair_ticket.id}/"

    with CaptureQueriesContext(connection) as changed:
        assert_ok(staff.patch(url, {"assignee": "bob", "status": "open"}, format="json"))  # status: as it was
    with CaptureQueriesContext(connection) as unchanged:
        assert_ok(staff.patch(url, {"assignee": "bob"}, format="json"))

    [update] = [q["sql"] for q in changed.captured_queries if q["sql"].startswith("UPDATE")]
    assert update.split(" WHERE ")[0].split(" SET ")[1].count("=") == 1 and '"assignee" =' in update
    assert not [q for q in unchanged.captured_queries if q["sql"].startswith("UPDATE")]
    if connection.vendor == "postgresql":  # SQLite has no row locks; the transaction is its lock
        assert any("FOR UPDATE" in q["sql"] for q in changed.captured_queries)


def test_overdue_filter_counts_only_tickets_still_being_worked(api, make_asset):
    """A resolved ticket past its due_at waits for its machine's verification, not for a technician: not overdue
    (the contract's additions), though it is not closed."""
    late, resolved, fresh = (make_asset(name) for name in ("host-late", "host-resolved", "host-fresh"))
    past = timezone.now() - timedelta(hours=1)
    for asset in (late, resolved, fresh):
        lifecycle.isolate(asset_id=asset.id, actor="tests", reason="critical disk fault")
        lifecycle.start_repair(asset_id=asset.id, actor="tests")
    RepairTicket.objects.filter(asset__in=[late, resolved]).update(due_at=past)
    lifecycle.resolve_ticket(ticket_id=RepairTicket.objects.get(asset=resolved).id, actor="tech",
                             action_taken="replaced disk")

    viewer = api("viewer")
    overdue = assert_ok(viewer.get(TICKETS + "?overdue=true"))["results"]
    not_overdue = assert_ok(viewer.get(TICKETS + "?overdue=false"))["results"]

    assert [t["asset"] for t in overdue] == ["host-late"] and overdue[0]["overdue"] is True
    assert sorted(t["asset"] for t in not_overdue) == ["host-fresh", "host-resolved"]
    assert {t["asset"]: t["overdue"] for t in not_overdue} == {"host-fresh": False, "host-resolved": False}
    assert RepairTicket.objects.get(asset=resolved).closed_at is None


# resolve ----------------------------------------------------------------------------------------------------
def test_resolve_sends_the_asset_to_verification(api, repair_ticket, asset):
    body = assert_ok(resolve(api("staff", name="alice"), repair_ticket.id, "replaced sda"))

    assert (body["status"], body["action_taken"], body["asset_state"]) == ("resolved", "replaced sda", "verifying")
    assert body["resolved_at"] and body["closed_at"] is None
    asset_body = assert_ok(api("viewer").get(f"{API}/assets/{asset.hostname}/"))
    assert asset_body["state"] == "verifying" and asset_body["last_inspection"]["verdict"] == "pending"
    row = asset.transitions.first()
    assert (row.transition, row.actor) == ("start_verification", "alice") and "replaced sda" in row.reason


def test_resolve_from_in_progress(api, repair_ticket):
    staff = api("staff")
    assert_ok(staff.patch(f"{TICKETS}{repair_ticket.id}/", {"status": "in_progress"}, format="json"))
    assert assert_ok(resolve(staff, repair_ticket.id))["status"] == "resolved"


def test_resolve_then_the_inspection_returns_the_asset(api, asset, eager_jobs):
    api("detector").post(f"{API}/faults/", {"asset": asset.hostname, "component": "disk", "severity": "critical",
                                            "summary": "SMART errors"}, format="json")
    ticket_id = Asset.objects.get(pk=asset.pk).repair_tickets.get().id

    assert_ok(resolve(api("staff"), ticket_id))

    asset_body = assert_ok(api("viewer").get(f"{API}/assets/{asset.hostname}/"))
    assert asset_body["state"] == "returned" and asset_body["open_ticket"] is None
    assert asset_body["last_inspection"]["verdict"] == "passed"
    ticket = assert_ok(api("viewer").get(f"{TICKETS}{ticket_id}/"))
    assert ticket["status"] == "resolved" and ticket["closed_at"]


def test_resolve_twice_is_409(api, repair_ticket, asset):
    staff = api("staff")
    assert_ok(resolve(staff, repair_ticket.id))

    body = assert_error(resolve(staff, repair_ticket.id), 409, "status")

    assert body["status"] == "resolved"
    assert Asset.objects.get(pk=asset.pk).state == "verifying"
    assert asset.inspections.count() == 1


@pytest.mark.parametrize("payload", [{}, {"action_taken": ""}])
def test_resolve_without_action_taken_is_400(api, repair_ticket, asset, payload):
    assert_error(api("staff").post(f"{TICKETS}{repair_ticket.id}/resolve/", payload, format="json"), 400,
                 "action_taken")
    repair_ticket.refresh_from_db()
    assert repair_ticket.status == "open"
    assert Asset.objects.get(pk=asset.pk).state == "in_repair"
