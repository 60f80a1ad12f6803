"""Soak: a real DAM (gunicorn + Celery worker + beat) under a steady mixed load for a while; 0 errors, memory flat.

    .venv/bin/python bench/soak.py [--seconds 600]        (or: make soak, SOAK_SECONDS=120 make soak)

It starts its own DAM in a fresh data directory (the embedded default: SQLite + filesystem broker; set DATABASE_URL
and CELERY_BROKER_URL to soak PostgreSQL + Redis instead — a throwaway database, it adds a fleet to it) with a fleet of
its own, then runs, all at once:
- detectors posting fault batches (mostly info and warnings, some critical: machines are isolated and ticketed),
  some with an Idempotency-Key sent twice, some repeating an event_id;
- staff reading lists, machines, histories, tickets, faults and inspections;
- a technician resolving open tickets, so that the worker inspects the machines and returns them (on a short
  probation, so that they come back into service and round again).
An error is any 5xx, any refused connection or timeout, and any 4xx the script did not ask for. At the end it lets
the fleet settle and checks that nothing was lost: no unfinished job in the outbox, every isolated machine has its
ticket, no incident has two. It prints its figures and exits non-zero on any error, lost work or memory growth.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
ASSETS = 40
SETUP = f"""
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from assets.models import Asset, HardwareModel, Pool
from inspection.demo import demo_model_spec
from inspection.models import Baseline
model, _ = HardwareModel.objects.get_or_create(name="soak-model", defaults=demo_model_spec())
for metric, unit, better in [("cpu.sha256_mb_per_s", "MB/s", True), ("memory.copy_mb_per_s", "MB/s", True),
                             ("disk.seq_write_mb_per_s", "MB/s", True), ("disk.fsync_p50_ms", "ms", False)]:
    Baseline.objects.get_or_create(hardware_model=model, metric=metric, defaults=dict(
        unit=unit, higher_is_better=better, expected=1.0 if better else 1000.0, tolerance_pct=50, source="soak"))
pool, _ = Pool.objects.get_or_create(name="soak", defaults=dict(probation_hours=0.01, max_unavailable="100%"))
for n in range(1, {ASSETS} + 1):
    Asset.objects.get_or_create(hostname=f"soak-{{n:03d}}", defaults=dict(hardware_model=model, pool=pool))
tokens = {{}}
for name, role in [("soak-detector-1", "detector"), ("soak-detector-2", "detector"), ("soak-detector-3", "detector"),
                   ("soak-staff-1", "staff"), ("soak-staff-2", "staff"), ("soak-tech", "staff")]:
    from io import StringIO
    out = StringIO()
    call_command("issue_token", name, role=role, stdout=out)
    tokens[name] = out.getvalue().strip()
print(json.dumps(tokens))
"""
STATS = """
import json, django
django.setup()
from django.db.models import Count
from assets.models import Asset, Fault
from inspection.models import Inspection
from reliability.models import OutboxJob
from repairs.models import RepairTicket
fleet = Asset.objects.filter(pool__name="soak")
print(json.dumps({
    "states": dict(Counter(fleet.values_list("state", flat=True))),
    "faults": Fault.objects.filter(asset__in=fleet).count(),
    "tickets": RepairTicket.objects.filter(asset__in=fleet).count(),
    "open_tickets_per_machine_max": max([r["n"] for r in RepairTicket.objects.filter(
        asset__in=fleet, closed_at__isnull=True).values("asset").annotate(n=Count("id"))] or [0]),
    "isolated_without_ticket": fleet.filter(state__in=["in_repair", "verifying"]).exclude(
        repair_tickets__closed_at__isnull=True).count(),
    "inspections": dict(Counter(Inspection.objects.filter(asset__in=fleet).values_list("verdict", flat=True))),
    "outbox_unfinished": OutboxJob.objects.filter(finished_at__isnull=True).count(),
    "outbox_jobs": OutboxJob.objects.count(),
    "outbox_sent_more_than_once": OutboxJob.objects.filter(sends__gt=1).count(),
}))
""".replace("import json, django", "import json, django\nfrom collections import Counter")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Load:
    """Counts every request: latency per kind, status codes, errors with a sample of each."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter = Counter()
        self.errors: Counter = Counter()
        self.error_samples: dict[str, str] = {}
        self.counters: Counter = Counter()

    def call(self, kind: str, token: str, method: str, path: str, body=None, *, expect=(200,), headers=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers={
            "Authorization": f"Token {token}", "Content-Type": "application/json", **(headers or {})})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except OSError as error:  # refused, reset, timed out
            status, raw = 0, str(error).encode()
        elapsed = time.monotonic() - started
        with self.lock:
            self.latency[kind].append(elapsed)
            self.statuses[status] += 1
            if status not in expect:
                key = f"{kind} {method} -> {status}"
                self.errors[key] += 1
                self.error_samples.setdefault(key, f"{path}: {raw[:300].decode(errors='replace')}")
        try:
            return status, json.loads(raw) if raw else {}
        except ValueError:
            return status, {}


def detector(load: Load, token: str, name: str, stop: threading.Event, seed: int):
    rng = random.Random(seed)
    n = 0
    while not stop.is_set():
        batch = []
        for _ in range(rng.randint(1, 5)):
            n += 1
            roll = rng.random()
            severity = "critical" if roll < 0.04 else "warning" if roll < 0.25 else "info"
            batch.append({"asset": f"soak-{rng.randint(1, ASSETS):03d}", "severity": severity,
                          "component": rng.choice(["cpu", "memory", "disk", "network", "thermal"]),
                          "summary": f"soak {severity} #{n}", "details": {"n": n, "detector": name},
                          "event_id": f"{name}-{n}"})
        key = f"{name}-batch-{n}"
        status, body = load.call("post faults", token, "POST", "/api/v1/faults/", batch, expect=(202,),
                                 headers={"Idempotency-Key": key})
        if status == 202:
            with load.lock:
                load.counters["faults accepted"] += body["accepted"]
                load.counters["faults duplicate"] += body["duplicates"]
                load.counters["faults posted"] += len(batch)
        if rng.random() < 0.1:  # the detector retries (a lost answer): same key, same body → the same answer
            again, replay = load.call("post faults (retry)", token, "POST", "/api/v1/faults/", batch, expect=(202,),
                                      headers={"Idempotency-Key": key})
            if again == 202 and replay != body:
                with load.lock:
                    load.errors["idempotent replay differs"] += 1
        if rng.random() < 0.05:  # and a detector that resends one event without a key: stored once
            status, body = load.call("post faults (repeat)", token, "POST", "/api/v1/faults/", batch[0],
                                     expect=(202,))
            if status == 202 and body["duplicates"] != 1:
                with load.lock:
                    load.errors["repeated event_id not a duplicate"] += 1
        stop.wait(rng.uniform(0.3, 0.7))


def reader(load: Load, token: str, stop: threading.Event, seed: int):
    rng = random.Random(seed)
    while not stop.is_set():
        host = f"soak-{rng.randint(1, ASSETS):03d}"
        path = rng.choice([
            "/api/v1/assets/?pool=soak", "/api/v1/assets/?state=in_repair", f"/api/v1/assets/{host}/",
            f"/api/v1/assets/{host}/history/", "/api/v1/tickets/?status=open", f"/api/v1/tickets/?asset={host}",
            f"/api/v1/faults/?asset={host}", "/api/v1/faults/?severity=critical", "/api/v1/inspections/",
            f"/api/v1/inspections/?asset={host}", "/api/v1/pools/soak/", "/readyz",
        ])
        load.call("staff read", token, "GET", path)
        stop.wait(rng.uniform(0.1, 0.3))


def technician(load: Load, token: str, stop: threading.Event):
    while not stop.is_set():
        status, page = load.call("staff read", token, "GET", "/api/v1/tickets/?status=open&page_size=5")
        for ticket in page.get("results", []) if status == 200 else []:
            if ticket["asset_state"] != "in_repair":
                continue
            status, _ = load.call("resolve ticket", token, "POST", f"/api/v1/tickets/{ticket['id']}/resolve/",
                                  {"action_taken": "soak: replaced part"}, expect=(200, 409))
            with load.lock:
                load.counters["tickets resolved" if status == 200 else "resolve lost a race (409)"] += 1
        stop.wait(1.0)


def rss_mb(process: psutil.Process) -> float:
    """Resident memory of a process and all its children, in MB."""
    try:
        tree = [process, *process.children(recursive=True)]
        return sum(p.memory_info().rss for p in tree if p.is_running()) / 2**20
    except psutil.NoSuchProcess:
        return 0.0


def start(name, argv, env, log_dir) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "w")
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_all(processes):
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "600")))
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="dam-soak-"))
    port = free_port()
    env = {**os.environ, "DAM_DATA_DIR": str(data_dir), "DAM_INSPECTION_RUNNER": "local",
           "DAM_CHECK_SECONDS": "0.2", "DAM_DISK_SCRATCH_BYTES": str(8 * 2**20),
           "DAM_PROBATION_SWEEP_SECONDS": "10", "DAM_QUEUE": f"dam-soak-{os.getpid()}", "DAM_PORT": str(port),
           # The soak sends the same machines round again and again: without this they are all retired within
           # minutes (3 hardware repairs in 90 days) and the rest of the run has nothing left to repair.
           "DAM_RETIRE_AFTER_HARDWARE_REPAIRS": "1000000",
           "DJANGO_SETTINGS_MODULE": "dam.settings"}
    stack = "PostgreSQL + " if "DATABASE_URL" in os.environ else "SQLite + "
    stack += "Redis" if env.get("CELERY_BROKER_URL", "").startswith("redis") else (
        "RabbitMQ" if env.get("CELERY_BROKER_URL", "").startswith("amqp") else "filesystem broker")
    print(f"soak: {args.seconds:g} s on {stack}, data in {data_dir}", flush=True)

    done = subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"setup failed:\n{done.stderr}")
    tokens = json.loads(done.stdout.strip().splitlines()[-1])

    processes = {
        "web": start("web", [sys.executable, "-m", "gunicorn", "dam.wsgi", "--bind", f"127.0.0.1:{port}",
                             "--workers", "2", "--threads", "4", "--timeout", "60"], env, data_dir),
        "worker": start("worker", [sys.executable, "-m", "celery", "-A", "dam", "worker", "--concurrency", "2",
                                   "--loglevel", "WARNING"], env, data_dir),
        "beat": start("beat", [sys.executable, "-m", "celery", "-A", "dam", "beat", "--loglevel", "WARNING",
                               "--scheduler", "celery.beat:PersistentScheduler",
                               "--schedule", str(data_dir / "beat-schedule")], env, data_dir),
    }
    base_url = f"http://127.0.0.1:{port}"
    load = Load(base_url)
    failures = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base_url + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit("DAM did not become ready in 60 s; see the logs in " + str(data_dir))
            time.sleep(0.5)

        stop = threading.Event()
        threads = [threading.Thread(target=detector, args=(load, tokens[f"soak-detector-{i}"], f"d{i}", stop, i))
                   for i in (1, 2, 3)]
        threads += [threading.Thread(target=reader, args=(load, tokens[f"soak-staff-{i}"], stop, 10 + i))
                    for i in (1, 2)]
        threads.append(threading.Thread(target=technician, args=(load, tokens["soak-tech"], stop)))
        started = time.monotonic()
        for thread in threads:
            thread.start()

        memory = {name: [] for name in processes}
        ps = {name: psutil.Process(p.pid) for name, p in processes.items()}
        next_report = started + 60
        while time.monotonic() - started < args.seconds:
            time.sleep(min(args.sample_seconds, max(0.0, args.seconds - (time.monotonic() - started))))
            for name, process in processes.items():
                if process.poll() is not None:
                    failures.append(f"{name} exited with {process.returncode}")
                    stop.set()
                memory[name].append((time.monotonic() - started, rss_mb(ps[name])))
            if failures:
                break
            if time.monotonic() >= next_report:
                next_report += 60
                with load.lock:
                    total, errors = sum(load.statuses.values()), sum(load.errors.values())
                print(f"  {time.monotonic() - started:5.0f} s  {total} requests, {errors} errors, "
                      + ", ".join(f"{n} {m[-1][1]:.0f} MB" for n, m in memory.items()), flush=True)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        elapsed = time.monotonic() - started

        # Let the fleet settle: every job owed finished, nothing left half done.
        settle_deadline = time.monotonic() + 120
        while True:
            out = subprocess.run([sys.executable, "-c", STATS], cwd=ROOT, env=env, capture_output=True, text=True)
            if out.returncode:
                failures.append(f"could not read the final state: {out.stderr[-500:]}")
                final = {}
                break
            final = json.loads(out.stdout.strip().splitlines()[-1])
            if final["outbox_unfinished"] == 0 and final["states"].get("isolated", 0) == 0 and final["states"].get(
                    "verifying", 0) == 0 or time.monotonic() > settle_deadline:
                break
            time.sleep(2)
    finally:
        stop_all(list(processes.values()))

    # Figures ------------------------------------------------------------------------------------------------
    total = sum(load.statuses.values())
    all_latencies = [v for values in load.latency.values() for v in values]
    print(f"\nsoak: {elapsed:.0f} s, {total} requests ({total / elapsed:.1f}/s), "
          f"{sum(load.errors.values())} errors")
    print(f"{'requests':<24}{'count':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for kind, values in sorted(load.latency.items()) + [("all", all_latencies)]:
        print(f"{kind:<24}{len(values):>8}{statistics.median(values) * 1000:>9.0f}"
              f"{percentile(values, 0.95) * 1000:>9.0f}{percentile(values, 0.99) * 1000:>9.0f}"
              f"{max(values) * 1000:>9.0f}")
    print("status codes: " + ", ".join(f"{code}: {n}" for code, n in sorted(load.statuses.items())))
    print("work: " + ", ".join(f"{k} {v}" for k, v in sorted(load.counters.items())))
    if final:
        print(f"fleet at the end: {final['states']}; faults stored {final['faults']}, repair tickets "
              f"{final['tickets']}, inspections {final['inspections']}")
        print(f"outbox: {final['outbox_jobs']} jobs, {final['outbox_unfinished']} unfinished, "
              f"{final['outbox_sent_more_than_once']} sent more than once")
        if final["outbox_unfinished"]:
            failures.append(f"{final['outbox_unfinished']} jobs never finished")
        if final["open_tickets_per_machine_max"] > 1:
            failures.append("a machine has two open repair tickets")
        if final["isolated_without_ticket"]:
            failures.append(f"{final['isolated_without_ticket']} machines out of service without a ticket")

    print("memory (RSS, MB, process and children): "
          f"{'first quarter':>14}{'last quarter':>14}{'max':>8}{'growth':>9}")
    for name, samples in memory.items():
        values = [mb for _, mb in samples]
        if len(values) < 8:
            continue
        quarter = len(values) // 4
        # The first quarter includes warm-up (imports, connection pools, caches filling); compare its second half.
        first = statistics.median(values[quarter // 2:quarter])
        last = statistics.median(values[-quarter:])
        growth = (last - first) / first * 100
        print(f"  {name:<37}{first:>14.0f}{last:>14.0f}{max(values):>8.0f}{growth:>8.1f}%")
        if last - first > max(0.15 * first, 25):
            failures.append(f"{name} memory grew from {first:.0f} MB to {last:.0f} MB")

    for key, n in load.errors.items():
        failures.append(f"{n} × {key}: {load.error_samples.get(key, '')}")
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        print(f"logs: {data_dir}")
        sys.exit(1)
    print("\nsoak passed: 0 errors, nothing lost, memory flat")


if __name__ == "__main__":
    main()
