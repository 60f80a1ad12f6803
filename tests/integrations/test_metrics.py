"""GET /metrics: the contract's metric names, read from the database, valid for promtool."""
import shutil
import subprocess
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

import lifecycle
from assets.models import AutomationDecision, Fault, IsolationRequest
from dam import metrics
from inspection.models import Inspection
from reliability.models import OutboxJob
from repairs.models import RepairTicket
from tests.api.helpers import assert_error


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, frozenset of labels): value} of an exposition."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(figures, name, **labels):
    return figures[(name, frozenset(labels.items()))]


def report(asset, severity="critical", component="disk", **extra):
    return lifecycle.report_faults(detector="smartd", items=[{
        "asset": asset.hostname, "component": component, "severity": severity, "summary": "SMART errors", **extra}])


@pytest.fixture(autouse=True)
def fresh_cache():
    """The counters' kept sums belong to one database; each test has a new one. (Only these keys: the cache may be
    the Redis that is also the broker.)"""
    keys = [tally.key for tally in metrics.TALLIES]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


@pytest.fixture
def fleet(make_asset, pool):
    pool.max_unavailable = "1"
    pool.save()
    return [make_asset(f"host-{n:02d}") for n in range(5)]


def test_no_token_is_a_json_401(client, db):
    assert_error(client.get("/metrics"), 401)


@pytest.mark.parametrize("role", ["viewer", "agent", "detector", "staff"])
def test_any_role_reads_the_metrics(api, asset, role):
    response = api(role, name="host-001" if role == "agent" else None).get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")


def test_figures_of_a_fleet(api, fleet, eager_jobs):
    # given: one machine isolated by a critical fault, one held back by the budget, a warning, an overdue ticket
    report(fleet[0])
    report(fleet[1])
    report(fleet[2], severity="warning", component="memory")
    RepairTicket.objects.filter(asset=fleet[0]).update(due_at=timezone.now() - timedelta(hours=1))
    Inspection.objects.create(asset=fleet[3], purpose="scheduled", verdict="passed")
    Inspection.objects.create(asset=fleet[4], purpose="scheduled", verdict="pending")
    OutboxJob.objects.create(task="lifecycle.tasks.isolate_asset", next_try_at=timezone.now(),
                             created_at=timezone.now() - timedelta(seconds=30))

    response = api("viewer").get("/metrics", HTTP_ACCEPT="text/plain")
    figures = samples(response.content.decode())

    assert value(figures, "dam_assets", state="in_repair", pool="batch") == 1
    assert value(figures, "dam_assets", state="active", pool="batch") == 4
    assert value(figures, "dam_assets", state="retired", pool="batch") == 0
    assert value(figures, "dam_isolation_requests_pending", pool="batch") == 1
    assert value(figures, "dam_tickets_open", overdue="true") == 1
    assert value(figures, "dam_tickets_open", overdue="false") == 0
    assert value(figures, "dam_faults_total", severity="critical", component="disk") == 2
    assert value(figures, "dam_faults_total", severity="warning", component="memory") == 1
    assert value(figures, "dam_transitions_total", transition="isolate") == 1
    assert value(figures, "dam_transitions_total", transition="start_repair") == 1
    assert value(figures, "dam_inspections_total", purpose="scheduled", verdict="passed") == 1
    assert value(figures, "dam_inspections_unfinished", purpose="scheduled", verdict="pending") == 1
    assert value(figures, "dam_outbox_unsent") == 1
    assert 29 < value(figures, "dam_outbox_oldest_unsent_seconds") < 120
    assert value(figures, "dam_fault_to_isolation_seconds_count") == 1
    assert value(figures, "dam_fault_to_isolation_seconds_bucket", le="+Inf") == 1
    assert value(figures, "dam_fault_to_isolation_seconds_bucket", le="60.0") == 1


def test_fault_to_isolation_latency_by_automation_and_by_approval(api, fleet, eager_jobs):
    report(fleet[0])
    report(fleet[1])  # held back by the budget
    now = timezone.now()
    fault = Fault.objects.get(asset=fleet[0])
    Fault.objects.filter(pk=fault.pk).update(received_at=now - timedelta(seconds=3))
    AutomationDecision.objects.filter(fault=fault).update(at=now)
    request = IsolationRequest.objects.get()
    Fault.objects.filter(pk=request.fault_id).update(received_at=now - timedelta(minutes=20))
    lifecycle.approve_isolation(request_id=request.pk, actor="staff", reason="go")

    figures = samples(api("viewer").get("/metrics").content.decode())
    bucket = lambda le: value(figures, "dam_fault_to_isolation_seconds_bucket", le=le)  # noqa: E731
    assert (bucket("2.0"), bucket("5.0"), bucket("600.0"), bucket("1800.0"), bucket("+Inf")) == (0, 1, 1, 2, 2)
    assert 1200 < value(figures, "dam_fault_to_isolation_seconds_sum") < 1300


def test_counters_keep_the_old_rows_sums_and_count_only_the_new(fleet, eager_jobs, django_assert_max_num_queries):
    for n in range(3):
        report(fleet[n], severity="info", component="disk", event_id=f"e{n}")
    Fault.objects.update(received_at=timezone.now() - timedelta(hours=1))  # settled
    assert metrics.FAULTS.read(timezone.now()) == {("info", "disk"): [3]}
    kept = cache.get(metrics.FAULTS.key)
    assert kept["upto"] == Fault.objects.latest("pk").pk and kept["values"] == {("info", "disk"): [3]}

    report(fleet[3], severity="info", component="cpu")  # new: not settled, counted at each scrape
    assert metrics.FAULTS.read(timezone.now()) == {("info", "disk"): [3], ("info", "cpu"): [1]}
    assert cache.get(metrics.FAULTS.key)["upto"] == kept["upto"]
    # The settled rows are not counted again: the kept sums are what is read for them.
    cache.set(metrics.FAULTS.key, {**kept, "values": {("info", "disk"): [1000]}}, timeout=None)
    assert metrics.FAULTS.read(timezone.now()) == {("info", "disk"): [1000], ("info", "cpu"): [1]}

    # The marked row is gone (its machine deleted, or another database): counted again from scratch, not wrong.
    Fault.objects.filter(pk=kept["upto"]).delete()
    assert metrics.FAULTS.read(timezone.now()) == {("info", "disk"): [2], ("info", "cpu"): [1]}


def test_promtool_finds_nothing_wrong(api, fleet, eager_jobs):
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    if not shutil.which(promtool):
        pytest.skip("promtool is not installed (Debian package prometheus)")
    report(fleet[0])
    report(fleet[1])
    text = api("viewer").get("/metrics").content
    checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=30)
    assert checked.returncode == 0 and not checked.stdout and not checked.stderr, (
        checked.stdout + checked.stderr).decode()
