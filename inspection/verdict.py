"""Judging a host's measurements against its hardware model: the spec for inventory, the baselines for speed.

Pure functions over plain data, so the rules are easy to read and test. Each check keeps the numbers that decided it.
"""
from __future__ import annotations

from dataclasses import dataclass

# Inventory may differ this much from the spec: kernels reserve a little memory, filesystems round sizes.
INVENTORY_TOLERANCE_PCT = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    measured: float | None
    expected: float | None
    limit: float | None
    unit: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class BaselineSpec:
    metric: str
    expected: float
    unit: str
    tolerance_pct: float
    higher_is_better: bool

    @property
    def limit(self) -> float:
        factor = 1 - self.tolerance_pct / 100 if self.higher_is_better else 1 + self.tolerance_pct / 100
        return self.expected * factor


def _pct_off(measured: float, expected: float) -> float:
    return (measured - expected) / expected * 100 if expected else 0.0


def inventory_checks(*, spec_cores: int, spec_memory_bytes: int, spec_disks: list[dict], inventory: dict) -> list[Check]:
    checks = []
    cores = inventory.get("cpu_logical_cores")
    checks.append(Check(
        name="inventory.cpu_logical_cores", measured=cores, expected=spec_cores, limit=spec_cores, unit="cores",
        passed=cores == spec_cores,
        detail=f"{cores} logical cores, spec {spec_cores}",
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
    return checks


def performance_checks(*, baselines: list[BaselineSpec], measurements: dict, model_name: str) -> list[Check]:
    checks = []
    for b in baselines:
        value = measurements.get(b.metric)
        if value is None:
            checks.append(Check(name=b.metric, measured=None, expected=b.expected, limit=b.limit, unit=b.unit,
                                passed=False, detail=f"{b.metric} was not measured"))
            continue
        passed = value >= b.limit if b.higher_is_better else value <= b.limit
        off = _pct_off(value, b.expected)
        word = ("below" if off < 0 else "above")
        checks.append(Check(
            name=b.metric, measured=value, expected=b.expected, limit=b.limit, unit=b.unit, passed=passed,
            detail=(f"{b.metric} {value:.1f} {b.unit}, {abs(off):.0f}% {word} the {model_name} baseline "
                    f"{b.expected:.1f} (limit {b.limit:.1f})"),
        ))
    return checks


def summarize(checks: list[Check]) -> str:
    failed = [c for c in checks if not c.passed]
    if not failed:
        return f"All {len(checks)} checks passed."
    return "Failed: " + "; ".join(c.detail for c in failed) + "."
