"""A batch of machines (a storm) costs the isolate job and the ticket job a constant number of queries, whatever
its size, and every guarantee of the single path holds for each machine of it: the budget, one ticket per
incident, every decision and transition audited, the webhook deliveries and the pool's drain action owed in the
same transaction, the automatic reboot owed for every ticket whose pool does it. Jobs are not run here (the test's
transaction never commits): what each step owes is read from the outbox."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import lifecycle
from assets.choices import AssetState as S
from assets.choices import Decision
from assets.models import Asset, AssetTransition, AutomationDecision, Fault, Pool
from integrations import tasks as integration_tasks
from integrations.models import Delivery, Webhook
from lifecycle import tasks
from reliability.models import OutboxJob
from repairs.models import RepairTicket


def storm_pool(name: str):
    """Half the pool may be out; it drains what leaves service and reboots through the BMC by itself."""
    return Pool.objects.create(name=name, probation_hours=24, max_unavailable="50%", isolation_action="command",
                               isolation_target="/bin/true", auto_repair="reboot")


@pytest.fixture
def webhook(db):
    return Webhook.objects.create(name="scheduler", url="http://127.0.0.1:9/hook", secret="s")


def storm(hardware_model, size: int, tag: str) -> list[Asset]:
    """A pool of `size` machines with a BMC, each with a critical fault stored (its isolate job owed, not run)."""
    pool = storm_pool(tag)
    assets = [Asset.objects.create(hostname=f"{tag}-{n:03d}", hardware_model=hardware_model, pool=pool,
                                   bmc_url="https://10.0.0.1") for n in range(size)]
    lifecycle.report_faults(detector="smartd", items=[
        {"asset": a.hostname, "component": "network", "severity": "critical", "summary": "link down"}
        for a in assets])
    return assets


def isolate(assets) -> None:
    faults = {f.asset_id: f.id for f in Fault.objects.filter(asset__in=assets)}
    lifecycle.isolate_for_faults([(a.pk, faults[a.pk], "critical") for a in assets])


def open_tickets(assets) -> None:
    isolated = [a.pk for a in Asset.objects.filter(pk__in=[a.pk for a in assets], state=S.ISOLATED)]
    tasks.open_repair_ticket(isolated[0], isolated[1:])


def queries(step, assets) -> int:
    with CaptureQueriesContext(connection) as captured:
        step(assets)
    return len(captured)


def test_the_isolate_job_costs_the_same_queries_for_4_or_40_machines(hardware_model, webhook,
                                                                      django_assert_max_num_queries):
    few, many = storm(hardware_model, 4, "few"), storm(hardware_model, 40, "many")
    counted = queries(isolate, few)
    with django_assert_max_num_queries(counted):
        isolate(many)
    # the budget: half of each pool; the rest wait for staff
    decisions = dict(AutomationDecision.objects.filter(asset__in=many).values_list("asset__hostname", "decision"))
    assert len(decisions) == 40
    isolated = [h for h, d in decisions.items() if d == Decision.ISOLATED]
    assert len(isolated) == 20 and Asset.objects.filter(state=S.ISOLATED).count() == 22
    assert [d for d in decisions.values() if d != Decision.ISOLATED] == [Decision.PENDING_APPROVAL] * 20
    assert AssetTransition.objects.filter(asset__hostname__in=isolated, transition="isolate").count() == 20
    drains = Delivery.objects.filter(event="asset.drain", payload__hostname__in=isolated)
    assert drains.count() == 20
    hooks = Delivery.objects.filter(event="asset.transition", payload__hostname__in=isolated)
    assert hooks.count() == 20
    sends = OutboxJob.objects.filter(task=integration_tasks.send_delivery.name)
    assert {job.args[0] for job in sends} >= {d.id for d in [*drains, *hooks]}
    owed = [job.args for job in OutboxJob.objects.filter(task=tasks.open_repair_ticket.name)]
    assert sorted(a for args in owed for a in [args[0], *(args[1] if len(args) > 1 else [])]) == sorted(
        Asset.objects.filter(state=S.ISOLATED).values_list("pk", flat=True))


def test_the_ticket_job_costs_the_same_queries_for_4_or_40_machines(hardware_model, webhook,
                                                                     django_assert_max_num_queries):
    few, many = storm(hardware_model, 4, "few"), storm(hardware_model, 40, "many")
    isolate(few)
    isolate(many)  # 2 + 20 isolated (the budget: half of each pool)
    counted = queries(open_tickets, few)
    with django_assert_max_num_queries(counted):
        open_tickets(many)
    in_repair = list(Asset.objects.filter(state=S.IN_REPAIR).order_by("id"))
    assert len(in_repair) == 22
    tickets = RepairTicket.objects.filter(asset__in=in_repair)
    assert sorted(t.asset_id for t in tickets) == [a.pk for a in in_repair]  # one ticket each
    for ticket in tickets:
        assert [f.asset_id for f in ticket.faults.all()] == [ticket.asset_id]  # its incident's fault linked
        assert ticket.repair_action == "reboot" and "link down" in ticket.summary
        row = AssetTransition.objects.get(asset_id=ticket.asset_id, transition="start_repair")
        assert row.reason.startswith(f"repair ticket #{ticket.id} opened (reboot)")
    # The automatic reboot owed for every ticket, as the single path owes it (the pool reboots, each has a BMC).
    assert sorted(job.args[0] for job in OutboxJob.objects.filter(task=tasks.auto_repair.name)) == sorted(
        t.id for t in tickets)
    assert Delivery.objects.filter(event="ticket.opened").count() == 22
    # A second run (the job's message delivered again) opens nothing more.
    ids = [a.pk for a in in_repair]
    tasks.open_repair_ticket(ids[0], ids[1:])  # they are in repair: nothing to do
    assert RepairTicket.objects.count() == 22


def test_a_batch_retires_the_machines_due_for_it_instead_of_opening_tickets(hardware_model, settings):
    settings.DAM_RETIRE_AFTER_HARDWARE_REPAIRS = 0  # every machine is due
    assets = storm(hardware_model, 4, "worn")
    isolate(assets)
    open_tickets(assets)
    assert sorted(Asset.objects.values_list("state", flat=True)) == [S.ACTIVE] * 2 + [S.RETIRED] * 2
    assert not RepairTicket.objects.exists()
    assert AssetTransition.objects.filter(transition="retire", reason__startswith="retired instead").count() == 2
