"""The broker goes down while faults arrive: ingest keeps answering 202, and once the broker is back every fault is
processed (isolated, one repair ticket per machine). The outbox keeps the owed jobs in the database meanwhile.

A redis-server of the test's own is the broker of a real web server, worker and beat, and is killed with SIGKILL."""
import time

import pytest

from assets.models import Asset, Fault
from reliability.models import OutboxJob
from repairs.models import RepairTicket
from tests.reliability.processes import Redis, request, wait_until

pytestmark = pytest.mark.e2e

FAST = {"DAM_OUTBOX_RELAY_SECONDS": "1", "DAM_OUTBOX_GRACE_SECONDS": "1", "DAM_OUTBOX_REDELIVER_SECONDS": "3"}


def critical_fault(hostname: str, n: int) -> dict:
    return {"asset": hostname, "component": "disk", "severity": "critical", "summary": "SMART: reallocated sectors",
            "event_id": f"outage-{n}"}


def in_repair(hostnames) -> bool:
    return Asset.objects.filter(hostname__in=hostnames, state="in_repair").count() == len(hostnames)


def test_faults_that_arrive_while_the_broker_is_down_are_all_processed_once_it_returns(procs, fleet, token,
                                                                                         tmp_path):
    hosts = [a.hostname for a in fleet(10)]
    detector = token("smartd", "detector")
    redis = procs.add(Redis(tmp_path).start())
    env = procs.env(broker_url=redis.url, **FAST)
    url = procs.web(env)
    procs.worker(env)
    procs.beat(env)

    # Broker up: the usual path.
    for n, host in enumerate(hosts[:3]):
        status, body, _ = request(url, "POST", "/api/v1/faults/", critical_fault(host, n), token=detector)
        assert status == 202 and body["accepted"] == 1, body
    wait_until(lambda: in_repair(hosts[:3]), timeout=30, what="the first machines in repair")
    # The broker dies while faults arrive, not in the middle of the worker acknowledging a job: a job acknowledged
    # on a connection that is going away can leave kombu's worker either dead ("Unrecoverable error: AttributeError
    # ... 'hostname'") or holding an unacknowledged slot for good (prefetch 1: it never asks for more). That is a
    # kombu matter, not this test's; so the broker is killed once the worker has finished (and acknowledged) its jobs.
    wait_until(lambda: not OutboxJob.objects.filter(finished_at__isnull=True).exists(), timeout=30,
               what="the first jobs to finish")
    time.sleep(1)  # the acknowledgement follows the job's end

    # The broker dies. Faults keep arriving and are accepted; the jobs they owe wait in the outbox.
    redis.kill()
    slowest = 0.0
    for n, host in enumerate(hosts[3:], start=3):
        started = time.monotonic()
        status, body, _ = request(url, "POST", "/api/v1/faults/", critical_fault(host, n), token=detector)
        slowest = max(slowest, time.monotonic() - started)
        assert status == 202 and body["accepted"] == 1, body
    print(f"slowest ingest while the broker was down: {slowest:.2f} s")
    assert slowest < 5, f"ingest slowed to {slowest:.1f} s per request while the broker was down"
    status, body, _ = request(url, "GET", "/readyz")
    assert status == 503 and body["checks"]["broker"].startswith("unavailable"), body
    assert body["checks"]["database"] == "ok"
    owed = OutboxJob.objects.filter(task="lifecycle.tasks.isolate_asset", sent_at__isnull=True)
    assert owed.count() == len(hosts) - 3
    assert Asset.objects.filter(hostname__in=hosts[3:], state="active").count() == len(hosts) - 3

    # The broker returns (empty: whatever it held is gone). Everything owed is sent again and processed.
    procs.add(Redis(tmp_path, port=redis.port).start())
    wait_until(lambda: in_repair(hosts), timeout=90, what="every machine in repair", interval=0.5)

    for host in hosts:
        assert RepairTicket.objects.filter(asset__hostname=host).count() == 1, host
    assert not Fault.objects.filter(repair_tickets__isnull=True).exists(), "a fault was left without its ticket"
    wait_until(lambda: not OutboxJob.objects.filter(finished_at__isnull=True).exists(), timeout=30,
               what="the outbox to drain")
    assert not OutboxJob.objects.exclude(outcome="SUCCESS").exists()
