"""Step 3, repair (isolated → in_repair): the incident's repair ticket opened, its rung of the ladder chosen from the
machine's history (repairs/escalation.py); step 4, the ticket resolved (in_repair → verifying) and the machine sent
to be checked. Also retire (isolated | in_repair → retired) and reinstate (retired → isolated)."""
from __future__ import annotations

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django_fsm import can_proceed

from assets.choices import Severity, Transition
from assets.choices import AssetState as S
from assets.conflicts import TicketConflict, TransitionConflict
from assets.models import Asset, AssetTransition, Fault
from inspection.choices import Purpose
from lifecycle import auto_repair, tasks
from lifecycle.intake import fault_summary, worst_fault
from lifecycle.transitions import apply, apply_many, locked, owe_job, ticket_event, tickets_event
from lifecycle.verification import request_inspection
from repairs import escalation
from repairs import services as tickets
from repairs.models import RepairTicket


def start_repair(*, asset_id: int, actor: str, reason: str = "") -> RepairTicket | None:
    """Open the incident's repair ticket (or take the one already open), link its faults, choose the repair from
    the machine's history, and start the repair. A machine with too many hardware repairs lately is retired
    instead (None is returned)."""
    with transaction.atomic():
        asset = locked(asset_id)
        if not can_proceed(asset.start_repair):
            raise TransitionConflict(asset, "start_repair")
        return start_repairs([asset], actor=actor, reason=reason)[asset.pk]


def start_repairs(assets: list[Asset], *, actor: str, reason: str = "") -> dict[int, RepairTicket | None]:
    """start_repair for many assets, locked by the caller and each able to start its repair: a constant number of
    queries whatever their number (a storm's thousand tickets in one pass). Returns each asset's ticket (None:
    retired instead)."""
    now = timezone.now()
    ids = [asset.pk for asset in assets]
    result: dict[int, RepairTicket | None] = {t.asset_id: t for t in RepairTicket.objects.unclosed()
                                              .filter(asset_id__in=ids).select_related("asset")}
    new = [asset for asset in assets if asset.pk not in result]
    retiring = escalation.due_for_retirement(asset_ids=[asset.pk for asset in new], now=now)
    apply_many([(asset, f"retired instead of repaired again: {retiring[asset.pk]}")
                for asset in new if asset.pk in retiring], "retire", actor=actor)
    result.update(dict.fromkeys(retiring))
    new = [asset for asset in new if asset.pk not in retiring]
    if new:
        openings = _openings(new, reason=reason, now=now)
        opened = tickets.tickets_open(openings, actor=actor, now=now)
        tickets_event(opened, "opened")
        auto_repair.owe_auto_repairs([(o["asset"], ticket) for o, ticket in zip(openings, opened)])
        result.update({ticket.asset_id: ticket for ticket in opened})
    apply_many([(asset, reason or _opened(result[asset.pk])) for asset in assets if result[asset.pk] is not None],
               "start_repair", actor=actor)
    return result


def _opened(ticket: RepairTicket) -> str:
    escalated = f", escalated: {ticket.escalation}" if ticket.escalation else ""
    return f"repair ticket #{ticket.id} opened ({ticket.repair_action}{escalated}): {ticket.summary}"


def _openings(assets: list[Asset], *, reason: str, now) -> list[dict]:
    """Each new incident's ticket: its faults (not linked yet, since the last ticket closed), its rung of the ladder
    and summary. Five queries for all the assets."""
    ids = [asset.pk for asset in assets]
    last_closed = (RepairTicket.objects.filter(asset_id=OuterRef("pk"), closed_at__isnull=False)
                   .order_by("-closed_at").values("closed_at")[:1])
    last_isolation = (AssetTransition.objects.filter(asset_id=OuterRef("pk"), transition=Transition.ISOLATE)
                      .order_by("-id").values("id")[:1])
    history = {pk: (closed, isolation) for pk, closed, isolation in Asset.objects.filter(pk__in=ids).annotate(
        closed=Subquery(last_closed), isolation=Subquery(last_isolation)).values_list("pk", "closed", "isolation")}
    isolations = AssetTransition.objects.in_bulk([isolation for _, isolation in history.values() if isolation])
    faults: dict[int, list[Fault]] = {}
    for fault in (Fault.objects.filter(asset_id__in=ids, repair_tickets__isnull=True)
                  .exclude(severity=Severity.INFO).order_by("id")):
        closed = history[fault.asset_id][0]
        if closed is None or fault.received_at > closed:
            faults.setdefault(fault.asset_id, []).append(fault)
    last_repairs = escalation.last_repairs(ids)
    openings = []
    for asset in assets:
        mine = faults.get(asset.pk, [])
        isolation = isolations.get(history[asset.pk][1])
        action, escalated = escalation.next_action(
            last=last_repairs.get(asset.pk), component=worst_fault(mine).component if mine else None, now=now,
            during_probation=isolation is not None and isolation.source == S.RETURNED)
        openings.append({"asset": asset, "summary": fault_summary(mine) or reason or _isolation_reason(isolation),
                         "repair_action": action, "escalation": escalated, "faults": mine})
    return openings


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


