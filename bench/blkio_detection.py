"""A real disk degradation, caught or not: this process's disk held by the kernel's blkio throttle (cgroup v1) to a
share of its throughput, judged as the server judges it, beside what each disk curve's `detectable_pct` promises.

    .venv/bin/python bench/blkio_detection.py [--train 10] [--trials 4] [--shares 0.5,0.85] [--scratch DIR]

A baseline is learned from --train unthrottled runs of the four disk throughput curves (with their tails, each
curve metered for disturbance and measured again while disturbed, as the agent does). Then, for each share, the
process is moved into a blkio cgroup whose read and write limits (bytes/s and I/Os per second) are that share of
what the unthrottled curves moved on average (their points interleave, so the throttle holds the curve as a whole),
and --trials healthy-but-throttled machines are judged: a first run and detection.CONFIRM_REPEATS (4) confirming
repeats, the server's whole verdict (inspection/detection.py), so each is `failed` (caught), `inconclusive`
(disturbed past the limits) or `passed` (missed). Needs root and cgroup v1's blkio; says why not and exits 2
elsewhere. About 2–3 minutes.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inspection import detection, measure, verdict  # noqa: E402

BLKIO = Path("/sys/fs/cgroup/blkio")
GROUPS = ["disk.seq_write", "disk.seq_read", "disk.rand_write", "disk.rand_read"]


def whole_disk_of(path: Path) -> str | None:
    """"major:minor" of the whole disk holding `path`, as the throttle files take it."""
    dev = os.stat(path).st_dev
    node = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
    if not node.exists():
        return None
    if (node / "partition").exists():
        node = node.resolve().parent
    return (node / "dev").read_text().strip()


def own_blkio_cgroup() -> Path:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "blkio" in controllers.split(","):
            return BLKIO / path.lstrip("/")
    return BLKIO


def throttle_limits(healthy: list[dict], share: float) -> dict[str, int]:
    """Read and write limits, bytes/s and I/Os per second: `share` of what the curves moved on average (each point
    gets an equal share of its curve's time, so a curve moves the mean of its points' rates)."""
    limits = {}
    for io in ("write", "read"):
        rates = []  # (MB/s, block) of every point of this direction, each run's median
        for curve in (f"disk.seq_{io}_mb_per_s", f"disk.rand_{io}_mb_per_s"):
            for block in measure.BLOCK_SIZES:
                key = f"{curve}[{measure.size_label(block)}]"
                rates.append((statistics.median(r[key] for r in healthy), block))
        limits[f"{io}_bps"] = int(statistics.mean(rate for rate, _ in rates) * measure.MiB * share)
        limits[f"{io}_iops"] = max(1, int(statistics.mean(rate * measure.MiB / block for rate, block in rates)
                                          * share))
    return limits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=10)
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--shares", default="0.5,0.85")
    parser.add_argument("--seconds", type=float, default=0.5, help="each curve's time budget (the quick profile's)")
    parser.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()) / "dam-blkio-bench")
    args = parser.parse_args()
    args.scratch.mkdir(parents=True, exist_ok=True)
    device = whole_disk_of(args.scratch)
    if os.geteuid() != 0 or not (BLKIO / "blkio.throttle.write_bps_device").exists() or device is None:
        print("skipped: needs root, cgroup v1 blkio throttling at /sys/fs/cgroup/blkio, and a scratch directory on "
              "a block device")
        return 2

    measurer = measure.Measurer(scratch_dir=args.scratch, disk_bytes=64 * measure.MiB, seconds=args.seconds,
                                cores=os.cpu_count() or 1, memory_bytes=0)
    limits_disturbance = dict(measure.DISTURBANCE_LIMITS)

    def run() -> dict:
        points, disturbance = measurer.measure(GROUPS)
        return {"measurements": points, "disturbance": {"limits": limits_disturbance, "curves": disturbance}}

    started = time.monotonic()
    try:
        if not measurer._disk().direct:
            print("skipped: the scratch filesystem refuses O_DIRECT (the throttle cannot hold buffered writes)")
            return 2
        healthy = [run() for _ in range(args.train)]
        quiet = [r["measurements"] for r in healthy]
        keys = detection.common_points(quiet)
        specs = detection.learn(quiet, keys, None)
        curves = sorted({verdict.curve_of(k) for k in keys if k.endswith("]") and "_mb_per_s" in k})
        print(f"baseline from {args.train} unthrottled runs; disturbed past the limits: "
              f"{sum(1 for r in healthy if verdict.disturbed_groups(r['disturbance'], limits_disturbance))}")
        for curve in curves:
            found = verdict.curve_detectable_pct([s for s in specs if verdict.curve_of(s.metric) == curve],
                                                 verdict.tolerance_for(curve))
            print(f"  {curve}: detectable_pct {found:.1f}% (a throughput loss of this much is caught ≥ 99 %)")
        print("| held to | failed (caught) | inconclusive | passed (missed) | curves that failed |")
        print("|---|---|---|---|---|")
        for share in (float(s) for s in args.shares.split(",")):
            limits = throttle_limits(quiet, share)
            group = BLKIO / f"dam-bench-{uuid.uuid4().hex[:8]}"
            home = own_blkio_cgroup()
            group.mkdir()
            verdicts, failing = [], {}
            try:
                for name, value in limits.items():
                    (group / f"blkio.throttle.{name}_device").write_text(f"{device} {value}")
                (group / "cgroup.procs").write_text(str(os.getpid()))
                try:
                    run()  # the throttle lets a first burst through: spend it
                    for _ in range(args.trials):
                        first, *repeats = [run() for _ in range(1 + detection.CONFIRM_REPEATS)]
                        judged = detection._whole_verdict(
                            first["measurements"], [r["measurements"] for r in repeats],
                            [first["disturbance"]] + [r["disturbance"] for r in repeats], specs,
                            limits=limits_disturbance, tolerances=None, model_name="this machine")
                        verdicts.append(judged)
                        merged = verdict.combined(first["measurements"], [r["measurements"] for r in repeats],
                                                  GROUPS)
                        for check in verdict.performance_checks(baselines=specs, measurements=merged,
                                                                model_name="this machine"):
                            if not check.passed:
                                failing[check.name] = failing.get(check.name, 0) + 1
                finally:
                    (home / "cgroup.procs").write_text(str(os.getpid()))
            finally:
                group.rmdir()
            n = len(verdicts)
            named = ", ".join(f"{c} {k}/{n}" for c, k in sorted(failing.items())) or "none"
            print(f"| {share * 100:.0f} % | {verdicts.count('failed')}/{n} | {verdicts.count('inconclusive')}/{n} "
                  f"| {verdicts.count('passed')}/{n} | {named} |")
    finally:
        measurer.close()
    print(f"({time.monotonic() - started:.0f} s; load average {os.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
