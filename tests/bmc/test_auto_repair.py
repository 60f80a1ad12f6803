"""Automatic reboot through the BMC (lifecycle/auto_repair.py), against a real Redfish service (sushy-emulator):
end to end with a real worker process, then what a BMC that refuses or is down leaves for staff, and the switches
(dry run, pause) under which it calls nothing. The reimage rung is handed over to provisioning."""

from datetime import timedelta

import pytest
from django.utils import timezone

from assets.models import AutomationDecision, FleetAutomation
from integrations.models import BmcCall, Delivery
import lifecycle
from repairs.models import RepairTicket
from tests.bmc.conftest import PASSWORD
from tests.e2e.conftest import http, wait_for_state, worker  # noqa: F401 - fixtures

MCE = {"component": "cpu", "severity": "critical",
       "summary": "MCE: machine check exception, bank 4, uncorrected, CPU 12"}


@pytest.fixture(autouse=True)
def quick_bmc(settings, monkeypatch):
    """Ask the BMC every 0.3 s, here and in the worker (which reads its environment)."""
    monkeypatch.setenv("DAM_BMC_POLL_SECONDS", "0.3")
    monkeypatch.setenv("DAM_BMC_POWER_ON_TIMEOUT", "60")
    settings.DAM_BMC_POLL_SECONDS, settings.DAM_BMC_POWER_ON_TIMEOUT = 0.3, 60


def repair_by_reboot(asset, *, automation="on"):
    asset.pool.auto_repair, asset.pool.automation = "reboot", automation
    asset.pool.save()


def isolate_for_mce(asset) -> RepairTicket:
    """The MCE's incident as the jobs run it: isolated, ticket opened (a CPU fault starts at the reboot rung)."""
    lifecycle.report_faults(detector="mcelog", items=[{"asset": asset.hostname, **MCE}])
    asset.refresh_from_db()
    if asset.state == "isolated":  # the jobs did not run (yet)
        lifecycle.start_repair(asset_id=asset.id, actor="job:open_repair_ticket")
    return RepairTicket.objects.get(asset=asset)


@pytest.mark.e2e
def test_an_mce_is_rebooted_verified_and_returned_by_dam_alone(worker, http, make_asset,  # noqa: F811
                                                               with_bmc, bmc_log, tmp_path, admin_client):
    asset = with_bmc(make_asset("host-e2e"))
    staff, detector = http("staff"), http("detector")
    status, pool = staff.request("PATCH", f"/api/v1/pools/{asset.pool.name}/", {"auto_repair": "reboot"})
    assert status == 200 and pool["auto_repair"] == "reboot", pool

    status, body = detector.post("/api/v1/faults/", {"asset": asset.hostname, **MCE, "event_id": "mce-1"})
    assert status == 202, body

    body = wait_for_state(staff, asset.hostname, "returned", timeout=120)
    assert body["last_inspection"]["verdict"] == "passed" and body["open_ticket"] is None
    _, history = staff.get(f"/api/v1/assets/{asset.hostname}/history/")
    assert [(row["transition"], row["actor"]) for row in history["results"]] == [
        ("pass_verification", f"job:inspection #{body['last_inspection']['id']}"),
        ("start_verification", "job:auto_repair"),
        ("start_repair", "job:open_repair_ticket"),
        ("isolate", "job:isolate_asset"),
    ]
    ticket = RepairTicket.objects.get(asset__hostname=asset.hostname)
    assert (ticket.repair_action, ticket.performed_action, ticket.status) == ("reboot", "reboot", "resolved")
    assert ticket.closed_at is not None and "Rebooted through the BMC (Redfish ForceRestart)" in ticket.action_taken
    calls = list(BmcCall.objects.filter(ticket_id=ticket.id).order_by("id"))
    assert [(c.action, c.reset_type, c.outcome, c.actor) for c in calls] == [
        ("cycle", "ForceRestart", "ok", "job:auto_repair"), ("wait_on", "", "ok", "job:auto_repair")]
    assert calls[1].power_state == "On"
    assert "POST /redfish/v1/Systems/host-e2e/Actions/ComputerSystem.Reset" in bmc_log()

    # The password is in no answer, log line or page.
    page = admin_client.get(f"/admin/assets/asset/{asset.pk}/change/").content.decode()
    assert "BMC: power cycle (ForceRestart)" in page
    _, detail = staff.get(f"/api/v1/assets/{asset.hostname}/")
    _, ticket_answer = staff.get(f"/api/v1/tickets/{ticket.id}/")
    for text in (page, str(detail), str(ticket_answer), str(history), (tmp_path / "worker.log").read_text(),
                 bmc_log()):
        assert PASSWORD not in text


@pytest.mark.django_db(transaction=True)
def test_a_wrong_password_leaves_the_ticket_open_with_the_bmcs_401(eager_jobs, make_asset, with_bmc):
    asset = with_bmc(make_asset("host-401"), password="not-it")
    repair_by_reboot(asset)
    ticket = isolate_for_mce(asset)
    ticket.refresh_from_db()
    asset.refresh_from_db()
    assert asset.state == "in_repair" and ticket.status == "open" and ticket.resolved_at is None
    assert "Automatic reboot through the BMC failed; left for staff" in ticket.notes
    assert "401" in ticket.notes and "Incorrect username or password" in ticket.notes
    assert BmcCall.objects.get(asset=asset).outcome == "failed"


@pytest.mark.django_db(transaction=True)
def test_a_bmc_that_is_down_leaves_the_ticket_open_with_the_connection_error(eager_jobs, make_asset, with_bmc,
                                                                            down_bmc_url):
    asset = with_bmc(make_asset("host-down"), url=down_bmc_url)
    repair_by_reboot(asset)
    ticket = isolate_for_mce(asset)
    ticket.refresh_from_db()
    assert ticket.status == "open" and "ConnectionError" in ticket.notes and "Connection refused" in ticket.notes
    assert RepairTicket.objects.get(pk=ticket.pk).asset.state == "in_repair"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("switch", ["dry_run", "pool_paused", "fleet_paused", "excluded"])
def test_under_the_switches_it_records_what_it_would_do_and_calls_nothing(eager_jobs, make_asset, with_bmc,
                                                                        bmc_log, switch):
    asset = with_bmc(make_asset("host-dry"))
    repair_by_reboot(asset, automation={"dry_run": "dry_run", "pool_paused": "paused"}.get(switch, "on"))
    if switch == "fleet_paused":
        FleetAutomation.objects.create(pk=1, paused=True, reason="maintenance")
    if switch == "excluded":
        asset.exclude_from_automation = True
        asset.save()
    before = bmc_log().count("host-dry")
    # Under these switches a fault isolates nothing by itself: staff isolate the machine, and its ticket opens.
    lifecycle.isolate(asset_id=asset.id, actor="alice", reason="MCE seen on the console")
    ticket = RepairTicket.objects.get(asset=asset)

    ticket.refresh_from_db()
    assert ticket.repair_action == "reboot" and ticket.status == "open"
    assert not BmcCall.objects.filter(asset=asset).exists()
    assert bmc_log().count("host-dry") == before  # not one request reached the BMC
    decision = AutomationDecision.objects.filter(asset=asset, actor="job:auto_repair").get()
    expected = {"dry_run": "dry_run", "pool_paused": "paused", "fleet_paused": "paused", "excluded": "excluded"}
    assert decision.decision == expected[switch]
    if switch == "dry_run":
        assert "would reset it through its BMC" in decision.reason
    assert "Automatic reboot not done" in ticket.notes


@pytest.mark.django_db(transaction=True)
def test_the_reimage_rung_is_handed_to_provisioning(eager_jobs, make_asset, tmp_path):
    # given a pool whose provisioning reimages through a command, and a machine on its second incident
    script = tmp_path / "reimage.sh"
    script.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'calls'}\n")
    script.chmod(0o755)
    asset = make_asset("host-reimage")
    asset.pool.reimage_action, asset.pool.reimage_target = "command", f"/bin/sh {script}"
    asset.pool.save()
    # (rebooted a week ago for the same trouble: this incident escalates to the next rung, reimage)
    week_ago = timezone.now() - timedelta(days=7)
    first = RepairTicket.objects.create(asset=asset, summary="cpu: MCE", opened_by="job:open_repair_ticket",
                                        opened_at=week_ago, repair_action="reboot", performed_action="reboot",
                                        status="resolved", resolved_at=week_ago, closed_at=week_ago)
    lifecycle.report_faults(detector="mcelog", items=[{"asset": asset.hostname, **MCE}])
    second = RepairTicket.objects.exclude(pk=first.pk).get(asset=asset)
    assert second.repair_action == "reimage"

    delivery = Delivery.objects.get(event="asset.reimage")
    assert delivery.status == "delivered" and delivery.payload["ticket"] == second.id
    assert (tmp_path / "calls").read_text().strip() == f"reimage {asset.hostname}"
    second.refresh_from_db()
    assert "Reimage handed over to provisioning" in second.notes and second.status == "open"
