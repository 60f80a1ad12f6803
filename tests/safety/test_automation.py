"""Safe automation against a real database, jobs run in-process: budget, approval, cooldown, switches, dedup,
warnings adding up, probation, escalation, flapping, retirement, SLA."""
from datetime import timedelta

import pytest
from django.utils import timezone

from assets.choices import AssetState as S
from assets.choices import Automation, Decision, RequestStatus
from assets.models import Asset, AutomationDecision, Fault, FleetAutomation, IsolationRequest
import lifecycle
from repairs.choices import RepairAction, TicketStatus
from repairs.models import RepairTicket


def report(asset, severity="critical", component="disk", detector="smartd", **extra):
    return lifecycle.report_faults(detector=detector, items=[{
        "asset": asset.hostname, "component": component, "severity": severity, "summary": "SMART errors",
        **extra}])


def state(asset) -> str:
    return Asset.objects.get(pk=asset.pk).state


@pytest.fixture
def fleet(make_asset, pool):
    """A pool of 10 machines that lets 2 out at once."""
    pool.max_unavailable = "2"
    pool.save()
    return [make_asset(f"host-{n:02d}") for n in range(10)]


def test_the_budget_holds_and_the_rest_wait_for_approval(fleet, eager_jobs):
    for asset in fleet[:4]:
        report(asset)
    assert [state(a) for a in fleet[:4]] == [S.IN_REPAIR, S.IN_REPAIR, S.ACTIVE, S.ACTIVE]
    pending = IsolationRequest.objects.filter(status=RequestStatus.PENDING)
    assert sorted(r.asset.hostname for r in pending) == ["host-02", "host-03"]
    assert "budget: 2 of 10 out of service, at most 2 (2)" in pending.first().reason
    assert fleet[0].pool.__class__.objects.get(pk=fleet[0].pool_id).budget_hit_at is not None
    assert list(AutomationDecision.objects.order_by("id").values_list("decision", flat=True)) == [
        Decision.ISOLATED, Decision.ISOLATED, Decision.PENDING_APPROVAL, Decision.PENDING_APPROVAL]
    # a second fault on a machine already waiting adds nothing to decide
    report(fleet[2], component="memory")
    assert IsolationRequest.objects.filter(asset=fleet[2]).count() == 1


def test_staff_approve_a_pending_isolation_over_the_budget(fleet, eager_jobs):
    for asset in fleet[:3]:
        report(asset)
    request = IsolationRequest.objects.get(asset=fleet[2])

    lifecycle.approve_isolation(request_id=request.id, actor="alice", reason="disk is really gone")

    assert state(fleet[2]) == S.IN_REPAIR
    request.refresh_from_db()
    assert (request.status, request.decided_by) == (RequestStatus.APPROVED, "alice")
    row = fleet[2].transitions.get(transition="isolate")
    assert row.actor == "alice" and f"approved isolation request #{request.id}" in row.reason
    with pytest.raises(lifecycle.RequestConflict):
        lifecycle.approve_isolation(request_id=request.id, actor="alice")


def test_staff_dismiss_a_pending_isolation(fleet, eager_jobs):
    for asset in fleet[:3]:
        report(asset)
    request = IsolationRequest.objects.get(asset=fleet[2])
    lifecycle.dismiss_isolation_request(request_id=request.id, actor="bob", reason="known firmware noise")
    request.refresh_from_db()
    assert request.status == RequestStatus.DISMISSED and state(fleet[2]) == S.ACTIVE


def test_isolating_by_hand_supersedes_the_pending_request(fleet, eager_jobs):
    for asset in fleet[:3]:
        report(asset)
    lifecycle.isolate(asset_id=fleet[2].id, actor="alice", reason="I saw it smoke")
    assert IsolationRequest.objects.get(asset=fleet[2]).status == RequestStatus.SUPERSEDED


def test_after_the_budget_was_hit_a_storm_cooldown_holds_automation(fleet, eager_jobs):
    for asset in fleet[:3]:
        report(asset)
    # the storm passes: both repaired machines are dismissed as false alarms, the budget has room again
    for asset in fleet[:2]:
        ticket = RepairTicket.objects.get(asset=asset)
        lifecycle.resolve_ticket(ticket_id=ticket.id, actor="alice", action_taken="reseated")
    assert Asset.objects.filter(state__in=[S.ISOLATED, S.IN_REPAIR, S.VERIFYING]).count() == 0

    report(fleet[5])  # within the cooldown: waits for approval although the budget has room
    assert state(fleet[5]) == S.ACTIVE
    assert "storm cooldown" in IsolationRequest.objects.get(asset=fleet[5]).reason

    pool = fleet[0].pool
    pool.refresh_from_db()
    pool.budget_hit_at = timezone.now() - timedelta(minutes=pool.storm_cooldown_minutes + 1)
    pool.save()
    report(fleet[6])  # after it: automation acts again
    assert state(fleet[6]) == S.IN_REPAIR


@pytest.mark.parametrize("mode, decision", [(Automation.PAUSED, Decision.PAUSED), (Automation.DRY_RUN, Decision.DRY_RUN)])
def test_paused_and_dry_run_pools_record_and_do_nothing(asset, eager_jobs, mode, decision):
    asset.pool.automation = mode
    asset.pool.save()
    report(asset)
    assert state(asset) == S.ACTIVE and not IsolationRequest.objects.exists()
    recorded = AutomationDecision.objects.get(asset=asset)
    assert recorded.decision == decision and recorded.actor == "job:isolate_asset"
    assert Fault.objects.filter(asset=asset).count() == 1


def test_the_global_switch_pauses_every_pool(asset, eager_jobs):
    FleetAutomation.objects.create(pk=1, paused=True, reason="datacenter maintenance", changed_by="alice")
    report(asset)
    assert state(asset) == S.ACTIVE
    assert "paused fleet-wide" in AutomationDecision.objects.get(asset=asset).reason


def test_an_excluded_asset_is_never_isolated_by_automation(asset, eager_jobs):
    asset.exclude_from_automation = True
    asset.save()
    report(asset)
    assert state(asset) == S.ACTIVE
    assert AutomationDecision.objects.get(asset=asset).decision == Decision.EXCLUDED
    lifecycle.isolate(asset_id=asset.id, actor="alice", reason="by hand it still works")
    assert state(asset) == S.IN_REPAIR


def test_repeats_within_the_dedup_window_are_kept_and_linked_to_the_first(asset, eager_jobs):
    asset.pool.automation = Automation.PAUSED  # keep the asset active, so the repeats arrive on the same state
    asset.pool.save()
    for _ in range(3):
        report(asset)
    report(asset, component="memory")
    first, second, third, memory = Fault.objects.order_by("id")
    assert (second.repeat_of_id, third.repeat_of_id) == (first.id, first.id)
    assert first.repeat_of_id is None and memory.repeat_of_id is None
    assert AutomationDecision.objects.filter(asset=asset).count() == 2  # one per incident, not per event


def test_a_critical_after_a_warning_is_no_repeat(asset, eager_jobs):
    report(asset, severity="warning")
    report(asset, severity="critical")
    assert state(asset) == S.IN_REPAIR
    assert Fault.objects.get(severity="critical").repeat_of_id is None


def test_warnings_add_up_within_the_window(asset, eager_jobs):
    report(asset, severity="warning")
    report(asset, severity="warning")
    assert state(asset) == S.ACTIVE
    report(asset, severity="warning", component="memory")  # another component does not add up
    assert state(asset) == S.ACTIVE
    report(asset, severity="warning")
    assert state(asset) == S.IN_REPAIR
    assert "3 disk warnings within 10 min" in AutomationDecision.objects.get(asset=asset).reason


def test_old_warnings_do_not_count(asset, eager_jobs):
    report(asset, severity="warning")
    report(asset, severity="warning")
    Fault.objects.update(received_at=timezone.now() - timedelta(minutes=11))
    report(asset, severity="warning")
    assert state(asset) == S.ACTIVE


def walk_to_returned(asset, action="", action_taken="fixed"):
    ticket = RepairTicket.objects.get(asset=asset, closed_at__isnull=True)
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="alice", action_taken=action_taken, action=action)
    assert state(asset) == S.RETURNED
    return ticket


def test_a_fault_during_probation_isolates_again_one_rung_higher(asset, eager_jobs):
    report(asset, component="cpu")  # a first cpu incident starts with a reboot
    first = walk_to_returned(asset)
    first.refresh_from_db()
    assert first.repair_action == RepairAction.REBOOT and first.performed_action == RepairAction.REBOOT

    report(asset, severity="warning", component="cpu")  # during probation a warning is enough
    second = RepairTicket.objects.get(asset=asset, closed_at__isnull=True)
    assert second.repair_action == RepairAction.REIMAGE
    assert f"failed again during probation after reboot on ticket #{first.id}" == second.escalation


def test_disk_incidents_start_at_hardware_repair_and_a_repeat_within_30_days_escalates(asset, eager_jobs):
    report(asset)
    first = walk_to_returned(asset)
    assert first.repair_action == RepairAction.HARDWARE_REPAIR
    lifecycle.end_probation(asset_id=asset.id, actor="job:end_probation", reason="clean")
    RepairTicket.objects.filter(pk=first.pk).update(closed_at=timezone.now() - timedelta(days=10))
    Fault.objects.update(received_at=timezone.now() - timedelta(days=10))

    report(asset)
    assert RepairTicket.objects.get(asset=asset, closed_at__isnull=True).repair_action == RepairAction.REPLACE


def test_a_machine_isolated_again_and_again_is_flagged_flapping(asset, eager_jobs, settings):
    settings.DAM_FLAPPING_ISOLATIONS = 3
    for round_ in range(3):
        lifecycle.isolate(asset_id=asset.id, actor="alice", reason=f"round {round_}")
        assert Asset.objects.get(pk=asset.pk).flapping is (round_ == 2)
        if round_ < 2:
            walk_to_returned(asset)


def test_a_machine_isolated_again_and_again_by_faults_is_flagged_flapping(asset, eager_jobs, settings):
    # the automatic path counts a whole batch's earlier isolations in one query
    settings.DAM_FLAPPING_ISOLATIONS = 3
    for round_ in range(3):
        report(asset, event_id=f"smart-{round_}", component=["disk", "memory", "cpu"][round_])
        assert Asset.objects.get(pk=asset.pk).flapping is (round_ == 2)
        assert asset.transitions.filter(transition="isolate", actor="job:isolate_asset").count() == round_ + 1
        if round_ < 2:
            walk_to_returned(asset)


def test_too_many_hardware_repairs_retire_the_machine(asset, eager_jobs, settings):
    settings.DAM_RETIRE_AFTER_HARDWARE_REPAIRS = 2
    for _ in range(2):
        lifecycle.isolate(asset_id=asset.id, actor="alice", reason="disk again")
        walk_to_returned(asset, action=RepairAction.HARDWARE_REPAIR)

    lifecycle.isolate(asset_id=asset.id, actor="alice", reason="disk a third time")

    assert state(asset) == S.RETIRED
    row = asset.transitions.get(transition="retire")
    assert row.actor == "job:open_repair_ticket" and "2 hardware repairs within 90 days" in row.reason
    assert not RepairTicket.objects.filter(asset=asset, closed_at__isnull=True).exists()

    # only staff bring it back, and the safe way: isolated, repaired, verified
    lifecycle.request_transition(asset=asset, transition="reinstate", actor="alice", reason="new backplane")
    assert state(asset) == S.RETIRED or state(asset) == S.IN_REPAIR


def test_tickets_past_their_sla_are_overdue(asset, eager_jobs, settings):
    settings.DAM_TICKET_SLA_HOURS = 48
    report(asset)
    ticket = RepairTicket.objects.get(asset=asset)
    assert ticket.due_at == ticket.opened_at + timedelta(hours=48) and not ticket.overdue
    RepairTicket.objects.filter(pk=ticket.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    ticket.refresh_from_db()
    assert ticket.overdue
    walk_to_returned(asset)
    ticket.refresh_from_db()
    assert not ticket.overdue and ticket.status == TicketStatus.RESOLVED
