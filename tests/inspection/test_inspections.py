"""Inspections acting on the lifecycle: a verification verdict returns the machine or sends it back to repair on
the same ticket; the reconcile job re-asks for lost inspections; scheduled inspections find quiet failures.

The inspections with `eager_jobs` are real: this machine is measured, briefly, against the test model."""
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from assets.choices import AssetState as S
from assets.models import Asset, AssetTransition, Fault, HardwareModel
import lifecycle
from repairs import services as tickets
from lifecycle import tasks
from inspection import services
from inspection.choices import Purpose, Verdict
from inspection.models import Inspection
from repairs.choices import TicketStatus
from repairs.models import RepairTicket
from tests.assets.helpers import healthy_report, history, missing_dimm_report, put_in_state

GIB = 1024 ** 3


def _in_repair(asset: Asset) -> RepairTicket:
    """Staff isolates the asset; the job opens its ticket."""
    lifecycle.isolate(asset_id=asset.id, actor="alice", reason="disk errors")
    assert Asset.objects.get(pk=asset.pk).state == S.IN_REPAIR
    return RepairTicket.objects.get(asset=asset, closed_at__isnull=True)


def _a_dimm_goes_missing(hardware_model: HardwareModel) -> int:
    """The spec says twice the memory this machine has: as if half its DIMMs were gone. Returns the spec."""
    hardware_model.memory_bytes *= 2
    hardware_model.save()
    return hardware_model.memory_bytes


# Verification: verifying → returned | in_repair -------------------------------------------------------------
def test_a_passing_inspection_returns_the_asset_and_closes_its_ticket(asset, eager_jobs):
    # given a healthy asset in repair
    ticket = _in_repair(asset)

    # when the technician resolves its ticket (and the inspection runs)
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="bob", action_taken="replaced disk")

    # then the inspection passed, the asset is back on probation and the ticket is closed
    inspection = Inspection.objects.get(asset=asset)
    assert inspection.verdict == Verdict.PASSED, inspection.summary
    assert (inspection.purpose, inspection.ticket_id) == (Purpose.VERIFICATION, ticket.id)
    assert inspection.runner.startswith("worker:")
    assert inspection.checks.count() >= 6 and all(c.passed for c in inspection.checks.all())
    assert Asset.objects.get(pk=asset.pk).state == S.RETURNED
    ticket.refresh_from_db()
    assert ticket.closed_at is not None
    assert ticket.status == TicketStatus.RESOLVED
    assert f"Verified by inspection #{inspection.id}" in ticket.notes
    row = asset.transitions.get(transition="pass_verification")
    assert row.actor == f"job:inspection #{inspection.id}"
    assert tickets.open_ticket_of(asset) is None


def test_a_failing_inspection_reopens_the_same_ticket_with_the_numbers(asset, hardware_model, eager_jobs):
    # given an asset in repair whose memory is half its spec
    ticket = _in_repair(asset)
    spec = _a_dimm_goes_missing(hardware_model)

    # when its ticket is resolved and the inspection runs
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="bob", action_taken="replaced disk")

    # then the inspection failed on memory and the asset is back in repair
    inspection = Inspection.objects.get(asset=asset)
    assert inspection.verdict == Verdict.FAILED
    assert [c.name for c in inspection.checks.filter(passed=False)] == ["inventory.memory_total_bytes"]
    assert Asset.objects.get(pk=asset.pk).state == S.IN_REPAIR
    assert history(asset)[-1] == ("fail_verification", S.VERIFYING, S.IN_REPAIR)
    # on the same ticket, reopened, with the failing numbers in its notes
    assert list(RepairTicket.objects.filter(asset=asset)) == [ticket]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count, ticket.resolved_at, ticket.closed_at) == (
        TicketStatus.OPEN, 1, None, None)
    assert f"Reopened: inspection #{inspection.id} failed" in ticket.notes
    assert f"spec {spec / GIB:.2f} GiB (-50.0%)" in ticket.notes

    # when the DIMM is put back and the ticket resolved again
    hardware_model.memory_bytes = spec // 2
    hardware_model.save()
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="bob", action_taken="reseated DIMM")

    # then the second inspection passes and the same ticket closes
    assert Inspection.objects.filter(asset=asset).latest("id").verdict == Verdict.PASSED
    assert Asset.objects.get(pk=asset.pk).state == S.RETURNED
    ticket.refresh_from_db()
    assert ticket.closed_at is not None and ticket.reopen_count == 1
    assert RepairTicket.objects.filter(asset=asset).count() == 1


def test_an_inspection_that_cannot_run_sends_the_asset_back_to_repair(asset, eager_jobs, settings, tmp_path):
    # given an asset in repair whose scratch disk cannot be written
    ticket = _in_repair(asset)
    not_a_dir = tmp_path / "not-a-dir"
    not_a_dir.write_text("")
    settings.DAM_SCRATCH_DIR = not_a_dir / "scratch"

    # when its ticket is resolved and the inspection runs
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="bob", action_taken="replaced disk")

    # then the verdict is error and the asset is back in repair on its reopened ticket
    inspection = Inspection.objects.get(asset=asset)
    assert inspection.verdict == Verdict.ERROR
    assert inspection.summary.startswith("The checks could not run:")
    assert Asset.objects.get(pk=asset.pk).state == S.IN_REPAIR
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count) == (TicketStatus.OPEN, 1)
    assert f"inspection #{inspection.id} error" in ticket.notes


def test_inspection_finished_twice_acts_once(asset):
    # given a verifying asset with its pending inspection
    put_in_state(asset, S.VERIFYING)
    inspection = Inspection.objects.get(asset=asset)
    model = asset.hardware_model

    # when the result is delivered twice, and then a contradicting one
    lifecycle.inspection_finished(inspection_id=inspection.id, report=healthy_report(model), runner="agent:a")
    lifecycle.inspection_finished(inspection_id=inspection.id, report=healthy_report(model), runner="agent:a")
    again = lifecycle.inspection_finished(inspection_id=inspection.id, report=missing_dimm_report(model),
                                          runner="agent:b")

    # then only the first counted
    assert again.verdict == Verdict.PASSED
    assert Asset.objects.get(pk=asset.pk).state == S.RETURNED
    assert history(asset) == [("pass_verification", S.VERIFYING, S.RETURNED)]
    assert inspection.checks.count() == len(services.judge(hardware_model=model, report=healthy_report(model)))
    assert RepairTicket.objects.get(asset=asset).notes.count("Verified by inspection") == 1


def test_the_inspection_job_run_twice_measures_once(asset):
    # given a verifying asset with its pending inspection
    put_in_state(asset, S.VERIFYING)
    inspection = Inspection.objects.get(asset=asset)

    # when the job is delivered twice
    tasks.run_inspection(inspection.id)
    tasks.run_inspection(inspection.id)

    # then one measurement, one verdict, one transition
    inspection.refresh_from_db()
    assert inspection.verdict == Verdict.PASSED
    assert history(asset) == [("pass_verification", S.VERIFYING, S.RETURNED)]


def test_an_inspection_can_be_claimed_once(asset):
    # given a pending inspection
    inspection = services.inspection_request(asset=asset, purpose=Purpose.SCHEDULED)

    # when two runners try to claim it
    first = services.inspection_start(inspection=inspection, runner="agent:a")
    second = services.inspection_start(inspection=Inspection.objects.get(pk=inspection.pk), runner="agent:b")

    # then only the first gets it
    assert (first, second) == (True, False)
    inspection.refresh_from_db()
    assert (inspection.verdict, inspection.runner) == (Verdict.RUNNING, "agent:a")


@pytest.mark.parametrize(("inventory", "component"), [
    ({"memory_total_bytes": 1}, "memory"),
    ({"cpu_logical_cores": 0}, "cpu"),
    ({"disks": []}, "disk"),
])
def test_a_failed_inspection_points_at_its_component(asset, inventory, component):
    # given an inspection whose report fails one part of the spec
    inspection = services.inspection_request(asset=asset, purpose=Purpose.SCHEDULED)
    report = healthy_report(asset.hardware_model, **inventory)

    # when it is recorded
    services.inspection_record(inspection=inspection, report=report, runner="agent:a")

    # then it failed, and the component is the one that failed
    assert inspection.verdict == Verdict.FAILED
    assert services.failing_component(inspection) == component


def test_a_missing_report_is_an_error(asset):
    inspection = services.inspection_request(asset=asset, purpose=Purpose.SCHEDULED)
    services.inspection_record(inspection=inspection, report=None, runner="agent:a")
    assert inspection.verdict == Verdict.ERROR
    assert inspection.summary == "The checks could not run: no report"
    assert inspection.finished_at is not None


# The reconcile job: inspections that got lost ------------------------------------------------------------
@override_settings(DAM_RECONCILE_GRACE_SECONDS=120)
def test_reconcile_asks_again_for_a_verifying_asset_with_no_inspection(asset):
    # given an asset verifying for a while whose inspection was lost
    changed_at = timezone.now()
    put_in_state(asset, S.VERIFYING, changed_at=changed_at)
    Inspection.objects.filter(asset=asset).delete()
    ticket = RepairTicket.objects.get(asset=asset)

    # when the reconcile job runs within the grace period
    # then it waits
    assert lifecycle.reconcile_stuck_assets(now=changed_at + timedelta(seconds=60))["inspections_requested"] == 0
    assert not Inspection.objects.exists()

    # when it runs after the grace period
    result = lifecycle.reconcile_stuck_assets(now=changed_at + timedelta(seconds=121))

    # then a new verification inspection of its ticket is pending
    assert result == {"tickets_opened": 0, "inspections_requested": 1}
    inspection = Inspection.objects.get(asset=asset)
    assert (inspection.verdict, inspection.purpose, inspection.ticket_id) == (
        Verdict.PENDING, Purpose.VERIFICATION, ticket.id)
    assert Asset.objects.get(pk=asset.pk).state == S.VERIFYING


@override_settings(DAM_INSPECTION_TIMEOUT_SECONDS=900)
@pytest.mark.parametrize("verdict", [Verdict.PENDING, Verdict.RUNNING])
def test_reconcile_gives_up_an_inspection_past_the_timeout(asset, verdict):
    # given a verifying asset whose inspection was requested (and maybe started) but never answered
    put_in_state(asset, S.VERIFYING)
    stale = Inspection.objects.get(asset=asset)
    started_at = stale.requested_at if verdict == Verdict.RUNNING else None
    Inspection.objects.filter(pk=stale.pk).update(verdict=verdict, started_at=started_at)

    # when the reconcile job runs before the timeout
    # then it waits
    soon = stale.requested_at + timedelta(seconds=899)
    assert lifecycle.reconcile_stuck_assets(now=soon)["inspections_requested"] == 0

    # when it runs after the timeout
    late = stale.requested_at + timedelta(seconds=901)
    result = lifecycle.reconcile_stuck_assets(now=late)

    # then the stale one is an error and a fresh one is pending
    assert result["inspections_requested"] == 1
    stale.refresh_from_db()
    assert (stale.verdict, stale.finished_at) == (Verdict.ERROR, late)
    assert "No result in time" in stale.summary
    fresh = Inspection.objects.get(asset=asset, verdict=Verdict.PENDING)
    assert fresh.ticket_id == stale.ticket_id
    assert Asset.objects.get(pk=asset.pk).state == S.VERIFYING


@override_settings(DAM_INSPECTION_TIMEOUT_SECONDS=900)
def test_a_running_inspection_is_timed_from_when_its_runner_took_it(asset):
    # given an inspection that waited 800 s for its agent, then started
    put_in_state(asset, S.VERIFYING)
    inspection = Inspection.objects.get(asset=asset)
    started = inspection.requested_at + timedelta(seconds=800)
    Inspection.objects.filter(pk=inspection.pk).update(verdict=Verdict.RUNNING, started_at=started)

    # when the reconcile job runs 1000 s after the request but 200 s after the start
    result = lifecycle.reconcile_stuck_assets(now=inspection.requested_at + timedelta(seconds=1000))

    # then the running inspection is left alone
    assert result["inspections_requested"] == 0
    inspection.refresh_from_db()
    assert inspection.verdict == Verdict.RUNNING


def test_a_scheduled_inspection_nobody_answers_is_given_up(asset):
    # given an active asset with a scheduled inspection its agent never took
    [inspection_id] = lifecycle.scheduled_inspections(sample=1)
    inspection = Inspection.objects.get(pk=inspection_id)

    # when the reconcile job runs past the timeout
    result = lifecycle.reconcile_stuck_assets(
        now=inspection.requested_at + timedelta(seconds=settings.DAM_INSPECTION_TIMEOUT_SECONDS + 1))

    # then it is an error, no new one is requested, and the asset stays active
    inspection.refresh_from_db()
    assert (inspection.verdict, result["inspections_requested"]) == (Verdict.ERROR, 0)
    assert Asset.objects.get(pk=asset.pk).state == S.ACTIVE


def test_a_re_requested_inspection_runs_and_returns_the_asset(asset, eager_jobs):
    # given a verifying asset whose inspection message was lost long ago
    put_in_state(asset, S.VERIFYING)
    stale = Inspection.objects.get(asset=asset)

    # when the reconcile job runs past the timeout (and the new inspection runs)
    lifecycle.reconcile_stuck_assets(now=timezone.now() + timedelta(days=1))

    # then the asset is back on probation and its ticket closed
    stale.refresh_from_db()
    assert stale.verdict == Verdict.ERROR
    assert Inspection.objects.filter(asset=asset, verdict=Verdict.PASSED).count() == 1
    assert Asset.objects.get(pk=asset.pk).state == S.RETURNED
    assert RepairTicket.objects.get(asset=asset).closed_at is not None


# Scheduled inspections -------------------------------------------------------------------------------------
def test_scheduled_inspections_check_active_assets_only(make_asset):
    # given one asset in each state, and an active one already being inspected
    assets = {state: put_in_state(make_asset(f"host-{state}"), state) for state in S}
    busy = make_asset("host-busy")
    services.inspection_request(asset=busy, purpose=Purpose.SCHEDULED)

    # when the job picks machines to check
    requested = lifecycle.scheduled_inspections(sample=10)

    # then only the free active asset gets a scheduled inspection
    [inspection] = Inspection.objects.filter(pk__in=requested)
    assert inspection.asset_id == assets[S.ACTIVE].id
    assert (inspection.purpose, inspection.verdict, inspection.ticket_id) == (Purpose.SCHEDULED, Verdict.PENDING,
                                                                             None)


def test_scheduled_inspections_take_a_sample(make_asset):
    # given five active assets
    for n in range(5):
        make_asset(f"host-{n}")

    # when the job takes a sample of two, twice
    first = lifecycle.scheduled_inspections(sample=2)
    second = lifecycle.scheduled_inspections(sample=2)

    # then four different assets are being inspected
    assert len(first) == len(second) == 2
    assert Inspection.objects.values("asset").distinct().count() == 4


def test_a_scheduled_inspection_still_waiting_gives_way_to_verification(asset, settings):
    # given an active asset whose scheduled inspection waits for its host's agent
    settings.DAM_INSPECTION_RUNNER = "agent"
    [scheduled_id] = lifecycle.scheduled_inspections(sample=1)
    # and the host then fails and is repaired before the agent answers
    lifecycle.isolate(asset_id=asset.id, actor="job:isolate_asset", reason="critical disk fault")
    ticket = lifecycle.start_repair(asset_id=asset.id, actor="job:open_repair_ticket")

    # when the ticket is resolved
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="bob", action_taken="replaced disk")

    # then the old scheduled inspection is given up and the verification inspection waits instead
    scheduled = Inspection.objects.get(pk=scheduled_id)
    assert scheduled.verdict == Verdict.ERROR
    assert "Superseded" in scheduled.summary
    waiting = Inspection.objects.get(asset=asset, verdict=Verdict.PENDING)
    assert (waiting.purpose, waiting.ticket_id) == (Purpose.VERIFICATION, ticket.id)
    assert Asset.objects.get(pk=asset.pk).state == S.VERIFYING


def test_a_failing_scheduled_inspection_isolates_the_asset(asset, hardware_model, eager_jobs):
    # given an active asset that quietly lost half its memory
    _a_dimm_goes_missing(hardware_model)

    # when a scheduled inspection checks it
    [inspection_id] = lifecycle.scheduled_inspections(sample=5)

    # then the failure became a critical memory fault, which isolated the asset and opened its ticket
    inspection = Inspection.objects.get(pk=inspection_id)
    assert inspection.verdict == Verdict.FAILED
    fault = Fault.objects.get(asset=asset)
    assert (fault.severity, fault.component, fault.detector) == ("critical", "memory", "inspection")
    assert fault.details == {"inspection": inspection.id, "profile": "facts"}
    assert Asset.objects.get(pk=asset.pk).state == S.IN_REPAIR
    assert history(asset) == [("isolate", S.ACTIVE, S.ISOLATED), ("start_repair", S.ISOLATED, S.IN_REPAIR)]
    ticket = RepairTicket.objects.get(asset=asset)
    assert list(ticket.faults.all()) == [fault]


def test_a_passing_scheduled_inspection_changes_nothing(asset, eager_jobs):
    # given a healthy active asset
    # when a scheduled inspection checks it (via the beat job)
    [inspection_id] = tasks.scheduled_inspections()

    # then it passed, no fault was raised, the asset stays active
    assert Inspection.objects.get(pk=inspection_id).verdict == Verdict.PASSED
    assert not Fault.objects.exists()
    assert Asset.objects.get(pk=asset.pk).state == S.ACTIVE
    assert not AssetTransition.objects.exists()
