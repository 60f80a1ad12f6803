"""Which repair to try: the escalation ladder (reboot → reimage → hardware repair → replace) and retirement.

A machine that fails again during probation, or has another incident within DAM_ESCALATION_DAYS of its last
repair, goes one rung above what was done last time. After DAM_RETIRE_AFTER_HARDWARE_REPAIRS hardware repairs
within DAM_RETIRE_WINDOW_DAYS it is not repaired again but retired.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, OuterRef, Subquery

from assets.models import Asset

from repairs.choices import HARDWARE_ACTIONS, LADDER, RepairAction, TicketStatus
from repairs.models import RepairTicket

# Where the ladder starts for a first incident: a reboot cures no failing disk, DIMM or power supply.
FIRST_RUNG = {
    "disk": RepairAction.HARDWARE_REPAIR,
    "memory": RepairAction.HARDWARE_REPAIR,
    "power": RepairAction.HARDWARE_REPAIR,
    "gpu": RepairAction.HARDWARE_REPAIR,
}


def last_repairs(asset_ids) -> dict[int, RepairTicket]:
    """Each asset's last repair (its last closed ticket that was not cancelled), one query for them all."""
    last = (RepairTicket.objects.filter(asset_id=OuterRef("pk"), closed_at__isnull=False)
            .exclude(status=TicketStatus.CANCELLED).order_by("-closed_at").values("id")[:1])
    ids = dict(Asset.objects.filter(pk__in=asset_ids).annotate(last=Subquery(last))
               .filter(last__isnull=False).values_list("pk", "last"))
    tickets = RepairTicket.objects.in_bulk(ids.values())
    return {asset_id: tickets[ticket_id] for asset_id, ticket_id in ids.items()}


def next_action(*, last: RepairTicket | None, component: str | None, during_probation: bool,
                now: datetime) -> tuple[str, str]:
    """The repair to try for a new incident after `last` (the asset's last repair: last_repairs), and why it was
    escalated ('' if it was not)."""
    action = FIRST_RUNG.get(component or "", RepairAction.REBOOT)
    if last is None:
        return action, ""
    recent = last.closed_at >= now - timedelta(days=settings.DAM_ESCALATION_DAYS)
    if not (during_probation or recent):
        return action, ""
    done = last.performed_action or last.repair_action
    higher = LADDER[min(LADDER.index(done) + 1, len(LADDER) - 1)]
    if LADDER.index(higher) > LADDER.index(action):
        action = higher
    why = ("failed again during probation" if during_probation
           else f"another incident within {settings.DAM_ESCALATION_DAYS} days")
    return action, f"{why} after {done} on ticket #{last.id}"


def due_for_retirement(*, asset_ids, now: datetime) -> dict[int, str]:
    """Why each of these machines should be retired instead of repaired again (the ones that should not are left
    out), one query for them all."""
    since = now - timedelta(days=settings.DAM_RETIRE_WINDOW_DAYS)
    counts = dict(RepairTicket.objects.filter(asset_id__in=asset_ids, closed_at__gte=since,
                                              performed_action__in=HARDWARE_ACTIONS)
                  .exclude(status=TicketStatus.CANCELLED).values("asset_id").annotate(n=Count("id"))
                  .values_list("asset_id", "n"))
    repairs = {asset_id: counts.get(asset_id, 0) for asset_id in asset_ids}
    return {asset_id: f"{n} hardware repairs within {settings.DAM_RETIRE_WINDOW_DAYS} days "
                      f"(retires at {settings.DAM_RETIRE_AFTER_HARDWARE_REPAIRS})"
            for asset_id, n in repairs.items() if n >= settings.DAM_RETIRE_AFTER_HARDWARE_REPAIRS}
