"""Repair tickets: one per incident, opened when a machine is isolated, cancelled on a false alarm, resolved when
the repair is done, and joined by the faults that arrive while the machine is out of service."""
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from assets.choices import AssetState as S
from assets.models import Asset, AssetTransition, Fault
import lifecycle
from repairs import services as tickets
from lifecycle import tasks
from inspection.choices import Purpose, Verdict
from inspection.models import Inspection
from repairs.choices import TicketStatus
from repairs.models import RepairTicket
from tests.assets.helpers import fault, history, put_in_state


def _open_ticket(asset: Asset) -> RepairTicket:
    return RepairTicket.objects.create(asset=asset, summary="disk: SMART errors", opened_by="tests")


# Opening ---------------------------------------------------------------------------------------------------
def test_isolating_opens_the_ticket_with_the_faults_behind_it(asset, eager_jobs):
    # given an active asset with a warning and an info fault that did not isolate it
    [warning, info] = lifecycle.report_faults(detector="smartd", items=[
        fault(asset, severity="warning", summary="reallocated sectors"), fault(asset, severity="info")])

    # when staff isolates it
    lifecycle.isolate(asset_id=asset.id, actor="alice", reason="disk looks bad")

    # then the job opened its repair ticket with the warning (not the info) and started the repair
    asset.refresh_from_db()
    assert asset.state == S.IN_REPAIR
    ticket = RepairTicket.objects.get(asset=asset)
    assert (ticket.status, ticket.closed_at, ticket.opened_by) == (TicketStatus.OPEN, None, "job:open_repair_ticket")
    assert list(ticket.faults.values_list("id", flat=True)) == [warning.id]
    assert ticket.summary == "disk: reallocated sectors"
    assert history(asset) == [("isolate", S.ACTIVE, S.ISOLATED), ("start_repair", S.ISOLATED, S.IN_REPAIR)]
    assert f"ticket #{ticket.id}" in asset.transitions.get(transition="start_repair").reason


def test_isolated_asset_faults_join_the_ticket_when_it_opens(asset):
    # given an isolated asset whose ticket is not open yet
    put_in_state(asset, S.ISOLATED)

    # when more faults arrive, and then the ticket opens
    outcomes = lifecycle.report_faults(detector="smartd", items=[fault(asset), fault(asset, severity="warning")])
    ticket = lifecycle.start_repair(asset_id=asset.id, actor="job:open_repair_ticket")

    # then the ticket has them
    assert set(ticket.faults.values_list("id", flat=True)) == {o.id for o in outcomes}


def test_a_new_incident_does_not_take_the_faults_of_an_old_one(asset):
    # given a warning from before an earlier incident was closed, and one after it
    [old] = lifecycle.report_faults(detector="smartd", items=[fault(asset, severity="warning", summary="old")])
    Fault.objects.filter(pk=old.id).update(received_at=timezone.now() - timedelta(hours=1))
    RepairTicket.objects.create(asset=asset, summary="earlier", opened_by="tests", status=TicketStatus.CANCELLED,
                                closed_at=timezone.now())
    [new] = lifecycle.report_faults(detector="smartd", items=[fault(asset, severity="warning", summary="new")])

    # when the asset is isolated and its new ticket opens
    lifecycle.isolate(asset_id=asset.id, actor="alice", reason="new trouble")
    ticket = lifecycle.start_repair(asset_id=asset.id, actor="job:open_repair_ticket")

    # then only the new fault is on it
    assert list(ticket.faults.values_list("id", flat=True)) == [new.id]


def test_one_open_ticket_per_asset_even_if_start_repair_runs_twice(asset):
    # given an isolated asset
    put_in_state(asset, S.ISOLATED)

    # when the ticket job runs, and runs again (a redelivered message)
    ticket = lifecycle.start_repair(asset_id=asset.id, actor="job:open_repair_ticket")
    with pytest.raises(lifecycle.TransitionConflict):
        lifecycle.start_repair(asset_id=asset.id, actor="job:open_repair_ticket")
    tasks.open_repair_ticket(asset.id)  # the job itself shrugs it off

    # then there is still one ticket and one start_repair
    assert list(RepairTicket.objects.filter(asset=asset)) == [ticket]
    assert history(asset) == [("start_repair", S.ISOLATED, S.IN_REPAIR)]


def test_start_repair_takes_the_ticket_already_open(asset):
    # given an isolated asset that already has an open ticket
    put_in_state(asset, S.ISOLATED)
    existing = _open_ticket(asset)

    # when the repair starts
    ticket = lifecycle.start_repair(asset_id=asset.id, actor="alice", reason="on it")

    # then it uses that ticket
    assert ticket == existing
    assert RepairTicket.objects.filter(asset=asset).count() == 1


def test_the_database_refuses_a_second_open_ticket(asset):
    # given an asset with an open ticket
    _open_ticket(asset)

    # when code tries to open another
    # then the constraint refuses it
    with pytest.raises(IntegrityError), transaction.atomic():
        _open_ticket(asset)


# Faults while out of service -------------------------------------------------------------------------------
@pytest.mark.parametrize("state", [S.IN_REPAIR, S.VERIFYING])
def test_faults_on_an_asset_out_of_service_join_its_open_ticket(asset, eager_jobs, state):
    # given an asset in repair (or being verified) with its ticket
    put_in_state(asset, state)
    ticket = RepairTicket.objects.get(asset=asset)

    # when a warning, a critical and an info fault arrive
    warning, critical, info = lifecycle.report_faults(detector="ipmi", items=[
        fault(asset, severity="warning"), fault(asset, severity="critical"), fault(asset, severity="info")])

    # then the warning and the critical join the ticket; nothing moves
    assert set(ticket.faults.values_list("id", flat=True)) == {warning.id, critical.id}
    assert Asset.objects.get(pk=asset.pk).state == state
    assert RepairTicket.objects.filter(asset=asset).count() == 1
    assert history(asset) == []


# Dismiss ---------------------------------------------------------------------------------------------------
def test_dismiss_cancels_the_open_ticket(asset):
    # given an isolated asset with an open ticket
    put_in_state(asset, S.ISOLATED)
    ticket = _open_ticket(asset)

    # when staff calls it a false alarm
    lifecycle.dismiss(asset_id=asset.id, actor="alice", reason="detector misfired")

    # then the asset is back in service and the ticket is cancelled and closed, saying why
    assert Asset.objects.get(pk=asset.pk).state == S.ACTIVE
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CANCELLED
    assert ticket.closed_at is not None
    assert "false alarm" in ticket.notes and "detector misfired" in ticket.notes and "alice" in ticket.notes
    assert tickets.open_ticket_of(asset) is None


def test_dismiss_without_a_ticket(asset):
    # given an isolated asset whose ticket never opened
    put_in_state(asset, S.ISOLATED)

    # when staff dismisses it
    lifecycle.dismiss(asset_id=asset.id, actor="alice", reason="false alarm")

    # then it is active and no ticket appears
    assert Asset.objects.get(pk=asset.pk).state == S.ACTIVE
    assert not RepairTicket.objects.exists()


# Resolve: in_repair → verifying ----------------------------------------------------------------------------
def test_resolving_the_ticket_starts_verification(asset):
    # given an asset in repair with its open ticket
    put_in_state(asset, S.IN_REPAIR)
    ticket = RepairTicket.objects.get(asset=asset)

    # when the technician resolves the ticket
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="bob", action_taken="replaced disk 2")

    # then the ticket is resolved (not yet closed) and the asset waits for its verification inspection
    ticket.refresh_from_db()
    assert (ticket.status, ticket.action_taken, ticket.closed_at) == (TicketStatus.RESOLVED, "replaced disk 2", None)
    assert ticket.resolved_at is not None
    assert "replaced disk 2" in ticket.notes
    assert Asset.objects.get(pk=asset.pk).state == S.VERIFYING
    inspection = Inspection.objects.get(asset=asset)
    assert (inspection.verdict, inspection.purpose, inspection.ticket_id) == (Verdict.PENDING, Purpose.VERIFICATION,
                                                                              ticket.id)
    row = AssetTransition.objects.get(asset=asset)
    assert (row.transition, row.actor) == ("start_verification", "bob")
    assert "replaced disk 2" in row.reason


def test_start_verification_on_the_asset_resolves_its_ticket(asset):
    # given an asset in repair with its open ticket
    put_in_state(asset, S.IN_REPAIR)

    # when staff asks for start_verification on the asset
    lifecycle.request_transition(asset=asset, transition="start_verification", actor="bob", reason="reseated DIMM")

    # then its ticket is resolved with the reason as the action taken, and an inspection is pending
    ticket = RepairTicket.objects.get(asset=asset)
    assert (ticket.status, ticket.action_taken) == (TicketStatus.RESOLVED, "reseated DIMM")
    assert Inspection.objects.get(asset=asset, verdict=Verdict.PENDING).ticket_id == ticket.id
    assert Asset.objects.get(pk=asset.pk).state == S.VERIFYING


def test_start_verification_needs_an_open_ticket(asset):
    # given an asset in repair whose ticket was closed behind its back
    put_in_state(asset, S.IN_REPAIR)
    RepairTicket.objects.filter(asset=asset).update(closed_at=timezone.now(), status=TicketStatus.CANCELLED)

    # when staff asks to verify it
    # then it is refused and nothing is inspected
    with pytest.raises(lifecycle.TransitionConflict):
        lifecycle.start_verification(asset_id=asset.id, actor="bob", reason="done")
    assert Asset.objects.get(pk=asset.pk).state == S.IN_REPAIR
    assert not Inspection.objects.exists()


@pytest.mark.parametrize("status", [TicketStatus.RESOLVED, TicketStatus.CANCELLED])
def test_only_a_workable_ticket_can_be_resolved(asset, status):
    # given a ticket that is no longer open
    put_in_state(asset, S.IN_REPAIR)
    ticket = RepairTicket.objects.get(asset=asset)
    RepairTicket.objects.filter(pk=ticket.pk).update(status=status)

    # when someone resolves it
    with pytest.raises(lifecycle.TicketConflict) as conflict:
        lifecycle.resolve_ticket(ticket_id=ticket.id, actor="bob", action_taken="again")

    # then it is refused and the asset stays in repair
    assert status in conflict.value.detail
    assert Asset.objects.get(pk=asset.pk).state == S.IN_REPAIR
    assert not Inspection.objects.exists()


def test_resolving_twice_is_refused(asset):
    # given a ticket just resolved
    put_in_state(asset, S.IN_REPAIR)
    ticket = RepairTicket.objects.get(asset=asset)
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="bob", action_taken="replaced disk")

    # when it is resolved again
    # then it is refused, and there is still one inspection
    with pytest.raises(lifecycle.TicketConflict):
        lifecycle.resolve_ticket(ticket_id=ticket.id, actor="bob", action_taken="replaced disk")
    assert Inspection.objects.filter(asset=asset).count() == 1


def test_a_ticket_of_an_asset_not_in_repair_cannot_be_resolved(asset):
    # given an isolated asset with an open ticket (the repair has not started)
    put_in_state(asset, S.ISOLATED)
    ticket = _open_ticket(asset)

    # when someone resolves the ticket
    with pytest.raises(lifecycle.TicketConflict) as conflict:
        lifecycle.resolve_ticket(ticket_id=ticket.id, actor="bob", action_taken="nothing")

    # then it is refused: the asset is not in repair
    assert "isolated" in conflict.value.detail
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert Asset.objects.get(pk=asset.pk).state == S.ISOLATED


# The reconcile job: a ticket whose job was lost ------------------------------------------------------------
@override_settings(DAM_RECONCILE_GRACE_SECONDS=120)
def test_reconcile_opens_the_missing_ticket_after_the_grace_period(asset):
    # given an asset isolated whose ticket job never ran (no jobs run in this test)
    lifecycle.isolate(asset_id=asset.id, actor="job:isolate_asset", reason="critical disk fault")
    isolated_at = Asset.objects.get(pk=asset.pk).state_changed_at
    assert not RepairTicket.objects.exists()

    # when the reconcile job runs within the grace period
    # then it waits
    assert lifecycle.reconcile_stuck_assets(now=isolated_at + timedelta(seconds=60))["tickets_opened"] == 0
    assert Asset.objects.get(pk=asset.pk).state == S.ISOLATED

    # when it runs after the grace period
    result = lifecycle.reconcile_stuck_assets(now=isolated_at + timedelta(seconds=121))

    # then it opens the ticket and starts the repair
    assert result["tickets_opened"] == 1
    assert Asset.objects.get(pk=asset.pk).state == S.IN_REPAIR
    assert RepairTicket.objects.get(asset=asset).opened_by == "job:reconcile"
    assert asset.transitions.get(transition="start_repair").actor == "job:reconcile"


def test_reconcile_leaves_assets_on_track_alone(make_asset):
    # given assets in every state but isolated, all changed long ago
    long_ago = timezone.now() - timedelta(days=1)
    for n, state in enumerate([S.ACTIVE, S.IN_REPAIR, S.RETURNED]):
        put_in_state(make_asset(f"host-{n}"), state, changed_at=long_ago)

    # when the reconcile job runs
    result = tasks.reconcile_stuck_assets()

    # then it has nothing to do
    assert result == {"tickets_opened": 0, "inspections_requested": 0}
    assert not AssetTransition.objects.exists()
