"""Step 5, verification: a repaired machine is checked against its hardware model's baseline (inspection/), and the
verdict moves it — passed: verifying → returned, on probation, its ticket closed; failed (or error): verifying →
in_repair, its ticket reopened with the failing numbers; inconclusive (too disturbed to judge): it stays verifying,
and is inspected again after a back-off (lifecycle/reconcile.py), at most DAM_INCONCLUSIVE_RETRIES times — after the
last, its ticket gets a note for staff. Noise never returns a machine nor sends it back to repair."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from assets.models import Asset
from inspection import services as inspection_services
from inspection.choices import Purpose, Verdict
from inspection.models import Inspection
from lifecycle import tasks
from lifecycle.transitions import apply, owe_job, ticket_event
from repairs import services as tickets
from repairs.models import RepairTicket


def request_inspection(asset: Asset, *, purpose: str, ticket_id: int | None = None,
                       profile: str | None = None) -> Inspection:
    """Ask for an inspection of the asset (its host's agent, or a worker standing in for it, runs it)."""
    # One inspection in flight per asset: one still waiting (say a scheduled check whose host then failed and was
    # repaired) gives way to the new one. The caller holds the asset's row lock.
    for stale in Inspection.objects.select_for_update().filter(asset=asset,
                                                               verdict__in=[Verdict.PENDING, Verdict.RUNNING]):
        inspection_services.inspection_expire(inspection=stale, now=timezone.now(),
                                              summary=f"Superseded by a new {purpose} inspection.")
    inspection = inspection_services.inspection_request(asset=asset, purpose=purpose, ticket_id=ticket_id,
                                                        profile=profile)
    if settings.DAM_INSPECTION_RUNNER == "local":
        owe_job(tasks.run_inspection, inspection.id)
    return inspection


def inconclusive_streak(asset: Asset, purpose: str) -> list[Inspection]:
    """The asset's inconclusive inspections of this purpose since its last one that judged it (passed, failed or
    error), oldest first: how many tries the back-off has used."""
    finished = (Inspection.objects.filter(asset=asset, purpose=purpose)
                .exclude(verdict__in=[Verdict.PENDING, Verdict.RUNNING]).order_by("-id"))
    streak = []
    for inspection in finished[:settings.DAM_INCONCLUSIVE_RETRIES + 1]:
        if inspection.verdict != Verdict.INCONCLUSIVE:
            break
        streak.append(inspection)
    return streak[::-1]


def retry_due(asset: Asset, purpose: str, now) -> bool | None:
    """After an inconclusive inspection: True when the next try is due (its back-off passed), False while it waits,
    None when the tries are used up (staff decide) or the last inspection was not inconclusive."""
    streak = inconclusive_streak(asset, purpose)
    if not streak or len(streak) > settings.DAM_INCONCLUSIVE_RETRIES:
        return None
    wait = settings.DAM_INCONCLUSIVE_BACKOFF_SECONDS * 2 ** (len(streak) - 1)
    return streak[-1].finished_at + timedelta(seconds=wait) <= now


def inconclusive_note(inspection: Inspection, tries: int) -> str:
    """What staff read when the tries are used up."""
    return (f"Inspection #{inspection.id} was inconclusive {tries} times in a row: the machine was too disturbed "
            f"to judge (the last: {inspection.summary}) No more automatic tries; the machine stays {{state}}, "
            f"neither returned nor sent back to repair. Measure it again when it is quiet, or decide by hand.")


def verification_verdict(asset: Asset, inspection: Inspection, *, actor: str) -> None:
    """verifying → returned (passed), stays verifying (inconclusive), or → in_repair (anything else). Called with
    the asset locked."""
    ticket = RepairTicket.objects.select_for_update().filter(pk=inspection.ticket_id).first()
    if inspection.verdict == Verdict.INCONCLUSIVE:
        # No transition: reconcile asks again after the back-off. Once the tries are used up, staff are told.
        tries = len(inconclusive_streak(asset, Purpose.VERIFICATION))
        if tries > settings.DAM_INCONCLUSIVE_RETRIES and ticket:
            tickets.ticket_note(ticket=ticket, text=inconclusive_note(inspection, tries).format(state="verifying"))
        return
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
