"""Hostile and broken input: each limit is answered with a clear JSON 4xx that names what was wrong, never a 5xx.
Body size, batch size, string lengths, JSON depth, unknown and read-only fields, NUL characters."""
import json

import pytest

from assets.models import Asset, Fault, Pool
from tests.api.helpers import API, assert_error, assert_ok

FAULT = {"asset": "host-001", "component": "disk", "severity": "info", "summary": "SMART"}


@pytest.fixture
def staff(api, fleet):
    fleet(1)
    return api("staff")


def nested(depth: int):
    value = 1
    for _ in range(depth):
        value = {"x": value}
    return value


# Body size ----------------------------------------------------------------------------------------------------
def test_a_body_over_the_limit_is_413_before_it_is_read(staff, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = assert_error(staff.post(f"{API}/faults/", {**FAULT, "summary": "x" * 20_000}, format="json"), 413)
    assert body["limit"] == 10_000 and "10000" in body["detail"]
    assert not Fault.objects.exists()


def test_the_default_limit_takes_a_full_batch_of_1000_faults(staff, settings):
    batch = [{**FAULT, "summary": "s" * 400, "details": {"sectors": list(range(200))}} for _ in range(1000)]
    assert len(json.dumps(batch)) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert assert_ok(staff.post(f"{API}/faults/", batch, format="json"), 202)["accepted"] == 1000


def test_an_admin_form_over_the_limit_is_413_json(admin_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = admin_client.post("/admin/assets/pool/add/", {"name": "p", "description": "d" * 5000})
    assert_error(response, 413)


# Batch size ---------------------------------------------------------------------------------------------------
def test_more_than_1000_faults_is_413_naming_the_limit(staff):
    body = assert_error(staff.post(f"{API}/faults/", [FAULT] * 1001, format="json"), 413)
    assert body["limit"] == 1000
    assert not Fault.objects.exists()


# String lengths -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path, body, field", [
    ("assets/", {"hostname": "h" * 254, "hardware_model": "test-model", "pool": "batch"}, "hostname"),
    ("assets/", {"hostname": "h2", "hardware_model": "test-model", "pool": "batch", "serial": "s" * 101}, "serial"),
    ("pools/", {"name": "p" * 101}, "name"),
    ("pools/", {"name": "p", "description": "d" * 501}, "description"),
    ("hardware-models/", {"name": "m" * 101, "vendor": "v", "cpu_logical_cores": 1, "memory_bytes": 1}, "name"),
    ("assets/host-001/transitions/", {"transition": "isolate", "reason": "r" * 2001}, "reason"),
])
def test_a_string_over_its_length_is_400_naming_the_field(staff, path, body, field):
    assert_error(staff.post(f"{API}/{path}", body, format="json"), 400, field)


def test_a_fault_with_an_overlong_summary_is_rejected_naming_it(staff):
    body = assert_ok(staff.post(f"{API}/faults/", [FAULT, {**FAULT, "summary": "s" * 501}], format="json"), 202)
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected"]
    assert body["results"][1]["reason"].startswith("summary:")


# JSON depth ---------------------------------------------------------------------------------------------------
def test_json_nested_deeper_than_the_limit_is_400(staff, settings):
    fault = {**FAULT, "details": nested(settings.DAM_MAX_JSON_DEPTH)}
    body = assert_error(staff.post(f"{API}/faults/", [fault], format="json"), 400)
    assert "nested too deeply" in body["detail"]
    assert not Fault.objects.exists()


def test_json_within_the_depth_limit_is_taken(staff, settings):
    fault = {**FAULT, "details": nested(settings.DAM_MAX_JSON_DEPTH - 3)}
    assert assert_ok(staff.post(f"{API}/faults/", [fault], format="json"), 202)["accepted"] == 1


def test_json_nested_a_hundred_thousand_deep_is_400_not_a_crash(staff):
    bomb = "[" * 100_000 + "]" * 100_000
    body = assert_error(staff.post(f"{API}/faults/", bomb, content_type="application/json"), 400)
    assert "nested too deeply" in body["detail"]
    bomb = '{"a":' * 50_000 + "1" + "}" * 50_000
    assert_error(staff.post(f"{API}/pools/", bomb, content_type="application/json"), 400)


# Unknown and read-only fields ---------------------------------------------------------------------------------
@pytest.mark.parametrize("method, path, body", [
    ("post", "assets/", {"hostname": "h2", "hardware_model": "test-model", "pool": "batch"}),
    ("post", "pools/", {"name": "p2"}),
    ("patch", "pools/batch/", {"description": "d"}),
    ("post", "hardware-models/", {"name": "m2", "vendor": "v", "cpu_logical_cores": 1, "memory_bytes": 1}),
    ("post", "assets/host-001/transitions/", {"transition": "isolate", "reason": "fans"}),
])
def test_an_unknown_field_is_400_naming_it_and_nothing_is_written(staff, method, path, body):
    before = (Asset.objects.count(), Pool.objects.get(name="batch").description)
    response = getattr(staff, method)(f"{API}/{path}", {**body, "reasno": "typo"}, format="json")
    answer = assert_error(response, 400, "reasno")
    assert "Unknown field" in answer["reasno"][0]
    assert (Asset.objects.count(), Pool.objects.get(name="batch").description) == before
    assert Asset.objects.get(hostname="host-001").state == "active"


def test_unknown_fields_on_the_ticket_and_agent_endpoints_are_400(api, fleet, capsys):
    import lifecycle

    asset = fleet(1)[0]
    lifecycle.isolate(asset_id=asset.id, actor="tests", reason="x")
    lifecycle.start_repair(asset_id=asset.id, actor="tests")
    ticket = asset.repair_tickets.get()
    staff = api("staff")
    assert_error(staff.patch(f"{API}/tickets/{ticket.id}/", {"assignee": "kim", "asignee": "x"}, format="json"),
                 400, "asignee")
    assert_error(staff.post(f"{API}/tickets/{ticket.id}/resolve/", {"action_taken": "x", "by": "me"},
                            format="json"), 400, "by")
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.assignee == ""


def test_an_unknown_field_in_a_fault_rejects_that_item_only(staff):
    body = assert_ok(staff.post(f"{API}/faults/", [FAULT, {**FAULT, "severty": "critical"}], format="json"), 202)
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected"]
    assert body["results"][1]["reason"].startswith("severty: Unknown field")


# NUL characters and odd paths ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["assets/%00/", "assets/?site=%00", "faults/?asset=a%00b", "pools/%00/",
                                  "hardware-models/x%00/", "tickets/?asset=%00"])
def test_nul_characters_in_paths_and_filters_are_4xx(staff, path):
    response = staff.get(f"{API}/{path}")
    assert 400 <= response.status_code < 500, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")


def test_nul_characters_in_fields_are_400(staff):
    assert "NUL" in assert_error(staff.post(f"{API}/pools/", {"name": "a\x00b"}, format="json"), 400)["detail"]
    # Anywhere in a JSON body, even where any object is taken: PostgreSQL cannot store it.
    for details in ({"k": "v\x00"}, {"k\x00": 1}, {"k": ["\x00"]}):
        body = assert_error(staff.post(f"{API}/faults/", [{**FAULT, "details": details}], format="json"), 400)
        assert "NUL" in body["detail"]
    assert not Fault.objects.exists()
