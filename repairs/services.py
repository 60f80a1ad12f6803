"""Every write to a repair ticket: opened, resolved, closed, reopened, cancelled by the lifecycle; assigned, noted and
moved between open and in_progress by staff (API and console). The lifecycle moves the asset around these calls;
nothing else saves a ticket."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from assets.conflicts import TicketConflict
from assets.models import Asset
from repairs.choices import WORKABLE, TicketStatus
from repairs.models import RepairTicket

# What staff may change by hand; the rest of a ticket is written by the lifecycle.
STAFF_FIELDS = ("status", "assignee", "notes")


def tickets_open(openings: list[dict], *, actor: str, now=None) -> list[RepairTicket]:
    """Open one ticket per opening (asset, summary, repair_action, escalation, faults), in order: two multi-row
    INSERTs whatever their number (the tickets, then their faults)."""
    now = now or timezone.now()
    due = now + timedelta(hours=settings.DAM_TICKET_SLA_HOURS)
    tickets = RepairTicket.objects.bulk_create([
        RepairTicket(asset=o["asset"], summary=o["summary"][:500], opened_by=actor, opened_at=now,
                     repair_action=o["repair_action"], escalation=o.get("escalation", ""), due_at=due)
        for o in openings])
    link = RepairTicket.faults.through
    link.objects.bulk_create([link(repairticket_id=ticket.id, fault_id=fault.id)
                              for ticket, o in zip(tickets, openings) for fault in o.get("faults", ())])
    return tickets


def ticket_resolve(*, ticket: RepairTicket, actor: str, action_taken: str, action: str = "") -> None:
    """The technician's part is done; the ticket stays unclosed until the machine passes its verification."""
    if ticket.closed_at is not None or ticket.status not in WORKABLE:
        raise TicketConflict(ticket, f"Ticket #{ticket.id} is {ticket.status}; only open or in_progress "
                                     "tickets can be resolved.")
    ticket.status = TicketStatus.RESOLVED
    ticket.action_taken = action_taken
    ticket.performed_action = action or ticket.repair_action
    ticket.resolved_at = timezone.now()
    ticket.add_note(f"Resolved by {actor} ({ticket.performed_action}): {action_taken}")
    ticket.save(update_fields=["status", "action_taken", "performed_action", "resolved_at", "notes"])


def ticket_close(*, ticket: RepairTicket, note: str) -> None:
    """The incident is over: the repaired machine passed its verification (the status stays `resolved`)."""
    ticket.closed_at = timezone.now()
    ticket.add_note(note)
    ticket.save(update_fields=["closed_at", "notes"])


def ticket_reopen(*, ticket: RepairTicket, note: str) -> None:
    """The repair did not hold (a failed verification): the same incident, the same ticket, back in the queue."""
    ticket.status = TicketStatus.OPEN
    ticket.resolved_at = None
    ticket.reopen_count = F("reopen_count") + 1
    ticket.add_note(note)
    ticket.save(update_fields=["status", "resolved_at", "reopen_count", "notes"])
    ticket.refresh_from_db(fields=["reopen_count"])


def ticket_cancel(*, ticket: RepairTicket, note: str) -> None:
    """The machine left repair without one (dismissed as a false alarm, retired)."""
    ticket.status = TicketStatus.CANCELLED
    ticket.closed_at = timezone.now()
    ticket.add_note(note)
    ticket.save(update_fields=["status", "closed_at", "notes"])


def ticket_note(*, ticket: RepairTicket, text: str) -> None:
    """A note from the system (a BMC's answer, an inspection that could not judge the machine) for staff."""
    ticket.add_note(text)
    ticket.save(update_fields=["notes"])


def ticket_assign(*, ticket_id: int, assignee: str) -> RepairTicket | None:
    """Take a ticket that is still being worked; None if it is not (any more): it is left as it is."""
    with transaction.atomic():
        ticket = RepairTicket.objects.select_for_update().get(pk=ticket_id)
        if not is_workable(ticket):
            return None
        if ticket.assignee != assignee:
            ticket.add_note(f"Assigned to {assignee}" + (f" (was {ticket.assignee})" if ticket.assignee else ""))
            ticket.assignee = assignee
            ticket.save(update_fields=["assignee", "notes"])
    return ticket


def ticket_update(*, ticket_id: int, changes: dict, seen: dict | None = None) -> tuple[RepairTicket, list[str]]:
    """Staff edit a ticket (API PATCH, console form): the row locked, only the changed fields written, so a
    resolve, close or reopen by the lifecycle meanwhile is never overwritten by the older copy the editor saw.
    `changes`: validated values of STAFF_FIELDS. `seen`: the values the editor started from, where known (the
    console's form sends them back); a field whose stored value moved on since is not overwritten either (the
    lifecycle's note added while a technician had the form open). Returns the ticket and the fields that could
    not change: a status on a ticket that is no longer being worked, a field changed by someone else meanwhile."""
    refused = []
    with transaction.atomic():
        ticket = RepairTicket.objects.select_for_update().get(pk=ticket_id)
        fields = [name for name in STAFF_FIELDS if name in changes and getattr(ticket, name) != changes[name]]
        if "status" in fields and not is_workable(ticket):
            fields.remove("status")
            refused.append("status")
        for name in [name for name in fields if name in (seen or {}) and getattr(ticket, name) != seen[name]]:
            fields.remove(name)
            refused.append(name)
        for name in fields:
            setattr(ticket, name, changes[name])
        if fields:
            ticket.save(update_fields=fields)
    return ticket, refused


def is_workable(ticket: RepairTicket) -> bool:
    return ticket.closed_at is None and ticket.status in WORKABLE


def open_ticket_of(asset: Asset) -> RepairTicket | None:
    """The asset's unclosed ticket, if any (at most one: the one_open_ticket_per_asset constraint)."""
    return RepairTicket.objects.unclosed().filter(asset=asset).first()
