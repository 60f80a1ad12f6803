"""The one way a machine's state changes, used by every step of the lifecycle: lock the asset row, call the django-fsm
transition method (its guard), save, write the audit row, and tell the outside world once the change commits."""
from __future__ import annotations

from django.utils import timezone
from django_fsm import can_proceed

from assets.choices import OUT_OF_SERVICE, AssetState
from assets.conflicts import TransitionConflict
from assets.models import Asset, AssetTransition
from integrations import services as integrations
from integrations import tasks as integration_tasks
from reliability import outbox
from repairs.models import RepairTicket

S = AssetState
# The machines a pool's budget is a share of: all but the ones not (yet, or any more) in the fleet.
IN_FLEET = (S.ACTIVE, S.ISOLATED, S.IN_REPAIR, S.VERIFYING, S.RETURNED)
# Follow-up jobs for many assets (a batch of faults, a storm) are coalesced: one job for up to this many assets.
JOB_CHUNK = 100

def locked(asset_id: int) -> Asset:
    """The asset row, locked until the transaction ends: concurrent steps on one asset queue up here."""
    # of=self: the pool and hardware model rows come along for reading but are not locked (the budget step locks
    # the pool first, then the asset; locking both here in one statement could deadlock with it). NO KEY UPDATE:
    # steps (and ingest) still queue up here, but inserts that merely point at the asset (a new fault's
    # foreign-key check) do not wait for them.
    return Asset.objects.select_for_update(of=("self",), no_key=True).select_related(
        "pool", "hardware_model").get(pk=asset_id)


def apply(asset: Asset, name: str, *, actor: str, reason: str) -> None:
    """The only place a state changes: the django-fsm method guards it, save, and the audit row."""
    apply_many([(asset, reason)], name, actor=actor)


def apply_many(changes: list[tuple[Asset, str]], name: str, *, actor: str) -> None:
    """apply() for many (asset, reason) at once, the assets locked by the caller: a constant number of queries
    whatever their number (one UPDATE per source state, one INSERT of the audit rows, the announcements in bulk).
    Every asset is guarded by its django-fsm method first; one that may not move refuses the whole call."""
    if not changes:
        return
    for asset, _ in changes:
        if not can_proceed(getattr(asset, name)):
            raise TransitionConflict(asset, name)
    now = timezone.now()
    sources = []
    for asset, _ in changes:
        sources.append(asset.state)
        getattr(asset, name)()
        asset.state_changed_at = now
    by_move: dict[tuple[str, str], list[Asset]] = {}
    for (asset, _), source in zip(changes, sources):
        by_move.setdefault((source, asset.state), []).append(asset)
    for (source, target), assets in by_move.items():
        # WHERE state = source: django-fsm's ConcurrentTransition check, for a whole group in one statement
        moved = Asset.objects.filter(pk__in=[a.pk for a in assets], state=source).update(
            state=target, state_changed_at=now)
        if moved != len(assets):  # someone moved one without the row lock; theirs stands
            for asset in assets:
                asset.refresh_from_db()
                if asset.state != target:
                    raise TransitionConflict(asset, name)
    AssetTransition.objects.bulk_create([
        AssetTransition(asset=asset, transition=name, source=source, target=asset.state, actor=actor, reason=reason,
                        at=now) for (asset, reason), source in zip(changes, sources)])
    _announce(changes, sources, name, actor=actor)


def _announce(changes: list[tuple[Asset, str]], sources: list[str], name: str, *, actor: str) -> None:
    """Tell the outside world, once the change has committed: webhooks hear every transition, and the pool's
    isolation action drains a machine leaving service and undrains one coming back."""
    deliveries = integrations.events_publish([("asset.transition", {
        "hostname": asset.hostname, "pool": asset.pool.name, "transition": name, "source": source,
        "target": asset.state, "actor": actor, "reason": reason}) for (asset, reason), source in zip(changes, sources)])
    actions = []
    for (asset, reason), source in zip(changes, sources):
        leaving = source not in OUT_OF_SERVICE and asset.state in OUT_OF_SERVICE
        back = source in OUT_OF_SERVICE and asset.state in (S.ACTIVE, S.RETURNED)
        if leaving or back:
            actions.append((asset.pool, "drain" if leaving else "undrain", asset.hostname, reason))
    deliveries += integrations.isolation_actions_request(actions)
    owe_jobs(integration_tasks.send_delivery, [[delivery.id] for delivery in deliveries])


def ticket_event(ticket: RepairTicket, event: str) -> None:
    tickets_event([ticket], event)


def tickets_event(tickets: list[RepairTicket], event: str) -> None:
    deliveries = integrations.events_publish([(f"ticket.{event}", {
        "ticket": ticket.id, "hostname": ticket.asset.hostname, "status": ticket.status,
        "summary": ticket.summary, "repair_action": ticket.repair_action}) for ticket in tickets])
    owe_jobs(integration_tasks.send_delivery, [[delivery.id] for delivery in deliveries])


def owe_job(task, *args) -> None:
    """Owe the next job to Celery: an outbox row written in this transaction, sent once it commits. A broker that
    is down or a worker killed mid-job loses nothing: the relay sends again what is not finished
    (reliability/outbox.py)."""
    outbox.job_owe(task, *args)


def owe_jobs(task, many: list) -> None:
    """owe_job for each args of `many`, with one INSERT."""
    outbox.jobs_owe(task, many)


def coalesced(items: list) -> list[tuple]:
    """`items` in chunks of JOB_CHUNK, each as (its first item, [the others] or []): one job's arguments, as the
    coalescing jobs take them (`task(*first, *rest)` or `task(first, *rest)`)."""
    chunks = (items[start:start + JOB_CHUNK] for start in range(0, len(items), JOB_CHUNK))
    return [(first, [others] if others else []) for first, *others in chunks]

