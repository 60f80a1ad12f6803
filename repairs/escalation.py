"""Which repair to try: the escalation ladder (reboot → reimage → hardware repair → replace) and retirement.

A machine that fails again during probation, or has another incident within DAM_ESCALATION_DAYS of its last
repair, goes one rung above what was done last time. After DAM_RETIRE_AFTER_HARDWARE_REPAIRS hardware repairs
within DAM_RETIRE_WINDOW_DAYS it is not repaired again but retired.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from repairs.choices import HARDWARE_ACTIONS, LADDER, RepairAction, TicketStatus
from repairs.models import RepairTicket

# Where the ladder starts for a first incident: a reboot cures no failing disk, DIMM or power supply.
FIRST_RUNG = {
    "disk": RepairAction.HARDWARE_REPAIR,
    "memory": RepairAction.HARDWARE_REPAIR,
    "power": RepairAction.HARDWARE_REPAIR,
    "gpu": RepairAction.HARDWARE_REPAIR,
}


def _last_repair(asset, now: datetime) -> RepairTicket | None:
    return (RepairTicket.objects.filter(asset=asset, closed_at__isnull=False)
            .exclude(status=TicketStatus.CANCELLED).order_by("-closed_at").first())


def next_action(*, asset, component: str | None, during_probation: bool, now: datetime) -> tuple[str, str]:
    """The repair to try for a new incident, and why it was escalated ('' if it was not)."""
    action = FIRST_RUNG.get(component or "", RepairAction.REBOOT)
    last = _last_repair(asset, now)
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


def due_for_retirement(*, asset, now: datetime) -> str:
    """Why this machine should be retired instead of repaired again ('' if it should not)."""
    since = now - timedelta(days=settings.DAM_RETIRE_WINDOW_DAYS)
    repairs = (RepairTicket.objects.filter(asset=asset, closed_at__gte=since, performed_action__in=HARDWARE_ACTIONS)
               .exclude(status=TicketStatus.CANCELLED).count())
    if repairs >= settings.DAM_RETIRE_AFTER_HARDWARE_REPAIRS:
        return (f"{repairs} hardware repairs within {settings.DAM_RETIRE_WINDOW_DAYS} days "
                f"(retires at {settings.DAM_RETIRE_AFTER_HARDWARE_REPAIRS})")
    return ""
