"""The lifecycle of a machine, top to bottom: fault → isolate → repair ticket → verify → return → probation ends.

This is the one module that crosses apps (assets, repairs, inspection); it follows the contract's table row by row.
Every step is one database transaction that locks the asset row, calls the django-fsm transition method, saves,
writes the audit row, and enqueues the next job only once the transaction has committed. Steps run by jobs are
safe to run twice: a second run finds the asset already moved on and does nothing.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django_fsm import ConcurrentTransition, can_proceed

from assets import policy
from assets import services as asset_services
from assets.choices import OUT_OF_SERVICE, AssetState, Decision, RequestStatus, Severity, Transition
from assets.models import (Asset, AssetTransition, AutomationDecision, Fault, FleetAutomation, IsolationRequest,
                           Pool)
from dam import tasks
from integrations import services as integrations
from integrations import tasks as integration_tasks
from inspection import services as inspection_services
from inspection.choices import Purpose, Verdict
from inspection.models import Inspection
from reliability import outbox
from repairs import escalation
from repairs.choices import WORKABLE, TicketStatus
from repairs.models import RepairTicket

log = logging.getLogger(__name__)
S = AssetState
# The machines a pool's budget is a share of: all but the ones not (yet, or any more) in the fleet.
IN_FLEET = (S.ACTIVE, S.ISOLATED, S.IN_REPAIR, S.VERIFYING, S.RETURNED)
# Follow-up jobs for many assets (a batch of faults, a storm) are coalesced: one job for up to this many assets.
JOB_CHUNK = 100

class TransitionConflict(Exception):
    """The asked-for transition is not allowed from the asset's current state (API: 409)."""

    def __init__(self, asset: Asset, transition: str, detail: str | None = None):
        self.state = asset.state
        self.allowed = asset.manual_transitions()
        self.detail = detail or f"Cannot {transition} asset {asset.hostname}: it is {asset.state}."
        super().__init__(self.detail)


def _locked(asset_id: int) -> Asset:
    """The asset row, locked until the transaction ends: concurrent steps on one asset queue up here."""
    # of=self: the pool and hardware model rows come along for reading but are not locked (the budget step locks
    # the pool first, then the asset; locking both here in one statement could deadlock with it). NO KEY UPDATE:
    # steps (and ingest) still queue up here, but inserts that merely point at the asset (a new fault's
    # foreign-key check) do not wait for them.
    return Asset.objects.select_for_update(of=("self",), no_key=True).select_related(
        "pool", "hardware_model").get(pk=asset_id)


def _apply(asset: Asset, name: str, *, actor: str, reason: str) -> None:
    """The only place a state changes: the django-fsm method guards it, save, and the audit row."""
    method = getattr(asset, name)
    if not can_proceed(method):
        raise TransitionConflict(asset, name)
    source = asset.state
    method()
    asset.state_changed_at = timezone.now()
    try:
        asset.save(update_fields=["state", "state_changed_at"])
    except ConcurrentTransition:  # someone moved it without the row lock; theirs stands
        asset.refresh_from_db()
        raise TransitionConflict(asset, name) from None
    AssetTransition.objects.create(asset=asset, transition=name, source=source, target=asset.state,
                                   actor=actor, reason=reason, at=asset.state_changed_at)
    _announce(asset, name, source=source, actor=actor, reason=reason)


def _announce(asset: Asset, name: str, *, source: str, actor: str, reason: str) -> None:
    """Tell the outside world, once the change has committed: webhooks hear every transition, and the pool's
    isolation action drains a machine leaving service and undrains one coming back."""
    deliveries = integrations.event_publish(event="asset.transition", payload={
        "hostname": asset.hostname, "pool": asset.pool.name, "transition": name, "source": source,
        "target": asset.state, "actor": actor, "reason": reason})
    leaving = source not in OUT_OF_SERVICE and asset.state in OUT_OF_SERVICE
    back = source in OUT_OF_SERVICE and asset.state in (S.ACTIVE, S.RETURNED)
    if leaving or back:
        action = integrations.isolation_action_request(pool=asset.pool, action="drain" if leaving else "undrain",
                                                       hostname=asset.hostname, reason=reason)
        deliveries += [action] if action else []
    for delivery in deliveries:
        _after_commit(integration_tasks.send_delivery, delivery.id)


def _ticket_event(ticket: RepairTicket, event: str) -> None:
    for delivery in integrations.event_publish(event=f"ticket.{event}", payload={
            "ticket": ticket.id, "hostname": ticket.asset.hostname, "status": ticket.status,
            "summary": ticket.summary, "repair_action": ticket.repair_action}):
        _after_commit(integration_tasks.send_delivery, delivery.id)


def _after_commit(task, *args) -> None:
    """Owe the next job to Celery: an outbox row written in this transaction, sent once it commits. A broker that
    is down or a worker killed mid-job loses nothing: the relay sends again what is not finished
    (reliability/outbox.py)."""
    outbox.job_owe(task, *args)


def open_ticket_of(asset: Asset) -> RepairTicket | None:
    return RepairTicket.objects.filter(asset=asset, closed_at__isnull=True).first()


# 1. A fault arrives ----------------------------------------------------------------------------------------
def report_faults(*, detector: str, items: list) -> list[asset_services.FaultOutcome]:
    """A detector reports faults: store them all (the raw events are kept) and decide what each one triggers."""
    with transaction.atomic():
        outcomes, stored = asset_services.faults_store(detector=detector, items=items)
        faults_received(stored)
    return outcomes


def faults_received(faults: list[Fault]) -> None:
    """Decide, for freshly stored faults (their repeats already marked: faults_mark_repeats), what happens next.
    Called inside the ingest transaction, with the assets locked.

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
    for start in range(0, len(owed), JOB_CHUNK):
        first, *others = owed[start:start + JOB_CHUNK]
        _after_commit(tasks.isolate_asset, *first, *([others] if others else []))
    if to_attach:
        tickets = {t.asset_id: t for t in RepairTicket.objects.filter(
            asset_id__in={f.asset_id for f in to_attach}, closed_at__isnull=True)}
        for fault in to_attach:
            if ticket := tickets.get(fault.asset_id):
                ticket.faults.add(fault)
    # Faults on an isolated asset are linked when its ticket opens (step 3).


# 2. isolate: active | returned → isolated ------------------------------------------------------------------
def isolate_for_fault(*, asset_id: int, fault_id: int | None, asked: str = "",
                      actor: str = "job:isolate_asset") -> str | None:
    """Automation's isolation, within the pool's policy: the switches, the budget, the storm cooldown."""
    return isolate_for_faults([(asset_id, fault_id, asked)], actor=actor).get(asset_id)


def isolate_for_faults(items, *, actor: str = "job:isolate_asset") -> dict[int, str | None]:
    """isolate_for_fault for several assets at once: `items` are (asset_id, fault_id, asked), in arrival order.
    Returns each asset's decision (None: nothing left to decide).

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
                # (no pending request to supersede: an asset waiting for approval is not decided again)
                _isolate(asset, actor=actor, reason=why, owe_ticket=False, pending_requests=False,
                         isolated_before=isolated_lately.get(asset_id, 0))
                isolated.append(asset_id)
                counts["unavailable"] += 1
            elif answer.decision == Decision.PENDING_APPROVAL:
                requested.append(IsolationRequest(asset=asset, fault=fault, reason=f"{why}; {answer.reason}",
                                                  requested_at=now))
                waiting.add(asset_id)
                if answer.budget_hit:
                    pool.budget_hit_at = now  # the storm cooldown starts for the next decisions too
            decisions[asset_id] = answer.decision
        AutomationDecision.objects.bulk_create(decided)
        IsolationRequest.objects.bulk_create(requested)
        if pool.budget_hit_at == now:
            pool.save(update_fields=["budget_hit_at"])
        # The repair tickets: one job per JOB_CHUNK isolated machines, so both workers share a storm's.
        for start in range(0, len(isolated), JOB_CHUNK):
            first, *others = isolated[start:start + JOB_CHUNK]
            _after_commit(tasks.open_repair_ticket, first, *([others] if others else []))
    return decisions


def isolate(*, asset_id: int, actor: str, reason: str) -> Asset:
    """Staff isolate a machine by hand: a person's decision, not held to the pool's budget."""
    with transaction.atomic():
        asset = _locked(asset_id)
        _isolate(asset, actor=actor, reason=reason)
    return asset


def _isolate(asset: Asset, *, actor: str, reason: str, owe_ticket: bool = True, pending_requests: bool = True,
             isolated_before: int | None = None) -> None:
    """owe_ticket=False: the caller owes the open_repair_ticket job (coalesced with others).
    pending_requests=False: the caller knows the asset has no pending isolation request to supersede.
    isolated_before: its isolations within the flapping window before this one, if the caller counted them (one
    query for a whole batch instead of one per asset)."""
    _apply(asset, "isolate", actor=actor, reason=reason)
    if pending_requests:
        asset.isolation_requests.filter(status=RequestStatus.PENDING).update(
            status=RequestStatus.SUPERSEDED, decided_by=actor, decided_at=asset.state_changed_at,
            decision_reason="isolated meanwhile")
    if not asset.flapping:
        if isolated_before is None:
            isolations = asset.transitions.filter(transition=Transition.ISOLATE,
                                                  at__gte=_flapping_since(asset.state_changed_at)).count()
        else:
            isolations = isolated_before + 1
        if isolations >= settings.DAM_FLAPPING_ISOLATIONS:
            asset.flapping = True  # staff clear it once they have looked at the machine
            asset.save(update_fields=["flapping"])
    if owe_ticket:
        _after_commit(tasks.open_repair_ticket, asset.id)


def _flapping_since(now):
    return now - timedelta(days=settings.DAM_ESCALATION_DAYS)


def approve_isolation(*, request_id: int, actor: str, reason: str = "") -> IsolationRequest:
    """Staff approve an isolation that waited for the budget: it happens now, over the budget if need be."""
    with transaction.atomic():
        asset_id = IsolationRequest.objects.values_list("asset_id", flat=True).get(pk=request_id)
        asset = _locked(asset_id)
        request = IsolationRequest.objects.select_for_update().get(pk=request_id)
        if request.status != RequestStatus.PENDING:
            raise RequestConflict(request, f"Isolation request #{request.id} is {request.status}, not pending.")
        if not can_proceed(asset.isolate):
            raise RequestConflict(request, f"Asset {asset.hostname} is {asset.state}; it cannot be isolated.")
        request.status, request.decided_by, request.decided_at = RequestStatus.APPROVED, actor, timezone.now()
        request.decision_reason = reason
        request.save()
        _isolate(asset, actor=actor, reason=f"approved isolation request #{request.id}: {request.reason}"
                                           + (f" ({reason})" if reason else ""))
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


class RequestConflict(Exception):
    def __init__(self, request: IsolationRequest, detail: str):
        self.request, self.detail = request, detail
        super().__init__(detail)


def fault_reason(fault: Fault) -> str:
    return f"{fault.severity} {fault.component} fault #{fault.id} from {fault.detector}: {fault.summary}"


# 3. start_repair: isolated → in_repair, with the repair ticket --------------------------------------------
def start_repair(*, asset_id: int, actor: str, reason: str = "") -> RepairTicket | None:
    """Open the incident's repair ticket (or take the one already open), link its faults, choose the repair from
    the machine's history, and start the repair. A machine with too many hardware repairs lately is retired
    instead (None is returned)."""
    now = timezone.now()
    with transaction.atomic():
        asset = _locked(asset_id)
        if not can_proceed(asset.start_repair):
            raise TransitionConflict(asset, "start_repair")
        ticket = open_ticket_of(asset)
        if ticket is None:
            if why := escalation.due_for_retirement(asset=asset, now=now):
                _apply(asset, "retire", actor=actor, reason=f"retired instead of repaired again: {why}")
                return None
            last_closed = (RepairTicket.objects.filter(asset=asset, closed_at__isnull=False)
                           .order_by("-closed_at").values_list("closed_at", flat=True).first())
            faults = Fault.objects.filter(asset=asset, repair_tickets__isnull=True).exclude(severity=Severity.INFO)
            if last_closed:
                faults = faults.filter(received_at__gt=last_closed)
            faults = list(faults.order_by("id"))
            isolation = asset.transitions.filter(transition=Transition.ISOLATE).order_by("-id").first()
            action, escalated = escalation.next_action(
                asset=asset, component=_worst(faults).component if faults else None, now=now,
                during_probation=isolation is not None and isolation.source == S.RETURNED)
            summary = fault_summary(faults) or reason or _isolation_reason(isolation)
            ticket = RepairTicket.objects.create(
                asset=asset, summary=summary[:500], opened_by=actor, opened_at=now, repair_action=action,
                escalation=escalated, due_at=now + timedelta(hours=settings.DAM_TICKET_SLA_HOURS))
            ticket.faults.add(*faults)
            _ticket_event(ticket, "opened")
        _apply(asset, "start_repair", actor=actor,
               reason=reason or f"repair ticket #{ticket.id} opened ({ticket.repair_action}"
                                f"{', escalated: ' + ticket.escalation if ticket.escalation else ''}): "
                                f"{ticket.summary}")
    return ticket


def _isolation_reason(isolation: AssetTransition | None) -> str:
    """Why the asset was isolated, for a ticket that has no fault to name (staff isolated it by hand)."""
    return f"Isolated by {isolation.actor}: {isolation.reason}" if isolation else "Isolated"


def _worst(faults: list[Fault]) -> Fault:
    return max(faults, key=lambda f: (f.severity == Severity.CRITICAL, f.id))


def fault_summary(faults: list[Fault]) -> str:
    if not faults:
        return ""
    worst = _worst(faults)
    more = f" (+{len(faults) - 1} more faults)" if len(faults) > 1 else ""
    return f"{worst.component}: {worst.summary}{more}"


# dismiss: isolated → active (false alarm) ------------------------------------------------------------------
def dismiss(*, asset_id: int, actor: str, reason: str) -> Asset:
    with transaction.atomic():
        asset = _locked(asset_id)
        _apply(asset, "dismiss", actor=actor, reason=reason)
        _cancel_open_ticket(asset, note=f"Cancelled by {actor}: false alarm. {reason}")
    return asset


# retire: isolated | in_repair → retired; reinstate: retired → isolated (staff only) ------------------------
def retire(*, asset_id: int, actor: str, reason: str) -> Asset:
    with transaction.atomic():
        asset = _locked(asset_id)
        _apply(asset, "retire", actor=actor, reason=reason)
        _cancel_open_ticket(asset, note=f"Cancelled: the machine was retired by {actor}. {reason}")
    return asset


def _cancel_open_ticket(asset: Asset, *, note: str) -> None:
    """The machine left repair without one (dismissed, retired): its open ticket, if any, is cancelled."""
    if ticket := open_ticket_of(asset):
        ticket.status = TicketStatus.CANCELLED
        ticket.closed_at = timezone.now()
        ticket.add_note(note)
        ticket.save()
        _ticket_event(ticket, "cancelled")


def reinstate(*, asset_id: int, actor: str, reason: str) -> Asset:
    """A retired machine comes back the safe way: isolated, so it is repaired and verified before it serves."""
    with transaction.atomic():
        asset = _locked(asset_id)
        _apply(asset, "reinstate", actor=actor, reason=reason)
        _after_commit(tasks.open_repair_ticket, asset.id)
    return asset


# 4. start_verification: in_repair → verifying, when the ticket is resolved --------------------------------
def resolve_ticket(*, ticket_id: int, actor: str, action_taken: str, action: str = "") -> RepairTicket:
    """A technician says the repair is done (`action`: which rung of the ladder, the ticket's own by default):
    the ticket is resolved and the machine goes to be checked."""
    with transaction.atomic():
        asset_id = RepairTicket.objects.values_list("asset_id", flat=True).get(pk=ticket_id)
        asset = _locked(asset_id)
        ticket = RepairTicket.objects.select_for_update().get(pk=ticket_id)
        if ticket.closed_at is not None or ticket.status not in WORKABLE:
            raise TicketConflict(ticket, f"Ticket #{ticket.id} is {ticket.status}; only open or in_progress "
                                         "tickets can be resolved.")
        if not can_proceed(asset.start_verification):
            raise TicketConflict(ticket, f"Asset {asset.hostname} is {asset.state}, not in_repair.")
        return _resolve_and_verify(asset, ticket, actor=actor, action_taken=action_taken, action=action)


def start_verification(*, asset_id: int, actor: str, reason: str) -> RepairTicket:
    """The same step asked for on the asset: resolves its open ticket with the reason as the action taken."""
    with transaction.atomic():
        asset = _locked(asset_id)
        ticket = open_ticket_of(asset)
        if not can_proceed(asset.start_verification) or ticket is None:
            raise TransitionConflict(asset, "start_verification")
        return _resolve_and_verify(asset, ticket, actor=actor, action_taken=reason)


def _resolve_and_verify(asset: Asset, ticket: RepairTicket, *, actor: str, action_taken: str,
                        action: str = "") -> RepairTicket:
    ticket.status = TicketStatus.RESOLVED
    ticket.action_taken = action_taken
    ticket.performed_action = action or ticket.repair_action
    ticket.resolved_at = timezone.now()
    ticket.add_note(f"Resolved by {actor} ({ticket.performed_action}): {action_taken}")
    ticket.save()
    _ticket_event(ticket, "resolved")
    _apply(asset, "start_verification", actor=actor, reason=f"ticket #{ticket.id} resolved: {action_taken}")
    _request_inspection(asset, purpose=Purpose.VERIFICATION, ticket_id=ticket.id)
    return ticket


class TicketConflict(Exception):
    def __init__(self, ticket: RepairTicket, detail: str):
        self.ticket, self.detail = ticket, detail
        super().__init__(detail)


def _request_inspection(asset: Asset, *, purpose: str, ticket_id: int | None = None) -> Inspection:
    # One inspection in flight per asset: one still waiting (say a scheduled check whose host then failed and was
    # repaired) gives way to the new one. The caller holds the asset's row lock.
    for stale in Inspection.objects.select_for_update().filter(asset=asset,
                                                               verdict__in=[Verdict.PENDING, Verdict.RUNNING]):
        inspection_services.inspection_expire(inspection=stale, now=timezone.now(),
                                              summary=f"Superseded by a new {purpose} inspection.")
    inspection = inspection_services.inspection_request(asset=asset, purpose=purpose, ticket_id=ticket_id)
    if settings.DAM_INSPECTION_RUNNER == "local":
        _after_commit(tasks.run_inspection, inspection.id)
    return inspection


# 5. The inspection's verdict: verifying → returned (pass) or → in_repair (fail) ----------------------------
def inspection_finished(*, inspection_id: int, report: dict | None, runner: str, error: str = "") -> Inspection:
    """Record what the host measured, judge it, and act on the verdict. Safe to call twice: the second is ignored."""
    with transaction.atomic():
        asset_id = Inspection.objects.values_list("asset_id", flat=True).get(pk=inspection_id)
        asset = _locked(asset_id)
        inspection = Inspection.objects.select_for_update().get(pk=inspection_id)
        if inspection.finished:
            return inspection
        inspection_services.inspection_record(inspection=inspection, report=report, runner=runner, error=error)
        actor = f"job:inspection #{inspection.id}"

        if inspection.purpose == Purpose.VERIFICATION and asset.state == S.VERIFYING:
            ticket = RepairTicket.objects.select_for_update().filter(pk=inspection.ticket_id).first()
            if inspection.verdict == Verdict.PASSED:
                _apply(asset, "pass_verification", actor=actor, reason=inspection.summary)
                if ticket:
                    ticket.closed_at = timezone.now()
                    ticket.add_note(f"Verified by inspection #{inspection.id}: {inspection.summary} "
                                    f"Back in service on probation.")
                    ticket.save()
                    _ticket_event(ticket, "closed")
            else:
                _apply(asset, "fail_verification", actor=actor,
                       reason=f"inspection #{inspection.id} {inspection.verdict}: {inspection.summary}")
                if ticket:
                    ticket.status = TicketStatus.OPEN
                    ticket.resolved_at = None
                    ticket.reopen_count = F("reopen_count") + 1
                    ticket.add_note(f"Reopened: inspection #{inspection.id} {inspection.verdict}. "
                                    f"{inspection.summary}")
                    ticket.save()
                    ticket.refresh_from_db()
                    _ticket_event(ticket, "reopened")
        elif inspection.purpose == Purpose.DELIVERY and asset.state == S.NEW:
            _delivery_verdict(asset, inspection, actor=actor)
        elif inspection.purpose == Purpose.SCHEDULED and inspection.verdict == Verdict.FAILED:
            # A healthy-looking machine that fails its checks is a fault like any other.
            fault = Fault(
                asset=asset, component=inspection_services.failing_component(inspection),
                severity=Severity.CRITICAL, summary=inspection.summary[:500], detector="inspection",
                details={"inspection": inspection.id},
            )
            asset_services.faults_mark_repeats([fault], timezone.now())  # before it is stored, as in ingest
            fault.save()
            faults_received([fault])  # the asset is locked already
    return inspection


# 6. end_probation: returned → active after a clean probation window --------------------------------------
def end_probation(*, asset_id: int, actor: str, reason: str) -> Asset:
    with transaction.atomic():
        asset = _locked(asset_id)
        _apply(asset, "end_probation", actor=actor, reason=reason)
    return asset


def end_probation_sweep(now=None) -> int:
    """Return to active every machine whose probation window passed. (A fault during probation isolates it
    again, so one still `returned` had none that mattered.)"""
    now = now or timezone.now()
    ended = 0
    for asset_id in Asset.objects.filter(state=S.RETURNED).values_list("id", flat=True):
        with transaction.atomic():
            asset = _locked(asset_id)
            hours = asset.pool.probation_hours
            # Checked under the lock: the asset may have gone round the lifecycle again since the query.
            if asset.state != S.RETURNED or asset.state_changed_at + timedelta(hours=hours) > now:
                continue
            _apply(asset, "end_probation", actor="job:end_probation",
                   reason=f"no fault during the {hours:g} h probation window")
            ended += 1
    return ended


# 7. Delivery: new → active once the delivery inspection passes ---------------------------------------------
# A newly delivered machine is recorded as `new` (outside the fleet: no pool budget counts it) and inspected with
# the full profile before it first serves. Passed: accept_delivery, new → active. Failed (or could not run):
# fail_delivery, new → new, the failing numbers in the audit row; it stays out of service, and no repair ticket
# is opened (it was never in service; the vendor fixes it), until staff ask for another one: inspect_delivery.
def receive_delivery(*, actor: str, **fields) -> Asset:
    """Record a delivered machine as `new` and ask for its delivery inspection. `fields`: the asset's columns
    (hostname, hardware_model, pool, serial, …). Creating it is not a transition, so it writes no audit row."""
    with transaction.atomic():
        asset = Asset.objects.create(state=S.NEW, **fields)
        _request_inspection(asset, purpose=Purpose.DELIVERY)
    log.info("%s received %s for delivery inspection", actor, asset.hostname)
    return asset


def inspect_delivery(*, asset_id: int, actor: str, reason: str) -> Inspection:
    """Staff ask for another delivery inspection of a new machine (say, after the vendor replaced a part)."""
    with transaction.atomic():
        asset = _locked(asset_id)
        _apply(asset, "inspect_delivery", actor=actor, reason=reason)
        return _request_inspection(asset, purpose=Purpose.DELIVERY)


def _delivery_verdict(asset: Asset, inspection: Inspection, *, actor: str) -> None:
    """Called by inspection_finished (step 5) with the asset locked."""
    if inspection.verdict == Verdict.PASSED:
        _apply(asset, "accept_delivery", actor=actor,
               reason=f"delivery inspection #{inspection.id} passed: {inspection.summary}")
    else:
        _apply(asset, "fail_delivery", actor=actor,
               reason=f"delivery inspection #{inspection.id} {inspection.verdict}: {inspection.summary}")


# Staff and API: one entry for any transition by name --------------------------------------------------------
def request_transition(*, asset: Asset, transition: str, actor: str, reason: str) -> None:
    """A person asks for a transition. The verdict transitions belong to inspections and are refused here."""
    steps = {
        "isolate": isolate,
        "start_repair": start_repair,
        "dismiss": dismiss,
        "start_verification": start_verification,
        "end_probation": end_probation,
        "retire": retire,
        "reinstate": reinstate,
        "inspect_delivery": inspect_delivery,
    }
    step = steps.get(transition)
    if step is None:
        asset.refresh_from_db()
        if transition in (Transition.PASS_VERIFICATION, Transition.FAIL_VERIFICATION, Transition.ACCEPT_DELIVERY,
                          Transition.FAIL_DELIVERY):
            raise TransitionConflict(asset, transition, f"{transition} is decided by an inspection's verdict, "
                                                        "not by hand.")
        raise TransitionConflict(asset, transition, f"{transition} is not a transition of the lifecycle.")
    step(asset_id=asset.id, actor=actor, reason=reason)


# Beat: work that got stuck ---------------------------------------------------------------------------------
def reconcile_stuck_assets(now=None) -> dict:
    """Finish what a crash or a lost message left half done.

    - isolated for longer than the grace period: its repair ticket was never opened; open it now.
    - verifying without an inspection in flight, or with one past the timeout: ask for a new inspection.
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
        requested += _reinspect(asset.id, None, now)
    # No answer in time: a pending one counts from its request, a running one from when its runner took it.
    stale = (Q(verdict=Verdict.PENDING, requested_at__lt=timeout)
             | Q(verdict=Verdict.RUNNING, started_at__lt=timeout))
    for inspection in Inspection.objects.filter(stale):
        requested += _reinspect(inspection.asset_id, inspection.id, now)
    return {"tickets_opened": opened, "inspections_requested": requested}


def _reinspect(asset_id: int, stale_inspection_id: int | None, now) -> int:
    """Give up a stale inspection; a machine waiting for its verification gets a new one."""
    with transaction.atomic():
        asset = _locked(asset_id)
        if stale_inspection_id:
            stale = Inspection.objects.select_for_update().get(pk=stale_inspection_id)
            if stale.finished:
                return 0
            inspection_services.inspection_expire(inspection=stale, now=now)
        if asset.state != S.VERIFYING:
            return 0  # a scheduled inspection nobody answered: given up; the next sweep picks others
        ticket = open_ticket_of(asset)
        _request_inspection(asset, purpose=Purpose.VERIFICATION, ticket_id=ticket.id if ticket else None)
        return 1


def scheduled_inspections(sample: int | None = None) -> list[int]:
    """Check a random few active machines, so hardware that degrades quietly is found before it hurts."""
    sample = settings.DAM_SCHEDULED_INSPECTION_SAMPLE if sample is None else sample
    in_flight = Q(inspections__verdict__in=[Verdict.PENDING, Verdict.RUNNING])
    ids = list(Asset.objects.filter(state=S.ACTIVE).exclude(in_flight).order_by("?").values_list("id", flat=True)[:sample])
    requested = []
    for asset_id in ids:
        with transaction.atomic():
            asset = _locked(asset_id)
            if asset.state == S.ACTIVE:
                requested.append(_request_inspection(asset, purpose=Purpose.SCHEDULED).id)
    return requested
