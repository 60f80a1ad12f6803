"""inspections/ for everyone to read, and agent/inspections/: the host agent takes its pending inspection,
measures for real on this machine (standing in for the host), and reports; the server judges."""
import pytest

from assets.models import Asset
from inspection.measure import measure_host
from inspection.models import Inspection, InspectionCheck
from tests.api.helpers import API, assert_error, assert_ok

INSPECTIONS = f"{API}/inspections/"
AGENT = f"{API}/agent/inspections/"
MiB = 1024 * 1024


# Reading inspections ----------------------------------------------------------------------------------------
@pytest.fixture
def judged(make_asset):
    """Two finished inspections of host-001 (one with its checks) and one of host-002."""
    a, b = make_asset("host-001"), make_asset("host-002")
    first = Inspection.objects.create(asset=a, verdict="failed", purpose="scheduled", summary="slow disk")
    InspectionCheck.objects.create(inspection=first, name="disk.seq_write_mb_per_s", measured=40.0, expected=200.0,
                                   limit=100.0, unit="MB/s", passed=False, detail="disk 40 MB/s, limit 100")
    second = Inspection.objects.create(asset=a, verdict="passed", purpose="scheduled")
    other = Inspection.objects.create(asset=b, verdict="passed", purpose="scheduled")
    return first, second, other


def test_no_token_is_401(client, judged):
    assert_error(client.get(INSPECTIONS), 401)
    assert_error(client.get(f"{INSPECTIONS}{judged[0].id}/"), 401)


@pytest.mark.parametrize("role", ["viewer", "detector", "staff"])
def test_every_role_reads_every_inspection(api, judged, role):
    body = assert_ok(api(role).get(INSPECTIONS))
    assert set(body) == {"next", "previous", "results"}
    assert [i["id"] for i in body["results"]] == [i.id for i in reversed(judged)]


@pytest.mark.parametrize("role", ["viewer", "staff"])
def test_inspections_are_read_only(api, judged, role):
    client = api(role)
    assert_error(client.post(INSPECTIONS, {"asset": "host-001"}, format="json"), 403 if role == "viewer" else 405)
    assert_error(client.patch(f"{INSPECTIONS}{judged[0].id}/", {"verdict": "passed"}, format="json"),
                 403 if role == "viewer" else 405)


def test_list_filters_by_asset(api, judged):
    first, second, _ = judged
    body = assert_ok(api("viewer").get(f"{INSPECTIONS}?asset=host-001"))
    assert [i["id"] for i in body["results"]] == [second.id, first.id]
    assert assert_ok(api("viewer").get(f"{INSPECTIONS}?asset=nobody"))["results"] == []


def test_invalid_verdict_filter_is_400(api, judged):
    assert_error(api("viewer").get(f"{INSPECTIONS}?verdict=maybe"), 400, "verdict")


def test_detail_has_the_checks_with_their_numbers(api, judged):
    body = assert_ok(api("viewer").get(f"{INSPECTIONS}{judged[0].id}/"))
    assert (body["asset"], body["verdict"], body["purpose"], body["summary"]) == ("host-001", "failed", "scheduled",
                                                                                  "slow disk")
    assert body["checks"] == [{"name": "disk.seq_write_mb_per_s", "measured": 40.0, "expected": 200.0,
                               "limit": 100.0, "unit": "MB/s", "passed": False, "detail": "disk 40 MB/s, limit 100",
                               "band_low": None, "band_high": None, "deviation_pct": None, "sigmas": None,
                               "skipped": False, "points": []}]


def test_unknown_inspection_is_404(api):
    assert_error(api("viewer").get(f"{INSPECTIONS}999999/"), 404)


def test_agent_sees_only_its_own_host(api, judged):
    first, second, other = judged
    agent = api("agent", name="host-002")
    assert [i["id"] for i in assert_ok(agent.get(INSPECTIONS))["results"]] == [other.id]
    assert assert_ok(agent.get(f"{INSPECTIONS}?asset=host-001"))["results"] == []
    assert_error(agent.get(f"{INSPECTIONS}{first.id}/"), 404)
    assert assert_ok(agent.get(f"{INSPECTIONS}{other.id}/"))["id"] == other.id


# The agent flow ---------------------------------------------------------------------------------------------
@pytest.fixture
def pending(api, settings, repair_ticket, asset):
    """The repair is done and the verification inspection waits for the host agent."""
    settings.DAM_INSPECTION_RUNNER = "agent"
    assert_ok(api("staff").post(f"{API}/tickets/{repair_ticket.id}/resolve/", {"action_taken": "replaced DIMM"},
                                format="json"))
    return Inspection.objects.get(asset=asset, verdict="pending")


@pytest.fixture
def agent(api, asset):
    return api("agent", name=asset.hostname)


@pytest.fixture
def running(agent, pending):
    assert_ok(agent.post(f"{AGENT}{pending.id}/start/", format="json"))
    return pending


def measured(assignment, tmp_path):
    return measure_host(scratch_dir=tmp_path / "agent-scratch", mounts=assignment["mounts"], seconds=0.1,
                        disk_bytes=4 * MiB)


def test_agent_endpoints_need_an_agent_token(client, api, pending):
    assert_error(client.get(f"{AGENT}next/"), 401)
    assert_error(client.post(f"{AGENT}{pending.id}/start/"), 401)
    for role in ("viewer", "detector", "staff"):
        user = api(role)
        assert_error(user.get(f"{AGENT}next/"), 403)
        assert_error(user.post(f"{AGENT}{pending.id}/start/", format="json"), 403)
        assert_error(user.post(f"{AGENT}{pending.id}/report/", {"error": "x"}, format="json"), 403)
    assert Inspection.objects.get(pk=pending.pk).verdict == "pending"


def test_next_gives_the_pending_inspection(agent, pending, hardware_model, settings):
    body = assert_ok(agent.get(f"{AGENT}next/"))
    assert body == {"id": pending.id, "asset": "host-001", "purpose": "verification", "profile": "quick",
                    "verdict": "pending", "mounts": [d["mount"] for d in hardware_model.disks],
                    "seconds": settings.DAM_CHECK_SECONDS, "disk_bytes": settings.DAM_DISK_SCRATCH_BYTES,
                    "disturbance_limits": settings.DAM_DISTURBANCE_LIMITS,
                    "disturbance_retries": settings.DAM_DISTURBANCE_RETRIES}
    assert assert_ok(agent.get(f"{AGENT}next/?hostname=host-001"))["id"] == pending.id


def test_next_is_204_when_nothing_waits(agent):
    response = agent.get(f"{AGENT}next/")
    assert response.status_code == 204 and not response.content


def test_next_for_a_host_dam_does_not_know_is_404_naming_it(api, asset):
    ghost = api("agent", name="ghost-001")
    body = assert_error(ghost.get(f"{AGENT}next/"), 404)
    assert body["hostname"] == "ghost-001" and "'ghost-001'" in body["detail"]
    assert_error(ghost.get(f"{AGENT}next/?hostname=ghost-001"), 404)


def test_start_claims_it_once(agent, pending):
    body = assert_ok(agent.post(f"{AGENT}{pending.id}/start/", format="json"))
    assert (body["id"], body["verdict"]) == (pending.id, "running")
    inspection = Inspection.objects.get(pk=pending.pk)
    assert inspection.runner == "agent:host-001" and inspection.started_at

    body = assert_error(agent.post(f"{AGENT}{pending.id}/start/", format="json"), 409)
    assert body["verdict"] == "running"
    assert agent.get(f"{AGENT}next/").status_code == 204


def test_report_before_start_is_409(agent, pending):
    assert_error(agent.post(f"{AGENT}{pending.id}/report/", {"error": "x"}, format="json"), 409)
    assert Inspection.objects.get(pk=pending.pk).verdict == "pending"


def test_healthy_report_passes_and_returns_the_asset(agent, running, asset, repair_ticket, tmp_path):
    assignment = {"mounts": [d["mount"] for d in asset.hardware_model.disks]}

    body = assert_ok(agent.post(f"{AGENT}{running.id}/report/", measured(assignment, tmp_path), format="json"))

    assert body["verdict"] == "passed", body["summary"]
    assert body["finished_at"] and len(body["checks"]) >= 6 and all(c["passed"] for c in body["checks"])
    assert Asset.objects.get(pk=asset.pk).state == "returned"
    repair_ticket.refresh_from_db()
    assert repair_ticket.closed_at is not None
    assert not list(tmp_path.joinpath("agent-scratch").iterdir())  # the disk check cleaned up after itself


def test_report_of_half_the_memory_fails_and_reopens_the_ticket(agent, running, asset, repair_ticket, tmp_path):
    report = measured({"mounts": [d["mount"] for d in asset.hardware_model.disks]}, tmp_path)
    report["inventory"]["memory_total_bytes"] //= 2

    body = assert_ok(agent.post(f"{AGENT}{running.id}/report/", report, format="json"))

    assert body["verdict"] == "failed"
    assert [c["name"] for c in body["checks"] if not c["passed"]] == ["inventory.memory_total_bytes"]
    assert Asset.objects.get(pk=asset.pk).state == "in_repair"
    repair_ticket.refresh_from_db()
    assert (repair_ticket.status, repair_ticket.closed_at, repair_ticket.reopen_count) == ("open", None, 1)
    assert "memory" in repair_ticket.notes
    assert assert_ok(agent.get(f"{API}/assets/{asset.hostname}/"))["open_ticket"] == repair_ticket.id


def test_report_of_an_error_is_verdict_error(agent, running, asset, repair_ticket):
    body = assert_ok(agent.post(f"{AGENT}{running.id}/report/", {"error": "OSError: scratch disk read-only"},
                                format="json"))
    assert body["verdict"] == "error" and "scratch disk read-only" in body["summary"]
    assert body["checks"] == []
    assert Asset.objects.get(pk=asset.pk).state == "in_repair"
    repair_ticket.refresh_from_db()
    assert repair_ticket.status == "open"


def test_second_report_is_409(agent, running):
    assert_ok(agent.post(f"{AGENT}{running.id}/report/", {"error": "boom"}, format="json"))
    body = assert_error(agent.post(f"{AGENT}{running.id}/report/", {"error": "again"}, format="json"), 409)
    assert body["verdict"] == "error"


@pytest.mark.parametrize("report, field", [
    ({}, "non_field_errors"),
    ({"measurements": {"cpu.sha256_mb_per_s": 100.0}}, "non_field_errors"),
    ({"inventory": {"cpu_logical_cores": 4}, "measurements": {}}, "inventory"),
    ({"inventory": {"cpu_logical_cores": 4, "memory_total_bytes": 1}, "measurements": {"cpu": "fast"}},
     "measurements"),
    ({"inventory": {"cpu_logical_cores": 4, "memory_total_bytes": 1, "disks": [{"mount": "/", "size_bytes": "big"}]},
      "measurements": {}}, "inventory"),
    ({"inventory": {"cpu_logical_cores": 4, "memory_total_bytes": 1, "disks": [{"mount": ["/"], "size_bytes": 1}]},
      "measurements": {}}, "inventory"),
])
def test_report_missing_fields_is_400(agent, running, report, field):
    assert_error(agent.post(f"{AGENT}{running.id}/report/", report, format="json"), 400, field)
    assert Inspection.objects.get(pk=running.pk).verdict == "running"


def test_agent_of_another_host_cannot_touch_it(api, pending, make_asset):
    make_asset("host-999")
    other = api("agent", name="host-999")
    assert other.get(f"{AGENT}next/").status_code == 204
    body = assert_error(other.get(f"{AGENT}next/?hostname=host-001"), 403)
    assert "host-999" in body["detail"]
    assert_error(other.post(f"{AGENT}{pending.id}/start/", format="json"), 404)
    assert_error(other.post(f"{AGENT}{pending.id}/report/", {"error": "x"}, format="json"), 404)
    assert_error(other.get(f"{INSPECTIONS}{pending.id}/"), 404)
    assert assert_ok(other.get(INSPECTIONS))["results"] == []
    assert Inspection.objects.get(pk=pending.pk).verdict == "pending"

