"""Detection power: how often the verdict catches a degraded machine, and how often it fails a healthy one.

A simulated fleet of one hardware model is built from real runs of the checks (manage.py measure_detection takes
them on this machine): in each trial, `train` runs stand for the passing inspections a baseline is learned from,
and one more run, not among them, is the machine under test. It is judged as measured (a false fail if it fails),
then with a degradation injected — one curve point, or a whole curve, made 5, 10, 15 or 25 % worse — and counted
as detected when the degraded check fails. Learning and judging are inspection/verdict.py's, exactly as the
server runs them.

The server's whole verdict is simulated too: a fail is confirmed on DAM_CONFIRM_REPEATS more runs, the ones measured
right after the first as the server's repeats are (each point's median over them and the first, the degradation in
all of them) before it counts, and a failing curve measured under disturbance beyond the limits is `inconclusive`,
not failed (runs taken with their disturbance figures; runs without count as clean). Beside the simulated rates, each curve's `detectable_pct` predicted from its
learned noise.
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
    # the whole verdict: confirmed on repeats, inconclusive when a failing curve was disturbed
    verdict_failed: Tally = field(default_factory=Tally)
    verdict_inconclusive: Tally = field(default_factory=Tally)
    confirmed_detected: dict[int, Tally] = field(default_factory=dict)  # whole curve, by magnitude
    predicted_pct: dict[str, float | None] = field(default_factory=dict)  # per check: median over trials
    disturbed_runs: int = 0
    false_fail_by_family: dict[str, Tally] = field(default_factory=dict)  # cpu, memory, disk: any of its curves
    # the whole verdict per family (judged on that family's curves alone): healthy machines failed, and a 15 %
    # whole-curve loss of one of its curves failed (confirmed on the repeats, as the server fails a machine)
    verdict_failed_by_family: dict[str, Tally] = field(default_factory=dict)
    confirmed_15_by_family: dict[str, Tally] = field(default_factory=dict)

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
    return verdict.with_curve_spreads(specs, runs)


def _split(run: dict) -> tuple[dict, dict | None]:
    """A run as measure_detection saves it ({measurements, disturbance}) or as older ones did (the measurements)."""
    if isinstance(run.get("measurements"), dict):
        return run["measurements"], run.get("disturbance")
    return run, None


# The server's default (settings.DAM_CONFIRM_REPEATS); measure_detection passes the setting itself.
CONFIRM_REPEATS = 4


def measured_in_a_row(rng: random.Random, runs: int, count: int) -> list[int]:
    """A machine's first run and its confirming repeats: `count` runs measured one after the other (the runs are in
    the order they were measured). The server asks for the repeats at once, so they share the first run's moment:
    a neighbour busy for a minute slows them all, which repeats drawn at random from the whole sample would hide."""
    start = rng.randrange(runs - count + 1)
    return list(range(start, start + count))


def _whole_verdict(first: dict, repeats: list[dict], disturbances: list, specs, *, limits: dict,
                   tolerances, model_name: str) -> str:
    """"passed", "failed" or "inconclusive", as inspection/services.py decides it: a failing curve measured under
    disturbance → inconclusive; else confirmed on the repeats (each point's median)."""
    checks = verdict.performance_checks(baselines=specs, measurements=first, model_name=model_name,
                                        tolerances=tolerances)
    failing = sorted({verdict.group_of(c.name) for c in checks if not c.passed})
    if not failing:
        return "passed"
    if set(verdict.disturbed_groups(disturbances[0], limits)) & set(failing):
        return "inconclusive"
    merged = verdict.combined(first, repeats, failing)
    checks = verdict.performance_checks(baselines=specs, measurements=merged, model_name=model_name,
                                        tolerances=tolerances)
    still = {verdict.group_of(c.name) for c in checks if not c.passed}
    if not still:
        return "passed"
    if any(set(verdict.disturbed_groups(d, limits)) & still for d in disturbances[1:]):
        return "inconclusive"
    return "failed"


def simulate(runs: list[dict], *, train: int, trials: int, tolerances: dict | None = None, seed: int = 1,
             model_name: str = "simulated", limits: dict | None = None,
             confirm_repeats: int = CONFIRM_REPEATS) -> Result:
    if len(runs) < train + 1 + confirm_repeats:
        raise ValueError(f"{len(runs)} runs: need at least train + 1 + {confirm_repeats} confirming = "
                         f"{train + 1 + confirm_repeats}")
    split = [_split(r) for r in runs]
    runs = [m for m, _ in split]
    disturbance = [d for _, d in split]
    limits = limits or {}
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
    result.disturbed_runs = sum(1 for d in disturbance if verdict.disturbed_groups(d, limits))
    predicted: dict[str, list[float]] = {c: [] for c in curves}
    for magnitude in MAGNITUDES:
        result.confirmed_detected[magnitude] = Tally()
    for curve in curves:
        result.false_fail_by_check[curve] = Tally()
    for mode in MODES:
        for magnitude in MAGNITUDES:
            result.detected[(mode, magnitude)] = Tally()
            for curve in curves:
                result.detected_by_check[(mode, curve, magnitude)] = Tally()

    for _ in range(trials):
        tested = measured_in_a_row(rng, len(runs), 1 + confirm_repeats)
        trained = rng.sample([i for i in range(len(runs)) if i not in tested], train)
        specs = learn([runs[i] for i in trained], keys, tolerances)
        spec_of = {s.metric: s for s in specs}
        healthy = runs[tested[0]]
        checks = verdict.performance_checks(baselines=specs, measurements=healthy, model_name=model_name,
                                            tolerances=tolerances)
        result.false_fail.add(not all(c.passed for c in checks))
        for check in checks:
            result.false_fail_by_check[check.name].add(not check.passed)
        for family in {family_of(c) for c in curves}:
            result.false_fail_by_family.setdefault(family, Tally()).add(
                any(not c.passed for c in checks if family_of(c.name) == family))
        for curve in curves:
            found = verdict.curve_detectable_pct([spec_of[k] for k in by_curve[curve]],
                                                 verdict.tolerance_for(curve, tolerances))
            if found is not None:
                predicted[curve].append(found)
        judged = _whole_verdict(healthy, [runs[i] for i in tested[1:]], [disturbance[i] for i in tested], specs,
                                limits=limits, tolerances=tolerances, model_name=model_name)
        result.verdict_failed.add(judged == "failed")
        result.verdict_inconclusive.add(judged == "inconclusive")
        for family in {family_of(c) for c in curves}:
            alone = _whole_verdict(healthy, [runs[i] for i in tested[1:]], [disturbance[i] for i in tested],
                                   [s for s in specs if family_of(s.metric) == family], limits=limits,
                                   tolerances=tolerances, model_name=model_name)
            result.verdict_failed_by_family.setdefault(family, Tally()).add(alone == "failed")
        # a whole curve degraded on the machine: in its first run and in every confirming repeat
        curve = rng.choice(curves)
        for magnitude in MAGNITUDES:
            degraded = []
            for i in tested:
                measured = dict(runs[i])
                for key in by_curve[curve]:
                    measured[key] = worsen(key, measured[key], magnitude)
                degraded.append(measured)
            judged = _whole_verdict(degraded[0], degraded[1:], [disturbance[i] for i in tested], specs,
                                    limits=limits, tolerances=tolerances, model_name=model_name)
            result.confirmed_detected[magnitude].add(judged != "passed")
            if magnitude == 15:
                result.confirmed_15_by_family.setdefault(family_of(curve), Tally()).add(judged == "failed")

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
    result.predicted_pct = {c: statistics.median(v) if v else None for c, v in predicted.items()}
    return result


def table(result: Result) -> list[str]:
    """The detection-power table, as printed by the command and pasted into the README."""
    head = ("| check | noise (robust CV) | false fails | " + " | ".join(
        f"{'1 point' if mode == 'one point' else 'curve'} −{m}%" for mode in MODES for m in MAGNITUDES)
        + " | detectable (predicted) | caught ≥ 99 % from (simulated) |")
    lines = [head, "|" + "---|" * (5 + len(MODES) * len(MAGNITUDES))]

    def pct(tally: Tally) -> str:
        return "—" if not tally.trials else f"{tally.rate:.1f}%"

    for curve in result.checks:
        cells = [pct(result.detected_by_check[(mode, curve, m)]) for mode in MODES for m in MAGNITUDES]
        predicted = result.predicted_pct.get(curve)
        caught = [m for m in MAGNITUDES if result.detected_by_check[("whole curve", curve, m)].trials
                  and result.detected_by_check[("whole curve", curve, m)].rate >= 99]
        lines.append(f"| {curve} | {result.noise_pct[curve]:.1f}% | {pct(result.false_fail_by_check[curve])} | "
                     + " | ".join(cells)
                     + f" | {'—' if predicted is None else f'{predicted:.1f}%'} | {f'{caught[0]}%' if caught else '—'} |")
    cells = [pct(result.detected[(mode, m)]) for mode in MODES for m in MAGNITUDES]
    lines.append(f"| **whole inspection** | | **{pct(result.false_fail)}** | " + " | ".join(cells) + " | | |")
    return lines


def verdict_lines(result: Result) -> list[str]:
    """The server's whole verdict on the simulated fleet: confirmed before failing, inconclusive when disturbed."""
    def pct(tally: Tally) -> str:
        return "—" if not tally.trials else f"{tally.rate:.1f}%"
    caught = ", ".join(f"{m}%: {pct(result.confirmed_detected[m])}" for m in MAGNITUDES)
    return [f"runs disturbed beyond the limits: {result.disturbed_runs} of {result.runs}",
            f"whole verdict, healthy machines: failed {pct(result.verdict_failed)}, inconclusive "
            f"{pct(result.verdict_inconclusive)} (first run alone: failed {pct(result.false_fail)})",
            f"whole verdict, a whole curve degraded (not passed): {caught}"]


@dataclass
class UnderLoad:
    """Healthy machines measured under background load, judged against baselines learned from quiet runs (as a
    fleet's baselines are: from its passes) — the server's whole verdict, and each family's first-run fails."""
    runs: int
    trials: int
    disturbed_runs: int
    passed: Tally = field(default_factory=Tally)
    inconclusive: Tally = field(default_factory=Tally)
    failed: Tally = field(default_factory=Tally)
    first_run_failed: Tally = field(default_factory=Tally)
    failed_by_family: dict[str, Tally] = field(default_factory=dict)  # the whole verdict's fails, by family


def family_of(curve: str) -> str:
    """cpu, memory or disk: the check families the goals are set for."""
    return curve.split(".", 1)[0]


def judge_under_load(quiet: list[dict], loaded: list[dict], *, train: int, trials: int,
                     tolerances: dict | None = None, seed: int = 1, model_name: str = "simulated",
                     limits: dict | None = None, confirm_repeats: int = CONFIRM_REPEATS) -> UnderLoad:
    """Each trial: a baseline learned from `train` quiet runs, a healthy machine whose first run and confirming
    repeats are loaded runs, judged as the server judges (failed, inconclusive, passed)."""
    if len(quiet) < train or len(loaded) < 1 + confirm_repeats:
        raise ValueError(f"need {train} quiet runs and {1 + confirm_repeats} loaded ones")
    quiet = [_split(r)[0] for r in quiet]
    split = [_split(r) for r in loaded]
    runs, disturbance = [m for m, _ in split], [d for _, d in split]
    limits = limits or {}
    keys = sorted(set(common_points(quiet)) & set(common_points(runs)))
    rng = random.Random(seed)
    result = UnderLoad(runs=len(runs), trials=trials,
                       disturbed_runs=sum(1 for d in disturbance if verdict.disturbed_groups(d, limits)))
    for family in ("cpu", "memory", "disk"):
        result.failed_by_family[family] = Tally()
    for _ in range(trials):
        specs = learn(rng.sample(quiet, train), keys, tolerances)
        tested = measured_in_a_row(rng, len(runs), 1 + confirm_repeats)
        first = runs[tested[0]]
        checks = verdict.performance_checks(baselines=specs, measurements=first, model_name=model_name,
                                            tolerances=tolerances)
        result.first_run_failed.add(not all(c.passed for c in checks))
        judged = _whole_verdict(first, [runs[i] for i in tested[1:]], [disturbance[i] for i in tested], specs,
                                limits=limits, tolerances=tolerances, model_name=model_name)
        result.passed.add(judged == "passed")
        result.inconclusive.add(judged == "inconclusive")
        result.failed.add(judged == "failed")
        failing = {family_of(c.name) for c in checks if not c.passed}
        for family, tally in result.failed_by_family.items():
            tally.add(judged == "failed" and family in failing)
    return result


def family_lines(result: Result) -> list[str]:
    """The goals' figures per check family: false fails and detection of a 15 % whole-curve loss, for the first run
    alone and for the whole verdict (what fails a machine: a first-run fail confirmed on the repeats)."""
    lines = []
    for family in ("cpu", "memory", "disk"):
        curves = [c for c in result.checks if family_of(c) == family]
        if not curves:
            continue
        ff = result.false_fail_by_family[family]
        caught = Tally(sum(result.detected_by_check[("whole curve", c, 15)].trials for c in curves),
                       sum(result.detected_by_check[("whole curve", c, 15)].hits for c in curves))
        lines.append(f"family {family}: false fails (first run) {ff.rate:.1f}%, "
                     f"detection@15% (whole curve) {caught.rate:.1f}%")
        failed, confirmed = result.verdict_failed_by_family.get(family), result.confirmed_15_by_family.get(family)
        if failed and confirmed:
            lines.append(f"family {family}, whole verdict (confirmed on the repeats): false fails "
                         f"{failed.rate:.1f}%, detection@15% (whole curve) {confirmed.rate:.1f}% of {confirmed.trials}")
    return lines
