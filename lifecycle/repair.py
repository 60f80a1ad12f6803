"""Step 3, repair (isolated → in_repair): the incident's repair ticket opened, its rung of the ladder chosen from the
machine's history (repairs/escalation.py); step 4, the ticket resolved (in_repair → verifying) and the machine sent
to be checked. Also retire (isolated | in_repair → retired) and reinstate (retired → isolated)."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from assets.choices import Severity, Transition
from assets.choices import AssetState as S
from assets.conflicts import TicketConflict, TransitionConflict
from assets.models import Asset, AssetTransition, Fault
from inspection.choices import Purpose
from lifecycle import auto_repair, tasks
from lifecycle.intake import fault_summary, worst_fault
from lifecycle.transitions import apply, locked, owe_job, ticket_event
from lifecycle.verification import request_inspection
from repairs import escalation
from repairs import services as tickets
from repairs.models import RepairTicket


def start_repair(*, asset_id: int, actor: str, reason: str = "") -> RepairTicket | None:
    """Open the incident's repair ticket (or take the one already open), link its faults, choose the repair from
    the machine's history, and start the repair. A machine with too many hardware repairs lately is retired
    instead (None is returned)."""
    now = timezone.now()
    with transaction.atomic():
        asset = locked(asset_id)
        if not can_proceed(asset.start_repair):
            raise TransitionConflict(asset, "start_repair")
        ticket = tickets.open_ticket_of(asset)
        if ticket is None:
            if why := escalation.due_for_retirement(asset=asset, now=now):
                apply(asset, "retire", actor=actor, reason=f"retired instead of repaired again: {why}")
                return None
            last_closed = (RepairTicket.objects.filter(asset=asset, closed_at__isnull=False)
                           .order_by("-closed_at").values_list("closed_at", flat=True).first())
            faults = Fault.objects.filter(asset=asset, repair_tickets__isnull=True).exclude(severity=Severity.INFO)
            if last_closed:
                faults = faults.filter(received_at__gt=last_closed)
            faults = list(faults.order_by("id"))
            isolation = asset.transitions.filter(transition=Transition.ISOLATE).order_by("-id").first()
            action, escalated = escalation.next_action(
                asset=asset, component=worst_fault(faults).component if faults else None, now=now,
                during_probation=isolation is not None and isolation.source == S.RETURNED)
            summary = fault_summary(faults) or reason or _isolation_reason(isolation)
            ticket = tickets.ticket_open(asset=asset, summary=summary, actor=actor, repair_action=action,
                                         escalation=escalated, faults=faults, now=now)
            ticket_event(ticket, "opened")
            auto_repair.owe_auto_repair(asset, ticket)  # the reboot or reimage rung, if DAM does it itself
        apply(asset, "start_repair", actor=actor,
               reason=reason or f"repair ticket #{ticket.id} opened ({ticket.repair_action}"
                                f"{', escalated: ' + ticket.escalation if ticket.escalation else ''}): "
                                f"{ticket.summary}")
    return ticket


def _isolation_reason(isolation: AssetTransition | None) -> str:
    """Why the asset was isolated, for a ticket that has no fault to name (staff isolated it by hand)."""
    return f"Isolated by {isolation.actor}: {isolation.reason}" if isolation else "Isolated"


# retire: isolated | in_repair → retired; reinstate: retired → isolated (staff only) ------------------------
def retire(*, asset_id: int, actor: str, reason: str) -> Asset:
    with transaction.atomic():
        asset = locked(asset_id)
        apply(asset, "retire", actor=actor, reason=reason)
        cancel_open_ticket(asset, note=f"Cancelled: the machine was retired by {actor}. {reason}")
    return asset


def cancel_open_ticket(asset: Asset, *, note: str) -> None:
    """The machine left repair without one (dismissed, retired): its open ticket, if any, is cancelled."""
    if ticket := tickets.open_ticket_of(asset):
        tickets.ticket_cancel(ticket=ticket, note=note)
        ticket_event(ticket, "cancelled")


def reinstate(*, asset_id: int, actor: str, reason: str) -> Asset:
    """A retired machine comes back the safe way: isolated, so it is repaired and verified before it serves."""
    with transaction.atomic():
        asset = locked(asset_id)
        apply(asset, "reinstate", actor=actor, reason=reason)
        owe_job(tasks.open_repair_ticket, asset.id)
    return asset


# 4. start_verification: in_repair → verifying, when the ticket is resolved --------------------------------
def resolve_ticket(*, ticket_id: int, actor: str, action_taken: str, action: str = "") -> RepairTicket:
    """A technician says the repair is done (`action`: which rung of the ladder, the ticket's own by default):
    the ticket is resolved and the machine goes to be checked."""
    with transaction.atomic():
        asset_id = RepairTicket.objects.values_list("asset_id", flat=True).get(pk=ticket_id)
        asset = locked(asset_id)
        ticket = RepairTicket.objects.select_for_update().get(pk=ticket_id)
        if not tickets.is_workable(ticket):
            raise TicketConflict(ticket, f"Ticket #{ticket.id} is {ticket.status}; only open or in_progress "
                                         "tickets can be resolved.")
        if not can_proceed(asset.start_verification):
            raise TicketConflict(ticket, f"Asset {asset.hostname} is {asset.state}, not in_repair.")
        return _resolve_and_verify(asset, ticket, actor=actor, action_taken=action_taken, action=action)


def start_verification(*, asset_id: int, actor: str, reason: str) -> RepairTicket:
    """The same step asked for on the asset: resolves its open ticket with the reason as the action taken."""
    with transaction.atomic():
        asset = locked(asset_id)
        ticket = tickets.open_ticket_of(asset)
        if not can_proceed(asset.start_verification) or ticket is None:
            raise TransitionConflict(asset, "start_verification")
        return _resolve_and_verify(asset, ticket, actor=actor, action_taken=reason)


def _resolve_and_verify(asset: Asset, ticket: RepairTicket, *, actor: str, action_taken: str,
                        action: str = "") -> RepairTicket:
    tickets.ticket_resolve(ticket=ticket, actor=actor, action_taken=action_taken, action=action)
    ticket_event(ticket, "resolved")
    apply(asset, "start_verification", actor=actor, reason=f"ticket #{ticket.id} resolved: {action_taken}")
    request_inspection(asset, purpose=Purpose.VERIFICATION, ticket_id=ticket.id)
    return ticket


