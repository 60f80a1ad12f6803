"""Writes for the fleet that are not state changes: storing faults as detectors send them."""
from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from assets.api.serializers import FaultInSerializer
from assets.models import Asset, Fault


@dataclass
class FaultOutcome:
    index: int
    status: str  # accepted | duplicate | rejected
    id: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict:
        return {"index": self.index, "status": self.status, "id": self.id, "reason": self.reason}


def _first_error(errors) -> str:
    """'field: message' for the first field that failed, so a detector knows exactly what to fix."""
    parts = []
    for field, messages in errors.items():
        message = messages[0] if isinstance(messages, list) else messages
        if isinstance(message, dict):  # nested
            message = _first_error(message)
        parts.append(f"{field}: {message}")
    return "; ".join(parts)


def faults_store(*, detector: str, items: list) -> tuple[list[FaultOutcome], list[Fault]]:
    """Validate and store a batch of faults from one detector. Runs inside the caller's transaction.

    Each item gets its own outcome; a bad item never sinks the others. A repeated (detector, event_id), in this
    batch or earlier, is a duplicate stored once.
    """
    outcomes: list[FaultOutcome] = []
    valid: list[tuple[int, dict]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            outcomes.append(FaultOutcome(index, "rejected", reason="item: expected a JSON object"))
            continue
        serializer = FaultInSerializer(data=item)
        if serializer.is_valid():
            valid.append((index, serializer.validated_data))
        else:
            outcomes.append(FaultOutcome(index, "rejected", reason=_first_error(serializer.errors)))

    # Locked (in id order, so two batches never deadlock) until the faults are stored and acted on: a transition
    # cannot slip in between reading an asset's state and deciding what its fault triggers.
    hostnames = {d["asset"] for _, d in valid}
    assets = {a.hostname: a for a in Asset.objects.select_for_update().filter(hostname__in=hostnames).order_by("id")}
    event_ids = {d["event_id"] for _, d in valid if d.get("event_id")}
    seen = dict(Fault.objects.filter(detector=detector, event_id__in=event_ids).values_list("event_id", "id"))

    now = timezone.now()
    pending: list[tuple[int, Fault]] = []
    batch_events: dict[str, int] = {}  # event_id → index of its first item in this batch
    repeats: list[tuple[int, int]] = []  # (index, index of the item it repeats)
    for index, data in valid:
        asset = assets.get(data["asset"])
        event_id = data.get("event_id") or None
        if asset is None:
            outcomes.append(FaultOutcome(index, "rejected", reason=f"asset: unknown hostname '{data['asset']}'"))
        elif event_id in seen:
            outcomes.append(FaultOutcome(index, "duplicate", id=seen[event_id]))
        elif event_id in batch_events:
            repeats.append((index, batch_events[event_id]))
        else:
            if event_id:
                batch_events[event_id] = index
            pending.append((index, Fault(
                asset=asset, component=data["component"], severity=data["severity"], summary=data["summary"],
                details=data.get("details") or {}, observed_at=data.get("observed_at") or now, received_at=now,
                detector=detector, event_id=event_id,
            )))

    lost_race = _insert(pending, detector)
    ids = {}
    for index, fault in pending:
        if fault.pk:
            outcomes.append(FaultOutcome(index, "accepted", id=fault.pk))
        else:  # a concurrent request stored the same event_id first
            outcomes.append(FaultOutcome(index, "duplicate", id=lost_race[fault.event_id]))
        ids[index] = outcomes[-1].id
    outcomes += [FaultOutcome(index, "duplicate", id=ids[first]) for index, first in repeats]
    outcomes.sort(key=lambda o: o.index)
    return outcomes, [f for _, f in pending if f.pk]


def _insert(pending: list[tuple[int, Fault]], detector: str) -> dict[str, int]:
    """One INSERT for the batch; if a concurrent request stored one of its event_ids first, fall back to one
    savepoint per fault so the rest still land. Returns event_id → id for the faults that lost the race."""
    faults = [f for _, f in pending]
    try:
        with transaction.atomic():
            Fault.objects.bulk_create(faults)
        return {}
    except IntegrityError:
        for fault in faults:
            fault.pk = None
        lost = {}
        for fault in faults:
            try:
                with transaction.atomic():
                    fault.save()
            except IntegrityError:
                fault.pk = None
                lost[fault.event_id] = Fault.objects.get(detector=detector, event_id=fault.event_id).pk
        return lost
