"""Faults as detectors send them: stored once per event, bad items rejected one by one, and what each one triggers."""
import pytest

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
    # given a batch with good items and bad ones
    items = [
        fault(asset, severity="warning", summary="fan slow"),
        {"asset": asset.hostname, "severity": "warning", "summary": "no component"},
        fault(asset, severity="catastrophic"),
        fault(asset, component="flux-capacitor"),
        {**fault(asset, severity="warning"), "asset": "no-such-host"},
        "not an object",
        {**fault(asset, severity="warning"), "observed_at": "yesterday"},
        fault(asset, severity="info", summary="fan ok again"),
    ]

    # when it is stored
    outcomes, stored = services.faults_store(detector="ipmi", items=items)

    # then the good ones are stored and every bad one says which field is wrong
    assert [o.index for o in outcomes] == list(range(len(items)))
    assert [o.status for o in outcomes] == ["accepted", "rejected", "rejected", "rejected", "rejected", "rejected",
                                            "rejected", "accepted"]
    reasons = [o.reason for o in outcomes]
    assert reasons[1].startswith("component:")
    assert reasons[2].startswith("severity:")
    assert reasons[3].startswith("component:")
    assert reasons[4].startswith("asset:") and "no-such-host" in reasons[4]
    assert reasons[5].startswith("item:")
    assert reasons[6].startswith("observed_at:")
    assert all(o.id is None for o in outcomes if o.status == "rejected")
    assert sorted(Fault.objects.values_list("summary", flat=True)) == ["fan ok again", "fan slow"]
    assert {f.id for f in stored} == {outcomes[0].id, outcomes[7].id}


def test_a_stored_fault_keeps_what_the_detector_said(asset):
    # given a fault with details and the time it was observed
    item = fault(asset, severity="warning", details={"smart": {"reallocated": 12}},
                 observed_at="2025-01-02T03:04:05Z", event_id="e-9")

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
