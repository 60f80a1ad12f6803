"""inspection/verdict.py on curves: learned bands (median ± robust sigmas, never narrower than min_pct), one
check per curve with every point judged, the whole-curve rule, and failures named in plain words."""
import pytest

from inspection import detection, verdict
from inspection.verdict import BaselineSpec, Tolerance, learn_band, performance_checks, summarize, words

TOL = Tolerance(sigmas=4, min_pct=5, curve_pct=8)


# Learning a band --------------------------------------------------------------------------------------------
def test_a_learned_band_is_the_median_plus_minus_robust_sigmas():
    # given ten passing runs around 100 MB/s, one of them a wild outlier
    values = [96.0, 98.0, 99.0, 100.0, 100.0, 100.0, 101.0, 102.0, 104.0, 10.0]

    # when a band is learned from them
    spec = learn_band("disk.seq_write_mb_per_s[1MiB]", values, unit="MB/s", higher_is_better=True,
                      tolerance=Tolerance(sigmas=4, min_pct=1))

    # then the centre is the median and the spread the scaled MAD, both unmoved by the outlier
    assert spec.expected == 100.0
    assert spec.spread == pytest.approx(1.4826 * 1.5)
    # and the band, which covers the worst healthy value seen, grows for the outlier only to twice its sigma band
    sigma_band = 4 * 1.4826 * 1.5
    assert verdict.TAIL_COVER_LIMIT == 2
    assert (spec.low, spec.high) == pytest.approx((100 - 2 * sigma_band, 100 + 2 * sigma_band))
    assert spec.limit == spec.low and spec.samples == 10
    assert spec.tolerance_pct == pytest.approx(2 * sigma_band)


def test_a_learned_band_covers_the_worst_healthy_run_it_was_learned_from():
    # given twenty passing runs of a memory point near a cache's size: most copy at 100 GB/s, three of them 22-24 % slower
    # (their pages collided in the cache), which a robust sigma does not see
    values = [98.0, 100.0, 102.0] * 5 + [100.0, 100.0, 76.0, 78.0, 77.0]
    spec = learn_band("memory.copy_mb_per_s[256KiB]", values, unit="MB/s", higher_is_better=True,
                      tolerance=Tolerance(sigmas=7, min_pct=10))
    assert spec.spread == pytest.approx(2 * 1.4826)  # the sigma band alone, ±21 %, would fail the slow three

    # then the band reaches below the worst of them, with a margin: a healthy machine measuring that passes
    assert spec.low == pytest.approx(100 - verdict.WORST_SEEN_MARGIN * 24)
    [check] = performance_checks(baselines=[spec], measurements={"memory.copy_mb_per_s[256KiB]": 75.0},
                                 model_name="r650")
    assert check.passed
    # and a point twice as far below still fails
    [check] = performance_checks(baselines=[spec], measurements={"memory.copy_mb_per_s[256KiB]": 50.0},
                                 model_name="r650")
    assert not check.passed


def test_a_band_from_very_steady_samples_is_never_narrower_than_min_pct():
    spec = learn_band("cpu.sha256_mb_per_s[1]", [1000.0] * 9 + [1001.0], unit="MB/s", higher_is_better=True,
                      tolerance=Tolerance(sigmas=5, min_pct=10))
    assert spec.spread == 0.0
    assert (spec.low, spec.high, spec.tolerance_pct) == pytest.approx((900.0, 1100.0, 10.0))


def test_a_latency_band_fails_on_its_high_edge():
    spec = learn_band("disk.fsync_p50_ms", [0.2, 0.25, 0.3], unit="ms", higher_is_better=False,
                      tolerance=Tolerance(sigmas=3, min_pct=100))
    assert spec.limit == spec.high == pytest.approx(0.5)
    [check] = performance_checks(baselines=[spec], measurements={"disk.fsync_p50_ms": 0.6}, model_name="r650")
    assert not check.passed
    assert check.detail.startswith("disk fsync latency (median) 140% above the r650 baseline")


@pytest.mark.parametrize(("metric", "prefix"), [("cpu.sha256_mb_per_s[2]", "cpu."),
                                                ("disk.rand_read_mb_per_s[4KiB]", "disk.rand_"),
                                                ("disk.fsync_p99_ms", "disk.fsync_p99")])
def test_tolerances_are_per_check_and_can_be_overridden(metric, prefix):
    assert verdict.tolerance_for(metric) == verdict.TOLERANCES[prefix]
    assert verdict.tolerance_for(metric, {prefix: {"sigmas": 9, "min_pct": 1}}) == Tolerance(sigmas=9, min_pct=1)


# Curves -----------------------------------------------------------------------------------------------------
def curve(values: dict, *, expected=1000.0, spread=20.0, tol=TOL) -> tuple[list[BaselineSpec], dict]:
    """Baselines for disk.seq_write over five block sizes, all centred on `expected`, and measurements."""
    blocks = ["4KiB", "16KiB", "64KiB", "256KiB", "1MiB"]
    # five passing runs per point: enough for a learned band, and for the whole-curve rule
    runs = [expected - spread, expected - spread, expected, expected + spread, expected + spread]
    specs = [learn_band(f"disk.seq_write_mb_per_s[{b}]", runs, unit="MB/s", higher_is_better=True, tolerance=tol)
             for b in blocks]
    return specs, {f"disk.seq_write_mb_per_s[{b}]": values.get(b, expected) for b in blocks}


def test_one_check_per_curve_with_every_point_judged():
    # given a curve whose 1 MiB point is 41 % below its baseline
    specs, measured = curve({"1MiB": 590.0})

    # when it is judged
    [check] = performance_checks(baselines=specs, measurements=measured, model_name="demo-model",
                                 tolerances={"disk.seq_": TOL})

    # then the check fails on that point, which it names in plain words, with all five points kept in order
    assert check.name == "disk.seq_write_mb_per_s" and not check.passed
    assert [p["label"] for p in check.points] == ["4KiB", "16KiB", "64KiB", "256KiB", "1MiB"]
    assert [p["passed"] for p in check.points] == [True, True, True, True, False]
    worst = check.points[-1]
    assert worst["x"] == 1024 ** 2
    assert worst["deviation_pct"] == pytest.approx(-41.0)
    assert worst["sigmas"] == pytest.approx(-410 / (1.4826 * 20))
    assert (check.measured, check.deviation_pct) == (590.0, worst["deviation_pct"])
    assert "1 of 5 points outside the demo-model baseline band" in check.detail
    assert "disk 1 MiB sequential write 41% below the demo-model baseline" in check.detail


def test_a_whole_curve_a_little_slower_fails_even_with_every_point_in_its_band():
    # given a steady curve (robust sigma 1.5 %) whose points have wide bands (at least 15 %), now 10 % below its
    # baseline everywhere: within each point's band, but more than the 8 % (and 4 sigmas) a whole curve may be
    wide = Tolerance(sigmas=4, min_pct=15, curve_pct=8)
    specs, measured = curve({b: 900.0 for b in ["4KiB", "16KiB", "64KiB", "256KiB", "1MiB"]}, spread=10.0, tol=wide)
    assert all(900.0 >= s.limit for s in specs)

    # when it is judged
    [check] = performance_checks(baselines=specs, measurements=measured, model_name="demo-model",
                                 tolerances={"disk.seq_": TOL})

    # then it fails as a whole curve
    assert not check.passed and all(p["passed"] for p in check.points)
    assert "disk sequential write 10% below the demo-model baseline across the whole curve" in check.detail


def test_a_noisy_curve_may_move_more_as_a_whole():
    # given a curve whose healthy runs move 9 % (robust sigma) from run to run, now 10 % below everywhere
    wide = Tolerance(sigmas=4, min_pct=15, curve_pct=8)
    specs, measured = curve({b: 900.0 for b in ["4KiB", "16KiB", "64KiB", "256KiB", "1MiB"]}, spread=60.0, tol=wide)

    # when it is judged
    [check] = performance_checks(baselines=specs, measurements=measured, model_name="demo-model",
                                 tolerances={"disk.seq_": wide})

    # then that is within its noise: the whole curve may be 4 sigmas (36 %) worse
    assert verdict.whole_curve_threshold(specs, wide) == pytest.approx(4 * 1.4826 * 6.0)
    assert check.passed


def _runs(points: list[str], moves: list[list[float]]) -> list[dict]:
    """One run per row of `moves`: each point's value, 1000 MB/s moved by that many %."""
    return [{f"memory.copy_mb_per_s[{p}]": 1000.0 * (1 + m / 100) for p, m in zip(points, row)} for row in moves]


def test_a_curve_whose_points_move_on_their_own_learns_a_smaller_whole_curve_noise():
    # given passing runs of a four-point memory curve: in each, one point is 12 % off (its own noise), the rest steady
    points = ["16KiB", "1MiB", "16MiB", "64MiB"]
    moves = [[12 if i == (run % 4) else 0 for i in range(4)] for run in range(8)]
    moves += [[-12 if i == (run % 4) else 1 for i in range(4)] for run in range(8)]
    runs = _runs(points, moves)
    specs = detection.learn(runs, sorted(runs[0]), None)

    # then the whole curve learns how far its median point moved (about 1 %), far less than a point's own 6-12 %
    assert all(s.curve_spread_pct == pytest.approx(1.4826 * 0.5, rel=0.01) for s in specs)
    # and the whole-curve rule sits WHOLE_CURVE_SIGMAS of that away, or at the curve's own floor (memory: 8 %)
    tolerance = verdict.tolerance_for("memory.copy_mb_per_s")
    assert verdict.whole_curve_threshold(specs, tolerance) == tolerance.curve_pct == 8
    # so a whole curve 10 % slower fails, though each point stays inside its band
    [check] = performance_checks(baselines=specs, measurements={s.metric: s.expected * 0.9 for s in specs},
                                 model_name="r650")
    assert not check.passed and all(p["passed"] for p in check.points)
    assert "across the whole curve" in check.detail


def test_a_curve_whose_points_move_together_learns_their_whole_noise():
    # given passing runs in which every point of the curve moves together, by -6 … +6 %
    points = ["16KiB", "1MiB", "16MiB"]
    runs = _runs(points, [[m] * 3 for m in (-6, -4, -2, 0, 0, 0, 2, 4, 6)])
    specs = detection.learn(runs, sorted(runs[0]), None)

    # then the whole curve is as noisy as its points, and the rule is WHOLE_CURVE_SIGMAS of that
    sigma = specs[0].curve_spread_pct
    assert sigma == pytest.approx(1.4826 * 2, rel=0.02)
    assert verdict.whole_curve_threshold(specs, verdict.tolerance_for("memory.copy_mb_per_s")) == pytest.approx(
        verdict.WHOLE_CURVE_SIGMAS * sigma)
    # and what the baseline can see says so: the rule's threshold plus Z99 of that noise
    assert verdict.curve_detectable_pct(specs, verdict.tolerance_for("memory.copy_mb_per_s")) == pytest.approx(
        (verdict.WHOLE_CURVE_SIGMAS + verdict.Z99) * sigma)


def test_too_few_runs_with_the_whole_curve_learn_no_whole_curve_noise():
    # given seven passing runs, only four of which measured both points of the curve
    both = _runs(["16KiB", "1MiB"], [[0, 0], [1, 1], [-1, -1], [2, 2]])
    runs = both + [{"memory.copy_mb_per_s[16KiB]": 1000.0}] * 3
    specs = detection.learn(both, sorted(both[0]), None)

    # then the whole curve's noise is not learned (fewer than WHOLE_CURVE_MIN_SAMPLES runs saw it whole)
    assert verdict.WHOLE_CURVE_MIN_SAMPLES == 5
    assert verdict.curve_spread_pct(specs, runs) is None
    assert {s.curve_spread_pct for s in verdict.with_curve_spreads(specs, runs)} == {None}
    # and with one more whole run it is
    assert verdict.curve_spread_pct(specs, runs + _runs(["16KiB", "1MiB"], [[0, 0]])) is not None


def test_a_seeded_baseline_is_judged_point_by_point():
    # given a reference seed (three runs: too few to know the curve's run-to-run noise)
    seed = [BaselineSpec(metric=f"disk.seq_write_mb_per_s[{b}]", expected=1000.0, unit="MB/s", tolerance_pct=60,
                         higher_is_better=True, spread=5.0, samples=3) for b in ["4KiB", "64KiB", "1MiB"]]

    # when a curve 20 % below it everywhere is judged: within the seed's 60 % band
    [check] = performance_checks(baselines=seed, measurements={s.metric: 800.0 for s in seed},
                                 model_name="demo-model", tolerances={"disk.seq_": TOL})

    # then it passes: no whole-curve rule until the baseline is learned
    assert verdict.whole_curve_threshold(seed, TOL) is None
    assert check.passed


def test_a_curve_within_its_band_passes():
    specs, measured = curve({"4KiB": 990.0, "1MiB": 1100.0})
    [check] = performance_checks(baselines=specs, measurements=measured, model_name="demo-model",
                                 tolerances={"disk.seq_": TOL})
    assert check.passed
    assert check.detail.startswith("disk sequential write: all 5 points within the demo-model baseline band")


def test_a_curve_wide_baseline_judges_every_point_of_the_curve():
    # given one baseline for the whole CPU curve (as staff may set), and a host with two thread counts
    spec = BaselineSpec(metric="cpu.sha256_mb_per_s", expected=1000.0, unit="MB/s", tolerance_pct=30,
                        higher_is_better=True)

    # when it is judged
    [check] = performance_checks(baselines=[spec], measurements={"cpu.sha256_mb_per_s[1]": 990.0,
                                                                 "cpu.sha256_mb_per_s[2]": 600.0},
                                 model_name="r650")

    # then both points were judged against it
    assert [(p["key"], p["passed"]) for p in check.points] == [("cpu.sha256_mb_per_s[1]", True),
                                                               ("cpu.sha256_mb_per_s[2]", False)]
    assert "CPU SHA-256 throughput with 2 threads 40% below the r650 baseline" in check.detail


def test_the_summary_names_the_worst_points_first_and_counts_the_rest():
    specs, measured = curve({"4KiB": 700.0, "16KiB": 500.0, "64KiB": 800.0, "1MiB": 100.0})
    checks = performance_checks(baselines=specs, measurements=measured, model_name="demo-model",
                                tolerances={"disk.seq_": TOL})

    summary = summarize(checks)

    assert summary.startswith("Failed: disk 1 MiB sequential write 90% below the demo-model baseline (100 MB/s; "
                              "baseline 1,000, limit 881, ")
    assert summary.index("16 KiB sequential write 50%") < summary.index("4 KiB sequential write 30%")
    assert summary.endswith("; and 2 more.")


@pytest.mark.parametrize(("key", "said"), [
    ("disk.seq_write_mb_per_s[1MiB]", "disk 1 MiB sequential write"),
    ("disk.rand_read_mb_per_s[4KiB]", "disk 4 KiB random read"),
    ("cpu.sha256_mb_per_s[1]", "CPU SHA-256 throughput with 1 thread"),
    ("memory.copy_mb_per_s[128MiB]", "memory copy bandwidth at a 128 MiB working set"),
    ("disk.fsync_p99_ms", "disk fsync latency (p99)"),
    ("gpu.flops[fp16]", "gpu.flops [fp16]"),
])
def test_points_in_plain_words(key, said):
    assert words(key) == said


# Inventory beyond the spec ------------------------------------------------------------------------------------
SPEC = {"spec_cores": 4, "spec_memory_bytes": 8 * 1024 ** 3, "spec_disks": []}
HOST = {"cpu_logical_cores": 4, "cpu_physical_cores": 2, "memory_total_bytes": 8 * 1024 ** 3,
        "block_devices": [{"name": "nvme0n1", "size_bytes": 960 * 10 ** 9}]}


def by_name(checks):
    return {c.name: c for c in checks}


def test_physical_cores_and_whole_disks_are_judged_against_the_reference_machine():
    reference = {"cpu_physical_cores": 2, "block_devices": [{"name": "sda", "size_bytes": 960 * 10 ** 9}]}
    assert all(c.passed for c in verdict.inventory_checks(**SPEC, inventory=HOST, reference=reference))

    lost_a_disk = {**HOST, "block_devices": []}
    checks = by_name(verdict.inventory_checks(**SPEC, inventory=lost_a_disk, reference=reference))
    assert not checks["inventory.block_devices"].passed
    assert "the model's reference machine has 1: 894 GiB" in checks["inventory.block_devices"].detail
    one_core_off = {**HOST, "cpu_physical_cores": 1}
    assert not by_name(verdict.inventory_checks(**SPEC, inventory=one_core_off, reference=reference))[
        "inventory.cpu_physical_cores"].passed


def test_a_sensor_at_its_critical_temperature_fails():
    hot = {**HOST, "temperatures": [{"sensor": "k10temp/Tctl", "celsius": 96.0, "critical": 95.0},
                                    {"sensor": "nvme/Composite", "celsius": 40.0, "critical": None}]}
    check = by_name(verdict.inventory_checks(**SPEC, inventory=hot))["inventory.temperatures"]
    assert not check.passed
    assert check.detail == "k10temp/Tctl 96 °C, at or above its critical 95 °C"


def test_smart_is_skipped_not_failed_without_smartctl_and_fails_on_a_failing_disk():
    skipped = {**HOST, "smart": {"status": "skipped", "reason": "smartctl is not installed"}}
    checks = verdict.inventory_checks(**SPEC, inventory=skipped)
    smart = by_name(checks)["smart"]
    assert smart.passed and smart.skipped
    assert summarize(checks) == f"All {len(checks)} checks passed (SMART skipped: smartctl is not installed)."

    failing = {**HOST, "smart": {"status": "measured", "devices": [{"device": "/dev/sda", "passed": False},
                                                                   {"device": "/dev/sdb", "passed": True}]}}
    smart = by_name(verdict.inventory_checks(**SPEC, inventory=failing))["smart"]
    assert not smart.passed and smart.detail == "SMART health FAILED on /dev/sda"


# Detection power, on made-up runs -------------------------------------------------------------------------------
def test_detection_power_of_steady_runs():
    # given forty runs of two curves with 1 % noise
    import random
    rng = random.Random(3)
    runs = [{**{f"cpu.sha256_mb_per_s[{t}]": 1000.0 * t * rng.gauss(1, 0.01) for t in (1, 2, 4)},
             **{f"disk.seq_read_mb_per_s[{b}]": 500.0 * rng.gauss(1, 0.01) for b in ("4KiB", "64KiB", "1MiB")}}
            for _ in range(40)]

    # when the fleet is simulated with tight tolerances
    result = detection.simulate(runs, train=20, trials=200, tolerances={"cpu.": TOL, "disk.": TOL})

    # then 15 % and 25 % degradations are always caught and healthy machines pass
    assert result.detection_at(15) == result.detection_at(25) == 100.0
    assert result.false_fail.rate == 0.0
    assert result.detected[("one point", 5)].rate < 100.0  # 5 % is within the 5 % floor of a single point
    assert detection.table(result)[-1].startswith("| **whole inspection** | | **0.0%** |")
    lines = detection.family_lines(result)
    assert lines[0] == "family cpu: false fails (first run) 0.0%, detection@15% (whole curve) 100.0%"
    assert lines[1].startswith("family cpu, whole verdict (confirmed on the repeats): false fails 0.0%, "
                               "detection@15% (whole curve) 100.0% of ")
    assert lines[2] == "family disk: false fails (first run) 0.0%, detection@15% (whole curve) 100.0%"
    assert lines[3].startswith("family disk, whole verdict (confirmed on the repeats): false fails 0.0%, "
                               "detection@15% (whole curve) 100.0% of ")
    assert len(lines) == 4


def test_runs_under_load_judged_against_quiet_baselines_are_inconclusive_when_disturbed_and_failed_when_not():
    # given quiet runs of a memory curve with 1 % noise, and runs under load that copy 40 % slower
    import random
    rng = random.Random(5)

    def run(level: float, others_cpu: float) -> dict:
        points = {f"memory.copy_mb_per_s[{size}]": 20000.0 * level * rng.gauss(1, 0.01)
                  for size in ("16KiB", "1MiB", "64MiB")}
        return {"measurements": points,
                "disturbance": {"curves": {"memory": {"others_cpu_pct": others_cpu, "attempts": 3}}}}

    quiet = [run(1.0, 0.0) for _ in range(20)]
    limits = {"others_cpu_pct": 25.0}

    # when the slow runs were measured while other processes took 80 % of the CPU
    disturbed = detection.judge_under_load(quiet, [run(0.6, 80.0) for _ in range(6)], train=10, trials=50,
                                           limits=limits)
    # then no healthy machine fails: each is inconclusive, though its first run alone fails
    assert (disturbed.failed.rate, disturbed.inconclusive.rate, disturbed.first_run_failed.rate) == (0, 100, 100)
    assert disturbed.disturbed_runs == 6

    # and when nothing else ran (the meter saw nothing), the same slowness is a confirmed fail of the memory family
    undisturbed = detection.judge_under_load(quiet, [run(0.6, 0.0) for _ in range(6)], train=10, trials=50,
                                             limits=limits)
    assert undisturbed.failed.rate == 100 and undisturbed.failed_by_family["memory"].rate == 100
    assert undisturbed.failed_by_family["cpu"].rate == 0
