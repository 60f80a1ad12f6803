"""The one way a machine's state changes, used by every step of the lifecycle: lock the asset row, call the django-fsm
transition method (its guard), save, write the audit row, and tell the outside world once the change commits."""
from __future__ import annotations

from django.utils import timezone
from django_fsm import ConcurrentTransition, can_proceed

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
        owe_job(integration_tasks.send_delivery, delivery.id)


def ticket_event(ticket: RepairTicket, event: str) -> None:
    for delivery in integrations.event_publish(event=f"ticket.{event}", payload={
            "ticket": ticket.id, "hostname": ticket.asset.hostname, "status": ticket.status,
            "summary": ticket.summary, "repair_action": ticket.repair_action}):
        owe_job(integration_tasks.send_delivery, delivery.id)


def owe_job(task, *args) -> None:
    """Owe the next job to Celery: an outbox row written in this transaction, sent once it commits. A broker that
    is down or a worker killed mid-job loses nothing: the relay sends again what is not finished
    (reliability/outbox.py)."""
    outbox.job_owe(task, *args)


def open_ticket_of(asset: Asset) -> RepairTicket | None:
    return RepairTicket.objects.filter(asset=asset, closed_at__isnull=True).first()

