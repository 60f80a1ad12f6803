"""Out-of-band power through an asset's BMC, in Redfish: status, on, off, cycle. Every call is recorded (BmcCall, on
the asset's timeline) with who asked, why, and what the BMC answered.

The Redfish client is sushy, OpenStack Ironic's own. It authenticates with HTTP Basic on every request, which every
Redfish service must accept: each of DAM's calls is a handful of requests, so a Redfish session would only add a
login, a logout and a session left open on the BMC whenever a call is cut short.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import sushy
from django.conf import settings
from sushy import auth as sushy_auth
from sushy import exceptions as sushy_errors

from assets.bmc import PasswordUnreadable
from assets.conflicts import Conflict
from assets.models import Asset
from integrations.models import BmcCall

log = logging.getLogger(__name__)

ACTIONS = ("status", "on", "off", "cycle")
# The ResetType each action sends: the first of these that the BMC allows (Autopilot and Ironic reboot hard: a
# machine that needs a reboot to recover seldom shuts down cleanly).
RESET_TYPES = {
    "on": ("On", "ForceOn"),
    "off": ("ForceOff", "GracefulShutdown"),
    "cycle": ("ForceRestart", "PowerCycle", "GracefulRestart"),
}
ANSWER_MAX = 2000


class NoBmc(Conflict):
    """The asset has no BMC to call: 409."""

    def __init__(self, asset: Asset):
        super().__init__(f"Asset {asset.hostname} has no BMC: set its bmc_url (PATCH assets/{asset.hostname}/).",
                         field="bmc_url")


class BmcFailed(Exception):
    """The BMC refused or did not answer; the message is its own error (a 502 in the API)."""

    def __init__(self, message: str, call: BmcCall | None = None):
        super().__init__(message)
        self.call = call


@dataclass
class PowerResult:
    power_state: str  # as Redfish names it: On, Off, PoweringOn, PoweringOff, Paused
    reset_type: str = ""  # what was sent, if anything
    answer: str = ""


def _verify(asset: Asset):
    """requests' `verify`: False to accept a self-signed certificate (this asset, or every BMC), else the CA file
    DAM_BMC_CA_BUNDLE names, else the system's CAs."""
    if not (asset.bmc_verify_tls and settings.DAM_BMC_VERIFY_TLS):
        return False
    return settings.DAM_BMC_CA_BUNDLE or True


def _connect(asset: Asset) -> sushy.Sushy:
    try:
        password = asset.bmc_password()
    except PasswordUnreadable as exc:
        raise BmcFailed(str(exc)) from None
    return sushy.Sushy(
        f"{asset.bmc_url}/redfish/v1/", verify=_verify(asset),
        auth=sushy_auth.BasicAuth(username=asset.bmc_username, password=password),
        connect_timeout=settings.DAM_BMC_CONNECT_TIMEOUT, read_timeout=settings.DAM_BMC_READ_TIMEOUT,
        # A BMC that answers 5xx is asked again twice, a second apart, not sushy's default ten times three.
        server_side_retries=2, server_side_retries_delay=1)


def _system(conn: sushy.Sushy, asset: Asset):
    if asset.bmc_system:
        return conn.get_system(f"/redfish/v1/Systems/{asset.bmc_system}")
    members = conn.get_system_collection().members_identities
    if len(members) != 1:
        raise BmcFailed(f"The BMC has {len(members)} systems ({', '.join(sorted(members)) or 'none'}): set the "
                        "asset's bmc_system to the one that is this machine.")
    return conn.get_system(next(iter(members)))


def _state(system) -> str:
    state = system.power_state
    return getattr(state, "value", state) or "Unknown"


def _choose_reset(system, action: str) -> str:
    allowed = {getattr(v, "value", v) for v in system.get_allowed_reset_system_values()}
    for reset_type in RESET_TYPES[action]:
        if reset_type in allowed:
            return reset_type
    raise BmcFailed(f"The BMC allows none of {', '.join(RESET_TYPES[action])} for {action} "
                    f"(it allows {', '.join(sorted(allowed))}).")


def _call(asset: Asset, action: str) -> PowerResult:
    """Talk to the BMC. Raises BmcFailed with the BMC's own words (or the connection's error)."""
    try:
        system = _system(_connect(asset), asset)
        state = _state(system)
        if action == "status":
            return PowerResult(state, answer=f"PowerState {state}")
        if action == "on" and state == "On" or action == "off" and state == "Off":
            return PowerResult(state, answer=f"already {state}: nothing sent")
        if action == "cycle" and state == "Off":
            action = "on"  # a machine that is off is restarted by switching it on
        reset_type = _choose_reset(system, action)
        system.reset_system(sushy.ResetType(reset_type))
        system.refresh(force=True)
        after = _state(system)
        return PowerResult(after, reset_type, f"Reset {reset_type} accepted (PowerState was {state}, now {after})")
    except sushy_errors.SushyError as exc:
        raise BmcFailed(f"{type(exc).__name__}: {exc}"[:ANSWER_MAX]) from None


def power(*, asset: Asset, action: str, actor: str, reason: str, ticket_id: int | None = None) -> BmcCall:
    """Ask the asset's BMC for `action` and record the call, whatever the BMC said. Raises NoBmc (no BMC to ask) or
    BmcFailed (it refused or did not answer: the call is recorded first, with its error)."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    if not asset.has_bmc:
        raise NoBmc(asset)
    started = time.monotonic()
    try:
        result = _call(asset, action)
    except BmcFailed as failure:
        call = BmcCall.objects.create(asset=asset, action=action, actor=actor, reason=reason, ticket_id=ticket_id,
                                      outcome=BmcCall.Outcome.FAILED, answer=str(failure)[:ANSWER_MAX],
                                      seconds=time.monotonic() - started)
        log.warning("BMC %s of %s by %s failed: %s", action, asset.hostname, actor, failure)
        failure.call = call
        raise
    call = BmcCall.objects.create(asset=asset, action=action, actor=actor, reason=reason, ticket_id=ticket_id,
                                  outcome=BmcCall.Outcome.OK, reset_type=result.reset_type,
                                  power_state=result.power_state, answer=result.answer[:ANSWER_MAX],
                                  seconds=time.monotonic() - started)
    log.info("BMC %s of %s by %s: %s", action, asset.hostname, actor, result.answer)
    return call


def wait_for_power_on(*, asset: Asset, actor: str, reason: str, ticket_id: int | None, timeout: float,
                      poll: float) -> BmcCall:
    """Ask the BMC every `poll` seconds until PowerState is On (a reset turns the machine off before it comes back),
    for at most `timeout` seconds. Recorded as one call: how long it took and what the BMC said last. Raises
    BmcFailed when the BMC stops answering or the machine is not On in time."""
    started = time.monotonic()
    deadline, polls, state, error = started + timeout, 0, "", ""
    while True:
        polls += 1
        try:
            state, error = _call(asset, "status").power_state, ""
        except BmcFailed as failure:
            error = str(failure)
        if state == "On" and not error:
            break
        if time.monotonic() + poll > deadline:
            answer = (f"not On after {time.monotonic() - started:.0f} s ({polls} polls); last: "
                      f"{error or 'PowerState ' + state}")
            call = BmcCall.objects.create(
                asset=asset, action="wait_on", actor=actor, reason=reason, ticket_id=ticket_id,
                outcome=BmcCall.Outcome.FAILED, power_state="" if error else state, answer=answer[:ANSWER_MAX],
                seconds=time.monotonic() - started)
            raise BmcFailed(answer, call)
        time.sleep(poll)
    return BmcCall.objects.create(
        asset=asset, action="wait_on", actor=actor, reason=reason, ticket_id=ticket_id, outcome=BmcCall.Outcome.OK,
        power_state=state, answer=f"PowerState On after {time.monotonic() - started:.0f} s ({polls} polls)",
        seconds=time.monotonic() - started)
