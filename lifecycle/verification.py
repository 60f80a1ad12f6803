"""Step 5, verification: a repaired machine is checked against its hardware model's baseline (inspection/), and the
verdict moves it — passed: verifying → returned, on probation, its ticket closed; failed: verifying → in_repair, its
ticket reopened with the failing numbers."""
from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from assets.models import Asset
from inspection import services as inspection_services
from inspection.choices import Verdict
from inspection.models import Inspection
from lifecycle import tasks
from lifecycle.transitions import apply, owe_job, ticket_event
from repairs import services as tickets
from repairs.models import RepairTicket


def request_inspection(asset: Asset, *, purpose: str, ticket_id: int | None = None) -> Inspection:
    """Ask for an inspection of the asset (its host's agent, or a worker standing in for it, runs it)."""
    # One inspection in flight per asset: one still waiting (say a scheduled check whose host then failed and was
    # repaired) gives way to the new one. The caller holds the asset's row lock.
    for stale in Inspection.objects.select_for_update().filter(asset=asset,
                                                               verdict__in=[Verdict.PENDING, Verdict.RUNNING]):
        inspection_services.inspection_expire(inspection=stale, now=timezone.now(),
                                              summary=f"Superseded by a new {purpose} inspection.")
    inspection = inspection_services.inspection_request(asset=asset, purpose=purpose, ticket_id=ticket_id)
    if settings.DAM_INSPECTION_RUNNER == "local":
        owe_job(tasks.run_inspection, inspection.id)
    return inspection


def verification_verdict(asset: Asset, inspection: Inspection, *, actor: str) -> None:
    """verifying → returned (passed) or → in_repair (anything else). Called with the asset locked."""
    ticket = RepairTicket.objects.select_for_update().filter(pk=inspection.ticket_id).first()
    if inspection.verdict == Verdict.PASSED:
        apply(asset, "pass_verification", actor=actor, reason=inspection.summary)
        if ticket:
            tickets.ticket_close(ticket=ticket, note=f"Verified by inspection #{inspection.id}: "
                                                     f"{inspection.summary} Back in service on probation.")
            ticket_event(ticket, "closed")
    else:
        apply(asset, "fail_verification", actor=actor,
              reason=f"inspection #{inspection.id} {inspection.verdict}: {inspection.summary}")
        if ticket:
            tickets.ticket_reopen(ticket=ticket, note=f"Reopened: inspection #{inspection.id} "
                                                      f"{inspection.verdict}. {inspection.summary}")
            ticket_event(ticket, "reopened")
