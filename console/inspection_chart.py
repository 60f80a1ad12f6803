"""What the inspection page draws: each judged number against its baseline, and the measured curves against the
baseline band when the checks carry curves.

Checks come in two shapes, and this reads both:
- one number per check (measured, expected, limit): drawn as a bullet — the passing band, the baseline, the
  limit and the measured value, red when it failed;
- a curve per check (samples over time or load, each with the band it had to stay in): drawn as a line against
  the band, the failing points marked. The curve is looked for on the check (`curve`, `samples`, `series`,
  `points`, or inside `detail_json`/`data`) and in the inspection's raw report (`raw["curves"][check name]`); any
  list of numbers, or of objects with x/y (t, value, measured …) and lo/hi (low, high, band_low, band_high …) will do.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

GIB = 1024 ** 3
CURVE_ATTRS = ("curve", "samples", "series", "points")
X_KEYS = ("x", "t", "at", "time", "second", "seconds", "load", "step", "i", "index")
Y_KEYS = ("y", "value", "measured", "v", "mb_per_s", "ms")
LO_KEYS = ("lo", "low", "band_low", "lower", "min", "floor")
HI_KEYS = ("hi", "high", "band_high", "upper", "max", "ceiling")
EXPECTED_KEYS = ("expected", "baseline", "mid", "median")


# The words staff use for the checks DAM runs; any other check keeps its own name.
LABELS = {
    "inventory.cpu_logical_cores": "CPU logical cores",
    "inventory.memory_total_bytes": "Memory installed",
    "cpu.sha256_mb_per_s": "CPU throughput (SHA-256)",
    "memory.copy_mb_per_s": "Memory bandwidth (copy)",
    "disk.seq_write_mb_per_s": "Disk sequential write",
    "disk.fsync_p50_ms": "Disk fsync latency (median)",
}


def label(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    if name.startswith("inventory.disk[") and name.endswith("]"):
        return f"Filesystem {name[len('inventory.disk['):-1]} size"
    return name


@dataclass
class Bullet:
    name: str
    label: str
    unit: str
    passed: bool
    detail: str
    measured: float | None
    expected: float | None
    limit: float | None
    # Positions on the track, in % of its width.
    band_from: float = 0
    band_to: float = 0
    expected_at: float | None = None
    limit_at: float | None = None
    measured_at: float | None = None
    shown_unit: str = ""
    off_pct: float | None = None

    @property
    def band_width(self) -> float:
        return max(0.0, self.band_to - self.band_from)


def _scaled(value, unit):
    if value is None:
        return None, unit
    if unit == "bytes":
        return value / GIB, "GiB"
    return float(value), unit


def bullet(check) -> Bullet:
    """Where the passing band, the baseline, the limit and the measured value sit on one track.

    Throughput and latency are drawn from zero, so a machine at half speed looks half as long. Inventory is drawn
    around the spec (a missing DIMM is a few per cent), wide enough to show the tolerance and the measured value.
    """
    measured, unit = _scaled(check.measured, check.unit)
    expected, _ = _scaled(check.expected, check.unit)
    limit, _ = _scaled(check.limit, check.unit)
    b = Bullet(name=check.name, label=label(check.name), unit=check.unit, passed=check.passed, detail=check.detail,
               measured=measured, expected=expected, limit=limit, shown_unit=unit)
    values = [v for v in (measured, expected, limit) if v is not None]
    if not values:
        return b
    inventory = check.name.startswith("inventory.") and expected
    spread = abs(expected - limit) if expected is not None and limit is not None else 0
    if inventory:
        reach = max(spread * 4, abs(expected) * 0.04, abs((measured or expected) - expected) * 1.5)
        low, high = expected - reach, expected + reach
    else:
        low, high = 0.0, max(values) * 1.15 or 1.0

    def at(v):
        return None if v is None else max(0.0, min(100.0, (v - low) / (high - low) * 100))

    b.expected_at, b.limit_at, b.measured_at = at(expected), at(limit), at(measured)
    if expected is not None and limit is not None:
        if inventory:  # passes within ± the tolerance around the spec; an exact count gets a thin band
            half = spread or reach * 0.02
            b.band_from, b.band_to = at(expected - half), at(expected + half)
        elif limit <= expected:  # higher is better: from the limit up
            b.band_from, b.band_to = at(limit), 100.0
        else:  # lower is better (latency): from zero to the limit
            b.band_from, b.band_to = 0.0, at(limit)
    if measured is not None and expected:
        b.off_pct = (measured - expected) / expected * 100
    return b


def _pick(point: dict, keys):
    for key in keys:
        if key in point and isinstance(point[key], (int, float)):
            return point[key]
    return None


def _nth(value, i):
    """A band given once for the whole curve, or one value per point."""
    if isinstance(value, list):
        return value[i] if i < len(value) else None
    return value


def _normalise(raw, *, check) -> list[dict] | None:
    """[{x, y, lo, hi, fail}] from any of the shapes above, or None."""
    if isinstance(raw, dict):
        for key in ("points", "samples", "values", "series", "curve", "data"):
            if isinstance(raw.get(key), list):
                band = {k: raw.get(k) for k in (*LO_KEYS, *HI_KEYS) if isinstance(raw.get(k), (int, float, list))}
                points = _normalise(raw[key], check=check)
                if points and band:
                    lo = next((band[k] for k in LO_KEYS if k in band), None)
                    hi = next((band[k] for k in HI_KEYS if k in band), None)
                    for i, p in enumerate(points):
                        p["lo"] = p["lo"] if p["lo"] is not None else _nth(lo, i)
                        p["hi"] = p["hi"] if p["hi"] is not None else _nth(hi, i)
                return points
        return None
    if not isinstance(raw, list) or not raw:
        return None
    points = []
    for i, item in enumerate(raw):
        if isinstance(item, (int, float)):
            points.append({"x": i, "y": float(item), "lo": None, "hi": None, "fail": None, "label": None})
        elif isinstance(item, (list, tuple)) and len(item) >= 2:
            points.append({"x": item[0], "y": item[1], "lo": item[2] if len(item) > 2 else None,
                           "hi": item[3] if len(item) > 3 else None, "fail": None, "label": None})
        elif isinstance(item, dict):
            y = _pick(item, Y_KEYS)
            if y is None:
                continue
            x = _pick(item, X_KEYS)
            fail = item.get("fail", item.get("failed"))
            if fail is None and "passed" in item:
                fail = not item["passed"]
            label = item.get("label") or item.get("key")
            points.append({"x": i if x is None else x, "y": y, "lo": _pick(item, LO_KEYS),
                           "hi": _pick(item, HI_KEYS), "fail": fail, "expected": _pick(item, EXPECTED_KEYS),
                           "label": str(label) if label is not None else None})
    return points or None


def curve(check, raw_report: dict | None) -> dict | None:
    """The check's curve with its band and failing points, for Chart.js; None if the check has no curve."""
    found = None
    for attr in CURVE_ATTRS:
        value = getattr(check, attr, None)
        if value:
            found = value
            break
    if found is None:
        for attr in ("detail_json", "data"):
            value = getattr(check, attr, None)
            if isinstance(value, dict):
                found = next((value[a] for a in CURVE_ATTRS if value.get(a)), None)
                if found:
                    break
    if found is None and isinstance(raw_report, dict):
        curves = raw_report.get("curves")
        if isinstance(curves, dict):
            found = curves.get(check.name)
    points = _normalise(found, check=check) if found is not None else None
    if not points:
        return None
    higher_is_better = not (check.limit is not None and check.expected is not None and check.limit > check.expected)
    for p in points:
        # A point without its own band gets the check's: from the limit to the baseline's mirror image.
        if p["lo"] is None and p["hi"] is None and check.limit is not None and check.expected is not None:
            spread = abs(check.expected - check.limit)
            p["lo"], p["hi"] = check.expected - spread, check.expected + spread
        if p["fail"] is None:
            if higher_is_better and p["lo"] is not None:
                p["fail"] = p["y"] < p["lo"]
            elif not higher_is_better and p["hi"] is not None:
                p["fail"] = p["y"] > p["hi"]
            else:
                p["fail"] = False
    return {"name": check.name, "label": label(check.name), "unit": check.unit, "passed": check.passed,
            "expected": check.expected, "limit": check.limit, "points": points}


POINT_NAME = re.compile(r"^(?P<curve>[^\[]+)\[(?P<x>[^\]]+)\]$")


def _curves_from_point_checks(checks) -> list[dict]:
    """Checks stored one per point (`disk.seq_write_mb_per_s[4KiB]`, `…[1MiB]`) drawn as the curves they form."""
    groups: dict[str, list] = {}
    for check in checks:
        if match := POINT_NAME.match(check.name):
            groups.setdefault(match["curve"], []).append((match["x"], check))
    curves = []
    for name, members in groups.items():
        if len(members) < 2:
            continue
        points = []
        for x, check in members:
            lo = hi = None
            if check.expected is not None and check.limit is not None:
                spread = abs(check.expected - check.limit)
                lo, hi = check.expected - spread, check.expected + spread
            points.append({"x": len(points), "label": x, "y": check.measured, "lo": lo, "hi": hi,
                           "fail": not check.passed, "expected": check.expected})
        curves.append({"name": name, "label": label(name), "unit": members[0][1].unit, "passed": all(c.passed for _, c in members),
                       "expected": None, "limit": None, "points": points})
    return curves


def inspection_charts(inspection) -> dict:
    checks = list(inspection.checks.all())
    # A curve of one point is a single number: it is drawn as one, against its band.
    curves = [c for c in (curve(check, inspection.raw) for check in checks) if c and len(c["points"]) > 1]
    curves += _curves_from_point_checks(checks)
    curves.sort(key=lambda c: c["passed"])  # the failed ones first: that is what the technician came for
    drawn = {c["name"] for c in curves}
    return {
        # A check drawn as a curve is not drawn again as a single number.
        "bullets": [bullet(c) for c in checks if c.name not in drawn and not (
            POINT_NAME.match(c.name) and POINT_NAME.match(c.name)["curve"] in drawn)],
        "curves": curves,
        "failed": [c for c in checks if not c.passed],
    }
