"""A worker killed with SIGKILL in the middle of isolate, open-ticket and verify jobs: after the outbox's redelivery
and the reconcile interval every machine is where it should be, and no incident has two repair tickets.

The worker is slowed down (tests/reliability/slow_worker.py: each lifecycle step holds its transaction open a while)
so that the kill lands mid-step; a plain worker takes over afterwards. Beat runs throughout."""
import sys
import time

import pytest

from assets.models import Asset, AssetTransition
from inspection.models import Inspection
from repairs.models import RepairTicket
from tests.reliability.processes import ROOT, request, wait_until

pytestmark = pytest.mark.e2e

FAST = {"DAM_OUTBOX_RELAY_SECONDS": "1", "DAM_OUTBOX_GRACE_SECONDS": "1", "DAM_OUTBOX_REDELIVER_SECONDS": "3",
        "DAM_RECONCILE_SECONDS": "1", "DAM_RECONCILE_GRACE_SECONDS": "3", "DAM_INSPECTION_TIMEOUT_SECONDS": "4",
        "DAM_TEST_STEP_SECONDS": "1"}
SLOW = [sys.executable, str(ROOT / "tests" / "reliability" / "slow_worker.py")]


def count(hosts, state) -> int:
    return Asset.objects.filter(hostname__in=hosts, state=state).count()


def test_a_worker_killed_mid_job_leaves_every_machine_where_it_should_be(procs, fleet, token):
    hosts = [a.hostname for a in fleet(6)]
    detector, staff = token("smartd", "detector"), token("alice", "staff")
    env = procs.env(**FAST)
    url = procs.web(env)
    procs.beat(env)

    # 1. Isolate and open tickets: kill the worker twice while the steps run.
    worker = procs.worker(env, argv_prefix=SLOW)
    faults = [{"asset": h, "component": "memory", "severity": "critical", "summary": "DIMM B2 uncorrectable",
               "event_id": f"kill-{h}"} for h in hosts]
    status, body, _ = request(url, "POST", "/api/v1/faults/", faults, token=detector)
    assert status == 202 and body["accepted"] == len(hosts), body
    time.sleep(1.5)
    worker.kill()
    assert count(hosts, "in_repair") < len(hosts), "the worker finished before it was killed: no test"
    worker = procs.worker(env, argv_prefix=SLOW)
    time.sleep(1.5)
    worker.kill()

    procs.worker(env)
    wait_until(lambda: count(hosts, "in_repair") == len(hosts), timeout=60, interval=0.5,
               what="every machine in repair")
    for host in hosts:
        assert RepairTicket.objects.filter(asset__hostname=host).count() == 1, f"{host} has two tickets"

    # 2. Verify: the technician resolves every ticket; the worker is killed while it measures the machines.
    procs.all[-1].kill()  # nothing in flight: the plain worker makes way for a slow one
    worker = procs.worker(env, argv_prefix=SLOW)
    for ticket in RepairTicket.objects.filter(asset__hostname__in=hosts):
        status, body, _ = request(url, "POST", f"/api/v1/tickets/{ticket.id}/resolve/",
                                  {"action_taken": "replaced DIMM B2"}, token=staff)
        assert status == 200, body
    wait_until(lambda: Inspection.objects.filter(verdict="running").exists(), timeout=20,
               what="an inspection running")
    time.sleep(0.5)
    worker.kill()
    assert count(hosts, "returned") < len(hosts), "the worker finished before it was killed: no test"

    procs.worker(env)
    wait_until(lambda: count(hosts, "returned") == len(hosts), timeout=90, interval=0.5,
               what="every machine verified and returned")

    for host in hosts:
        tickets = RepairTicket.objects.filter(asset__hostname=host)
        assert tickets.count() == 1, f"{host} has {tickets.count()} tickets for one incident"
        assert tickets.get().closed_at is not None
        walk = list(AssetTransition.objects.filter(asset__hostname=host).order_by("at", "id")
                    .values_list("transition", flat=True))
        assert walk == ["isolate", "start_repair", "start_verification", "pass_verification"], (host, walk)
