"""The fleet: hardware models, pools, assets with their lifecycle state machine, faults and the audit trail."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from assets import bmc
from assets.choices import (AssetState, AutoRepair, Automation, Decision, IsolateOn, IsolationAction,
                            RequestStatus, ScheduledChecks, Severity, Component, Transition)

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
    """Assets serving one workload. The pool's policy says when automation may isolate one of them."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True)
    probation_hours = models.FloatField(
        default=default_probation_hours,
        help_text="How long a returned machine must stay fault-free before it is active again.",
    )
    # --- Isolation policy ---
    isolate_on = models.CharField(max_length=20, choices=IsolateOn.choices, default=IsolateOn.CRITICAL,
                                  help_text="The least severe fault that isolates an active machine by itself.")
    warning_count = models.PositiveIntegerField(
        default=3, help_text="This many warnings of one component on one machine within the window isolate it "
                             "(0: off).")
    warning_window_minutes = models.PositiveIntegerField(default=10)
    dedup_window_minutes = models.PositiveIntegerField(
        default=30, help_text="A fault repeating the same machine and component within this window is kept, linked "
                              "to the first, and triggers nothing new.")
    max_unavailable = models.CharField(
        max_length=10, default="10%",
        help_text='Most machines out of service (isolated, in repair, verifying) at once: a count ("5") or a '
                  'percentage of the pool ("10%"). A fault that would exceed it waits for approval.')
    storm_cooldown_minutes = models.PositiveIntegerField(
        default=30, help_text="After the budget was hit, isolations wait for approval this long.")
    budget_hit_at = models.DateTimeField(null=True, blank=True, editable=False)
    automation = models.CharField(max_length=20, choices=Automation.choices, default=Automation.ON)
    isolation_action = models.CharField(max_length=20, choices=IsolationAction.choices, default=IsolationAction.NONE)
    scheduled_checks = models.CharField(
        max_length=10, choices=ScheduledChecks.choices, default=ScheduledChecks.FACTS,
        help_text="Scheduled inspections of its serving machines: facts only (default), or the full benchmark, "
                  "which drains the machine first.")
    isolation_target = models.CharField(
        max_length=500, blank=True,
        help_text="URL for webhook (POSTed {action: drain|undrain, hostname}); command for command (run with "
                  "drain|undrain and the hostname as its last two arguments).")
    # --- Repairs DAM carries out itself (lifecycle/auto_repair.py), under the same switches as isolation ---
    auto_repair = models.CharField(
        max_length=20, choices=AutoRepair.choices, default=AutoRepair.OFF,
        help_text="reboot: a ticket whose repair is a reboot, on a machine with a BMC, is done by DAM through the "
                  "BMC and resolved by DAM.")
    reimage_action = models.CharField(
        max_length=20, choices=IsolationAction.choices, default=IsolationAction.NONE,
        help_text="What hands a reimage over to provisioning (MAAS, Ironic, Foreman); it resolves the ticket "
                  "through the API when done.")
    reimage_target = models.CharField(
        max_length=500, blank=True,
        help_text="URL for webhook (POSTed {action: reimage, hostname, ticket}); command for command (run with "
                  "reimage and the hostname as its last two arguments).")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def budget(self, pool_size: int) -> int:
        """How many of `pool_size` machines may be out of service at once. A percentage rounds down but never
        below one machine, or a small pool's automation could never take out even a dead machine."""
        text = self.max_unavailable.strip()
        if text.endswith("%"):
            return max(1, int(pool_size * float(text[:-1]) / 100)) if float(text[:-1]) > 0 else 0
        return int(text)


class FleetAutomation(models.Model):
    """The global switch: one row. Paused, automation records faults everywhere and acts nowhere."""

    paused = models.BooleanField(default=False)
    reason = models.CharField(max_length=500, blank=True)
    changed_by = models.CharField(max_length=150, blank=True)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "fleet automation switch"

    def __str__(self) -> str:
        return "Automation paused fleet-wide" if self.paused else "Automation on"

    @classmethod
    def is_paused(cls) -> bool:
        return cls.objects.filter(pk=1, paused=True).exists()


def may_transition_assets(instance: "Asset", user) -> bool:
    return user.has_perm("assets.change_asset")


# Transitions that only the machine decides: an inspection's verdict is never typed in by hand.
MACHINE_ONLY = {"admin": False, "manual": False}


class Asset(ConcurrentTransitionMixin, models.Model):
    """One physical machine. Its `state` moves only through the transitions below (see lifecycle/)."""

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
    exclude_from_automation = models.BooleanField(
        default=False, help_text="Faults are recorded but never isolate this machine by themselves.")
    flapping = models.BooleanField(
        default=False, help_text="Isolated again and again lately; set by DAM, cleared by staff.")
    # --- Its BMC (Redfish), for out-of-band power and automatic reboot (integrations/bmc.py) ---
    bmc_url = models.CharField(
        "BMC URL", max_length=500, blank=True,
        help_text="The BMC's Redfish service root, e.g. https://10.1.2.3 (/redfish/v1 is implied). Empty: no BMC.")
    bmc_system = models.CharField(
        "BMC system", max_length=200, blank=True,
        help_text="The Redfish system id (the last part of /redfish/v1/Systems/<id>); empty when the BMC has one.")
    bmc_username = models.CharField("BMC username", max_length=150, blank=True)
    # Never shown anywhere: encrypted under DAM_BMC_KEY (assets/bmc.py); set with set_bmc_password().
    bmc_password_encrypted = models.TextField(blank=True, editable=False)
    bmc_verify_tls = models.BooleanField(
        "verify the BMC's TLS certificate", default=True,
        help_text="Off: accept a self-signed certificate from this BMC (DAM_BMC_VERIFY_TLS=false: from every BMC).")

    class Meta:
        ordering = ["hostname"]
        # GET /metrics counts the fleet by pool and state at every scrape: an index-only scan, not the table.
        indexes = [
            models.Index(fields=["pool", "state"], name="asset_pool_state"),
            # The asset list, filtered and in its default order (hostname), one page at a time: each filter an
            # index walked in that order, so a page costs its 100 rows, not a sort of every match (bench/suite.py).
            models.Index(fields=["pool", "hostname"], name="asset_pool_hostname"),
            models.Index(fields=["state", "hostname"], name="asset_state_hostname"),
            models.Index(fields=["hardware_model", "state", "hostname"], name="asset_model_state_hostname"),
            models.Index(fields=["site", "state", "hostname"], name="asset_site_state_hostname"),
        ]

    @property
    def has_bmc(self) -> bool:
        return bool(self.bmc_url)

    @property
    def bmc_password_set(self) -> bool:
        return bool(self.bmc_password_encrypted)

    def set_bmc_password(self, password: str) -> None:
        """Store `password` encrypted (an empty one clears it). The caller saves."""
        self.bmc_password_encrypted = bmc.encrypt(password)

    def bmc_password(self) -> str:
        """The password in clear, for the Redfish client only: never logged, shown or sent anywhere else."""
        return bmc.decrypt(self.bmc_password_encrypted)

    def __str__(self) -> str:
        return self.hostname

    # The lifecycle table of the contract, one method per row. The bodies are empty on purpose: the side
    # effects (tickets, inspections, audit rows, jobs) live in lifecycle/, which calls these.

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

    @transition(state, source=[S.ISOLATED, S.IN_REPAIR], target=S.RETIRED,
                permission=may_transition_assets, custom={"label": "Retire", "manual": True})
    def retire(self):
        """Too many hardware repairs lately: taken out of the fleet for good."""

    @transition(state, source=S.RETIRED, target=S.ISOLATED,
                permission=may_transition_assets, custom={"label": "Reinstate (to repair)", "manual": True})
    def reinstate(self):
        """Staff bring a retired machine back; it is repaired and verified before it serves again."""

    # Delivery (lifecycle/delivery.py): a machine recorded as `new` is inspected before it first serves.
    @transition(state, source=S.NEW, target=S.ACTIVE, permission=may_transition_assets, custom=MACHINE_ONLY)
    def accept_delivery(self):
        """The delivery inspection passed: the new machine enters service."""

    @transition(state, source=S.NEW, target=S.NEW, permission=may_transition_assets, custom=MACHINE_ONLY)
    def fail_delivery(self):
        """The delivery inspection failed: the machine stays new, out of the fleet, the failing numbers in the
        audit row, until the vendor has fixed it and staff ask for another delivery inspection."""

    @transition(state, source=S.NEW, target=S.NEW, permission=may_transition_assets,
                custom={"label": "Inspect delivery (again)", "manual": True})
    def inspect_delivery(self):
        """Staff ask for another delivery inspection (say, after the vendor replaced a part)."""

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

    # No index of its own: (asset, received_at) below starts with it.
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="faults", db_index=False)
    component = models.CharField(max_length=20, choices=Component.choices)
    severity = models.CharField(max_length=20, choices=Severity.choices)
    summary = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    observed_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now)
    detector = models.CharField(max_length=150, help_text="Owner of the token that posted it.")
    event_id = models.CharField(max_length=200, null=True, blank=True)
    repeat_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="repeats",
                                  help_text="The first fault of the same machine and component within the pool's "
                                            "dedup window.")

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
            # Ingest's dedup and warning counts: a machine's faults of the last minutes, not all of its history.
            models.Index(fields=["asset", "received_at"], name="fault_asset_received"),
            # Dedup reads only each incident's first fault (faults_mark_repeats): without this it visits every
            # repeat of a chatty machine's window too, and a batch of 1000 on busy machines read tens of thousands.
            models.Index(fields=["asset", "received_at"], condition=Q(repeat_of__isnull=True),
                         name="fault_first_received"),
            models.Index(fields=["component", "-id"]),
            models.Index(fields=["severity", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.severity} {self.component} fault on {self.asset}: {self.summary}"


class IsolationRequest(models.Model):
    """An isolation automation wanted but the pool's budget (or its storm cooldown) did not allow: staff decide."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="isolation_requests")
    fault = models.ForeignKey(Fault, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField()
    status = models.CharField(max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["asset"], condition=Q(status="pending"),
                                               name="one_pending_isolation_per_asset")]
        indexes = [models.Index(fields=["status", "-id"])]

    def __str__(self) -> str:
        return f"Isolation of {self.asset} ({self.status})"


class AutomationDecision(models.Model):
    """Every decision automation took about a fault that asked for an isolation, including what it did not do."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="automation_decisions")
    fault = models.ForeignKey(Fault, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    reason = models.TextField()
    actor = models.CharField(max_length=150)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["asset", "-id"])]

    def __str__(self) -> str:
        return f"{self.asset}: {self.decision}"
