"""assets/: the fleet by hostname, its audit history, and transitions asked for by staff."""
import pytest

from assets.models import Asset, AssetTransition, HardwareModel, Pool
from inspection.models import Inspection
from repairs.models import RepairTicket
from tests.api.helpers import API, assert_error, assert_ok

ASSETS = f"{API}/assets/"
MANUAL = {"isolate", "start_repair", "dismiss", "start_verification", "end_probation", "retire", "reinstate"}


def new_asset(hostname="host-new", **fields):
    return {"hostname": hostname, "hardware_model": "test-model", "pool": "batch", **fields}


def transition(client, hostname, name, reason="by hand"):
    return client.post(f"{ASSETS}{hostname}/transitions/", {"transition": name, "reason": reason}, format="json")


# Roles ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["", "host-001/", "host-001/history/"])
def test_no_token_is_401(client, asset, path):
    assert_error(client.get(ASSETS + path), 401)


def test_no_token_cannot_write(client, asset):
    assert_error(client.post(ASSETS, new_asset(), content_type="application/json"), 401)
    assert_error(client.post(f"{ASSETS}host-001/transitions/", {"transition": "isolate", "reason": "x"},
                             content_type="application/json"), 401)


@pytest.mark.parametrize("role", ["viewer", "agent", "detector", "staff"])
@pytest.mark.parametrize("path", ["", "host-001/", "host-001/history/"])
def test_every_role_reads(api, asset, role, path):
    assert_ok(api(role, name="host-001" if role == "agent" else None).get(ASSETS + path))


@pytest.mark.parametrize("role", ["viewer", "agent", "detector"])
def test_only_staff_create_assets(api, hardware_model, pool, role):
    assert_error(api(role).post(ASSETS, new_asset(), format="json"), 403)
    assert not Asset.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "agent", "detector"])
def test_only_staff_ask_for_transitions(api, asset, role):
    assert_error(transition(api(role), asset.hostname, "isolate"), 403)
    assert Asset.objects.get(pk=asset.pk).state == "active"


# POST -------------------------------------------------------------------------------------------------------
def test_staff_create_an_asset_naming_model_and_pool(api, hardware_model, pool):
    body = assert_ok(api("staff").post(ASSETS, new_asset(serial="SN1", asset_tag="AT1", site="lab", rack="R01"),
                                       format="json"), 201)

    assert body["hostname"] == "host-new"
    assert (body["hardware_model"], body["pool"], body["serial"], body["asset_tag"], body["site"], body["rack"]) == \
        ("test-model", "batch", "SN1", "AT1", "lab", "R01")
    assert body["state"] == "active" and body["open_ticket"] is None and body["last_inspection"] is None
    assert body["state_changed_at"]
    asset = Asset.objects.get(hostname="host-new")
    assert (asset.hardware_model, asset.pool) == (hardware_model, pool)


def test_state_is_not_writable(api, hardware_model, pool):
    # Refused, naming the field, rather than silently ignored (unknown and read-only fields are 400).
    body = assert_error(api("staff").post(ASSETS, new_asset(state="in_repair"), format="json"), 400, "state")
    assert "Read-only" in body["state"][0]
    assert not Asset.objects.filter(hostname="host-new").exists()


@pytest.mark.parametrize("field, payload", [
    ("hardware_model", new_asset(hardware_model="no-such-model")),
    ("pool", new_asset(pool="no-such-pool")),
    ("hostname", new_asset(hostname="-bad host-")),
    ("hostname", {"hardware_model": "test-model", "pool": "batch"}),
    ("hardware_model", {"hostname": "host-new", "pool": "batch"}),
])
def test_invalid_asset_is_400_naming_the_field(api, hardware_model, pool, field, payload):
    assert_error(api("staff").post(ASSETS, payload, format="json"), 400, field)
    assert not Asset.objects.exists()


def test_duplicate_hostname_is_400(api, asset):
    assert_error(api("staff").post(ASSETS, new_asset(hostname=asset.hostname), format="json"), 400, "hostname")
    assert Asset.objects.count() == 1


def test_an_assets_state_cannot_be_patched_nor_the_asset_deleted(api, asset):
    staff = api("staff")
    assert_error(staff.patch(f"{ASSETS}{asset.hostname}/", {"state": "returned"}, format="json"), 400, "state")
    assert_error(staff.delete(f"{ASSETS}{asset.hostname}/"), 405)
    assert Asset.objects.get(pk=asset.pk).state == "active"


def test_staff_patch_labels_and_automation_flags(api, asset):
    staff = api("staff")
    response = staff.patch(f"{ASSETS}{asset.hostname}/", {"rack": "R9", "exclude_from_automation": True},
                           format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["rack"], response.json()["exclude_from_automation"]) == ("R9", True)
    assert_error(api("viewer").patch(f"{ASSETS}{asset.hostname}/", {"rack": "R1"}, format="json"), 403)


# GET --------------------------------------------------------------------------------------------------------
@pytest.fixture
def fleet(make_asset, hardware_model, pool):
    other_model = HardwareModel.objects.create(name="other-model", vendor="V", cpu_logical_cores=2, memory_bytes=1)
    other_pool = Pool.objects.create(name="web")
    make_asset("host-a", site="lab")
    make_asset("host-b", site="dc1", state="in_repair")
    Asset.objects.create(hostname="host-c", hardware_model=other_model, pool=other_pool, site="dc1")


@pytest.mark.parametrize("query, expected", [
    ("", ["host-a", "host-b", "host-c"]),
    ("?state=in_repair", ["host-b"]),
    ("?state=active", ["host-a", "host-c"]),
    ("?pool=web", ["host-c"]),
    ("?site=dc1", ["host-b", "host-c"]),
    ("?hardware_model=test-model", ["host-a", "host-b"]),
    ("?site=dc1&pool=batch", ["host-b"]),
    ("?pool=no-such-pool", []),
])
def test_list_filters_by_hostname(api, fleet, query, expected):
    body = assert_ok(api("viewer").get(ASSETS + query))
    assert set(body) == {"next", "previous", "results"}
    assert [a["hostname"] for a in body["results"]] == expected


def test_list_is_cursor_paginated(api, fleet):
    viewer = api("viewer")
    page = assert_ok(viewer.get(f"{ASSETS}?page_size=2"))
    assert [a["hostname"] for a in page["results"]] == ["host-a", "host-b"] and page["previous"] is None
    page = assert_ok(viewer.get(page["next"]))
    assert [a["hostname"] for a in page["results"]] == ["host-c"] and page["next"] is None


def test_invalid_state_filter_is_400(api, asset):
    assert_error(api("viewer").get(f"{ASSETS}?state=broken"), 400, "state")


def test_detail_has_state_ticket_and_last_inspection(api, repair_ticket, asset):
    inspection = Inspection.objects.create(asset=asset, verdict="failed", ticket_id=repair_ticket.id)

    body = assert_ok(api("viewer").get(f"{ASSETS}{asset.hostname}/"))

    assert body["state"] == "in_repair" and body["state_changed_at"]
    assert body["open_ticket"] == repair_ticket.id
    assert body["last_inspection"] == {"id": inspection.id, "verdict": "failed", "finished_at": None}


def test_dotted_hostname_is_a_path(api, make_asset):
    make_asset("web-01.dc1.example.com")
    assert assert_ok(api("viewer").get(f"{ASSETS}web-01.dc1.example.com/"))["hostname"] == "web-01.dc1.example.com"


def test_unknown_hostname_is_404(api, asset):
    staff = api("staff")
    assert_error(staff.get(f"{ASSETS}no-such-host/"), 404)
    assert_error(staff.get(f"{ASSETS}no-such-host/history/"), 404)
    assert_error(transition(staff, "no-such-host", "isolate"), 404)


def test_history_is_newest_first_with_actor_and_reason(api, asset):
    staff = api("staff", name="alice")
    assert_ok(transition(staff, asset.hostname, "isolate", "fan noise"))
    assert_ok(transition(staff, asset.hostname, "dismiss", "it was the neighbour"))

    body = assert_ok(api("viewer").get(f"{ASSETS}{asset.hostname}/history/"))

    assert set(body) == {"next", "previous", "results"}
    rows = body["results"]
    assert [{k: r[k] for k in ("transition", "source", "target", "actor", "reason")} for r in rows] == [
        {"transition": "dismiss", "source": "isolated", "target": "active", "actor": "alice",
         "reason": "it was the neighbour"},
        {"transition": "isolate", "source": "active", "target": "isolated", "actor": "alice", "reason": "fan noise"},
    ]
    assert all(r["at"] for r in rows) and rows[0]["at"] >= rows[1]["at"]


# Transitions ------------------------------------------------------------------------------------------------
# Every state × every manual transition: allowed ones move the asset, the rest are 409 saying what is allowed.
TABLE = {
    "active": {"isolate": "isolated"},
    "isolated": {"start_repair": "in_repair", "dismiss": "active", "retire": "retired"},
    "in_repair": {"start_verification": "verifying", "retire": "retired"},
    "verifying": {},
    "returned": {"isolate": "isolated", "end_probation": "active"},
    "retired": {"reinstate": "isolated"},
}


@pytest.mark.parametrize("state, name", [(s, t) for s in TABLE for t in sorted(MANUAL)])
def test_transition_table(api, make_asset, state, name):
    asset = make_asset(state=state)
    if state in ("in_repair", "verifying"):  # those states always have their open ticket
        RepairTicket.objects.create(asset=asset, summary="disk", opened_by="tests")

    response = transition(api("staff", name="alice"), asset.hostname, name, "checked")

    if name in TABLE[state]:
        body = assert_ok(response)
        target = TABLE[state][name]
        assert body["hostname"] == asset.hostname and body["state"] == target
        row = AssetTransition.objects.get(asset=asset)
        assert (row.transition, row.source, row.target, row.actor) == (name, state, target, "alice")
    else:
        body = assert_error(response, 409, "state", "allowed")
        assert body["state"] == state and set(body["allowed"]) == set(TABLE[state])
        assert not AssetTransition.objects.filter(asset=asset).exists()
    assert Asset.objects.get(pk=asset.pk).state == TABLE[state].get(name, state)


@pytest.mark.parametrize("name", ["pass_verification", "fail_verification"])
def test_verdict_transitions_are_not_asked_for_by_hand(api, make_asset, name):
    asset = make_asset(state="verifying")
    body = assert_error(transition(api("staff"), asset.hostname, name), 409, "state", "allowed")
    assert body["state"] == "verifying" and body["allowed"] == []
    assert "inspection" in body["detail"]
    assert Asset.objects.get(pk=asset.pk).state == "verifying"


def test_start_verification_by_hand_resolves_the_ticket(api, repair_ticket, asset):
    body = assert_ok(transition(api("staff"), asset.hostname, "start_verification", "replaced the disk"))
    assert body["state"] == "verifying"
    repair_ticket.refresh_from_db()
    assert repair_ticket.status == "resolved" and repair_ticket.action_taken == "replaced the disk"
    assert Inspection.objects.get(asset=asset).ticket_id == repair_ticket.id


def test_start_repair_by_hand_opens_the_ticket(api, make_asset):
    asset = make_asset(state="isolated")
    body = assert_ok(transition(api("staff"), asset.hostname, "start_repair", "seen it smoke"))
    ticket = RepairTicket.objects.get(asset=asset)
    assert body["open_ticket"] == ticket.id and ticket.status == "open"


def test_dismiss_cancels_the_open_ticket(api, make_asset):
    asset = make_asset(state="isolated")
    ticket = RepairTicket.objects.create(asset=asset, summary="disk", opened_by="tests")

    body = assert_ok(transition(api("staff"), asset.hostname, "dismiss", "false alarm"))

    ticket.refresh_from_db()
    assert body["state"] == "active" and body["open_ticket"] is None
    assert ticket.status == "cancelled" and ticket.closed_at is not None


def test_unknown_transition_is_400_naming_it(api, asset):
    assert_error(transition(api("staff"), asset.hostname, "reboot"), 400, "transition")


@pytest.mark.parametrize("payload", [{"transition": "isolate"}, {"transition": "isolate", "reason": ""}])
def test_transition_without_reason_is_400(api, asset, payload):
    response = api("staff").post(f"{ASSETS}{asset.hostname}/transitions/", payload, format="json")
    assert_error(response, 400, "reason")
    assert Asset.objects.get(pk=asset.pk).state == "active"
