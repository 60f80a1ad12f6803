"""faults/: detectors post faults one at a time or in batches; everyone reads them, filtered and cursor-paginated."""
from datetime import timedelta

import pytest
from django.utils import timezone

from assets.models import Asset, Fault
from tests.api.helpers import API, assert_error, assert_ok

FAULTS = f"{API}/faults/"


def fault(hostname="host-001", **fields):
    return {"asset": hostname, "component": "disk", "severity": "warning", "summary": "SMART reallocated sectors",
            **fields}


# Roles ------------------------------------------------------------------------------------------------------
def test_no_token_is_401(client, asset):
    assert_error(client.get(FAULTS), 401)
    assert_error(client.post(FAULTS, fault(), content_type="application/json"), 401)


@pytest.mark.parametrize("role", ["detector", "staff"])
def test_detector_and_staff_post_faults(api, asset, role):
    assert_ok(api(role).post(FAULTS, fault(), format="json"), 202)


def test_viewer_cannot_post_faults(api, asset):
    assert_error(api("viewer").post(FAULTS, fault(), format="json"), 403)
    assert not Fault.objects.exists()


def test_an_agent_posts_faults_about_its_own_host_only(api, make_asset):
    """The host agent's watch is a detector for its own machine, never for another (its token is named after it)."""
    make_asset("host-001")
    make_asset("host-002")
    agent = api("agent", name="host-001")
    body = assert_error(agent.post(FAULTS, fault("host-002"), format="json"), 403)
    assert "host-002" in body["detail"] and "own host" in body["detail"]
    assert_error(agent.post(FAULTS, [fault("host-001"), fault("host-002")], format="json"), 403)
    assert not Fault.objects.exists()  # nothing of a refused batch is stored

    assert_ok(agent.post(FAULTS, [fault("host-001", event_id="edac:mc0:ue")], format="json"), 202)
    stored = Fault.objects.get()
    assert (stored.asset.hostname, stored.detector) == ("host-001", "host-001")


@pytest.mark.parametrize("role", ["viewer", "agent", "detector", "staff"])
def test_every_role_reads_faults(api, asset, role):
    assert_ok(api(role).get(FAULTS))


# POST -------------------------------------------------------------------------------------------------------
def test_single_fault_object_is_accepted(api, asset):
    body = assert_ok(api("detector", name="smartd-probe").post(
        FAULTS, fault(details={"sectors": 12}, observed_at="2025-01-02T03:04:05Z", event_id="e-1"),
        format="json"), 202)

    stored = Fault.objects.get()
    assert body == {"accepted": 1, "duplicates": 0, "rejected": 0,
                    "results": [{"index": 0, "status": "accepted", "id": stored.id, "reason": None}]}
    assert (stored.asset, stored.detector, stored.event_id, stored.details) == (asset, "smartd-probe", "e-1",
                                                                               {"sectors": 12})
    assert stored.observed_at.isoformat() == "2025-01-02T03:04:05+00:00"


def test_detector_is_the_token_owner_not_a_field(api, asset):
    body = assert_ok(api("detector", name="real-probe").post(FAULTS, [fault(detector="someone-else"), fault()],
                                                             format="json"), 202)
    assert body["results"][0]["status"] == "rejected" and body["results"][0]["reason"].startswith("detector:")
    assert Fault.objects.get().detector == "real-probe"


def test_batch_counts_each_item_and_an_unknown_hostname_does_not_sink_the_rest(api, make_asset):
    make_asset("host-001"), make_asset("host-002")
    body = assert_ok(api("detector").post(FAULTS, [fault("host-001"), fault("no-such-host"), fault("host-002")],
                                          format="json"), 202)

    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 0, 1)
    assert [r["index"] for r in body["results"]] == [0, 1, 2]
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected", "accepted"]
    rejected = body["results"][1]
    assert rejected["id"] is None and "no-such-host" in rejected["reason"] and rejected["reason"].startswith("asset")
    stored = {f.id: f.asset.hostname for f in Fault.objects.all()}
    assert stored == {body["results"][0]["id"]: "host-001", body["results"][2]["id"]: "host-002"}


@pytest.mark.parametrize("field, item", [
    ("severity", fault(severity="catastrophic")),
    ("component", fault(component="flux-capacitor")),
    ("summary", {k: v for k, v in fault().items() if k != "summary"}),
    ("observed_at", fault(observed_at="yesterday")),
    ("details", fault(details="not an object")),
])
def test_invalid_item_is_rejected_naming_the_field(api, asset, field, item):
    body = assert_ok(api("detector").post(FAULTS, [fault(), item], format="json"), 202)

    assert (body["accepted"], body["rejected"]) == (1, 1)
    result = body["results"][1]
    assert result["status"] == "rejected" and result["id"] is None
    assert result["reason"].startswith(f"{field}:"), result["reason"]


def test_item_that_is_not_an_object_is_rejected(api, asset):
    body = assert_ok(api("detector").post(FAULTS, [fault(), "disk on fire", 7], format="json"), 202)
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected", "rejected"]
    assert all(r["reason"] for r in body["results"][1:])


def test_repeated_event_id_in_one_batch_is_a_duplicate_of_the_first(api, asset):
    body = assert_ok(api("detector").post(
        FAULTS, [fault(event_id="e-7"), fault(event_id="e-8"), fault(event_id="e-7")], format="json"), 202)

    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 0)
    first, _, repeat = body["results"]
    assert repeat == {"index": 2, "status": "duplicate", "id": first["id"], "reason": None}
    assert Fault.objects.filter(event_id="e-7").count() == 1


def test_repeated_event_id_across_requests_is_a_duplicate_of_the_first(api, asset):
    detector = api("detector")
    first = assert_ok(detector.post(FAULTS, fault(event_id="e-9"), format="json"), 202)["results"][0]

    again = assert_ok(detector.post(FAULTS, [fault(event_id="e-9"), fault(event_id="e-10")], format="json"), 202)

    assert (again["accepted"], again["duplicates"]) == (1, 1)
    assert again["results"][0] == {"index": 0, "status": "duplicate", "id": first["id"], "reason": None}
    assert Fault.objects.filter(event_id="e-9").count() == 1


def test_same_event_id_from_another_detector_is_its_own_fault(api, asset):
    assert_ok(api("detector", name="probe-a").post(FAULTS, fault(event_id="e-1"), format="json"), 202)
    body = assert_ok(api("detector", name="probe-b").post(FAULTS, fault(event_id="e-1"), format="json"), 202)
    assert body["accepted"] == 1
    assert Fault.objects.filter(event_id="e-1").count() == 2


def test_a_thousand_faults_are_accepted(api, asset):
    body = assert_ok(api("detector").post(FAULTS, [fault(severity="info")] * 1000, format="json"), 202)
    assert body["accepted"] == 1000
    assert Fault.objects.count() == 1000


def test_more_than_a_thousand_faults_is_413(api, asset):
    body = assert_error(api("detector").post(FAULTS, [fault()] * 1001, format="json"), 413)
    assert body["limit"] == 1000 and "1001" in body["detail"]
    assert not Fault.objects.exists()


@pytest.mark.parametrize("raw", ['"disk on fire"', "42", "null", "true"])
def test_body_that_is_not_an_object_or_list_is_400(api, asset, raw):
    assert_error(api("detector").post(FAULTS, raw, content_type="application/json"), 400)


def test_malformed_json_is_400(api, asset):
    body = assert_error(api("detector").post(FAULTS, '{"asset": "host-001",', content_type="application/json"),
                        400)
    assert "JSON" in body["detail"]


def test_empty_list_is_accepted_with_zero_counts(api):
    body = assert_ok(api("detector").post(FAULTS, [], format="json"), 202)
    assert body == {"accepted": 0, "duplicates": 0, "rejected": 0, "results": []}


def test_critical_fault_isolates_and_opens_a_repair_ticket(api, asset, eager_jobs):
    body = assert_ok(api("detector").post(FAULTS, fault(severity="critical"), format="json"), 202)

    detail = assert_ok(api("viewer").get(f"{API}/assets/{asset.hostname}/"))
    assert detail["state"] == "in_repair"
    assert detail["open_ticket"] is not None
    ticket = assert_ok(api("viewer").get(f"{API}/tickets/{detail['open_ticket']}/"))
    assert ticket["faults"] == [body["results"][0]["id"]] and ticket["status"] == "open"


def test_warning_fault_on_an_active_asset_is_only_recorded(api, asset, eager_jobs):
    assert_ok(api("detector").post(FAULTS, fault(severity="warning"), format="json"), 202)
    assert Asset.objects.get(pk=asset.pk).state == "active"


# GET --------------------------------------------------------------------------------------------------------
@pytest.fixture
def recorded(api, make_asset):
    make_asset("host-001"), make_asset("host-002")
    items = [fault("host-001", component="disk", severity="warning"),
             fault("host-001", component="memory", severity="critical"),
             fault("host-002", component="disk", severity="info"),
             fault("host-002", component="cpu", severity="critical")]
    results = api("detector").post(FAULTS, items, format="json").json()["results"]
    return [r["id"] for r in results]


@pytest.mark.parametrize("query, expected", [
    ("", [3, 2, 1, 0]),
    ("?asset=host-001", [1, 0]),
    ("?component=disk", [2, 0]),
    ("?severity=critical", [3, 1]),
    ("?asset=host-002&severity=critical", [3]),
    ("?asset=no-such-host", []),
])
def test_list_filters_newest_first(api, recorded, query, expected):
    body = assert_ok(api("viewer").get(FAULTS + query))
    assert set(body) == {"next", "previous", "results"}
    assert [f["id"] for f in body["results"]] == [recorded[i] for i in expected]


def test_list_shows_faults_as_stored(api, recorded):
    first = api("viewer").get(f"{FAULTS}?component=cpu").json()["results"][0]
    assert first["asset"] == "host-002" and first["severity"] == "critical" and first["detector"] == "detector-user"
    assert {"id", "summary", "details", "observed_at", "received_at", "event_id"} <= set(first)


def test_cursor_pagination_walks_every_fault_once(api, recorded):
    viewer = api("viewer")
    page = assert_ok(viewer.get(f"{FAULTS}?page_size=3"))
    assert page["previous"] is None and page["next"]
    seen = [f["id"] for f in page["results"]]

    page = assert_ok(viewer.get(page["next"]))
    assert page["next"] is None and page["previous"]
    seen += [f["id"] for f in page["results"]]
    assert seen == sorted(recorded, reverse=True)


@pytest.mark.parametrize("field", ["severity", "component"])
def test_invalid_filter_value_is_400_naming_the_field(api, asset, field):
    assert_error(api("viewer").get(f"{FAULTS}?{field}=bogus"), 400, field)


# Additions: nothing taken is 422; an event_id names one fault; observed_at not from the future -------------
def test_a_request_whose_every_item_is_rejected_is_422_with_the_same_body(api, asset):
    body = assert_error(api("detector").post(FAULTS, [fault("no-such-host"), fault(severity="catastrophic")],
                                             format="json"), 422)
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (0, 0, 2)
    assert [r["status"] for r in body["results"]] == ["rejected", "rejected"]
    assert not Fault.objects.exists()


def test_one_item_taken_is_enough_for_202(api, asset):
    detector = api("detector")
    assert_ok(detector.post(FAULTS, fault(event_id="e-1"), format="json"), 202)
    # a duplicate counts as taken: the detector's event is stored
    body = assert_ok(detector.post(FAULTS, [fault(event_id="e-1"), fault("no-such-host")], format="json"), 202)
    assert (body["duplicates"], body["rejected"]) == (1, 1)


def test_an_event_id_reused_for_another_fault_is_rejected_naming_it(api, make_asset):
    make_asset("demo-001"), make_asset("demo-003")
    detector = api("detector")
    disk = assert_ok(detector.post(FAULTS, fault("demo-001", event_id="x"), format="json"), 202)["results"][0]

    body = assert_error(detector.post(FAULTS, fault("demo-003", component="memory", severity="critical",
                                                    event_id="x"), format="json"), 422)

    [result] = body["results"]
    assert result["status"] == "rejected"
    assert result["reason"].startswith(f"event_id 'x' already names fault #{disk['id']} on demo-001")
    assert Fault.objects.count() == 1


def test_observed_at_more_than_ten_minutes_ahead_is_rejected(api, asset):
    ahead = (timezone.now() + timedelta(minutes=30)).isoformat()
    body = assert_error(api("detector").post(FAULTS, fault(observed_at=ahead), format="json"), 422)
    assert body["results"][0]["reason"].startswith("observed_at:")
