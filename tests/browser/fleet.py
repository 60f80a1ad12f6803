"""A month of a small fleet's life, made through the real lifecycle: faults, isolations, repair tickets, resolved
repairs, inspections that pass or fail (with made-up but plausible measurements), then the timestamps spread over
the last 30 days so the dashboard has a history to draw.

Only timestamps are moved afterwards; every state change went through the lifecycle (lifecycle/).
"""
from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from assets.models import Asset, AssetTransition, Fault, HardwareModel, Pool
import lifecycle
from lifecycle import intake
from inspection.models import Baseline, Inspection
from repairs.models import RepairTicket

GIB = 1024 ** 3
MODELS = [
    # name, vendor, cores, memory GiB, cpu MB/s, memory MB/s, disk MB/s
    ("r650-2x32", "Dell", 64, 512, 3300.0, 9000.0, 1400.0),
    ("r750-2x40", "Dell", 80, 1024, 4100.0, 11000.0, 2100.0),
    ("sr650v2", "Lenovo", 64, 512, 3200.0, 8800.0, 1300.0),
]
POOLS = [("web", "Front-end web"), ("batch", "Batch compute"), ("storage", "Object storage")]
FAULTS = [
    ("disk", "critical", "SMART: {n} reallocated sectors on sdb"),
    ("memory", "critical", "EDAC: uncorrectable ECC error on DIMM B{n}"),
    ("power", "critical", "PSU {n} lost input power"),
    ("cpu", "critical", "MCE: machine check on CPU {n}"),
    ("thermal", "warning", "inlet temperature {n} °C"),
    ("network", "warning", "eth0 link flapped {n} times"),
]


# The curves a host measures (inspection/measure.py): each point keyed `<curve>[<x>]`, with the share of the
# model's headline figure it reaches when healthy.
CPU_THREADS = [1, 2, 4, 8, 16, 32, 64]
MEMORY_SIZES = [("32KiB", 2.6), ("256KiB", 2.0), ("2MiB", 1.5), ("16MiB", 1.05), ("128MiB", 1.0)]
DISK_BLOCKS = [("4KiB", 0.18), ("16KiB", 0.45), ("64KiB", 0.8), ("256KiB", 0.95), ("1MiB", 1.0)]


def healthy_curves(cpu: float, mem: float, disk: float, cores: int) -> dict[str, float]:
    """What a healthy machine of a model measures, point by point."""
    points = {f"cpu.sha256_mb_per_s[{t}]": cpu * min(t, cores) / cores for t in CPU_THREADS if t <= cores}
    points.update({f"memory.copy_mb_per_s[{size}]": mem * share for size, share in MEMORY_SIZES})
    points.update({f"disk.seq_write_mb_per_s[{block}]": disk * share for block, share in DISK_BLOCKS})
    points["disk.fsync_p50_ms"] = 0.25
    return points


def build_models_and_pools():
    models = []
    for name, vendor, cores, memory_gib, cpu, mem, disk in MODELS:
        model = HardwareModel.objects.create(
            name=name, vendor=vendor, cpu_logical_cores=cores, memory_bytes=memory_gib * GIB,
            disks=[{"mount": "/", "size_bytes": 960 * 10**9}])
        for key, expected in healthy_curves(cpu, mem, disk, cores).items():
            latency = key.startswith("disk.fsync")
            Baseline.objects.create(hardware_model=model, metric=key, unit="ms" if latency else "MB/s",
                                    expected=expected, tolerance_pct=400 if latency else 15,
                                    higher_is_better=not latency, source="fleet reference")
        models.append(model)
    pools = [Pool.objects.create(name=name, description=description, max_unavailable="30%")
             for name, description in POOLS]
    return models, pools


def report_for(model: HardwareModel, rng: random.Random, *, missing_dimm=False, slow_cpu=False) -> dict:
    """What a host would send: its inventory and measured curves, healthy unless told otherwise. A missing DIMM
    shows in the inventory and as lost bandwidth once the working set leaves the caches."""
    spec = {m[0]: m for m in MODELS}[model.name]
    memory = model.memory_bytes - (32 * GIB if missing_dimm else 0) - rng.randint(0, 2) * GIB // 4
    measured = {}
    for key, value in healthy_curves(spec[4], spec[5], spec[6], model.cpu_logical_cores).items():
        factor = rng.uniform(0.95, 1.04)
        if missing_dimm and key in ("memory.copy_mb_per_s[16MiB]", "memory.copy_mb_per_s[128MiB]"):
            factor = rng.uniform(0.68, 0.74)
        if slow_cpu and key.startswith("cpu."):
            factor = 0.55
        if key.startswith("disk.fsync"):
            factor = rng.uniform(0.8, 1.5)
        measured[key] = value * factor
    return {
        "inventory": {"hostname": "x", "cpu_logical_cores": model.cpu_logical_cores, "memory_total_bytes": memory,
                      "disks": [{"mount": "/", "size_bytes": 960 * 10**9}]},
        "measurements": measured,
    }


def _fault(asset, rng, component=None) -> Fault:
    kind = next(f for f in FAULTS if f[0] == component) if component else rng.choice(FAULTS[:4])
    return Fault.objects.create(asset=asset, component=kind[0], severity=kind[1], detector="smartd",
                                summary=kind[2].format(n=rng.randint(1, 48)))


def incident(asset: Asset, rng: random.Random, *, fail_first=False, finish=True, component=None) -> RepairTicket:
    """One incident the way the jobs and a technician run it: fault → isolate → ticket → resolve → inspection."""
    fault = _fault(asset, rng, component)
    lifecycle.isolate(asset_id=asset.id, actor="job:isolate_asset", reason=intake.fault_reason(fault))
    ticket = lifecycle.start_repair(asset_id=asset.id, actor="job:open_repair_ticket")
    if ticket is None or not finish:
        return ticket
    rounds = [True, False] if fail_first else [False]
    for failing in rounds:
        lifecycle.resolve_ticket(ticket_id=ticket.id, actor=rng.choice(["kim", "ravi", "alex"]),
                                 action_taken="reseated DIMM B2" if failing else f"replaced the failed {fault.component} part")
        inspection = Inspection.objects.filter(asset=asset).order_by("-id").first()
        lifecycle.inspection_finished(inspection_id=inspection.id, runner=f"agent:{asset.hostname}",
                                      report=report_for(asset.hardware_model, rng, missing_dimm=failing))
    return ticket


def build_fleet(assets_per_pool: int = 24, seed: int = 7) -> dict:
    """The fleet, its month of history, and the handful of machines the tests look at."""
    rng = random.Random(seed)
    models, pools = build_models_and_pools()
    assets = []
    for p, pool in enumerate(pools):
        for n in range(1, assets_per_pool + 1):
            model = models[(n + p) % len(models)]
            assets.append(Asset.objects.create(
                hostname=f"{pool.name}-{n:03d}", hardware_model=model, pool=pool, site=["ams1", "fra2"][n % 2],
                rack=f"R{(n - 1) // 8 + 1:02d}", serial=f"SN{p}{n:05d}", asset_tag=f"AT-{p}{n:04d}"))

    now = timezone.now()
    # Incidents, oldest first; each is later moved back to its day. A few machines fail again and again.
    plan = []
    offenders = [assets[3], assets[20], assets[37]]
    for day in range(29, 0, -1):
        for _ in range(rng.choice([0, 1, 1, 2, 2])):
            plan.append((day, rng.choice(assets)))
        if day % 6 == 0:
            plan.append((day, rng.choice(offenders)))
    marks = []  # (first audit row id, first ticket id, first fault id, first inspection id, day)
    last_day = {}
    for day, asset in plan:
        asset.refresh_from_db()
        if asset.state not in ("active", "returned") or last_day.get(asset.id, 99) - day < 2:
            continue  # one incident at a time per machine, a couple of days apart
        last_day[asset.id] = day
        marks.append((_next_id(AssetTransition), _next_id(RepairTicket), _next_id(Fault), _next_id(Inspection), day))
        if asset.state == "returned":
            lifecycle.end_probation(asset_id=asset.id, actor="job:end_probation", reason="probation over")
        incident(asset, rng, fail_first=rng.random() < 0.25)
    marks.append((_next_id(AssetTransition), _next_id(RepairTicket), _next_id(Fault), _next_id(Inspection), 0))
    _spread(marks, now, rng)
    lifecycle.end_probation_sweep()  # the machines returned more than a day ago are active again

    # Today: machines in every state of the lifecycle, for the list and the dashboard.
    for asset in rng.sample([a for a in assets if a not in offenders], 6):
        asset.refresh_from_db()
        if asset.state == "returned":
            continue
        step = rng.choice(["isolated", "in_repair", "in_repair", "verifying"])
        fault = _fault(asset, rng)
        lifecycle.isolate(asset_id=asset.id, actor="job:isolate_asset", reason=intake.fault_reason(fault))
        if step in ("in_repair", "verifying"):
            ticket = lifecycle.start_repair(asset_id=asset.id, actor="job:open_repair_ticket")
            if step == "verifying" and ticket:
                lifecycle.resolve_ticket(ticket_id=ticket.id, actor="kim", action_taken="replaced PSU 2")
    # The storage pool's budget is spent: automation asks staff before isolating one more.
    storage = [a for a in assets if a.pool.name == "storage" and a not in offenders]
    out = Asset.objects.filter(pool__name="storage", state__in=["isolated", "in_repair", "verifying"]).count()
    Pool.objects.filter(name="storage").update(max_unavailable=str(out))
    waiting = next(a for a in reversed(storage) if Asset.objects.get(pk=a.pk).state == "active")
    fault = _fault(waiting, rng, "disk")
    lifecycle.isolate_for_faults([(waiting.id, fault.id, "")])[waiting.id]
    # One repair ticket long past its SLA.
    late = RepairTicket.objects.filter(closed_at__isnull=True, status="open").order_by("id").first()
    if late:
        RepairTicket.objects.filter(pk=late.pk).update(opened_at=now - timedelta(days=3),
                                                       due_at=now - timedelta(days=1))

    failed = (Inspection.objects.filter(verdict="failed").select_related("asset").order_by("-id").first())
    return {"assets": assets, "pools": pools, "models": models, "failed_inspection": failed, "waiting": waiting,
            "active": Asset.objects.filter(state="active").order_by("hostname").first()}


def _next_id(model) -> int:
    last = model.objects.order_by("-id").values_list("id", flat=True).first()
    return (last or 0) + 1


AFTER_REPAIR = ("start_verification", "pass_verification", "fail_verification")


def _spread(marks, now, rng):
    """Move each incident's rows back to its day; the rows of one incident keep their order and spacing."""
    for (t0, k0, f0, i0, day), (t1, k1, f1, i1, _) in zip(marks, marks[1:]):
        start = now - timedelta(days=day, hours=rng.randint(0, 10))
        rows = list(AssetTransition.objects.filter(id__gte=t0, id__lt=t1).order_by("id"))
        if not rows:
            continue
        shift = start - rows[0].at
        # The repair itself takes hours, not the milliseconds of a test: stretch the time after the ticket opened.
        repair = timedelta(hours=rng.uniform(3, 20))
        for row in rows:
            extra = repair if row.transition in AFTER_REPAIR else timedelta()
            AssetTransition.objects.filter(pk=row.pk).update(at=row.at + shift + extra)
        for f in Fault.objects.filter(id__gte=f0, id__lt=f1):
            Fault.objects.filter(pk=f.pk).update(received_at=f.received_at + shift, observed_at=f.observed_at + shift)
        for t in RepairTicket.objects.filter(id__gte=k0, id__lt=k1):
            RepairTicket.objects.filter(pk=t.pk).update(
                opened_at=t.opened_at + shift, due_at=(t.due_at + shift) if t.due_at else None,
                resolved_at=(t.resolved_at + shift + repair) if t.resolved_at else None,
                closed_at=(t.closed_at + shift + repair) if t.closed_at else None)
        for i in Inspection.objects.filter(id__gte=i0, id__lt=i1):
            Inspection.objects.filter(pk=i.pk).update(
                requested_at=i.requested_at + shift + repair,
                started_at=(i.started_at + shift + repair) if i.started_at else None,
                finished_at=(i.finished_at + shift + repair) if i.finished_at else None)
    for asset in Asset.objects.all():
        latest = asset.transitions.order_by("-at").values_list("at", flat=True).first()
        if latest:
            Asset.objects.filter(pk=asset.pk).update(state_changed_at=latest)
