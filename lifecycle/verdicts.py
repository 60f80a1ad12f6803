"""An inspection's verdict arrives: recorded, judged, and handed to the step whose inspection it was —
verification (a repaired machine), delivery (a new one), or a scheduled check of a serving one.

A report whose performance checks fail is confirmed first (inspection/services.py): the inspection stays running
until its confirmation runs arrive (inspection_confirmed), and only then does the lifecycle act. An `inconclusive`
verdict (the machine was too disturbed to judge) is neither a pass nor a fail: each step asks again later."""
from __future__ import annotations

from django.db import transaction

from assets.choices import AssetState as S
from inspection import services as inspection_services
from inspection.choices import Purpose
from inspection.models import Inspection
from lifecycle.delivery import delivery_verdict
from lifecycle.scheduled import scheduled_verdict
from lifecycle.transitions import locked
from lifecycle.verification import verification_verdict


def inspection_finished(*, inspection_id: int, report: dict | None, runner: str, error: str = "") -> Inspection:
    """Record what the host measured, judge it, and act on the verdict. Safe to call twice: the second is ignored."""
    with transaction.atomic():
        asset_id = Inspection.objects.values_list("asset_id", flat=True).get(pk=inspection_id)
        asset = locked(asset_id)
        inspection = Inspection.objects.select_for_update().get(pk=inspection_id)
        if inspection.finished:
            return inspection
        inspection_services.inspection_record(inspection=inspection, report=report, runner=runner, error=error)
        if inspection.finished:  # else it waits for its confirmation runs
            _act(asset, inspection)
    return inspection


def inspection_confirmed(*, inspection_id: int, runs: list[dict]) -> Inspection:
    """The confirmation runs of a failing first run arrived: judge on all of them, and act on the verdict. Safe to
    call twice: a second call finds it finished."""
    with transaction.atomic():
        asset_id = Inspection.objects.values_list("asset_id", flat=True).get(pk=inspection_id)
        asset = locked(asset_id)
        inspection = Inspection.objects.select_for_update().get(pk=inspection_id)
        if not inspection_services.awaiting_confirmation(inspection):
            return inspection
        inspection_services.inspection_confirm(inspection=inspection, runs=runs)
        _act(asset, inspection)
    return inspection


def _act(asset, inspection: Inspection) -> None:
    actor = f"job:inspection #{inspection.id}"
    if inspection.purpose == Purpose.VERIFICATION and asset.state == S.VERIFYING:
        verification_verdict(asset, inspection, actor=actor)
    elif inspection.purpose == Purpose.DELIVERY and asset.state == S.NEW:
        delivery_verdict(asset, inspection, actor=actor)
    elif inspection.purpose == Purpose.SCHEDULED:
        scheduled_verdict(asset, inspection)
