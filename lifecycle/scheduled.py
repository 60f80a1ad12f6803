"""Scheduled inspections: beat checks a random few serving machines, so hardware that degrades quietly is found
before it hurts. A machine that fails its checks is a fault like any other (step 1)."""
from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assets import services as asset_services
from assets.choices import AssetState as S
from assets.choices import Severity
from assets.models import Asset, Fault
from inspection import services as inspection_services
from inspection.choices import Purpose, Verdict
from inspection.models import Inspection
from lifecycle.intake import faults_received
from lifecycle.transitions import locked
from lifecycle.verification import request_inspection


def scheduled_inspections(sample: int | None = None) -> list[int]:
    """Ask for inspections of `sample` random active machines with none in flight."""
    sample = settings.DAM_SCHEDULED_INSPECTION_SAMPLE if sample is None else sample
    in_flight = Q(inspections__verdict__in=[Verdict.PENDING, Verdict.RUNNING])
    ids = list(Asset.objects.filter(state=S.ACTIVE).exclude(in_flight).order_by("?")
               .values_list("id", flat=True)[:sample])
    requested = []
    for asset_id in ids:
        with transaction.atomic():
            asset = locked(asset_id)
            if asset.state == S.ACTIVE:
                requested.append(request_inspection(asset, purpose=Purpose.SCHEDULED).id)
    return requested


def scheduled_verdict(asset: Asset, inspection: Inspection) -> None:
    """A failed scheduled inspection raises a critical fault, decided like any other. Called with the asset locked."""
    fault = Fault(
        asset=asset, component=inspection_services.failing_component(inspection),
        severity=Severity.CRITICAL, summary=inspection.summary[:500], detector="inspection",
        details={"inspection": inspection.id},
    )
    asset_services.faults_mark_repeats([fault], timezone.now())  # before it is stored, as in ingest
    fault.save()
    faults_received([fault])
