"""Beat's repair of the lifecycle itself: finish what a crash or a lost message left half done."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assets.choices import AssetState as S
from assets.conflicts import TransitionConflict
from assets.models import Asset
from inspection import services as inspection_services
from inspection.choices import Purpose, Verdict
from inspection.models import Inspection
from lifecycle.repair import start_repair
from lifecycle.transitions import locked
from lifecycle.verification import inconclusive_streak, request_inspection, retry_due
from repairs import services as tickets


def reconcile_stuck_assets(now=None) -> dict:
    """Finish what a crash or a lost message left half done.

    - isolated for longer than the grace period: its repair ticket was never opened; open it now.
    - verifying without an inspection in flight, or with one past the timeout: ask for a new inspection — but after
      an inconclusive one, only once its back-off passed, and never past the last try (staff have the ticket's note);
    - new, its last delivery inspection inconclusive and its back-off passed: ask for another.
    """
    now = now or timezone.now()
    grace = now - timedelta(seconds=settings.DAM_RECONCILE_GRACE_SECONDS)
    timeout = now - timedelta(seconds=settings.DAM_INSPECTION_TIMEOUT_SECONDS)
    opened = requested = 0

    for asset_id in Asset.objects.filter(state=S.ISOLATED, state_changed_at__lt=grace).values_list("id", flat=True):
        try:
            start_repair(asset_id=asset_id, actor="job:reconcile", reason="")
            opened += 1
        except TransitionConflict:
            pass

    in_flight = Q(inspections__verdict__in=[Verdict.PENDING, Verdict.RUNNING])
    for asset in Asset.objects.filter(state=S.VERIFYING, state_changed_at__lt=grace).exclude(in_flight):
        if retry_due(asset, Purpose.VERIFICATION, now) is not False and not _tries_used_up(asset, Purpose.VERIFICATION):
            requested += _reinspect(asset.id, None, now)
    inconclusive = Q(inspections__verdict=Verdict.INCONCLUSIVE, inspections__purpose=Purpose.DELIVERY)
    for asset in Asset.objects.filter(inconclusive, state=S.NEW).exclude(in_flight).distinct():
        if retry_due(asset, Purpose.DELIVERY, now):
            requested += _redeliver(asset.id, now)
    # No answer in time: a pending one counts from its request, a running one from when its runner took it.
    stale = (Q(verdict=Verdict.PENDING, requested_at__lt=timeout)
             | Q(verdict=Verdict.RUNNING, started_at__lt=timeout))
    for inspection in Inspection.objects.filter(stale):
        requested += _reinspect(inspection.asset_id, inspection.id, now)
    return {"tickets_opened": opened, "inspections_requested": requested}


def _tries_used_up(asset: Asset, purpose: str) -> bool:
    return len(inconclusive_streak(asset, purpose)) > settings.DAM_INCONCLUSIVE_RETRIES


def _redeliver(asset_id: int, now) -> int:
    """Another delivery inspection of a new machine whose last one was inconclusive."""
    with transaction.atomic():
        asset = locked(asset_id)
        if asset.state != S.NEW or not retry_due(asset, Purpose.DELIVERY, now):
            return 0
        if Inspection.objects.filter(asset=asset, verdict__in=[Verdict.PENDING, Verdict.RUNNING]).exists():
            return 0
        request_inspection(asset, purpose=Purpose.DELIVERY)
        return 1


def _reinspect(asset_id: int, stale_inspection_id: int | None, now) -> int:
    """Give up a stale inspection; a machine waiting for its verification gets a new one."""
    with transaction.atomic():
        asset = locked(asset_id)
        if stale_inspection_id:
            stale = Inspection.objects.select_for_update().get(pk=stale_inspection_id)
            if stale.finished:
                return 0
            inspection_services.inspection_expire(inspection=stale, now=now)
        if asset.state != S.VERIFYING:
            return 0  # a scheduled inspection nobody answered: given up; the next sweep picks others
        ticket = tickets.open_ticket_of(asset)
        request_inspection(asset, purpose=Purpose.VERIFICATION, ticket_id=ticket.id if ticket else None)
        return 1
