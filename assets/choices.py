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
    """The lifecycle's transitions (methods of assets.models.Asset, steps of dam/lifecycle.py)."""

    ISOLATE = "isolate"
    START_REPAIR = "start_repair"
    DISMISS = "dismiss"
    START_VERIFICATION = "start_verification"
    PASS_VERIFICATION = "pass_verification"
    FAIL_VERIFICATION = "fail_verification"
    END_PROBATION = "end_probation"


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
