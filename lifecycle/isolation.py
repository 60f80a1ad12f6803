"""Step 2, isolation (active | returned → isolated): automation within the pool's policy — the fleet and pool
switches, the budget, the storm cooldown, the approval queue — and staff by hand. Also its way back for a false
alarm: dismiss (isolated → active)."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django_fsm import can_proceed

from assets import policy
from assets.choices import OUT_OF_SERVICE, Decision, RequestStatus, Transition
from assets.choices import AssetState as S
from assets.conflicts import RequestConflict
from assets.models import Asset, AssetTransition, AutomationDecision, Fault, FleetAutomation, IsolationRequest, Pool
from lifecycle import tasks
from lifecycle.intake import fault_reason
from lifecycle.repair import cancel_open_ticket
from lifecycle.transitions import IN_FLEET, apply, apply_many, coalesced, locked, owe_jobs


def isolate_for_faults(items, *, actor: str = "job:isolate_asset") -> dict[int, str | None]:
    """Automation's isolation, within the pool's policy: the switches, the budget, the storm cooldown.
    `items` are (asset_id, fault_id, asked), in arrival order. Returns each asset's decision (None: nothing left
    to decide).

    The pool row is locked first, so the decisions of one pool are taken one at a time and its budget holds
    whatever the number of workers. Every decision is recorded, including the ones that did nothing. Per pool, one
    transaction: the pool locked and its counts taken once, its assets locked together in id order; each asset is
    then decided in turn exactly as if alone, the counts following every isolation.
    """
    pool_of = dict(Asset.objects.filter(pk__in={i[0] for i in items}).values_list("id", "pool_id"))
    by_pool: dict[int, list] = {}
    for asset_id, fault_id, asked in items:
        if asset_id in pool_of:
            by_pool.setdefault(pool_of[asset_id], []).append((asset_id, fault_id, asked))
    decisions: dict[int, str | None] = {}
    for pool_id, group in sorted(by_pool.items()):
        decisions.update(_isolate_in_pool(pool_id, group, actor=actor))
    return decisions


def _isolate_in_pool(pool_id: int, group: list, *, actor: str) -> dict[int, str | None]:
    now = timezone.now()
    decisions: dict[int, str | None] = {}
    with transaction.atomic():
        pool = Pool.objects.select_for_update().get(pk=pool_id)
        ids = sorted({asset_id for asset_id, _, _ in group})
        assets = {a.pk: a for a in Asset.objects.select_for_update(of=("self",), no_key=True)
                  .select_related("pool", "hardware_model").filter(pk__in=ids).order_by("id")}
        faults = Fault.objects.in_bulk([fault_id for _, fault_id, _ in group if fault_id])
        waiting = set(IsolationRequest.objects.filter(asset_id__in=ids, status=RequestStatus.PENDING)
                      .values_list("asset_id", flat=True))
        isolated_lately = dict(AssetTransition.objects.filter(
            asset_id__in=ids, transition=Transition.ISOLATE, at__gte=_flapping_since(now))
            .values("asset_id").annotate(n=Count("id")).values_list("asset_id", "n"))
        counts = Asset.objects.filter(pool=pool).aggregate(
            size=Count("id", filter=Q(state__in=IN_FLEET)), unavailable=Count("id", filter=Q(state__in=OUT_OF_SERVICE)))
        paused = FleetAutomation.is_paused()
        decided, requested, isolated = [], [], []
        for asset_id, fault_id, asked in group:
            asset = assets.get(asset_id)
            if asset is None or asset_id in decisions:
                continue  # gone meanwhile, or decided already in this batch
            fault = faults.get(fault_id)
            if asset.state not in (S.ACTIVE, S.RETURNED) or asset_id in waiting:
                decisions[asset_id] = None  # already out of service, or waiting for staff: nothing to decide
                continue
            answer = policy.decide(pool=pool, excluded=asset.exclude_from_automation, fleet_paused=paused,
                                   unavailable=counts["unavailable"], pool_size=counts["size"], now=now)
            why = " — ".join(part for part in (fault and fault_reason(fault), asked) if part)
            decided.append(AutomationDecision(asset=asset, fault=fault, decision=answer.decision, actor=actor,
                                              reason=f"{why} → {answer.reason}", at=now))
            if answer.decision == Decision.ISOLATED:
                isolated.append((asset, why))  # isolated together below, in the order decided
                counts["unavailable"] += 1
            elif answer.decision == Decision.PENDING_APPROVAL:
                requested.append(IsolationRequest(asset=asset, fault=fault, reason=f"{why}; {answer.reason}",
                                                  requested_at=now))
                waiting.add(asset_id)
                if answer.budget_hit:
                    pool.budget_hit_at = now  # the storm cooldown starts for the next decisions too
            decisions[asset_id] = answer.decision
        # (no pending request to supersede: an asset waiting for approval is not decided again)
        _isolate(isolated, actor=actor, owe_tickets=False, pending_requests=False, isolated_before=isolated_lately)
        AutomationDecision.objects.bulk_create(decided)
        IsolationRequest.objects.bulk_create(requested)
        if pool.budget_hit_at == now:
            pool.save(update_fields=["budget_hit_at"])
        # The repair tickets: one job per JOB_CHUNK isolated machines, so both workers share a storm's.
        owe_jobs(tasks.open_repair_ticket, [[first, *rest] for first, rest in
                                            coalesced([asset.pk for asset, _ in isolated])])
    return decisions


def isolate(*, asset_id: int, actor: str, reason: str) -> Asset:
    """Staff isolate a machine by hand: a person's decision, not held to the pool's budget."""
    with transaction.atomic():
        asset = locked(asset_id)
        _isolate([(asset, reason)], actor=actor)
    return asset


def _isolate(isolations: list[tuple[Asset, str]], *, actor: str, owe_tickets: bool = True,
             pending_requests: bool = True, isolated_before: dict[int, int] | None = None) -> None:
    """Isolate the (locked asset, reason)s, in a constant number of queries whatever their number.
    owe_tickets=False: the caller owes the open_repair_ticket jobs (coalesced with others).
    pending_requests=False: the caller knows the assets have no pending isolation request to supersede.
    isolated_before: their isolations within the flapping window before this one, if the caller counted them."""
    if not isolations:
        return
    apply_many(isolations, "isolate", actor=actor)
    ids = [asset.pk for asset, _ in isolations]
    at = isolations[0][0].state_changed_at
    if pending_requests:
        IsolationRequest.objects.filter(asset_id__in=ids, status=RequestStatus.PENDING).update(
            status=RequestStatus.SUPERSEDED, decided_by=actor, decided_at=at, decision_reason="isolated meanwhile")
    if isolated_before is None:
        # this isolation's audit row is written already: counted here, so one less
        counted = dict(AssetTransition.objects.filter(asset_id__in=ids, transition=Transition.ISOLATE,
                                                      at__gte=_flapping_since(at))
                       .values("asset_id").annotate(n=Count("id")).values_list("asset_id", "n"))
        isolated_before = {asset_id: n - 1 for asset_id, n in counted.items()}
    flapping = [asset for asset, _ in isolations if not asset.flapping
                and isolated_before.get(asset.pk, 0) + 1 >= settings.DAM_FLAPPING_ISOLATIONS]
    if flapping:
        for asset in flapping:
            asset.flapping = True  # staff clear it once they have looked at the machine
        Asset.objects.filter(pk__in=[asset.pk for asset in flapping]).update(flapping=True)
    if owe_tickets:
        owe_jobs(tasks.open_repair_ticket, [[asset_id] for asset_id in ids])


def _flapping_since(now):
    return now - timedelta(days=settings.DAM_ESCALATION_DAYS)


def approve_isolation(*, request_id: int, actor: str, reason: str = "") -> IsolationRequest:
    """Staff approve an isolation that waited for the budget: it happens now, over the budget if need be."""
    with transaction.atomic():
        asset_id = IsolationRequest.objects.values_list("asset_id", flat=True).get(pk=request_id)
        asset = locked(asset_id)
        request = IsolationRequest.objects.select_for_update().get(pk=request_id)
        if request.status != RequestStatus.PENDING:
            raise RequestConflict(request, f"Isolation request #{request.id} is {request.status}, not pending.")
        if not can_proceed(asset.isolate):
            raise RequestConflict(request, f"Asset {asset.hostname} is {asset.state}; it cannot be isolated.")
        request.status, request.decided_by, request.decided_at = RequestStatus.APPROVED, actor, timezone.now()
        request.decision_reason = reason
        request.save()
        _isolate([(asset, f"approved isolation request #{request.id}: {request.reason}"
                           + (f" ({reason})" if reason else ""))], actor=actor)
    return request


def dismiss_isolation_request(*, request_id: int, actor: str, reason: str) -> IsolationRequest:
    with transaction.atomic():
        request = IsolationRequest.objects.select_for_update().get(pk=request_id)
        if request.status != RequestStatus.PENDING:
            raise RequestConflict(request, f"Isolation request #{request.id} is {request.status}, not pending.")
        request.status, request.decided_by, request.decided_at = RequestStatus.DISMISSED, actor, timezone.now()
        request.decision_reason = reason
        request.save()
    return request




# dismiss: isolated → active (a false alarm) ----------------------------------------------------------------
def dismiss(*, asset_id: int, actor: str, reason: str) -> Asset:
    with transaction.atomic():
        asset = locked(asset_id)
        apply(asset, "dismiss", actor=actor, reason=reason)
        cancel_open_ticket(asset, note=f"Cancelled by {actor}: false alarm. {reason}")
    return asset


