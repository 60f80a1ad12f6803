"""Celery jobs of the lifecycle. Each takes ids, loads the rows, calls one lifecycle step, and is safe to run twice:
a repeat finds the asset already moved on (TransitionConflict) and stops there. The steps owe these jobs, so the
jobs import the steps when they run (a module-level import would be a circle)."""
import logging
import socket

from celery import shared_task
from django.db import OperationalError, transaction
from django_fsm import can_proceed

from assets.models import Asset
from inspection import services as inspection_services
from inspection.models import Inspection
from reliability import outbox

log = logging.getLogger(__name__)

# Retry only what a retry can fix: the database being briefly away or locked.
TRANSIENT = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


# Under load, a job takes over this many other jobs of its kind still waiting in the broker (outbox.jobs_take_over):
# one pass and one pool lock for all of them instead of one each, so the backlog shrinks instead of growing.
TAKE_OVER = 20


def _isolations(asset_id: int, fault_id: int, asked: str = "", others=None) -> list[tuple]:
    return [(asset_id, fault_id, asked), *map(tuple, others or [])]


@shared_task(bind=True, acks_late=True, **TRANSIENT)
def isolate_asset(self, asset_id: int, fault_id: int, asked: str = "", others=None) -> None:
    """Isolate for a fault (`asked`: why the policy asks), if the pool's budget allows; a second run finds
    nothing left to decide. `others`: more [asset_id, fault_id, asked] of the same batch, decided in the same
    pass (lifecycle.isolate_for_faults), with those of the isolate jobs waiting behind this one."""
    mine = outbox.job_id_of(self.request.id)
    if outbox.job_is_finished(mine):
        return  # taken over and done by another isolate job
    with transaction.atomic():
        items = _isolations(asset_id, fault_id, asked, others)
        for args in outbox.jobs_take_over(self, but=mine, limit=TAKE_OVER):
            items += _isolations(*args)
        from lifecycle.isolation import isolate_for_faults
        isolate_for_faults(items)


@shared_task(bind=True, acks_late=True, **TRANSIENT)
def open_repair_ticket(self, asset_id: int, others=None) -> None:
    """Open the repair ticket of an isolated asset, and of each of `others` (asset ids isolated together) and of
    the open_repair_ticket jobs waiting behind this one, each asset in its own savepoint."""
    mine = outbox.job_id_of(self.request.id)
    if outbox.job_is_finished(mine):
        return
    from lifecycle.repair import start_repairs
    with transaction.atomic():
        asset_ids = [asset_id, *(others or [])]
        for args in outbox.jobs_take_over(self, but=mine, limit=TAKE_OVER):
            asset_ids += [args[0], *(args[1] if len(args) > 1 else [])]
        # All locked in one statement, in id order (as every batch locks them: no deadlock between two jobs).
        ready = []
        for asset in (Asset.objects.select_for_update(of=("self",), no_key=True)
                      .select_related("pool", "hardware_model").filter(pk__in=set(asset_ids)).order_by("id")):
            if can_proceed(asset.start_repair):
                ready.append(asset)
            else:
                log.info("open_repair_ticket: nothing to do for asset %s (%s)", asset.pk, asset.state)
        start_repairs(ready, actor="job:open_repair_ticket")


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
    from lifecycle.verdicts import inspection_confirmed, inspection_finished
    inspection = inspection_finished(inspection_id=inspection_id, report=report, runner=runner, error=error)
    if inspection_services.awaiting_confirmation(inspection):
        # A performance fail: the server asks for the failing curves again before it counts (inspection/services.py)
        try:
            runs = inspection_services.measure_again_here(inspection)
        except OSError as exc:
            inspection_finished_with_error(inspection_id, f"confirmation runs: {type(exc).__name__}: {exc}")
            return
        inspection_confirmed(inspection_id=inspection_id, runs=runs)


def inspection_finished_with_error(inspection_id: int, error: str) -> None:
    """A confirmation that could not run: its confirmation judged on no repeats is the first run's failure."""
    from lifecycle.verdicts import inspection_confirmed
    log.warning("inspection #%s: %s", inspection_id, error)
    inspection_confirmed(inspection_id=inspection_id, runs=[])


@shared_task(acks_late=True, **TRANSIENT)
def end_probation_sweep() -> int:
    from lifecycle.probation import end_probation_sweep
    return end_probation_sweep()


@shared_task(acks_late=True, **TRANSIENT)
def reconcile_stuck_assets() -> dict:
    from lifecycle.reconcile import reconcile_stuck_assets
    return reconcile_stuck_assets()


@shared_task(acks_late=True, **TRANSIENT)
def scheduled_inspections() -> list[int]:
    from lifecycle.scheduled import scheduled_inspections
    return scheduled_inspections()


@shared_task(acks_late=True, **TRANSIENT)
def auto_repair(ticket_id: int) -> str:
    """Carry out a ticket's repair by DAM itself: a reboot through the BMC, or a reimage handed to provisioning
    (lifecycle/auto_repair.py)."""
    from lifecycle.auto_repair import auto_repair
    return auto_repair(ticket_id=ticket_id)
