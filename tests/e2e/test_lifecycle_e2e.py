"""The whole lifecycle over HTTP with a real Celery worker process: what the README walkthrough shows.

Runs on whichever stack `make test` selected: SQLite + filesystem broker, or PostgreSQL + Redis.
"""
import subprocess
import time
import sys

import pytest

from dam.celery import app as celery_app
from reliability.models import OutboxJob
from repairs.models import RepairTicket
from tests.e2e.conftest import ROOT, issue_token, purge_stale_jobs, start_worker, stop_worker, wait_for_state
from tests.reliability.processes import wait_until

pytestmark = pytest.mark.e2e


def post_critical_fault(detector, hostname, event_id, expect="accepted"):
    status, body = detector.post("/api/v1/faults/", {
        "asset": hostname, "component": "disk", "severity": "critical",
        "summary": "SMART: 48 reallocated sectors", "event_id": event_id})
    assert status == 202 and body["results"][0]["status"] == expect, body


def test_critical_fault_is_isolated_ticketed_verified_and_returned(worker, http, asset):
    detector, staff = http("detector"), http("staff")

    post_critical_fault(detector, asset.hostname, "smart-1")
    post_critical_fault(detector, asset.hostname, "smart-1", expect="duplicate")  # a retry: stored once

    body = wait_for_state(staff, asset.hostname, "in_repair")
    assert body["open_ticket"] is not None
    assert RepairTicket.objects.filter(asset=asset).count() == 1
    _, ticket = staff.get(f"/api/v1/tickets/{body['open_ticket']}/")
    assert ticket["status"] == "open" and len(ticket["faults"]) == 1

    status, ticket = staff.post(f"/api/v1/tickets/{ticket['id']}/resolve/", {"action_taken": "replaced disk 3"})
    assert status == 200, ticket

    body = wait_for_state(staff, asset.hostname, "returned")
    assert body["open_ticket"] is None
    assert body["last_inspection"]["verdict"] == "passed"
    _, history = staff.get(f"/api/v1/assets/{asset.hostname}/history/")
    assert [(row["transition"], row["actor"]) for row in history["results"]] == [
        ("pass_verification", f"job:inspection #{body['last_inspection']['id']}"),
        ("start_verification", "staff-e2e"),
        ("start_repair", "job:open_repair_ticket"),
        ("isolate", "job:isolate_asset"),
    ]


def test_an_isolate_worker_isolates_while_the_ticket_waits_for_the_other_worker(transactional_db, live_server,
                                                                                 http, asset, tmp_path, settings):
    # given only a worker for the isolate queue, as on a busy fleet (README: several machines)
    celery_app.conf.task_always_eager = False
    isolate_log, rest_log = tmp_path / "isolate-worker.log", tmp_path / "worker.log"
    purge_stale_jobs()
    isolate_worker = start_worker("isolate", isolate_log, tmp_path / "scratch-isolate",
                                  concurrency=1, queues=[settings.DAM_ISOLATE_QUEUE])
    detector, staff = http("detector"), http("staff")
    try:
        # when a critical fault arrives, the machine is isolated at once
        post_critical_fault(detector, asset.hostname, "split-1")
        wait_for_state(staff, asset.hostname, "isolated")
        # and its ticket job is owed to the other queue, which nobody serves yet: sent by the isolate worker right
        # after the isolation's commit (which the test may see first, on a busy machine)
        ticket_job = OutboxJob.objects.get(task="lifecycle.tasks.open_repair_ticket")
        wait_until(lambda: OutboxJob.objects.filter(pk=ticket_job.pk, sent_at__isnull=False).exists(), timeout=30,
                   what="the ticket job sent")
        ticket_job.refresh_from_db()
        assert ticket_job.sent_at is not None and ticket_job.finished_at is None

        # then the worker of the other jobs opens the ticket
        rest = start_worker("rest", rest_log, tmp_path / "scratch-rest",
                            queues=[settings.CELERY_TASK_DEFAULT_QUEUE])
        try:
            assert wait_for_state(staff, asset.hostname, "in_repair")["open_ticket"] is not None
        finally:
            stop_worker(rest, rest_log)
    finally:
        stop_worker(isolate_worker, isolate_log)
    assert RepairTicket.objects.filter(asset=asset).count() == 1


def test_failing_inspection_sends_the_machine_back_with_the_ticket_reopened(worker, http, asset):
    # A DIMM is missing: the machine reports half the memory its hardware model should have.
    model = asset.hardware_model
    model.memory_bytes *= 2
    model.save()
    detector, staff = http("detector"), http("staff")

    post_critical_fault(detector, asset.hostname, "dimm-1")
    body = wait_for_state(staff, asset.hostname, "in_repair")
    ticket_id = body["open_ticket"]
    staff.post(f"/api/v1/tickets/{ticket_id}/resolve/", {"action_taken": "reseated DIMMs"})

    wait_for_state(staff, asset.hostname, "verifying", "in_repair")
    body = wait_for_state(staff, asset.hostname, "in_repair")  # after verifying, back to repair
    assert body["last_inspection"]["verdict"] == "failed"
    assert body["open_ticket"] == ticket_id
    _, ticket = staff.get(f"/api/v1/tickets/{ticket_id}/")
    assert ticket["status"] == "open" and ticket["reopen_count"] == 1
    assert "memory" in ticket["notes"] and "spec" in ticket["notes"]


def test_host_agent_runs_the_inspection_against_the_live_server(worker, http, asset, live_server, settings,
                                                                capsys, tmp_path):
    settings.DAM_INSPECTION_RUNNER = "agent"  # the server leaves the inspection for the host's agent
    detector, staff = http("detector"), http("staff")
    post_critical_fault(detector, asset.hostname, "agent-1")
    body = wait_for_state(staff, asset.hostname, "in_repair")
    staff.post(f"/api/v1/tickets/{body['open_ticket']}/resolve/", {"action_taken": "replaced PSU"})
    assert wait_for_state(staff, asset.hostname, "verifying")["last_inspection"]["verdict"] == "pending"

    agent_token = issue_token(asset.hostname, "agent", capsys)
    result = subprocess.run(
        [sys.executable, "-m", "inspection.agent", "--server", live_server.url, "--token", agent_token,
         "--hostname", asset.hostname, "--once", "--scratch-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr

    body = wait_for_state(staff, asset.hostname, "returned")
    _, inspection = staff.get(f"/api/v1/inspections/{body['last_inspection']['id']}/")
    assert inspection["runner"] == f"agent:{asset.hostname}"
    assert {c["name"] for c in inspection["checks"]} >= {"inventory.memory_total_bytes", "cpu.sha256_mb_per_s"}


def test_an_inconclusive_verification_leaves_the_machine_verifying(transactional_db, live_server, http, asset,
                                                                    tmp_path):
    # given a real worker whose disturbance limit no measurement can meet (other processes' CPU above -1 %: every
    # curve counts as disturbed, whatever the machine does), measuring once per curve, and a CPU baseline no CPU
    # reaches: the verification's CPU curve fails, under "disturbance"
    celery_app.conf.task_always_eager = False
    model = asset.hardware_model
    model.baselines.filter(metric="cpu.sha256_mb_per_s").update(expected=1e9, tolerance_pct=10)
    log_path = tmp_path / "worker.log"
    purge_stale_jobs()
    process = start_worker("w1", log_path, tmp_path / "scratch", extra_env={
        "DAM_DISTURBANCE_LIMITS": '{"others_cpu_pct": -1}', "DAM_DISTURBANCE_RETRIES": "0"})
    try:
        detector, staff = http("detector"), http("staff")
        post_critical_fault(detector, asset.hostname, "cpu-1")
        body = wait_for_state(staff, asset.hostname, "in_repair")
        ticket_id = body["open_ticket"]
        status, _ = staff.post(f"/api/v1/tickets/{ticket_id}/resolve/", {"action_taken": "reseated CPU"})
        assert status == 200

        # then the verdict is inconclusive, naming the disturbance, and the machine stays verifying
        deadline = time.monotonic() + 60
        while True:
            _, inspections = staff.get(f"/api/v1/inspections/?asset={asset.hostname}")
            latest = inspections["results"][0] if inspections["results"] else {}
            if latest.get("verdict") not in (None, "pending", "running") or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert latest["verdict"] == "inconclusive", latest
        assert "other processes used" in latest["summary"] and "during the CPU curve" in latest["summary"]
        assert latest["disturbance"]["curves"]["cpu"]["others_cpu_pct"] >= 0
        _, body = staff.get(f"/api/v1/assets/{asset.hostname}/")
        assert body["state"] == "verifying"
        _, ticket = staff.get(f"/api/v1/tickets/{ticket_id}/")
        assert ticket["reopen_count"] == 0 and ticket["status"] == "resolved"
    finally:
        stop_worker(process, log_path)
