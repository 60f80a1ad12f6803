"""Judging a host's measurements against its hardware model: the spec for inventory, the baseline bands for speed.

Pure functions over plain data, so the rules are easy to read and test. Each check keeps the numbers that decided
it; a curve check keeps every point (measured, band, deviation in % and in robust sigmas, pass/fail), and a failed
inspection's summary names its worst points in the words hardware staff use.

How a band is learned (learn_band) and how wide it is (TOLERANCES) lives here too, so that the detection-power
command (manage.py measure_detection) judges its simulated fleet with exactly the rules the server uses.
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field, replace

# Inventory may differ this much from the spec: kernels reserve a little memory, filesystems round sizes.
INVENTORY_TOLERANCE_PCT = 2.0
# 1.4826 × MAD estimates the standard deviation of normally distributed samples, unmoved by outliers.
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class Check:
    name: str
    measured: float | None
    expected: float | None
    limit: float | None
    unit: str
    passed: bool
    detail: str
    band_low: float | None = None
    band_high: float | None = None
    deviation_pct: float | None = None
    sigmas: float | None = None
    points: tuple = ()  # a curve's points: dicts with key, x, label, measured, expected, low, high, limit, …
    skipped: bool = False
    # What the summary says about a failure, worst first: (how bad, plain words).
    findings: tuple = field(default=(), compare=False)


@dataclass(frozen=True)
class BaselineSpec:
    """What a healthy machine measures for one point (`disk.seq_write_mb_per_s[1MiB]`) or a whole curve
    (`disk.seq_write_mb_per_s`, applying to every point of it): its centre and the band healthy machines stay in.
    Without an explicit band, the band is the centre ± tolerance_pct."""

    metric: str
    expected: float
    unit: str
    tolerance_pct: float
    higher_is_better: bool
    low: float | None = None
    high: float | None = None
    spread: float | None = None  # robust sigma of the samples it was learned from
    samples: int = 0
    # How far the whole curve (its median point) moved from run to run in those samples: robust sigma in % of the
    # centre (curve_spread_pct). Less than a single point's when the points' noise is their own; None: not learned.
    curve_spread_pct: float | None = None

    @property
    def band(self) -> tuple[float, float]:
        low = self.low if self.low is not None else self.expected * (1 - self.tolerance_pct / 100)
        high = self.high if self.high is not None else self.expected * (1 + self.tolerance_pct / 100)
        return max(0.0, low), high

    @property
    def limit(self) -> float:
        """The worst value that still passes: the band's edge on the bad side."""
        low, high = self.band
        return low if self.higher_is_better else high


@dataclass(frozen=True)
class Tolerance:
    """How wide a learned band is, and when a whole curve fails.

    sigmas:    a learned band is the median ± this many robust sigmas of the passing runs …
    min_pct:   … but never narrower than this % of the median (a band from very steady samples would otherwise
               fail machines for differences no workload notices);
    curve_pct: a curve fails as a whole when its median point is this % worse than the baseline, even if no single
               point left its band (a uniformly slower disk); None: no whole-curve rule.
    """

    sigmas: float
    min_pct: float
    curve_pct: float | None = None


# Defaults justified by the detection-power figures in the README ("Detection power, measured"): CPU throughput is
# steady (robust CV about 2 %), so 4 sigmas and 8 % catch a 15 % loss every time without failing healthy runs;
# memory bandwidth past the last-level cache moves with the neighbours' traffic (±15 % here), which 7 sigmas absorb.
TOLERANCES = {
    "cpu.": Tolerance(sigmas=4, min_pct=8, curve_pct=6),
    "memory.": Tolerance(sigmas=7, min_pct=10, curve_pct=8),
    "disk.seq_": Tolerance(sigmas=5, min_pct=12, curve_pct=8),
    "disk.rand_": Tolerance(sigmas=5, min_pct=12, curve_pct=8),
    "disk.fsync_p50": Tolerance(sigmas=6, min_pct=100),
    "disk.fsync_p99": Tolerance(sigmas=6, min_pct=400),
    # A disk point's tail (its I/Os' p99 and max latency): a stall-prone disk stalls for many times its usual
    # latency, while a healthy one's tail wanders by a few times on a shared host; so only a many-fold tail fails.
    "disk.tail_p99": Tolerance(sigmas=6, min_pct=400),
    "disk.tail_max": Tolerance(sigmas=8, min_pct=1500),
}
FALLBACK_TOLERANCE = Tolerance(sigmas=5, min_pct=15)
# The whole-curve rule (whole_curve_threshold): only for points learned from this many passing runs, and never
# tighter than this many robust sigmas of the curve's run-to-run noise: WHOLE_CURVE_SIGMAS of the whole curve's own
# (curve_spread_pct), or, for a baseline learned before that was recorded, POINT_NOISE_SIGMAS of its points' typical
# noise (which also holds each point's own noise, so it overstates the curve's). A healthy run beyond the rule is
# measured again before it fails (confirm before failing), so the rule can sit closer to the noise than a single
# run's verdict could: README, "Detection power".
WHOLE_CURVE_MIN_SAMPLES = 5
WHOLE_CURVE_SIGMAS = 3.0
POINT_NOISE_SIGMAS = 4.0
# A learned band covers the worst value of its healthy samples × WORST_SEEN_MARGIN, but grows to no more than
# TAIL_COVER_LIMIT × its sigma band (learn_band). Chosen by measure_detection on this machine (README, "Detection
# power"): 1.25 left the memory curve's first runs failing 1.8 % of healthy machines, 1.5 took that to 0.6 % and kept
# 15 % memory losses caught every time.
WORST_SEEN_MARGIN = 1.5
TAIL_COVER_LIMIT = 2.0


_TAIL = re.compile(r"^disk\.(seq|rand)_(read|write)_(p99|max)_ms")


def tolerance_name(metric: str) -> str:
    """The name a point's tolerance is looked up by: the point itself, except that a disk point's tail
    (`disk.seq_write_p99_ms[4KiB]`) is `disk.tail_p99` (or `disk.tail_max`), whatever its pattern."""
    match = _TAIL.match(metric)
    return f"disk.tail_{match[3]}" if match else metric


def tolerance_for(metric: str, overrides: dict | None = None) -> Tolerance:
    """The tolerance of a point or curve: the longest matching prefix, from `overrides` (DAM_TOLERANCES) first."""
    # An override wins over every default, even a longer default prefix: setting "disk." widens every disk curve.
    metric = tolerance_name(metric)
    for table in ({k: v if isinstance(v, Tolerance) else Tolerance(**v) for k, v in (overrides or {}).items()},
                  TOLERANCES):
        matches = [prefix for prefix in table if metric.startswith(prefix)]
        if matches:
            return table[max(matches, key=len)]
    return FALLBACK_TOLERANCE


# Learning a band -------------------------------------------------------------------------------------------
def robust_centre_and_spread(values: list[float]) -> tuple[float, float]:
    """Median and robust sigma (1.4826 × median absolute deviation)."""
    centre = statistics.median(values)
    return centre, MAD_TO_SIGMA * statistics.median(abs(v - centre) for v in values)


def learn_band(metric: str, values: list[float], *, unit: str, higher_is_better: bool,
               tolerance: Tolerance) -> BaselineSpec:
    """A point's baseline from the values healthy machines of the model measured: median ± max(sigmas × robust
    sigma, min_pct of the median)."""
    centre, spread = robust_centre_and_spread(values)
    half = max(tolerance.sigmas * spread, tolerance.min_pct / 100 * centre)
    # Some points have heavy tails that a robust sigma does not see: a working set near a cache's size copies 20-30 %
    # slower in the runs whose pages happen to collide in the cache, a disk's slowest I/O is a stall or not. A value
    # healthy machines of the model were seen to measure is not a fault: the band covers the worst of them, with a
    # margin, up to TAIL_COVER_LIMIT times the sigma band (so bands learned from passes cannot keep growing).
    worst = max((centre - v) if higher_is_better else (v - centre) for v in values)
    half = max(half, min(WORST_SEEN_MARGIN * worst, TAIL_COVER_LIMIT * half))
    return BaselineSpec(metric=metric, expected=centre, unit=unit, higher_is_better=higher_is_better,
                        tolerance_pct=half / centre * 100 if centre else 0.0, low=max(0.0, centre - half),
                        high=centre + half, spread=spread, samples=len(values))


def with_curve_spreads(specs: list[BaselineSpec], runs: list[dict]) -> list[BaselineSpec]:
    """The learned points, each with its curve's curve_spread_pct learned from the same runs."""
    by_curve: dict[str, list[BaselineSpec]] = {}
    for spec in specs:
        by_curve.setdefault(curve_of(spec.metric), []).append(spec)
    spreads = {curve: curve_spread_pct(group, runs) for curve, group in by_curve.items()}
    return [replace(spec, curve_spread_pct=spreads[curve_of(spec.metric)]) for spec in specs]


def curve_spread_pct(specs: list[BaselineSpec], runs: list[dict]) -> float | None:
    """How far a whole curve moves from run to run: the robust sigma, in % of the centre, of each run's median
    point deviation from the learned centres (the statistic the whole-curve rule judges). The runs that measured
    every point of the curve count; None with fewer than WHOLE_CURVE_MIN_SAMPLES of them."""
    if not specs or any(not s.expected for s in specs):
        return None
    wholes = []
    for run in runs:
        values = [run.get(s.metric) for s in specs]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            wholes.append(statistics.median(100 * (v - s.expected) / s.expected for v, s in zip(values, specs)))
    if len(wholes) < WHOLE_CURVE_MIN_SAMPLES:
        return None
    return robust_centre_and_spread(wholes)[1]


# Names of points, in words ---------------------------------------------------------------------------------
def curve_of(key: str) -> str:
    """`disk.seq_write_mb_per_s[1MiB]` → `disk.seq_write_mb_per_s`; a key without a bracket is its own curve."""
    return key.split("[", 1)[0]


def x_label(key: str) -> str:
    return key[key.index("[") + 1:-1] if "[" in key and key.endswith("]") else ""


_SIZE = re.compile(r"^(\d+)(B|KiB|MiB|GiB)$")
_FACTOR = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}


def x_value(key: str) -> float | None:
    """The point's x as a number (threads, or bytes of working set or block), for drawing the curve."""
    label = x_label(key)
    if match := _SIZE.match(label):
        return int(match[1]) * _FACTOR[match[2]]
    return float(label) if label.replace(".", "", 1).isdigit() else None


def _spaced(label: str) -> str:
    """"64KiB" → "64 KiB"."""
    match = _SIZE.match(label)
    return f"{match[1]} {match[2]}" if match else label


CURVE_WORDS = {
    "cpu.sha256_mb_per_s": "CPU SHA-256 throughput",
    "memory.copy_mb_per_s": "memory copy bandwidth",
    "disk.seq_write_mb_per_s": "disk sequential write",
    "disk.seq_read_mb_per_s": "disk sequential read",
    "disk.rand_write_mb_per_s": "disk random write",
    "disk.rand_read_mb_per_s": "disk random read",
    "disk.fsync_p50_ms": "disk fsync latency (median)",
    "disk.fsync_p99_ms": "disk fsync latency (p99)",
    **{f"disk.{kind}_{io}_{tail}_ms": f"disk {'sequential' if kind == 'seq' else 'random'} {io} latency ({tail})"
       for kind in ("seq", "rand") for io in ("read", "write") for tail in ("p99", "max")},
}


def words(key: str) -> str:
    """A point or curve in plain words: "disk 1 MiB sequential write", "CPU SHA-256 throughput with 2 threads"."""
    curve, label = curve_of(key), x_label(key)
    name = CURVE_WORDS.get(curve, curve)
    if not label:
        return name
    if curve.startswith("cpu."):
        return f"{name} with {label} thread{'' if label == '1' else 's'}"
    if curve.startswith("memory."):
        return f"{name} at a {_spaced(label)} working set"
    if curve.startswith("disk.") and name.startswith("disk "):
        return f"disk {_spaced(label)} {name[len('disk '):]}"
    return f"{name} [{label}]"


def _num(value: float) -> str:
    """Numbers as staff read them: 1,380 MB/s; 0.25 ms."""
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.1f}"
    return f"{value:.3g}"


# Inventory -------------------------------------------------------------------------------------------------
def _pct_off(measured: float, expected: float) -> float:
    return (measured - expected) / expected * 100 if expected else 0.0


def inventory_checks(*, spec_cores: int, spec_memory_bytes: int, spec_disks: list[dict], inventory: dict,
                     reference: dict | None = None) -> list[Check]:
    """The inventory against the hardware model's spec, and against what the model's baseline reference run saw
    (`reference`: physical cores and whole disks, which the spec does not name)."""
    checks = []
    cores = inventory.get("cpu_logical_cores")
    checks.append(Check(
        name="inventory.cpu_logical_cores", measured=cores, expected=spec_cores, limit=spec_cores, unit="cores",
        passed=cores == spec_cores,
        detail=f"{cores} logical cores, spec {spec_cores}",
    ))
    reference = reference or {}
    if reference.get("cpu_physical_cores") and "cpu_physical_cores" in inventory:
        physical, expected = inventory.get("cpu_physical_cores"), reference["cpu_physical_cores"]
        checks.append(Check(
            name="inventory.cpu_physical_cores", measured=physical, expected=expected, limit=expected,
            unit="cores", passed=physical == expected,
            detail=f"{physical} physical cores, the model's reference machine has {expected}",
        ))

    memory = inventory.get("memory_total_bytes") or 0
    off = _pct_off(memory, spec_memory_bytes)
    gib = 1024 ** 3
    checks.append(Check(
        name="inventory.memory_total_bytes", measured=memory, expected=spec_memory_bytes,
        limit=spec_memory_bytes * (1 - INVENTORY_TOLERANCE_PCT / 100), unit="bytes",
        passed=abs(off) <= INVENTORY_TOLERANCE_PCT,
        detail=f"memory {memory / gib:.2f} GiB, spec {spec_memory_bytes / gib:.2f} GiB ({off:+.1f}%)",
    ))

    seen = {d.get("mount"): d.get("size_bytes") for d in inventory.get("disks", [])}
    for disk in spec_disks:
        mount, expected = disk["mount"], disk["size_bytes"]
        size = seen.get(mount)
        if size is None:
            checks.append(Check(name=f"inventory.disk[{mount}]", measured=None, expected=expected, limit=expected,
                                unit="bytes", passed=False, detail=f"disk {mount} missing"))
            continue
        off = _pct_off(size, expected)
        checks.append(Check(
            name=f"inventory.disk[{mount}]", measured=size, expected=expected,
            limit=expected * (1 - INVENTORY_TOLERANCE_PCT / 100), unit="bytes",
            passed=abs(off) <= INVENTORY_TOLERANCE_PCT,
            detail=f"disk {mount} {size / gib:.1f} GiB, spec {expected / gib:.1f} GiB ({off:+.1f}%)",
        ))

    if reference.get("block_devices") is not None and "block_devices" in inventory:
        checks.append(_block_device_check(inventory["block_devices"] or [], reference["block_devices"]))
    if inventory.get("temperatures"):
        checks.append(_temperature_check(inventory["temperatures"]))
    if "smart" in inventory:
        checks.append(_smart_check(inventory["smart"] or {}))
    if "edac" in inventory:
        checks.append(_edac_check(inventory["edac"] or {}))
    return checks


def _edac_check(edac: dict) -> Check:
    """Uncorrected memory errors counted by the kernel fail; corrected ones are shown (ECC did its job)."""
    if edac.get("status") != "measured":
        return Check(name="edac", measured=None, expected=None, limit=None, unit="", passed=True, skipped=True,
                     detail=f"memory error counters skipped: {edac.get('reason') or 'not reported'}")
    controllers = edac.get("controllers", [])
    uncorrected = sum(c.get("uncorrected", 0) for c in controllers)
    corrected = sum(c.get("corrected", 0) for c in controllers)
    return Check(name="edac", measured=uncorrected, expected=0, limit=0, unit="errors", passed=uncorrected == 0,
                 detail=(f"{uncorrected} uncorrected memory error{'s' if uncorrected != 1 else ''} counted by the kernel"
                         if uncorrected else f"no uncorrected memory errors ({corrected} corrected) on "
                                             f"{len(controllers)} memory controller{'s' if len(controllers) != 1 else ''}"))


def _block_device_check(devices: list[dict], expected: list[dict]) -> Check:
    """Whole disks: as many as the reference machine has, each of about the same size (names may differ)."""
    gib = 1024 ** 3
    have = sorted(d.get("size_bytes") or 0 for d in devices)
    want = sorted(d.get("size_bytes") or 0 for d in expected)
    sizes_match = len(have) == len(want) and all(
        abs(_pct_off(h, w)) <= INVENTORY_TOLERANCE_PCT for h, w in zip(have, want))
    shown = ", ".join(f"{d.get('name')} {(d.get('size_bytes') or 0) / gib:.0f} GiB" for d in devices) or "none"
    wanted = ", ".join(f"{w / gib:.0f} GiB" for w in want) or "none"
    return Check(name="inventory.block_devices", measured=len(have), expected=len(want), limit=len(want),
                 unit="disks", passed=sizes_match,
                 detail=f"disks {shown}; the model's reference machine has {len(want)}: {wanted}")


def _temperature_check(temperatures: list[dict]) -> Check:
    """Fails when a sensor is at or above the critical temperature the host itself reports for it."""
    hot = [t for t in temperatures if t.get("critical") and t["celsius"] >= t["critical"]]
    hottest = max(temperatures, key=lambda t: t["celsius"])
    limit = hottest.get("critical")
    if hot:
        detail = "; ".join(f"{t['sensor']} {t['celsius']:.0f} °C, at or above its critical {t['critical']:.0f} °C"
                           for t in hot)
    else:
        detail = (f"hottest sensor {hottest['sensor']} {hottest['celsius']:.0f} °C"
                  + (f" (critical {limit:.0f} °C)" if limit else ""))
    return Check(name="inventory.temperatures", measured=hottest["celsius"], expected=None, limit=limit,
                 unit="°C", passed=not hot, detail=detail)


def _smart_check(smart: dict) -> Check:
    if smart.get("status") != "measured":
        return Check(name="smart", measured=None, expected=None, limit=None, unit="", passed=True, skipped=True,
                     detail=f"SMART skipped: {smart.get('reason') or 'not reported'}")
    failing = [d["device"] for d in smart.get("devices", []) if not d.get("passed")]
    devices = smart.get("devices", [])
    return Check(name="smart", measured=len(devices) - len(failing), expected=len(devices), limit=len(devices),
                 unit="disks", passed=not failing,
                 detail=(f"SMART health FAILED on {', '.join(failing)}" if failing
                         else f"SMART health passed on {len(devices)} disk{'s' if len(devices) != 1 else ''}"))


# Performance against the baseline ---------------------------------------------------------------------------
def _judge_point(key: str, value: float | None, spec: BaselineSpec) -> dict:
    low, high = spec.band
    point = {"key": key, "x": x_value(key), "label": x_label(key) or key, "measured": value,
             "expected": spec.expected, "low": low, "high": high, "limit": spec.limit,
             "deviation_pct": None, "sigmas": None, "passed": False}
    if value is None:
        return point
    point["deviation_pct"] = _pct_off(value, spec.expected)
    if spec.spread:
        point["sigmas"] = (value - spec.expected) / spec.spread
    point["passed"] = value >= spec.limit if spec.higher_is_better else value <= spec.limit
    return point


def _worse_pct(point: dict, higher_is_better: bool) -> float:
    """How much worse than the baseline, in % (positive: worse)."""
    if point["deviation_pct"] is None:
        return float("inf")
    return -point["deviation_pct"] if higher_is_better else point["deviation_pct"]


def _point_finding(point: dict, spec: BaselineSpec, model_name: str) -> str:
    if point["measured"] is None:
        return f"{words(point['key'])} was not measured"
    off = point["deviation_pct"]
    sigmas = f", {point['sigmas']:+.1f}σ" if point["sigmas"] is not None else ""
    return (f"{words(point['key'])} {abs(off):.0f}% {'below' if off < 0 else 'above'} the {model_name} baseline "
            f"({_num(point['measured'])} {spec.unit}; baseline {_num(spec.expected)}, limit {_num(spec.limit)}"
            f"{sigmas})")


def whole_curve_threshold(specs: list[BaselineSpec], tolerance: Tolerance) -> float | None:
    """How much worse than its baseline a whole curve may be: tolerance.curve_pct, or more for a noisy curve.

    Only a learned baseline knows how much a healthy machine's curve moves as a whole from run to run (a busy
    hypervisor slows every point of a disk curve at once), so only learned points (WHOLE_CURVE_MIN_SAMPLES or more,
    with their spread) get the rule; a seeded or hand-set band is judged point by point. The threshold is at least
    WHOLE_CURVE_SIGMAS times the curve's own run-to-run noise (curve_noise_pct), so that noise alone rarely fails
    a healthy machine's first run, and its repeats almost never.
    """
    if tolerance.curve_pct is None or not specs:
        return None
    if any(s.spread is None or s.samples < WHOLE_CURVE_MIN_SAMPLES or not s.expected for s in specs):
        return None
    noise_pct, sigmas = curve_noise_pct(specs)
    return max(tolerance.curve_pct, sigmas * noise_pct)


def curve_noise_pct(specs: list[BaselineSpec]) -> tuple[float, float]:
    """The whole curve's run-to-run noise in % (its learned curve_spread_pct; for an older baseline, its points'
    median robust CV), and how many of those sigmas the whole-curve rule keeps from the centre."""
    learned = [s.curve_spread_pct for s in specs if s.curve_spread_pct is not None]
    if len(learned) == len(specs):
        return statistics.median(learned), WHOLE_CURVE_SIGMAS
    return statistics.median(100 * s.spread / s.expected for s in specs), POINT_NOISE_SIGMAS


def curve_check(curve: str, points: list[tuple[str, float | None, BaselineSpec]], *, model_name: str,
                tolerance: Tolerance) -> Check:
    """One check per curve: each point against its band, and (with three points or more) the whole curve's
    median against tolerance.curve_pct."""
    better = points[0][2].higher_is_better
    unit = points[0][2].unit
    judged = [(_judge_point(key, value, spec), spec) for key, value, spec in points]
    judged.sort(key=lambda ps: (ps[0]["x"] is None, ps[0]["x"] or 0, ps[0]["key"]))
    failing = [(p, s) for p, s in judged if not p["passed"]]
    worst, worst_spec = max(judged, key=lambda ps: _worse_pct(ps[0], better))
    findings = [(_worse_pct(p, better), _point_finding(p, s, model_name)) for p, s in failing]

    measured = [p for p, _ in judged if p["measured"] is not None]
    threshold = whole_curve_threshold([s for _, s in judged], tolerance)
    if threshold is not None and len(judged) >= 3 and len(measured) == len(judged):
        whole = statistics.median(_worse_pct(p, better) for p in measured)
        if whole >= threshold:
            findings.append((whole, f"{words(curve)} {whole:.0f}% {'below' if better else 'above'} the "
                                    f"{model_name} baseline across the whole curve (median of {len(judged)} "
                                    f"points; this curve fails as a whole from {threshold:.0f}%)"))
    findings.sort(key=lambda f: -f[0])
    passed = not findings
    name = words(curve)
    if len(judged) == 1:
        detail = findings[0][1] if findings else _point_finding(worst, worst_spec, model_name)
    elif passed:
        detail = (f"{name}: all {len(judged)} points within the {model_name} baseline band "
                  f"(closest to its limit: {worst['label']}, {worst['deviation_pct']:+.0f}%)")
    else:
        detail = (f"{name}: {len(failing)} of {len(judged)} points outside the {model_name} baseline band; "
                  f"worst: {findings[0][1]}")
    return Check(name=curve, measured=worst["measured"], expected=worst["expected"], limit=worst["limit"],
                 unit=unit, passed=passed, detail=detail, band_low=worst["low"], band_high=worst["high"],
                 deviation_pct=worst["deviation_pct"], sigmas=worst["sigmas"],
                 points=tuple(p for p, _ in judged), findings=tuple(findings))


def performance_checks(*, baselines: list[BaselineSpec], measurements: dict, model_name: str,
                       tolerances: dict | None = None) -> list[Check]:
    """One check per curve that has a baseline, in the baselines' order. A point is judged against its own
    baseline, or else against its curve's; a baseline point that was not measured fails."""
    by_metric = {b.metric: b for b in baselines}
    groups: dict[str, list] = {}
    covered = set()
    for key, value in measurements.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        spec = by_metric.get(key) or by_metric.get(curve_of(key))
        if spec is not None:
            groups.setdefault(curve_of(key), []).append((key, float(value), spec))
            covered.update({key, curve_of(key)})
    for spec in baselines:
        if spec.metric not in covered:
            groups.setdefault(curve_of(spec.metric), []).append((spec.metric, None, spec))
    order = list(dict.fromkeys(curve_of(b.metric) for b in baselines))
    return [curve_check(curve, groups[curve], model_name=model_name, tolerance=tolerance_for(curve, tolerances))
            for curve in order if curve in groups]


# The verdict in words -----------------------------------------------------------------------------------------
def summarize(checks: list[Check], *, worst: int = 3) -> str:
    """All passed, or the failures: inventory first (each is definite), then the worst performance points."""
    failed = [c for c in checks if not c.passed]
    if not failed:
        skipped = [c.detail for c in checks if c.skipped]
        return f"All {len(checks)} checks passed" + (f" ({'; '.join(skipped)})." if skipped else ".")
    plain = [c.detail for c in failed if not c.findings]
    findings = sorted((f for c in failed for f in c.findings), key=lambda f: -f[0])
    shown = [text for _, text in findings[:worst]]
    more = len(findings) - len(shown)
    tail = f"; and {more} more" if more > 0 else ""
    return "Failed: " + "; ".join(plain + shown) + tail + "."


# Disturbance: what else the machine did while a curve was measured ---------------------------------------------
_DISK_GROUP = re.compile(r"^disk\.(seq|rand)_(read|write)_")


def group_of(key: str) -> str:
    """The measured group a point or curve belongs to: `cpu`, `memory`, `disk.seq_write` (its throughput and its
    tails), … `disk.fsync`. The measurer meters disturbance, and measures again, by group."""
    if key.startswith("cpu."):
        return "cpu"
    if key.startswith("memory."):
        return "memory"
    if key.startswith("disk.fsync"):
        return "disk.fsync"
    match = _DISK_GROUP.match(key)
    return f"disk.{match[1]}_{match[2]}" if match else curve_of(key)


GROUP_WORDS = {"cpu": "the CPU curve", "memory": "the memory curve", "disk.fsync": "the fsync latency curve",
               **{f"disk.{k}_{io}": f"the disk {'sequential' if k == 'seq' else 'random'} {io} curve"
                  for k in ("seq", "rand") for io in ("read", "write")}}


def over_limits(figures: dict, limits: dict) -> list[str]:
    """The limits (DAM_DISTURBANCE_LIMITS' names) a group's disturbance figures went past."""
    over = []
    for name, limit in (limits or {}).items():
        value = figures.get(name)
        if not isinstance(value, (int, float)) or limit is None:
            continue
        if (value < limit) if name == "memory_available_min_pct" else (value > limit):
            over.append(name)
    return over


def disturbance_words(group: str, figures: dict, over: list[str]) -> str:
    """"other processes used 63% of the CPU during the memory curve (3 attempts)", in numbers."""
    said = {
        "others_cpu_pct": f"other processes used {figures.get('others_cpu_pct', 0):.0f}% of the CPU",
        "steal_pct": f"the hypervisor took {figures.get('steal_pct', 0):.0f}% of the CPU (steal)",
        "others_disk_pct": f"other processes moved {figures.get('others_disk_pct') or 0:.0f}% as many bytes on the "
                           f"disks ({figures.get('others_disk_mb_per_s', 0):.0f} MB/s)",
        "memory_available_min_pct": f"only {figures.get('memory_available_min_pct', 0):.0f}% of the memory was "
                                    f"available",
    }
    attempts = figures.get("attempts")
    tries = f" ({attempts} attempts)" if attempts and attempts > 1 else ""
    return f"{' and '.join(said.get(name, name) for name in over)} during {GROUP_WORDS.get(group, group)}{tries}"


def disturbed_groups(disturbance: dict | None, limits: dict) -> dict[str, str]:
    """{group: the disturbance in words} for every group measured beyond `limits` (the server's own: the host's
    verdict on its own disturbance is not trusted, its figures are)."""
    found = {}
    for group, figures in ((disturbance or {}).get("curves") or {}).items():
        over = over_limits(figures, limits)
        if over:
            found[group] = disturbance_words(group, figures, over)
    return found


def is_fact(check: Check) -> bool:
    """Inventory, SMART, temperatures, memory error counters: facts, which no disturbance explains away. A curve
    check (it has points) is a performance check."""
    return not check.points


# Confirm before failing ------------------------------------------------------------------------------------------
def combined(first: dict, repeats: list[dict], groups: list[str]) -> dict:
    """The measurements judged after a confirmation: each point of a confirmed group is its median over the first
    run and every repeat (a run that was noisy moves the median little; a degraded part is slow in all of them);
    the other points are the first run's."""
    merged = dict(first)
    for key, value in first.items():
        if group_of(key) not in groups or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        values = [value] + [r[key] for r in repeats if isinstance(r.get(key), (int, float))]
        merged[key] = statistics.median(values)
    return merged


# What a baseline can see -----------------------------------------------------------------------------------------
# z of a one-sided 99 % probability: a degradation is caught with ≥ 99 % probability when the band's edge is this many
# sigmas inside it; a band's edge this many sigmas out fails a healthy run at most 1 % of the time.
Z99 = 2.326


def detectable_pct(spec: BaselineSpec) -> float | None:
    """The smallest degradation of this point (in % of its centre) the verdict catches with ≥ 99 % probability, at
    ≤ 1 % false fails, in one run, from the noise the baseline learned (its robust sigma, normal noise assumed):
    the band's half-width — at least Z99 sigmas, else the band itself fails more than 1 % of healthy runs and is
    counted as if that wide — plus Z99 sigmas more. None without a learned spread."""
    if not spec.spread or not spec.expected:
        return None
    low, high = spec.band
    half_pct = 100 * ((spec.expected - low) if spec.higher_is_better else (high - spec.expected)) / spec.expected
    noise_pct = 100 * spec.spread / spec.expected
    return max(half_pct, Z99 * noise_pct) + Z99 * noise_pct


def curve_detectable_pct(specs: list[BaselineSpec], tolerance: Tolerance) -> float | None:
    """The smallest degradation of a whole curve caught with ≥ 99 % probability: its most sensitive point's (any
    failing point fails the curve), or the whole-curve rule's (threshold + Z99 sigmas of the whole curve's
    run-to-run noise), whichever is smaller."""
    points = [d for d in (detectable_pct(s) for s in specs) if d is not None]
    if not points:
        return None
    best = min(points)
    threshold = whole_curve_threshold(specs, tolerance)
    if threshold is not None and len(specs) >= 3:
        best = min(best, threshold + Z99 * curve_noise_pct(specs)[0])
    return best
