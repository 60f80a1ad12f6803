"""inspection/verdict.py: the rules that judge a host's numbers. Pure functions, plain data."""
import pytest

from inspection.verdict import BaselineSpec, inventory_checks, performance_checks, summarize

GIB = 1024 ** 3
SPEC = {"spec_cores": 16, "spec_memory_bytes": 64_000_000_000,
        "spec_disks": [{"mount": "/", "size_bytes": 500_000_000_000},
                       {"mount": "/data", "size_bytes": 2_000_000_000_000}]}


def host(**changes) -> dict:
    """The inventory of a host that matches SPEC, with some changes."""
    inventory = {"cpu_logical_cores": 16, "memory_total_bytes": 64_000_000_000,
                 "disks": [{"mount": "/", "size_bytes": 500_000_000_000},
                           {"mount": "/data", "size_bytes": 2_000_000_000_000}]}
    return {**inventory, **changes}


def by_name(checks) -> dict:
    return {c.name: c for c in checks}


# Inventory -------------------------------------------------------------------------------------------------
def test_a_host_that_matches_its_spec_passes():
    # given a host that has exactly its spec
    # when its inventory is judged
    checks = inventory_checks(**SPEC, inventory=host())

    # then every check passes, one per core count, memory and each disk
    assert [c.name for c in checks] == ["inventory.cpu_logical_cores", "inventory.memory_total_bytes",
                                        "inventory.disk[/]", "inventory.disk[/data]"]
    assert all(c.passed for c in checks)


@pytest.mark.parametrize(("memory", "passes"), [
    (64_000_000_000, True),
    (62_720_000_000, True),   # exactly 2 % short: the kernel's reservation, still fine
    (62_719_000_000, False),  # just past the tolerance
    (60_800_000_000, False),  # 5 % short: a DIMM gone
    (32_000_000_000, False),  # half of it
    (0, False),
])
def test_memory_within_two_percent_passes(memory, passes):
    # given a host reporting this much memory
    # when it is judged
    check = by_name(inventory_checks(**SPEC, inventory=host(memory_total_bytes=memory)))[
        "inventory.memory_total_bytes"]

    # then it passes only within the inventory tolerance
    assert check.passed is passes
    assert (check.measured, check.expected) == (memory, 64_000_000_000)
    assert check.limit == pytest.approx(64_000_000_000 * 0.98)


def test_memory_five_percent_short_fails_with_its_numbers():
    # given a host with 5 % less memory than its spec
    # when it is judged
    check = by_name(inventory_checks(**SPEC, inventory=host(memory_total_bytes=60_800_000_000)))[
        "inventory.memory_total_bytes"]

    # then it fails, and its detail has the numbers
    assert not check.passed
    assert f"{60_800_000_000 / GIB:.2f} GiB" in check.detail
    assert f"{64_000_000_000 / GIB:.2f} GiB" in check.detail
    assert "-5.0%" in check.detail


def test_memory_missing_from_the_report_fails():
    inventory = host()
    del inventory["memory_total_bytes"]
    assert not by_name(inventory_checks(**SPEC, inventory=inventory))["inventory.memory_total_bytes"].passed


@pytest.mark.parametrize("cores", [8, 15, 17, None])
def test_any_other_core_count_fails(cores):
    check = by_name(inventory_checks(**SPEC, inventory=host(cpu_logical_cores=cores)))["inventory.cpu_logical_cores"]
    assert not check.passed
    assert check.detail == f"{cores} logical cores, spec 16"


@pytest.mark.parametrize("disks", [
    [{"mount": "/", "size_bytes": 500_000_000_000}],  # /data gone
    [{"mount": "/", "size_bytes": 500_000_000_000}, {"mount": "/data", "size_bytes": None}],  # not mountable
])
def test_a_missing_disk_fails(disks):
    # given a host without the /data filesystem its spec names
    # when it is judged
    checks = by_name(inventory_checks(**SPEC, inventory=host(disks=disks)))

    # then that disk fails, saying so, and the others still pass
    missing = checks["inventory.disk[/data]"]
    assert not missing.passed
    assert missing.measured is None
    assert missing.detail == "disk /data missing"
    assert checks["inventory.disk[/]"].passed


def test_a_shrunken_disk_fails_and_an_extra_disk_is_ignored():
    # given a host whose /data is a quarter smaller, and that has a disk its spec does not name
    disks = [{"mount": "/", "size_bytes": 500_000_000_000}, {"mount": "/data", "size_bytes": 1_500_000_000_000},
             {"mount": "/scratch", "size_bytes": 1}]

    # when it is judged
    checks = inventory_checks(**SPEC, inventory=host(disks=disks))

    # then /data fails and /scratch is not judged
    assert {c.name: c.passed for c in checks if "disk" in c.name} == {"inventory.disk[/]": True,
                                                                       "inventory.disk[/data]": False}
    assert "-25.0%" in by_name(checks)["inventory.disk[/data]"].detail


# Performance against baselines -----------------------------------------------------------------------------
HASH = BaselineSpec(metric="cpu.sha256_mb_per_s", expected=1000.0, unit="MB/s", tolerance_pct=30.0,
                    higher_is_better=True)
FSYNC = BaselineSpec(metric="disk.fsync_p50_ms", expected=2.0, unit="ms", tolerance_pct=400.0,
                     higher_is_better=False)


def test_limits_are_expected_value_moved_by_the_tolerance():
    assert HASH.limit == pytest.approx(700.0)
    assert FSYNC.limit == pytest.approx(10.0)


@pytest.mark.parametrize(("baseline", "value", "passes"), [
    (HASH, 1500.0, True),
    (HASH, HASH.limit, True),          # at the limit: passes
    (HASH, HASH.limit - 0.01, False),  # just below it: fails
    (HASH, 0.0, False),
    (FSYNC, 0.5, True),
    (FSYNC, FSYNC.limit, True),          # at the limit: passes
    (FSYNC, FSYNC.limit + 0.01, False),  # just above it (slower): fails
], ids=["hash-fast", "hash-at-limit", "hash-below", "hash-zero", "fsync-fast", "fsync-at-limit", "fsync-slow"])
def test_a_measurement_passes_up_to_its_limit(baseline, value, passes):
    # given a measurement against a baseline
    # when it is judged
    [check] = performance_checks(baselines=[baseline], measurements={baseline.metric: value}, model_name="r650")

    # then it passes if it is no worse than the limit
    assert check.passed is passes
    assert (check.measured, check.expected, check.limit, check.unit) == (value, baseline.expected, baseline.limit,
                                                                         baseline.unit)


def test_a_slow_measurement_says_how_far_off_the_baseline_it_is():
    [check] = performance_checks(baselines=[HASH], measurements={HASH.metric: 500.0}, model_name="r650")
    assert check.detail == "CPU SHA-256 throughput 50% below the r650 baseline (500 MB/s; baseline 1,000, limit 700)"


def test_a_metric_not_measured_fails():
    # given a report without the fsync measurement
    # when it is judged
    checks = performance_checks(baselines=[HASH, FSYNC], measurements={HASH.metric: 900.0}, model_name="r650")

    # then that check fails, saying it was not measured
    assert [(c.name, c.passed) for c in checks] == [(HASH.metric, True), (FSYNC.metric, False)]
    assert checks[1].detail == "disk fsync latency (median) was not measured"


def test_no_baselines_no_performance_checks():
    assert performance_checks(baselines=[], measurements={HASH.metric: 1.0}, model_name="r650") == []


# Summary ---------------------------------------------------------------------------------------------------
def test_summary_when_all_pass():
    checks = inventory_checks(**SPEC, inventory=host())
    assert summarize(checks) == "All 4 checks passed."


def test_summary_names_the_failing_checks_only():
    # given a host missing /data, with 5 % less memory, and a slow CPU
    checks = inventory_checks(**SPEC, inventory=host(memory_total_bytes=60_800_000_000,
                                                     disks=[{"mount": "/", "size_bytes": 500_000_000_000}]))
    checks += performance_checks(baselines=[HASH, FSYNC], measurements={HASH.metric: 500.0, FSYNC.metric: 3.0},
                                 model_name="r650")

    # when they are summarised
    summary = summarize(checks)

    # then the summary has each failing check's numbers and nothing about those that passed
    assert summary.startswith("Failed: ")
    assert "memory" in summary and "-5.0%" in summary
    assert "disk /data missing" in summary
    assert "CPU SHA-256 throughput 50% below the r650 baseline (500 MB/s" in summary
    assert "logical cores" not in summary
    assert "fsync" not in summary
    assert "disk / " not in summary

