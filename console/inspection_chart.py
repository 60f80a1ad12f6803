"""What the inspection page draws: each judged number against its baseline, and the measured curves against the
baseline band.

Checks come in two shapes (inspection/verdict.py), and this reads both:
- one number per check (measured, expected, limit): an inventory check, or a curve of a single point; drawn as a
  bullet — the passing band, the baseline, the limit and the measured value, red when it failed;
- a curve per check (its `points`, each with the band it had to stay in): drawn as a line against the band, the
  failing points marked.
"""
from __future__ import annotations

from dataclasses import dataclass

GIB = 1024 ** 3


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


def curve(check) -> dict | None:
    """The check's curve with its band and failing points, for Chart.js; None if the check has no curve.

    A performance check carries its curve in `points`, one dict per point as the verification engine judged it
    (inspection/verdict.py: key, x, label, measured, expected, low, high, passed …); an inventory check has none."""
    points = [{"x": p["x"] if p.get("x") is not None else i, "y": p["measured"], "lo": p.get("low"),
               "hi": p.get("high"), "fail": not p.get("passed", False), "expected": p.get("expected"),
               "label": p.get("label")}
              for i, p in enumerate(getattr(check, "points", None) or []) if p.get("measured") is not None]
    if not points:
        return None
    return {"name": check.name, "label": label(check.name), "unit": check.unit, "passed": check.passed,
            "expected": check.expected, "limit": check.limit, "points": points}


def inspection_charts(inspection) -> dict:
    checks = list(inspection.checks.all())
    # A curve of one point is a single number: it is drawn as one, against its band. Inventory checks (the CPU
    # count, the memory, each filesystem's size) have no curve: each is its own bullet, however many there are.
    curves = [c for c in map(curve, checks) if c and len(c["points"]) > 1]
    curves.sort(key=lambda c: c["passed"])  # the failed ones first: that is what the technician came for
    drawn = {c["name"] for c in curves}
    return {
        # A check drawn as a curve is not drawn again as a single number.
        "bullets": [bullet(c) for c in checks if c.name not in drawn],
        "curves": curves,
        "failed": [c for c in checks if not c.passed],
    }
