"""Writes for the fleet that are not state changes: recording a machine, storing faults as detectors send them,
and marking repeats. Callers validate first (the API's serializers); these take plain data."""
from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from assets.choices import Severity
from assets.models import Asset, Fault, HardwareModel, Pool
from assets.policy import SEVERITY_RANK

log = logging.getLogger(__name__)

# A detector's clock may run a little ahead of ours; more than this and its `observed_at` is wrong, not early.
FUTURE_TOLERANCE = timedelta(minutes=10)


def asset_create(*, actor: str, hostname: str, hardware_model: HardwareModel, pool: Pool, serial: str = "",
                 asset_tag: str = "", site: str = "", rack: str = "", exclude_from_automation: bool = False) -> Asset:
    """Record a machine already in service: it starts `active`. (A newly delivered one is inspected first:
    lifecycle.receive_delivery.) Creating it is not a transition, so it writes no audit row."""
    asset = Asset.objects.create(hostname=hostname, hardware_model=hardware_model, pool=pool, serial=serial,
                                 asset_tag=asset_tag, site=site, rack=rack,
                                 exclude_from_automation=exclude_from_automation)
    log.info("%s recorded %s (active)", actor, hostname)
    return asset


@dataclass
class FaultOutcome:
    index: int
    status: str  # accepted | duplicate | rejected
    id: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict:
        return {"index": self.index, "status": self.status, "id": self.id, "reason": self.reason}


@dataclass(slots=True)
class AssetRow:
    """What intake reads of a fault's machine: a row, not a model instance (a batch of 1000 names 1000 machines)."""

    id: int
    hostname: str
    state: str
    pool: Pool


@dataclass(slots=True)
class NewFault:
    """A fault of a detector's batch, as intake stores it and decides on it (lifecycle/intake.py). Not a model
    instance: building 1000 of those, and preparing each value through its field, cost more than the INSERT itself.
    It answers what intake asks of a Fault (asset, asset_id, component, severity, repeat_of_id, id/pk)."""

    asset: AssetRow
    component: str
    severity: str
    summary: str
    details: dict
    observed_at: datetime
    received_at: datetime
    detector: str
    event_id: str | None
    repeat_of_id: int | None = None
    id: int | None = None

    @property
    def asset_id(self) -> int:
        return self.asset.id

    @property
    def pk(self) -> int | None:
        return self.id

    def as_model(self) -> Fault:
        return Fault(asset_id=self.asset.id, component=self.component, severity=self.severity, summary=self.summary,
                     details=self.details, observed_at=self.observed_at, received_at=self.received_at,
                     detector=self.detector, event_id=self.event_id, repeat_of_id=self.repeat_of_id)


def faults_store(*, detector: str, items: list[dict | str]) -> tuple[list[FaultOutcome], list[NewFault]]:
    """Store a batch of faults from one detector. Runs inside the caller's transaction.

    `items` are in request order, each either a fault's validated fields (`asset` hostname, `component`,
    `severity`, `summary`, and optionally `details`, `observed_at` as a datetime, `event_id`) or, for an item
    the caller could not validate, the reason as text: it is reported `rejected` at its index.

    Each item gets its own outcome; a bad item never sinks the others. A repeated (detector, event_id), in this
    batch or earlier, is a duplicate stored once when it says the same thing (asset, component, severity), and is
    rejected naming the fault it already names when it does not.
    """
    now = timezone.now()
    outcomes: list[FaultOutcome] = []
    valid: list[tuple[int, dict]] = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            outcomes.append(FaultOutcome(index, "rejected", reason=item))
        elif item.get("observed_at") and item["observed_at"] > now + FUTURE_TOLERANCE:
            outcomes.append(FaultOutcome(index, "rejected", reason=(
                f"observed_at: {item['observed_at'].isoformat()} is more than "
                f"{FUTURE_TOLERANCE.seconds // 60} minutes in the future (the detector's clock?)")))
        else:
            valid.append((index, item))

    # Locked (in id order, so two batches never deadlock) until the faults are stored and acted on: a transition
    # cannot slip in between reading an asset's state and deciding what its fault triggers.
    # An info fault never triggers anything, whatever its machine's state (assets/policy.py, faults_received): its
    # machine is read, not locked, so that batches of info faults do not queue up behind each other. NO KEY UPDATE
    # serialises with the lifecycle's steps all the same, but lets other inserts that point at the asset (faults,
    # audit rows: their foreign-key checks) through.
    hostnames = {d["asset"] for _, d in valid}
    to_lock = {d["asset"] for _, d in valid if d["severity"] != Severity.INFO}
    columns = ("id", "hostname", "state", "pool_id")
    rows = list(Asset.objects.select_for_update(of=("self",), no_key=True).filter(hostname__any=to_lock)
                .order_by("id").values_list(*columns)) if to_lock else []
    if hostnames - to_lock:
        rows += Asset.objects.filter(hostname__any=hostnames - to_lock).values_list(*columns)
    pools = Pool.objects.in_bulk({pool_id for *_, pool_id in rows})
    assets = {hostname: AssetRow(id, hostname, state, pools[pool_id]) for id, hostname, state, pool_id in rows}
    # One query for the whole batch's event ids (the hot path: a batch of 1000 is one lookup, not 1000).
    event_ids = {d["event_id"] for _, d in valid if d.get("event_id")}
    seen = {event_id: _Named(fault_id, hostname, component, severity)
            for event_id, fault_id, hostname, component, severity in Fault.objects.filter(
                detector=detector, event_id__any=event_ids).order_by().values_list(
                "event_id", "id", "asset__hostname", "component", "severity")} if event_ids else {}

    pending: list[tuple[int, NewFault]] = []
    batch_events: dict[str, tuple[int, NewFault]] = {}  # event_id → (index, fault) of its first item in this batch
    repeats: list[tuple[int, int]] = []  # (index, index of the item it repeats)
    clashes: list[tuple[int, str, NewFault]] = []  # (index, event_id, the batch's fault that already has it)
    for index, data in valid:
        asset = assets.get(data["asset"])
        event_id = data.get("event_id") or None
        if asset is None:
            outcomes.append(FaultOutcome(index, "rejected", reason=f"asset: unknown hostname '{data['asset']}'"))
        elif event_id in seen:
            named = seen[event_id]
            if named.says(data):
                outcomes.append(FaultOutcome(index, "duplicate", id=named.id))
            else:
                outcomes.append(FaultOutcome(index, "rejected", reason=named.clash(event_id)))
        elif event_id in batch_events:
            first_index, first = batch_events[event_id]
            if _Named(None, first.asset.hostname, first.component, first.severity).says(data):
                repeats.append((index, first_index))
            else:
                clashes.append((index, event_id, first))
        else:
            fault = NewFault(asset=asset, component=data["component"], severity=data["severity"],
                             summary=data["summary"], details=data.get("details") or {},
                             observed_at=data.get("observed_at") or now, received_at=now, detector=detector,
                             event_id=event_id)
            if event_id:
                batch_events[event_id] = (index, fault)
            pending.append((index, fault))

    # Dedup before the INSERT, so that the links go in with the rows (no UPDATE after); only a repeat of a fault
    # earlier in this same batch waits for that one's id.
    in_batch = faults_mark_repeats([f for _, f in pending], now)
    lost_race = _insert([f for _, f in pending], detector)
    if in_batch:
        for fault, first in in_batch:
            fault.repeat_of_id = first.pk  # None if the first lost a race: then this one is no repeat either
        Fault.objects.bulk_update([Fault(pk=f.id, repeat_of_id=f.repeat_of_id) for f, _ in in_batch if f.id],
                                  ["repeat_of"])
    ids = {}
    for index, fault in pending:
        if fault.id:
            outcomes.append(FaultOutcome(index, "accepted", id=fault.id))
        else:  # a concurrent request stored the same event_id first
            named = lost_race[fault.event_id]
            if named.says({"asset": fault.asset.hostname, "component": fault.component,
                           "severity": fault.severity}):
                outcomes.append(FaultOutcome(index, "duplicate", id=named.id))
            else:
                outcomes.append(FaultOutcome(index, "rejected", reason=named.clash(fault.event_id)))
        ids[index] = outcomes[-1].id
    outcomes += [FaultOutcome(index, "duplicate", id=ids[first]) for index, first in repeats]
    for index, event_id, first in clashes:
        named = _Named(first.id, first.asset.hostname, first.component, first.severity)
        outcomes.append(FaultOutcome(index, "rejected", reason=named.clash(event_id)))
    outcomes.sort(key=lambda o: o.index)
    return outcomes, [f for _, f in pending if f.id]


@dataclass
class _Named:
    """The fault an event_id already names: a true repeat says the same (asset, component, severity)."""

    id: int | None
    hostname: str
    component: str
    severity: str

    def says(self, data: dict) -> bool:
        return (self.hostname, self.component, self.severity) == (data["asset"], data["component"],
                                                                  data["severity"])

    def clash(self, event_id: str) -> str:
        # An event_id names one event: silently calling another fault its duplicate would lose that fault.
        return (f"event_id '{event_id}' already names fault #{self.id} on {self.hostname} "
                f"({self.severity} {self.component})")


def _insert(faults: list[NewFault], detector: str) -> dict[str, "_Named"]:
    """Store the batch at once (_insert_rows), setting each fault's id; if a concurrent request stored one of its
    event_ids first, fall back to one savepoint per fault so the rest still land. Returns event_id → the stored
    fault, for the faults that lost the race (their id stays None)."""
    if not faults:
        return {}
    try:
        with transaction.atomic():
            _insert_rows(faults)
        return {}
    except IntegrityError:
        for fault in faults:
            fault.id = None
        lost = {}
        for fault in faults:
            try:
                with transaction.atomic():
                    model = fault.as_model()
                    model.save()
                    fault.id = model.pk
            except IntegrityError:
                fault.id = None
                other = Fault.objects.select_related("asset").get(detector=detector, event_id=fault.event_id)
                lost[fault.event_id] = _Named(other.pk, other.asset.hostname, other.component, other.severity)
        return lost


_FAULT_COLUMNS = ("id", "asset_id", "component", "severity", "summary", "details", "observed_at", "received_at",
                  "detector", "event_id", "repeat_of_id")


@functools.cache
def _fault_sequence() -> str:
    """The fault table's id sequence, looked up once per process: asked for in the query, PostgreSQL looked it up
    for each of the 1,000 rows, which cost more than the nextval calls themselves."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('assets_fault', 'id')")
        return cursor.fetchone()[0]


def _insert_rows(faults: list[NewFault]) -> None:
    """Store the whole batch at once; sets each fault's id.

    On PostgreSQL: the batch's ids are taken from the table's sequence in one query, then the rows go in with COPY,
    which is what PostgreSQL loads fastest (about 40 % less time than one INSERT … SELECT FROM unnest(…) for 1,000
    faults, most of it the quoting of each value into the statement's text). A unique violation (another request
    stored one of the event ids first) aborts the COPY as it would the INSERT. Elsewhere (SQLite): bulk_create."""
    if connection.vendor != "postgresql":
        stored = Fault.objects.bulk_create([f.as_model() for f in faults])
        for fault, model in zip(faults, stored):
            fault.id = model.pk
        return
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute("SELECT array_agg(nextval(%s::regclass)) FROM generate_series(1, %s)",
                       [_fault_sequence(), len(faults)])
        for fault, fault_id in zip(faults, cursor.fetchone()[0]):
            fault.id = fault_id
        with cursor.copy(f"COPY assets_fault ({', '.join(_FAULT_COLUMNS)}) FROM STDIN") as copy:
            for f in faults:
                copy.write_row((f.id, f.asset.id, f.component, f.severity, f.summary, json.dumps(f.details),
                                f.observed_at, f.received_at, f.detector, f.event_id, f.repeat_of_id))


def faults_mark_repeats(faults: list[NewFault | Fault], now) -> list[tuple]:
    """Dedup, for faults about to be inserted (in this order): a fault repeating an equally or more severe one of
    the same machine and component within the pool's window is kept, linked to that first one (`repeat_of`), and
    triggers nothing new by its severity. Sets repeat_of_id for repeats of stored faults; returns (repeat, first)
    for repeats of a fault of this same batch, to link once the first has its id."""
    longest = max((f.asset.pool.dedup_window_minutes for f in faults), default=0)
    if not longest:
        return []
    rank = SEVERITY_RANK
    # (asset, component) → (id, received_at, severity, unsaved fault of this batch) of the incident's first fault
    first: dict[tuple, tuple] = {}
    earlier = (Fault.objects.filter(asset_id__any={f.asset_id for f in faults}, repeat_of__isnull=True,
                                    received_at__gte=now - timedelta(minutes=longest))
               .order_by("id").values_list("asset_id", "component", "id", "received_at", "severity"))
    for asset_id, component, fault_id, received_at, severity in earlier:
        first.setdefault((asset_id, component), (fault_id, received_at, severity, None))
    in_batch = []
    for fault in faults:
        key = (fault.asset_id, fault.component)
        window_start = now - timedelta(minutes=fault.asset.pool.dedup_window_minutes)
        known = first.get(key)
        if known and known[1] >= window_start and rank[known[2]] >= rank[fault.severity]:
            if known[3] is None:
                fault.repeat_of_id = known[0]
            else:
                in_batch.append((fault, known[3]))
        else:
            first[key] = (None, fault.received_at, fault.severity, fault)
    return in_batch


def recent_warnings(faults: list[NewFault | Fault], now) -> dict[tuple, int]:
    """Warnings per (asset, component) within each pool's warning window, the new ones included."""
    keys = {(f.asset_id, f.component): f.asset.pool for f in faults
            if f.severity == Severity.WARNING and f.asset.pool.warning_count}
    if not keys:
        return {}
    longest = max(pool.warning_window_minutes for pool in keys.values())
    counts: dict[tuple, int] = {}
    rows = Fault.objects.filter(asset_id__any={a for a, _ in keys}, severity=Severity.WARNING,
                                received_at__gte=now - timedelta(minutes=longest))
    for asset_id, component, received_at in rows.values_list("asset_id", "component", "received_at"):
        pool = keys.get((asset_id, component))
        if pool and received_at >= now - timedelta(minutes=pool.warning_window_minutes):
            counts[(asset_id, component)] = counts.get((asset_id, component), 0) + 1
    return counts
