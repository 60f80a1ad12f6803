"""Step 1, fault intake: a detector's faults are stored (each once), and each is decided: ask for an isolation
(the pool's policy: assets/policy.py), join the open repair ticket, or only be kept on the record."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from assets import policy
from assets import services as asset_services
from assets.choices import AssetState as S
from assets.choices import Severity
from assets.models import Fault
from lifecycle import tasks
from lifecycle.transitions import coalesced, owe_jobs
from repairs.models import RepairTicket


def report_faults(*, detector: str, items: list) -> list[asset_services.FaultOutcome]:
    """A detector reports faults: store them all (the raw events are kept) and decide what each one triggers."""
    with transaction.atomic():
        outcomes, stored = asset_services.faults_store(detector=detector, items=items)
        faults_received(stored)
    return outcomes


def faults_received(faults: list[asset_services.NewFault | Fault]) -> None:
    """Decide, for freshly stored faults (their repeats already marked: faults_mark_repeats), what happens next.
    Called inside the ingest transaction, with the assets locked. A detector's batch arrives as NewFault rows
    (assets/services.py), a scheduled inspection's fault as the model; both answer the same attributes.

    A fault asks for an isolation when its pool's policy says so (assets/policy.py): by its severity, by adding up
    to N warnings within a window, or by arriving during probation. The isolate job then checks the pool's budget.
    Faults on an asset already out of service join its open repair ticket. One isolate job per asset per batch.
    """
    if not faults:
        return
    now = timezone.now()
    warnings = asset_services.recent_warnings(faults, now)
    to_isolate: dict[int, tuple[Fault, str]] = {}
    to_attach: list[Fault] = []
    for fault in faults:
        asset = fault.asset
        asked = policy.isolation_asked(pool=asset.pool, state=asset.state, severity=fault.severity,
                                       component=fault.component, is_repeat=fault.repeat_of_id is not None,
                                       recent_warnings=warnings.get((asset.id, fault.component), 0))
        if asked:
            to_isolate.setdefault(asset.id, (fault, asked))
        elif asset.state in (S.IN_REPAIR, S.VERIFYING) and fault.severity != Severity.INFO:
            to_attach.append(fault)
    # Coalesced: one isolate job per JOB_CHUNK assets of the batch, not one per asset (a storm of 10,000 critical
    # faults is 100 jobs). Within a job each asset is still decided on its own, in arrival order.
    owed = [[fault.asset_id, fault.id, asked] for fault, asked in to_isolate.values()]
    owe_jobs(tasks.isolate_asset, [[*first, *rest] for first, rest in coalesced(owed)])
    if to_attach:
        tickets = {t.asset_id: t for t in RepairTicket.objects.unclosed().filter(
            asset_id__in={f.asset_id for f in to_attach})}
        for fault in to_attach:
            if ticket := tickets.get(fault.asset_id):
                ticket.faults.add(fault.id)
    # Faults on an isolated asset are linked when its ticket opens (step 3).


def fault_reason(fault: Fault) -> str:
    return f"{fault.severity} {fault.component} fault #{fault.id} from {fault.detector}: {fault.summary}"



def worst_fault(faults: list[Fault]) -> Fault:
    return max(faults, key=lambda f: (f.severity == Severity.CRITICAL, f.id))


def fault_summary(faults: list[Fault]) -> str:
    if not faults:
        return ""
    worst = worst_fault(faults)
    more = f" (+{len(faults) - 1} more faults)" if len(faults) > 1 else ""
    return f"{worst.component}: {worst.summary}{more}"

