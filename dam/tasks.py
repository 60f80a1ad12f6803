"""Celery jobs of the lifecycle. Each takes ids, loads the rows, calls one lifecycle step, and is safe to run twice:
a repeat finds the asset already moved on (TransitionConflict) and stops there."""
import logging
import socket

from celery import shared_task
from django.db import OperationalError

from dam import lifecycle
from inspection import services as inspection_services
from inspection.models import Inspection

log = logging.getLogger(__name__)

# Retry only what a retry can fix: the database being briefly away or locked.
TRANSIENT = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


@shared_task(acks_late=True, **TRANSIENT)
def isolate_asset(asset_id: int, fault_id: int, asked: str = "") -> None:
    """Isolate for a fault (`asked`: why the policy asks), if the pool's budget allows; a second run finds
    nothing left to decide."""
    lifecycle.isolate_for_fault(asset_id=asset_id, fault_id=fault_id, asked=asked)


@shared_task(acks_late=True, **TRANSIENT)
def open_repair_ticket(asset_id: int) -> None:
    try:
        lifecycle.start_repair(asset_id=asset_id, actor="job:open_repair_ticket")
    except lifecycle.TransitionConflict as conflict:
        log.info("open_repair_ticket: nothing to do for asset %s (%s)", asset_id, conflict.state)


@shared_task(acks_late=True, **TRANSIENT)
def run_inspection(inspection_id: int) -> None:
    """Run the checks here, standing in for the host (DAM_INSPECTION_RUNNER=local), then act on the verdict."""
    inspection = Inspection.objects.select_related("asset__hardware_model").get(pk=inspection_id)
    runner = f"worker:{socket.gethostname()}"
    if not inspection_services.inspection_start(inspection=inspection, runner=runner):
        return  # already claimed or finished
    try:
        report, error = inspection_services.measure_here(inspection.asset.hardware_model, inspection.profile), ""
    except OSError as exc:  # a disk that cannot be written is a finding, not a crash
        report, error = None, f"{type(exc).__name__}: {exc}"
    lifecycle.inspection_finished(inspection_id=inspection_id, report=report, runner=runner, error=error)


@shared_task(acks_late=True, **TRANSIENT)
def end_probation_sweep() -> int:
    return lifecycle.end_probation_sweep()


@shared_task(acks_late=True, **TRANSIENT)
def reconcile_stuck_assets() -> dict:
    return lifecycle.reconcile_stuck_assets()


@shared_task(acks_late=True, **TRANSIENT)
def scheduled_inspections() -> list[int]:
    return lifecycle.scheduled_inspections()
