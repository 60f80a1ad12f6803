"""Faults as detectors send them: stored once per event, bad items rejected one by one, and what each one triggers."""
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assets import services
from assets.choices import AssetState as S
from assets.models import Asset, Fault
import lifecycle
from repairs.models import RepairTicket
from tests.assets.helpers import fault, history, put_in_state


# Storing -------------------------------------------------------------------------------------------------
def test_a_repeated_event_from_the_same_detector_is_stored_once(asset):
    # given a fault already received from detector smartd
    item = fault(asset, severity="warning", event_id="evt-1")
    [first] = lifecycle.report_faults(detector="smartd", items=[item])

    # when smartd sends it again
    [again] = lifecycle.report_faults(detector="smartd", items=[item])

    # then it is a duplicate naming the stored fault, and there is still one row
    assert (first.status, again.status) == ("accepted", "duplicate")
    assert again.id == first.id
    assert Fault.objects.filter(event_id="evt-1").count() == 1


def test_a_repeated_event_within_one_batch_is_stored_once(asset):
    # given a batch that carries the same event twice
    items = [fault(asset, severity="warning", event_id="evt-1"), fault(asset, severity="warning", event_id="evt-1")]

    # when it is stored
    outcomes, stored = services.faults_store(detector="smartd", items=items)

    # then the first is accepted and the second is its duplicate
    assert [o.status for o in outcomes] == ["accepted", "duplicate"]
    assert outcomes[1].id == outcomes[0].id
    assert len(stored) == Fault.objects.count() == 1


def test_different_detectors_may_reuse_an_event_id(asset):
    # given two detectors that number their events the same way
    item = fault(asset, severity="warning", event_id="1")

    # when each sends event 1
    [a] = lifecycle.report_faults(detector="smartd", items=[item])
    [b] = lifecycle.report_faults(detector="ipmi", items=[item])

    # then both are stored
    assert (a.status, b.status) == ("accepted", "accepted")
    assert a.id != b.id
    assert set(Fault.objects.values_list("detector", flat=True)) == {"smartd", "ipmi"}


@pytest.mark.parametrize("event_id", [None, ""])
def test_faults_without_event_id_are_never_duplicates(asset, event_id):
    # given the same fault twice, without an event id
    item = fault(asset, severity="warning")
    if event_id is not None:
        item["event_id"] = event_id

    # when both are sent
    outcomes = lifecycle.report_faults(detector="smartd", items=[item, item])

    # then both are stored
    assert [o.status for o in outcomes] == ["accepted", "accepted"]
    assert Fault.objects.filter(event_id__isnull=True).count() == 2


def test_a_bad_item_does_not_sink_the_batch(asset):
    # given a batch with good items, items the caller's validation refused (their reasons), and an unknown machine
    items = [
        fault(asset, severity="warning", summary="fan slow"),
        "component: This field is required.",
        {**fault(asset, severity="warning"), "asset": "no-such-host"},
        fault(asset, severity="info", summary="fan ok again"),
    ]

    # when it is stored
    outcomes, stored = services.faults_store(detector="ipmi", items=items)

    # then the good ones are stored and every bad one says what is wrong
    assert [o.index for o in outcomes] == list(range(len(items)))
    assert [o.status for o in outcomes] == ["accepted", "rejected", "rejected", "accepted"]
    reasons = [o.reason for o in outcomes]
    assert reasons[1] == "component: This field is required."
    assert reasons[2].startswith("asset:") and "no-such-host" in reasons[2]
    assert all(o.id is None for o in outcomes if o.status == "rejected")
    assert sorted(Fault.objects.values_list("summary", flat=True)) == ["fan ok again", "fan slow"]
    assert {f.id for f in stored} == {outcomes[0].id, outcomes[3].id}


@pytest.mark.parametrize("change", [{"component": "memory"}, {"severity": "critical"}, {"asset": "other"}])
def test_an_event_id_naming_another_fault_is_rejected_naming_it(asset, make_asset, change):
    # given a disk warning on asset stored as smartd's event evt-1
    make_asset("other")
    [first] = lifecycle.report_faults(detector="smartd", items=[fault(asset, severity="warning", event_id="evt-1")])

    # when smartd sends evt-1 again about another asset, component or severity
    [clash] = lifecycle.report_faults(detector="smartd", items=[
        {**fault(asset, severity="warning", event_id="evt-1"), **change}])

    # then it is not a silent duplicate: it is rejected, naming the fault evt-1 already is
    assert clash.status == "rejected" and clash.id is None
    assert clash.reason.startswith(f"event_id 'evt-1' already names fault #{first.id} on {asset.hostname}")
    assert Fault.objects.count() == 1


def test_an_event_id_naming_another_fault_of_the_same_batch_is_rejected(asset):
    # given one batch where evt-1 is a disk warning, then a critical memory fault
    items = [fault(asset, severity="warning", event_id="evt-1"),
             fault(asset, severity="critical", component="memory", event_id="evt-1"),
             fault(asset, severity="warning", event_id="evt-1")]

    # when it is stored
    outcomes, _ = services.faults_store(detector="smartd", items=items)

    # then the second names the first, and the third is a true repeat
    assert [o.status for o in outcomes] == ["accepted", "rejected", "duplicate"]
    assert f"fault #{outcomes[0].id} on {asset.hostname}" in outcomes[1].reason
    assert outcomes[2].id == outcomes[0].id


def test_one_query_looks_up_the_event_ids_of_a_batch(asset):
    # given a thousand info faults, each with its own event id, half of them sent before
    items = [fault(asset, severity="info", event_id=f"evt-{i}") for i in range(1000)]
    lifecycle.report_faults(detector="smartd", items=items[:500])

    # when the whole batch is sent: the event ids are looked up once, not per item
    with CaptureQueriesContext(connection) as queries:
        outcomes, _ = services.faults_store(detector="smartd", items=items)

    assert [o.status for o in outcomes] == ["duplicate"] * 500 + ["accepted"] * 500
    lookups = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")
               and ('"event_id" IN' in q["sql"] or '"event_id" = ANY' in q["sql"])]  # ANY: assets/lookups.py
    assert len(lookups) == 1, lookups


@pytest.mark.parametrize("ahead, status", [(timedelta(minutes=9), "accepted"), (timedelta(minutes=11), "rejected")])
def test_observed_at_far_in_the_future_is_rejected(asset, ahead, status):
    # given a detector whose clock runs ahead
    item = fault(asset, severity="warning", observed_at=timezone.now() + ahead)

    # when it reports
    [outcome] = lifecycle.report_faults(detector="smartd", items=[item])

    # then up to 10 minutes ahead is clock skew, more is rejected with a reason
    assert outcome.status == status
    if status == "rejected":
        assert outcome.reason.startswith("observed_at:") and "10 minutes in the future" in outcome.reason


def test_a_stored_fault_keeps_what_the_detector_said(asset):
    # given a fault with details and the time it was observed
    item = fault(asset, severity="warning", details={"smart": {"reallocated": 12}},
                 observed_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), event_id="e-9")

    # when it is stored
    [outcome] = lifecycle.report_faults(detector="smartd", items=[item])

    # then the row holds all of it, and the detector is who sent it
    stored = Fault.objects.get(pk=outcome.id)
    assert stored.details == {"smart": {"reallocated": 12}}
    assert stored.observed_at.isoformat() == "2025-01-02T03:04:05+00:00"
    assert (stored.detector, stored.event_id, stored.asset_id) == ("smartd", "e-9", asset.id)


# What a fault triggers -------------------------------------------------------------------------------------
# (state, severity) → does it isolate? A critical fault isolates an active asset; during probation (returned) a
# warning is enough; info never does.
ISOLATES = {
    (S.ACTIVE, "info"): False,
    (S.ACTIVE, "warning"): False,
    (S.ACTIVE, "critical"): True,
    (S.RETURNED, "info"): False,
    (S.RETURNED, "warning"): True,
    (S.RETURNED, "critical"): True,
}


@pytest.mark.parametrize(("state", "severity"), list(ISOLATES), ids=[f"{s}-{v}" for s, v in ISOLATES])
def test_what_a_fault_triggers(asset, eager_jobs, state, severity):
    # given an asset in service
    asset = put_in_state(asset, state)

    # when a detector reports a fault of this severity
    [outcome] = lifecycle.report_faults(detector="smartd", items=[fault(asset, severity=severity)])

    # then the jobs isolate it and open its repair ticket, or leave it alone
    asset.refresh_from_db()
    if ISOLATES[(state, severity)]:
        assert asset.state == S.IN_REPAIR
        assert history(asset) == [("isolate", state, S.ISOLATED), ("start_repair", S.ISOLATED, S.IN_REPAIR)]
        isolated = asset.transitions.get(transition="isolate")
        assert isolated.actor == "job:isolate_asset"
        assert f"fault #{outcome.id} from smartd" in isolated.reason
        ticket = RepairTicket.objects.get(asset=asset)
        assert list(ticket.faults.values_list("id", flat=True)) == [outcome.id]
    else:
        assert asset.state == state
        assert history(asset) == []
        assert not RepairTicket.objects.exists()


@pytest.mark.parametrize("state", [S.ISOLATED, S.IN_REPAIR, S.VERIFYING])
def test_info_faults_never_isolate_or_join_a_ticket(asset, eager_jobs, state):
    # given an asset out of service
    asset = put_in_state(asset, state)

    # when an info fault arrives
    lifecycle.report_faults(detector="smartd", items=[fault(asset, severity="info")])

    # then it is recorded only
    assert Asset.objects.get(pk=asset.pk).state == state
    assert history(asset) == []
    assert Fault.objects.count() == 1
    assert not Fault.objects.filter(repair_tickets__isnull=False).exists()


def test_many_faults_in_one_batch_isolate_once(asset, eager_jobs):
    # given an active asset
    # when one batch brings several critical faults about it
    outcomes = lifecycle.report_faults(detector="smartd", items=[
        fault(asset, component="disk"), fault(asset, component="memory"), fault(asset, component="cpu")])

    # then it is isolated once, and its one ticket has all of them
    asset.refresh_from_db()
    assert asset.state == S.IN_REPAIR
    assert history(asset) == [("isolate", S.ACTIVE, S.ISOLATED), ("start_repair", S.ISOLATED, S.IN_REPAIR)]
    ticket = RepairTicket.objects.get(asset=asset)
    assert set(ticket.faults.values_list("id", flat=True)) == {o.id for o in outcomes}
    assert "(+2 more faults)" in ticket.summary


def test_a_critical_fault_isolates_only_its_own_asset(make_asset, eager_jobs):
    # given two active assets
    sick, healthy = make_asset("host-sick"), make_asset("host-healthy")

    # when a batch brings a critical fault for one and a warning for the other
    lifecycle.report_faults(detector="smartd", items=[fault(sick), fault(healthy, severity="warning")])

    # then only the first leaves service
    assert Asset.objects.get(pk=sick.pk).state == S.IN_REPAIR
    assert Asset.objects.get(pk=healthy.pk).state == S.ACTIVE
