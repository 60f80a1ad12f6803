"""Scheduled inspections: beat checks a random few serving machines, so hardware that degrades quietly is found
before it hurts.

A serving machine is busy by definition, and a benchmark (direct disk writes, memory bandwidth sweeps) would load
it, so by default a scheduled inspection checks facts, not speed: the `facts` profile — inventory against the spec,
SMART, temperatures, the kernel's EDAC memory error counters. A failed fact is a critical fault, decided like any
other (step 1). A pool may opt into full scheduled checks (Pool.scheduled_checks = full): the machine is drained
first (its pool's isolation action, `drain`), measured with the quick profile, and undrained after the verdict. A
performance deviation seen on a serving machine is a `warning` fault, never an isolation by itself (the pool's
warning rule may still count it)."""
from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assets import services as asset_services
from assets.choices import AssetState as S
from assets.choices import ScheduledChecks, Severity
from assets.models import Asset, Fault
from integrations import services as integrations
from integrations import tasks as integration_tasks
from inspection import services as inspection_services
from inspection.choices import Profile, Purpose, Verdict
from inspection.models import Inspection
from lifecycle.intake import faults_received
from lifecycle.transitions import locked, owe_job
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
            if asset.state != S.ACTIVE:
                continue
            full = asset.pool.scheduled_checks == ScheduledChecks.FULL
            if full:
                # Drained before it is measured: the drain is owed in this transaction, ahead of the inspection
                # (the agent polls; a pool without an isolation action has nothing to drain).
                _drain_action(asset, "drain", "a full scheduled inspection measures it")
            requested.append(request_inspection(asset, purpose=Purpose.SCHEDULED,
                                                profile=Profile.QUICK if full else Profile.FACTS).id)
    return requested


def _drain_action(asset: Asset, action: str, reason: str) -> None:
    delivery = integrations.isolation_action_request(pool=asset.pool, action=action, hostname=asset.hostname,
                                                     reason=reason)
    if delivery:
        owe_job(integration_tasks.send_delivery, delivery.id)


def scheduled_verdict(asset: Asset, inspection: Inspection) -> None:
    """A failed fact raises a critical fault; a failed performance check (full checks only) a warning. A machine
    drained for a full check is undrained, unless a critical fault is about to isolate it. Called with the asset
    locked."""
    critical = False
    if inspection.verdict == Verdict.FAILED:
        failed = list(inspection.checks.filter(passed=False))
        critical = any(not check.points for check in failed)
        fault = Fault(
            asset=asset, component=inspection_services.failing_component(inspection),
            severity=Severity.CRITICAL if critical else Severity.WARNING, summary=inspection.summary[:500],
            detector="inspection", details={"inspection": inspection.id, "profile": inspection.profile},
        )
        asset_services.faults_mark_repeats([fault], timezone.now())  # before it is stored, as in ingest
        fault.save()
        faults_received([fault])
    if inspection.profile != Profile.FACTS and not critical and asset.state == S.ACTIVE:
        _drain_action(asset, "undrain", f"scheduled inspection #{inspection.id} {inspection.verdict}")
