"""Step 3½, repairs DAM carries out itself, under the same switches as all automation (the fleet's pause, the pool's
`automation`: paused, dry_run; the asset's exclusion):

- the reboot rung, where the pool says `auto_repair: reboot` and the machine has a BMC: a Redfish reset
  (integrations/bmc.py), then DAM waits for PowerState On and resolves the ticket itself (actor job:auto_repair,
  action reboot); the machine goes to be verified as after any repair (step 4). A BMC that refuses or does not
  answer leaves the ticket open for staff, its error in the ticket's notes.
- the reimage rung, where the pool has a `reimage_action`: handed over to provisioning (MAAS, Ironic, Foreman), a
  webhook or a command called with the hostname; provisioning resolves the ticket through the API when it is done.

Where the host runs DAM's agent, the verification that follows the reboot waits for the agent to check in and
pull it: the reboot's "is it back?" is answered by that inspection, not by this job.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from assets.choices import AssetState, AutoRepair, Automation, Decision
from assets.conflicts import Conflict
from assets.models import AutomationDecision, FleetAutomation
from integrations import bmc
from integrations import services as integrations
from integrations import tasks as integration_tasks
from integrations.models import BmcCall
from lifecycle import tasks
from lifecycle.transitions import owe_job, owe_jobs
from repairs import services as tickets
from repairs.choices import RepairAction
from repairs.models import RepairTicket

log = logging.getLogger(__name__)

ACTOR = "job:auto_repair"


def rung_for(asset, ticket: RepairTicket) -> str | None:
    """The rung DAM carries out itself for this ticket, if the pool says so and the machine allows it."""
    pool = asset.pool
    if ticket.repair_action == RepairAction.REBOOT and pool.auto_repair == AutoRepair.REBOOT and asset.has_bmc:
        return RepairAction.REBOOT
    if ticket.repair_action == RepairAction.REIMAGE and pool.reimage_action != "none" and pool.reimage_target:
        return RepairAction.REIMAGE
    return None


def owe_auto_repairs(opened: list[tuple]) -> None:
    """Called where tickets are opened, in their transaction, with each (asset, ticket): owe the job (one INSERT for
    them all) for each ticket whose rung DAM does itself. The switches are read when the job runs, so a pause in
    between holds it back."""
    owe_jobs(tasks.auto_repair, [[ticket.id] for asset, ticket in opened if rung_for(asset, ticket)])


def held_back(asset) -> tuple[str, str] | None:
    """Why automation may not act on this machine now (the decision and its reason), or None if it may."""
    pool = asset.pool
    if FleetAutomation.is_paused():
        return Decision.PAUSED, "automation is paused fleet-wide"
    if pool.automation == Automation.PAUSED:
        return Decision.PAUSED, f"automation is paused for pool {pool.name}"
    if asset.exclude_from_automation:
        return Decision.EXCLUDED, "the asset is excluded from automation"
    if pool.automation == Automation.DRY_RUN:
        return Decision.DRY_RUN, f"pool {pool.name} is in dry run"
    return None


WOULD = {
    RepairAction.REBOOT: "reset it through its BMC (the first of ForceRestart, PowerCycle, GracefulRestart it "
                         "allows), wait for PowerState On and resolve the ticket",
    RepairAction.REIMAGE: "hand the reimage over to provisioning",
}


def auto_repair(*, ticket_id: int) -> str:
    """Carry out the ticket's rung, if it is still to be done and automation may; safe to run twice. Returns what
    it did, in words (the job's result, and the tests')."""
    ticket = RepairTicket.objects.select_related("asset__pool").get(pk=ticket_id)
    asset = ticket.asset
    if not tickets.is_workable(ticket) or asset.state != AssetState.IN_REPAIR:
        return f"nothing to do: ticket #{ticket.id} is {ticket.status}, {asset.hostname} is {asset.state}"
    rung = rung_for(asset, ticket)
    if rung is None:
        return f"nothing to do: pool {asset.pool.name} does not automate {ticket.repair_action} here"
    if hold := held_back(asset):
        decision, why = hold
        what = f"would {WOULD[rung]}" if decision == Decision.DRY_RUN else f"did not {rung}"
        reason = f"ticket #{ticket.id}: {why}: {what}; nothing sent"
        AutomationDecision.objects.create(asset=asset, decision=decision, reason=reason, actor=ACTOR)
        _note(ticket, f"Automatic {rung} not done ({why}); left for staff.")
        return reason
    if rung == RepairAction.REIMAGE:
        return _hand_over_reimage(ticket, asset)
    return _reboot(ticket, asset)


def _reboot(ticket: RepairTicket, asset) -> str:
    import lifecycle  # the package's entry points import this module: read them when the job runs

    why = f"ticket #{ticket.id} ({ticket.repair_action}): {ticket.summary}"[:2000]
    try:
        # A repeat of this job (its worker died while waiting) does not reset the machine a second time.
        reset = BmcCall.objects.filter(ticket_id=ticket.id, actor=ACTOR, action="cycle",
                                       outcome=BmcCall.Outcome.OK).order_by("-id").first()
        if reset is None:
            reset = bmc.power(asset=asset, action="cycle", actor=ACTOR, reason=why, ticket_id=ticket.id)
        back = bmc.wait_for_power_on(asset=asset, actor=ACTOR, reason=why, ticket_id=ticket.id,
                                     timeout=settings.DAM_BMC_POWER_ON_TIMEOUT, poll=settings.DAM_BMC_POLL_SECONDS)
    except bmc.BmcFailed as failure:
        _note(ticket, f"Automatic reboot through the BMC failed; left for staff. The BMC: {failure}")
        return f"BMC failed: {failure}"
    except bmc.NoBmc as no_bmc:  # its BMC was removed meanwhile
        _note(ticket, f"Automatic reboot not done; left for staff: {no_bmc.detail}")
        return no_bmc.detail
    try:
        lifecycle.resolve_ticket(ticket_id=ticket.id, actor=ACTOR, action="reboot",
                                 action_taken=f"Rebooted through the BMC (Redfish {reset.reset_type or 'reset'}): "
                                              f"{back.answer}.")
    except Conflict as conflict:  # staff resolved, cancelled or moved it meanwhile: theirs stands
        log.info("auto_repair: ticket #%s not resolved: %s", ticket.id, conflict.detail)
        return f"rebooted; not resolved: {conflict.detail}"
    return f"rebooted ({reset.reset_type}) and resolved ticket #{ticket.id}"


def _hand_over_reimage(ticket: RepairTicket, asset) -> str:
    pool = asset.pool
    with transaction.atomic():
        locked = RepairTicket.objects.select_for_update().get(pk=ticket.id)
        if not tickets.is_workable(locked):
            return f"nothing to do: ticket #{ticket.id} is {locked.status}"
        delivery = integrations.reimage_action_request(pool=pool, hostname=asset.hostname, ticket_id=ticket.id,
                                                       reason=ticket.summary)
        owe_job(integration_tasks.send_delivery, delivery.id)
        tickets.ticket_note(ticket=locked, text=(
            f"Reimage handed over to provisioning ({pool.reimage_action} {pool.reimage_target}, delivery "
            f"#{delivery.id}); it resolves this ticket through the API (POST tickets/{ticket.id}/resolve/) when "
            "done."))
    return f"reimage handed over (delivery #{delivery.id})"


def _note(ticket: RepairTicket, text: str) -> None:
    with transaction.atomic():
        tickets.ticket_note(ticket=RepairTicket.objects.select_for_update().get(pk=ticket.id), text=text)
