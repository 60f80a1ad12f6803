"""Step 7, delivery (new → active): a newly delivered machine is recorded as `new` (outside the fleet: no pool budget
counts it) and inspected with the full profile before it first serves. Passed: accept_delivery, new → active.
Failed (or could not run): fail_delivery, new → new, the failing numbers in the audit row; it stays out of service,
and no repair ticket is opened (it was never in service; the vendor fixes it), until staff ask for another
inspection: inspect_delivery. Inconclusive (too disturbed to judge): no transition; inspected again after a back-off
(lifecycle/reconcile.py), at most DAM_INCONCLUSIVE_RETRIES times; after the last, a warning in the log and the
inspection's summary say so, and staff decide (inspect_delivery)."""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from assets.choices import AssetState as S
from assets.models import Asset
from inspection.choices import Purpose, Verdict
from inspection.models import Inspection
from lifecycle.transitions import apply, locked
from lifecycle.verification import inconclusive_note, inconclusive_streak, request_inspection

log = logging.getLogger(__name__)


def receive_delivery(*, actor: str, **fields) -> Asset:
    """Record a delivered machine as `new` and ask for its delivery inspection. `fields`: the asset's columns
    (hostname, hardware_model, pool, serial, …). Creating it is not a transition, so it writes no audit row."""
    with transaction.atomic():
        asset = Asset.objects.create(state=S.NEW, **fields)
        request_inspection(asset, purpose=Purpose.DELIVERY)
    log.info("%s received %s for delivery inspection", actor, asset.hostname)
    return asset


def inspect_delivery(*, asset_id: int, actor: str, reason: str) -> Inspection:
    """Staff ask for another delivery inspection of a new machine (say, after the vendor replaced a part)."""
    with transaction.atomic():
        asset = locked(asset_id)
        apply(asset, "inspect_delivery", actor=actor, reason=reason)
        return request_inspection(asset, purpose=Purpose.DELIVERY)


def delivery_verdict(asset: Asset, inspection: Inspection, *, actor: str) -> None:
    """new → active (passed), nothing (inconclusive), or new → new (anything else). Called with the asset locked."""
    if inspection.verdict == Verdict.INCONCLUSIVE:
        tries = len(inconclusive_streak(asset, Purpose.DELIVERY))
        if tries > settings.DAM_INCONCLUSIVE_RETRIES:
            note = inconclusive_note(inspection, tries).format(state="new")
            inspection.summary = f"{inspection.summary} {note}"
            inspection.save(update_fields=["summary"])
            log.warning("%s: %s", asset.hostname, note)
        return
    if inspection.verdict == Verdict.PASSED:
        apply(asset, "accept_delivery", actor=actor,
              reason=f"delivery inspection #{inspection.id} passed: {inspection.summary}")
    else:
        apply(asset, "fail_delivery", actor=actor,
              reason=f"delivery inspection #{inspection.id} {inspection.verdict}: {inspection.summary}")
