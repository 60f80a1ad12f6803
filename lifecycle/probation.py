"""Step 6, probation (returned → active): a returned machine serves on probation; a fault meanwhile isolates it
again (assets/policy.py), and one with none for its pool's window goes back to active."""
from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from assets.choices import AssetState as S
from assets.models import Asset
from lifecycle.transitions import apply, locked


def end_probation(*, asset_id: int, actor: str, reason: str) -> Asset:
    with transaction.atomic():
        asset = locked(asset_id)
        apply(asset, "end_probation", actor=actor, reason=reason)
    return asset


def end_probation_sweep(now=None) -> int:
    """Return to active every machine whose probation window passed. (A fault during probation isolates it
    again, so one still `returned` had none that mattered.)"""
    now = now or timezone.now()
    ended = 0
    for asset_id in Asset.objects.filter(state=S.RETURNED).values_list("id", flat=True):
        with transaction.atomic():
            asset = locked(asset_id)
            hours = asset.pool.probation_hours
            # Checked under the lock: the asset may have gone round the lifecycle again since the query.
            if asset.state != S.RETURNED or asset.state_changed_at + timedelta(hours=hours) > now:
                continue
            apply(asset, "end_probation", actor="job:end_probation",
                   reason=f"no fault during the {hours:g} h probation window")
            ended += 1
    return ended


