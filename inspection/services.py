"""Writes for inspections: request one, claim it, record and judge what the host measured.

These never touch an asset's state; dam/lifecycle.py acts on the verdict.
"""
from __future__ import annotations

import fcntl
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from assets.models import Asset, HardwareModel
from inspection import measure, verdict
from inspection.choices import Verdict
from inspection.models import Baseline, Inspection, InspectionCheck


def inspection_request(*, asset: Asset, purpose: str, ticket_id: int | None = None) -> Inspection:
    return Inspection.objects.create(asset=asset, purpose=purpose, ticket_id=ticket_id)


def inspection_start(*, inspection: Inspection, runner: str) -> bool:
    """Claim a pending inspection. False if someone else already did (two agents, or a job run twice)."""
    claimed = Inspection.objects.filter(pk=inspection.pk, verdict=Verdict.PENDING).update(
        verdict=Verdict.RUNNING, started_at=timezone.now(), runner=runner)
    inspection.refresh_from_db()
    return bool(claimed)


def inspection_expire(*, inspection: Inspection, now,
                      summary: str = "No result in time; a new inspection was requested.") -> None:
    inspection.verdict = Verdict.ERROR
    inspection.finished_at = now
    inspection.summary = summary
    inspection.save()


def spec_mounts(hardware_model: HardwareModel) -> list[str]:
    return [d["mount"] for d in hardware_model.disks]


def measure_here(hardware_model: HardwareModel) -> dict:
    """Run the checks on this machine (the worker standing in for the host).

    One at a time per machine: two inspections measured at once would each see half the CPU and fail. On a real
    fleet every host measures itself, so this lock only matters where one machine stands in for many.
    """
    scratch = Path(settings.DAM_SCRATCH_DIR)
    scratch.mkdir(parents=True, exist_ok=True)
    with open(scratch / ".inspection.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return measure.measure_host(scratch_dir=scratch, mounts=spec_mounts(hardware_model),
                                    seconds=settings.DAM_CHECK_SECONDS, disk_bytes=settings.DAM_DISK_SCRATCH_BYTES)


def judge(*, hardware_model: HardwareModel, report: dict) -> list[verdict.Check]:
    checks = verdict.inventory_checks(
        spec_cores=hardware_model.cpu_logical_cores, spec_memory_bytes=hardware_model.memory_bytes,
        spec_disks=hardware_model.disks, inventory=report.get("inventory") or {},
    )
    baselines = [
        verdict.BaselineSpec(metric=b.metric, expected=b.expected, unit=b.unit, tolerance_pct=b.tolerance_pct,
                             higher_is_better=b.higher_is_better)
        for b in Baseline.objects.filter(hardware_model=hardware_model)
    ]
    checks += verdict.performance_checks(baselines=baselines, measurements=report.get("measurements") or {},
                                         model_name=hardware_model.name)
    return checks


def inspection_record(*, inspection: Inspection, report: dict | None, runner: str, error: str = "") -> None:
    """Store the report and the judged checks, and set the verdict. An error is a verdict too."""
    inspection.finished_at = timezone.now()
    inspection.runner = inspection.runner or runner
    if error or report is None:
        inspection.verdict = Verdict.ERROR
        inspection.summary = f"The checks could not run: {error or 'no report'}"
        inspection.raw = report or {}
        inspection.save()
        return
    checks = judge(hardware_model=inspection.asset.hardware_model, report=report)
    InspectionCheck.objects.bulk_create(
        InspectionCheck(inspection=inspection, name=c.name, measured=c.measured, expected=c.expected,
                        limit=c.limit, unit=c.unit, passed=c.passed, detail=c.detail[:500])
        for c in checks
    )
    inspection.raw = report
    inspection.verdict = Verdict.PASSED if all(c.passed for c in checks) else Verdict.FAILED
    inspection.summary = verdict.summarize(checks)
    inspection.save()


def failing_component(inspection: Inspection) -> str:
    """The component a failed inspection points at, for the fault it raises: cpu, memory or disk."""
    for check in inspection.checks.filter(passed=False):
        for component in ("cpu", "memory", "disk"):
            if component in check.name:
                return component
    return "other"


# Tolerances for a baseline seeded from a reference run: shared and virtual machines are noisy, and the first
# version judges with a wide band; learned baselines with measured detection power replace these.
SEED_TOLERANCE_PCT = {
    "cpu.sha256_mb_per_s": 30.0,
    "memory.copy_mb_per_s": 35.0,
    "disk.seq_write_mb_per_s": 60.0,
    # fsync takes a fraction of a millisecond on a healthy disk and swings wildly under load; a dying disk
    # takes tens of milliseconds, so only a twenty-fold slowdown fails.
    "disk.fsync_p50_ms": 2000.0,
}
UNITS = {"cpu.sha256_mb_per_s": "MB/s", "memory.copy_mb_per_s": "MB/s", "disk.seq_write_mb_per_s": "MB/s",
         "disk.fsync_p50_ms": "ms"}


def baseline_seed_from_here(*, hardware_model: HardwareModel, runs: int = 3) -> list[Baseline]:
    """Seed a hardware model's baselines from reference runs on this machine: the median of `runs` runs."""
    reports = [measure_here(hardware_model) for _ in range(runs)]
    seeded = []
    for metric, tolerance in SEED_TOLERANCE_PCT.items():
        values = sorted(r["measurements"][metric] for r in reports)
        baseline, _ = Baseline.objects.update_or_create(
            hardware_model=hardware_model, metric=metric,
            defaults={"expected": values[len(values) // 2], "unit": UNITS[metric], "tolerance_pct": tolerance,
                      "higher_is_better": not metric.endswith("_ms"),
                      "source": f"reference run on {reports[0]['inventory']['hostname']} (median of {runs})"},
        )
        seeded.append(baseline)
    return seeded
