"""The fleet: hardware models, pools, assets with their lifecycle state machine, faults and the audit trail."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from assets.choices import AssetState, Component, Severity, Transition

S = AssetState


class HardwareModel(models.Model):
    """Vendor + model + the spec every machine of that model must show; baselines hang off it."""

    name = models.CharField(max_length=100, unique=True)
    vendor = models.CharField(max_length=100)
    cpu_logical_cores = models.PositiveIntegerField()
    memory_bytes = models.PositiveBigIntegerField(help_text="Memory total a healthy machine reports.")
    disks = models.JSONField(
        default=list,
        blank=True,
        help_text='Filesystems a healthy machine has: [{"mount": "/", "size_bytes": 1000000000}]',
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def default_probation_hours() -> float:
    return settings.DAM_DEFAULT_PROBATION_HOURS


class Pool(models.Model):
    """Assets serving one workload; safety limits are per pool."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True)
    probation_hours = models.FloatField(
        default=default_probation_hours,
        help_text="How long a returned machine must stay fault-free before it is active again.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def may_transition_assets(instance: "Asset", user) -> bool:
    return user.has_perm("assets.change_asset")


# Transitions that only the machine decides: an inspection's verdict is never typed in by hand.
MACHINE_ONLY = {"admin": False, "manual": False}


class Asset(ConcurrentTransitionMixin, models.Model):
    """One physical machine. Its `state` moves only through the transitions below (see dam/lifecycle.py)."""

    hostname = models.CharField(max_length=253, unique=True)
    serial = models.CharField(max_length=100, blank=True, db_index=True)
    asset_tag = models.CharField(max_length=100, blank=True, db_index=True)
    hardware_model = models.ForeignKey(HardwareModel, on_delete=models.PROTECT, related_name="assets")
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="assets")
    site = models.CharField(max_length=100, blank=True, db_index=True)
    rack = models.CharField(max_length=100, blank=True)
    state = FSMField(default=S.ACTIVE, choices=AssetState.choices, protected=True, db_index=True)
    state_changed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["hostname"]

    def __str__(self) -> str:
        return self.hostname

    # The lifecycle table of the contract, one method per row. The bodies are empty on purpose: the side
    # effects (tickets, inspections, audit rows, jobs) live in dam/lifecycle.py, which calls these.

    @transition(state, source=[S.ACTIVE, S.RETURNED], target=S.ISOLATED,
                permission=may_transition_assets, custom={"label": "Isolate", "manual": True})
    def isolate(self):
        """A fault says the machine must leave service."""

    @transition(state, source=S.ISOLATED, target=S.IN_REPAIR,
                permission=may_transition_assets, custom={"label": "Start repair", "manual": True})
    def start_repair(self):
        """A repair ticket is open for it."""

    @transition(state, source=S.ISOLATED, target=S.ACTIVE,
                permission=may_transition_assets, custom={"label": "Dismiss (false alarm)", "manual": True})
    def dismiss(self):
        """False alarm: straight back to service, ticket cancelled."""

    @transition(state, source=S.IN_REPAIR, target=S.VERIFYING,
                permission=may_transition_assets, custom={"label": "Repair done: verify", "manual": True})
    def start_verification(self):
        """The repair ticket is resolved; the machine is checked before it returns."""

    @transition(state, source=S.VERIFYING, target=S.RETURNED, permission=may_transition_assets,
                custom=MACHINE_ONLY)
    def pass_verification(self):
        """The inspection passed: back in service, on probation."""

    @transition(state, source=S.VERIFYING, target=S.IN_REPAIR, permission=may_transition_assets,
                custom=MACHINE_ONLY)
    def fail_verification(self):
        """The inspection failed: the ticket is reopened with the failing numbers."""

    @transition(state, source=S.RETURNED, target=S.ACTIVE,
                permission=may_transition_assets, custom={"label": "End probation", "manual": True})
    def end_probation(self):
        """No fault during the probation window."""

    def manual_transitions(self) -> list[str]:
        """Names a person may ask for now (API 409 answers list these)."""
        available = {t.name for t in self.get_available_state_transitions() if t.custom.get("manual")}
        return [name for name in Transition.values if name in available]  # in the contract's order


class AssetTransition(models.Model):
    """The audit trail: one row per state change, saying who or what did it and why."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="transitions")
    transition = models.CharField(max_length=50)
    source = models.CharField(max_length=20)
    target = models.CharField(max_length=20)
    actor = models.CharField(max_length=150, help_text="User, detector, or job:<name>.")
    reason = models.TextField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["asset", "-at"])]

    def __str__(self) -> str:
        return f"{self.asset_id}: {self.source} → {self.target} by {self.actor}"


class Fault(models.Model):
    """One event from a detector about one asset. Every raw event is kept."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="faults")
    component = models.CharField(max_length=20, choices=Component.choices)
    severity = models.CharField(max_length=20, choices=Severity.choices)
    summary = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    observed_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now)
    detector = models.CharField(max_length=150, help_text="Owner of the token that posted it.")
    event_id = models.CharField(max_length=200, null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # A detector that sends the same event twice (retry, replay) gets it stored once.
            models.UniqueConstraint(
                fields=["detector", "event_id"], condition=Q(event_id__isnull=False), name="fault_event_once"
            )
        ]
        indexes = [
            models.Index(fields=["asset", "-id"]),
            models.Index(fields=["component", "-id"]),
            models.Index(fields=["severity", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.severity} {self.component} fault on {self.asset}: {self.summary}"
