"""Writes for inspections and baselines: request an inspection, claim it, record and judge what the host measured;
seed, learn, pin and hand-set a hardware model's baseline versions.

These never touch an asset's state; the lifecycle (lifecycle/) acts on the verdict.
"""
from __future__ import annotations

import fcntl
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from assets.models import Asset, HardwareModel
from inspection import measure, verdict
from inspection.choices import BaselineKind, Profile, Purpose, Verdict
from inspection.models import Baseline, BaselineVersion, Inspection, InspectionCheck


# Inspections -------------------------------------------------------------------------------------------------
def inspection_request(*, asset: Asset, purpose: str, ticket_id: int | None = None,
                       profile: str | None = None) -> Inspection:
    """A delivery inspection measures the full profile; the others the quick one, unless the caller says."""
    profile = profile or (Profile.FULL if purpose == Purpose.DELIVERY else Profile.QUICK)
    return Inspection.objects.create(asset=asset, purpose=purpose, ticket_id=ticket_id, profile=profile)


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


def profile_seconds(profile: str) -> float:
    """Each curve's time budget in a profile (seven curves: CPU, memory, four disk curves, fsync)."""
    return settings.DAM_FULL_CHECK_SECONDS if profile == Profile.FULL else settings.DAM_CHECK_SECONDS


def disturbance_limits() -> dict:
    """The disturbance a curve may be measured under (DAM_DISTURBANCE_LIMITS, else the measurer's defaults)."""
    limits = settings.DAM_DISTURBANCE_LIMITS
    return dict(measure.DISTURBANCE_LIMITS if limits is None else limits)


def _one_at_a_time(scratch: Path):
    """One measurement at a time per machine: two inspections measured at once would each see half the CPU. On a
    real fleet every host measures itself, so this lock only matters where one machine stands in for many."""
    scratch.mkdir(parents=True, exist_ok=True)
    lock = open(scratch / ".inspection.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


def measure_here(hardware_model: HardwareModel, profile: str = Profile.QUICK) -> dict:
    """Run the checks on this machine (the worker standing in for the host)."""
    scratch = Path(settings.DAM_SCRATCH_DIR)
    with _one_at_a_time(scratch):
        report = measure.measure_host(scratch_dir=scratch, mounts=spec_mounts(hardware_model),
                                      seconds=profile_seconds(profile), disk_bytes=settings.DAM_DISK_SCRATCH_BYTES,
                                      profile=profile, limits=disturbance_limits(),
                                      retries=settings.DAM_DISTURBANCE_RETRIES)
    report["can_confirm"] = True
    return report


def measure_again_here(inspection: Inspection) -> list[dict]:
    """The confirmation runs the server asked for (inspection.raw["confirm"]), measured on this machine."""
    ask = (inspection.raw or {}).get("confirm") or {}
    scratch = Path(settings.DAM_SCRATCH_DIR)
    with _one_at_a_time(scratch):
        return measure.measure_again(scratch_dir=scratch, groups=ask.get("groups", []), repeats=ask.get("repeats", 0),
                                     seconds=profile_seconds(inspection.profile),
                                     disk_bytes=settings.DAM_DISK_SCRATCH_BYTES, limits=disturbance_limits(),
                                     retries=settings.DAM_DISTURBANCE_RETRIES)


def judge(*, hardware_model: HardwareModel, report: dict, version: BaselineVersion | None = None,
          facts_only: bool = False) -> list[verdict.Check]:
    """Inventory against the spec, performance against the baseline `version` (default: the model's current one);
    `facts_only` (the facts profile measures no curve): inventory, SMART, temperatures, memory errors only."""
    version = version or baseline_current(hardware_model)
    checks = verdict.inventory_checks(
        spec_cores=hardware_model.cpu_logical_cores, spec_memory_bytes=hardware_model.memory_bytes,
        spec_disks=hardware_model.disks, inventory=report.get("inventory") or {},
        reference=version.inventory if version else None,
    )
    if facts_only:
        return checks
    checks += verdict.performance_checks(baselines=[b.spec() for b in baseline_points(hardware_model, version)],
                                         measurements=report.get("measurements") or {},
                                         model_name=hardware_model.name, tolerances=settings.DAM_TOLERANCES)
    return checks


# Verdicts you can trust: facts fail at once; a performance fail is confirmed first, and a curve that could not be
# measured clean makes the verdict `inconclusive` rather than `failed`.
#
# Confirm before failing, where it runs: the server asks for it. A report whose performance checks fail (and whose
# facts pass, and whose failing curves were measured clean) is not finished: the inspection stays `running`, its
# raw["confirm"] names the failing groups and how many repeats, and the runner — the host agent (it reads `confirm`
# in the report's answer) or the worker (lifecycle/tasks.py run_inspection) — measures those curves again and sends
# the repeats (inspection_confirm). The alternative, sending the baseline to the measurer so it re-measures on its
# own, would have the host judge itself; the server stays the only judge, the measurer stays a measurer, and an
# older agent that cannot confirm (its report has no `can_confirm`) is judged on its one run, as before.
def _disturbance_note(report: dict) -> str:
    if report.get("disturbance") is None and (report.get("measurements") or {}):
        return " Disturbance not measured (the agent does not report it)."
    return ""


def _store_checks(inspection: Inspection, checks) -> None:
    inspection.checks.all().delete()  # a confirmed inspection replaces its first run's checks
    InspectionCheck.objects.bulk_create(
        InspectionCheck(inspection=inspection, name=c.name, measured=c.measured, expected=c.expected,
                        limit=c.limit, unit=c.unit, passed=c.passed, detail=c.detail[:500], band_low=c.band_low,
                        band_high=c.band_high, deviation_pct=c.deviation_pct, sigmas=c.sigmas,
                        points=list(c.points), skipped=c.skipped)
        for c in checks
    )


def _failing_groups(checks) -> list[str]:
    return sorted({verdict.group_of(c.name) for c in checks if not c.passed and not verdict.is_fact(c)})


def _inconclusive_summary(disturbed: dict[str, str], checks, model, version, *, confirming: str = "") -> str:
    failing = verdict.summarize(checks).removeprefix("Failed: ").rstrip(".")
    return (f"Inconclusive: the machine was disturbed while measured — {'; '.join(disturbed.values())}. "
            f"{confirming}What failed under that disturbance: {failing}. Not a pass nor a fail: it is measured again "
            f"later. {_judged_against(model, version, checks)}")


def inspection_record(*, inspection: Inspection, report: dict | None, runner: str, error: str = "") -> None:
    """Store the report and the judged checks, and set the verdict — or, for a performance fail, ask for its
    confirmation (the inspection stays running; see above). An error is a verdict too. A clean pass feeds the
    model's baseline (a failure never does)."""
    inspection.runner = inspection.runner or runner
    if error or report is None:
        inspection.finished_at = timezone.now()
        inspection.verdict = Verdict.ERROR
        inspection.summary = f"The checks could not run: {error or 'no report'}"
        inspection.raw = report or {}
        inspection.save()
        return
    model = inspection.asset.hardware_model
    version = baseline_current(model)
    checks = judge(hardware_model=model, report=report, version=version,
                   facts_only=inspection.profile == Profile.FACTS)
    _store_checks(inspection, checks)
    inspection.raw = {key: value for key, value in report.items() if key != "can_confirm"}
    inspection.baseline_version = version
    note = _disturbance_note(report)
    failing = _failing_groups(checks)
    facts_failed = any(not c.passed for c in checks if verdict.is_fact(c))
    disturbed = {g: words for g, words in verdict.disturbed_groups(report.get("disturbance"),
                                                                   disturbance_limits()).items() if g in failing}
    if failing and not facts_failed and disturbed:
        _finish(inspection, Verdict.INCONCLUSIVE, _inconclusive_summary(disturbed, checks, model, version) + note)
    elif failing and not facts_failed and report.get("can_confirm") and settings.DAM_CONFIRM_REPEATS > 0:
        inspection.raw["confirm"] = {"groups": failing, "repeats": settings.DAM_CONFIRM_REPEATS}
        inspection.verdict = Verdict.RUNNING
        inspection.summary = (f"The first run failed ({verdict.summarize(checks).removeprefix('Failed: ')}); "
                              f"measuring {', '.join(verdict.GROUP_WORDS.get(g, g) for g in failing)} again "
                              f"{settings.DAM_CONFIRM_REPEATS} times before judging.")
        inspection.save()  # still running: the runner sends the repeats (inspection_confirm)
    else:
        passed = all(c.passed for c in checks)
        unconfirmed = " Not confirmed: the agent cannot measure again." if failing and not facts_failed else ""
        _finish(inspection, Verdict.PASSED if passed else Verdict.FAILED,
                f"{verdict.summarize(checks)} "
                f"{_judged_against(model, version, checks, inspection.profile == Profile.FACTS)}"
                f"{unconfirmed}{note}")
    if inspection.verdict == Verdict.PASSED:
        baseline_learn(hardware_model=model)


def inspection_confirm(*, inspection: Inspection, runs: list[dict]) -> None:
    """The confirmation runs of a failing inspection arrived: judge the failing curves on all the runs — each point's
    median over the first run and the repeats — and set the verdict. A repeat measured under disturbance beyond the
    limits, on a curve that still fails, makes it inconclusive."""
    model = inspection.asset.hardware_model
    version = inspection.baseline_version
    first = inspection.raw or {}
    groups = (first.get("confirm") or {}).get("groups") or []
    repeats = [run.get("measurements") or {} for run in runs]
    merged = verdict.combined(first.get("measurements") or {}, repeats, groups)
    checks = judge(hardware_model=model, report={**first, "measurements": merged}, version=version)
    _store_checks(inspection, checks)
    inspection.raw = {**first, "confirmations": runs}
    still = _failing_groups(checks)
    disturbed = {}
    for run in runs:
        for group, words in verdict.disturbed_groups(run.get("disturbance"), disturbance_limits()).items():
            if group in still:
                disturbed.setdefault(group, words)
    how = (f"The first run failed on {', '.join(verdict.GROUP_WORDS.get(g, g) for g in groups)}; "
           f"measured {len(runs) + 1} times (the first run and {len(runs)} confirming), judged on each point's "
           f"median. ")
    if not still:
        _finish(inspection, Verdict.PASSED,
                f"{verdict.summarize(checks)} {how.replace('; measured', ', not confirmed: measured')}"
                f"{_judged_against(model, version, checks)}")
        baseline_learn(hardware_model=model)
    elif disturbed:
        _finish(inspection, Verdict.INCONCLUSIVE, _inconclusive_summary(disturbed, checks, model, version,
                                                                          confirming=how))
    else:
        _finish(inspection, Verdict.FAILED, f"{verdict.summarize(checks)} Confirmed: {how[0].lower()}{how[1:]}"
                                             f"{_judged_against(model, version, checks)}")


def _finish(inspection: Inspection, verdict_value: str, summary: str) -> None:
    inspection.finished_at = timezone.now()
    inspection.verdict = verdict_value
    inspection.summary = summary
    inspection.save()


def awaiting_confirmation(inspection: Inspection) -> dict | None:
    """What a running inspection waits for: {"groups": […], "repeats": n}, or None."""
    if inspection.verdict != Verdict.RUNNING:
        return None
    return (inspection.raw or {}).get("confirm")


def _judged_against(model: HardwareModel, version: BaselineVersion | None, checks, facts_only: bool = False) -> str:
    if not any(c.points for c in checks):
        if facts_only:
            return "Facts only (inventory, SMART, temperatures, memory errors): no benchmark was run."
        return f"No performance baseline for {model.name} yet: inventory only."
    if version is None:
        return f"Judged against {model.name}'s unversioned baseline."
    return f"Judged against {model.name} baseline v{version.number} ({version.get_kind_display().lower()})."


COMPONENT_OF = {"smart": "disk", "inventory.block_devices": "disk", "inventory.temperatures": "thermal",
                "edac": "memory"}


def failing_component(inspection: Inspection) -> str:
    """The component a failed inspection points at, for the fault it raises: cpu, memory, disk or thermal."""
    for check in inspection.checks.filter(passed=False):
        if check.name in COMPONENT_OF:
            return COMPONENT_OF[check.name]
        for component in ("cpu", "memory", "disk"):
            if component in check.name:
                return component
    return "other"


# Baselines: which version judges -----------------------------------------------------------------------------
def baseline_current(hardware_model: HardwareModel) -> BaselineVersion | None:
    """The version staff pinned, else the newest; None while the model has none."""
    versions = BaselineVersion.objects.filter(hardware_model=hardware_model)
    return versions.filter(pinned=True).first() or versions.order_by("-number").first()


def baseline_points(hardware_model: HardwareModel, version: BaselineVersion | None) -> list[Baseline]:
    if version is not None:
        return list(version.points.all())
    return list(Baseline.objects.filter(hardware_model=hardware_model, version__isnull=True))


def detectable_by_curve(points: list[Baseline]) -> dict[str, float | None]:
    """{curve: its detectable_pct (inspection/verdict.py)}, in the points' order."""
    by_curve: dict[str, list] = {}
    for point in points:
        by_curve.setdefault(verdict.curve_of(point.metric), []).append(point.spec())
    return {curve: verdict.curve_detectable_pct(specs, verdict.tolerance_for(curve, settings.DAM_TOLERANCES))
            for curve, specs in by_curve.items()}


def _unit_and_direction(metric: str) -> tuple[str, bool]:
    """Latencies are in ms and lower is better; everything else DAM measures is a throughput in MB/s."""
    return ("ms", False) if verdict.curve_of(metric).endswith("_ms") else ("MB/s", True)


def _new_version(*, hardware_model: HardwareModel, kind: str, source: str, actor: str, points: list[Baseline],
                 inventory: dict, samples: int = 0, learned_up_to: int | None = None) -> BaselineVersion:
    """A new version numbered after the newest, with its points. The caller holds the hardware model's row lock."""
    newest = BaselineVersion.objects.filter(hardware_model=hardware_model).aggregate(n=Max("number"))["n"] or 0
    version = BaselineVersion.objects.create(
        hardware_model=hardware_model, number=newest + 1, kind=kind, source=source[:500], created_by=actor,
        inventory=inventory, samples=samples, learned_up_to=learned_up_to)
    for point in points:
        point.pk, point.hardware_model, point.version = None, hardware_model, version
    Baseline.objects.bulk_create(points)
    return version


def _lock(hardware_model: HardwareModel) -> HardwareModel:
    """Versions of one model are numbered one at a time."""
    return HardwareModel.objects.select_for_update().get(pk=hardware_model.pk)


def _reference_inventory(reports: list[dict]) -> dict:
    """What the reference machine showed that the spec does not name: physical cores and whole disks."""
    inventory = reports[0].get("inventory") or {}
    return {key: inventory[key] for key in ("cpu_physical_cores", "block_devices") if inventory.get(key) is not None}


# Seed tolerances of a reference run: a few runs on one machine say little about the spread of a whole fleet, so
# the first version judges with a wide band until a learned one, with measured detection power, replaces it.
SEED_TOLERANCE_PCT = {"cpu.": 40.0, "memory.": 50.0, "disk.seq_": 60.0, "disk.rand_": 60.0,
                      "disk.fsync_p50": 2000.0, "disk.fsync_p99": 5000.0, "disk.tail_p99": 5000.0,
                      "disk.tail_max": 20000.0}


def _seed_pct(metric: str) -> float:
    metric = verdict.tolerance_name(metric)
    matches = [p for p in SEED_TOLERANCE_PCT if metric.startswith(p)]
    return SEED_TOLERANCE_PCT[max(matches, key=len)] if matches else 60.0


def baseline_seed(*, hardware_model: HardwareModel, reports: list[dict], actor: str,
                  source: str) -> BaselineVersion:
    """A reference version from reports of known-good runs: each point's median, with a wide seed band."""
    points = []
    for metric in reports[0]["measurements"]:
        values = [r["measurements"][metric] for r in reports if isinstance(r["measurements"].get(metric), float)]
        if not values:
            continue
        unit, better = _unit_and_direction(metric)
        centre, spread = verdict.robust_centre_and_spread(values)
        points.append(Baseline(metric=metric, expected=centre, unit=unit, higher_is_better=better,
                               tolerance_pct=_seed_pct(metric), spread=spread or None, samples=len(values),
                               source=source[:200]))
    with transaction.atomic():
        model = _lock(hardware_model)
        return _new_version(hardware_model=model, kind=BaselineKind.REFERENCE, source=source, actor=actor,
                            points=points, inventory=_reference_inventory(reports), samples=0)


def baseline_seed_from_here(*, hardware_model: HardwareModel, runs: int = 3) -> BaselineVersion:
    """Seed a hardware model's baseline from reference runs on this machine: the median of `runs` runs."""
    reports = [measure_here(hardware_model) for _ in range(runs)]
    host = reports[0]["inventory"]["hostname"]
    return baseline_seed(hardware_model=hardware_model, reports=reports, actor="reference run",
                         source=f"reference run on {host} (median of {runs})")


# Baselines: learned from passing inspections -------------------------------------------------------------------
def baseline_learn(*, hardware_model: HardwareModel, actor: str = "job:learn_baseline") -> BaselineVersion | None:
    """Learn a new version from the model's newest passing inspections (DAM_BASELINE_WINDOW of them), once there
    are DAM_BASELINE_MIN_SAMPLES and DAM_BASELINE_RELEARN_EVERY have passed since the last learned version.

    Each point: median ± max(sigmas × robust sigma, min_pct), per its tolerance (inspection/verdict.py). Points
    staff set by hand are kept as they are. Failed inspections never get here. Returns the new version, or None.
    """
    try:
        with transaction.atomic():
            model = _lock(hardware_model)
            return _learn(model, actor)
    except IntegrityError:  # a concurrent learner numbered its version first (SQLite has no row locks): fine
        return None


def _learn(model: HardwareModel, actor: str) -> BaselineVersion | None:
    last = (BaselineVersion.objects.filter(hardware_model=model, kind=BaselineKind.LEARNED)
            .order_by("-number").first())
    passing = (Inspection.objects.filter(asset__hardware_model=model, verdict=Verdict.PASSED)
               .order_by("-id").values_list("id", "raw")[:settings.DAM_BASELINE_WINDOW])
    # Only runs measured clean teach the baseline what a healthy machine measures: a pass under disturbance (its
    # numbers lower, still in the band) would widen the band with the neighbours' noise.
    limits = disturbance_limits()
    samples = [(pk, raw.get("measurements") or {}) for pk, raw in passing
               if (raw or {}).get("measurements") and not verdict.disturbed_groups(raw.get("disturbance"), limits)]
    fresh = sum(1 for pk, _ in samples if last is None or pk > (last.learned_up_to or 0))
    if len(samples) < settings.DAM_BASELINE_MIN_SAMPLES or (last and fresh < settings.DAM_BASELINE_RELEARN_EVERY):
        return None

    current = baseline_current(model)
    kept = {b.metric: b for b in baseline_points(model, current) if b.hand_set}
    values: dict[str, list[float]] = {}
    for _, measurements in samples:
        for metric, value in measurements.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                values.setdefault(metric, []).append(float(value))
    points = list(kept.values())
    specs = []
    for metric, series in sorted(values.items()):
        if metric in kept or len(series) < settings.DAM_BASELINE_MIN_SAMPLES:
            continue
        unit, better = _unit_and_direction(metric)
        specs.append(verdict.learn_band(metric, series, unit=unit, higher_is_better=better,
                                        tolerance=verdict.tolerance_for(metric, settings.DAM_TOLERANCES)))
    # each curve's own run-to-run noise, from the same passes: what its whole-curve rule is set from
    for spec in verdict.with_curve_spreads(specs, [measurements for _, measurements in samples]):
        points.append(Baseline(metric=spec.metric, expected=spec.expected, unit=spec.unit,
                               higher_is_better=spec.higher_is_better, tolerance_pct=spec.tolerance_pct,
                               low=spec.low, high=spec.high, spread=spec.spread, samples=spec.samples,
                               curve_spread_pct=spec.curve_spread_pct,
                               source=f"learned from {spec.samples} passing inspections"))
    if not points:
        return None
    ids = [pk for pk, _ in samples]
    inventory = current.inventory if current and current.inventory else _learned_inventory(model, ids)
    return _new_version(hardware_model=model, kind=BaselineKind.LEARNED, actor=actor, points=points,
                        inventory=inventory, samples=len(samples), learned_up_to=max(ids),
                        source=f"learned from {len(samples)} passing inspections (#{min(ids)} … #{max(ids)})")


def _learned_inventory(model: HardwareModel, inspection_ids: list[int]) -> dict:
    """The physical core count most passing inspections reported (the spec does not name it)."""
    cores = Counter()
    for raw in Inspection.objects.filter(pk__in=inspection_ids).values_list("raw", flat=True):
        physical = (raw.get("inventory") or {}).get("cpu_physical_cores")
        if physical:
            cores[physical] += 1
    return {"cpu_physical_cores": cores.most_common(1)[0][0]} if cores else {}


# Baselines: what staff decide ------------------------------------------------------------------------------------
class BaselineConflict(Exception):
    """Staff asked for something the baselines cannot do (API: 400)."""


def baseline_pin(*, version: BaselineVersion, actor: str) -> BaselineVersion:
    """Judge the model against this version from now on, whatever is learned later."""
    with transaction.atomic():
        _lock(version.hardware_model)
        BaselineVersion.objects.filter(hardware_model=version.hardware_model, pinned=True).exclude(
            pk=version.pk).update(pinned=False, pinned_by="")
        version.pinned, version.pinned_by = True, actor
        version.save(update_fields=["pinned", "pinned_by"])
    return version


def baseline_unpin(*, hardware_model: HardwareModel, actor: str) -> BaselineVersion | None:
    """Back to judging against the newest version. Returns the version that was pinned, if any."""
    with transaction.atomic():
        _lock(hardware_model)
        pinned = BaselineVersion.objects.filter(hardware_model=hardware_model, pinned=True).first()
        if pinned:
            pinned.pinned, pinned.pinned_by = False, ""
            pinned.save(update_fields=["pinned", "pinned_by"])
    return pinned


def baseline_set_band(*, hardware_model: HardwareModel, metric: str, low: float | None, high: float | None,
                      actor: str, reason: str, expected: float | None = None) -> BaselineVersion:
    """Staff set the band of one point (or of a whole curve) by hand: a new version, the current one's points
    with this one changed. Learning keeps a hand-set band until staff give it back (baseline_release_band)."""
    if low is None and high is None:
        raise BaselineConflict("Give the band's low edge, its high edge, or both.")
    if low is not None and high is not None and low >= high:
        raise BaselineConflict(f"The band's low edge ({low:g}) must be below its high edge ({high:g}).")
    with transaction.atomic():
        model = _lock(hardware_model)
        current = baseline_current(model)
        points = {b.metric: b for b in baseline_points(model, current)}
        old = points.get(metric) or points.get(verdict.curve_of(metric))
        unit, better = (old.unit, old.higher_is_better) if old else _unit_and_direction(metric)
        centre = expected
        if centre is None and old and (low is None or low <= old.expected) and (high is None or old.expected <= high):
            centre = old.expected  # the band moved, its centre still inside it
        elif centre is None and low is not None and high is not None:
            centre = (low + high) / 2
        if not centre or centre <= 0:
            raise BaselineConflict("Give the expected value too: the band is one-sided and the current centre is "
                                   "outside it.")
        edge = low if better else high
        if edge is None:
            raise BaselineConflict(f"{metric}: {'higher' if better else 'lower'} is better, so its band needs "
                                   f"{'a low' if better else 'a high'} edge (the limit).")
        half = abs(centre - edge)
        points[metric] = Baseline(
            metric=metric, expected=centre, unit=unit, higher_is_better=better,
            tolerance_pct=half / centre * 100, low=low if low is not None else max(0.0, centre - half),
            high=high if high is not None else centre + half, spread=old.spread if old else None,
            curve_spread_pct=old.curve_spread_pct if old else None, samples=old.samples if old else 0, hand_set=True, source=f"set by {actor}: {reason}"[:200])
        return _new_version(hardware_model=model, kind=BaselineKind.STAFF, actor=actor, points=list(points.values()),
                            inventory=current.inventory if current else {},
                            source=f"{metric} band set by {actor}: {reason}")


def baseline_release_band(*, hardware_model: HardwareModel, metric: str, actor: str,
                          reason: str) -> BaselineVersion:
    """Give a hand-set band back to learning: the next learned version computes it again."""
    with transaction.atomic():
        model = _lock(hardware_model)
        current = baseline_current(model)
        points = {b.metric: b for b in baseline_points(model, current)}
        if metric not in points or not points[metric].hand_set:
            raise BaselineConflict(f"{metric} has no hand-set band in {model.name}'s current baseline.")
        points[metric].hand_set = False
        return _new_version(hardware_model=model, kind=BaselineKind.STAFF, actor=actor, points=list(points.values()),
                            inventory=current.inventory if current else {},
                            source=f"{metric} band given back to learning by {actor}: {reason}")
