"""Detection power: how often the verdict catches a degraded machine, and how often it fails a healthy one.

A simulated fleet of one hardware model is built from real runs of the checks (manage.py measure_detection takes
them on this machine): in each trial, `train` runs stand for the passing inspections a baseline is learned from,
and one more run, not among them, is the machine under test. It is judged as measured (a false fail if it fails),
then with a degradation injected — one curve point, or a whole curve, made 5, 10, 15 or 25 % worse — and counted
as detected when the degraded check fails. Learning and judging are inspection/verdict.py's, exactly as the
server runs them.
"""
from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field

from inspection import verdict

MAGNITUDES = (5, 10, 15, 25)
MODES = ("one point", "whole curve")


def _unit_and_direction(metric: str) -> tuple[str, bool]:
    return ("ms", False) if verdict.curve_of(metric).endswith("_ms") else ("MB/s", True)


def worsen(metric: str, value: float, pct: float) -> float:
    """`pct` % slower: less throughput, or more latency."""
    _, better = _unit_and_direction(metric)
    return value * (1 - pct / 100) if better else value * (1 + pct / 100)


@dataclass
class Tally:
    trials: int = 0
    hits: int = 0

    def add(self, hit: bool) -> None:
        self.trials += 1
        self.hits += bool(hit)

    @property
    def rate(self) -> float:
        return 100.0 * self.hits / self.trials if self.trials else float("nan")


@dataclass
class Result:
    runs: int
    train: int
    trials: int
    checks: list[str]
    noise_pct: dict[str, float]  # per check: median over its points of the robust CV of all runs
    false_fail: Tally = field(default_factory=Tally)
    false_fail_by_check: dict[str, Tally] = field(default_factory=dict)
    # (mode, magnitude) → tally, overall and per check
    detected: dict[tuple[str, int], Tally] = field(default_factory=dict)
    detected_by_check: dict[tuple[str, str, int], Tally] = field(default_factory=dict)

    def detection_at(self, magnitude: int) -> float:
        tallies = [self.detected[(mode, magnitude)] for mode in MODES]
        trials = sum(t.trials for t in tallies)
        return 100.0 * sum(t.hits for t in tallies) / trials if trials else float("nan")


def common_points(runs: list[dict]) -> list[str]:
    """The points every run measured (numbers only)."""
    keys = set.intersection(*(set(k for k, v in r.items() if isinstance(v, (int, float)) and not isinstance(v, bool))
                              for r in runs))
    return sorted(keys)


def learn(runs: list[dict], keys: list[str], tolerances: dict | None) -> list[verdict.BaselineSpec]:
    specs = []
    for key in keys:
        unit, better = _unit_and_direction(key)
        specs.append(verdict.learn_band(key, [r[key] for r in runs], unit=unit, higher_is_better=better,
                                        tolerance=verdict.tolerance_for(key, tolerances)))
    return specs


def simulate(runs: list[dict], *, train: int, trials: int, tolerances: dict | None = None, seed: int = 1,
             model_name: str = "simulated") -> Result:
    if len(runs) < train + 1:
        raise ValueError(f"{len(runs)} runs: need at least train + 1 = {train + 1}")
    rng = random.Random(seed)
    keys = common_points(runs)
    curves = sorted({verdict.curve_of(k) for k in keys})
    by_curve = {c: [k for k in keys if verdict.curve_of(k) == c] for c in curves}
    noise = {}
    for curve in curves:
        cvs = []
        for key in by_curve[curve]:
            centre, spread = verdict.robust_centre_and_spread([r[key] for r in runs])
            cvs.append(100 * spread / centre if centre else 0.0)
        noise[curve] = statistics.median(cvs)
    result = Result(runs=len(runs), train=train, trials=trials, checks=curves, noise_pct=noise)
    for curve in curves:
        result.false_fail_by_check[curve] = Tally()
    for mode in MODES:
        for magnitude in MAGNITUDES:
            result.detected[(mode, magnitude)] = Tally()
            for curve in curves:
                result.detected_by_check[(mode, curve, magnitude)] = Tally()

    for _ in range(trials):
        picked = rng.sample(range(len(runs)), train + 1)
        specs = learn([runs[i] for i in picked[:-1]], keys, tolerances)
        spec_of = {s.metric: s for s in specs}
        healthy = runs[picked[-1]]
        checks = verdict.performance_checks(baselines=specs, measurements=healthy, model_name=model_name,
                                            tolerances=tolerances)
        result.false_fail.add(not all(c.passed for c in checks))
        for check in checks:
            result.false_fail_by_check[check.name].add(not check.passed)

        for mode in MODES:
            curve = rng.choice(curves)
            victims = [rng.choice(by_curve[curve])] if mode == "one point" else by_curve[curve]
            for magnitude in MAGNITUDES:
                measured = {k: healthy[k] for k in by_curve[curve]}
                for key in victims:
                    measured[key] = worsen(key, measured[key], magnitude)
                [check] = verdict.performance_checks(baselines=[spec_of[k] for k in by_curve[curve]],
                                                     measurements=measured, model_name=model_name,
                                                     tolerances=tolerances)
                result.detected[(mode, magnitude)].add(not check.passed)
                result.detected_by_check[(mode, curve, magnitude)].add(not check.passed)
    return result


def table(result: Result) -> list[str]:
    """The detection-power table, as printed by the command and pasted into the README."""
    head = ("| check | noise (robust CV) | false fails | " + " | ".join(
        f"{'1 point' if mode == 'one point' else 'curve'} −{m}%" for mode in MODES for m in MAGNITUDES) + " |")
    lines = [head, "|" + "---|" * (3 + len(MODES) * len(MAGNITUDES))]

    def pct(tally: Tally) -> str:
        return "—" if not tally.trials else f"{tally.rate:.1f}%"

    for curve in result.checks:
        cells = [pct(result.detected_by_check[(mode, curve, m)]) for mode in MODES for m in MAGNITUDES]
        lines.append(f"| {curve} | {result.noise_pct[curve]:.1f}% | {pct(result.false_fail_by_check[curve])} | "
                     + " | ".join(cells) + " |")
    cells = [pct(result.detected[(mode, m)]) for mode in MODES for m in MAGNITUDES]
    lines.append(f"| **whole inspection** | | **{pct(result.false_fail)}** | " + " | ".join(cells) + " |")
    return lines
