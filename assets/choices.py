"""The words hardware staff and detectors use, as stored values."""
from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class AssetState(models.TextChoices):
    """An asset's lifecycle state: its label here, its colour and description in STATE_LOOKS just below — the one
    place the console's badges, its timeline, the dashboard and the dashboard's script read them from (as NetBox's
    ChoiceSet keeps a value's label and colour together)."""

    NEW = "new", "New"
    ACTIVE = "active", "Active"
    ISOLATED = "isolated", "Isolated"
    IN_REPAIR = "in_repair", "In repair"
    VERIFYING = "verifying", "Verifying"
    RETURNED = "returned", "Returned"
    RETIRED = "retired", "Retired"

    @property
    def colour(self) -> str:
        return STATE_LOOKS[self].colour

    @property
    def background(self) -> str:
        return STATE_LOOKS[self].background

    @property
    def description(self) -> str:
        return STATE_LOOKS[self].description


@dataclass(frozen=True)
class StateLook:
    colour: str  # the state's colour: badge text, chart slice, timeline dot
    background: str  # a badge's background, light enough for the colour to read on it
    description: str  # what the state means, in the staff's words (a badge's tooltip)


STATE_LOOKS = {
    AssetState.NEW: StateLook("#475569", "#e2e8f0", "Delivered, awaiting its delivery inspection: it has not "
                                                    "served yet."),
    AssetState.ACTIVE: StateLook("#15803d", "#dcfce7", "In service."),
    AssetState.ISOLATED: StateLook("#b91c1c", "#fee2e2", "Out of service for a fault; its repair ticket opens next."),
    AssetState.IN_REPAIR: StateLook("#b45309", "#fef3c7", "Out of service while its repair ticket is worked."),
    AssetState.VERIFYING: StateLook("#1d4ed8", "#dbeafe", "Repaired; an inspection checks it before it serves "
                                                          "again."),
    AssetState.RETURNED: StateLook("#0f766e", "#ccfbf1", "Back in service on probation: a fault now isolates it "
                                                         "again."),
    AssetState.RETIRED: StateLook("#374151", "#d1d5db", "Out of the fleet (staff may reinstate it to repair)."),
}


def state_looks() -> list[dict]:
    """Every state in the lifecycle's order with its label, colours and description, as plain data (the dashboard
    hands it to its script)."""
    return [{"value": state.value, "label": state.label, "colour": state.colour, "background": state.background,
             "description": state.description} for state in AssetState]


# An asset in one of these states is out of service.
OUT_OF_SERVICE = (AssetState.ISOLATED, AssetState.IN_REPAIR, AssetState.VERIFYING)


class Transition(models.TextChoices):
    """The lifecycle's transitions (methods of assets.models.Asset, steps of the lifecycle (lifecycle/))."""

    ISOLATE = "isolate"
    START_REPAIR = "start_repair"
    DISMISS = "dismiss"
    START_VERIFICATION = "start_verification"
    PASS_VERIFICATION = "pass_verification"
    FAIL_VERIFICATION = "fail_verification"
    END_PROBATION = "end_probation"
    RETIRE = "retire"
    REINSTATE = "reinstate"
    # Delivery: a new machine is inspected (full profile) before it first serves.
    ACCEPT_DELIVERY = "accept_delivery"
    FAIL_DELIVERY = "fail_delivery"
    INSPECT_DELIVERY = "inspect_delivery"


class Component(models.TextChoices):
    CPU = "cpu"
    MEMORY = "memory"
    DISK = "disk"
    NETWORK = "network"
    POWER = "power"
    THERMAL = "thermal"
    GPU = "gpu"
    OTHER = "other"


class Severity(models.TextChoices):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class IsolateOn(models.TextChoices):
    """The least severe fault that isolates an active machine on its own."""

    CRITICAL = "critical", "Critical faults"
    WARNING = "warning", "Warnings and critical faults"
    NEVER = "never", "Never (warnings may still add up, see the N-within-window rule)"


class Automation(models.TextChoices):
    ON = "on", "On"
    PAUSED = "paused", "Paused: record faults, do nothing"
    DRY_RUN = "dry_run", "Dry run: record what it would do"


class ScheduledChecks(models.TextChoices):
    """What a scheduled inspection of a serving machine measures (lifecycle/scheduled.py)."""

    FACTS = "facts", "Facts only: inventory, SMART, temperatures, memory errors (nothing that loads it)"
    FULL = "full", "Full checks, the machine drained first (its pool's isolation action)"


class IsolationAction(models.TextChoices):
    """What else happens when DAM isolates or returns a machine, so an outside scheduler drains and undrains it."""

    NONE = "none", "None: the state is the signal"
    WEBHOOK = "webhook", "POST to a URL"
    COMMAND = "command", "Run a command"


class AutoRepair(models.TextChoices):
    """Which repairs DAM carries out by itself instead of leaving them to a technician."""

    OFF = "off", "Off: every repair is a technician's"
    REBOOT = "reboot", "Reboot through the BMC"


class Decision(models.TextChoices):
    """What automation decided about a fault that asked for an isolation, or about a repair it could do itself."""

    ISOLATED = "isolated", "Isolated"
    PENDING_APPROVAL = "pending_approval", "Isolation pending approval"
    DRY_RUN = "dry_run", "Dry run: recorded what it would do"
    PAUSED = "paused", "Automation paused: nothing done"
    EXCLUDED = "excluded", "Asset excluded from automation: nothing done"
    NOT_NEEDED = "not_needed", "Nothing to do: already out of service or pending"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved: isolated"
    DISMISSED = "dismissed", "Dismissed"
    SUPERSEDED = "superseded", "Superseded: the asset moved on"
