"""The words hardware staff and detectors use, as stored values."""
from django.db import models


class AssetState(models.TextChoices):
    NEW = "new", "New (awaiting delivery inspection)"
    ACTIVE = "active", "Active"
    ISOLATED = "isolated", "Isolated"
    IN_REPAIR = "in_repair", "In repair"
    VERIFYING = "verifying", "Verifying"
    RETURNED = "returned", "Returned (on probation)"
    RETIRED = "retired", "Retired"


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


class Decision(models.TextChoices):
    """What automation decided about a fault that asked for an isolation."""

    ISOLATED = "isolated", "Isolated"
    PENDING_APPROVAL = "pending_approval", "Isolation pending approval"
    DRY_RUN = "dry_run", "Dry run: would have isolated"
    PAUSED = "paused", "Automation paused: nothing done"
    EXCLUDED = "excluded", "Asset excluded from automation: nothing done"
    NOT_NEEDED = "not_needed", "Nothing to do: already out of service or pending"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved: isolated"
    DISMISSED = "dismissed", "Dismissed"
    SUPERSEDED = "superseded", "Superseded: the asset moved on"
