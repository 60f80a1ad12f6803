"""Measurements taken on the machine under test: inventory and three benchmark curves.

Runs on the host (the agent) or in the worker standing in for it. No Django here, so the agent needs only psutil.
Every number is a point of a curve, keyed `<curve>[<x>]` (e.g. `disk.seq_write_mb_per_s[1MiB]`):
- CPU: SHA-256 throughput against thread count (1, 2, 4 … up to the logical cores);
- memory: copy bandwidth against working-set size, from L1-sized to well past the last-level cache;
- disk: sequential and random, read and write throughput against block size (4 KiB … 1 MiB) — bytes moved over
  the wall time they took, as an application sees it — with each point's tail latency (p99 and max of its single
  I/Os), and fsync latency (p50, p99), all on one scratch file in the scratch directory, removed afterwards.
  Nothing else is written.
Each curve gets a time budget (`seconds`), shared among its points, so a profile's length is bounded.
The host only measures; the server judges (inspection/verdict.py).
"""
from __future__ import annotations

import hashlib
import json
import mmap
import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psutil

from inspection.verdict import over_limits

KiB, MiB = 1024, 1024 * 1024
BLOCK_SIZES = (4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB)


def tail_curve(curve: str, tail: str) -> str:
    """`disk.seq_write_mb_per_s`, "p99" → `disk.seq_write_p99_ms`: the curve of that throughput curve's tail."""
    return curve.replace("_mb_per_s", f"_{tail}_ms")


def size_label(n: int) -> str:
    """4096 → "4KiB", 1048576 → "1MiB": the x of a memory or disk point, as it appears in its key."""
    for unit, factor in (("GiB", 1024 ** 3), ("MiB", MiB), ("KiB", KiB)):
        if n >= factor and n % factor == 0:
            return f"{n // factor}{unit}"
    return f"{n}B"


# Inventory -------------------------------------------------------------------------------------------------
def _block_devices() -> list[dict]:
    """Whole disks the kernel sees (not partitions, loop or RAM devices), with their sizes."""
    devices = []
    root = Path("/sys/block")
    if not root.is_dir():
        return devices
    for dev in sorted(root.iterdir()):
        if dev.name.startswith(("loop", "ram", "zram", "dm-", "md", "sr", "fd")):
            continue
        try:
            sectors = int((dev / "size").read_text())
            rotational = (dev / "queue" / "rotational").read_text().strip() == "1"
        except (OSError, ValueError):
            continue
        devices.append({"name": dev.name, "size_bytes": sectors * 512, "rotational": rotational})
    return devices


def _temperatures() -> list[dict]:
    """Every temperature sensor the host reports (often none in a virtual machine)."""
    read = getattr(psutil, "sensors_temperatures", None)
    if read is None:
        return []
    try:
        sensors = read() or {}
    except (OSError, RuntimeError):
        return []
    found = []
    for chip, entries in sorted(sensors.items()):
        for n, entry in enumerate(entries):
            found.append({"sensor": f"{chip}/{entry.label or n}", "celsius": float(entry.current),
                          "critical": float(entry.critical) if entry.critical else None})
    return found


def smart_health(devices: list[dict], timeout: float = 15) -> dict:
    """SMART overall health of each disk through smartctl. Skipped, with the reason, where smartctl is not
    installed or may not read the disks (it needs root)."""
    smartctl = shutil.which("smartctl")
    if smartctl is None:
        return {"status": "skipped", "reason": "smartctl is not installed"}
    results, reasons = [], []
    for dev in devices:
        path = f"/dev/{dev['name']}"
        try:
            done = subprocess.run([smartctl, "-H", "-j", path], capture_output=True, text=True, timeout=timeout)
            answer = json.loads(done.stdout or "{}")
        except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
            reasons.append(f"{path}: {exc}")
            continue
        status = answer.get("smart_status")
        if status is None:  # no permission, or a virtual disk without SMART
            messages = answer.get("smartctl", {}).get("messages") or [{"string": "no SMART status"}]
            reasons.append(f"{path}: {messages[0].get('string', '')}")
            continue
        results.append({"device": path, "passed": bool(status.get("passed"))})
    if not results:
        return {"status": "skipped", "reason": "; ".join(reasons) or "no disk to ask"}
    return {"status": "measured", "devices": results}


def edac_counters(root: Path = Path("/sys/devices/system/edac/mc")) -> dict:
    """The kernel's EDAC memory error counters (corrected, uncorrected) of each memory controller, where it exposes
    them (bare metal with ECC memory and its EDAC driver; not in most virtual machines)."""
    controllers = []
    for mc in sorted(root.glob("mc[0-9]*")) if root.is_dir() else []:
        try:
            controllers.append({"controller": mc.name, "corrected": int((mc / "ce_count").read_text()),
                                "uncorrected": int((mc / "ue_count").read_text())})
        except (OSError, ValueError):
            continue
    if not controllers:
        return {"status": "skipped", "reason": "the kernel exposes no EDAC memory controller"}
    return {"status": "measured", "controllers": controllers}


def inventory(mounts: list[str], *, smart: bool = True) -> dict:
    """What the host says it has: cores, memory, filesystem and disk sizes, temperatures, SMART health."""
    disks = []
    for mount in mounts:
        try:
            disks.append({"mount": mount, "size_bytes": psutil.disk_usage(mount).total})
        except OSError:
            disks.append({"mount": mount, "size_bytes": None})
    devices = _block_devices()
    found = {
        "hostname": socket.gethostname(),
        "cpu_logical_cores": psutil.cpu_count(logical=True),
        "cpu_physical_cores": psutil.cpu_count(logical=False),
        "memory_total_bytes": psutil.virtual_memory().total,
        "disks": disks,
        "block_devices": devices,
        "temperatures": _temperatures(),
        "edac": edac_counters(),
    }
    if smart:
        found["smart"] = smart_health(devices)
    return found


# Disturbance -----------------------------------------------------------------------------------------------
# What else the machine did while a curve was measured. The measurer re-measures a curve disturbed beyond these
# limits (at most DISTURBANCE_RETRIES times); the server judges a failing curve that could not be measured clean
# `inconclusive`, naming the numbers. The server sends its own limits (DAM_DISTURBANCE_LIMITS); these are the
# defaults. Every figure is a share of the whole machine over the curve's wall time:
# - others_cpu_pct: CPU time of every other process (all CPU time spent but this process's), of all cores;
# - steal_pct: CPU time the hypervisor gave to other guests (a VM's steal) — invisible to the CPU check by design
#   (it counts the CPU time its threads got, to judge the silicon), so counted here;
# - others_disk_pct: bytes other processes read or wrote on the whole disks, in % of this curve's own (disk curves);
# - memory_available_min_pct: the least memory available during the curve, in % of the total (memory pressure);
# - cpu_mhz_min / cpu_mhz_max: the CPU's clock where the kernel says (reported, not judged: a clock that drops
#   under load is a finding of the CPU curve itself).
DISTURBANCE_LIMITS = {"others_cpu_pct": 25.0, "steal_pct": 10.0, "others_disk_pct": 25.0,
                      "memory_available_min_pct": 5.0}
DISTURBANCE_RETRIES = 2


def _whole_disks_bytes() -> int:
    """Bytes read and written on the whole disks (no partitions, loop, RAM or mapper devices)."""
    try:
        counters = psutil.disk_io_counters(perdisk=True) or {}
    except (OSError, RuntimeError):
        return 0
    whole = {d["name"] for d in _block_devices()}
    return sum(c.read_bytes + c.write_bytes for name, c in counters.items() if name in whole)


def _own_disk_bytes(process: psutil.Process) -> int:
    try:
        io = process.io_counters()
    except (OSError, AttributeError, psutil.Error):
        return 0
    return io.read_bytes + io.write_bytes


def _busy_and_steal(times) -> tuple[float, float]:
    idle = times.idle + getattr(times, "iowait", 0.0)
    steal = getattr(times, "steal", 0.0)
    return sum(times) - idle - steal - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0), steal


def _cpu_mhz() -> float | None:
    try:
        freq = psutil.cpu_freq()
    except (OSError, RuntimeError, NotImplementedError):
        return None
    return float(freq.current) if freq and freq.current else None


class DisturbanceMeter:
    """Measures what else the machine did between start() and stop(); sample() (between rounds) catches the
    lowest available memory and the CPU clock's range."""

    def __init__(self):
        self.process = psutil.Process()
        self.cores = psutil.cpu_count(logical=True) or 1

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.busy0, self.steal0 = _busy_and_steal(psutil.cpu_times())
        own = self.process.cpu_times()
        self.own_cpu0 = own.user + own.system
        self.disk0, self.own_disk0 = _whole_disks_bytes(), _own_disk_bytes(self.process)
        self.memory_min_pct = 100.0
        self.mhz: list[float] = []
        self.sample()

    def sample(self) -> None:
        memory = psutil.virtual_memory()
        self.memory_min_pct = min(self.memory_min_pct, 100.0 * memory.available / memory.total)
        mhz = _cpu_mhz()
        if mhz:
            self.mhz.append(mhz)

    def stop(self) -> dict:
        self.sample()
        wall = max(time.perf_counter() - self.t0, 1e-6)
        busy, steal = _busy_and_steal(psutil.cpu_times())
        own = self.process.cpu_times()
        own_cpu = own.user + own.system - self.own_cpu0
        capacity = wall * self.cores
        own_disk = _own_disk_bytes(self.process) - self.own_disk0
        others_disk = max(0, _whole_disks_bytes() - self.disk0 - own_disk)
        return {
            "seconds": round(wall, 4),
            "others_cpu_pct": round(max(0.0, 100.0 * (busy - self.busy0 - own_cpu) / capacity), 1),
            "steal_pct": round(max(0.0, 100.0 * (steal - self.steal0) / capacity), 1),
            "others_disk_mb_per_s": round(others_disk / MiB / wall, 1),
            "others_disk_pct": round(100.0 * others_disk / own_disk, 1) if own_disk > 0 else None,
            "memory_available_min_pct": round(self.memory_min_pct, 1),
            "cpu_mhz_min": round(min(self.mhz)) if self.mhz else None,
            "cpu_mhz_max": round(max(self.mhz)) if self.mhz else None,
        }


def measured_clean(measure_curve, *, limits: dict, retries: int) -> tuple[dict, dict]:
    """Measure a curve (measure_curve() → its points) while metering what else the machine did; measure it again
    while it was disturbed beyond `limits`, at most `retries` times, and keep the least disturbed attempt.
    Returns (points, its disturbance: the figures, `attempts`, and `over`: the limits it still went past)."""
    meter = DisturbanceMeter()
    best = None
    for attempt in range(1, retries + 2):
        meter.start()
        points = measure_curve()
        found = meter.stop()
        over = over_limits(found, limits)
        # how far past its limits: the worst ratio (0 when clean), to keep the least disturbed attempt
        score = max([_over_ratio(found, name, limits[name]) for name in over], default=0.0)
        if best is None or score < best[0]:
            best = (score, points, {**found, "over": over})
        if not over:
            break
    _, points, found = best
    found["attempts"] = attempt
    return points, found


def _over_ratio(found: dict, name: str, limit: float) -> float:
    value = found[name]
    if name == "memory_available_min_pct":
        return limit / max(value, 1e-6)
    return value / max(limit, 1e-6)


# Every point is measured in ROUNDS short slices, interleaved with the other points of its curve, and reported as
# its best slice. Other work on the host (or its hypervisor) only ever slows a slice down, so the best of several
# is a far steadier estimate of what the hardware can do than one long average; a degraded part is slow in every
# slice, so it still shows.
ROUNDS = 10
MIN_SLICE_SECONDS = 0.005  # below this, fewer rounds (very short test budgets)


def _best_of_rounds(points: dict, measure, seconds: float, *, lower_is_better: bool = False) -> dict[str, float]:
    """{key: x} → {key: best of ROUNDS slices of measure(x, slice_seconds)}, the points taken in turn."""
    rounds = max(1, min(ROUNDS, int(seconds / len(points) / MIN_SLICE_SECONDS)))
    slice_seconds = seconds / len(points) / rounds
    slices: dict[str, list[float]] = {key: [] for key in points}
    for _ in range(rounds):
        for key, x in points.items():
            slices[key].append(measure(x, slice_seconds))
    pick = min if lower_is_better else max
    return {key: pick(values) for key, values in slices.items()}


# CPU -------------------------------------------------------------------------------------------------------
def thread_counts(cores: int) -> list[int]:
    """1, 2, 4 … and the core count itself: the curve's x values."""
    counts, n = [], 1
    while n < cores:
        counts.append(n)
        n *= 2
    return counts + [cores]


HASH_BLOCK = os.urandom(64 * KiB)


def cpu_hash_mb_per_s(seconds: float, threads: int) -> float:
    """SHA-256 throughput of `threads` threads. hashlib drops the GIL on large buffers, so they run in parallel.

    Each thread's rate is counted over the CPU time it got, not the wall time: a thread the scheduler set aside
    for another process is not a slower CPU. The curve is the sum: what the threads do with a core each."""
    done = [0] * threads
    cpu = [0.0] * threads
    deadline = time.perf_counter() + seconds

    def work(slot: int) -> None:
        started = time.thread_time()
        while True:
            hashlib.sha256(HASH_BLOCK).digest()
            done[slot] += 1
            if time.perf_counter() >= deadline:
                break
        cpu[slot] = time.thread_time() - started

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(n * len(HASH_BLOCK) / MiB / max(t, 1e-6) for n, t in zip(done, cpu))


def cpu_curve(seconds: float, cores: int) -> dict[str, float]:
    points = {f"cpu.sha256_mb_per_s[{n}]": n for n in thread_counts(cores)}
    return _best_of_rounds(points, lambda n, s: cpu_hash_mb_per_s(s, n), seconds)


# Memory ----------------------------------------------------------------------------------------------------
def last_level_cache_bytes() -> int:
    """The largest CPU cache, from sysfs; 32 MiB when the host does not say."""
    sizes = []
    for index in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            text = (index / "size").read_text().strip().upper()
        except OSError:
            continue
        factor = {"K": KiB, "M": MiB, "G": 1024 * MiB}.get(text[-1:], 1)
        try:
            sizes.append(int(text.rstrip("KMG")) * factor)
        except ValueError:
            continue
    return max(sizes) if sizes else 32 * MiB


def working_set_sizes(llc_bytes: int, memory_bytes: int) -> list[int]:
    """16 KiB, 64 KiB … ×4 while below the last-level cache, then twice and four times the last-level cache; the
    two buffers of the largest must fit in an eighth of the memory."""
    sizes, n = [], 16 * KiB
    while n < llc_bytes:
        sizes.append(n)
        n *= 4
    sizes += [2 * llc_bytes, 4 * llc_bytes]
    return [n for n in sizes if 2 * n <= memory_bytes // 8]


def _populated(size: int) -> mmap.mmap:
    """An anonymous buffer whose pages exist already (MAP_POPULATE where there is one), so that no page fault
    lands inside a timed slice."""
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_POPULATE", 0)
    buf = mmap.mmap(-1, size, flags=flags)
    if not getattr(mmap, "MAP_POPULATE", 0):
        buf.write(bytes(size))
    return buf


class CopyBuffers:
    """Two buffers of the largest working set; each smaller working set is their beginning."""

    def __init__(self, largest: int):
        self.src, self.dst = _populated(largest), _populated(largest)
        self.view_src, self.view_dst = memoryview(self.src), memoryview(self.dst)

    def mb_per_s(self, size: int, seconds: float) -> float:
        """Copy bandwidth over `size` bytes (read + write traffic is twice this figure), over the CPU time the
        copying got (a copy stalled on memory is still on the CPU; one set aside by the scheduler is not);
        at least one copy, however short the slice. Several copies per clock read keep Python's loop cheap."""
        src, dst = self.view_src[:size], self.view_dst[:size]
        per_round = max(1, (4 * MiB) // size)
        copied = 0
        deadline = time.perf_counter() + seconds
        started = time.thread_time()
        while True:
            for _ in range(per_round):
                dst[:] = src
            copied += per_round * size
            if time.perf_counter() >= deadline:
                return copied / MiB / max(time.thread_time() - started, 1e-6)

    def close(self) -> None:
        self.view_src.release()
        self.view_dst.release()
        self.src.close()
        self.dst.close()


def memory_curve(seconds: float, sizes: list[int]) -> dict[str, float]:
    buffers = CopyBuffers(max(sizes))
    try:
        return _best_of_rounds({f"memory.copy_mb_per_s[{size_label(n)}]": n for n in sizes},
                               lambda n, s: buffers.mb_per_s(n, s), seconds)
    finally:
        buffers.close()


# Disk ------------------------------------------------------------------------------------------------------
class ScratchFile:
    """The one file the disk checks use: created in `scratch_dir`, filled, removed on close.

    Reads and writes bypass the page cache (O_DIRECT) where the filesystem allows it, so the disk is measured and
    not the memory; elsewhere (tmpfs, some network filesystems) writes are synced and the cache is dropped before
    each read slice.
    """

    def __init__(self, scratch_dir: Path, size_bytes: int):
        scratch_dir.mkdir(parents=True, exist_ok=True)
        self.size = max(MiB, size_bytes // MiB * MiB)
        fd, self.path = tempfile.mkstemp(prefix="dam-check-", dir=scratch_dir)
        os.close(fd)
        self.direct = hasattr(os, "O_DIRECT")
        try:
            self.fd = os.open(self.path, os.O_RDWR | (os.O_DIRECT if self.direct else 0))
        except OSError:
            self.direct = False
            self.fd = os.open(self.path, os.O_RDWR)
        try:
            self._fill()
        except OSError:
            self.close()
            raise

    def _fill(self) -> None:
        """Write the whole file once, so reads hit real blocks rather than holes."""
        block = _aligned(MiB, random_bytes=True)
        for offset in range(0, self.size, MiB):
            os.pwrite(self.fd, block, offset)
        os.fsync(self.fd)
        block.close()

    def drop_cache(self) -> None:
        if not self.direct and hasattr(os, "posix_fadvise"):
            os.fsync(self.fd)
            os.posix_fadvise(self.fd, 0, 0, os.POSIX_FADV_DONTNEED)

    def close(self) -> None:
        try:
            os.close(self.fd)
        finally:
            os.unlink(self.path)


def _aligned(size: int, random_bytes: bool = False) -> mmap.mmap:
    """A page-aligned buffer, as O_DIRECT needs."""
    buf = mmap.mmap(-1, size)
    if random_bytes:
        buf.write(os.urandom(size))
    return buf


class DiskPattern:
    """One disk curve point: `block`-sized reads or writes, sequential or at random aligned offsets, one at a time.

    Its throughput is the bytes it moved over the wall time they took (with buffered writes, the slice's closing
    fsync included), as an application sees it. Every I/O is also timed on its own for the point's tail (p99, max): a disk that retries,
    or is throttled, answers most I/Os at full speed and stalls on a few — the stalls take the time, so they show in
    the throughput and in the tail, where a median of single I/Os would never see them.
    """

    def __init__(self, scratch: ScratchFile, *, block: int, write: bool, sequential: bool, rng: random.Random):
        self.scratch, self.block, self.write, self.sequential, self.rng = scratch, block, write, sequential, rng
        self.slots = scratch.size // block
        self.next_slot = 0
        self.latencies: list[float] = []
        self.moved = 0
        self.wall = 0.0

    def _offset(self) -> int:
        if self.sequential:
            self.next_slot = (self.next_slot + 1) % self.slots
            return self.next_slot * self.block
        return self.rng.randrange(self.slots) * self.block

    def run(self, seconds: float, buf: mmap.mmap) -> float:
        """I/Os for `seconds` (at least one); returns the slice's throughput (MB/s over its wall time)."""
        fd = self.scratch.fd
        if not self.write:
            self.scratch.drop_cache()
        view = memoryview(buf)[:self.block]
        io = os.pwrite if self.write else (lambda fd, view, offset: os.preadv(fd, [view], offset))
        clock = time.perf_counter
        started = clock()
        deadline = started + seconds
        moved = 0
        while True:
            offset = self._offset()
            t0 = clock()
            io(fd, view, offset)
            t1 = clock()
            self.latencies.append(t1 - t0)
            moved += self.block
            if t1 >= deadline:
                break
        if self.write and not self.scratch.direct:
            os.fsync(fd)  # buffered writes: on the disk before the clock stops
        wall = clock() - started
        if self.write and self.scratch.direct:
            # O_DIRECT writes reached the device already; the flush of its own cache is not timed (fsync latency
            # is a curve of its own), but done, so the next point does not pay for this one's writes.
            os.fsync(fd)
        view.release()
        self.moved += moved
        self.wall += wall
        return moved / MiB / max(wall, 1e-9)

    def mb_per_s(self) -> float:
        return self.moved / MiB / max(self.wall, 1e-9)

    def tail_ms(self) -> dict[str, float]:
        return {"p99": percentile(self.latencies, 99) * 1000, "max": max(self.latencies) * 1000}


def fsync_latencies_ms(scratch: ScratchFile, *, seconds: float, rng: random.Random, max_samples: int) -> list[float]:
    """Latency of a 4 KiB write followed by fsync, at random offsets of the scratch file."""
    buf = _aligned(4 * KiB, random_bytes=True)
    slots = scratch.size // (4 * KiB)
    latencies = []
    deadline = time.perf_counter() + seconds
    while len(latencies) < max_samples and (len(latencies) < 20 or time.perf_counter() < deadline):
        t0 = time.perf_counter()
        os.pwrite(scratch.fd, buf, rng.randrange(slots) * 4 * KiB)
        os.fsync(scratch.fd)
        latencies.append((time.perf_counter() - t0) * 1000)
    buf.close()
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def disk_curve(scratch: ScratchFile, curve: str, *, seconds: float, rng: random.Random, buf: mmap.mmap) -> dict:
    """One throughput curve over BLOCK_SIZES (`seconds` in all), with its tails (p99, max latency in ms)."""
    write, sequential = "write" in curve, ".seq_" in curve
    patterns = {f"{curve}[{size_label(block)}]": DiskPattern(scratch, block=block, write=write,
                                                              sequential=sequential, rng=rng)
                for block in BLOCK_SIZES}
    # The rounds interleave the points; every slice counts (a stall is part of the disk's throughput).
    _best_of_rounds(patterns, lambda p, s: p.run(s, buf), seconds)
    points = {}
    for key, pattern in patterns.items():
        points[key] = pattern.mb_per_s()
        label = key[key.index("["):]
        for tail, value in pattern.tail_ms().items():
            points[f"{tail_curve(curve, tail)}{label}"] = value
    return points


def fsync_curve(scratch: ScratchFile, *, seconds: float, rng: random.Random) -> dict:
    latencies = fsync_latencies_ms(scratch, seconds=seconds, rng=rng, max_samples=5000)
    return {"disk.fsync_p50_ms": statistics.median(latencies), "disk.fsync_p99_ms": percentile(latencies, 99)}


# The whole run ---------------------------------------------------------------------------------------------
# The curves as measured, each metered for disturbance on its own; a group's name is what `verdict.group_of`
# gives for its points. Disk first, while the scratch file's blocks are fresh.
GROUPS = ("disk.seq_write", "disk.seq_read", "disk.rand_write", "disk.rand_read", "disk.fsync", "cpu", "memory")


class Measurer:
    """Measures curves by group, each metered for disturbance and measured again while disturbed (bounded)."""

    def __init__(self, *, scratch_dir: str | Path, disk_bytes: int, seconds: float, cores: int, memory_bytes: int,
                 limits: dict | None = None, retries: int = DISTURBANCE_RETRIES, seed: int | None = None):
        self.scratch_dir, self.disk_bytes, self.seconds, self.cores = Path(scratch_dir), disk_bytes, seconds, cores
        self.sizes = working_set_sizes(last_level_cache_bytes(), memory_bytes)
        self.limits = DISTURBANCE_LIMITS if limits is None else limits
        self.retries = retries
        self.rng = random.Random(seed)
        self.scratch = self.buf = None

    def _disk(self) -> ScratchFile:
        if self.scratch is None:
            self.scratch = ScratchFile(self.scratch_dir, self.disk_bytes)
            self.buf = _aligned(max(BLOCK_SIZES), random_bytes=True)
        return self.scratch

    def _one(self, group: str) -> dict:
        if group == "cpu":
            return cpu_curve(self.seconds, self.cores)
        if group == "memory":
            return memory_curve(self.seconds, self.sizes)
        scratch = self._disk()
        if group == "disk.fsync":
            return fsync_curve(scratch, seconds=self.seconds, rng=self.rng)
        return disk_curve(scratch, f"{group}_mb_per_s", seconds=self.seconds, rng=self.rng, buf=self.buf)

    def measure(self, groups=GROUPS) -> tuple[dict, dict]:
        """{point: value}, {group: its disturbance}."""
        measurements, disturbance = {}, {}
        for group in groups:
            points, disturbance[group] = measured_clean(lambda: self._one(group), limits=self.limits,
                                                        retries=self.retries)
            measurements.update(points)
        return measurements, disturbance

    @property
    def direct_io(self) -> bool | None:
        return self.scratch.direct if self.scratch is not None else None

    def close(self) -> None:
        if self.buf is not None:
            self.buf.close()
        if self.scratch is not None:
            self.scratch.close()
        self.scratch = self.buf = None


def measure_host(*, scratch_dir: str | Path, mounts: list[str], seconds: float, disk_bytes: int,
                 profile: str = "quick", smart: bool = True, limits: dict | None = None,
                 retries: int = DISTURBANCE_RETRIES) -> dict:
    """Everything the server needs to judge this host: inventory, every curve point, and what else the machine
    did during each curve (`disturbance`). `seconds` is each curve's time budget. The `facts` profile measures no
    curve: inventory, SMART, temperatures and memory error counters only (nothing that loads a serving machine)."""
    started = time.perf_counter()
    found = inventory(mounts, smart=smart)
    report = {"inventory": found, "measurements": {}, "profile": profile}
    if profile == "facts":
        report["environment"] = {"elapsed_seconds": round(time.perf_counter() - started, 3)}
        return report
    measurer = Measurer(scratch_dir=scratch_dir, disk_bytes=disk_bytes, seconds=seconds,
                        cores=found["cpu_logical_cores"] or 1, memory_bytes=found["memory_total_bytes"],
                        limits=limits, retries=retries)
    try:
        measurements, disturbance = measurer.measure()
    finally:
        direct = measurer.direct_io
        measurer.close()
    report["measurements"] = measurements
    report["disturbance"] = {"limits": dict(measurer.limits), "curves": disturbance}
    report["environment"] = {"direct_io": bool(direct), "elapsed_seconds": round(time.perf_counter() - started, 3)}
    return report


def measure_again(*, scratch_dir: str | Path, groups: list[str], repeats: int, seconds: float, disk_bytes: int,
                  limits: dict | None = None, retries: int = DISTURBANCE_RETRIES) -> list[dict]:
    """The confirmation of a failing verdict: the failing groups only, `repeats` times, each repeat with its
    disturbance, as the server asked (see inspection/services.py, "Confirm before failing")."""
    measurer = Measurer(scratch_dir=scratch_dir, disk_bytes=disk_bytes, seconds=seconds,
                        cores=psutil.cpu_count(logical=True) or 1, memory_bytes=psutil.virtual_memory().total,
                        limits=limits, retries=retries)
    runs = []
    try:
        for _ in range(repeats):
            measurements, disturbance = measurer.measure([g for g in GROUPS if g in groups])
            runs.append({"measurements": measurements, "disturbance": {"limits": dict(measurer.limits),
                                                                       "curves": disturbance}})
    finally:
        measurer.close()
    return runs
